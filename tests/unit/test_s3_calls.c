/*
 * The s3 client's calls against a scripted server, one canned answer per
 * request: what each call sends (method, target, body, headers), and
 * what it makes of an answer it cannot use (bad XML, the wrong document,
 * an <Error> in a 200, a missing ETag, a listing truncated without a
 * marker). Also the arguments refused before anything is sent, the
 * options s3_client_new refuses, and presigned URLs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3/s3.h"
#include "s3/s3_internal.h"
#include "tests/support/fake_server.h"

#define AK "AKIDFAKEFAKEFAKE0002"
#define SK "fakeSecretKeyThatMustNeverBeSeen0000002"

/* ---- a server that answers from a list ---- */

struct answer {
	int status;
	const char
		*extra;	  /* header lines, each ending in "\r\n"; may be NULL */
	const char *body; /* NULL: empty */
};

struct script {
	struct answer answers[8];
	size_t n; /* past the list: 500, which the tests never reach */
};

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	const struct script *s = ctx;
	const struct answer *a;

	if (req->index >= s->n) {
		fake_reply(conn, 500, NULL, "", 0);
		return;
	}
	a = &s->answers[req->index];
	fake_reply(conn, a->status, a->extra, a->body ? a->body : "",
		   a->body ? strlen(a->body) : 0);
}

struct fixture {
	struct script script;
	struct fake_server *server;
	s3_client *client;
	char endpoint[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	*state = f;
	return f ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	s3_client_free(f->client);
	fake_server_stop(f->server);
	free(f);
	return 0;
}

/* Start the server and a client of it; O (may be NULL) for the options. */
static void start(struct fixture *f, const s3_options *extra)
{
	s3_options o = S3_OPTIONS_INIT;
	s3_error err;
	int port;

	assert_int_equal(
		fake_server_start(&f->server, &port, handler, &f->script), 0);
	snprintf(f->endpoint, sizeof(f->endpoint), "http://127.0.0.1:%d", port);
	if (extra)
		o = *extra;
	o.endpoint = f->endpoint;
	o.bucket = "bkt";
	o.access_key = AK;
	o.secret_key = SK;
	o.max_attempts = 2;
	o.retry_base_ms = 1;
	o.retry_max_ms = 2;
	assert_int_equal(s3_client_new(&f->client, &o, &err), S3_OK);
}

static void answer(struct fixture *f, int status, const char *extra,
		   const char *body)
{
	assert_true(f->script.n < 8);
	f->script.answers[f->script.n++] = (struct answer){status, extra, body};
}

static const struct fake_request *request(struct fixture *f, unsigned i)
{
	const struct fake_request *r = fake_server_request(f->server, i);

	assert_non_null(r);
	return r;
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("'%s' not in '%s'", needle, haystack);
}

/* ---- the client's options ---- */

static int new_client(s3_client **c, const char *endpoint, const char *bucket,
		      const char *region, bool creds, s3_error *err)
{
	s3_options o = S3_OPTIONS_INIT;

	o.endpoint = endpoint;
	o.bucket = bucket;
	o.region = region;
	if (creds) {
		o.access_key = AK;
		o.secret_key = SK;
	}
	return s3_client_new(c, &o, err);
}

static void test_client_new_refusals(void **state)
{
	s3_client *c = NULL;
	s3_error err;

	(void)state;
	assert_int_equal(new_client(&c, "http://127.0.0.1:1", "No_Such!",
				    "us-east-1", true, &err),
			 S3_EINVAL);
	assert_null(c);
	assert_string_equal(err.msg, "bucket name 'No_Such!' is not valid");
	assert_int_equal(new_client(&c, "http://127.0.0.1:1", NULL, "us-east-1",
				    true, &err),
			 S3_EINVAL);
	assert_string_equal(err.msg, "bucket name '' is not valid");

	assert_int_equal(new_client(&c, "http://127.0.0.1:1", "bkt", "US East",
				    true, &err),
			 S3_EINVAL);
	assert_string_equal(err.msg, "region 'US East' is not valid");
	assert_int_equal(
		new_client(&c, "http://127.0.0.1:1", "bkt", "", true, &err),
		S3_EINVAL);
	assert_string_equal(err.msg, "region '' is not valid");

	assert_int_equal(new_client(&c, "http://127.0.0.1:1", "bkt",
				    "us-east-1", false, &err),
			 S3_ECRED);
	assert_contains(err.msg, "no credentials");

	assert_int_equal(new_client(&c, "ftp://127.0.0.1", "bkt", "us-east-1",
				    true, &err),
			 S3_EINVAL);
	assert_string_equal(err.msg, "endpoint 'ftp://127.0.0.1' must start "
				     "with http:// or https://");
	assert_int_equal(new_client(&c, "http://user@127.0.0.1", "bkt",
				    "us-east-1", true, &err),
			 S3_EINVAL);
	assert_string_equal(
		err.msg, "endpoint 'http://user@127.0.0.1' has no usable host");
	assert_int_equal(
		new_client(&c, "https:///x", "bkt", "us-east-1", true, &err),
		S3_EINVAL);
	assert_contains(err.msg, "has no usable host");
	assert_null(c);
}

/* No endpoint: AWS's for the region; a default port is dropped from the
 * host (it is signed, and S3 signs it without); a trailing '/' of a base
 * path too. Nothing is sent to build a presigned URL. */
static void test_endpoint_forms(void **state)
{
	struct s3_presign_options po = {.at = 1700000000, .expires = 60};
	s3_client *c = NULL;
	s3_error err;
	char *url = NULL;

	(void)state;
	assert_int_equal(new_client(&c, NULL, "bkt", "eu-west-3", true, &err),
			 S3_OK);
	assert_int_equal(s3_presign_get(&url, c, "a/b", &po, &err), S3_OK);
	assert_contains(url, "https://s3.eu-west-3.amazonaws.com/bkt/a/b?");
	assert_contains(url, "eu-west-3%2Fs3%2Faws4_request");
	free(url);
	s3_client_free(c);

	assert_int_equal(new_client(&c, "https://s3.example.com:443/base//",
				    "bkt", "us-east-1", true, &err),
			 S3_OK);
	assert_int_equal(s3_presign_get(&url, c, "k", &po, &err), S3_OK);
	assert_contains(url, "https://s3.example.com/base/bkt/k?");
	free(url);
	s3_client_free(c);

	assert_int_equal(new_client(&c, "http://localhost:80", "bkt",
				    "us-east-1", true, &err),
			 S3_OK);
	assert_int_equal(s3_presign_get(&url, c, "k", &po, &err), S3_OK);
	assert_contains(url, "http://localhost/bkt/k?");
	free(url);
	s3_client_free(c);
}

/* ---- presigned URLs ---- */

static void test_presign(void **state)
{
	struct s3_presign_options po = {.at = 1700000000, .expires = 3600};
	s3_options o = S3_OPTIONS_INIT;
	s3_client *c = NULL;
	s3_error err;
	char untouched[] = "untouched";
	char *url = untouched;

	(void)state;
	o.endpoint = "https://s3.example.com";
	o.bucket = "bkt";
	o.access_key = AK;
	o.secret_key = SK;
	o.virtual_hosted = true;
	assert_int_equal(s3_client_new(&c, &o, &err), S3_OK);

	assert_int_equal(s3_presign_get(&url, c, "", &po, &err), S3_EINVAL);
	assert_null(url);
	assert_string_equal(err.msg, "presign: no key");
	assert_int_equal(s3_presign_get(&url, c, NULL, &po, &err), S3_EINVAL);
	po.expires = 0;
	assert_int_equal(s3_presign_get(&url, c, "k", &po, &err), S3_EINVAL);
	assert_contains(err.msg, "expiry must be between 1 second and 7 days");
	po.expires = 7 * 86400 + 1;
	assert_int_equal(s3_presign_get(&url, c, "k", &po, &err), S3_EINVAL);
	assert_null(url);

	po.expires = 7 * 86400;
	po.content_disposition = "attachment; filename=\"x.sql.gz\"";
	assert_int_equal(s3_presign_get(&url, c, "dir/x y", &po, &err), S3_OK);
	/* Virtual-hosted: the bucket is in the host, not the path. */
	assert_contains(url, "https://bkt.s3.example.com/dir/x%20y?");
	assert_contains(url, "X-Amz-Algorithm=AWS4-HMAC-SHA256");
	assert_contains(url, "X-Amz-Credential=" AK "%2F20231114%2Fus-east-1"
			     "%2Fs3%2Faws4_request");
	assert_contains(url, "X-Amz-Date=20231114T221320Z");
	assert_contains(url, "X-Amz-Expires=604800");
	assert_contains(url, "X-Amz-SignedHeaders=host");
	assert_contains(url, "response-content-disposition=attachment%3B%20"
			     "filename%3D%22x.sql.gz%22");
	assert_contains(url, "X-Amz-Signature=");
	assert_null(strstr(url, SK));
	free(url);

	/* A time S3 cannot write: before the year 0. */
	po.at = (time_t)-70000000000LL;
	assert_int_equal(s3_presign_get(&url, c, "k", &po, &err), S3_EINVAL);
	assert_string_equal(err.msg, "presign: time out of range");
	s3_client_free(c);
}

/* ---- buckets ---- */

static void test_create_bucket(void **state)
{
	struct fixture *f = *state;
	s3_options o = S3_OPTIONS_INIT;
	s3_error err;

	o.region = "eu-central-1";
	answer(f, 200, NULL, NULL);
	start(f, &o);
	/* Outside us-east-1 the region is named in the body. */
	assert_int_equal(s3_create_bucket(f->client, &err), S3_OK);
	assert_string_equal(request(f, 0)->method, "PUT");
	assert_string_equal(request(f, 0)->target, "/bkt");
	assert_contains(
		request(f, 0)->body,
		"<LocationConstraint>eu-central-1</LocationConstraint>");
}

static void test_create_bucket_us_east_1(void **state)
{
	struct fixture *f = *state;
	s3_error err;

	answer(f, 409, NULL,
	       "<Error><Code>BucketAlreadyOwnedByYou</Code><Message>Your "
	       "previous request to create the named bucket succeeded"
	       "</Message></Error>");
	start(f, NULL);
	assert_int_equal(s3_create_bucket(f->client, &err), S3_EHTTP);
	assert_int_equal(request(f, 0)->body_len, 0);
	assert_int_equal(err.http_status, 409);
	assert_string_equal(err.s3_code, "BucketAlreadyOwnedByYou");
	assert_contains(err.msg, "CreateBucket bkt");
}

/* ---- objects ---- */

static void test_put_metadata_and_head(void **state)
{
	struct fixture *f = *state;
	static const char *const meta[] = {"plain-sha256", "abc", "tool",
					   "pg_dump 15"};
	struct s3_put_options po = {.content_type = "application/gzip",
				    .metadata = meta,
				    .nmetadata = 2};
	struct s3_object_info info;
	char h[256];
	s3_error err;

	answer(f, 200, "ETag: \"e1\"\r\n", NULL);
	answer(f, 200,
	       "ETag: \"e1\"\r\nContent-Type: application/gzip\r\n"
	       "Last-Modified: Wed, 15 Nov 2023 08:00:00 GMT\r\n"
	       "x-amz-meta-Plain-SHA256: abc\r\n"
	       "X-Amz-Meta-Tool:  pg_dump 15 \r\n",
	       NULL);
	start(f, NULL);
	assert_int_equal(s3_put_object(f->client, "k", "body", 4, &po, &err),
			 S3_OK);
	assert_non_null(
		fake_header(request(f, 0), "x-amz-meta-tool", h, sizeof(h)));
	assert_string_equal(h, "pg_dump 15");
	assert_non_null(
		fake_header(request(f, 0), "content-type", h, sizeof(h)));
	assert_string_equal(h, "application/gzip");

	assert_int_equal(s3_head_object(&info, f->client, "k", &err), S3_OK);
	assert_string_equal(info.etag, "e1");
	assert_string_equal(info.content_type, "application/gzip");
	assert_int_equal(info.last_modified, 1700035200);
	assert_int_equal(info.nmetadata, 2);
	/* Names lowercased, values trimmed. */
	assert_string_equal(s3_object_info_meta(&info, "plain-sha256"), "abc");
	assert_string_equal(s3_object_info_meta(&info, "tool"), "pg_dump 15");
	assert_null(s3_object_info_meta(&info, "Tool"));
	assert_null(s3_object_info_meta(&info, "none"));
	s3_object_info_dispose(&info);
	assert_null(info.etag);
	assert_int_equal(info.nmetadata, 0);
	s3_object_info_dispose(NULL);
}

static void test_put_refuses_bad_metadata(void **state)
{
	struct fixture *f = *state;
	static const char *const upper[] = {"Tool", "x"};
	static const char *const empty[] = {"", "x"};
	const char *many[2 * 64];
	struct s3_put_options po = {.metadata = upper, .nmetadata = 1};
	s3_error err;
	size_t i;

	start(f, NULL);
	assert_int_equal(s3_put_object(f->client, "k", "b", 1, &po, &err),
			 S3_EINVAL);
	assert_string_equal(err.msg,
			    "metadata name 'Tool' must be lowercase [a-z0-9-]");
	po.metadata = empty;
	assert_int_equal(s3_put_object(f->client, "k", "b", 1, &po, &err),
			 S3_EINVAL);
	for (i = 0; i < 2 * 64; i++)
		many[i] = "a";
	po.metadata = many;
	po.nmetadata = 64;
	assert_int_equal(s3_put_object(f->client, "k", "b", 1, &po, &err),
			 S3_EINVAL);
	assert_string_equal(err.msg, "too many metadata entries");
	assert_int_equal(
		s3_multipart_create(&(char *){NULL}, f->client, "k", &po, &err),
		S3_EINVAL);
	/* None of it reached the server. */
	assert_int_equal(fake_server_count(f->server), 0);
}

static int collect(void *ctx, const void *data, size_t len)
{
	char *buf = ctx;
	size_t have = strlen(buf);

	assert_true(have + len < 64);
	memcpy(buf + have, data, len);
	buf[have + len] = '\0';
	return 0;
}

static void test_get_range_and_if_match(void **state)
{
	struct fixture *f = *state;
	struct s3_object_info info;
	char got[64] = "", h[64];
	s3_error err;

	answer(f, 206, "ETag: \"e1\"\r\n", "cdef");
	start(f, NULL);
	assert_int_equal(
		s3_get_object(NULL, f->client, "k", 2, 4, collect, got, &err),
		S3_OK);
	assert_string_equal(got, "cdef");
	assert_non_null(fake_header(request(f, 0), "range", h, sizeof(h)));
	assert_string_equal(h, "bytes=2-5");

	/* No ETag to pin to: refused before anything is sent. */
	assert_int_equal(s3_get_object_if_match(&info, f->client, "k", "",
						collect, got, &err),
			 S3_EINVAL);
	assert_string_equal(err.msg, "GET k: no ETag to match");
	assert_null(info.etag);
	assert_int_equal(s3_get_object_if_match(NULL, f->client, "k", NULL,
						collect, got, &err),
			 S3_EINVAL);
	assert_int_equal(fake_server_count(f->server), 1);
}

static void test_delete_objects(void **state)
{
	struct fixture *f = *state;
	static const char *const keys[] = {"a", "b/c", "d"};
	static const char *const bad[] = {"a", ""};
	s3_error err;
	char h[64];

	answer(f, 200, NULL,
	       "<DeleteResult><Deleted><Key>a</Key></Deleted></DeleteResult>");
	answer(f, 200, NULL,
	       "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b/c"
	       "</Key><Code>AccessDenied</Code><Message>Access Denied"
	       "</Message></Error></DeleteResult>");
	answer(f, 200, NULL, "<DeleteResult><Deleted>");
	answer(f, 200, NULL, "<Other/>");
	start(f, NULL);

	assert_int_equal(s3_delete_objects(f->client, keys, 3, &err), S3_OK);
	assert_string_equal(request(f, 0)->method, "POST");
	assert_string_equal(request(f, 0)->target, "/bkt?delete=");
	assert_contains(request(f, 0)->body, "<Quiet>true</Quiet>");
	assert_contains(request(f, 0)->body, "<Object><Key>b/c</Key></Object>");
	assert_non_null(
		fake_header(request(f, 0), "content-md5", h, sizeof(h)));

	assert_int_equal(s3_delete_objects(f->client, keys, 3, &err), S3_EHTTP);
	assert_string_equal(
		err.msg, "DeleteObjects: 1 of 3 keys not deleted, first b/c: "
			 "AccessDenied Access Denied");
	assert_string_equal(err.s3_code, "AccessDenied");

	/* The answers the XML layer cannot use. */
	assert_int_equal(s3_delete_objects(f->client, keys, 3, &err),
			 S3_EPROTO);
	assert_string_equal(err.msg,
			    "DeleteObjects: the answer is not well-formed XML "
			    "(or over 8 MiB)");
	assert_int_equal(s3_delete_objects(f->client, keys, 3, &err),
			 S3_EPROTO);
	assert_string_equal(err.msg, "DeleteObjects: the answer is not the XML "
				     "document expected");

	/* An empty key is not sent. */
	assert_int_equal(s3_delete_objects(f->client, bad, 2, &err), S3_EINVAL);
	assert_string_equal(err.msg,
			    "DeleteObjects: cannot build the request body: a "
			    "value S3 cannot take");
	assert_int_equal(fake_server_count(f->server), 4);
	assert_int_equal(s3_delete_objects(f->client, keys, 0, &err), S3_OK);
}

static void test_list_bad_answer(void **state)
{
	struct fixture *f = *state;
	const struct s3_list_entry *e;
	s3_list *it = NULL;
	s3_error err;

	answer(f, 200, NULL, "<ListBucketResult><IsTruncated>maybe");
	start(f, NULL);
	assert_int_equal(s3_list_new(&it, f->client, NULL, "/", &err), S3_OK);
	assert_int_equal(s3_list_next(&e, it, &err), -S3_EPROTO);
	assert_string_equal(err.msg, "LIST : the answer is not well-formed XML "
				     "(or over 8 MiB)");
	s3_list_free(it);
	s3_list_free(NULL);
}

/* ---- multipart ---- */

static void test_multipart_answers(void **state)
{
	struct fixture *f = *state;
	char *id = NULL, *etag = NULL;
	s3_error err;

	answer(f, 200, NULL,
	       "<Error><Code>InternalError</Code><Message>oops</Message>"
	       "</Error>");
	answer(f, 200, NULL, "<InitiateMultipartUploadResult/>");
	answer(f, 200, NULL, NULL); /* UploadPart without an ETag */
	start(f, NULL);

	assert_int_equal(s3_multipart_create(&id, f->client, "k", NULL, &err),
			 S3_EHTTP);
	assert_null(id);
	assert_string_equal(err.msg, "CreateMultipartUpload k: a 2xx answer "
				     "carrying an S3 error");
	assert_int_equal(s3_multipart_create(&id, f->client, "k", NULL, &err),
			 S3_EPROTO);
	assert_null(id);
	assert_contains(err.msg, "not the XML document expected");

	assert_int_equal(s3_multipart_upload_part(&etag, f->client, "k", "u1",
						  0, "x", 1, &err),
			 S3_EINVAL);
	assert_string_equal(err.msg, "part number 0 is outside 1..10000");
	assert_int_equal(s3_multipart_upload_part(&etag, f->client, "k", "u1",
						  10001, "x", 1, &err),
			 S3_EINVAL);
	assert_int_equal(fake_server_count(f->server), 2);
	assert_int_equal(s3_multipart_upload_part(&etag, f->client, "k", "u1",
						  1, "x", 1, &err),
			 S3_EPROTO);
	assert_null(etag);
	assert_string_equal(err.msg, "UploadPart k part 1: no ETag in the "
				     "answer");
	assert_string_equal(request(f, 2)->target,
			    "/bkt/k?partNumber=1&uploadId=u1");
}

static void test_complete_refuses_bad_parts(void **state)
{
	struct fixture *f = *state;
	char a[] = "a", b[] = "b";
	struct s3_part parts[2] = {{.number = 2, .etag = a},
				   {.number = 1, .etag = b}};
	s3_error err;

	start(f, NULL);
	/* Out of order: not sent. */
	assert_int_equal(
		s3_multipart_complete(f->client, "k", "u1", parts, 2, &err),
		S3_EINVAL);
	assert_contains(err.msg, "cannot build the request body");
	assert_int_equal(fake_server_count(f->server), 0);
}

static void test_list_parts(void **state)
{
	struct fixture *f = *state;
	struct s3_part *parts = NULL;
	size_t n = 99;
	s3_error err;

	answer(f, 200, NULL,
	       "<ListPartsResult><IsTruncated>true</IsTruncated>"
	       "<NextPartNumberMarker>2</NextPartNumberMarker>"
	       "<Part><PartNumber>1</PartNumber><ETag>\"p1\"</ETag><Size>5"
	       "</Size></Part><Part><PartNumber>2</PartNumber><ETag>\"p2\""
	       "</ETag><Size>6</Size></Part></ListPartsResult>");
	answer(f, 200, NULL,
	       "<ListPartsResult><IsTruncated>false</IsTruncated><Part>"
	       "<PartNumber>3</PartNumber><ETag>\"p3\"</ETag><Size>1</Size>"
	       "</Part></ListPartsResult>");
	answer(f, 200, NULL,
	       "<ListPartsResult><IsTruncated>true</IsTruncated><Part>"
	       "<PartNumber>1</PartNumber><ETag>\"p1\"</ETag><Size>5</Size>"
	       "</Part></ListPartsResult>");
	answer(f, 200, NULL, "<ListMultipartUploadsResult/>");
	start(f, NULL);

	assert_int_equal(
		s3_multipart_list_parts(&parts, &n, f->client, "k", "u1", &err),
		S3_OK);
	assert_int_equal(n, 3);
	assert_int_equal(parts[0].number, 1);
	assert_string_equal(parts[1].etag, "p2");
	assert_int_equal(parts[2].size, 1);
	assert_string_equal(request(f, 1)->target,
			    "/bkt/k?part-number-marker=2&uploadId=u1");
	s3_parts_free(parts, n);

	/* Truncated, and no marker to go on from. */
	assert_int_equal(
		s3_multipart_list_parts(&parts, &n, f->client, "k", "u1", &err),
		S3_EPROTO);
	assert_null(parts);
	assert_int_equal(n, 0);
	assert_string_equal(err.msg, "ListParts k: truncated without a marker");
	assert_int_equal(
		s3_multipart_list_parts(&parts, &n, f->client, "k", "u1", &err),
		S3_EPROTO);
	assert_contains(err.msg, "not the XML document expected");
}

static void test_list_uploads_bad_answer(void **state)
{
	struct fixture *f = *state;
	struct s3_upload *u = NULL;
	size_t n = 0;
	s3_error err;

	answer(f, 200, NULL, "not xml at all");
	start(f, NULL);
	assert_int_equal(s3_multipart_list(&u, &n, f->client, "p/", &err),
			 S3_EPROTO);
	assert_null(u);
	assert_contains(err.msg, "not well-formed XML");
}

/* ---- lifecycle ---- */

static void test_lifecycle_answers(void **state)
{
	struct fixture *f = *state;
	char id[] = "x", prefix[] = "";
	struct s3_lifecycle_rule bad = {
		.id = id, .prefix = prefix, .enabled = true};
	struct s3_lifecycle lc = {0};
	s3_error err;

	answer(f, 200, NULL, "<LifecycleConfiguration><Rule>");
	start(f, NULL);
	assert_int_equal(s3_lifecycle_get(&lc, f->client, &err), S3_EPROTO);
	assert_int_equal(lc.nrules, 0);
	assert_string_equal(err.msg, "GetBucketLifecycleConfiguration: the "
				     "answer is not well-formed XML (or over "
				     "8 MiB)");

	/* A rule with no action, or no rule at all: S3 would refuse it. */
	lc.rules = &bad;
	lc.nrules = 1;
	assert_int_equal(s3_lifecycle_put(f->client, &lc, &err), S3_EINVAL);
	assert_string_equal(err.msg, "PutBucketLifecycleConfiguration: cannot "
				     "build the request body: a value S3 "
				     "cannot take");
	lc.nrules = 0;
	assert_int_equal(s3_lifecycle_put(f->client, &lc, &err), S3_EINVAL);
	assert_int_equal(fake_server_count(f->server), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_new_refusals),
		cmocka_unit_test(test_endpoint_forms),
		cmocka_unit_test(test_presign),
		cmocka_unit_test_setup_teardown(test_create_bucket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_bucket_us_east_1,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_metadata_and_head,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_refuses_bad_metadata,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_range_and_if_match,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_objects, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_bad_answer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_multipart_answers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_complete_refuses_bad_parts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_parts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_uploads_bad_answer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle_answers, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
