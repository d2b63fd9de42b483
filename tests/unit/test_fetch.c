/*
 * fetch: finding a backup (a key as `offsite list` shows it, without its
 * prefix, or "latest" from a listing), reading its manifest (missing,
 * unreadable, not JSON, or without its backup), streaming it back and
 * comparing sizes and digests with the manifest, and the configured key.
 * Against a scripted server that serves a small table of objects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "agent/ops/log.h"
#include "agent/pipe/fetch.h"
#include "agent/pipe/stages.h"
#include "agent/pipe/stages_internal.h"
#include "retention/retention.h"
#include "tests/support/fake_server.h"

#define OLD "daily/app/app-daily-20250101T000000Z.sql.gz"
#define NEW "daily/app/app-daily-20250102T000000Z.sql.gz"

struct object {
	char key[128];
	char *data;
	size_t len;
	int status; /* 0: 200 */
};

struct fixture {
	struct object objects[8];
	size_t n;
	struct fake_server *server;
	s3_client *client;
};

static void answer_listing(struct fixture *f, struct fake_conn *conn)
{
	char body[8192];
	size_t used;

	used = (size_t)snprintf(body, sizeof(body),
				"<ListBucketResult><Name>bkt</Name>"
				"<IsTruncated>false</IsTruncated>");
	for (size_t i = 0; i < f->n; i++)
		used += (size_t)snprintf(
			body + used, sizeof(body) - used,
			"<Contents><Key>%s</Key><LastModified>2025-01-03T00:00:"
			"00.000Z</LastModified><ETag>\"e%zu\"</ETag><Size>%zu"
			"</Size><StorageClass>STANDARD</StorageClass>"
			"</Contents>",
			f->objects[i].key, i, f->objects[i].len);
	snprintf(body + used, sizeof(body) - used, "</ListBucketResult>");
	fake_reply(conn, 200, NULL, body, strlen(body));
}

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	static const char missing[] =
		"<Error><Code>NoSuchKey</Code><Message>The specified key does "
		"not exist.</Message></Error>";
	static const char denied[] = "<Error><Code>AccessDenied</Code>"
				     "<Message>Access Denied</Message></Error>";
	struct fixture *f = ctx;
	char etag[64];

	if (strncmp(req->target, "/bkt?", 5) == 0) {
		answer_listing(f, conn);
		return;
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct object *o = &f->objects[i];

		if (strncmp(req->target, "/bkt/", 5) != 0 ||
		    strcmp(req->target + 5, o->key) != 0)
			continue;
		if (o->status == 403) {
			fake_reply(conn, 403, NULL, denied, strlen(denied));
			return;
		}
		snprintf(etag, sizeof(etag), "ETag: \"e%zu\"\r\n", i);
		if (strcmp(req->method, "HEAD") == 0)
			fake_reply(conn, 200, etag, "", 0);
		else
			fake_reply(conn, 200, etag, o->data, o->len);
		return;
	}
	fake_reply(conn, 404, NULL,
		   strcmp(req->method, "HEAD") == 0 ? "" : missing,
		   strcmp(req->method, "HEAD") == 0 ? 0 : strlen(missing));
}

static int setup(void **state)
{
	s3_options o;
	struct fixture *f = calloc(1, sizeof(*f));
	char endpoint[64];
	s3_error err;
	int port;

	if (f == NULL)
		return -1;
	log_setup(LOG_ERROR, LOG_FORMAT_TEXT, NULL);
	if (fake_server_start(&f->server, &port, handler, f) != 0)
		return -1;
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
	fake_s3_options(&o, endpoint);
	if (s3_client_new(&f->client, &o, &err) != S3_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	s3_client_free(f->client);
	fake_server_stop(f->server);
	for (size_t i = 0; i < f->n; i++)
		free(f->objects[i].data);
	free(f);
	return 0;
}

/* The error is CODE and its message holds WANT. */
static void want_error(const struct agent_error *err, int code,
		       const char *want)
{
	if (err->code != code || strstr(err->msg, want) == NULL)
		fail_msg("got %d \"%s\"\nwant %d \"...%s...\"", err->code,
			 err->msg, code, want);
}

static void put(struct fixture *f, const char *key, const void *data,
		size_t len)
{
	struct object *o = &f->objects[f->n++];

	assert_true(f->n <= sizeof(f->objects) / sizeof(f->objects[0]));
	snprintf(o->key, sizeof(o->key), "%s", key);
	o->data = malloc(len + 1);
	assert_non_null(o->data);
	memcpy(o->data, data, len);
	o->len = len;
}

static void sha_hex(char out[65], const void *data, size_t len)
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data, len, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* PLAIN gzipped under KEY, with its manifest (M's digests and sizes, then
 * TWEAK applied to it, when given). */
static void put_backup(struct fixture *f, const char *key, const char *plain,
		       void (*tweak)(struct manifest *m))
{
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct gzip_options go = GZIP_OPTIONS_INIT;
	struct stream *mem, *gz;
	struct agent_error err = {0};
	struct manifest m = {0};
	char mkey[160], *text = NULL;
	const void *data;
	size_t len;

	go.threads = 1;
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(stage_gzip_new(&gz, mem, &err, &go), AGENT_OK);
	assert_int_equal(stream_write(gz, plain, strlen(plain)), AGENT_OK);
	assert_int_equal(stream_finish(gz), AGENT_OK);
	data = stage_memory_data(mem, &len);
	put(f, key, data, len);

	m.key = key;
	m.type = "daily";
	m.database = "app";
	m.host = "db1";
	m.started = 1735689600;
	m.duration = 1;
	m.plain_bytes = strlen(plain);
	sha_hex(m.plain_sha256, plain, strlen(plain));
	m.stored_bytes = len;
	sha_hex(m.stored_sha256, data, len);
	m.compression_engine = "zlib";
	m.compression_level = 6;
	m.driver = "command";
	m.tool = "";
	m.format = "raw";
	if (tweak != NULL)
		tweak(&m);
	assert_int_equal(manifest_format(&text, &m), 0);
	snprintf(mkey, sizeof(mkey), "%s%s", key, RETENTION_MANIFEST_SUFFIX);
	put(f, mkey, text, strlen(text));
	free(text);
	stream_free(gz);
	stream_free(mem);
}

/* A key as listed, without its prefix, not a key, a manifest's key. */
static void test_resolve_a_key(void **state)
{
	struct agent_error err = {0};
	char *key = NULL;

	(void)state;
	assert_int_equal(
		fetch_resolve(&key, NULL, "", OLD, NULL, NULL, NULL, &err),
		AGENT_OK);
	assert_string_equal(key, OLD);
	free(key);
	assert_int_equal(fetch_resolve(&key, NULL, "p/", "p/" OLD, NULL, NULL,
				       NULL, &err),
			 AGENT_OK);
	assert_string_equal(key, "p/" OLD);
	free(key);
	assert_int_equal(
		fetch_resolve(&key, NULL, "p/", OLD, NULL, NULL, NULL, &err),
		AGENT_OK);
	assert_string_equal(key, "p/" OLD);
	free(key);

	assert_int_equal(fetch_resolve(&key, NULL, "p/", "nonsense", NULL, NULL,
				       NULL, &err),
			 AGENT_EIO);
	assert_null(key);
	want_error(&err, AGENT_EIO,
		   "'nonsense' is not a backup key (p/TYPE/DB/");
	memset(&err, 0, sizeof(err));
	assert_int_equal(fetch_resolve(&key, NULL, "", "nonsense", NULL, NULL,
				       NULL, &err),
			 AGENT_EIO);
	want_error(&err, AGENT_EIO, "'nonsense' is not a backup key");
	memset(&err, 0, sizeof(err));
	assert_int_equal(fetch_resolve(&key, NULL, "p/",
				       OLD RETENTION_MANIFEST_SUFFIX, NULL,
				       NULL, NULL, &err),
			 AGENT_EIO);
	assert_null(key);
	want_error(&err, AGENT_EIO, "is a manifest: name its backup");
}

/* "latest": the newest complete backup of the database, from a listing
 * and the manifests; none of another database. */
static void test_resolve_latest(void **state)
{
	struct fixture *f = *state;
	struct trust t = {0};
	struct agent_error err = {0};
	char *key = NULL;

	put_backup(f, OLD, "old\n", NULL);
	put_backup(f, NEW, "new\n", NULL);
	t.future_tolerance = 3600;
	assert_int_equal(fetch_resolve(&key, f->client, "", "latest", "daily",
				       "app", &t, &err),
			 AGENT_OK);
	assert_string_equal(key, NEW);
	free(key);
	key = NULL;
	assert_int_equal(fetch_resolve(&key, f->client, "", "latest", NULL,
				       "other", &t, &err),
			 AGENT_EIO);
	assert_null(key);
	assert_true(err.msg[0] != '\0');
}

/* No manifest: no backup either, or a backup that never completed. */
static void test_open_without_manifest(void **state)
{
	struct fixture *f = *state;
	struct trust t = {0};
	struct fetch_backup b;
	struct agent_error err = {0};

	assert_int_equal(fetch_open(&b, f->client, OLD, &t, &err), AGENT_EIO);
	want_error(&err, AGENT_EIO, "no such backup");
	assert_null(b.key);

	put(f, OLD, "x", 1);
	memset(&err, 0, sizeof(err));
	assert_int_equal(fetch_open(&b, f->client, OLD, &t, &err),
			 AGENT_ECORRUPT);
	want_error(&err, AGENT_ECORRUPT, "no manifest: not a complete backup");
	assert_true(agent_code_is_integrity(err.code));
}

/* A manifest that cannot be read is the bucket's fault; one that is not
 * a manifest, the backup's. */
static void test_open_bad_manifest(void **state)
{
	struct fixture *f = *state;
	struct trust t = {0};
	struct fetch_backup b;
	struct agent_error err = {0};

	put(f, OLD RETENTION_MANIFEST_SUFFIX, "not json", 8);
	assert_int_equal(fetch_open(&b, f->client, OLD, &t, &err),
			 AGENT_ECORRUPT);
	assert_true(err.msg[0] != '\0');

	put(f, NEW RETENTION_MANIFEST_SUFFIX, "{}", 2);
	f->objects[f->n - 1].status = 403;
	memset(&err, 0, sizeof(err));
	assert_int_equal(fetch_open(&b, f->client, NEW, &t, &err), AGENT_EIO);
	want_error(&err, AGENT_EIO, "cannot read the manifest: ");
}

static void run_into_memory(struct fixture *f, const char *key, int want_rc,
			    const char *want_msg, const char *want_plain)
{
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct trust t = {0};
	struct fetch_backup b;
	struct fetch_result res;
	struct agent_error err = {0};
	struct stream *mem;
	const char *data;
	size_t len;

	assert_int_equal(fetch_open(&b, f->client, key, &t, &err), AGENT_OK);
	assert_false(b.encrypted);
	assert_false(b.authentic);
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(fetch_run(&res, f->client, &b, NULL, mem, &err),
			 want_rc);
	if (want_rc != AGENT_OK) {
		want_error(&err, want_rc, want_msg);
	} else {
		data = stage_memory_data(mem, &len);
		assert_int_equal(len, strlen(want_plain));
		assert_memory_equal(data, want_plain, len);
		assert_int_equal(res.plain_bytes, len);
		assert_int_equal(res.stored_bytes, b.m.stored_bytes);
	}
	stream_free(mem);
	fetch_backup_dispose(&b);
}

static void test_run_matches_manifest(void **state)
{
	struct fixture *f = *state;

	put_backup(f, OLD, "CREATE TABLE a (x int);\n", NULL);
	run_into_memory(f, OLD, AGENT_OK, NULL, "CREATE TABLE a (x int);\n");
}

static void wrong_stored_sha(struct manifest *m)
{
	memset(m->stored_sha256, 'a', 64);
}

static void wrong_plain_sha(struct manifest *m)
{
	memset(m->plain_sha256, 'b', 64);
}

static void wrong_stored_size(struct manifest *m)
{
	m->stored_bytes += 1;
}

static void wrong_plain_size(struct manifest *m)
{
	m->plain_bytes -= 1;
}

/* Each check against the manifest is made, and says what differs. */
static void test_run_refuses_what_differs(void **state)
{
	struct fixture *f = *state;
	static const char *const keys[] = {
		"daily/app/app-daily-20250101T000001Z.sql.gz",
		"daily/app/app-daily-20250101T000002Z.sql.gz",
		"daily/app/app-daily-20250101T000003Z.sql.gz",
		"daily/app/app-daily-20250101T000004Z.sql.gz",
	};

	put_backup(f, keys[0], "one\n", wrong_stored_sha);
	put_backup(f, keys[1], "two\n", wrong_plain_sha);
	put_backup(f, keys[2], "three\n", wrong_stored_size);
	put_backup(f, keys[3], "four\n", wrong_plain_size);
	run_into_memory(f, keys[0], AGENT_ECORRUPT,
			"SHA-256 of the stored bytes is ", NULL);
	run_into_memory(f, keys[1], AGENT_ECORRUPT,
			"SHA-256 of the plain dump is ", NULL);
	run_into_memory(f, keys[2], AGENT_ECORRUPT, "stored size is ", NULL);
	run_into_memory(f, keys[3], AGENT_ECORRUPT, "", NULL);
}

/* The configured key: none, a key file, one that cannot be loaded. */
static void test_load_key(void **state)
{
	char dir[] = "/tmp/test_fetch.XXXXXX", path[64], text[256];
	struct crypto_key key;
	struct agent_error err = {0};
	conf_error cerr = {{0}};
	conf *c = NULL;
	bool have = true;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	if (conf_parse(&c, "t.ini",
		       "[storage]\nbucket = bkt\n[database]\nname = app\n",
		       &cerr) != CONF_OK)
		fail_msg("%s", cerr.msg);
	assert_int_equal(fetch_load_key(&key, &have, c, &err), 0);
	assert_false(have);
	conf_free(c);

	snprintf(path, sizeof(path), "%s/enc.key", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "%064d\n", 7);
	fclose(fp);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(text, sizeof(text),
		 "[storage]\nbucket = bkt\n[database]\nname = app\n"
		 "[encryption]\nkey_file = %s\n",
		 path);
	if (conf_parse(&c, "t.ini", text, &cerr) != CONF_OK)
		fail_msg("%s", cerr.msg);
	/* Made readable by others after the configuration was read. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(fetch_load_key(&key, &have, c, &err), -1);
	assert_false(have);
	want_error(&err, AGENT_EKEY, "chmod 600");
	memset(&err, 0, sizeof(err));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(fetch_load_key(&key, &have, c, &err), 0);
	assert_true(have);
	crypto_key_dispose(&key);
	conf_free(c);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_a_key),
		cmocka_unit_test_setup_teardown(test_resolve_latest, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_without_manifest,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_bad_manifest, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_run_matches_manifest,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_refuses_what_differs,
						setup, teardown),
		cmocka_unit_test(test_load_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
