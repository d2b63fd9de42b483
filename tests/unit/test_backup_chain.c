/*
 * backup_run (agent/pipe/backup.h) alone: a stdin source through the
 * whole chain, into nothing (a dry run) or into a scripted fake S3. The
 * result's figures are checked against the bytes themselves: the plain
 * digest against the input, the stored size and digest against the body
 * the server received, and an encrypted run's header and manifest MAC
 * against manifest_check() under the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/ops/manifest.h"
#include "agent/pipe/backup.h"
#include "tests/support/fake_server.h"

#define DATA_SIZE (300u * 1024)
#define KEY	  "p/manual/app/app-manual-20260101T000000Z.sql.gz"

struct fake_s3 {
	char endpoint[64];
	bool fail_put; /* 500 for every PutObject */
};

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	struct fake_s3 *f = ctx;
	static const char err[] = "<Error><Code>InternalError</Code></Error>";

	if (strcmp(req->method, "PUT") == 0 && f->fail_put) {
		fake_reply(conn, 500, NULL, err, strlen(err));
		return;
	}
	if (strcmp(req->method, "DELETE") == 0) {
		fake_reply(conn, 204, NULL, "", 0);
		return;
	}
	fake_reply(conn, 200, "ETag: \"single\"\r\n", "", 0);
}

static int client_new(s3_client **out, void *ctx, bool (*cancelled)(void *),
		      void *cancelled_ctx, s3_error *err)
{
	struct fake_s3 *f = ctx;
	s3_options o;

	fake_s3_options(&o, f->endpoint);
	o.max_attempts = 2;
	o.cancelled = cancelled;
	o.cancelled_ctx = cancelled_ctx;
	return s3_client_new(out, &o, err);
}

struct fixture {
	conf *c;
	unsigned char *data;
	char path[64];
	int fd; /* the source's standard input: the data */
	struct fake_s3 fs;
	struct fake_server *srv;
};

static void sha256_hex(char out[65], const void *data, size_t len)
{
	unsigned char md[32];
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, 32);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	conf_error cerr;
	uint32_t x = 12345;
	int fd;

	assert_non_null(f);
	assert_int_equal(conf_parse(&f->c, "t.ini",
				    "[storage]\nbucket = bkt\n"
				    "[database]\ndriver = stdin\n",
				    &cerr),
			 CONF_OK);
	/* Half text, half noise: gzip shrinks it, but not to nothing. */
	f->data = malloc(DATA_SIZE);
	assert_non_null(f->data);
	for (size_t i = 0; i < DATA_SIZE; i++) {
		x = x * 1103515245u + 12345u;
		f->data[i] = i % 2 ? (unsigned char)(x >> 24)
				   : (unsigned char)("INSERT 0 1;\n"[i % 12]);
	}
	snprintf(f->path, sizeof(f->path), "/tmp/test_backup_chain.XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, f->data, DATA_SIZE), (ssize_t)DATA_SIZE);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	f->fd = fd;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fake_server_stop(f->srv);
	close(f->fd);
	unlink(f->path);
	free(f->data);
	conf_free(f->c);
	free(f);
	return 0;
}

/* Run the chain over the data as O says (its since and c set here, its
 * key when not); the source is opened and closed around it. */
static int run(struct fixture *f, struct backup_options *o,
	       struct backup_result *res, struct agent_error *err)
{
	struct source_options so = SOURCE_OPTIONS_INIT;
	struct source *src = NULL;
	int rc;

	if (!o->dry_run) {
		int port;
		assert_int_equal(
			fake_server_start(&f->srv, &port, handler, &f->fs), 0);
		snprintf(f->fs.endpoint, sizeof(f->fs.endpoint),
			 "http://127.0.0.1:%d", port);
		o->client_new = client_new;
		o->client_ctx = &f->fs;
	}
	o->c = f->c;
	if (o->key == NULL)
		o->key = KEY;
	o->type = "manual";
	o->database = "app";
	o->host = "testhost";
	clock_gettime(CLOCK_MONOTONIC, &o->since);
	so.use_stdin = true;
	so.database = "app";
	so.stdin_fd = f->fd;
	memset(err, 0, sizeof(*err));
	assert_int_equal(source_open(&src, f->c, &so, err), AGENT_OK);
	rc = backup_run(res, src, o, err);
	source_close(src);
	return rc;
}

/* The one PutObject of the backup (none: NULL). */
static const struct fake_request *object_put(struct fixture *f)
{
	const struct fake_request *put = NULL;

	for (unsigned i = 0; i < fake_server_count(f->srv); i++) {
		const struct fake_request *q = fake_server_request(f->srv, i);
		if (strcmp(q->method, "PUT") == 0) {
			assert_null(put);
			put = q;
		}
	}
	return put;
}

static void test_dry_run(void **state)
{
	struct fixture *f = *state;
	struct backup_options o = {.dry_run = true};
	struct backup_result res;
	struct agent_error err;
	char want[65];

	assert_int_equal(run(f, &o, &res, &err), AGENT_OK);
	assert_int_equal(err.code, AGENT_OK);
	sha256_hex(want, f->data, DATA_SIZE);
	assert_int_equal(res.plain_bytes, DATA_SIZE);
	assert_string_equal(res.plain_sha256, want);
	assert_true(res.stored_bytes > 0 && res.stored_bytes < DATA_SIZE);
	assert_int_equal(strlen(res.stored_sha256), 64);
	assert_string_not_equal(res.stored_sha256, res.plain_sha256);
	assert_int_equal(res.parts, 0);
	assert_non_null(res.compression_engine);
	assert_true(res.seconds >= 0);
	assert_false(res.encrypted);
	assert_false(res.stored); /* nothing was */
}

static void test_plain_put(void **state)
{
	struct fixture *f = *state;
	struct backup_options o = {0};
	struct backup_result res;
	struct agent_error err;
	const struct fake_request *put;
	char got[65], meta[64];

	assert_int_equal(run(f, &o, &res, &err), AGENT_OK);
	assert_true(res.stored);
	assert_false(res.encrypted);
	put = object_put(f);
	assert_non_null(put);
	assert_non_null(strstr(put->target, KEY));
	/* The stored figures are the bytes the server received. */
	assert_int_equal(put->body_len, res.stored_bytes);
	sha256_hex(got, put->body, put->body_len);
	assert_string_equal(got, res.stored_sha256);
	assert_non_null(
		fake_header(put, "x-amz-meta-encryption", meta, sizeof(meta)));
	assert_string_equal(meta, "none");
	assert_non_null(fake_header(put, "content-type", meta, sizeof(meta)));
	assert_string_equal(meta, "application/gzip");
}

static void test_encrypted_put_signed(void **state)
{
	struct fixture *f = *state;
	struct crypto_key key;
	struct agent_error kerr = {0};
	uint8_t raw[CRYPTO_KEY_LEN];
	struct backup_options o = {0};
	struct backup_result res;
	struct agent_error err, merr = {0};
	struct manifest m = {0};
	const struct fake_request *put;
	char got[65], id[CRYPTO_KEY_ID_HEX_SIZE], meta[64];
	bool authentic = false;

	memset(raw, 7, sizeof(raw));
	assert_int_equal(crypto_key_from_bytes(&key, raw, &kerr), AGENT_OK);
	o.crypto_key = &key;
	o.key = KEY ".enc";
	assert_int_equal(run(f, &o, &res, &err), AGENT_OK);
	assert_true(res.stored);
	assert_true(res.encrypted);
	crypto_key_id_hex(id, key.id);
	assert_string_equal(res.key_id, id);

	put = object_put(f);
	assert_non_null(put);
	assert_int_equal(put->body_len, res.stored_bytes);
	sha256_hex(got, put->body, put->body_len);
	assert_string_equal(got, res.stored_sha256);
	assert_true(put->body_len > CRYPTO_HEADER_LEN);
	assert_memory_equal(put->body, res.header, CRYPTO_HEADER_LEN);
	assert_non_null(
		fake_header(put, "x-amz-meta-encryption", meta, sizeof(meta)));
	assert_string_equal(meta, "aes-256-gcm");

	/* A manifest made of the result passes the reader's check. */
	m.key = KEY ".enc";
	m.plain_bytes = res.plain_bytes;
	memcpy(m.plain_sha256, res.plain_sha256, 65);
	m.stored_bytes = res.stored_bytes;
	memcpy(m.stored_sha256, res.stored_sha256, 65);
	m.encrypted = true;
	memcpy(m.key_id, res.key_id, sizeof(m.key_id));
	memcpy(m.header, res.header, CRYPTO_HEADER_LEN);
	m.has_header = true;
	memcpy(m.mac, res.mac, CRYPTO_MAC_LEN);
	m.has_mac = true;
	m.format = "raw";
	assert_int_equal(
		manifest_check(&m, KEY ".enc", &key, &authentic, &merr),
		AGENT_OK);
	assert_true(authentic);
	/* And one that claims another size does not. */
	m.plain_bytes++;
	assert_int_equal(manifest_check(&m, KEY ".enc", &key, NULL, &merr),
			 AGENT_EAUTH);
	crypto_key_dispose(&key);
}

static void test_upload_fails(void **state)
{
	struct fixture *f = *state;
	struct backup_options o = {0};
	struct backup_result res;
	struct agent_error err;

	f->fs.fail_put = true;
	assert_int_equal(run(f, &o, &res, &err), AGENT_EIO);
	assert_int_equal(err.code, AGENT_EIO);
	assert_non_null(strstr(err.msg, "InternalError"));
	assert_false(res.stored);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_put, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_encrypted_put_signed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_upload_fails, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
