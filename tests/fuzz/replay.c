/*
 * replay: runs a fuzz target over its corpus without libFuzzer, so that
 * `make check` (gcc, ASan+UBSan) and `make check-valgrind` replay every
 * seed and every regression input on every run.
 *
 *   replay_fuzz_NAME FILE|DIR...
 *
 * Each file is read whole into a buffer of exactly its size (so a read
 * past the end is caught) and given once to LLVMFuzzerTestOneInput, in
 * name order within a directory. Prints one line per file that failed to
 * be read and a last line "replayed N inputs". Exit 0, or 1 when a file
 * or directory cannot be read. A bug in the target ends the process
 * through the sanitizer, with its report.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

/* The largest corpus file replayed: seeds are small by design. */
#define REPLAY_MAX (16 * 1024 * 1024)

static int replay_file(const char *path, unsigned long *count)
{
	FILE *fp = NULL;
	uint8_t *buf = NULL;
	struct stat st;
	size_t len;
	int rc = 1;

	fp = fopen(path, "rb");
	if (fp == NULL || fstat(fileno(fp), &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (st.st_size < 0 || st.st_size > REPLAY_MAX) {
		fprintf(stderr, "replay: %s: larger than %d bytes\n", path,
			REPLAY_MAX);
		goto out;
	}
	len = (size_t)st.st_size;
	/* malloc(0) may answer NULL: keep one byte, pass a length of 0. */
	buf = malloc(len > 0 ? len : 1);
	if (buf == NULL) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		goto out;
	}
	if (len > 0 && fread(buf, 1, len, fp) != len) {
		fprintf(stderr, "replay: %s: short read\n", path);
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, len);
	(*count)++;
	rc = 0;
out:
	free(buf);
	if (fp != NULL)
		fclose(fp);
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir, unsigned long *count)
{
	DIR *d = NULL;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 1;

	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		goto out;
	}
	while ((e = readdir(d)) != NULL) {
		char *path;

		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			char **p = realloc(names, ncap * sizeof(*p));

			if (p == NULL)
				goto out;
			names = p;
			cap = ncap;
		}
		if (asprintf(&path, "%s/%s", dir, e->d_name) < 0)
			goto out;
		names[n++] = path;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	rc = 0;
	for (size_t i = 0; i < n; i++)
		if (replay_file(names[i], count) != 0)
			rc = 1;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (d != NULL)
		closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned long count = 0;
	int rc = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			rc |= replay_dir(argv[i], &count);
		} else {
			rc |= replay_file(argv[i], &count);
		}
	}
	printf("replayed %lu inputs\n", count);
	return rc;
}
