/*
 * The read-back pipeline against a scripted server, for what a real one
 * cannot be made to do on cue: a load pass that gets another object than
 * its check pass (a server that ignores If-Match: the ETag it names, or
 * when it names the checked one, the first bytes, an encrypted file's
 * header, give it away before the sink sees a byte; one that honours it:
 * 412), a server with no ETag (the load pass reads the
 * private copy the check pass kept, and never asks again), and a small
 * object that inflates far past its manifest's plain size (the sink gets
 * nothing past that size).
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

#include <openssl/sha.h>

#include "agent/pipe/fetch.h"
#include "agent/ops/log.h"
#include "agent/pipe/stages.h"
#include "agent/pipe/stages_internal.h"
#include "tests/support/fake_server.h"

#define KEY "daily/app/app-daily-20250101T000000Z.sql.gz"

struct blob {
	unsigned char *data;
	size_t len;
};

/* How the server answers: HEAD with ETAG (NULL: none), then each GET
 * with the next of OBJECTS, or 412 where IF_MATCH says so. */
struct script {
	const char *etag;
	const char *second_etag; /* the 2nd GET's, when not ETAG */
	const struct blob *objects[4];
	unsigned gets;
	bool honour_if_match; /* the 2nd GET on: 412 */
};

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	struct script *s = ctx;
	char extra[256] = "";
	const struct blob *b;

	if (s->etag != NULL)
		snprintf(extra, sizeof(extra), "ETag: \"%s\"\r\n", s->etag);
	if (strcmp(req->method, "HEAD") == 0) {
		fake_reply(conn, 200, extra, "", 0);
		return;
	}
	b = s->objects[s->gets < 4 ? s->gets : 3];
	s->gets++;
	if (s->gets == 2 && s->second_etag != NULL)
		snprintf(extra, sizeof(extra), "ETag: \"%s\"\r\n",
			 s->second_etag);
	if (s->honour_if_match && s->gets > 1) {
		static const char xml[] =
			"<Error><Code>PreconditionFailed</Code><Message>At "
			"least one of the pre-conditions you specified did "
			"not hold</Message></Error>";

		fake_reply(conn, 412, NULL, xml, strlen(xml));
		return;
	}
	fake_reply(conn, 200, extra, b->data, b->len);
}

struct fixture {
	struct script script;
	struct fake_server *server;
	s3_client *client;
	struct crypto_key key;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint8_t raw[CRYPTO_KEY_LEN];
	struct agent_error cerr = {0};

	if (f == NULL)
		return -1;
	memset(raw, 0x5a, sizeof(raw));
	if (crypto_key_from_bytes(&f->key, raw, &cerr) != AGENT_OK)
		return -1;
	log_setup(LOG_ERROR, LOG_FORMAT_TEXT, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	s3_client_free(f->client);
	fake_server_stop(f->server);
	crypto_key_dispose(&f->key);
	free(f);
	return 0;
}

static void start(struct fixture *f)
{
	s3_options o;
	char endpoint[64];
	s3_error err;
	int port;

	assert_int_equal(
		fake_server_start(&f->server, &port, handler, &f->script), 0);
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
	fake_s3_options(&o, endpoint);
	assert_int_equal(s3_client_new(&f->client, &o, &err), S3_OK);
}

/* The server's threads may still be sending what a test is about to
 * free (the client gave up reading early): stop them first. */
static void stop(struct fixture *f)
{
	fake_server_stop(f->server);
	f->server = NULL;
}

static void hex(char out[65], const void *data, size_t len)
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data, len, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* PLAIN, gzipped and (with KEY) encrypted, as an object; B describes it
 * (its manifest), unless B is NULL. */
static void make(struct blob *out, struct fetch_backup *b, const char *plain,
		 size_t plain_len, const struct crypto_key *key)
{
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct gzip_options go = GZIP_OPTIONS_INIT;
	struct encrypt_options eo = ENCRYPT_OPTIONS_INIT;
	struct stream *mem, *enc = NULL, *gz;
	struct agent_error err = {0};
	const void *data;

	go.threads = 1;
	eo.key = key;
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	if (key != NULL)
		assert_int_equal(stage_encrypt_new(&enc, mem, &err, &eo),
				 AGENT_OK);
	assert_int_equal(stage_gzip_new(&gz, enc ? enc : mem, &err, &go),
			 AGENT_OK);
	assert_int_equal(stream_write(gz, plain, plain_len), AGENT_OK);
	assert_int_equal(stream_finish(gz), AGENT_OK);
	data = stage_memory_data(mem, &out->len);
	out->data = malloc(out->len);
	assert_non_null(out->data);
	memcpy(out->data, data, out->len);
	stream_free(gz);
	stream_free(enc);
	stream_free(mem);
	if (b == NULL)
		return;
	memset(b, 0, sizeof(*b));
	b->key = strdup(key ? KEY ".enc" : KEY);
	b->encrypted = key != NULL;
	b->m.key = b->key;
	b->m.plain_bytes = plain_len;
	hex(b->m.plain_sha256, plain, plain_len);
	b->m.stored_bytes = out->len;
	hex(b->m.stored_sha256, out->data, out->len);
	b->m.encrypted = key != NULL;
}

static const char sql_a[] = "CREATE TABLE a (x int);\n";
static const char sql_b[] = "CREATE TABLE b (x int);\n";

static size_t sink_len(struct stream *mem)
{
	size_t len = 0;

	(void)stage_memory_data(mem, &len);
	return len;
}

static void test_other_encrypted_object_refused_by_its_header(void **state)
{
	struct fixture *f = *state;
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct blob a, b;
	struct fetch_backup fb;
	struct fetch_pin pin;
	struct fetch_result res;
	struct agent_error err = {0};
	struct stream *mem;
	char v[64];

	/* Two files of the same size and key: only the header differs
	 * before the first segment fails. */
	make(&a, &fb, sql_a, strlen(sql_a), &f->key);
	make(&b, NULL, sql_b, strlen(sql_b), &f->key);
	assert_int_equal(a.len, b.len);
	f->script = (struct script){.etag = "e1", .objects = {&a, &b}};
	start(f);
	fetch_pin_init(&pin);
	assert_int_equal(fetch_check(&pin, &res, f->client, &fb, &f->key, &err),
			 AGENT_OK);
	assert_int_equal(pin.head_len, FETCH_PIN_HEAD);
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(
		fetch_load(&res, f->client, &fb, &f->key, &pin, mem, &err),
		AGENT_ECORRUPT);
	assert_non_null(strstr(err.msg, "the backup changed after it was "
					"checked (its first bytes differ)"));
	assert_int_equal(sink_len(mem), 0);
	/* HEAD, GET, GET: both GETs pinned to the HEAD's ETag. */
	assert_int_equal(fake_server_count(f->server), 3);
	for (unsigned i = 1; i < 3; i++) {
		assert_non_null(fake_header(fake_server_request(f->server, i),
					    "if-match", v, sizeof(v)));
		assert_string_equal(v, "\"e1\"");
	}
	stream_free(mem);
	fetch_pin_dispose(&pin);
	free(fb.key);
	stop(f);
	free(a.data);
	free(b.data);
}

/* A streamed restore of an authenticated backup: an answer that is
 * another file of the same key (a man in the middle of http://, who can
 * name the right ETag) is refused by the header its manifest covers,
 * before the sink sees a byte. */
static void test_stream_refuses_another_header(void **state)
{
	struct fixture *f = *state;
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct blob a, b;
	struct fetch_backup fb;
	struct fetch_result res;
	struct agent_error err = {0};
	struct stream *mem;

	make(&a, &fb, sql_a, strlen(sql_a), &f->key);
	make(&b, NULL, sql_b, strlen(sql_b), &f->key);
	fb.authentic = true;
	fb.m.has_header = true;
	memcpy(fb.m.header, a.data, CRYPTO_HEADER_LEN);
	fb.etag = strdup("e1");
	assert_non_null(fb.etag);
	f->script = (struct script){.etag = "e1", .objects = {&b}};
	start(f);
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(fetch_run(&res, f->client, &fb, &f->key, mem, &err),
			 AGENT_ECORRUPT);
	assert_non_null(strstr(err.msg, "another file was put in its place"));
	assert_int_equal(sink_len(mem), 0);
	stream_free(mem);
	free(fb.key);
	free(fb.etag);
	stop(f);
	free(a.data);
	free(b.data);
}

/* A server that ignores If-Match but names what it sends. */
static void test_other_etag_refused_before_the_sink(void **state)
{
	struct fixture *f = *state;
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct blob a, b;
	struct fetch_backup fb;
	struct fetch_pin pin;
	struct fetch_result res;
	struct agent_error err = {0};
	struct stream *mem;

	make(&a, &fb, sql_a, strlen(sql_a), NULL);
	make(&b, NULL, sql_b, strlen(sql_b), NULL);
	f->script = (struct script){
		.etag = "e1", .second_etag = "e2", .objects = {&a, &b}};
	start(f);
	fetch_pin_init(&pin);
	assert_int_equal(fetch_check(&pin, &res, f->client, &fb, NULL, &err),
			 AGENT_OK);
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(
		fetch_load(&res, f->client, &fb, NULL, &pin, mem, &err),
		AGENT_ECORRUPT);
	assert_non_null(strstr(err.msg, "the backup changed after it was "
					"checked"));
	assert_non_null(strstr(err.msg, "ETag e2, not \"e1\""));
	assert_int_equal(sink_len(mem), 0);
	stream_free(mem);
	fetch_pin_dispose(&pin);
	free(fb.key);
	stop(f);
	free(a.data);
	free(b.data);
}

static void test_412_is_a_changed_backup(void **state)
{
	struct fixture *f = *state;
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct blob a;
	struct fetch_backup fb;
	struct fetch_pin pin;
	struct fetch_result res;
	struct agent_error err = {0};
	struct stream *mem;

	make(&a, &fb, sql_a, strlen(sql_a), NULL);
	f->script = (struct script){
		.etag = "e1", .objects = {&a, &a}, .honour_if_match = true};
	start(f);
	fetch_pin_init(&pin);
	assert_int_equal(fetch_check(&pin, &res, f->client, &fb, NULL, &err),
			 AGENT_OK);
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(
		fetch_load(&res, f->client, &fb, NULL, &pin, mem, &err),
		AGENT_ECORRUPT);
	assert_non_null(strstr(err.msg, "the backup changed after it was "
					"checked (another object under its "
					"key)"));
	assert_non_null(strstr(err.msg, "412"));
	assert_int_equal(sink_len(mem), 0);
	/* Not retried. */
	assert_int_equal(fake_server_count(f->server), 3);
	stream_free(mem);
	fetch_pin_dispose(&pin);
	free(fb.key);
	stop(f);
	free(a.data);
}

static void test_no_etag_loads_the_private_copy(void **state)
{
	struct fixture *f = *state;
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct blob a, b;
	struct fetch_backup fb;
	struct fetch_pin pin;
	struct fetch_result res;
	struct agent_error err = {0};
	struct stream *mem;
	const void *got;
	size_t len;
	char v[64];

	make(&a, &fb, sql_a, strlen(sql_a), NULL);
	make(&b, NULL, sql_b, strlen(sql_b), NULL);
	f->script = (struct script){.etag = NULL, .objects = {&a, &b}};
	start(f);
	fetch_pin_init(&pin);
	assert_int_equal(fetch_check(&pin, &res, f->client, &fb, NULL, &err),
			 AGENT_OK);
	assert_null(pin.etag);
	assert_true(pin.copy_fd >= 0);
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(
		fetch_load(&res, f->client, &fb, NULL, &pin, mem, &err),
		AGENT_OK);
	got = stage_memory_data(mem, &len);
	assert_int_equal(len, strlen(sql_a));
	assert_memory_equal(got, sql_a, len);
	assert_int_equal(res.plain_bytes, strlen(sql_a));
	/* HEAD and one GET, without If-Match: the server was not asked
	 * again. */
	assert_int_equal(fake_server_count(f->server), 2);
	assert_null(fake_header(fake_server_request(f->server, 1), "if-match",
				v, sizeof(v)));
	stream_free(mem);
	fetch_pin_dispose(&pin);
	free(fb.key);
	stop(f);
	free(a.data);
	free(b.data);
}

/* No ETag and nowhere to keep the copy (TMPDIR names no directory): the
 * check fails and says where, before a byte is read; nothing to load. */
static void test_no_etag_and_no_room_for_the_copy(void **state)
{
	struct fixture *f = *state;
	struct blob a;
	struct fetch_backup fb;
	struct fetch_pin pin;
	struct fetch_result res;
	struct agent_error err = {0};
	char *saved = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;

	make(&a, &fb, sql_a, strlen(sql_a), NULL);
	f->script = (struct script){.etag = NULL, .objects = {&a}};
	start(f);
	fetch_pin_init(&pin);
	assert_int_equal(setenv("TMPDIR", "/nonexistent-offsite-dir", 1), 0);
	assert_int_equal(fetch_check(&pin, &res, f->client, &fb, NULL, &err),
			 AGENT_EIO);
	if (saved != NULL)
		assert_int_equal(setenv("TMPDIR", saved, 1), 0);
	else
		assert_int_equal(unsetenv("TMPDIR"), 0);
	free(saved);
	assert_non_null(strstr(err.msg, "cannot keep a copy of the backup in "
					"/nonexistent-offsite-dir: "));
	assert_false(pin.checked);
	assert_true(pin.copy_fd < 0);
	/* The HEAD only: no GET without a place for what it reads. */
	assert_int_equal(fake_server_count(f->server), 1);
	memset(&err, 0, sizeof(err));
	assert_int_equal(
		fetch_load(&res, f->client, &fb, NULL, &pin, NULL, &err),
		AGENT_EIO);
	assert_string_equal(err.msg, "a load pass without its check pass");
	fetch_pin_dispose(&pin);
	free(fb.key);
	stop(f);
	free(a.data);
}

static void test_no_plain_byte_past_the_manifest(void **state)
{
	struct fixture *f = *state;
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	size_t n = 32u * 1024 * 1024;
	char *zeros = calloc(1, n);
	struct blob a;
	struct fetch_backup fb;
	struct fetch_result res;
	struct agent_error err = {0};
	struct stream *mem;

	assert_non_null(zeros);
	make(&a, &fb, zeros, n, NULL);
	assert_true(a.len < 200000);
	fb.m.plain_bytes = 1000; /* what the manifest claims */
	f->script = (struct script){.etag = "e1", .objects = {&a}};
	start(f);
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(fetch_run(&res, f->client, &fb, NULL, mem, &err),
			 AGENT_ECORRUPT);
	assert_string_equal(err.msg, "the plain dump is larger than its "
				     "manifest says (1000 bytes)");
	assert_true(sink_len(mem) <= 1000);
	stream_free(mem);
	free(fb.key);
	stop(f);
	free(a.data);
	free(zeros);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_other_encrypted_object_refused_by_its_header,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_stream_refuses_another_header, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_other_etag_refused_before_the_sink, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_412_is_a_changed_backup,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_no_etag_loads_the_private_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_no_etag_and_no_room_for_the_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_no_plain_byte_past_the_manifest, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
