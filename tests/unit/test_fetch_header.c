/*
 * fetch_open of an encrypted backup whose manifest authenticates under
 * the configured key: the object's first bytes must then be the header
 * the manifest covers (one ranged GET), or the backup is refused before
 * a byte of it is decrypted: another encrypted file in its place, an
 * empty object, one that is gone, one that cannot be read. And the
 * passes that cannot start: an encrypted backup without a key, a load
 * pass without its check pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "agent/ops/log.h"
#include "agent/pipe/fetch.h"
#include "agent/pipe/stages.h"
#include "agent/pipe/stages_internal.h"
#include "retention/retention.h"
#include "tests/support/fake_server.h"

#define KEY	  "daily/app/app-daily-20250101T000000Z.sql.gz.enc"
#define PLAIN_KEY "daily/app/app-daily-20250102T000000Z.sql.gz"

/* The bucket: the object (DATA, or STATUS instead) and its manifest. */
struct bucket {
	unsigned char *data;
	size_t len;
	int status; /* 0: 200 with DATA */
	char *manifest;
	char range[64]; /* the last GET's Range header */
};

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	static const char missing[] =
		"<Error><Code>NoSuchKey</Code><Message>The specified key does "
		"not exist.</Message></Error>";
	static const char denied[] = "<Error><Code>AccessDenied</Code>"
				     "<Message>Access Denied</Message></Error>";
	struct bucket *b = ctx;
	size_t n;

	if (strcmp(req->target, "/bkt/" KEY ".manifest") == 0) {
		fake_reply(conn, 200, NULL, b->manifest, strlen(b->manifest));
		return;
	}
	if ((strcmp(req->target, "/bkt/" KEY) != 0 &&
	     strcmp(req->target, "/bkt/" PLAIN_KEY) != 0) ||
	    b->status == 404) {
		fake_reply(conn, 404, NULL, missing, strlen(missing));
		return;
	}
	if (b->status == 403) {
		fake_reply(conn, 403, NULL, denied, strlen(denied));
		return;
	}
	if (!fake_header(req, "range", b->range, sizeof(b->range)))
		b->range[0] = '\0';
	/* A ranged GET gets the header's bytes, as S3 would answer. */
	n = b->range[0] && b->len > CRYPTO_HEADER_LEN ? CRYPTO_HEADER_LEN
						      : b->len;
	fake_reply(conn, b->range[0] && n ? 206 : 200, "ETag: \"obj1\"\r\n",
		   b->data, n);
}

struct fixture {
	struct bucket b;
	struct fake_server *server;
	s3_client *client;
	struct trust t;
};

static void sha_hex(char out[65], const void *data, size_t len)
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data, len, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* PLAIN gzipped and encrypted under KEY_, into DATA/LEN; M gets what a
 * backup's manifest says, its header and its MAC. */
static void encrypt_backup(unsigned char **data, size_t *len,
			   struct manifest *m, const struct crypto_key *key,
			   const char *plain)
{
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct gzip_options go = GZIP_OPTIONS_INIT;
	struct encrypt_options eo = ENCRYPT_OPTIONS_INIT;
	struct stream *mem, *enc, *gz;
	struct agent_error err = {0};
	uint8_t id[CRYPTO_KEY_ID_LEN], *mac_in = NULL;
	const void *out;
	size_t mac_len;

	go.threads = 1;
	eo.key = key;
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(stage_encrypt_new(&enc, mem, &err, &eo), AGENT_OK);
	assert_int_equal(stage_gzip_new(&gz, enc, &err, &go), AGENT_OK);
	assert_int_equal(stream_write(gz, plain, strlen(plain)), AGENT_OK);
	assert_int_equal(stream_finish(gz), AGENT_OK);
	out = stage_memory_data(mem, len);
	*data = malloc(*len);
	assert_non_null(*data);
	memcpy(*data, out, *len);

	memset(m, 0, sizeof(*m));
	m->key = KEY;
	m->type = "daily";
	m->database = "app";
	m->host = "db1";
	m->started = 1735689600;
	m->duration = 1;
	m->plain_bytes = strlen(plain);
	sha_hex(m->plain_sha256, plain, strlen(plain));
	m->stored_bytes = *len;
	sha_hex(m->stored_sha256, *data, *len);
	m->compression_engine = "zlib";
	m->compression_level = 2;
	m->driver = "command";
	m->tool = "";
	m->format = "raw";
	m->encrypted = true;
	stage_encrypt_key_id(enc, id);
	crypto_key_id_hex(m->key_id, id);
	m->has_header = true;
	stage_encrypt_header(enc, m->header);
	assert_int_equal(manifest_mac_input(&mac_in, &mac_len, m), 0);
	assert_int_equal(
		stage_encrypt_manifest_mac(enc, mac_in, mac_len, m->mac, &err),
		AGENT_OK);
	m->has_mac = true;
	free(mac_in);
	stream_free_chain(gz);
}

static const char plain[] = "the rows of the app database\n";

static int setup(void **state)
{
	static const uint8_t k[CRYPTO_KEY_LEN] = {0x42, 0x17};
	s3_options o;
	struct fixture *f = calloc(1, sizeof(*f));
	struct agent_error kerr = {0};
	struct manifest m;
	char endpoint[64];
	s3_error err;
	int port;

	if (f == NULL)
		return -1;
	log_setup(LOG_ERROR, LOG_FORMAT_TEXT, NULL);
	if (crypto_key_from_bytes(&f->t.key, k, &kerr) != AGENT_OK)
		return -1;
	f->t.have_key = true;
	f->t.encrypted_only = true;
	f->t.future_tolerance = RETENTION_FUTURE_TOLERANCE;
	encrypt_backup(&f->b.data, &f->b.len, &m, &f->t.key, plain);
	if (manifest_format(&f->b.manifest, &m) != 0)
		return -1;
	if (fake_server_start(&f->server, &port, handler, &f->b) != 0)
		return -1;
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
	fake_s3_options(&o, endpoint);
	o.max_attempts = 1;
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
	crypto_key_dispose(&f->t.key);
	free(f->b.data);
	free(f->b.manifest);
	free(f);
	return 0;
}

static void want_error(const struct agent_error *err, int code,
		       const char *want)
{
	if (err->code != code || strstr(err->msg, want) == NULL)
		fail_msg("got %d \"%s\"\nwant %d \"...%s...\"", err->code,
			 err->msg, code, want);
}

static void test_header_is_the_objects(void **state)
{
	struct fixture *f = *state;
	struct fetch_backup b = {0};
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct agent_error err = {0};
	struct fetch_result res;
	struct stream *mem = NULL;
	const void *out;
	size_t len;

	assert_int_equal(fetch_open(&b, f->client, KEY, &f->t, &err), AGENT_OK);
	assert_true(b.authentic);
	assert_true(b.encrypted);
	/* The object's ETag, from the ranged GET of its header. */
	assert_string_equal(b.etag, "obj1");
	assert_string_equal(f->b.range, "bytes=0-88");

	/* And it reads back, whole. */
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(fetch_run(&res, f->client, &b, &f->t.key, mem, &err),
			 AGENT_OK);
	out = stage_memory_data(mem, &len);
	assert_int_equal(len, strlen(plain));
	assert_memory_equal(out, plain, len);
	assert_int_equal(res.plain_bytes, strlen(plain));
	stream_free(mem);

	/* Without a key, nothing is read. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(fetch_run(&res, f->client, &b, NULL, mem, &err),
			 AGENT_EIO);
	want_error(&err, AGENT_EIO,
		   "the backup is encrypted and no key is "
		   "configured");
	stream_free(mem);
	fetch_backup_dispose(&b);
}

static void test_another_file_in_its_place(void **state)
{
	struct fixture *f = *state;
	struct fetch_backup b = {0};
	struct agent_error err = {0};
	struct manifest other;

	/* Another file under the same key: encrypted under the same key,
	 * so only its header (its file salt) gives it away. */
	free(f->b.data);
	encrypt_backup(&f->b.data, &f->b.len, &other, &f->t.key, plain);
	assert_int_equal(fetch_open(&b, f->client, KEY, &f->t, &err),
			 AGENT_EAUTH);
	want_error(&err, AGENT_EAUTH,
		   "the object's header is not the one its manifest covers");
	fetch_backup_dispose(&b);

	/* A file shorter than a header. */
	memset(&err, 0, sizeof(err));
	f->b.len = 10;
	assert_int_equal(fetch_open(&b, f->client, KEY, &f->t, &err),
			 AGENT_EAUTH);
	fetch_backup_dispose(&b);
}

static void test_empty_gone_or_unreadable(void **state)
{
	struct fixture *f = *state;
	struct fetch_backup b = {0};
	struct agent_error err = {0};

	f->b.len = 0;
	assert_int_equal(fetch_open(&b, f->client, KEY, &f->t, &err),
			 AGENT_ETRUNC);
	want_error(&err, AGENT_ETRUNC, "the backup object is empty");
	fetch_backup_dispose(&b);

	memset(&err, 0, sizeof(err));
	f->b.status = 404;
	assert_int_equal(fetch_open(&b, f->client, KEY, &f->t, &err),
			 AGENT_ECORRUPT);
	want_error(&err, AGENT_ECORRUPT, "the backup object is gone");
	fetch_backup_dispose(&b);

	memset(&err, 0, sizeof(err));
	f->b.status = 403;
	assert_int_equal(fetch_open(&b, f->client, KEY, &f->t, &err),
			 AGENT_EIO);
	want_error(&err, AGENT_EIO, "cannot read the backup's header: ");
	assert_non_null(strstr(err.msg, "AccessDenied"));
	fetch_backup_dispose(&b);
}

static void test_load_without_check(void **state)
{
	struct fixture *f = *state;
	struct fetch_backup b = {0};
	struct agent_error err = {0};
	struct fetch_result res;
	struct fetch_pin pin;
	struct stream *null = NULL;

	assert_int_equal(fetch_open(&b, f->client, KEY, &f->t, &err), AGENT_OK);
	fetch_pin_init(&pin);
	assert_int_equal(stage_null_new(&null, &err), AGENT_OK);
	assert_int_equal(
		fetch_load(&res, f->client, &b, &f->t.key, &pin, null, &err),
		AGENT_EIO);
	want_error(&err, AGENT_EIO, "a load pass without its check pass");
	stream_free(null);
	fetch_pin_dispose(&pin);
	fetch_backup_dispose(&b);
}

/* ---- plain dumps: the end-of-dump marker, and sizes ---- */

/* TEXT gzipped into the bucket as PLAIN_KEY, and B describing it (format
 * FORMAT), then TWEAK applied to its manifest. */
static char plain_key[] = PLAIN_KEY;

static void plain_backup(struct fixture *f, struct fetch_backup *b,
			 const char *text, size_t len, const char *format,
			 void (*tweak)(struct manifest *m))
{
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct gzip_options go = GZIP_OPTIONS_INIT;
	struct agent_error err = {0};
	struct stream *mem, *gz;
	const void *out;

	go.threads = 1;
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(stage_gzip_new(&gz, mem, &err, &go), AGENT_OK);
	assert_int_equal(stream_write(gz, text, len), AGENT_OK);
	assert_int_equal(stream_finish(gz), AGENT_OK);
	out = stage_memory_data(mem, &f->b.len);
	free(f->b.data);
	f->b.data = malloc(f->b.len);
	assert_non_null(f->b.data);
	memcpy(f->b.data, out, f->b.len);
	stream_free_chain(gz);

	memset(b, 0, sizeof(*b));
	b->key = plain_key; /* B is not disposed: nothing in it is its own */
	b->m.key = PLAIN_KEY;
	b->m.plain_bytes = len;
	sha_hex(b->m.plain_sha256, text, len);
	b->m.stored_bytes = f->b.len;
	sha_hex(b->m.stored_sha256, f->b.data, f->b.len);
	b->m.format = format;
	if (tweak)
		tweak(&b->m);
}

static int run_plain(struct fixture *f, const char *text, size_t len,
		     const char *format, void (*tweak)(struct manifest *m),
		     struct agent_error *err)
{
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct fetch_backup b;
	struct fetch_result res;
	struct stream *mem = NULL;
	int rc;

	plain_backup(f, &b, text, len, format, tweak);
	memset(err, 0, sizeof(*err));
	assert_int_equal(stage_memory_new(&mem, err, &mo), AGENT_OK);
	rc = fetch_run(&res, f->client, &b, NULL, mem, err);
	stream_free(mem);
	return rc;
}

/* A dump of SIZE bytes of rows, then TAIL. */
static char *dump(size_t size, const char *tail, size_t *len)
{
	size_t tlen = strlen(tail);
	char *d = malloc(size + tlen);

	assert_non_null(d);
	for (size_t i = 0; i < size; i++)
		d[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
	memcpy(d + size, tail, tlen);
	*len = size + tlen;
	return d;
}

static void test_plain_dump_needs_its_marker(void **state)
{
	static const char end[] = "--\n-- PostgreSQL database dump complete\n"
				  "--\n\n";
	struct fixture *f = *state;
	struct agent_error err;
	size_t len;
	char *d;

	/* Larger than the gunzip stage's chunks: the marker is found in
	 * the last bytes however they come. */
	d = dump(200 * 1000, end, &len);
	assert_int_equal(run_plain(f, d, len, "plain", NULL, &err), AGENT_OK);
	free(d);
	d = dump(10, end, &len);
	assert_int_equal(run_plain(f, d, len, "plain", NULL, &err), AGENT_OK);
	free(d);

	/* Cut before the marker: refused, whole as it otherwise is. */
	d = dump(200 * 1000, "--\n-- PostgreSQL database dump", &len);
	assert_int_equal(run_plain(f, d, len, "plain", NULL, &err),
			 AGENT_ECORRUPT);
	want_error(&err, AGENT_ECORRUPT,
		   "the pg_dump output does not end with its end-of-dump "
		   "marker");
	/* Not a plain dump: no marker to look for. */
	assert_int_equal(run_plain(f, d, len, "custom", NULL, &err), AGENT_OK);
	free(d);

	/* A plain dump pg_dump compressed itself has no marker to see. */
	assert_int_equal(
		run_plain(f, "\x1f\x8b\x08rest", 7, "plain", NULL, &err),
		AGENT_OK);
	assert_int_equal(
		run_plain(f, "\x28\xb5\x2f\xfdzstd", 8, "plain", NULL, &err),
		AGENT_OK);
	assert_int_equal(run_plain(f, "SELECT 1;\n", 10, "plain", NULL, &err),
			 AGENT_ECORRUPT);
}

static void stored_shorter(struct manifest *m)
{
	m->stored_bytes -= 1;
}

static void plain_longer(struct manifest *m)
{
	m->plain_bytes += 1;
}

static void test_sizes_against_the_manifest(void **state)
{
	struct fixture *f = *state;
	struct agent_error err;

	assert_int_equal(run_plain(f, "rows\n", 5, "raw", stored_shorter, &err),
			 AGENT_ECORRUPT);
	want_error(&err, AGENT_ECORRUPT,
		   "the object is larger than its manifest says");
	assert_int_equal(run_plain(f, "rows\n", 5, "raw", plain_longer, &err),
			 AGENT_ECORRUPT);
	want_error(&err, AGENT_ECORRUPT,
		   "plain size is 5 bytes, the manifest says 6");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_header_is_the_objects,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_another_file_in_its_place,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_gone_or_unreadable,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_without_check, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_plain_dump_needs_its_marker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizes_against_the_manifest,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
