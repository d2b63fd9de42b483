/*
 * catalog: an optional history of backups and presigned URLs in a
 * PostgreSQL table ([catalog] conninfo and table), for applications that
 * show backup history. The bucket stays the source of truth: a row is
 * written after the fact, and a catalog that cannot be written costs one
 * warning in the log, never a failed backup or presign, never another
 * exit status.
 *
 * The table, created if missing:
 *
 *   id          bigserial primary key
 *   key         text not null      the backup's key in the bucket
 *   type        text               backup type (daily, manual, ...)
 *   database    text
 *   size        bigint             stored bytes; NULL when not known
 *   sha256      text               of the stored bytes (hex)
 *   created_at  timestamptz        when the backup started, or the URL
 *                                  was signed
 *   duration    double precision   seconds
 *   host        text               where offsite ran
 *   status      text not null      complete, failed or presigned
 *   detail      text               the error of a failed run; a presigned
 *                                  URL's expiry
 *
 * Values travel as query parameters, never inside the SQL text; the table
 * name is a plain identifier (conf checks it) and is quoted all the same.
 * Connecting waits at most CATALOG_CONNECT_TIMEOUT seconds unless the
 * conninfo or PGCONNECT_TIMEOUT says otherwise, and a statement at most
 * CATALOG_STATEMENT_TIMEOUT. The conninfo is never logged: libpq's
 * messages name the host and port, never the password.
 */
#ifndef OFFSITE_AGENT_CATALOG_H
#define OFFSITE_AGENT_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf/conf.h"

#define CATALOG_CONNECT_TIMEOUT	  "5"
#define CATALOG_STATEMENT_TIMEOUT "10s"

#define CATALOG_COMPLETE  "complete"
#define CATALOG_FAILED	  "failed"
#define CATALOG_PRESIGNED "presigned"

/* One row. NULL strings are stored as NULL. */
struct catalog_entry {
	const char *key; /* required */
	const char *type;
	const char *database;
	bool has_size;
	uint64_t size; /* stored bytes, when has_size */
	const char *sha256;
	time_t created_at; /* 0: NULL */
	double duration;   /* seconds; negative: NULL */
	const char *host;
	const char *status; /* required: CATALOG_COMPLETE, ... */
	const char *detail;
};

/*
 * Record E in C's catalog, creating the table if it is missing. Returns 0
 * when the row was written or C has no catalog; -1 when it was not, after
 * logging one warning ("catalog not updated", with the key and libpq's
 * reason). Callers go on either way.
 */
int catalog_record(const conf *c, const struct catalog_entry *e);

/*
 * For `offsite check`: connect to C's catalog and make sure rows can be
 * written: the table exists and takes inserts, or it is missing and can be
 * created (tried in a transaction that is rolled back). Returns 0 with a
 * one-line description in DETAIL, or -1 with what is wrong in DETAIL.
 * Logs nothing. C must have a catalog.
 */
int catalog_check(const conf *c, char *detail, size_t size);

#endif
