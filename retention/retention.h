/*
 * retention: backup types, the layout of backups in the bucket, lifecycle
 * rules and client-side pruning. Uses s3 and conf, never agent.
 *
 * The layout (DESIGN.md):
 *
 *   <prefix><type>/<database>/<database>-<type>-<YYYYMMDDTHHMMSSZ>.<suffix>
 *
 * The type is the first path element after the prefix, so one lifecycle
 * rule per type covers every database. <suffix> is "sql.gz", with ".enc"
 * appended when encrypted; a backup's manifest is the backup key with
 * ".manifest" appended.
 */
#ifndef OFFSITE_RETENTION_H
#define OFFSITE_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "s3/s3.h"

enum retention_code {
	RETENTION_OK = 0,
	RETENTION_EINVAL, /* a name or key that does not fit the layout */
	RETENTION_ENOMEM,
};

#define RETENTION_NAME_MAX	  128
#define RETENTION_SUFFIX_MAX	  32
#define RETENTION_MANIFEST_SUFFIX ".manifest"

/* What a key in the bucket says about itself. */
struct retention_key {
	char type[RETENTION_NAME_MAX];
	char database[RETENTION_NAME_MAX];
	time_t created;			   /* UTC, from the key */
	char suffix[RETENTION_SUFFIX_MAX]; /* "sql.gz", "sql.gz.enc" */
	bool encrypted;			   /* suffix ends in ".enc" */
	bool manifest;			   /* the manifest of a backup */
};

/* Type names: 1..31 of [a-z0-9_-]. */
bool retention_type_valid(const char *type);

/* Database names: 1..127 of [A-Za-z0-9_.-], not "." or "..". */
bool retention_database_valid(const char *database);

/*
 * Build the key of a backup. PREFIX is "" or ends with '/'. SUFFIX is
 * "sql.gz" or "sql.gz.enc". *out is a new string owned by the caller.
 * Returns RETENTION_EINVAL for a type or database outside the rules above.
 */
int retention_key_format(char **out, const char *prefix, const char *type,
			 const char *database, time_t created,
			 const char *suffix);

/*
 * Parse KEY, which must start with PREFIX, into *out. Returns
 * RETENTION_EINVAL for any key that does not follow the layout exactly:
 * such objects are not ours and are never counted or deleted.
 */
int retention_key_parse(struct retention_key *out, const char *prefix,
			const char *key);

/* "20261123T093000Z" (16 characters + NUL) to and from time_t, UTC. */
void retention_format_time(time_t t, char out[17]);
int retention_parse_time(const char *s, time_t *out);

/* A backup found in the bucket. */
struct retention_backup {
	char *key;
	struct retention_key parsed;
	uint64_t size;
	time_t last_modified;
	bool complete; /* its manifest exists: only then is it a backup */
};

struct retention_backups {
	struct retention_backup *items; /* newest first */
	size_t n;
};

/*
 * Every backup under PREFIX, of TYPE and DATABASE when not NULL, newest
 * first, from one (paged) listing. Objects that do not follow the layout
 * are skipped: they are not ours. Returns an s3 code with ERR set.
 */
int retention_scan(struct retention_backups *out, s3_client *c,
		   const char *prefix, const char *type, const char *database,
		   s3_error *err);
void retention_backups_dispose(struct retention_backups *b);

/* An unfinished multipart upload of a backup: space used, no backup. */
struct retention_upload {
	char *key;
	struct retention_key parsed;
	time_t initiated; /* UTC */
};

struct retention_uploads {
	struct retention_upload *items; /* oldest first */
	size_t n;
};

/*
 * Every multipart upload in progress under PREFIX whose key follows the
 * layout, of TYPE and DATABASE when not NULL, oldest first. Uploads of
 * other keys are not ours and are skipped. Returns an s3 code with ERR
 * set.
 */
int retention_pending(struct retention_uploads *out, s3_client *c,
		      const char *prefix, const char *type,
		      const char *database, s3_error *err);
void retention_uploads_dispose(struct retention_uploads *u);

/* The newest complete backup, or NULL. */
const struct retention_backup *
retention_latest(const struct retention_backups *b);

#endif
