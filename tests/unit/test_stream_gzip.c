/*
 * gzip, gunzip, hash and the sinks: round trips at hostile sizes (1-byte
 * writes, random writes, empty input, a block and a byte either side,
 * several blocks), with 1 and 4 threads and each engine (zlib, ISA-L,
 * libdeflate) and level range; output that the gzip program reads;
 * gunzip's errors, each code and message exact; the SHA-256 vectors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZLIB_CONST
#include <zlib.h>

#include "agent/pipe/stages.h"
#include "agent/pipe/stages_internal.h"

#define BLOCK 4096 /* small blocks: many members, a fast suite */

enum pattern {
	WHOLE,	/* one write */
	BYTES,	/* 1-byte writes */
	RANDOM, /* writes of random sizes, 0 included */
};

/* ---- helpers ---- */

static uint32_t rnd(uint32_t *seed)
{
	/* xorshift32: deterministic, good enough for sizes and data */
	uint32_t x = *seed;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *seed = x;
}

/* Half text that compresses, half random bytes that do not. */
static uint8_t *make_data(size_t len, uint32_t seed)
{
	static const char words[] = "1\t1\t0\tpgbench_accounts COPY public. "
				    "2024-01-01 12:00:00+00 user@example.com ";
	uint8_t *p = malloc(len ? len : 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < len; i++) {
		if ((i / 1000) % 2 == 0)
			p[i] = (uint8_t)
				words[(i + i / 37) % (sizeof(words) - 1)];
		else
			p[i] = (uint8_t)rnd(&seed);
	}
	return p;
}

static int feed(struct stream *s, const uint8_t *data, size_t len,
		enum pattern pat, uint32_t seed)
{
	size_t off = 0, n;
	int rc;

	while (off < len) {
		switch (pat) {
		case WHOLE:
			n = len;
			break;
		case BYTES:
			n = 1;
			break;
		default:
			n = rnd(&seed) % (3 * BLOCK);
			if (n % 5 == 0)
				n = 0; /* a write of 0 bytes */
			break;
		}
		if (n > len - off)
			n = len - off;
		rc = stream_write(s, data + off, n);
		if (rc != AGENT_OK)
			return rc;
		off += n;
	}
	return stream_finish(s);
}

/* Run DATA through STAGE (already chained to SINK, a memory sink); on
 * success *OUT is a copy of what reached the sink. */
static int drain(struct stream *stage, struct stream *sink, const uint8_t *data,
		 size_t len, enum pattern pat, uint8_t **out, size_t *out_len)
{
	const void *p;
	int rc;

	*out = NULL;
	*out_len = 0;
	rc = feed(stage, data, len, pat, 12345);
	if (rc == AGENT_OK) {
		p = stage_memory_data(sink, out_len);
		*out = malloc(*out_len ? *out_len : 1);
		assert_non_null(*out);
		if (*out_len)
			memcpy(*out, p, *out_len);
	}
	stream_free(stage);
	stream_free(sink);
	return rc;
}

static int gzip_buf(const struct gzip_options *o, const uint8_t *in, size_t len,
		    enum pattern pat, uint8_t **out, size_t *out_len,
		    struct agent_error *err)
{
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct stream *sink, *gz;

	assert_int_equal(stage_memory_new(&sink, err, &mo), AGENT_OK);
	assert_int_equal(stage_gzip_new(&gz, sink, err, o), AGENT_OK);
	return drain(gz, sink, in, len, pat, out, out_len);
}

static int gunzip_buf(const uint8_t *in, size_t len, enum pattern pat,
		      uint8_t **out, size_t *out_len, struct agent_error *err)
{
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct stream *sink, *gun;

	memset(err, 0, sizeof(*err));
	assert_int_equal(stage_memory_new(&sink, err, &mo), AGENT_OK);
	assert_int_equal(stage_gunzip_new(&gun, sink, err), AGENT_OK);
	return drain(gun, sink, in, len, pat, out, out_len);
}

/* Expect gunzip to fail on IN with CODE and MSG, whatever the writes. */
static void expect_gunzip_error(const uint8_t *in, size_t len, int code,
				const char *msg)
{
	static const enum pattern pats[] = {WHOLE, BYTES, RANDOM};
	struct agent_error err;
	uint8_t *out;
	size_t out_len, i;

	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		assert_int_equal(
			gunzip_buf(in, len, pats[i], &out, &out_len, &err),
			code);
		assert_int_equal(err.code, code);
		assert_string_equal(err.msg, msg);
		free(out);
	}
}

/* Write BUF to a temporary file; returns its path (static storage). */
static const char *temp_file(const uint8_t *buf, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_stream_gzip.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	return path;
}

/* The gzip program decompresses GZ to exactly WANT. */
static void expect_gzip_program_reads(const uint8_t *gz, size_t gz_len,
				      const uint8_t *want, size_t want_len)
{
	char cmd[128], buf[65536];
	const char *path = temp_file(gz, gz_len);
	uint8_t *got = malloc(want_len + 1);
	size_t n, got_len = 0;
	FILE *p;

	assert_non_null(got);
	snprintf(cmd, sizeof(cmd), "gzip -dc < %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		assert_true(got_len + n <= want_len);
		memcpy(got + got_len, buf, n);
		got_len += n;
	}
	assert_int_equal(pclose(p), 0);
	unlink(path);
	assert_int_equal(got_len, want_len);
	if (want_len)
		assert_memory_equal(got, want, want_len);
	free(got);
}

/* Compress with the gzip program (it writes FNAME for a file). */
static uint8_t *gzip_program(const uint8_t *in, size_t len, size_t *gz_len)
{
	char cmd[128], buf[65536];
	const char *path = temp_file(in, len);
	uint8_t *gz = NULL, *p2;
	size_t n;
	FILE *p;

	*gz_len = 0;
	snprintf(cmd, sizeof(cmd), "gzip -c %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		p2 = realloc(gz, *gz_len + n);
		assert_non_null(p2);
		gz = p2;
		memcpy(gz + *gz_len, buf, n);
		*gz_len += n;
	}
	assert_int_equal(pclose(p), 0);
	unlink(path);
	return gz;
}

/* A small gzip file of the text "hello, hello, hello\n" x 50. */
static uint8_t *small_gz(size_t *len, uint8_t **plain, size_t *plain_len)
{
	struct gzip_options o = GZIP_OPTIONS_INIT;
	struct agent_error err = {0};
	uint8_t *gz, *text;
	size_t i;

	*plain_len = 50 * 20;
	text = malloc(*plain_len);
	assert_non_null(text);
	for (i = 0; i < 50; i++)
		memcpy(text + 20 * i, "hello, hello, hello\n", 20);
	o.engine = GZIP_ENGINE_ZLIB;
	o.level = 6;
	o.threads = 1;
	assert_int_equal(gzip_buf(&o, text, *plain_len, WHOLE, &gz, len, &err),
			 AGENT_OK);
	*plain = text;
	return gz;
}

/* ---- hash ---- */

static void hash_of(const char *s, enum pattern pat, char hex[65],
		    uint64_t *bytes)
{
	struct agent_error err = {0};
	struct stream *h;

	assert_int_equal(stage_hash_new(&h, NULL, &err), AGENT_OK);
	assert_int_equal(feed(h, (const uint8_t *)s, strlen(s), pat, 7),
			 AGENT_OK);
	assert_int_equal(stage_hash_result(h, hex, bytes), AGENT_OK);
	stream_free(h);
}

static void test_hash_vectors(void **state)
{
	/* FIPS 180-2 appendix B.1 ("abc") and the empty message. */
	static const char empty[] =
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	static const char abc[] =
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	static const char two[] =
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
	char hex[65];
	uint64_t bytes;

	(void)state;
	hash_of("", WHOLE, hex, &bytes);
	assert_string_equal(hex, empty);
	assert_int_equal(bytes, 0);
	hash_of("abc", WHOLE, hex, &bytes);
	assert_string_equal(hex, abc);
	assert_int_equal(bytes, 3);
	hash_of("abc", BYTES, hex, &bytes);
	assert_string_equal(hex, abc);
	hash_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		BYTES, hex, &bytes);
	assert_string_equal(hex, two);
	assert_int_equal(bytes, 56);
}

static void test_hash_pass_through(void **state)
{
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct agent_error err = {0};
	struct stream *sink, *h;
	uint8_t *data = make_data(10000, 1);
	const void *got;
	char hex[65];
	uint64_t bytes;
	size_t len;

	(void)state;
	assert_int_equal(stage_memory_new(&sink, &err, &mo), AGENT_OK);
	assert_int_equal(stage_hash_new(&h, sink, &err), AGENT_OK);
	/* no result before finish */
	assert_int_equal(stage_hash_result(h, hex, &bytes), AGENT_EIO);
	assert_string_equal(err.msg,
			    "hash: no hash result: the stage did not finish");
	memset(&err, 0, sizeof(err));
	assert_int_equal(feed(h, data, 10000, RANDOM, 3), AGENT_OK);
	assert_true(sink->finished);
	got = stage_memory_data(sink, &len);
	assert_int_equal(len, 10000);
	assert_memory_equal(got, data, 10000);
	assert_int_equal(stage_hash_result(h, hex, &bytes), AGENT_OK);
	assert_int_equal(bytes, 10000);
	stream_free_chain(h);
	free(data);
}

/* ---- sinks ---- */

static void test_sinks(void **state)
{
	struct memory_options mo = {.cap = 10};
	struct fd_options fo = FD_OPTIONS_INIT;
	struct agent_error err = {0};
	struct stream *s;
	uint8_t *data = make_data(300000, 2), *got;
	char buf[16];
	size_t len;
	int fds[2];
	FILE *f;

	(void)state;
	/* null */
	assert_int_equal(stage_null_new(&s, &err), AGENT_OK);
	assert_int_equal(feed(s, data, 1000, RANDOM, 1), AGENT_OK);
	assert_int_equal(s->bytes_in, 1000);
	stream_free(s);

	/* memory: the cap */
	assert_int_equal(stage_memory_new(&s, &err, &mo), AGENT_OK);
	assert_null(stage_memory_data(s, &len));
	assert_int_equal(len, 0);
	assert_int_equal(stream_write(s, "0123456789", 10), AGENT_OK);
	assert_int_equal(stream_write(s, "x", 1), AGENT_ELIMIT);
	assert_string_equal(err.msg, "memory sink: more than 10 bytes");
	stream_free(s);

	/* fd: into a file, in writes of random sizes */
	memset(&err, 0, sizeof(err));
	f = tmpfile();
	assert_non_null(f);
	fo.fd = fileno(f);
	fo.name = "tmpfile";
	assert_int_equal(stage_fd_new(&s, &err, &fo), AGENT_OK);
	assert_int_equal(feed(s, data, 300000, RANDOM, 5), AGENT_OK);
	stream_free(s);
	rewind(f);
	got = malloc(300000);
	assert_non_null(got);
	assert_int_equal(fread(got, 1, 300000, f), 300000);
	assert_int_equal(fread(buf, 1, 1, f), 0);
	assert_memory_equal(got, data, 300000);
	fclose(f);
	free(got);

	/* fd: a write error (a pipe without a reader) */
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	fo.fd = fds[1];
	fo.name = "the pipe";
	assert_int_equal(stage_fd_new(&s, &err, &fo), AGENT_OK);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(stream_write(s, "x", 1), AGENT_EIO);
	assert_string_equal(err.msg, "write to the pipe: Broken pipe");
	stream_free(s);
	close(fds[1]);

	/* fd: bad options */
	memset(&err, 0, sizeof(err));
	fo.fd = -1;
	assert_int_equal(stage_fd_new(&s, &err, &fo), AGENT_EIO);
	assert_null(s);
	free(data);
}

/* ---- gzip round trips ---- */

struct engine {
	enum gzip_engine engine;
	int level;
};

static const struct engine engines[] = {
	{GZIP_ENGINE_ZLIB, 6},	     {GZIP_ENGINE_ISAL, 1},
	{GZIP_ENGINE_ISAL, 3},	     {GZIP_ENGINE_LIBDEFLATE, 2},
	{GZIP_ENGINE_LIBDEFLATE, 9}, {GZIP_ENGINE_AUTO, 0}, /* stored */
};

/* One round trip: gzip with O and PAT, then our gunzip (1-byte and
 * random writes) and, when PROGRAM, the gzip program. */
static void round_trip(const struct gzip_options *o, size_t len,
		       enum pattern pat, bool program)
{
	struct agent_error err = {0};
	uint8_t *data = make_data(len, (uint32_t)len + 1), *gz, *back;
	size_t gz_len, back_len;

	assert_int_equal(gzip_buf(o, data, len, pat, &gz, &gz_len, &err),
			 AGENT_OK);
	assert_true(gz_len >= 20); /* at least one member */
	assert_int_equal(gz[0], 0x1f);
	assert_int_equal(gz[1], 0x8b);

	/* back in 1-byte writes, unless that is slow (under ASan) */
	assert_int_equal(
		gunzip_buf(gz, gz_len,
			   pat == BYTES || len > 8 * BLOCK ? RANDOM : BYTES,
			   &back, &back_len, &err),
		AGENT_OK);
	assert_int_equal(back_len, len);
	if (len)
		assert_memory_equal(back, data, len);
	free(back);
	if (program)
		expect_gzip_program_reads(gz, gz_len, data, len);
	free(gz);
	free(data);
}

static void test_gzip_round_trips(void **state)
{
	static const size_t sizes[] = {
		0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK, 5 * BLOCK + 17,
	};
	static const unsigned threads[] = {1, 4};
	struct gzip_options o = GZIP_OPTIONS_INIT;
	size_t e, t, i;

	(void)state;
	o.block_size = BLOCK;
	for (e = 0; e < sizeof(engines) / sizeof(engines[0]); e++) {
		for (t = 0; t < 2; t++) {
			o.engine = engines[e].engine;
			o.level = engines[e].level;
			o.threads = threads[t];
			for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
				round_trip(&o, sizes[i], WHOLE, true);
				round_trip(&o, sizes[i], RANDOM, false);
				if (sizes[i] <= 2 * BLOCK)
					round_trip(&o, sizes[i], BYTES, false);
			}
		}
	}
}

/* The default block (1 MiB) at and around its size, and many blocks in
 * flight (more than 2 x threads). */
static void test_gzip_default_block(void **state)
{
	static const size_t mib = 1024 * 1024;
	static const size_t sizes[] = {mib - 1, mib, mib + 1, 9 * mib + 3};
	struct gzip_options o = GZIP_OPTIONS_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		o.threads = 1;
		round_trip(&o, sizes[i], RANDOM, i == 0);
		o.threads = 4;
		round_trip(&o, sizes[i], RANDOM, i == 3);
	}
}

static void test_gzip_empty_is_gzip(void **state)
{
	struct gzip_options o = GZIP_OPTIONS_INIT;
	struct agent_error err = {0};
	uint8_t *gz;
	size_t gz_len, e;
	const char *path;
	char cmd[128];

	(void)state;
	for (e = 0; e < sizeof(engines) / sizeof(engines[0]); e++) {
		o.engine = engines[e].engine;
		o.level = engines[e].level;
		o.threads = e % 2 ? 4 : 1;
		assert_int_equal(
			gzip_buf(&o, NULL, 0, WHOLE, &gz, &gz_len, &err),
			AGENT_OK);
		path = temp_file(gz, gz_len);
		snprintf(cmd, sizeof(cmd), "gzip -t < %s", path);
		assert_int_equal(system(cmd), 0);
		unlink(path);
		expect_gzip_program_reads(gz, gz_len, NULL, 0);
		free(gz);
	}
}

/* With zlib, libdeflate (and stored), the same input gives the same
 * bytes, whatever the threads and the writes: each member depends on its
 * block alone.
 * Not asserted for ISA-L: its output was seen to differ, rarely (~1 run
 * in 100), between runs on the same block: a different but valid match
 * choice, the same data once decompressed (see stages.h). */
static void test_gzip_reproducible(void **state)
{
	struct gzip_options o = GZIP_OPTIONS_INIT;
	struct agent_error err = {0};
	uint8_t *data = make_data(20 * BLOCK + 5, 13), *one, *four;
	size_t one_len, four_len, e;

	(void)state;
	o.block_size = BLOCK;
	for (e = 0; e < sizeof(engines) / sizeof(engines[0]); e++) {
		if (engines[e].engine == GZIP_ENGINE_ISAL)
			continue;
		o.engine = engines[e].engine;
		o.level = engines[e].level;
		o.threads = 1;
		assert_int_equal(gzip_buf(&o, data, 20 * BLOCK + 5, WHOLE, &one,
					  &one_len, &err),
				 AGENT_OK);
		o.threads = 4;
		assert_int_equal(gzip_buf(&o, data, 20 * BLOCK + 5, RANDOM,
					  &four, &four_len, &err),
				 AGENT_OK);
		assert_int_equal(one_len, four_len);
		assert_memory_equal(one, four, one_len);
		free(one);
		free(four);
	}
	free(data);
}

/* Random bytes do not compress: every engine falls back to stored
 * blocks within the output bound, in small blocks and default ones. */
static void test_gzip_incompressible(void **state)
{
	static const struct engine all[] = {
		{GZIP_ENGINE_ISAL, 0},	     {GZIP_ENGINE_ISAL, 1},
		{GZIP_ENGINE_ISAL, 2},	     {GZIP_ENGINE_ISAL, 3},
		{GZIP_ENGINE_ZLIB, 0},	     {GZIP_ENGINE_ZLIB, 1},
		{GZIP_ENGINE_ZLIB, 9},	     {GZIP_ENGINE_LIBDEFLATE, 0},
		{GZIP_ENGINE_LIBDEFLATE, 1}, {GZIP_ENGINE_LIBDEFLATE, 2},
		{GZIP_ENGINE_LIBDEFLATE, 9}, {GZIP_ENGINE_LIBDEFLATE, 12},
	};
	struct gzip_options o = GZIP_OPTIONS_INIT;
	struct agent_error err = {0};
	size_t len = 1024 * 1024 + 1, i, e, gz_len, back_len;
	uint8_t *data = malloc(len), *gz, *back;
	uint32_t seed = 99;

	(void)state;
	assert_non_null(data);
	for (i = 0; i < len; i++)
		data[i] = (uint8_t)rnd(&seed);
	for (e = 0; e < sizeof(all) / sizeof(all[0]); e++) {
		o.engine = all[e].engine;
		o.level = all[e].level;
		o.threads = 2;
		o.block_size = e % 2 ? BLOCK : 1024 * 1024;
		assert_int_equal(
			gzip_buf(&o, data, len, WHOLE, &gz, &gz_len, &err),
			AGENT_OK);
		assert_true(gz_len < len + len / 50);
		assert_int_equal(
			gunzip_buf(gz, gz_len, RANDOM, &back, &back_len, &err),
			AGENT_OK);
		assert_int_equal(back_len, len);
		assert_memory_equal(back, data, len);
		free(back);
		free(gz);
	}
	free(data);
}

/* Every level libdeflate has, through the stage on 2 threads: our
 * gunzip and the gzip program read each; the levels that compress give
 * fewer bytes than the input, level 0 (stored) a few more. */
static void test_gzip_libdeflate_levels(void **state)
{
	struct gzip_options o = GZIP_OPTIONS_INIT;
	struct agent_error err = {0};
	size_t len = 6 * BLOCK + 7, gz_len, back_len;
	uint8_t *data = make_data(len, 5), *gz, *back;

	(void)state;
	o.engine = GZIP_ENGINE_LIBDEFLATE;
	o.block_size = BLOCK;
	o.threads = 2;
	for (o.level = 0; o.level <= 12; o.level++) {
		assert_int_equal(
			gzip_buf(&o, data, len, RANDOM, &gz, &gz_len, &err),
			AGENT_OK);
		if (o.level == 0)
			assert_true(gz_len > len);
		else
			assert_true(gz_len < len * 3 / 4);
		assert_int_equal(
			gunzip_buf(gz, gz_len, RANDOM, &back, &back_len, &err),
			AGENT_OK);
		assert_int_equal(back_len, len);
		assert_memory_equal(back, data, len);
		expect_gzip_program_reads(gz, gz_len, data, len);
		free(back);
		free(gz);
	}
	free(data);
}

/* Members: one per block, each a whole gzip member. */
static void test_gzip_members(void **state)
{
	struct gzip_options o = GZIP_OPTIONS_INIT;
	struct agent_error err = {0};
	uint8_t *data = make_data(3 * BLOCK + 1, 9), *gz;
	size_t gz_len, i, members = 0;

	(void)state;
	o.block_size = BLOCK;
	o.threads = 4;
	o.level = 6;
	assert_int_equal(
		gzip_buf(&o, data, 3 * BLOCK + 1, BYTES, &gz, &gz_len, &err),
		AGENT_OK);
	/* Walk the members with zlib, one inflate per member. */
	for (i = 0; i < gz_len;) {
		z_stream z = {0};
		uint8_t out[2 * BLOCK];

		assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
		z.next_in = gz + i;
		z.avail_in = (uInt)(gz_len - i);
		z.next_out = out;
		z.avail_out = sizeof(out);
		assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
		assert_int_equal(z.total_out, members < 3 ? BLOCK : 1);
		assert_memory_equal(out, data + members * BLOCK, z.total_out);
		i += z.total_in;
		inflateEnd(&z);
		members++;
	}
	assert_int_equal(members, 4);
	free(gz);
	free(data);
}

/* The next stage fails: the code and its message come back unchanged,
 * with workers busy; freeing the broken chain joins them. */
static void test_gzip_next_fails(void **state)
{
	struct memory_options mo = {.cap = 1000};
	struct gzip_options o = GZIP_OPTIONS_INIT;
	struct agent_error err = {0};
	uint8_t *data = make_data(40 * BLOCK, 4), *out;
	struct stream *sink, *gz;
	size_t out_len;
	unsigned t;

	(void)state;
	o.block_size = BLOCK;
	o.engine = GZIP_ENGINE_AUTO;
	o.level = 0; /* stored: 4 KiB blocks stay 4 KiB */
	for (t = 1; t <= 4; t += 3) {
		memset(&err, 0, sizeof(err));
		o.threads = t;
		assert_int_equal(stage_memory_new(&sink, &err, &mo), AGENT_OK);
		assert_int_equal(stage_gzip_new(&gz, sink, &err, &o), AGENT_OK);
		assert_int_equal(drain(gz, sink, data, 40 * BLOCK, RANDOM, &out,
				       &out_len),
				 AGENT_ELIMIT);
		assert_string_equal(err.msg,
				    "memory sink: more than 1000 bytes");
		assert_null(out);
	}

	/* Freed mid-stream, blocks in flight, without finishing. */
	memset(&err, 0, sizeof(err));
	o.threads = 4;
	o.level = 1;
	assert_int_equal(stage_null_new(&sink, &err), AGENT_OK);
	assert_int_equal(stage_gzip_new(&gz, sink, &err, &o), AGENT_OK);
	assert_int_equal(stream_write(gz, data, 40 * BLOCK), AGENT_OK);
	stream_free_chain(gz);
	free(data);
}

static void test_gzip_options(void **state)
{
	struct gzip_options o = GZIP_OPTIONS_INIT;
	struct agent_error err = {0};
	struct stream dummy, *gz = &dummy;
	int level;

	(void)state;
	/* the mapping of the configuration's level: 0 stored (zlib), 1
	 * ISA-L, 2..9 libdeflate, each at the same level */
	for (o.level = 0; o.level <= 9; o.level++) {
		const char *want = o.level == 0	  ? "zlib"
				   : o.level == 1 ? "isal"
						  : "libdeflate";
		assert_string_equal(stage_gzip_engine_name(&o, &level), want);
		assert_int_equal(level, o.level);
	}
	o.level = 10;
	assert_null(stage_gzip_engine_name(&o, &level));
	assert_int_equal(stage_gzip_new(&gz, NULL, &err, &o), AGENT_EIO);
	assert_null(gz);
	assert_string_equal(err.msg, "gzip: bad options: level 10");

	memset(&err, 0, sizeof(err));
	o.engine = GZIP_ENGINE_ISAL;
	o.level = 4;
	assert_int_equal(stage_gzip_new(&gz, NULL, &err, &o), AGENT_EIO);
	assert_string_equal(err.msg, "gzip: bad options: level 4");
	o.level = 0; /* ISA-L's own level 0 is valid */
	assert_string_equal(stage_gzip_engine_name(&o, &level), "isal");

	/* libdeflate's own levels: 0..12 */
	o.engine = GZIP_ENGINE_LIBDEFLATE;
	o.level = 12;
	assert_string_equal(stage_gzip_engine_name(&o, &level), "libdeflate");
	assert_int_equal(level, 12);
	o.level = 0;
	assert_string_equal(stage_gzip_engine_name(&o, &level), "libdeflate");
	memset(&err, 0, sizeof(err));
	o.level = 13;
	assert_null(stage_gzip_engine_name(&o, &level));
	assert_int_equal(stage_gzip_new(&gz, NULL, &err, &o), AGENT_EIO);
	assert_null(gz);
	assert_string_equal(err.msg, "gzip: bad options: level 13");
	memset(&err, 0, sizeof(err));
	o.level = -1;
	assert_int_equal(stage_gzip_new(&gz, NULL, &err, &o), AGENT_EIO);
	assert_string_equal(err.msg, "gzip: bad options: level -1");

	/* an engine that does not exist */
	memset(&err, 0, sizeof(err));
	o.engine = (enum gzip_engine)42;
	o.level = 1;
	assert_null(stage_gzip_engine_name(&o, &level));
	assert_int_equal(stage_gzip_new(&gz, NULL, &err, &o), AGENT_EIO);
	o.engine = GZIP_ENGINE_ISAL;

	memset(&err, 0, sizeof(err));
	o.block_size = 0;
	assert_int_equal(stage_gzip_new(&gz, NULL, &err, &o), AGENT_EIO);
	assert_string_equal(err.msg, "gzip: bad options: block size 0");

	memset(&err, 0, sizeof(err));
	o.block_size = BLOCK;
	o.threads = GZIP_THREADS_MAX + 1;
	assert_int_equal(stage_gzip_new(&gz, NULL, &err, &o), AGENT_EIO);
	assert_string_equal(err.msg, "gzip: bad options: 65 threads");

	/* the defaults: the configuration's default level, libdeflate 2 */
	o = (struct gzip_options)GZIP_OPTIONS_INIT;
	assert_string_equal(stage_gzip_engine_name(&o, &level), "libdeflate");
	assert_int_equal(level, 2);
	assert_int_equal(o.threads, 0);
	assert_int_equal(o.block_size, 1024 * 1024);
}

/* ---- gunzip ---- */

/* What the gzip program writes (a header with FNAME), and several
 * members of it concatenated, the way `cat a.gz b.gz` does. */
static void test_gunzip_reads_gzip_program(void **state)
{
	struct agent_error err = {0};
	uint8_t *data = make_data(70000, 11), *gz, *two, *out;
	size_t gz_len, out_len;

	(void)state;
	gz = gzip_program(data, 70000, &gz_len);
	assert_true(gz[3] & 0x08); /* FNAME */
	assert_int_equal(gunzip_buf(gz, gz_len, BYTES, &out, &out_len, &err),
			 AGENT_OK);
	assert_int_equal(out_len, 70000);
	assert_memory_equal(out, data, 70000);
	free(out);

	two = malloc(2 * gz_len);
	assert_non_null(two);
	memcpy(two, gz, gz_len);
	memcpy(two + gz_len, gz, gz_len);
	assert_int_equal(
		gunzip_buf(two, 2 * gz_len, RANDOM, &out, &out_len, &err),
		AGENT_OK);
	assert_int_equal(out_len, 140000);
	assert_memory_equal(out + 70000, data, 70000);
	free(out);
	free(two);
	free(gz);
	free(data);
}

/* Every optional header field: FEXTRA, FNAME, FCOMMENT, FHCRC. */
static void test_gunzip_header_fields(void **state)
{
	static const char text[] = "every optional header field";
	unsigned char extra[] = "AB\x04\x00wxyz";
	gz_header head = {0};
	struct agent_error err = {0};
	uint8_t gz[512], *out;
	size_t gz_len, out_len, i;
	z_stream z = {0};

	(void)state;
	head.extra = extra;
	head.extra_len = 8;
	head.name = (Bytef *)(uintptr_t) "dump.sql";
	head.comment = (Bytef *)(uintptr_t) "a comment";
	head.hcrc = 1;
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
				      Z_DEFAULT_STRATEGY),
			 Z_OK);
	assert_int_equal(deflateSetHeader(&z, &head), Z_OK);
	z.next_in = (const Bytef *)text;
	z.avail_in = sizeof(text) - 1;
	z.next_out = gz;
	z.avail_out = sizeof(gz);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	gz_len = z.total_out;
	deflateEnd(&z);
	assert_int_equal(gz[3], 0x02 | 0x04 | 0x08 | 0x10);

	assert_int_equal(gunzip_buf(gz, gz_len, BYTES, &out, &out_len, &err),
			 AGENT_OK);
	assert_int_equal(out_len, sizeof(text) - 1);
	assert_memory_equal(out, text, out_len);
	free(out);

	/* the header CRC: after 10 fixed bytes, XLEN and the extra field,
	 * "dump.sql" and "a comment" with their zero bytes */
	i = 10 + 2 + 8 + 9 + 10;
	assert_int_equal(gz[i - 1], 0);
	gz[i] ^= 0x01;
	expect_gunzip_error(gz, gz_len, AGENT_ECORRUPT,
			    "gunzip: member 1: header CRC mismatch");
}

static void test_gunzip_not_gzip(void **state)
{
	static const uint8_t method[] = {0x1f, 0x8b, 7, 0, 0, 0, 0, 0, 0, 3};
	static const uint8_t flags[] = {0x1f, 0x8b, 8, 0x20, 0, 0, 0, 0, 0, 3};

	(void)state;
	expect_gunzip_error((const uint8_t *)"hello, world\n", 13,
			    AGENT_EFORMAT,
			    "gunzip: not gzip data (bad magic number)");
	expect_gunzip_error((const uint8_t *)"\x1f\x9d\x90", 3, AGENT_EFORMAT,
			    "gunzip: not gzip data (bad magic number)");
	expect_gunzip_error(method, sizeof(method), AGENT_EFORMAT,
			    "gunzip: member 1: unknown compression method 7");
	expect_gunzip_error(flags, sizeof(flags), AGENT_EFORMAT,
			    "gunzip: member 1: reserved header flags set "
			    "(0x20)");
}

static void test_gunzip_truncated(void **state)
{
	uint8_t *plain, *gz, *two;
	size_t plain_len, gz_len, cut;

	(void)state;
	gz = small_gz(&gz_len, &plain, &plain_len);
	expect_gunzip_error(gz, 0, AGENT_ETRUNC,
			    "gunzip: gzip data ends early (no data)");
	/* in the magic, the header, the deflate data, the trailer */
	for (cut = 1; cut < gz_len; cut += cut < 12 ? 1 : 3)
		expect_gunzip_error(gz, cut, AGENT_ETRUNC,
				    "gunzip: gzip data ends early (in member "
				    "1)");
	/* in the second member */
	two = malloc(2 * gz_len);
	assert_non_null(two);
	memcpy(two, gz, gz_len);
	memcpy(two + gz_len, gz, gz_len);
	for (cut = gz_len + 1; cut < 2 * gz_len; cut += 5)
		expect_gunzip_error(two, cut, AGENT_ETRUNC,
				    "gunzip: gzip data ends early (in member "
				    "2)");
	free(two);
	free(gz);
	free(plain);
}

static void test_gunzip_trailing_garbage(void **state)
{
	uint8_t *plain, *gz, *junk;
	size_t plain_len, gz_len;

	(void)state;
	gz = small_gz(&gz_len, &plain, &plain_len);
	junk = malloc(gz_len + 8);
	assert_non_null(junk);
	memcpy(junk, gz, gz_len);
	memcpy(junk + gz_len, "junk", 4);
	expect_gunzip_error(junk, gz_len + 4, AGENT_EFORMAT,
			    "gunzip: trailing garbage after gzip member 1");
	memset(junk + gz_len, 0, 8); /* zero padding, as tar leaves */
	expect_gunzip_error(junk, gz_len + 8, AGENT_EFORMAT,
			    "gunzip: trailing garbage after gzip member 1");
	junk[gz_len] = 0x1f; /* half a magic number */
	expect_gunzip_error(junk, gz_len + 2, AGENT_EFORMAT,
			    "gunzip: trailing garbage after gzip member 1");
	free(junk);
	free(gz);
	free(plain);
}

static void test_gunzip_corrupt(void **state)
{
	struct gzip_options o = GZIP_OPTIONS_INIT;
	struct agent_error err = {0};
	uint8_t *plain, *gz, *data, *big, *out;
	size_t plain_len, gz_len, big_len, member, at, out_len;
	char msg[128];
	uint32_t crc;

	(void)state;
	gz = small_gz(&gz_len, &plain, &plain_len);

	/* the stored CRC-32 */
	crc = (uint32_t)gz[gz_len - 8] | (uint32_t)gz[gz_len - 7] << 8 |
	      (uint32_t)gz[gz_len - 6] << 16 | (uint32_t)gz[gz_len - 5] << 24;
	gz[gz_len - 8] ^= 0xff;
	snprintf(msg, sizeof(msg),
		 "gunzip: member 1: CRC-32 mismatch (stored %08x, data %08x)",
		 crc ^ 0xffu, crc);
	expect_gunzip_error(gz, gz_len, AGENT_ECORRUPT, msg);
	gz[gz_len - 8] ^= 0xff;

	/* the stored length (ISIZE) */
	gz[gz_len - 4] ^= 0x01;
	snprintf(msg, sizeof(msg),
		 "gunzip: member 1: length mismatch (stored %zu, data %zu "
		 "modulo 2^32)",
		 plain_len ^ 1, plain_len);
	expect_gunzip_error(gz, gz_len, AGENT_ECORRUPT, msg);
	gz[gz_len - 4] ^= 0x01;

	/* invalid deflate data: a reserved block type (BTYPE 11) */
	gz[10] |= 0x06;
	expect_gunzip_error(gz, gz_len, AGENT_ECORRUPT,
			    "gunzip: member 1: deflate data is corrupt: "
			    "invalid block type");
	free(gz);
	free(plain);

	/* A flipped byte in the middle of a file of 3 stored members: the
	 * data of member 2 changes, its CRC-32 tells. */
	data = make_data(3 * BLOCK, 21);
	o.block_size = BLOCK;
	o.engine = GZIP_ENGINE_AUTO;
	o.level = 0;
	o.threads = 1;
	assert_int_equal(
		gzip_buf(&o, data, 3 * BLOCK, WHOLE, &big, &big_len, &err),
		AGENT_OK);
	member = 10 + 5 + BLOCK + 8; /* header, a stored block, trailer */
	assert_int_equal(big_len, 3 * member);
	at = big_len / 2 - member - 15; /* in member 2's data */
	crc = (uint32_t)crc32(0, data + BLOCK, BLOCK);
	data[BLOCK + at] ^= 0x10;
	big[big_len / 2] ^= 0x10;
	snprintf(msg, sizeof(msg),
		 "gunzip: member 2: CRC-32 mismatch (stored %08x, data %08x)",
		 crc, (uint32_t)crc32(0, data + BLOCK, BLOCK));
	expect_gunzip_error(big, big_len, AGENT_ECORRUPT, msg);
	free(big);

	/* The same in compressed data: the deflate data or the CRC-32
	 * breaks, depending on the byte; either way member 2 is corrupt. */
	o.engine = GZIP_ENGINE_ZLIB;
	o.level = 6;
	assert_int_equal(
		gzip_buf(&o, data, 3 * BLOCK, WHOLE, &big, &big_len, &err),
		AGENT_OK);
	big[big_len / 2] ^= 0x10;
	assert_int_equal(gunzip_buf(big, big_len, RANDOM, &out, &out_len, &err),
			 AGENT_ECORRUPT);
	assert_null(out);
	assert_true(strncmp(err.msg, "gunzip: member 2: ", 18) == 0);
	free(big);
	free(data);
}

/* However much a write expands, the next stage gets chunks <= 64 KiB. */
struct chunks {
	struct stream base;
	size_t largest, total;
};

static int chunks_write(struct stream *s, const void *data, size_t len)
{
	struct chunks *c = (struct chunks *)s;

	(void)data;
	if (len > c->largest)
		c->largest = len;
	c->total += len;
	return AGENT_OK;
}

static int chunks_finish(struct stream *s)
{
	(void)s;
	return AGENT_OK;
}

static void chunks_free(struct stream *s)
{
	(void)s;
}

static const struct stream_ops chunks_ops = {
	.name = "chunks",
	.write = chunks_write,
	.finish = chunks_finish,
	.free = chunks_free,
};

static void test_gunzip_chunks(void **state)
{
	struct chunks c = {.base = {.ops = &chunks_ops}};
	struct gzip_options o = GZIP_OPTIONS_INIT;
	struct agent_error err = {0};
	size_t len = 8 * 1024 * 1024, gz_len;
	uint8_t *zeros = calloc(1, len), *gz;
	struct stream *gun;

	(void)state;
	assert_non_null(zeros);
	c.base.err = &err;
	o.threads = 1;
	o.engine = GZIP_ENGINE_ZLIB;
	o.level = 9;
	o.block_size = len;
	assert_int_equal(gzip_buf(&o, zeros, len, WHOLE, &gz, &gz_len, &err),
			 AGENT_OK);
	assert_true(gz_len < 10000); /* ~1000x */
	assert_int_equal(stage_gunzip_new(&gun, &c.base, &err), AGENT_OK);
	assert_int_equal(stream_write(gun, gz, gz_len), AGENT_OK);
	assert_int_equal(stream_finish(gun), AGENT_OK);
	assert_int_equal(c.total, len);
	assert_int_equal(c.largest, 64 * 1024);
	stream_free(gun);
	free(gz);
	free(zeros);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_hash_pass_through),
		cmocka_unit_test(test_sinks),
		cmocka_unit_test(test_gzip_round_trips),
		cmocka_unit_test(test_gzip_default_block),
		cmocka_unit_test(test_gzip_empty_is_gzip),
		cmocka_unit_test(test_gzip_reproducible),
		cmocka_unit_test(test_gzip_incompressible),
		cmocka_unit_test(test_gzip_libdeflate_levels),
		cmocka_unit_test(test_gzip_members),
		cmocka_unit_test(test_gzip_next_fails),
		cmocka_unit_test(test_gzip_options),
		cmocka_unit_test(test_gunzip_reads_gzip_program),
		cmocka_unit_test(test_gunzip_header_fields),
		cmocka_unit_test(test_gunzip_not_gzip),
		cmocka_unit_test(test_gunzip_truncated),
		cmocka_unit_test(test_gunzip_trailing_garbage),
		cmocka_unit_test(test_gunzip_corrupt),
		cmocka_unit_test(test_gunzip_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
