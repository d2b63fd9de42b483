/*
 * stale: the agent's half of the stale-upload rules (retention/stale.h):
 * this host's name, whether a run of a database is still going here (its
 * process, its run lock), the marker a backup writes beside its upload,
 * and the one loop that `backup` and `retention prune` share.
 */
#ifndef OFFSITE_AGENT_STALE_H
#define OFFSITE_AGENT_STALE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "agent/ops/log.h"
#include "conf/conf.h"
#include "retention/stale.h"
#include "s3/s3.h"

/*
 * For tests only: OFFSITE_TEST_LONGEST_RUN=DURATION ("0s", "6s") lowers
 * the longest a run may last, and with it the age from which an
 * unfinished upload may be aborted (abort_incomplete_days) and the
 * duration at which `check` warns. It never raises them, never changes
 * the lifecycle rule, and never makes a live upload stale: a run that
 * still holds its lock keeps its upload. A value that does not parse is
 * ignored.
 */
#define STALE_TEST_ENV "OFFSITE_TEST_LONGEST_RUN"

/* The longest a run of C may last, in seconds (conf_longest_run). */
uint64_t stale_longest_run(const conf *c);

/* Uploads younger than this, in seconds, are never aborted by offsite:
 * retention_stale_after (abort_incomplete_days), lowered only by the
 * test knob above. */
uint64_t stale_after(const conf *c);

/* This host's name, as markers carry it. */
void stale_host(char out[RETENTION_HOST_MAX]);

/*
 * The marker of the upload of KEY (retention/stale.h), begun by this
 * process at STARTED: written before the upload begins, deleted when the
 * run ends, whatever its outcome. A marker that cannot be written or
 * deleted costs a warning; put returns false then.
 */
bool stale_marker_put(s3_client *s3, const conf *c, const char *key,
		      time_t started);
void stale_marker_delete(s3_client *s3, const char *key);

/*
 * Judge every unfinished upload of ours at least stale_after(C) old and
 * abort the stale ones (none with DRY_RUN). OWN_DATABASE is the database
 * whose run lock the caller holds, or NULL. With OUT, one line per old
 * upload, as prune prints them ("abort KEY (...)", "keep KEY (...)").
 * Each abort is logged (info), each upload left alone because its run
 * may still be going too (info), one that cannot be judged as a warning;
 * a listing or an abort that fails is logged at FAIL_LEVEL. *ABORTED
 * counts the stale ones. Returns 0, or -1 when the listing or an abort
 * failed.
 */
int stale_uploads_abort(s3_client *s3, const conf *c, const char *own_database,
			bool dry_run, FILE *out, enum log_level fail_level,
			unsigned *aborted);

#endif
