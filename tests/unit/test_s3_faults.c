/*
 * The s3 client against a scripted fake server: the faults a real server
 * cannot be made to produce on cue. Retries, resume, errors in a 200,
 * clock skew, instance metadata, and no secret in any message or log line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3/s3.h"
#include "s3/s3_internal.h"
#include "tests/support/fake_server.h"

#define AK "AKIDFAKEFAKEFAKE0001"
#define SK "fakeSecretKeyThatMustNeverBeSeen0000000"

/* ---- a scripted server: one answer per request, in order ---- */

enum action {
	A_OK,		/* 200, empty body */
	A_BODY,		/* 200 with the script's body */
	A_503,		/* 503 SlowDown */
	A_500,		/* 500 InternalError */
	A_403,		/* 403 AccessDenied */
	A_SKEWED,	/* 403 RequestTimeTooSkewed, Date an hour ahead */
	A_PARTIAL,	/* 200 announcing the whole object, then a reset */
	A_RANGE_REST,	/* 206 with the object from the Range start */
	A_ERROR_IN_200, /* 200 whose body is an <Error> */
	A_DROP,		/* reset without an answer */
	A_PAGE1,	/* ListObjectsV2, truncated */
	A_PAGE2,	/* ListObjectsV2, the end */
	A_STALL,	/* no answer at all, until the client gives up */
	/* Listings that would never end. */
	A_LIST_SAME,	/* ListObjectsV2: truncated, always token "same" */
	A_LIST_MORE,	/* ... two new keys and a new token each time */
	A_LIST_HOLLOW,	/* ... no key, a new token each time */
	A_LIST_NOTOKEN, /* ... truncated, with an empty token */
	A_UPLOADS_SAME, /* ListMultipartUploads: always the same markers */
	A_UPLOADS_MORE, /* ... two new uploads and new markers each time */
	A_UPLOADS_EMPTY_MARKER, /* ... truncated, an empty NextKeyMarker */
	A_PARTS_SAME,		/* ListParts: always NextPartNumberMarker 1 */
};

struct script {
	enum action actions[16];
	size_t n;
	const char *body;
	size_t body_len;
	long date_offset;  /* seconds added to every Date */
	enum action after; /* past the script */
	/* Ask the client to stop (its cancel callback) when a request
	 * arrives. */
	bool cancel_on_request;
	atomic_bool cancel;
};

static bool cancel_cb(void *ctx)
{
	struct script *s = ctx;

	return atomic_load(&s->cancel);
}

/* One page of a listing that says there is always more. */
static void endless_page(enum action a, unsigned i, struct fake_conn *conn,
			 const char *extra)
{
	static const char contents[] =
		"<Contents><Key>p/%u%s</Key><LastModified>2026-11-23T09:30:05"
		".000Z</LastModified><ETag>\"e\"</ETag><Size>1</Size>"
		"</Contents>";
	static const char upload[] =
		"<Upload><Key>p/%u%s</Key><UploadId>u%u</UploadId><Initiated>"
		"2026-11-23T09:30:05.000Z</Initiated></Upload>";
	char body[2048], c1[256] = "", c2[256] = "";

	switch (a) {
	case A_LIST_SAME:
	case A_LIST_MORE:
	case A_LIST_HOLLOW:
	case A_LIST_NOTOKEN:
		if (a != A_LIST_HOLLOW)
			snprintf(c1, sizeof(c1), contents, i, "a");
		if (a == A_LIST_MORE)
			snprintf(c2, sizeof(c2), contents, i, "b");
		snprintf(body, sizeof(body),
			 "<ListBucketResult><Name>bkt</Name><Prefix>p/</Prefix>"
			 "<IsTruncated>true</IsTruncated>"
			 "<NextContinuationToken>%s%.0u</NextContinuationToken>"
			 "%s%s</ListBucketResult>",
			 a == A_LIST_SAME      ? "same"
			 : a == A_LIST_NOTOKEN ? ""
					       : "tok",
			 a == A_LIST_MORE || a == A_LIST_HOLLOW ? i + 1 : 0, c1,
			 c2);
		break;
	case A_UPLOADS_SAME:
	case A_UPLOADS_MORE:
	case A_UPLOADS_EMPTY_MARKER:
		snprintf(c1, sizeof(c1), upload, i, "a", i);
		if (a == A_UPLOADS_MORE)
			snprintf(c2, sizeof(c2), upload, i, "b", i);
		snprintf(body, sizeof(body),
			 "<ListMultipartUploadsResult><Bucket>bkt</Bucket>"
			 "<IsTruncated>true</IsTruncated>"
			 "<NextKeyMarker>%s%.0u</NextKeyMarker>"
			 "<NextUploadIdMarker>u%u</NextUploadIdMarker>%s%s"
			 "</ListMultipartUploadsResult>",
			 a == A_UPLOADS_EMPTY_MARKER ? "" : "p/k",
			 a == A_UPLOADS_MORE ? i + 1 : 0,
			 a == A_UPLOADS_MORE ? i : 0, c1, c2);
		break;
	default:
		snprintf(body, sizeof(body),
			 "<ListPartsResult><IsTruncated>true</IsTruncated>"
			 "<NextPartNumberMarker>1</NextPartNumberMarker><Part>"
			 "<PartNumber>1</PartNumber><ETag>\"e\"</ETag><Size>5"
			 "</Size></Part></ListPartsResult>");
		break;
	}
	fake_reply(conn, 200, extra, body, strlen(body));
}

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	struct script *s = ctx;
	enum action a = req->index < s->n ? s->actions[req->index] : s->after;
	char extra[512], date[64], range[64];
	const char *xml;

	if (s->cancel_on_request)
		atomic_store(&s->cancel, true);
	fake_http_date(date, (long)time(NULL) + s->date_offset);
	snprintf(extra, sizeof(extra),
		 "Date: %s\r\nETag: \"abc123\"\r\nx-amz-request-id: REQ%u\r\n",
		 date, req->index);
	switch (a) {
	case A_OK:
		fake_reply(conn, 200, extra, "", 0);
		break;
	case A_BODY:
		fake_reply(conn, 200, extra, s->body, s->body_len);
		break;
	case A_503:
		xml = "<Error><Code>SlowDown</Code><Message>Please reduce your "
		      "request rate.</Message></Error>";
		fake_reply(conn, 503, extra, xml, strlen(xml));
		break;
	case A_500:
		xml = "<Error><Code>InternalError</Code><Message>We "
		      "encountered an internal error.</Message></Error>";
		fake_reply(conn, 500, extra, xml, strlen(xml));
		break;
	case A_403:
		xml = "<Error><Code>AccessDenied</Code><Message>Access "
		      "Denied</Message><RequestId>RID-403</RequestId></Error>";
		fake_reply(conn, 403, extra, xml, strlen(xml));
		break;
	case A_SKEWED:
		xml = "<Error><Code>RequestTimeTooSkewed</Code><Message>The "
		      "difference between the request time and the current "
		      "time is too large.</Message></Error>";
		fake_reply(conn, 403, extra, xml, strlen(xml));
		break;
	case A_PARTIAL:
		fake_reply_partial(conn, 200, extra, s->body, s->body_len,
				   s->body_len / 3);
		break;
	case A_RANGE_REST: {
		unsigned long from = 0;
		if (fake_header(req, "range", range, sizeof(range)))
			sscanf(range, "bytes=%lu-", &from);
		if (from > s->body_len)
			from = s->body_len;
		fake_reply(conn, 206, extra, s->body + from,
			   s->body_len - from);
		break;
	}
	case A_ERROR_IN_200:
		xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
		      "InternalError</Code><Message>We encountered an internal "
		      "error. Please try again.</Message></Error>";
		fake_reply(conn, 200, extra, xml, strlen(xml));
		break;
	case A_DROP:
		fake_drop(conn);
		break;
	case A_PAGE1:
		xml = "<ListBucketResult><Name>bkt</Name><Prefix>p/</Prefix>"
		      "<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
		      "<IsTruncated>true</IsTruncated><NextContinuationToken>"
		      "tok+1/=</NextContinuationToken><Contents><Key>p/a</Key>"
		      "<LastModified>2026-11-23T09:30:05.000Z</LastModified>"
		      "<ETag>\"e1\"</ETag><Size>1</Size></Contents><Contents>"
		      "<Key>p/b%20c</Key><LastModified>2026-11-23T09:30:05.000Z"
		      "</LastModified><ETag>\"e2\"</ETag><Size>22</Size>"
		      "</Contents><EncodingType>url</EncodingType>"
		      "</ListBucketResult>";
		fake_reply(conn, 200, extra, xml, strlen(xml));
		break;
	case A_PAGE2:
		xml = "<ListBucketResult><Name>bkt</Name><Prefix>p/</Prefix>"
		      "<KeyCount>1</KeyCount><MaxKeys>2</MaxKeys>"
		      "<IsTruncated>false</IsTruncated><Contents><Key>p/d</Key>"
		      "<LastModified>2026-11-23T09:30:05.000Z</LastModified>"
		      "<ETag>\"e3\"</ETag><Size>333</Size></Contents>"
		      "<EncodingType>url</EncodingType></ListBucketResult>";
		fake_reply(conn, 200, extra, xml, strlen(xml));
		break;
	case A_STALL:
		fake_stall(conn, 30000);
		break;
	case A_LIST_SAME:
	case A_LIST_MORE:
	case A_LIST_HOLLOW:
	case A_LIST_NOTOKEN:
	case A_UPLOADS_SAME:
	case A_UPLOADS_MORE:
	case A_UPLOADS_EMPTY_MARKER:
	case A_PARTS_SAME:
		endless_page(a, req->index, conn, extra);
		break;
	}
}

/* ---- the client under test, and what it logged ---- */

struct fixture {
	struct script script;
	char *owned_body; /* freed after the server thread has stopped */
	struct fake_server *server;
	s3_client *client;
	long retry_ms; /* the longest wait between attempts; 0: 5 ms */
	char log[32768];
	size_t loglen;
};

static void collect_log(void *ctx, enum s3_log_level level, const char *line)
{
	struct fixture *f = ctx;
	int n;

	(void)level;
	n = snprintf(f->log + f->loglen, sizeof(f->log) - f->loglen, "%s\n",
		     line);
	if (n > 0 && (size_t)n < sizeof(f->log) - f->loglen)
		f->loglen += (size_t)n;
}

static void start(struct fixture *f, const s3_options *extra)
{
	s3_options o = S3_OPTIONS_INIT;
	char endpoint[64];
	s3_error err;
	int port;

	assert_int_equal(
		fake_server_start(&f->server, &port, handler, &f->script), 0);
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
	if (extra)
		o = *extra;
	o.endpoint = endpoint;
	o.bucket = "bkt";
	if (!o.use_imds) {
		o.access_key = AK;
		o.secret_key = SK;
	}
	o.retry_base_ms = f->retry_ms ? f->retry_ms : 1;
	o.retry_max_ms = f->retry_ms ? f->retry_ms : 5;
	o.log = collect_log;
	o.log_ctx = f;
	assert_int_equal(s3_client_new(&f->client, &o, &err), S3_OK);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	*state = f;
	return f ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	/* Nothing secret in anything the client said. */
	assert_null(strstr(f->log, SK));
	s3_client_free(f->client);
	fake_server_stop(f->server);
	free(f->owned_body);
	free(f);
	return 0;
}

static void script(struct fixture *f, size_t n, const enum action *a)
{
	memcpy(f->script.actions, a, n * sizeof(*a));
	f->script.n = n;
}

static const char *header(struct fixture *f, unsigned i, const char *name,
			  char *buf, size_t size)
{
	const struct fake_request *r = fake_server_request(f->server, i);

	assert_non_null(r);
	return fake_header(r, name, buf, size);
}

/* ---- tests ---- */

static void test_503_then_success(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_503, A_OK};
	char h1[512], h2[512];
	s3_error err;

	script(f, 2, a);
	start(f, NULL);
	assert_int_equal(
		s3_put_object(f->client, "dir/x", "hello", 5, NULL, &err),
		S3_OK);
	assert_int_equal(fake_server_count(f->server), 2);
	/* The body was sent again, whole, and signed again. */
	assert_int_equal(fake_server_request(f->server, 1)->body_len, 5);
	assert_string_equal(fake_server_request(f->server, 1)->body, "hello");
	assert_non_null(header(f, 1, "authorization", h1, sizeof(h1)));
	assert_non_null(header(f, 1, "x-amz-content-sha256", h2, sizeof(h2)));
	assert_string_equal(h2, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa"
				"7425e73043362938b9824");
	assert_string_equal(fake_server_request(f->server, 0)->target,
			    "/bkt/dir/x");
	assert_non_null(strstr(f->log, "retrying"));
}

static void test_403_not_retried(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_403, A_OK};
	s3_error err;

	script(f, 2, a);
	start(f, NULL);
	assert_int_equal(s3_put_object(f->client, "x", "a", 1, NULL, &err),
			 S3_EHTTP);
	assert_int_equal(fake_server_count(f->server), 1);
	assert_int_equal(err.http_status, 403);
	assert_string_equal(err.s3_code, "AccessDenied");
	assert_string_equal(err.request_id, "RID-403");
	assert_string_equal(err.msg, "PUT x: HTTP 403 AccessDenied: Access "
				     "Denied (request id RID-403)");
}

static void test_attempts_bounded(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_500, A_500, A_500, A_500, A_500};
	s3_options o = S3_OPTIONS_INIT;
	s3_error err;

	o.max_attempts = 3;
	script(f, 5, a);
	start(f, &o);
	assert_int_equal(s3_delete_object(f->client, "x", &err), S3_EHTTP);
	assert_int_equal(fake_server_count(f->server), 3);
	assert_string_equal(err.s3_code, "InternalError");
	assert_non_null(strstr(err.msg, "(after 3 attempts)"));
}

static void test_dropped_connection_retried(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_DROP, A_OK};
	s3_error err;

	script(f, 2, a);
	start(f, NULL);
	assert_int_equal(s3_put_object(f->client, "x", "abc", 3, NULL, &err),
			 S3_OK);
	assert_int_equal(fake_server_count(f->server), 2);
}

/* A server that is gone: retried until the budget of waits is spent,
 * then a clean failure that says so. */
static void test_retry_budget_bounds_an_outage(void **state)
{
	struct fixture *f = *state;
	s3_options o = S3_OPTIONS_INIT;
	struct timespec t0, t1;
	unsigned n;
	s3_error err;

	o.max_attempts = 1000;
	o.retry_budget_ms = 40; /* each wait is at most 5 ms here */
	f->script.after = A_DROP;
	start(f, &o);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_not_equal(s3_put_object(f->client, "x", "a", 1, NULL, &err),
			     S3_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	n = fake_server_count(f->server);
	assert_true(n >= 8 && n < 1000);
	assert_non_null(strstr(err.msg, "(retry budget spent)"));
	assert_true(t1.tv_sec - t0.tv_sec < 5);
}

struct sink {
	char *data;
	size_t len;
};

static int collect(void *ctx, const void *data, size_t len)
{
	struct sink *s = ctx;
	char *p = realloc(s->data, s->len + len);

	if (!p)
		return -1;
	memcpy(p + s->len, data, len);
	s->data = p;
	s->len += len;
	return 0;
}

static void test_get_resumes_after_reset(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_PARTIAL, A_RANGE_REST};
	char *object = malloc(100000);
	struct sink sink = {0};
	struct s3_object_info info;
	char range[64], ifmatch[64];
	s3_error err;
	size_t i;

	for (i = 0; i < 100000; i++)
		object[i] = (char)(i * 7 + i / 251);
	f->owned_body = object;
	f->script.body = object;
	f->script.body_len = 100000;
	script(f, 2, a);
	start(f, NULL);
	assert_int_equal(s3_get_object(&info, f->client, "big", 0, 0, collect,
				       &sink, &err),
			 S3_OK);
	assert_int_equal(fake_server_count(f->server), 2);
	/* Every byte once, in order. */
	assert_int_equal(sink.len, 100000);
	assert_memory_equal(sink.data, object, 100000);
	assert_non_null(header(f, 1, "range", range, sizeof(range)));
	assert_string_equal(range, "bytes=33333-");
	/* ... and only from the same object. */
	assert_non_null(header(f, 1, "if-match", ifmatch, sizeof(ifmatch)));
	assert_string_equal(ifmatch, "abc123");
	s3_object_info_dispose(&info);
	free(sink.data);
}

/* A small object read into memory breaks mid-body: the retry asks for it
 * whole, and the answer holds it once, not after the broken part. */
static void test_get_buf_retried_whole(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_PARTIAL, A_BODY};
	char *object = malloc(100000), *got = NULL;
	size_t i, len = 0;
	s3_error err;

	assert_non_null(object);
	for (i = 0; i < 100000; i++)
		object[i] = (char)(i * 7 + i / 251);
	f->owned_body = object;
	f->script.body = object;
	f->script.body_len = 100000;
	script(f, 2, a);
	start(f, NULL);
	assert_int_equal(s3_get_object_buf(&got, &len, f->client, "small",
					   1000000, &err),
			 S3_OK);
	assert_int_equal(fake_server_count(f->server), 2);
	assert_int_equal(len, 100000);
	assert_memory_equal(got, object, 100000);
	free(got);
}

static void test_error_in_200_on_complete(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_ERROR_IN_200};
	char etag[] = "e1";
	struct s3_part part = {.number = 1, .etag = etag};
	s3_error err;

	script(f, 1, a);
	start(f, NULL);
	assert_int_equal(s3_multipart_complete(f->client, "k", "UPLOAD-1",
					       &part, 1, &err),
			 S3_EHTTP);
	assert_string_equal(err.s3_code, "InternalError");
	assert_non_null(strstr(err.msg, "HTTP 200 carrying an error"));
	/* The request named the upload and listed the part. */
	assert_string_equal(fake_server_request(f->server, 0)->target,
			    "/bkt/k?uploadId=UPLOAD-1");
	assert_non_null(strstr(fake_server_request(f->server, 0)->body,
			       "<PartNumber>1</PartNumber>"));
}

static void test_skew_corrected(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_SKEWED, A_OK};
	char d0[32], d1[32];
	struct tm tm = {0};
	time_t t0, t1;
	s3_error err;

	f->script.date_offset = 3600;
	script(f, 2, a);
	start(f, NULL);
	assert_int_equal(s3_put_object(f->client, "x", "a", 1, NULL, &err),
			 S3_OK);
	assert_int_equal(fake_server_count(f->server), 2);
	assert_non_null(header(f, 0, "x-amz-date", d0, sizeof(d0)));
	assert_non_null(header(f, 1, "x-amz-date", d1, sizeof(d1)));
	strptime(d0, "%Y%m%dT%H%M%SZ", &tm);
	t0 = timegm(&tm);
	strptime(d1, "%Y%m%dT%H%M%SZ", &tm);
	t1 = timegm(&tm);
	/* Re-signed with the server's time (give or take a slow second). */
	assert_in_range(t1 - t0, 3595, 3605);
	assert_in_range(s3_client_skew(f->client), 3595, 3605);
	assert_non_null(strstr(f->log, "clock differs"));
}

static void test_list_pages(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_PAGE1, A_PAGE2};
	const struct s3_list_entry *e;
	const char *want[] = {"p/a", "p/b c", "p/d"};
	s3_list *it;
	s3_error err;
	size_t n = 0;
	int rc;

	script(f, 2, a);
	start(f, NULL);
	assert_int_equal(s3_list_new(&it, f->client, "p/", NULL, &err), S3_OK);
	while ((rc = s3_list_next(&e, it, &err)) == 1) {
		assert_true(n < 3);
		assert_string_equal(e->key, want[n]);
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 3);
	assert_non_null(strstr(fake_server_request(f->server, 1)->target,
			       "continuation-token=tok%2B1%2F%3D"));
	s3_list_free(it);
}

static void test_presign_matches_the_documentation(void **state)
{
	struct fixture *f = *state;
	s3_options o = S3_OPTIONS_INIT;
	struct s3_presign_options po = {.expires = 86400};
	struct tm tm = {.tm_year = 113, .tm_mon = 4, .tm_mday = 24};
	s3_client *c;
	s3_error err;
	char *url;

	(void)f;
	/* Amazon S3 API Reference, "Authenticating Requests: Using Query
	 * Parameters (AWS Signature Version 4)", the worked example. */
	o.endpoint = "https://s3.amazonaws.com";
	o.bucket = "examplebucket";
	o.virtual_hosted = true;
	o.access_key = "AKIAIOSFODNN7EXAMPLE";
	o.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	assert_int_equal(s3_client_new(&c, &o, &err), S3_OK);
	po.at = timegm(&tm);
	assert_int_equal(s3_presign_get(&url, c, "test.txt", &po, &err), S3_OK);
	assert_string_equal(
		url,
		"https://examplebucket.s3.amazonaws.com/test.txt"
		"?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1"
		"%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
		"&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
		"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c2"
		"65957d157751f604d404");
	free(url);
	po.expires = 604801;
	assert_int_equal(s3_presign_get(&url, c, "test.txt", &po, &err),
			 S3_EINVAL);
	assert_null(url);
	s3_client_free(c);
}

/* ---- instance metadata ---- */

static void imds_handler(void *ctx, const struct fake_request *req,
			 struct fake_conn *conn)
{
	char h[128];
	const char *body;

	(void)ctx;
	if (strcmp(req->method, "PUT") == 0 &&
	    strcmp(req->target, "/latest/api/token") == 0 &&
	    fake_header(req, "x-aws-ec2-metadata-token-ttl-seconds", h,
			sizeof(h))) {
		fake_reply(conn, 200, NULL, "TOKEN-1", 7);
		return;
	}
	if (!fake_header(req, "x-aws-ec2-metadata-token", h, sizeof(h)) ||
	    strcmp(h, "TOKEN-1") != 0) {
		fake_reply(conn, 401, NULL, "", 0);
		return;
	}
	if (strcmp(req->target,
		   "/latest/meta-data/iam/security-credentials/") == 0) {
		fake_reply(conn, 200, NULL, "backup-role\n", 12);
		return;
	}
	if (strcmp(req->target,
		   "/latest/meta-data/iam/security-credentials/backup-role") ==
	    0) {
		body = "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\","
		       "\"AccessKeyId\":\"ASIAIMDSROLEKEY00001\","
		       "\"SecretAccessKey\":\"imdsSecretNeverLogged000\","
		       "\"Token\":\"IMDS-SESSION-TOKEN\","
		       "\"Expiration\":\"2099-01-01T00:00:00Z\"}";
		fake_reply(conn, 200, NULL, body, strlen(body));
		return;
	}
	fake_reply(conn, 404, NULL, "", 0);
}

static void test_imds_credentials(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_OK};
	struct fake_server *imds;
	s3_options o = S3_OPTIONS_INIT;
	char endpoint[64], h[512];
	int port;
	s3_error err;

	assert_int_equal(fake_server_start(&imds, &port, imds_handler, NULL),
			 0);
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
	o.use_imds = true;
	o.imds_endpoint = endpoint;
	script(f, 1, a);
	start(f, &o);
	assert_int_equal(s3_client_credentials_expire(f->client), 4070908800);
	assert_int_equal(s3_put_object(f->client, "x", "a", 1, NULL, &err),
			 S3_OK);
	assert_non_null(header(f, 0, "x-amz-security-token", h, sizeof(h)));
	assert_string_equal(h, "IMDS-SESSION-TOKEN");
	assert_non_null(header(f, 0, "authorization", h, sizeof(h)));
	assert_non_null(strstr(h, "Credential=ASIAIMDSROLEKEY00001/"));
	assert_int_equal(fake_server_count(imds), 3);
	assert_null(strstr(f->log, "imdsSecretNeverLogged"));
	fake_server_stop(imds);
}

static void test_no_secret_in_errors(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_403};
	s3_options o = S3_OPTIONS_INIT;
	s3_error err;

	o.session_token = "SESSION-TOKEN-SECRET-VALUE";
	script(f, 1, a);
	start(f, &o);
	assert_int_equal(s3_head_object(&(struct s3_object_info){0}, f->client,
					"x", &err),
			 S3_EHTTP);
	assert_null(strstr(err.msg, SK));
	assert_null(strstr(err.msg, "SESSION-TOKEN-SECRET-VALUE"));
	assert_null(strstr(f->log, "SESSION-TOKEN-SECRET-VALUE"));
	assert_null(strstr(f->log, "Signature="));
}

/* ---- stopping: a cancel ends a request at once, whatever it waits on ---- */

static double since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void start_cancellable(struct fixture *f, s3_options *o)
{
	o->cancelled = cancel_cb;
	o->cancelled_ctx = &f->script;
	start(f, o);
}

/* A server that takes the request and never answers: the cancel, not the
 * 60 s stall timeout and five retries, ends it. */
static void test_cancel_ends_a_stalled_request(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_STALL};
	s3_options o = S3_OPTIONS_INIT;
	struct timespec t0;
	s3_error err;

	script(f, 1, a);
	f->script.after = A_OK;
	f->script.cancel_on_request = true;
	start_cancellable(f, &o);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(s3_put_object(f->client, "x", "a", 1, NULL, &err),
			 S3_EABORTED);
	assert_true(since(&t0) < 5);
	assert_string_equal(err.msg, "PUT x: cancelled");
	assert_int_equal(fake_server_count(f->server), 1);
}

/* A cancel during the wait before a retry ends the wait at once, and
 * nothing is sent again. */
static void test_cancel_cuts_the_wait_between_retries(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_503};
	s3_options o = S3_OPTIONS_INIT;
	struct timespec t0;
	s3_error err;

	script(f, 1, a);
	f->script.after = A_OK;
	f->script.cancel_on_request = true;
	/* Waits of up to a minute: the first one is at least a second but
	 * for a chance of one in 60, and the test needs only that it ends
	 * at once. */
	f->retry_ms = 60000;
	o.retry_budget_ms = 600000;
	start_cancellable(f, &o);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(s3_put_object(f->client, "x", "a", 1, NULL, &err),
			 S3_EABORTED);
	assert_true(since(&t0) < 2);
	assert_string_equal(err.msg, "PUT x: cancelled");
	assert_int_equal(fake_server_count(f->server), 1);
}

/* Once cancelled, a client sends nothing more. */
static void test_cancelled_client_sends_nothing(void **state)
{
	struct fixture *f = *state;
	s3_options o = S3_OPTIONS_INIT;
	s3_error err;

	f->script.after = A_OK;
	start_cancellable(f, &o);
	atomic_store(&f->script.cancel, true);
	assert_int_equal(s3_delete_object(f->client, "x", &err), S3_EABORTED);
	assert_int_equal(fake_server_count(f->server), 0);
}

/* After the cancel, cleanup still goes out (an AbortMultipartUpload), but
 * a server that stalls it, or keeps failing it, cannot hold the run past
 * the cleanup's time limit. */
static void test_cleanup_after_cancel_is_sent_and_bounded(void **state)
{
	struct fixture *f = *state;
	static const enum action a[] = {A_OK, A_STALL, A_503};
	s3_options o = S3_OPTIONS_INIT;
	struct timespec t0;
	s3_error err;

	script(f, 3, a);
	f->script.after = A_503;
	o.max_attempts = 1000;
	start_cancellable(f, &o);
	atomic_store(&f->script.cancel, true);
	s3_client_set_cleanup(f->client, 1500);

	assert_int_equal(s3_multipart_abort(f->client, "k", "UP1", &err),
			 S3_OK);
	assert_int_equal(fake_server_count(f->server), 1);
	assert_string_equal(fake_server_request(f->server, 0)->method,
			    "DELETE");
	assert_string_equal(fake_server_request(f->server, 0)->target,
			    "/bkt/k?uploadId=UP1");

	/* Stalled: given up at the time limit, not the 60 s stall timeout. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(s3_multipart_abort(f->client, "k", "UP1", &err),
			 S3_ENET);
	assert_true(since(&t0) < 4);
	assert_string_equal(err.msg, "AbortMultipartUpload k: no answer "
				     "within the time limit (1500 ms)");

	/* 503 after 503: retried, but only within the time limit (which
	 * ends it during a wait or during an attempt). */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_not_equal(s3_multipart_abort(f->client, "k", "UP1", &err),
			     S3_OK);
	assert_true(since(&t0) < 4);
	assert_true(fake_server_count(f->server) > 3);
	assert_non_null(strstr(err.msg, "time limit"));
}

/* ---- listings that would never end ---- */

/* Every entry of a listing: how many came, and how it ended. */
static int drain(struct fixture *f, size_t *n, s3_error *err)
{
	const struct s3_list_entry *e;
	s3_list *it;
	int rc;

	*n = 0;
	assert_int_equal(s3_list_new(&it, f->client, "p/", NULL, err), S3_OK);
	while ((rc = s3_list_next(&e, it, err)) == 1)
		(*n)++;
	s3_list_free(it);
	return rc;
}

static void test_list_repeated_token_stops(void **state)
{
	struct fixture *f = *state;
	s3_error err;
	size_t n;

	f->script.after = A_LIST_SAME;
	start(f, NULL);
	assert_int_equal(drain(f, &n, &err), -S3_EPROTO);
	assert_int_equal(n, 1);
	assert_int_equal(fake_server_count(f->server), 2);
	assert_string_equal(err.msg, "LIST p/: the server repeated the "
				     "continuation token: stopped (a listing "
				     "that would not end)");
}

static void test_list_truncated_without_token_stops(void **state)
{
	struct fixture *f = *state;
	s3_error err;
	size_t n;

	f->script.after = A_LIST_NOTOKEN;
	start(f, NULL);
	assert_int_equal(drain(f, &n, &err), -S3_EPROTO);
	assert_int_equal(n, 0);
	assert_int_equal(fake_server_count(f->server), 1);
	assert_non_null(strstr(err.msg, "without a continuation token"));
}

/* New keys and a new token on every page, for ever: the key cap ends
 * it, before the keys past the cap are handed out. */
static void test_list_key_cap(void **state)
{
	struct fixture *f = *state;
	s3_options o = S3_OPTIONS_INIT;
	s3_error err;
	size_t n;

	o.max_list_keys = 5;
	f->script.after = A_LIST_MORE;
	start(f, &o);
	assert_int_equal(drain(f, &n, &err), -S3_EPROTO);
	assert_int_equal(n, 4);
	assert_int_equal(fake_server_count(f->server), 3);
	assert_string_equal(err.msg, "LIST p/: more than 5 keys: stopped");
}

/* Empty pages with a new token each, for ever: the page cap ends it. */
static void test_list_page_cap(void **state)
{
	struct fixture *f = *state;
	s3_options o = S3_OPTIONS_INIT;
	s3_error err;
	size_t n;

	o.max_list_pages = 3;
	f->script.after = A_LIST_HOLLOW;
	start(f, &o);
	assert_int_equal(drain(f, &n, &err), -S3_EPROTO);
	assert_int_equal(n, 0);
	assert_int_equal(fake_server_count(f->server), 3);
	assert_string_equal(err.msg, "LIST p/: more than 3 pages: stopped (a "
				     "listing that does not end)");
}

static void test_uploads_repeated_markers_stop(void **state)
{
	struct fixture *f = *state;
	struct s3_upload *ups = NULL;
	size_t n = 99;
	s3_error err;

	f->script.after = A_UPLOADS_SAME;
	start(f, NULL);
	assert_int_equal(s3_multipart_list(&ups, &n, f->client, "p/", &err),
			 S3_EPROTO);
	assert_null(ups);
	assert_int_equal(n, 0);
	assert_int_equal(fake_server_count(f->server), 2);
	assert_non_null(strstr(fake_server_request(f->server, 1)->target,
			       "key-marker=p%2Fk"));
	assert_string_equal(err.msg, "ListMultipartUploads: the server "
				     "repeated the markers: stopped (a "
				     "listing that would not end)");
}

/* An empty NextKeyMarker would start the listing over. */
static void test_uploads_empty_marker_stops(void **state)
{
	struct fixture *f = *state;
	struct s3_upload *ups = NULL;
	size_t n;
	s3_error err;

	f->script.after = A_UPLOADS_EMPTY_MARKER;
	start(f, NULL);
	assert_int_equal(s3_multipart_list(&ups, &n, f->client, "p/", &err),
			 S3_EPROTO);
	assert_int_equal(fake_server_count(f->server), 1);
	assert_string_equal(err.msg, "ListMultipartUploads: truncated without "
				     "a usable marker");
}

static void test_uploads_key_and_page_caps(void **state)
{
	struct fixture *f = *state;
	s3_options o = S3_OPTIONS_INIT;
	struct s3_upload *ups = NULL;
	size_t n;
	s3_error err;

	o.max_list_keys = 3;
	f->script.after = A_UPLOADS_MORE;
	start(f, &o);
	assert_int_equal(s3_multipart_list(&ups, &n, f->client, "p/", &err),
			 S3_EPROTO);
	assert_null(ups);
	assert_int_equal(fake_server_count(f->server), 2);
	assert_string_equal(err.msg,
			    "ListMultipartUploads: more than 3 keys: stopped");

	s3_client_free(f->client);
	fake_server_stop(f->server);
	o.max_list_keys = 0;
	o.max_list_pages = 4;
	start(f, &o);
	assert_int_equal(s3_multipart_list(&ups, &n, f->client, "p/", &err),
			 S3_EPROTO);
	assert_int_equal(fake_server_count(f->server), 4);
	assert_non_null(strstr(err.msg, "more than 4 pages"));
}

static void test_parts_marker_must_move_on(void **state)
{
	struct fixture *f = *state;
	struct s3_part *parts = NULL;
	size_t n;
	s3_error err;

	f->script.after = A_PARTS_SAME;
	start(f, NULL);
	assert_int_equal(s3_multipart_list_parts(&parts, &n, f->client, "k",
						 "UP1", &err),
			 S3_EPROTO);
	assert_null(parts);
	assert_int_equal(fake_server_count(f->server), 2);
	assert_string_equal(err.msg, "ListParts k: the part number marker did "
				     "not move on (1 after 1): stopped (a "
				     "listing that would not end)");
}

/* ---- plain http to another machine ---- */

static void test_endpoint_in_clear(void **state)
{
	static const char *const clear[] = {
		"http://backup.example.com",
		"http://10.0.0.1:9000",
		"http://128.0.0.1",
		"http://0.0.0.0:9000",
		"http://126.255.255.255",
		"http://127.0.0.1.example.com",
		"http://localhost.example.com",
		"http://127.1", /* not how an address is written here */
		"http://[::2]:9000",
		"http://[::ffff:10.0.0.1]",
		"HTTP://backup.example.com",
		"http://127.0.0.1@backup.example.com",
	};
	static const char *const not_clear[] = {
		"https://backup.example.com", "http://127.0.0.1:9000",
		"http://127.255.0.9/path",    "http://localhost:9000",
		"http://LocalHost",	      "HTTP://127.0.0.1",
		"http://[::1]:9000",	      "http://[0:0:0:0:0:0:0:1]/x",
		"http://user@127.0.0.1:9000",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(clear) / sizeof(clear[0]); i++)
		if (!s3_endpoint_in_clear(clear[i]))
			fail_msg("%s: not taken for plain http", clear[i]);
	for (i = 0; i < sizeof(not_clear) / sizeof(not_clear[0]); i++)
		if (s3_endpoint_in_clear(not_clear[i]))
			fail_msg("%s: taken for plain http", not_clear[i]);
	assert_false(s3_endpoint_in_clear(NULL));
}

/* A remote name over http (made to resolve to the fake server, so that
 * nothing leaves this machine): refused before anything is sent, unless
 * allow_http. */
static void test_http_to_another_host_needs_allow_http(void **state)
{
	struct fixture *f = *state;
	s3_options o = S3_OPTIONS_INIT;
	char endpoint[64], resolve[64];
	const char *resolves[] = {resolve, NULL};
	s3_client *c = NULL;
	s3_error err;
	int port;

	f->script.after = A_OK;
	assert_int_equal(
		fake_server_start(&f->server, &port, handler, &f->script), 0);
	snprintf(endpoint, sizeof(endpoint), "http://backup.example:%d", port);
	snprintf(resolve, sizeof(resolve), "backup.example:%d:127.0.0.1", port);
	o.endpoint = endpoint;
	o.resolve = resolves;
	o.bucket = "bkt";
	o.access_key = AK;
	o.secret_key = SK;

	assert_int_equal(s3_client_new(&c, &o, &err), S3_EINVAL);
	assert_null(c);
	assert_non_null(strstr(err.msg, "is plain http to a host that is not "
					"loopback: requests are signed, but "
					"the data and metadata travel in the "
					"clear and can be read or altered"));

	o.allow_http = true;
	assert_int_equal(s3_client_new(&f->client, &o, &err), S3_OK);
	assert_int_equal(s3_put_object(f->client, "x", "a", 1, NULL, &err),
			 S3_OK);
	assert_int_equal(fake_server_count(f->server), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_503_then_success, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_403_not_retried, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_attempts_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_retry_budget_bounds_an_outage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropped_connection_retried,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_resumes_after_reset,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_buf_retried_whole,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_in_200_on_complete,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_skew_corrected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_pages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_presign_matches_the_documentation, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_imds_credentials, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_secret_in_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_cancel_ends_a_stalled_request, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_cancel_cuts_the_wait_between_retries, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_cancelled_client_sends_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_cleanup_after_cancel_is_sent_and_bounded, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_list_repeated_token_stops,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_list_truncated_without_token_stops, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_list_key_cap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_page_cap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_uploads_repeated_markers_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uploads_empty_marker_stops,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_uploads_key_and_page_caps,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_parts_marker_must_move_on,
						setup, teardown),
		cmocka_unit_test(test_endpoint_in_clear),
		cmocka_unit_test_setup_teardown(
			test_http_to_another_host_needs_allow_http, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
