/*
 * metrics: a Prometheus node_exporter textfile-collector file
 * ([metrics] textfile), rewritten after every backup run and every
 * `retention prune`, so monitoring sees when each (type, database) last
 * ran, last succeeded, how long it took and how large it was.
 *
 * One file holds many series: the run's own series replaces its old
 * values, every other series in the file is kept. Only lines in our own
 * format are read back (anything else is dropped), and only from a file we
 * wrote (a regular file owned by us or root, see conf_owner_trusted); the
 * file is read up to METRICS_FILE_MAX bytes and METRICS_MAX_SERIES
 * series. The new file is created beside the old one under a new name
 * (mkostemp, PATH.tmp.XXXXXX), synced and renamed over it, so the
 * collector never reads half a file and a file another user put there is
 * never written to. The lock "metrics.lock" in the lock directory
 * (agent/lock.h), waited for METRICS_LOCK_WAIT_MS at most, keeps two runs
 * from losing each other's series; no other user can open it.
 *
 * A failed run keeps the series' last success time and sizes (those of
 * the last successful backup); a series with no success yet has 0.
 */
#ifndef OFFSITE_AGENT_METRICS_H
#define OFFSITE_AGENT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define METRICS_FILE_MAX   (1024 * 1024)
#define METRICS_MAX_SERIES 4096
#define METRICS_LABEL_MAX  64
/* Other runs hold the metrics lock for milliseconds; past this, the file
 * is left as it is, with a warning. */
#define METRICS_LOCK_WAIT_MS 5000

/* The series of `retention prune`: "*" is no database name, so it never
 * meets a backup's series. */
#define METRICS_PRUNE_TYPE     "prune"
#define METRICS_PRUNE_DATABASE "*"

struct metrics_series {
	char type[METRICS_LABEL_MAX];
	char database[METRICS_LABEL_MAX];
	int64_t last_run;     /* unix seconds, when the run ended */
	int64_t last_success; /* unix seconds; 0: never */
	double duration;      /* seconds, of the last run */
	bool success;	      /* of the last run */
	bool has_bytes;	      /* backups have sizes, prune has none */
	uint64_t plain_bytes; /* of the last successful run */
	uint64_t stored_bytes;
};

struct metrics_set {
	struct metrics_series *series; /* sorted by type, then database */
	size_t n;
};

/* One run, as the commands report it. */
struct metrics_run {
	const char *type;
	const char *database;
	time_t ended;
	double duration;
	bool success;
	bool has_bytes;	      /* a backup that succeeded: the sizes below */
	uint64_t plain_bytes; /* used when SUCCESS and HAS_BYTES */
	uint64_t stored_bytes;
};

/*
 * Read the series of a file's TEXT (LEN bytes) into OUT, which must be
 * empty (zeroed). Lines that are not ours are skipped. Returns 0, or
 * ENOMEM.
 */
int metrics_parse(struct metrics_set *out, const char *text, size_t len);

/* Fold RUN into SET: replace its series, or add it. Returns 0, ENOMEM,
 * E2BIG (METRICS_MAX_SERIES) or EINVAL (a label that is not ours). */
int metrics_update(struct metrics_set *set, const struct metrics_run *run);

/* The file's text for SET, with HELP and TYPE lines; *OUT is malloc'ed.
 * Returns 0 or ENOMEM. */
int metrics_format(char **out, const struct metrics_set *set);

void metrics_set_dispose(struct metrics_set *set);

/*
 * Fold RUN into the file PATH (read, update, write atomically). Returns
 * 0, or -1 after logging one warning ("metrics not written"). Callers go
 * on either way: metrics never fail a run. PATH NULL does nothing.
 */
int metrics_write(const char *path, const struct metrics_run *run);

#endif
