/*
 * gzipbench: speed and ratio of the gzip stage, per engine, level and
 * thread count, on one file; a benchmark, not a test.
 *
 * Build and run (from the top of the tree, no Makefile needed):
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I. -o /tmp/gzipbench \
 *      tests/bench/gzipbench.c agent/stage_gzip.c agent/stage_gunzip.c \
 *      agent/stage_hash.c agent/stream.c -lisal -ldeflate -lz -lcrypto \
 *      -lpthread
 *   tests/bench/mkdata.sh 200 /tmp/dump.sql
 *   /tmp/gzipbench /tmp/dump.sql                  (the default set)
 *   /tmp/gzipbench /tmp/dump.sql gzip zlib:6:1 isal:1:1 auto:1:2
 *
 * A configuration is ENGINE:LEVEL:THREADS (engine auto, zlib, isal or
 * libdeflate), or "gzip" for the gzip program at -6 (gzip -6 -c FILE >
 * /dev/null). The file is read into memory first and fed in 64 KiB
 * writes, as a pipe reader would; CPU time is the process's (all
 * threads) or the child's. Each output is then checked: gunzip stage +
 * SHA-256 against the input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/pipe/stages.h"
#include "agent/pipe/stages_internal.h"

#define FEED (64 * 1024)

struct result {
	double wall, cpu; /* seconds */
	uint64_t out;	  /* compressed bytes */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_of(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int read_file(const char *path, unsigned char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	size_t n = 0;

	*data = NULL;
	if (!f) {
		perror(path);
		return -1;
	}
	if (fstat(fileno(f), &st) != 0) {
		perror(path);
		fclose(f);
		return -1;
	}
	*len = (size_t)st.st_size;
	*data = malloc(*len ? *len : 1);
	if (*data)
		n = fread(*data, 1, *len, f);
	fclose(f);
	if (n != *len) {
		free(*data);
		*data = NULL;
		return -1;
	}
	return 0;
}

static int sha256(const void *data, size_t len, char hex[65])
{
	struct agent_error err = {0};
	struct stream *h = NULL;
	uint64_t bytes;
	int rc;

	rc = stage_hash_new(&h, NULL, &err);
	if (rc == 0)
		rc = stream_write(h, data, len);
	if (rc == 0)
		rc = stream_finish(h);
	if (rc == 0)
		rc = stage_hash_result(h, hex, &bytes);
	stream_free(h);
	return rc;
}

/* gunzip + SHA-256 of a compressed buffer. */
static int check(const void *gz, size_t len, const char *want)
{
	struct agent_error err = {0};
	struct stream *h = NULL, *gun = NULL;
	char hex[65];
	uint64_t bytes;
	int rc;

	rc = stage_hash_new(&h, NULL, &err);
	if (rc == 0)
		rc = stage_gunzip_new(&gun, h, &err);
	if (rc == 0)
		rc = stream_write(gun, gz, len);
	if (rc == 0)
		rc = stream_finish(gun);
	if (rc == 0)
		rc = stage_hash_result(h, hex, &bytes);
	if (rc == 0 && strcmp(hex, want) != 0)
		rc = agent_fail(&err, AGENT_ECORRUPT, "round trip differs");
	if (rc != 0)
		fprintf(stderr, "check failed: %s\n", err.msg);
	stream_free(gun);
	stream_free(h);
	return rc;
}

static int run_stage(const unsigned char *data, size_t len,
		     const struct gzip_options *o, const char *want,
		     struct result *r)
{
	struct agent_error err = {0};
	struct stream *sink = NULL, *gz = NULL;
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	double w0, c0;
	size_t off, n, outlen;
	const void *out;
	int rc;

	mo.cap = len + len / 8 + (1u << 20);
	rc = stage_memory_new(&sink, &err, &mo);
	w0 = now();
	c0 = cpu_of(RUSAGE_SELF);
	if (rc == 0)
		rc = stage_gzip_new(&gz, sink, &err, o);
	for (off = 0; rc == 0 && off < len; off += n) {
		n = len - off < FEED ? len - off : FEED;
		rc = stream_write(gz, data + off, n);
	}
	if (rc == 0)
		rc = stream_finish(gz);
	stream_free(gz); /* joins the workers: their CPU is counted */
	r->wall = now() - w0;
	r->cpu = cpu_of(RUSAGE_SELF) - c0;
	if (rc != 0) {
		fprintf(stderr, "gzip failed: %s\n", err.msg);
		stream_free(sink);
		return rc;
	}
	out = stage_memory_data(sink, &outlen);
	r->out = outlen;
	rc = check(out, outlen, want);
	stream_free(sink);
	return rc;
}

static int run_gzip_program(const char *path, struct result *r)
{
	double w0 = now(), c0 = cpu_of(RUSAGE_CHILDREN);
	char cmd[4096];
	FILE *p;
	char buf[1 << 16];
	size_t n;

	snprintf(cmd, sizeof(cmd), "gzip -6 -c '%s'", path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	r->out = 0;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		r->out += n;
	if (pclose(p) != 0)
		return -1;
	r->wall = now() - w0;
	r->cpu = cpu_of(RUSAGE_CHILDREN) - c0;
	return 0;
}

static int parse(const char *spec, struct gzip_options *o)
{
	char engine[16];

	*o = (struct gzip_options)GZIP_OPTIONS_INIT;
	if (sscanf(spec, "%15[a-z]:%d:%u", engine, &o->level, &o->threads) != 3)
		return -1;
	if (strcmp(engine, "auto") == 0)
		o->engine = GZIP_ENGINE_AUTO;
	else if (strcmp(engine, "zlib") == 0)
		o->engine = GZIP_ENGINE_ZLIB;
	else if (strcmp(engine, "isal") == 0)
		o->engine = GZIP_ENGINE_ISAL;
	else if (strcmp(engine, "libdeflate") == 0)
		o->engine = GZIP_ENGINE_LIBDEFLATE;
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const defaults[] = {
		"gzip",		  "zlib:6:1",	    "zlib:1:1",
		"isal:1:1",	  "isal:2:1",	    "isal:3:1",
		"libdeflate:1:1", "libdeflate:2:1", "libdeflate:3:1",
		"libdeflate:4:1", "libdeflate:6:1", "auto:1:2",
		"auto:2:2",	  "zlib:6:2",
	};
	const char *const *specs = defaults;
	size_t nspecs = sizeof(defaults) / sizeof(defaults[0]), i, len;
	struct gzip_options o;
	struct result r;
	unsigned char *data;
	char want[65], label[80];
	const char *name;
	double mb;
	int lvl;

	if (argc < 2) {
		fprintf(stderr, "usage: gzipbench FILE [gzip|ENGINE:LEVEL:"
				"THREADS ...]\n");
		return 2;
	}
	if (argc > 2) {
		specs = (const char *const *)(argv + 2);
		nspecs = (size_t)argc - 2;
	}
	if (read_file(argv[1], &data, &len) != 0 || sha256(data, len, want))
		return 1;
	mb = (double)len / 1e6;
	printf("%s: %.1f MB\n", argv[1], mb);
	printf("%-32s %9s %9s %12s %8s\n", "config", "MB/s", "cpu s",
	       "cpu ms/MB", "ratio");
	for (i = 0; i < nspecs; i++) {
		if (strcmp(specs[i], "gzip") == 0) {
			if (run_gzip_program(argv[1], &r) != 0)
				return 1;
			printf("%-32s", "gzip -6 (the program)");
		} else {
			if (parse(specs[i], &o) != 0) {
				fprintf(stderr, "bad config %s\n", specs[i]);
				return 2;
			}
			if (run_stage(data, len, &o, want, &r) != 0)
				return 1;
			name = stage_gzip_engine_name(&o, &lvl);
			snprintf(label, sizeof(label), "%s = %s %d", specs[i],
				 name, lvl);
			printf("%-32s", label);
		}
		printf(" %9.1f %9.2f %12.2f %8.3f\n", mb / r.wall, r.cpu,
		       r.cpu * 1000 / mb, (double)len / (double)r.out);
		fflush(stdout);
	}
	free(data);
	return 0;
}
