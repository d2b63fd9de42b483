/*
 * crypto: the test vectors of docs/FORMAT.md, round trips at hostile write
 * sizes, every attack the format must catch (each with its exact code and
 * message), key files, passphrase files, keygen, and the limits a hostile
 * header meets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/pipe/crypto.h"
#include "agent/pipe/stages.h"

/* ---- docs/FORMAT.md, "Test vectors" ---- */

static const char v1_plain[] = "offsite FORMAT.md test vector: 3 segments";
static const char v1_hex[] =
	"4f464653454e431a010100000000000010000000000000000000000000000000"
	"0099947994292aeaf4202122232425262728292a2b2c2d2e2f30313233343536"
	"3738393a3b3c3d3e3f51df2ac7d5aa0b727b7d87122b60e1a5000000103d4bf0"
	"24f457a854b11d8f116a14b94379470e74f6542fae1a0384c344cc9d8d000000"
	"103284bf3ea0907577101bd5fbaeccc935fa579e815d748d003f9bfc032c50ea"
	"4200000009e4c492d5fca8cff28c07f0cdd0fa08f9b62fe6ca3f6e54e8c9";

static const char v2_passphrase[] = "correct horse battery staple";
static const char v2_plain[] = "exactly 16 bytes";
static const char v2_hex[] =
	"4f464653454e431a01020a080100000010404142434445464748494a4b4c4d4e"
	"4f18a631fe29d5656c505152535455565758595a5b5c5d5e5f60616263646566"
	"6768696a6b6c6d6e6f1bb0dde26dfba1ae899a4dc5133cf09100000010500a74"
	"6f7fd3cbada8d93a355fa42670fb545b685bead0585dc3ac963b36569c000000"
	"0025f3ec65a6126eede1010f34d4d0225e";

/* Small scrypt costs keep the tests fast (the default takes 128 MiB). */
static const struct crypto_scrypt test_cost = {10, 8, 1};

/* ---- helpers ---- */

struct buf {
	uint8_t *p;
	size_t len;
};

static void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

static struct buf from_hex(const char *hex)
{
	struct buf b;
	size_t i;

	b.len = strlen(hex) / 2;
	b.p = malloc(b.len ? b.len : 1);
	assert_non_null(b.p);
	for (i = 0; i < b.len; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		b.p[i] = (uint8_t)v;
	}
	return b;
}

/* A sink that keeps everything; FAIL_AT >= 0 makes a write fail once
 * that many bytes are kept. */
struct capture {
	struct stream base;
	struct buf data;
	long fail_at;
	bool finished;
};

static int capture_write(struct stream *s, const void *data, size_t len)
{
	struct capture *c = (struct capture *)s;

	if (c->fail_at >= 0 && c->data.len + len > (size_t)c->fail_at)
		return agent_fail(s->err, AGENT_EIO, "capture: full");
	c->data.p = realloc(c->data.p, c->data.len + len);
	assert_non_null(c->data.p);
	memcpy(c->data.p + c->data.len, data, len);
	c->data.len += len;
	return AGENT_OK;
}

static int capture_finish(struct stream *s)
{
	((struct capture *)s)->finished = true;
	return AGENT_OK;
}

static void capture_free(struct stream *s)
{
	struct capture *c = (struct capture *)s;

	buf_free(&c->data);
	free(c);
}

static const struct stream_ops capture_ops = {
	.name = "capture",
	.write = capture_write,
	.finish = capture_finish,
	.free = capture_free,
};

static struct capture *capture_new(struct agent_error *err)
{
	struct capture *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->base.ops = &capture_ops;
	c->base.err = err;
	c->fail_at = -1;
	return c;
}

/* Write sizes: 0 = all at once, 1 = single bytes, -1 = pseudo-random
 * 0..99 (zero-length writes included). */
static size_t next_chunk(long mode, size_t left, unsigned *seed)
{
	size_t n;

	if (mode == 0)
		return left;
	if (mode > 0)
		n = (size_t)mode;
	else
		n = (size_t)(rand_r(seed) % 100);
	return n < left ? n : left;
}

/* Push DATA through STAGE in chunks of MODE; returns the code. */
static int feed(struct stream *stage, const uint8_t *data, size_t len,
		long mode, unsigned seed)
{
	size_t off = 0;
	int rc;

	do {
		size_t n = next_chunk(mode, len - off, &seed);

		rc = stream_write(stage, data + off, n);
		if (rc != AGENT_OK)
			return rc;
		off += n;
	} while (off < len);
	return stream_finish(stage);
}

/* ERR, cleared for the next call: the first error of a run wins. */
static struct agent_error *fresh(struct agent_error *err)
{
	memset(err, 0, sizeof(*err));
	return err;
}

static struct crypto_key raw_key(uint8_t first)
{
	struct agent_error cerr = {0};
	struct crypto_key k = {0};
	uint8_t bytes[CRYPTO_KEY_LEN];
	int i;

	for (i = 0; i < CRYPTO_KEY_LEN; i++)
		bytes[i] = (uint8_t)(first + i);
	assert_int_equal(crypto_key_from_bytes(&k, bytes, fresh(&cerr)),
			 AGENT_OK);
	return k;
}

static struct crypto_key pass_key(const char *pass)
{
	struct agent_error cerr = {0};
	struct crypto_key k = {0};

	assert_int_equal(crypto_key_from_passphrase(&k, pass, strlen(pass),
						    &test_cost, fresh(&cerr)),
			 AGENT_OK);
	return k;
}

static void fill(uint8_t *salt, size_t len, uint8_t first)
{
	size_t i;

	for (i = 0; i < len; i++)
		salt[i] = (uint8_t)(first + i);
}

/* Encrypt PLAIN with KEY in segments of SEG, MODE-sized writes. With
 * FIXED, the salts of vector 1 / 2. */
static struct buf encrypt_with(const struct crypto_key *key, uint32_t seg,
			       const void *plain, size_t len, long mode,
			       bool fixed)
{
	struct encrypt_options o = ENCRYPT_OPTIONS_INIT;
	struct agent_error err = {0};
	uint8_t file_salt[CRYPTO_FILE_SALT_LEN];
	uint8_t scrypt_salt[CRYPTO_SCRYPT_SALT_LEN];
	struct capture *sink = capture_new(&err);
	struct stream *enc = NULL;
	struct buf out;

	o.key = key;
	o.segment_size = seg;
	if (fixed) {
		bool pass = key->source == CRYPTO_SOURCE_PASSPHRASE;

		fill(file_salt, sizeof(file_salt), pass ? 0x50 : 0x20);
		fill(scrypt_salt, sizeof(scrypt_salt), 0x40);
		o.test_file_salt = file_salt;
		o.test_scrypt_salt = scrypt_salt;
	}
	assert_int_equal(stage_encrypt_new(&enc, &sink->base, &err, &o),
			 AGENT_OK);
	assert_int_equal(feed(enc, plain, len, mode, 7), AGENT_OK);
	assert_true(sink->finished);
	out = sink->data;
	sink->data.p = NULL;
	sink->data.len = 0;
	stream_free_chain(enc);
	return out;
}

struct result {
	int rc;
	struct agent_error err;
	struct buf out; /* what reached the next stage */
	bool finished;	/* the next stage was finished */
};

static struct result decrypt_with(const struct crypto_key *key,
				  const uint8_t *data, size_t len, long mode)
{
	struct result r = {0};
	struct capture *sink = capture_new(&r.err);
	struct stream *dec = NULL;

	assert_int_equal(stage_decrypt_new(&dec, &sink->base, &r.err, key),
			 AGENT_OK);
	r.rc = feed(dec, data, len, mode, 11);
	r.finished = sink->finished;
	r.out = sink->data;
	sink->data.p = NULL;
	sink->data.len = 0;
	stream_free_chain(dec);
	return r;
}

/* Decrypting DATA fails with CODE and exactly MSG, at any write size. */
static void expect_fail(const struct crypto_key *key, const uint8_t *data,
			size_t len, int code, const char *msg)
{
	static const long modes[] = {0, 1, -1};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct result r = decrypt_with(key, data, len, modes[i]);

		assert_int_equal(r.rc, code);
		assert_int_equal(r.err.code, code);
		assert_string_equal(r.err.msg, msg);
		assert_true(agent_code_is_integrity(code));
		assert_false(r.finished);
		buf_free(&r.out);
	}
}

/* Decrypting DATA gives PLAIN, at every write size. */
static void expect_plain(const struct crypto_key *key, const uint8_t *data,
			 size_t len, const void *plain, size_t plain_len)
{
	static const long modes[] = {0, 1, -1, 7, 4096};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct result r = decrypt_with(key, data, len, modes[i]);

		if (r.rc != AGENT_OK)
			fail_msg("decrypt: %s", r.err.msg);
		assert_true(r.finished);
		assert_int_equal(r.out.len, plain_len);
		if (plain_len > 0)
			assert_memory_equal(r.out.p, plain, plain_len);
		buf_free(&r.out);
	}
}

/* Offsets in a file of segment size 16: segment I's length field. */
static size_t seg_off(size_t i)
{
	return CRYPTO_HEADER_LEN + i * (CRYPTO_SEGMENT_LEN_SIZE + 16 + 16);
}

#define SEG_STORED (CRYPTO_SEGMENT_LEN_SIZE + 16 + CRYPTO_TAG_LEN)

/* 50 bytes in segments of 16: three full ones and a last of 2. */
static const char attack_plain[] =
	"fifty bytes of plaintext make four segments of 16.";

static struct buf attack_file(const struct crypto_key *k)
{
	assert_int_equal(strlen(attack_plain), 50);
	return encrypt_with(k, 16, attack_plain, 50, 0, false);
}

/* ---- test vectors ---- */

static void test_vector_key(void **state)
{
	struct crypto_key k = raw_key(0x00);
	struct buf want = from_hex(v1_hex);
	static const long modes[] = {0, 1, -1};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct buf got = encrypt_with(&k, 16, v1_plain,
					      strlen(v1_plain), modes[i], true);

		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.p, want.p, want.len);
		buf_free(&got);
	}
	expect_plain(&k, want.p, want.len, v1_plain, strlen(v1_plain));
	buf_free(&want);
	crypto_key_dispose(&k);
}

static void test_vector_passphrase(void **state)
{
	struct crypto_key k = pass_key(v2_passphrase);
	struct buf want = from_hex(v2_hex);
	struct buf got;

	(void)state;
	got = encrypt_with(&k, 16, v2_plain, strlen(v2_plain), 1, true);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.p, want.p, want.len);
	buf_free(&got);
	expect_plain(&k, want.p, want.len, v2_plain, strlen(v2_plain));
	buf_free(&want);
	crypto_key_dispose(&k);
}

/* The key id of vector 1's key, as FORMAT.md gives it. */
static void test_key_id(void **state)
{
	struct crypto_key k = raw_key(0x00);
	char hex[CRYPTO_KEY_ID_HEX_SIZE];

	(void)state;
	crypto_key_id_hex(hex, k.id);
	assert_string_equal(hex, "99947994292aeaf4");
	crypto_key_dispose(&k);
}

/* ---- round trips ---- */

static void round_trip(const struct crypto_key *k, uint32_t seg, size_t len)
{
	static const long modes[] = {0, 1, -1};
	uint8_t *plain = malloc(len ? len : 1);
	unsigned seed = (unsigned)len;
	size_t i, nseg;

	assert_non_null(plain);
	for (i = 0; i < len; i++)
		plain[i] = (uint8_t)rand_r(&seed);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct buf c;

		if (modes[i] == 1 && len > 100000)
			continue; /* 1-byte writes of a big file: slow, and
				     covered by the smaller sizes */
		c = encrypt_with(k, seg, plain, len, modes[i], false);
		/* Full segments, then a short last one (maybe empty). */
		nseg = len / seg + 1;
		assert_int_equal(c.len,
				 CRYPTO_HEADER_LEN +
					 nseg * (CRYPTO_SEGMENT_LEN_SIZE +
						 CRYPTO_TAG_LEN) +
					 len);
		expect_plain(k, c.p, c.len, plain, len);
		buf_free(&c);
	}
	free(plain);
}

static void test_round_trips(void **state)
{
	static const size_t sizes[] = {0, 1, 15, 16, 17, 31, 32, 33, 100, 1000};
	struct crypto_key k = raw_key(0x10);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		round_trip(&k, 16, sizes[i]);
	/* Segments of 1 byte: every byte its own segment. */
	round_trip(&k, 1, 0);
	round_trip(&k, 1, 5);
	crypto_key_dispose(&k);
}

static void test_round_trip_default_segment(void **state)
{
	struct crypto_key k = raw_key(0x20);
	size_t s = CRYPTO_SEGMENT_DEFAULT;

	(void)state;
	round_trip(&k, (uint32_t)s, 0);
	round_trip(&k, (uint32_t)s, s - 1);
	round_trip(&k, (uint32_t)s, s);
	round_trip(&k, (uint32_t)s, s + 1);
	round_trip(&k, (uint32_t)s, 5 * s + 12345); /* many segments */
	crypto_key_dispose(&k);
}

static void test_round_trip_passphrase(void **state)
{
	struct crypto_key k = pass_key("a passphrase");

	(void)state;
	round_trip(&k, 16, 0);
	round_trip(&k, 16, 40);
	crypto_key_dispose(&k);
}

/* Two files of the same plaintext and key share no byte pattern: each
 * has its own salt, hence its own segment key. */
static void test_fresh_salt(void **state)
{
	struct crypto_key k = raw_key(0x30);
	struct buf a, b;

	(void)state;
	a = encrypt_with(&k, 16, attack_plain, 50, 0, false);
	b = encrypt_with(&k, 16, attack_plain, 50, 0, false);
	assert_int_equal(a.len, b.len);
	assert_memory_not_equal(a.p + 41, b.p + 41, CRYPTO_FILE_SALT_LEN);
	assert_memory_not_equal(a.p + seg_off(0) + 4, b.p + seg_off(0) + 4, 16);
	buf_free(&a);
	buf_free(&b);
	crypto_key_dispose(&k);
}

/* ---- attacks ---- */

static void test_tampered_header(void **state)
{
	struct crypto_key k = raw_key(0x00);
	struct buf f = attack_file(&k);
	char msg[256], id[CRYPTO_KEY_ID_HEX_SIZE], bad[CRYPTO_KEY_ID_HEX_SIZE];
	size_t off;

	(void)state;
	for (off = 0; off < CRYPTO_HEADER_LEN; off++) {
		f.p[off] ^= 0x01;
		if (off < 8) {
			expect_fail(&k, f.p, f.len, AGENT_EFORMAT,
				    "not an offsite encrypted file");
		} else if (off == 8) {
			expect_fail(&k, f.p, f.len, AGENT_EFORMAT,
				    "unsupported format version 0");
		} else if (off == 9) {
			expect_fail(&k, f.p, f.len, AGENT_EFORMAT,
				    "corrupt header: unknown key source 0");
		} else if ((off >= 10 && off <= 12) ||
			   (off >= 17 && off < 33)) {
			expect_fail(&k, f.p, f.len, AGENT_EFORMAT,
				    "corrupt header: scrypt fields set for a "
				    "key-file key");
		} else if (off == 13) {
			expect_fail(&k, f.p, f.len, AGENT_EFORMAT,
				    "corrupt header: segment size 16777232 "
				    "is not within 1..16777216");
		} else if (off >= 33 && off < 41) {
			crypto_key_id_hex(id, k.id);
			crypto_key_id_hex(bad, f.p + 33);
			snprintf(msg, sizeof(msg),
				 "wrong key (key id %s; the file was "
				 "encrypted with key id %s)",
				 id, bad);
			expect_fail(&k, f.p, f.len, AGENT_EAUTH, msg);
		} else {
			/* segment size (14..16), file salt, tag */
			expect_fail(&k, f.p, f.len, AGENT_EAUTH,
				    "header failed authentication: tampered");
		}
		f.p[off] ^= 0x01;
	}
	expect_plain(&k, f.p, f.len, attack_plain, 50);
	buf_free(&f);
	crypto_key_dispose(&k);
}

static void test_tampered_segments(void **state)
{
	struct crypto_key k = raw_key(0x00);
	struct buf f = attack_file(&k);
	char msg[128];
	size_t off;

	(void)state;
	assert_int_equal(f.len, seg_off(3) + 4 + 2 + 16);
	for (off = CRYPTO_HEADER_LEN; off < f.len; off++) {
		size_t seg = (off - CRYPTO_HEADER_LEN) / SEG_STORED;
		size_t in = (off - CRYPTO_HEADER_LEN) % SEG_STORED;

		if (in < CRYPTO_SEGMENT_LEN_SIZE)
			continue; /* the length: see test_tampered_length */
		f.p[off] ^= 0x80;
		snprintf(msg, sizeof(msg),
			 "segment %zu failed authentication: tampered or "
			 "reordered",
			 seg);
		expect_fail(&k, f.p, f.len, AGENT_EAUTH, msg);
		f.p[off] ^= 0x80;
	}
	expect_plain(&k, f.p, f.len, attack_plain, 50);
	buf_free(&f);
	crypto_key_dispose(&k);
}

static void test_tampered_length(void **state)
{
	struct crypto_key k = raw_key(0x00);
	struct buf f = attack_file(&k);

	(void)state;
	/* 16 -> 17: more than a segment. */
	f.p[seg_off(1) + 3] = 17;
	expect_fail(&k, f.p, f.len, AGENT_ECORRUPT,
		    "segment 1: length 17 is larger than the segment size 16");
	/* 16 -> 15: read as a last segment, one byte short. */
	f.p[seg_off(1) + 3] = 15;
	expect_fail(&k, f.p, f.len, AGENT_EAUTH,
		    "segment 1 failed authentication: tampered or reordered");
	/* The last one's 2 -> 1. */
	f.p[seg_off(1) + 3] = 16;
	f.p[seg_off(3) + 3] = 1;
	expect_fail(&k, f.p, f.len, AGENT_EAUTH,
		    "segment 3 failed authentication: tampered or reordered");
	/* The last one's 2 -> 3: it now ends past the data. */
	f.p[seg_off(3) + 3] = 3;
	expect_fail(&k, f.p, f.len, AGENT_ETRUNC,
		    "encrypted data ends before its last segment");
	/* A length with a high byte set. */
	f.p[seg_off(3) + 3] = 2;
	f.p[seg_off(0)] = 0x80;
	expect_fail(&k, f.p, f.len, AGENT_ECORRUPT,
		    "segment 0: length 2147483664 is larger than the segment "
		    "size 16");
	buf_free(&f);
	crypto_key_dispose(&k);
}

static void test_truncated(void **state)
{
	struct crypto_key k = raw_key(0x00);
	struct buf f = attack_file(&k);
	size_t len;

	(void)state;
	for (len = 0; len < f.len; len++) {
		if (len == 0)
			expect_fail(&k, f.p, len, AGENT_ETRUNC,
				    "no encrypted data: the input is empty");
		else if (len < CRYPTO_HEADER_LEN)
			expect_fail(&k, f.p, len, AGENT_ETRUNC,
				    "encrypted data ends inside its header");
		else
			expect_fail(&k, f.p, len, AGENT_ETRUNC,
				    "encrypted data ends before its last "
				    "segment");
	}
	buf_free(&f);
	crypto_key_dispose(&k);
}

/* Nothing of a segment reaches the next stage before its tag verified:
 * a bad segment 2 lets exactly segments 0 and 1 through. */
static void test_nothing_before_verified(void **state)
{
	struct crypto_key k = raw_key(0x00);
	struct buf f = attack_file(&k);
	static const long modes[] = {0, 1, -1};
	size_t i;

	(void)state;
	f.p[seg_off(2) + 4 + 15 + 16] ^= 1; /* segment 2's last tag byte */
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct result r = decrypt_with(&k, f.p, f.len, modes[i]);

		assert_int_equal(r.rc, AGENT_EAUTH);
		assert_int_equal(r.out.len, 32);
		assert_memory_equal(r.out.p, attack_plain, 32);
		buf_free(&r.out);
	}
	buf_free(&f);
	crypto_key_dispose(&k);
}

static void test_trailing_data(void **state)
{
	struct crypto_key k = raw_key(0x00);
	struct buf f = attack_file(&k);
	size_t n = f.len;
	uint8_t *p;

	(void)state;
	/* One byte, a segment's worth, and a whole second copy. */
	p = realloc(f.p, 2 * n);
	assert_non_null(p);
	f.p = p;
	memcpy(p + n, p, n);
	expect_fail(&k, p, n + 1, AGENT_EFORMAT, "data after the last segment");
	expect_fail(&k, p, n + SEG_STORED, AGENT_EFORMAT,
		    "data after the last segment");
	expect_fail(&k, p, 2 * n, AGENT_EFORMAT, "data after the last segment");
	buf_free(&f);
	crypto_key_dispose(&k);
}

static void swap(uint8_t *p, size_t a, size_t b, size_t len)
{
	uint8_t tmp[SEG_STORED];

	assert_true(len <= sizeof(tmp));
	memcpy(tmp, p + a, len);
	memmove(p + a, p + b, len);
	memcpy(p + b, tmp, len);
}

static void test_reordered(void **state)
{
	struct crypto_key k = raw_key(0x00);
	struct buf f = attack_file(&k);
	size_t last_len = 4 + 2 + 16;

	(void)state;
	swap(f.p, seg_off(0), seg_off(1), SEG_STORED);
	expect_fail(&k, f.p, f.len, AGENT_EAUTH,
		    "segment 0 failed authentication: tampered or reordered");
	swap(f.p, seg_off(0), seg_off(1), SEG_STORED);
	swap(f.p, seg_off(1), seg_off(2), SEG_STORED);
	expect_fail(&k, f.p, f.len, AGENT_EAUTH,
		    "segment 1 failed authentication: tampered or reordered");
	swap(f.p, seg_off(1), seg_off(2), SEG_STORED);
	expect_plain(&k, f.p, f.len, attack_plain, 50);

	/* The last segment moved forward: 0, 1, 3, 2. */
	{
		uint8_t *g = malloc(f.len);

		assert_non_null(g);
		memcpy(g, f.p, seg_off(2));
		memcpy(g + seg_off(2), f.p + seg_off(3), last_len);
		memcpy(g + seg_off(2) + last_len, f.p + seg_off(2), SEG_STORED);
		expect_fail(&k, g, f.len, AGENT_EAUTH,
			    "segment 2 failed authentication: tampered or "
			    "reordered");
		free(g);
	}
	/* The last segment dropped: ends at a boundary. */
	expect_fail(&k, f.p, seg_off(3), AGENT_ETRUNC,
		    "encrypted data ends before its last segment");
	/* A segment dropped in the middle: 0, 2, 3. */
	memmove(f.p + seg_off(1), f.p + seg_off(2), f.len - seg_off(2));
	expect_fail(&k, f.p, f.len - SEG_STORED, AGENT_EAUTH,
		    "segment 1 failed authentication: tampered or reordered");
	buf_free(&f);
	crypto_key_dispose(&k);
}

/* A segment of one file spliced into another under the same key. */
static void test_spliced(void **state)
{
	struct crypto_key k = raw_key(0x00);
	struct buf a = attack_file(&k), b = attack_file(&k);

	(void)state;
	memcpy(a.p + seg_off(1), b.p + seg_off(1), SEG_STORED);
	expect_fail(&k, a.p, a.len, AGENT_EAUTH,
		    "segment 1 failed authentication: tampered or reordered");
	/* B's header on A's segments. */
	memcpy(a.p, b.p, CRYPTO_HEADER_LEN);
	expect_fail(&k, a.p, a.len, AGENT_EAUTH,
		    "segment 0 failed authentication: tampered or reordered");
	buf_free(&a);
	buf_free(&b);
	crypto_key_dispose(&k);
}

static void test_wrong_key(void **state)
{
	struct crypto_key k = raw_key(0x00), other = raw_key(0x01);
	struct crypto_key pass = pass_key("right"), wrong = pass_key("wrong");
	struct buf f = attack_file(&k);
	struct buf g = encrypt_with(&pass, 16, attack_plain, 50, 0, false);
	char msg[256], a[CRYPTO_KEY_ID_HEX_SIZE], b[CRYPTO_KEY_ID_HEX_SIZE];

	(void)state;
	crypto_key_id_hex(a, other.id);
	crypto_key_id_hex(b, k.id);
	snprintf(msg, sizeof(msg),
		 "wrong key (key id %s; the file was encrypted with key id "
		 "%s)",
		 a, b);
	expect_fail(&other, f.p, f.len, AGENT_EAUTH, msg);
	expect_fail(&wrong, g.p, g.len, AGENT_EAUTH, "wrong passphrase");
	expect_fail(&k, g.p, g.len, AGENT_EAUTH,
		    "wrong key: the file is encrypted with a passphrase, not "
		    "a key file");
	expect_fail(&pass, f.p, f.len, AGENT_EAUTH,
		    "wrong key: the file is encrypted with a key file, not a "
		    "passphrase");
	expect_plain(&pass, g.p, g.len, attack_plain, 50);
	buf_free(&f);
	buf_free(&g);
	crypto_key_dispose(&k);
	crypto_key_dispose(&other);
	crypto_key_dispose(&pass);
	crypto_key_dispose(&wrong);
}

static void test_not_ours(void **state)
{
	struct crypto_key k = raw_key(0x00);
	struct buf f = attack_file(&k);
	static const uint8_t gzip[] = {0x1f, 0x8b, 0x08, 0x00};

	(void)state;
	expect_fail(&k, gzip, sizeof(gzip), AGENT_EFORMAT,
		    "not an offsite encrypted file");
	f.p[8] = 2;
	expect_fail(&k, f.p, f.len, AGENT_EFORMAT,
		    "unsupported format version 2");
	/* A newer version's header may be shorter: said at once. */
	expect_fail(&k, f.p, 9, AGENT_EFORMAT, "unsupported format version 2");
	f.p[8] = 1;
	f.p[9] = 3;
	expect_fail(&k, f.p, f.len, AGENT_EFORMAT,
		    "corrupt header: unknown key source 3");
	buf_free(&f);
	crypto_key_dispose(&k);
}

/* ---- the header parser and hostile headers ---- */

static void header_with_cost(uint8_t *h, uint8_t log2_n, uint8_t r, uint8_t p)
{
	struct crypto_header hd = {0};

	hd.version = 1;
	hd.source = CRYPTO_SOURCE_PASSPHRASE;
	hd.scrypt.log2_n = log2_n;
	hd.scrypt.r = r;
	hd.scrypt.p = p;
	hd.segment_size = 16;
	crypto_header_encode(h, &hd);
}

static void test_hostile_scrypt(void **state)
{
	struct crypto_key pass = pass_key("x");
	struct crypto_header hd;
	struct agent_error err = {0};
	uint8_t h[CRYPTO_HEADER_LEN + 20] = {0};

	(void)state;
	/* 2^30 * 8 * 128 = 1 TiB of memory. */
	header_with_cost(h, 30, 8, 1);
	assert_int_equal(crypto_header_parse(&hd, h, sizeof(h), &err),
			 AGENT_EFORMAT);
	assert_string_equal(err.msg,
			    "corrupt header: scrypt cost N=2^30, r=8 needs "
			    "1048576 MiB of memory; at most 256 MiB");
	expect_fail(&pass, h, sizeof(h), AGENT_EFORMAT, err.msg);

	header_with_cost(h, 40, 255, 1);
	expect_fail(&pass, h, sizeof(h), AGENT_EFORMAT,
		    "corrupt header: scrypt cost N=2^40 needs more than 256 "
		    "MiB of memory");
	/* 256 MiB, but 255 times over. */
	header_with_cost(h, 18, 8, 255);
	expect_fail(&pass, h, sizeof(h), AGENT_EFORMAT,
		    "corrupt header: scrypt cost N=2^18, r=8, p=255 is more "
		    "work than the limit (128 * r * N * p at most 1024 MiB)");
	header_with_cost(h, 0, 8, 1);
	expect_fail(&pass, h, sizeof(h), AGENT_EFORMAT,
		    "corrupt header: scrypt cost log2(N)=0, r=8, p=1: each "
		    "must be at least 1");
	header_with_cost(h, 16, 1, 1);
	expect_fail(&pass, h, sizeof(h), AGENT_EFORMAT,
		    "corrupt header: scrypt cost N=2^16 is too large for r=1 "
		    "(RFC 7914 needs N < 2^16)");
	/* At the limit: parses (the tag then fails, it is all zeros). */
	header_with_cost(h, 18, 8, 4);
	memset(&err, 0, sizeof(err));
	assert_int_equal(crypto_header_parse(&hd, h, sizeof(h), &err),
			 AGENT_OK);
	assert_int_equal(hd.scrypt.log2_n, 18);
	crypto_key_dispose(&pass);
}

static void test_header_parse(void **state)
{
	struct buf v = from_hex(v1_hex);
	struct crypto_header h;
	struct agent_error err;
	size_t len;

	(void)state;
	for (len = 0; len < CRYPTO_HEADER_LEN; len++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(crypto_header_parse(&h, v.p, len, &err),
				 AGENT_ETRUNC);
	}
	memset(&err, 0, sizeof(err));
	assert_int_equal(crypto_header_parse(&h, v.p, v.len, &err), AGENT_OK);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.source, CRYPTO_SOURCE_KEY);
	assert_int_equal(h.segment_size, 16);
	assert_int_equal(h.file_salt[0], 0x20);
	assert_int_equal(h.file_salt[31], 0x3f);
	{
		uint8_t again[CRYPTO_HEADER_LEN];

		crypto_header_encode(again, &h);
		assert_memory_equal(again, v.p, CRYPTO_HEADER_LEN);
	}
	/* A bad magic is known from its first byte. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(crypto_header_parse(&h, (const uint8_t *)"X", 1, &err),
			 AGENT_EFORMAT);
	/* Segment size 0. */
	memset(v.p + 13, 0, 4);
	memset(&err, 0, sizeof(err));
	assert_int_equal(crypto_header_parse(&h, v.p, v.len, &err),
			 AGENT_EFORMAT);
	assert_string_equal(err.msg, "corrupt header: segment size 0 is not "
				     "within 1..16777216");
	buf_free(&v);
}

static void test_scrypt_check(void **state)
{
	struct crypto_scrypt ok = {CRYPTO_SCRYPT_DEFAULT_LOG2_N,
				   CRYPTO_SCRYPT_DEFAULT_R,
				   CRYPTO_SCRYPT_DEFAULT_P};
	struct crypto_scrypt big = {19, 8, 1};
	struct agent_error cerr = {0};
	struct crypto_key k;
	char why[256];

	(void)state;
	assert_true(crypto_scrypt_check(&ok, why, sizeof(why)));
	assert_false(crypto_scrypt_check(&big, why, sizeof(why)));
	assert_string_equal(why, "scrypt cost N=2^19, r=8 needs 512 MiB of "
				 "memory; at most 256 MiB");
	/* The writer keeps to the reader's limits. */
	assert_int_equal(
		crypto_key_from_passphrase(&k, "x", 1, &big, fresh(&cerr)),
		AGENT_EKEY);
	assert_string_equal(cerr.msg, why);
}

/* ---- encrypt stage: options and a failing next stage ---- */

static void test_encrypt_errors(void **state)
{
	struct encrypt_options o = ENCRYPT_OPTIONS_INIT;
	struct crypto_key k = raw_key(0x00);
	struct agent_error err = {0};
	struct capture *sink = capture_new(&err);
	struct stream *enc = NULL;
	uint8_t data[100] = {0};

	(void)state;
	o.key = &k;
	o.segment_size = 0;
	assert_int_equal(stage_encrypt_new(&enc, &sink->base, &err, &o),
			 AGENT_EIO);
	assert_null(enc);
	assert_string_equal(
		err.msg, "encrypt: segment size 0 is not within 1..16777216");

	/* The next stage fails in the second segment: its error wins. */
	memset(&err, 0, sizeof(err));
	o.segment_size = 16;
	sink->fail_at = CRYPTO_HEADER_LEN + SEG_STORED + 1;
	assert_int_equal(stage_encrypt_new(&enc, &sink->base, &err, &o),
			 AGENT_OK);
	assert_int_equal(stream_write(enc, data, sizeof(data)), AGENT_EIO);
	assert_string_equal(err.msg, "capture: full");
	assert_int_equal(sink->data.len, CRYPTO_HEADER_LEN + SEG_STORED);
	stream_free_chain(enc);
	crypto_key_dispose(&k);
}

static void test_encrypt_key_id(void **state)
{
	struct encrypt_options o = ENCRYPT_OPTIONS_INIT;
	struct crypto_key k = raw_key(0x00), p = pass_key(v2_passphrase);
	uint8_t fs[CRYPTO_FILE_SALT_LEN], ss[CRYPTO_SCRYPT_SALT_LEN];
	struct agent_error err = {0};
	struct stream *enc = NULL;
	uint8_t id[CRYPTO_KEY_ID_LEN];
	char hex[CRYPTO_KEY_ID_HEX_SIZE];

	(void)state;
	o.key = &k;
	assert_int_equal(stage_encrypt_new(&enc, NULL, &err, &o), AGENT_OK);
	stage_encrypt_key_id(enc, id);
	assert_memory_equal(id, k.id, CRYPTO_KEY_ID_LEN);
	stream_free(enc);

	fill(fs, sizeof(fs), 0x50);
	fill(ss, sizeof(ss), 0x40);
	o.key = &p;
	o.test_file_salt = fs;
	o.test_scrypt_salt = ss;
	assert_int_equal(stage_encrypt_new(&enc, NULL, &err, &o), AGENT_OK);
	stage_encrypt_key_id(enc, id);
	crypto_key_id_hex(hex, id);
	assert_string_equal(hex, "18a631fe29d5656c"); /* vector 2 */
	stream_free(enc);
	crypto_key_dispose(&k);
	crypto_key_dispose(&p);
}

/* ---- key files, passphrase files, keygen ---- */

static char tmpdir[256];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/offsite-test-crypto.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown_dir(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const void *data, size_t len,
			      mode_t mode)
{
	static char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

#define V1_KEY_HEX                                                             \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* Loading a key file of TEXT gives CODE; any failure here is a content
 * error. */
static void expect_key_file(const char *name, const char *text, int code)
{
	struct agent_error cerr = {0};
	struct crypto_key k;
	const char *path;
	char msg[1024];

	path = write_file(name, text, strlen(text), 0600);
	assert_int_equal(crypto_key_load_file(&k, path, fresh(&cerr)), code);
	if (code == AGENT_OK) {
		struct crypto_key want = raw_key(0x00);

		assert_int_equal(k.source, CRYPTO_SOURCE_KEY);
		assert_memory_equal(k.key, want.key, CRYPTO_KEY_LEN);
		assert_memory_equal(k.id, want.id, CRYPTO_KEY_ID_LEN);
		crypto_key_dispose(&want);
	} else {
		snprintf(msg, sizeof(msg),
			 "key file '%s' must hold 64 hex digits (a 256-bit "
			 "key, as offsite keygen writes it)",
			 path);
		assert_string_equal(cerr.msg, msg);
	}
	crypto_key_dispose(&k);
}

static void test_key_file(void **state)
{
	uint8_t raw[32] = {0};

	(void)state;
	expect_key_file("k1", V1_KEY_HEX, AGENT_OK);
	expect_key_file("k2", V1_KEY_HEX "\n", AGENT_OK);
	expect_key_file("k3", V1_KEY_HEX "\r\n", AGENT_OK);
	expect_key_file("k4",
			"000102030405060708090A0B0C0D0E0F"
			"101112131415161718191A1B1C1D1E1F\n",
			AGENT_OK);
	expect_key_file("k5", V1_KEY_HEX "\n\n", AGENT_EKEY);
	expect_key_file("k6", V1_KEY_HEX "00", AGENT_EKEY);
	expect_key_file("k7", "0001", AGENT_EKEY);
	expect_key_file("k8", "", AGENT_EKEY);
	expect_key_file("k9",
			"g00102030405060708090a0b0c0d0e0f"
			"101112131415161718191a1b1c1d1e1",
			AGENT_EKEY);
	expect_key_file("k10", " " V1_KEY_HEX, AGENT_EKEY);
	/* 32 raw bytes are not a key file. */
	{
		struct agent_error cerr = {0};
		struct crypto_key k;
		const char *path = write_file("raw", raw, sizeof(raw), 0600);

		assert_int_equal(crypto_key_load_file(&k, path, fresh(&cerr)),
				 AGENT_EKEY);
	}
}

static void test_key_file_mode(void **state)
{
	struct agent_error cerr = {0};
	struct crypto_key k;
	const char *path;
	char msg[1024];

	(void)state;
	path = write_file("open", V1_KEY_HEX "\n", strlen(V1_KEY_HEX) + 1,
			  0644);
	assert_int_equal(crypto_key_load_file(&k, path, fresh(&cerr)),
			 AGENT_EKEY);
	snprintf(msg, sizeof(msg),
		 "key file '%s': permissions 0644 are too open; it must be "
		 "readable by its owner only (chmod 600 %s)",
		 path, path);
	assert_string_equal(cerr.msg, msg);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(crypto_key_load_file(&k, path, fresh(&cerr)),
			 AGENT_EKEY);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(crypto_key_load_file(&k, path, fresh(&cerr)),
			 AGENT_OK);
	crypto_key_dispose(&k);

	assert_int_equal(crypto_key_load_file(&k, tmpdir, fresh(&cerr)),
			 AGENT_EKEY);
	snprintf(msg, sizeof(msg), "key file '%s' is not a regular file",
		 tmpdir);
	assert_string_equal(cerr.msg, msg);

	snprintf(msg, sizeof(msg), "%s/missing", tmpdir);
	assert_int_equal(crypto_key_load_file(&k, msg, fresh(&cerr)),
			 AGENT_EKEY);
	assert_non_null(strstr(cerr.msg, "No such file or directory"));
}

static void test_passphrase_file(void **state)
{
	struct agent_error cerr = {0};
	struct crypto_key k;
	const char *path;
	char big[CRYPTO_PASSPHRASE_MAX + 2];
	char msg[1024];

	(void)state;
	path = write_file("p1", "a b c \n", 7, 0600);
	assert_int_equal(
		crypto_key_load_passphrase(&k, path, NULL, fresh(&cerr)),
		AGENT_OK);
	assert_int_equal(k.source, CRYPTO_SOURCE_PASSPHRASE);
	assert_int_equal(k.passphrase_len, 6); /* blanks kept, "\n" cut */
	assert_memory_equal(k.passphrase, "a b c ", 6);
	assert_int_equal(k.scrypt.log2_n, CRYPTO_SCRYPT_DEFAULT_LOG2_N);
	assert_int_equal(k.scrypt.r, CRYPTO_SCRYPT_DEFAULT_R);
	assert_int_equal(k.scrypt.p, CRYPTO_SCRYPT_DEFAULT_P);

	path = write_file("p2", "pw\r\n", 4, 0600);
	assert_int_equal(
		crypto_key_load_passphrase(&k, path, &test_cost, fresh(&cerr)),
		AGENT_OK);
	assert_int_equal(k.passphrase_len, 2);
	assert_int_equal(k.scrypt.log2_n, 10);

	path = write_file("p3", "\n", 1, 0600);
	assert_int_equal(
		crypto_key_load_passphrase(&k, path, NULL, fresh(&cerr)),
		AGENT_EKEY);
	snprintf(msg, sizeof(msg), "passphrase file '%s' is empty", path);
	assert_string_equal(cerr.msg, msg);

	memset(big, 'x', sizeof(big));
	path = write_file("p4", big, CRYPTO_PASSPHRASE_MAX, 0600);
	assert_int_equal(
		crypto_key_load_passphrase(&k, path, NULL, fresh(&cerr)),
		AGENT_OK);
	path = write_file("p5", big, CRYPTO_PASSPHRASE_MAX + 1, 0600);
	assert_int_equal(
		crypto_key_load_passphrase(&k, path, NULL, fresh(&cerr)),
		AGENT_EKEY);
	snprintf(msg, sizeof(msg),
		 "passphrase file '%s' is longer than 1024 bytes", path);
	assert_string_equal(cerr.msg, msg);

	path = write_file("p6", "pw\n", 3, 0604);
	assert_int_equal(
		crypto_key_load_passphrase(&k, path, NULL, fresh(&cerr)),
		AGENT_EKEY);
	snprintf(msg, sizeof(msg),
		 "passphrase file '%s': permissions 0604 are too open; it "
		 "must be readable by its owner only (chmod 600 %s)",
		 path, path);
	assert_string_equal(cerr.msg, msg);
	crypto_key_dispose(&k);
}

static void test_keygen(void **state)
{
	struct agent_error cerr = {0};
	struct crypto_key k, k2;
	uint8_t id[CRYPTO_KEY_ID_LEN], id2[CRYPTO_KEY_ID_LEN];
	char path[512], path2[512], text[100], msg[1024];
	struct stat st;
	mode_t old;
	FILE *fp;
	size_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/new.key", tmpdir);
	old = umask(0); /* 0600 even when the umask would allow more */
	assert_int_equal(crypto_keygen(id, path, fresh(&cerr)), AGENT_OK);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(text, 1, sizeof(text), fp);
	fclose(fp);
	assert_int_equal(n, 65);
	assert_int_equal(text[64], '\n');
	assert_int_equal(strspn(text, "0123456789abcdef"), 64);
	assert_int_equal(crypto_key_load_file(&k, path, fresh(&cerr)),
			 AGENT_OK);
	assert_memory_equal(k.id, id, CRYPTO_KEY_ID_LEN);

	/* Never overwritten. */
	assert_int_equal(crypto_keygen(id2, path, fresh(&cerr)), AGENT_EEXIST);
	snprintf(msg, sizeof(msg),
		 "key file '%s' already exists; not overwriting it", path);
	assert_string_equal(cerr.msg, msg);
	assert_int_equal(crypto_key_load_file(&k2, path, fresh(&cerr)),
			 AGENT_OK);
	assert_memory_equal(k2.key, k.key, CRYPTO_KEY_LEN);

	/* Nor through a dangling symlink. */
	snprintf(path2, sizeof(path2), "%s/link.key", tmpdir);
	snprintf(msg, sizeof(msg), "%s/target.key", tmpdir);
	assert_int_equal(symlink(msg, path2), 0);
	assert_int_equal(crypto_keygen(id2, path2, fresh(&cerr)), AGENT_EEXIST);
	assert_int_equal(access(msg, F_OK), -1);

	/* Two keys differ. */
	snprintf(path2, sizeof(path2), "%s/other.key", tmpdir);
	assert_int_equal(crypto_keygen(id2, path2, fresh(&cerr)), AGENT_OK);
	assert_memory_not_equal(id, id2, CRYPTO_KEY_ID_LEN);

	/* A directory that is not there. */
	snprintf(path2, sizeof(path2), "%s/no/such.key", tmpdir);
	assert_int_equal(crypto_keygen(id2, path2, fresh(&cerr)), AGENT_EIO);
	snprintf(msg, sizeof(msg),
		 "cannot create key file '%s': No such file or directory",
		 path2);
	assert_string_equal(cerr.msg, msg);
	crypto_key_dispose(&k);
	crypto_key_dispose(&k2);
}

static void test_dispose_wipes(void **state)
{
	struct crypto_key k = raw_key(0x42);
	static const uint8_t zero[sizeof(struct crypto_key)];

	(void)state;
	crypto_key_dispose(&k);
	assert_memory_equal(&k, zero, sizeof(k));
	crypto_key_dispose(NULL);
	crypto_file_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_key),
		cmocka_unit_test(test_vector_passphrase),
		cmocka_unit_test(test_key_id),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_round_trip_default_segment),
		cmocka_unit_test(test_round_trip_passphrase),
		cmocka_unit_test(test_fresh_salt),
		cmocka_unit_test(test_tampered_header),
		cmocka_unit_test(test_tampered_segments),
		cmocka_unit_test(test_tampered_length),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_nothing_before_verified),
		cmocka_unit_test(test_trailing_data),
		cmocka_unit_test(test_reordered),
		cmocka_unit_test(test_spliced),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_hostile_scrypt),
		cmocka_unit_test(test_header_parse),
		cmocka_unit_test(test_scrypt_check),
		cmocka_unit_test(test_encrypt_errors),
		cmocka_unit_test(test_encrypt_key_id),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_key_file_mode),
		cmocka_unit_test(test_passphrase_file),
		cmocka_unit_test(test_keygen),
		cmocka_unit_test(test_dispose_wipes),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
