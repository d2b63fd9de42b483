/*
 * Stale uploads: which unfinished multipart uploads of ours may be
 * aborted. One decision, used by `offsite backup` (at start) and
 * `offsite retention prune`.
 *
 * An upload is stale only when it cannot still be running:
 *
 *   - its key follows the layout (it is ours) and it is at least AFTER
 *     old ([retention] abort_incomplete_days, which is never shorter than
 *     the longest a run may last: conf_longest_run), by the server's
 *     clock (its Initiated time);
 *   - and no run is still writing it. A backup writes a small marker
 *     object, <key>.uploading, before its upload begins and deletes it
 *     when the run ends; it names the host, the process and the longest
 *     that run may last. An upload whose marker names another host is
 *     alive until its own longest run has passed (we cannot see that
 *     host's processes). One whose marker names this host, or that has
 *     no marker (a run that could not write one, or an older offsite),
 *     is alive while a run of its database holds the run lock on this
 *     host: the caller's probe tells (agent/lock.h).
 *
 * The marker is not part of the layout (retention_key_parse refuses its
 * name), so list, status and prune never count it; a marker left by a
 * killed run goes when its upload is aborted, or with its type's
 * lifecycle rule.
 */
#ifndef OFFSITE_RETENTION_STALE_H
#define OFFSITE_RETENTION_STALE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "conf/conf.h"
#include "retention/retention.h"
#include "s3/s3.h"

#define RETENTION_MARKER_SUFFIX ".uploading"
#define RETENTION_MARKER_MAX	1024 /* bytes: a larger one is not ours */
#define RETENTION_HOST_MAX	64   /* host names in markers, NUL included */
/* A marker never keeps an upload alive longer than this (a year and a
 * day: [database] timeout is at most 365 days). */
#define RETENTION_LONGEST_RUN_CAP (366 * UINT64_C(86400))

/* What a marker says about the run writing an upload. */
struct retention_marker {
	char host[RETENTION_HOST_MAX]; /* [A-Za-z0-9.-], 1..63 */
	long pid;		       /* 1..INT32_MAX */
	time_t started;		       /* UTC, informative */
	uint64_t longest_run; /* seconds, 1..RETENTION_LONGEST_RUN_CAP */
};

/*
 * The age, in seconds, from which an unfinished upload may be aborted:
 * [retention] abort_incomplete_days, the same days the bucket's abort
 * rule waits (retention_rules_wanted), for backup and prune alike.
 */
uint64_t retention_stale_after(const conf *c);

/* HOST as it goes in a marker: at most 63 characters, every one outside
 * [A-Za-z0-9.-] replaced by '-', "host" when empty. */
void retention_host_token(char out[RETENTION_HOST_MAX], const char *host);

/* KEY's marker: KEY RETENTION_MARKER_SUFFIX, a new string. */
int retention_marker_key(char **out, const char *key);

/*
 * The marker's text (a new string):
 *
 *   offsite-upload 1
 *   host=db01
 *   pid=4242
 *   started=20261123T020000Z
 *   longest_run=172800
 *
 * Parse checks every line in every build (it comes from the bucket): the
 * first line as above, then each of the four keys once, in any order,
 * values in range; anything else is RETENTION_EINVAL.
 */
int retention_marker_format(char **out, const struct retention_marker *m);
int retention_marker_parse(struct retention_marker *m, const char *text,
			   size_t len);

/* Write KEY's marker; delete it (a missing one is not an error).
 * Retention codes, with ERR set. */
int retention_marker_put(s3_client *c, const char *key,
			 const struct retention_marker *m,
			 struct retention_error *err);
int retention_marker_delete(s3_client *c, const char *key,
			    struct retention_error *err);

/* Whether a run of a database is going on this host. */
enum retention_run {
	RETENTION_RUN_GONE,
	RETENTION_RUN_ALIVE,
	RETENTION_RUN_UNKNOWN, /* could not tell: take it as alive */
};

struct retention_stale_options {
	const char *prefix;
	time_t now;	  /* the server's clock (ours plus its skew) */
	uint64_t after;	  /* seconds: younger uploads are left alone */
	const char *host; /* this host, as retention_host_token makes it */
	/* A database whose run lock the caller holds: no other run of it is
	 * going on this host. NULL for none. */
	const char *own_database;
	/*
	 * Is a run of DATABASE that started as process PID (0: not known)
	 * still going on this host? The agent's answer: PID gone, or no
	 * one holds the database's run lock.
	 */
	enum retention_run (*probe)(void *ctx, const char *database, long pid);
	void *probe_ctx;
};

enum retention_upload_verdict {
	RETENTION_NOT_OURS = 0,	  /* its key does not follow the layout */
	RETENTION_YOUNG,	  /* younger than AFTER */
	RETENTION_LIVE_HERE,	  /* a run on this host may still write it */
	RETENTION_LIVE_ELSEWHERE, /* its host's run may still be going */
	RETENTION_UNSURE,	  /* its marker could not be read */
	RETENTION_STALE,	  /* no run can still write it: abort it */
};

/* How a marker was found. */
enum retention_marker_state {
	RETENTION_MARKER_NONE,	    /* none, or not one of ours */
	RETENTION_MARKER_FOUND,	    /* read and valid */
	RETENTION_MARKER_UNREADABLE /* the GET failed */
};

/*
 * The decision, without I/O: U, whose marker is M when STATE is
 * RETENTION_MARKER_FOUND, judged at O->now. The probe is called only for
 * an upload of ours that is old enough and whose marker names this host
 * or that has none.
 */
enum retention_upload_verdict
retention_upload_judge(const struct s3_upload *u,
		       enum retention_marker_state state,
		       const struct retention_marker *m,
		       const struct retention_stale_options *o);

/* An unfinished upload of ours at least O->after old, and its verdict. */
struct retention_old_upload {
	struct s3_upload u; /* owned: key and upload_id */
	enum retention_upload_verdict verdict;
	char host[RETENTION_HOST_MAX]; /* from its marker; "" without one */
};

/*
 * List the unfinished uploads under O->prefix and judge every one of
 * ours at least O->after old, reading its marker (at most
 * RETENTION_MARKER_MAX bytes). *out (oldest first, *n of them) holds
 * each with its verdict; free it with retention_old_uploads_free. A
 * retention code, with ERR set, when the listing fails; a marker that
 * cannot be read makes its upload RETENTION_UNSURE, not an error.
 */
int retention_old_uploads(struct retention_old_upload **out, size_t *n,
			  s3_client *c, const struct retention_stale_options *o,
			  struct retention_error *err);
void retention_old_uploads_free(struct retention_old_upload *u, size_t n);

/* Abort a stale upload (one already gone is not an error), then delete
 * its marker (best effort: a marker left behind keeps nothing alive,
 * since its upload is gone). A retention code, with ERR set. */
int retention_stale_abort(s3_client *c, const struct s3_upload *u,
			  struct retention_error *err);

#endif
