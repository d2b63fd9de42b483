/*
 * report: what `offsite list` and `offsite status` say about the backups
 * in the bucket, worked out without any I/O so that tests can feed it
 * made-up backups and a fixed clock. The commands do the listing and the
 * printing.
 */
#ifndef OFFSITE_AGENT_REPORT_H
#define OFFSITE_AGENT_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf/conf.h"
#include "retention/retention.h"

/* "2026-11-23T09:30:00Z" (20 characters + NUL). */
#define REPORT_TIME_MAX 21
const char *report_time(char buf[REPORT_TIME_MAX], time_t t);

/* Sizes for people: "0 B", "512 B", "1.0 KiB", "1.2 GiB", up to EiB. */
#define REPORT_SIZE_MAX 24
const char *report_size(char buf[REPORT_SIZE_MAX], uint64_t bytes);

/* Ages for people, the two largest units: "45s", "2h5m", "3d", "3d2h". */
#define REPORT_AGE_MAX 32
const char *report_age(char buf[REPORT_AGE_MAX], uint64_t seconds);

/*
 * What a backup is, in one word: "complete", "incomplete" (no manifest),
 * "unverified" (a manifest that was not accepted), "unencrypted" (not
 * encrypted where encryption is configured), "future" (dated later than
 * now plus the tolerance: ignored), "unchecked" (not judged).
 */
const char *report_state(const struct retention_backup *x);

/*
 * `offsite list --json`: one document,
 *   {"bucket": B, "prefix": P, "backups": [{"key", "type", "database",
 *    "created", "size", "encrypted", "complete", "state"}, ...]}
 * in the order of B (newest first); "encrypted" as the accepted manifest
 * says (else as the key does), "state" report_state()'s word. A new
 * reference, or NULL when out of memory.
 */
json_t *report_list_json(const char *bucket, const char *prefix,
			 const struct retention_backups *b);

/* Totals of one backup type, complete or not. */
struct report_type_total {
	char type[RETENTION_NAME_MAX];
	size_t count;
	size_t complete;
	uint64_t bytes;
};

/*
 * The newest complete backup of one (type, database) pair, against its
 * maximum age. A type that should have backups and has none at all is a
 * pair whose database is "" (any). NEWEST is NULL when the pair has no
 * complete backup.
 */
struct report_pair {
	char type[RETENTION_NAME_MAX];
	char database[RETENTION_NAME_MAX];
	const struct retention_backup *newest; /* points into the backups */
	uint64_t age;			       /* seconds; 0 without NEWEST */
	uint64_t max_age;		       /* seconds; 0: not checked */
	bool stale; /* too old, or no complete backup where one is due */
};

struct report_status {
	/* Every figure below leaves out the backups dated in the future:
	 * they are only counted here, and are a problem of their own. */
	size_t future;
	const struct retention_backup *newest_future; /* NULL when none */
	struct report_type_total total;		      /* type is "" */
	struct report_type_total *types;	      /* sorted by type */
	size_t ntypes;
	/* Of every backup, complete or not; NULL when there is none. */
	const struct retention_backup *newest, *oldest;
	struct report_pair *pairs; /* sorted by type, then database */
	size_t npairs;
	size_t pending;				       /* unfinished uploads */
	const struct retention_upload *oldest_pending; /* NULL when none */
	char **problems; /* one sentence per stale pair, in pair order */
	size_t nproblems;
};

struct report_status_options {
	const conf *c;	      /* max_age and max_age.TYPE, the types it names */
	const char *type;     /* the selection the backups were listed with; */
	const char *database; /* NULL: all */
	uint64_t max_age;     /* --max-age for every type; 0: from C */
	time_t now;
};

/*
 * Work out the status of the backups B and unfinished uploads U (both
 * already filtered by O->type and O->database). A pair is stale when a
 * maximum age applies to its type (O->max_age, else conf_type_max_age)
 * and its newest complete backup is older than that, or it has none. The
 * types checked are those in B, O->type, and the types C names in
 * [retention] that have a maximum age (with O->max_age: all it names);
 * one of those with no backup at all is a stale pair of its own. So is
 * an empty selection when a maximum age applies to every type. Backups
 * dated in the future are one problem, whatever the maximum age. OUT
 * points into B and U, which must outlive it. Returns 0, or ENOMEM.
 */
int report_status_build(struct report_status *out,
			const struct retention_backups *b,
			const struct retention_uploads *u,
			const struct report_status_options *o);
void report_status_dispose(struct report_status *s);

/*
 * `offsite status --json`: {"bucket", "prefix", "now", "healthy",
 * "problems": [...], "total": {"count", "complete", "bytes"}, "types":
 * [{"type", "count", "complete", "bytes"}], "newest": BACKUP|null,
 * "oldest": BACKUP|null, "latest": [{"type", "database"|null, "key"|null,
 * "created"|null, "age"|null, "max_age"|null, "stale"}], "pending":
 * {"count", "oldest": {"key", "initiated"}|null}, "future": {"count",
 * "newest": KEY|null}}, BACKUP being {"key", "created", "size",
 * "complete", "state"}; ages in seconds. A new reference, or NULL when
 * out of memory.
 */
json_t *report_status_json(const char *bucket, const char *prefix,
			   const struct report_status *s, time_t now);

#endif
