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

#include "conf/conf.h"
#include "s3/s3.h"

/*
 * Every public function of retention that can fail returns one of these
 * (0 is success); those that talk to the bucket also fill a struct
 * retention_error. An s3 failure is RETENTION_ES3 (RETENTION_ENOMEM for
 * s3's out of memory) with the s3 message whole.
 */
enum retention_code {
	RETENTION_OK = 0,
	RETENTION_EINVAL, /* a name or key that does not fit the layout */
	RETENTION_ENOMEM,
	RETENTION_EFUTURE, /* prune: a complete backup is dated in the future */
	RETENTION_ENOTFOUND, /* resolve: no backup counts as latest */
	RETENTION_EMANIFEST, /* resolve: a manifest's key, not a backup's */
	RETENTION_ES3,	     /* the bucket could not be read or written */
	RETENTION_ENOTSUP,   /* the store does not implement the request
			      (HTTP 501, NotImplemented) */
	RETENTION_ECHECK,    /* the caller's check could not judge a backup */
};

/* Room for an s3 message whole (S3_ERROR_MSG_MAX) and some context. */
#define RETENTION_ERROR_MAX (S3_ERROR_MSG_MAX + 256)

struct retention_error {
	int code; /* enum retention_code */
	char msg[RETENTION_ERROR_MAX];
};

#define RETENTION_NAME_MAX	  128
#define RETENTION_SUFFIX_MAX	  32
#define RETENTION_MANIFEST_SUFFIX ".manifest"
/* The last element of our abort rule's ID; not a backup type. */
#define RETENTION_ABORT_RULE "abort-incomplete"

/* What a key in the bucket says about itself. */
struct retention_key {
	char type[RETENTION_NAME_MAX];
	char database[RETENTION_NAME_MAX];
	time_t created;			   /* UTC, from the key */
	char suffix[RETENTION_SUFFIX_MAX]; /* "sql.gz", "sql.gz.enc" */
	bool encrypted;			   /* suffix ends in ".enc" */
	bool manifest;			   /* the manifest of a backup */
};

/* Type names: 1..31 of [a-z0-9_-], except RETENTION_ABORT_RULE. */
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

/*
 * What a backup's manifest is worth. Retention cannot read manifests (they
 * are the agent's): a scan asks the caller's check, which reads the
 * manifest and says.
 */
enum retention_verdict {
	RETENTION_UNCHECKED = 0, /* its manifest is listed, not judged yet */
	RETENTION_ACCEPTED,	 /* the manifest parses and, where a key is
				    configured, authenticates */
	RETENTION_NO_MANIFEST,	 /* none: the upload did not finish, or the
				    manifest was deleted */
	RETENTION_UNVERIFIED,	 /* the manifest does not parse, is another
				    backup's, or fails authentication */
	RETENTION_UNENCRYPTED,	 /* accepted, but not encrypted, and
				    encryption is configured */
};

/* A backup found in the bucket. */
struct retention_backup {
	char *key;
	struct retention_key parsed;
	uint64_t size;
	time_t last_modified;
	enum retention_verdict verdict;
	bool encrypted; /* as its accepted manifest says; else as its key */
	bool future;	/* dated after the scan's now plus its tolerance */
	bool complete;	/* it counts as a backup: accepted, not future */
};

struct retention_backups {
	struct retention_backup *items; /* newest first */
	size_t n;
};

/*
 * The caller's judgement of backup B, whose manifest is listed: read the
 * manifest and set B->verdict (RETENTION_ACCEPTED, RETENTION_UNVERIFIED,
 * RETENTION_UNENCRYPTED, or RETENTION_NO_MANIFEST when it is gone) and
 * B->encrypted. Returns RETENTION_OK, or a retention code with ERR set
 * (RETENTION_ES3: the manifest could not be read; RETENTION_ECHECK: it
 * could not be judged): the scan fails then, rather than count a good
 * backup as incomplete.
 */
typedef int (*retention_check_fn)(void *ctx, s3_client *c,
				  struct retention_backup *b,
				  struct retention_error *err);

/* Keys dated later than now plus this are not trusted (DESIGN.md). */
#define RETENTION_FUTURE_TOLERANCE 3600

struct retention_scan_options {
	const char *type;	   /* NULL: any */
	const char *database;	   /* NULL: any */
	time_t now;		   /* the reader's clock */
	uint64_t future_tolerance; /* seconds */
	retention_check_fn check;  /* NULL: nothing is judged, so nothing
				      is complete */
	void *check_ctx;
	bool lazy; /* judge nothing now: retention_latest() judges as it
		      goes, retention_judge() when asked */
};
#define RETENTION_SCAN_OPTIONS_INIT                                            \
	{                                                                      \
		.type = NULL, .database = NULL, .now = 0,                      \
		.future_tolerance = RETENTION_FUTURE_TOLERANCE, .check = NULL, \
		.check_ctx = NULL, .lazy = false                               \
	}

/* CREATED lies beyond NOW plus TOLERANCE seconds. */
bool retention_is_future(time_t created, time_t now, uint64_t tolerance);

/*
 * Every backup under PREFIX, of O's type and database when set, newest
 * first, from one (paged) listing. Objects that do not follow the layout
 * are skipped: they are not ours. Each is marked future or not, and, when
 * the scan is not lazy, judged by O->check (one GET of its manifest
 * each). Returns a retention code with ERR set.
 */
int retention_scan(struct retention_backups *out, s3_client *c,
		   const char *prefix, const struct retention_scan_options *o,
		   struct retention_error *err);
void retention_backups_dispose(struct retention_backups *b);

/* Judge B with O->check if it was not yet; sets B->complete. */
int retention_judge(struct retention_backup *b, s3_client *c,
		    const struct retention_scan_options *o,
		    struct retention_error *err);

/*
 * The newest complete backup of B in *OUT (NULL: none), judging backups
 * newest first until one counts; future ones are passed over unjudged.
 * Returns a retention code with ERR set.
 */
int retention_latest(const struct retention_backup **out,
		     struct retention_backups *b, s3_client *c,
		     const struct retention_scan_options *o,
		     struct retention_error *err);

/* The first backup of B dated in the future whose manifest was accepted,
 * or NULL. */
const struct retention_backup *
retention_future_accepted(const struct retention_backups *b);

/* ==== resolving KEY|latest (resolve.c) ====
 *
 * What every command that takes a backup (restore, verify, delete,
 * presign) accepts: a key of the layout under the prefix, as `offsite
 * list` shows it or without the prefix, never a manifest's; or "latest",
 * the newest backup of a type and database that counts: complete by the
 * caller's check, not dated in the future.
 */
#define RETENTION_LATEST "latest"

/*
 * The key TARGET names under PREFIX, without asking the bucket: *KEY is a
 * new string. RETENTION_EINVAL (TARGET is not a key of the layout, nor
 * one without PREFIX; "latest" included) or RETENTION_EMANIFEST, with the
 * message in ERR.
 */
int retention_resolve_key(char **key, const char *prefix, const char *target,
			  struct retention_error *err);

struct retention_resolve_options {
	/* Latest: of which type and database (NULL: any), at which time,
	 * judged how. Judged lazily, newest first, whatever scan.lazy says. */
	struct retention_scan_options scan;
	bool encrypted_only; /* the check counts only encrypted backups (the
				message says "no complete encrypted backup") */
	/* Latest: shown the scan before the newest is chosen (to warn about
	 * keys dated in the future); may be NULL. */
	void (*scanned)(void *ctx, const struct retention_backups *b,
			const struct retention_scan_options *o);
	void *scanned_ctx;
};

/*
 * The backup TARGET names under PREFIX: retention_resolve_key, or for
 * "latest" the newest backup that counts by O (one listing, then
 * manifests read newest first until one is accepted). *KEY is a new
 * string. Errors, with ERR set: retention_resolve_key's,
 * RETENTION_ENOTFOUND when no backup counts (the message says what was
 * looked for), the scan's and the check's.
 */
int retention_resolve(char **key, s3_client *c, const char *prefix,
		      const char *target,
		      const struct retention_resolve_options *o,
		      struct retention_error *err);

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
 * other keys are not ours and are skipped. Returns a retention code with
 * ERR set.
 */
int retention_pending(struct retention_uploads *out, s3_client *c,
		      const char *prefix, const char *type,
		      const char *database, struct retention_error *err);
void retention_uploads_dispose(struct retention_uploads *u);

/* ==== lifecycle rules (lifecycle.c) ====
 *
 * Ours are one Expiration rule per backup type, filtered by the type's
 * prefix, and one AbortIncompleteMultipartUpload rule for the whole
 * prefix. Their IDs are ours alone: "offsite-<prefix><type>" and
 * "offsite-<prefix>" RETENTION_ABORT_RULE ("offsite-daily" and
 * "offsite-abort-incomplete" with no prefix). Every other rule in the
 * bucket belongs to someone else and is written back exactly as read.
 */
#define RETENTION_RULE_ID_PREFIX "offsite-"

/* Our rule's ID for TYPE under PREFIX; TYPE NULL: the abort rule. */
int retention_rule_id(char **out, const char *prefix, const char *type);

/*
 * True when R is one of our rules under PREFIX; TYPE is then its backup
 * type, or "" for the abort rule.
 */
bool retention_rule_ours(const struct s3_lifecycle_rule *r, const char *prefix,
			 char type[RETENTION_NAME_MAX]);

/* How much of the keys under a prefix a rule expires. */
enum retention_reach {
	RETENTION_REACH_NONE = 0, /* none: another prefix, or the rule does
				     not expire (disabled, no expiration
				     days, a filter other than a prefix) */
	RETENTION_REACH_ALL,	  /* every one: its prefix starts PREFIX */
	RETENTION_REACH_TYPE,	  /* one backup type's: "<PREFIX><type>/" */
	RETENTION_REACH_PART,	  /* some, not along a type */
};

/*
 * Which keys under PREFIX the rule R expires; TYPE is the backup type for
 * RETENTION_REACH_TYPE, "" otherwise. Any answer but RETENTION_REACH_NONE
 * means some key under PREFIX matches R.
 */
enum retention_reach retention_rule_reach(const struct s3_lifecycle_rule *r,
					  const char *prefix,
					  char type[RETENTION_NAME_MAX]);

/*
 * The rules the configuration wants under C's prefix: the abort rule
 * ([retention] abort_incomplete_days), then one Expiration rule per type
 * of TYPES (conf_type_days; duplicates and names that are not valid types
 * are skipped), sorted by type. Free with s3_lifecycle_dispose.
 */
int retention_rules_wanted(struct s3_lifecycle *out, const conf *c,
			   const char *const *types, size_t ntypes);

enum retention_change_op {
	RETENTION_RULE_ADD,	/* ours, not in the bucket yet */
	RETENTION_RULE_UPDATE,	/* ours, in the bucket, different */
	RETENTION_RULE_SAME,	/* ours, in the bucket as wanted */
	RETENTION_RULE_REMOVE,	/* ours, taken out */
	RETENTION_RULE_FOREIGN, /* not ours: kept untouched */
};

struct retention_change {
	enum retention_change_op op;
	char text[320]; /* "offsite-daily: expire daily/ after 30 days" */
};

/* What apply (or remove) does to a bucket's lifecycle configuration. */
struct retention_plan {
	struct s3_lifecycle result; /* the configuration to write */
	struct retention_change *changes;
	size_t nchanges;
	bool changed;	 /* RESULT differs from the bucket's: write it */
	char **warnings; /* foreign rules that expire our backups sooner */
	size_t nwarnings;
};

/*
 * Merge WANTED into CURRENT (the bucket's rules): foreign rules stay as
 * they are, ours are replaced by the wanted ones; ours that are not
 * wanted are kept (apply never drops a type's expiry). With REMOVE, ours
 * are taken out instead and WANTED is ignored (may be NULL).
 */
int retention_plan_make(struct retention_plan *out,
			const struct s3_lifecycle *current,
			const struct s3_lifecycle *wanted, const char *prefix,
			bool remove);
void retention_plan_dispose(struct retention_plan *p);

/*
 * Read the bucket's rules, merge ours for every type that is configured,
 * has backups, or already has a rule of ours, plus "manual" and EXTRA_TYPE
 * (may be NULL), and write the result when it changed, unless DRY_RUN.
 * With REMOVE, take ours out (an empty result deletes the configuration).
 * Returns a retention code with ERR set; *plan is filled on success.
 */
int retention_apply(struct retention_plan *plan, s3_client *s3, const conf *c,
		    const char *extra_type, bool remove, bool dry_run,
		    struct retention_error *err);

/* ==== pruning (prune.c) ==== */

/* Why a backup goes. */
enum retention_prune_why {
	RETENTION_PRUNE_AGE = 1,    /* older than its type's days */
	RETENTION_PRUNE_COUNT,	    /* beyond keep_last */
	RETENTION_PRUNE_INCOMPLETE, /* not complete (no manifest, or one not
				       accepted), older than the days */
};

struct retention_prune_item {
	const struct retention_backup *backup; /* points into the scan */
	enum retention_prune_why why;
};

/*
 * Which of ALL (a judged scan, newest first) to delete at NOW, per type
 * and database: complete backups beyond the type's keep_last when it is
 * set, else those older than the type's days; backups that are not
 * complete (no manifest, or one that was not accepted) older than the
 * type's days. The newest complete backup of each type and database is
 * never chosen, and a backup that is not complete never counts as a kept
 * one. Backups dated in the future and backups not judged are never
 * chosen; while one dated in the future has an accepted manifest, nothing
 * is: RETENTION_EFUTURE (retention_future_accepted() says which). *items
 * (malloc'd, *n of them) is in ALL's order.
 */
int retention_prune_plan(struct retention_prune_item **items, size_t *n,
			 const struct retention_backups *all, const conf *c,
			 time_t now);

#endif
