/*
 * stale: what only the agent can tell about an old unfinished upload
 * (is the run that writes it still going on this host?), and the loop
 * that aborts the stale ones, for backup and prune alike. The decision
 * itself is retention_upload_judge.
 */
#include "agent/ops/stale.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "agent/ops/lock.h"

/* The test knob, when set and lower than LIMIT. */
static uint64_t lowered(uint64_t limit)
{
	const char *v = getenv(STALE_TEST_ENV);
	uint64_t t;

	if (v && *v && conf_parse_duration(v, &t) == CONF_OK && t < limit)
		return t;
	return limit;
}

uint64_t stale_longest_run(const conf *c)
{
	return lowered(conf_longest_run(c));
}

uint64_t stale_after(const conf *c)
{
	return lowered(retention_stale_after(c));
}

void stale_host(char out[RETENTION_HOST_MAX])
{
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	retention_host_token(out, host);
}

/*
 * A run of DATABASE on this host: the process that began the upload
 * (PID, from its marker) is gone, or no one holds the database's run
 * lock, and the run is over. Probing the lock takes it for an instant,
 * so the process is asked first: an upload whose run died is judged
 * without touching the lock.
 */
static enum retention_run probe(void *ctx, const char *database, long pid)
{
	bool held = false;

	(void)ctx;
	if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return RETENTION_RUN_GONE;
	if (lock_probe(database, &held) != AGENT_OK)
		return RETENTION_RUN_UNKNOWN;
	return held ? RETENTION_RUN_ALIVE : RETENTION_RUN_GONE;
}

bool stale_marker_put(s3_client *s3, const conf *c, const char *key,
		      time_t started)
{
	struct retention_marker m = {0};
	uint64_t longest = stale_longest_run(c);
	struct retention_error err;

	stale_host(m.host);
	m.pid = (long)getpid();
	m.started = started;
	m.longest_run = longest < 1 ? 1
			: longest > RETENTION_LONGEST_RUN_CAP
				? RETENTION_LONGEST_RUN_CAP
				: longest;
	if (retention_marker_put(s3, key, &m, &err) == RETENTION_OK)
		return true;
	log_event(LOG_WARN,
		  "cannot write the upload's marker: another host may take "
		  "a long upload for a dead one",
		  "key", key, "error", err.msg, NULL);
	return false;
}

void stale_marker_delete(s3_client *s3, const char *key)
{
	struct retention_error err;

	if (retention_marker_delete(s3, key, &err) != RETENTION_OK)
		log_event(LOG_WARN, "cannot delete the upload's marker", "key",
			  key, "error", err.msg, NULL);
}

/* The host of an old upload, for messages: its marker's; without one,
 * this host when a run here holds its lock, else not known. */
static const char *where(const struct retention_old_upload *o)
{
	return o->host[0]			   ? o->host
	       : o->verdict == RETENTION_LIVE_HERE ? "this host"
						   : "unknown";
}

int stale_uploads_abort(s3_client *s3, const conf *c, const char *own_database,
			bool dry_run, FILE *out, enum log_level fail_level,
			unsigned *aborted)
{
	struct retention_stale_options o = {0};
	struct retention_old_upload *old = NULL;
	char host[RETENTION_HOST_MAX], started[17];
	char shown[4 * RETENTION_HOST_MAX];
	size_t n = 0, i;
	struct retention_error err;
	int rc = 0;

	*aborted = 0;
	stale_host(host);
	o.prefix = c->storage.prefix;
	o.now = time(NULL) + s3_client_skew(s3);
	o.after = stale_after(c);
	o.host = host;
	o.own_database = own_database;
	o.probe = probe;
	if (retention_old_uploads(&old, &n, s3, &o, &err) != RETENTION_OK) {
		log_event(fail_level, "cannot list incomplete uploads", "error",
			  err.msg, NULL);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct retention_old_upload *u = &old[i];

		retention_format_time(u->u.initiated, started);
		switch (u->verdict) {
		case RETENTION_STALE:
			break;
		case RETENTION_LIVE_HERE:
		case RETENTION_LIVE_ELSEWHERE:
			/* The host comes from the bucket: escaped. */
			log_escape(shown, sizeof(shown), where(u));
			if (out)
				fprintf(out,
					"%-12s %s (incomplete upload started "
					"%s, still running on %s)\n",
					"keep", u->u.key, started, shown);
			log_event(LOG_INFO,
				  "an old incomplete upload is still running: "
				  "left alone",
				  "key", u->u.key, "started", started, "host",
				  where(u), NULL);
			continue;
		case RETENTION_UNSURE:
		default:
			/* Left for a later run, or the bucket's rule: a
			 * warning, not a failure. */
			log_event(LOG_WARN,
				  "cannot tell whether an old incomplete "
				  "upload is still running: left alone",
				  "key", u->u.key, "started", started, NULL);
			continue;
		}
		if (out)
			fprintf(out,
				"%-12s %s (incomplete upload started %s)\n",
				dry_run ? "would abort" : "abort", u->u.key,
				started);
		(*aborted)++;
		if (dry_run)
			continue;
		if (retention_stale_abort(s3, &u->u, &err) != RETENTION_OK) {
			log_event(fail_level,
				  "cannot abort a stale incomplete upload",
				  "key", u->u.key, "error", err.msg, NULL);
			rc = -1;
			continue;
		}
		log_event(LOG_INFO, "aborted a stale incomplete upload", "key",
			  u->u.key, "started", started, "host", where(u), NULL);
	}
	retention_old_uploads_free(old, n);
	return rc;
}
