/*
 * manifest: the small JSON document written beside a backup once it is
 * complete. A backup without its manifest is not a backup.
 */
#ifndef OFFSITE_AGENT_MANIFEST_H
#define OFFSITE_AGENT_MANIFEST_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define MANIFEST_FORMAT 1
#define MANIFEST_MAX	(64 * 1024)

struct manifest {
	const char *key;
	const char *type;
	const char *database;
	const char *host;
	time_t started;
	double duration; /* seconds; read back: -1 when not known */
	uint64_t plain_bytes;
	char plain_sha256[65];
	uint64_t stored_bytes;
	char stored_sha256[65];
	unsigned parts; /* 0: a single PutObject */
	uint64_t largest_part;
	const char *compression_engine; /* "zlib", "isal", "libdeflate" */
	int compression_level;
	bool encrypted;
	char key_id[17];    /* hex, when encrypted */
	const char *driver; /* "postgres", "mysql", "command", "stdin" */
	const char *tool;   /* "pg_dump (PostgreSQL) 15.18", or "" */
	const char *format; /* plain, custom, tar, sql, raw: how to restore */
};

/* The JSON text (a new string, the caller frees it). 0 or -1. */
int manifest_format(char **out, const struct manifest *m);

/*
 * Parse TEXT into M; strings point into *STORE, which the caller frees
 * with manifest_store_free. 0, or -1 with WHY set.
 */
struct manifest_store;
int manifest_parse(struct manifest *m, struct manifest_store **store,
		   const char *text, size_t len, char *why, size_t whysize);
void manifest_store_free(struct manifest_store *store);

#endif
