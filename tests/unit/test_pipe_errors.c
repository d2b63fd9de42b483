/*
 * The pipeline's error paths that a good run never takes: the stream
 * contract broken by its caller, a stage whose next one refuses bytes
 * (gzip on one thread and on several, encrypt's header), zlib's codes as
 * the stages report them, an fd sink on a full non-blocking pipe, and
 * what crypto refuses: an unusable key file or passphrase, scrypt costs
 * out of range on either side, segments of the wrong size, a MAC asked
 * of a decrypting file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "agent/pipe/crypto.h"
#include "agent/pipe/stages.h"
#include "agent/pipe/stages_internal.h"

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("'%s' not in '%s'", needle, haystack);
}

/* A stream failure: its code, and the message says SUB. */
static void assert_fails(int rc, int want, const struct agent_error *err,
			 const char *sub)
{
	assert_int_equal(rc, want);
	assert_int_equal(err->code, want);
	assert_contains(err->msg, sub);
}

/* A key failure: the code and the message. The key functions' error
 * type is named here only. */
typedef struct agent_error key_error;

static void assert_key_fails(int rc, int want, key_error *err, const char *sub)
{
	assert_int_equal(rc, want);
	assert_contains(err->msg, sub);
	memset(err, 0, sizeof(*err)); /* the first error wins: clear it */
}

/* ---- the stream contract ---- */

static void test_write_after_finish(void **state)
{
	struct agent_error err = {0};
	struct stream *s = NULL;
	size_t len = 99;

	(void)state;
	assert_int_equal(stage_null_new(&s, &err), AGENT_OK);
	assert_int_equal(stream_write(s, "ab", 2), AGENT_OK);
	assert_int_equal(stream_finish(s), AGENT_OK);
	assert_fails(stream_write(s, "c", 1), AGENT_EIO, &err,
		     ": write after finish");
	assert_fails(stream_finish(s), AGENT_EIO, &err,
		     ": write after finish"); /* the first error wins */
	/* Not a memory sink: no data. */
	assert_null(stage_memory_data(s, &len));
	assert_int_equal(len, 0);
	stream_free(s);

	memset(&err, 0, sizeof(err));
	assert_int_equal(stage_null_new(&s, &err), AGENT_OK);
	assert_int_equal(stream_finish(s), AGENT_OK);
	assert_fails(stream_finish(s), AGENT_EIO, &err, ": finished twice");
	stream_free(s);
}

/* ---- a next stage that refuses ---- */

/* gzip into a memory sink of CAP bytes: the sink's limit comes back up
 * through gzip, from write or finish, whichever emits first. */
enum refused_in { IN_WRITE, IN_FINISH, IN_EITHER };

static void gzip_into_small_sink(unsigned threads, size_t block, size_t input,
				 enum refused_in where)
{
	struct memory_options mo = {.cap = 8};
	struct gzip_options go = GZIP_OPTIONS_INIT;
	struct agent_error err = {0};
	struct stream *mem = NULL, *gz = NULL;
	unsigned char *data = malloc(input);
	size_t i;
	int rc;

	assert_non_null(data);
	for (i = 0; i < input; i++)
		data[i] = (unsigned char)(i * 7 + i / 13);
	go.threads = threads;
	go.block_size = block;
	go.engine = GZIP_ENGINE_ZLIB;
	go.level = 1;
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(stage_gzip_new(&gz, mem, &err, &go), AGENT_OK);
	rc = stream_write(gz, data, input);
	if (where == IN_WRITE)
		assert_int_equal(rc, AGENT_ELIMIT);
	else if (where == IN_FINISH)
		assert_int_equal(rc, AGENT_OK);
	if (rc == AGENT_OK)
		rc = stream_finish(gz);
	assert_int_equal(rc, AGENT_ELIMIT);
	assert_int_equal(err.code, AGENT_ELIMIT);
	stream_free_chain(gz);
	free(data);
}

static void test_gzip_next_refuses(void **state)
{
	(void)state;
	/* One thread: the first whole block is compressed and emitted in
	 * write; a partial one only in finish. */
	gzip_into_small_sink(1, 1024, 4096, IN_WRITE);
	gzip_into_small_sink(1, 1024, 100, IN_FINISH);
	/* Two threads: write waits for the oldest block once every slot is
	 * in flight; finish emits the rest. Four blocks may or may not fill
	 * every slot before the first is done: either call may see it. */
	gzip_into_small_sink(2, 64, 64 * 1024, IN_WRITE);
	gzip_into_small_sink(2, 1024, 100, IN_FINISH);
	gzip_into_small_sink(2, 1024, 4 * 1024, IN_EITHER);
}

static void test_encrypt_next_refuses(void **state)
{
	static const uint8_t k[CRYPTO_KEY_LEN] = {1, 2, 3};
	struct encrypt_options eo = ENCRYPT_OPTIONS_INIT;
	struct memory_options mo = {.cap = 10};
	struct agent_error err = {0};
	struct stream *mem = NULL, *enc = NULL;
	struct crypto_key key;
	key_error kerr = {0};

	(void)state;
	memset(&key, 0, sizeof(key));
	assert_int_equal(crypto_key_from_bytes(&key, k, &kerr), AGENT_OK);
	eo.key = &key;
	assert_int_equal(stage_memory_new(&mem, &err, &mo), AGENT_OK);
	assert_int_equal(stage_encrypt_new(&enc, mem, &err, &eo), AGENT_OK);
	/* The header alone is past the sink's 10 bytes. */
	assert_fails(stream_write(enc, "x", 1), AGENT_ELIMIT, &err, "");
	stream_free_chain(enc);
	crypto_key_dispose(&key);
}

/* ---- zlib's codes, as every zlib stage reports them ---- */

static void test_zlib_codes(void **state)
{
	static const struct {
		int z;
		int code;
		const char *msg;
	} cases[] = {
		{Z_MEM_ERROR, AGENT_ENOMEM, "gunzip: out of memory"},
		{Z_DATA_ERROR, AGENT_ECORRUPT, "gunzip is corrupt: bad bits"},
		{Z_NEED_DICT, AGENT_ECORRUPT,
		 "gunzip needs a preset dictionary"},
		{Z_BUF_ERROR, AGENT_EIO, "gunzip: no room to progress"},
		{Z_STREAM_ERROR, AGENT_EIO, "gunzip: bad stream state"},
		{Z_VERSION_ERROR, AGENT_EIO, "gunzip: zlib version "},
		{Z_ERRNO, AGENT_EIO, "gunzip: zlib error -1 (bad bits)"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_error err = {0};

		assert_fails(
			stage_zlib_fail(&err, cases[i].z, "bad bits", "gunzip"),
			cases[i].code, &err, cases[i].msg);
	}
	{
		struct agent_error err = {0};

		assert_fails(stage_zlib_fail(&err, 42, NULL, "gzip"), AGENT_EIO,
			     &err, "gzip: zlib error 42 (no detail)");
	}
}

/* ---- an fd sink on a non-blocking pipe that fills ---- */

struct drain {
	int fd;
	size_t got;
	unsigned char sum;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	unsigned char buf[4096];
	ssize_t n;

	while ((n = read(d->fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			d->sum = (unsigned char)(d->sum + buf[i]);
		d->got += (size_t)n;
	}
	return NULL;
}

static void test_fd_sink_waits_for_room(void **state)
{
	enum { TOTAL = 1024 * 1024 };
	struct fd_options fo = FD_OPTIONS_INIT;
	struct agent_error err = {0};
	struct stream *s = NULL;
	struct drain d = {0};
	unsigned char *data = malloc(TOTAL), sum = 0;
	pthread_t t;
	int p[2];
	size_t i;

	(void)state;
	assert_non_null(data);
	for (i = 0; i < TOTAL; i++) {
		data[i] = (unsigned char)(i % 251);
		sum = (unsigned char)(sum + data[i]);
	}
	assert_int_equal(pipe(p), 0);
	/* A small pipe, non-blocking: the writer meets EAGAIN. */
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	d.fd = p[0];
	assert_int_equal(pthread_create(&t, NULL, drain_main, &d), 0);
	fo.fd = p[1];
	fo.name = "the pipe";
	assert_int_equal(stage_fd_new(&s, &err, &fo), AGENT_OK);
	assert_int_equal(stream_write(s, data, TOTAL), AGENT_OK);
	assert_int_equal(stream_finish(s), AGENT_OK);
	stream_free(s);
	close(p[1]);
	pthread_join(t, NULL);
	close(p[0]);
	assert_int_equal(d.got, TOTAL);
	assert_int_equal(d.sum, sum);
	free(data);
}

/* ---- crypto: keys ---- */

static char dir[256];

static int make_dir(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/pipe-errors-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/key", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_key_file_not_hex(void **state)
{
	struct crypto_key key;
	key_error err = {0};
	char path[512];

	(void)state;
	memset(&key, 0, sizeof(key));
	snprintf(path, sizeof(path), "%s/key", dir);
	/* 64 characters, one of them not a hex digit. */
	write_file(path,
		   "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789"
		   "abcdeg\n",
		   0600);
	assert_key_fails(crypto_key_load_file(&key, path, &err), AGENT_EKEY,
			 &err, "must hold 64 hex digits");
	write_file(path,
		   "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789"
		   "abcdef\r\n",
		   0600);
	assert_int_equal(crypto_key_load_file(&key, path, &err), AGENT_OK);
	assert_int_equal(key.source, CRYPTO_SOURCE_KEY);
	assert_int_equal(key.key[5], 0xab);
	assert_int_equal(key.key[14], 0xcd); /* from upper case */
	assert_int_equal(key.key[31], 0xef);
	crypto_key_dispose(&key);
}

static void test_passphrase_length(void **state)
{
	static const struct crypto_scrypt cheap = {4, 8, 1};
	static const struct crypto_scrypt zero = {0, 8, 1};
	static char longer[CRYPTO_PASSPHRASE_MAX + 1];
	struct crypto_key key;
	key_error err = {0};

	(void)state;
	memset(&key, 0, sizeof(key));
	memset(longer, 'p', sizeof(longer));
	assert_key_fails(crypto_key_from_passphrase(&key, "", 0, &cheap, &err),
			 AGENT_EKEY, &err,
			 "a passphrase must be 1 to 1024 bytes long");
	assert_key_fails(crypto_key_from_passphrase(
				 &key, longer, sizeof(longer), &cheap, &err),
			 AGENT_EKEY, &err, "1 to 1024 bytes");
	assert_key_fails(crypto_key_from_passphrase(&key, "pw", 2, &zero, &err),
			 AGENT_EKEY, &err, "each must be at least 1");
	assert_int_equal(crypto_key_from_passphrase(&key, longer,
						    CRYPTO_PASSPHRASE_MAX,
						    &cheap, &err),
			 AGENT_OK);
	assert_int_equal(key.passphrase_len, CRYPTO_PASSPHRASE_MAX);
	crypto_key_dispose(&key);
}

/* ---- crypto: files ---- */

static void key_file_key(struct crypto_key *key)
{
	static const uint8_t k[CRYPTO_KEY_LEN] = {9, 8, 7};
	key_error err = {0};

	memset(key, 0, sizeof(*key));
	assert_int_equal(crypto_key_from_bytes(key, k, &err), AGENT_OK);
}

/* A passphrase key whose scrypt cost was spoilt after it was made: the
 * encrypting side refuses it rather than write such a header. */
static void test_encrypt_with_bad_scrypt_cost(void **state)
{
	static const struct crypto_scrypt cheap = {4, 8, 1};
	uint8_t header[CRYPTO_HEADER_LEN];
	struct agent_error err = {0};
	struct crypto_file *f = NULL;
	struct crypto_key key;
	key_error kerr = {0};

	(void)state;
	memset(&key, 0, sizeof(key));
	assert_int_equal(
		crypto_key_from_passphrase(&key, "pw", 2, &cheap, &kerr),
		AGENT_OK);
	key.scrypt.r = 0;
	assert_fails(
		crypto_file_new_encrypt(&f, header, &key, 16, NULL, NULL, &err),
		AGENT_EIO, &err, "encrypt: scrypt cost");
	assert_null(f);
	crypto_key_dispose(&key);
}

/* A header from elsewhere (not through the parser) with a cost out of
 * range: refused before scrypt runs. */
static void test_decrypt_header_with_bad_scrypt_cost(void **state)
{
	static const struct crypto_scrypt cheap = {4, 8, 1};
	uint8_t raw[CRYPTO_HEADER_LEN] = {0};
	struct agent_error err = {0};
	struct crypto_header h;
	struct crypto_file *f = NULL;
	struct crypto_key key;
	key_error kerr = {0};

	(void)state;
	memset(&key, 0, sizeof(key));
	memset(&h, 0, sizeof(h));
	assert_int_equal(
		crypto_key_from_passphrase(&key, "pw", 2, &cheap, &kerr),
		AGENT_OK);
	h.version = CRYPTO_VERSION;
	h.source = CRYPTO_SOURCE_PASSPHRASE;
	h.scrypt = (struct crypto_scrypt){40, 8, 1};
	h.segment_size = 16;
	assert_fails(crypto_file_new_decrypt(&f, &h, raw, &key, &err),
		     AGENT_EFORMAT, &err, "corrupt header: scrypt cost N=2^40");
	assert_null(f);
	crypto_key_dispose(&key);
}

static void test_segments_of_the_wrong_size(void **state)
{
	uint8_t header[CRYPTO_HEADER_LEN], buf[64] = {0}, tag[CRYPTO_TAG_LEN];
	uint8_t mac[CRYPTO_MAC_LEN];
	struct agent_error err = {0};
	struct crypto_file *enc = NULL, *dec = NULL;
	struct crypto_header h;
	struct crypto_key key;

	(void)state;
	key_file_key(&key);
	assert_int_equal(crypto_file_new_encrypt(&enc, header, &key, 16, NULL,
						 NULL, &err),
			 AGENT_OK);
	/* A segment that is not the last must be whole... */
	assert_fails(crypto_file_seal(enc, 0, false, buf, 8, tag, &err),
		     AGENT_EIO, &err,
		     "encrypt: segment 0 of 8 bytes (segment size 16)");
	memset(&err, 0, sizeof(err));
	/* ...and none is larger than the segment size. */
	assert_fails(crypto_file_seal(enc, 1, true, buf, 17, tag, &err),
		     AGENT_EIO, &err, "segment 1 of 17 bytes");
	memset(&err, 0, sizeof(err));
	assert_int_equal(crypto_file_seal(enc, 0, true, buf, 16, tag, &err),
			 AGENT_OK);

	assert_int_equal(crypto_header_parse(&h, header, sizeof(header), &err),
			 AGENT_OK);
	assert_int_equal(crypto_file_new_decrypt(&dec, &h, header, &key, &err),
			 AGENT_OK);
	assert_fails(crypto_file_open(dec, 0, true, buf, 17, tag, &err),
		     AGENT_ECORRUPT, &err,
		     "segment 0: length 17 is larger than the segment size "
		     "16");
	memset(&err, 0, sizeof(err));
	/* The manifest's MAC is the writer's to make. */
	assert_fails(crypto_file_manifest_mac(dec, "m", 1, mac, &err),
		     AGENT_EIO, &err, "manifest MAC: not an encrypting file");
	memset(&err, 0, sizeof(err));
	assert_int_equal(crypto_file_manifest_mac(enc, "m", 1, mac, &err),
			 AGENT_OK);
	/* The sealed segment still opens. */
	assert_int_equal(crypto_file_open(dec, 0, true, buf, 16, tag, &err),
			 AGENT_OK);
	assert_int_equal(buf[0], 0);
	crypto_file_free(enc);
	crypto_file_free(dec);
	crypto_key_dispose(&key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_after_finish),
		cmocka_unit_test(test_gzip_next_refuses),
		cmocka_unit_test(test_encrypt_next_refuses),
		cmocka_unit_test(test_zlib_codes),
		cmocka_unit_test(test_fd_sink_waits_for_room),
		cmocka_unit_test(test_key_file_not_hex),
		cmocka_unit_test(test_passphrase_length),
		cmocka_unit_test(test_encrypt_with_bad_scrypt_cost),
		cmocka_unit_test(test_decrypt_header_with_bad_scrypt_cost),
		cmocka_unit_test(test_segments_of_the_wrong_size),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
