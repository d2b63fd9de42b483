/*
 * offsite backup: take the lock, name the backup, reach the repository,
 * open the source and run the chain (agent/pipe/backup.h); then write the
 * manifest from the run's result and report it to the log, the catalog,
 * metrics and the webhook.
 *
 * The upload is completed only if every stage succeeded. Otherwise, and
 * on SIGTERM, SIGINT or SIGHUP (agent/ops/stop.h), the multipart upload
 * is aborted: nothing is left under the key. A backup is a backup once
 * its manifest is written beside it: a backup whose manifest cannot be
 * written is deleted.
 */
#include "agent/cmd/cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/ops/catalog.h"
#include "agent/ops/lock.h"
#include "agent/ops/log.h"
#include "agent/ops/manifest.h"
#include "agent/ops/metrics.h"
#include "agent/ops/notify.h"
#include "agent/ops/progress.h"
#include "agent/ops/stale.h"
#include "agent/ops/stop.h"
#include "agent/pipe/backup.h"
#include "agent/pipe/crypto.h"
#include "agent/pipe/upload.h"
#include "agent/proc/source.h"
#include "agent/repo/storage.h"
#include "common/clock.h"
#include "retention/retention.h"

const char cmd_backup_usage[] =
	"usage: offsite backup [--type TYPE] [--stdin --name NAME] "
	"[--dry-run]\n"
	"                      [--progress|--no-progress]\n"
	"\n"
	"Dump the configured database, compress the dump, encrypt it if\n"
	"encryption is enabled, and upload it as one backup. Nothing is\n"
	"stored unless the whole dump made it: on any failure the upload\n"
	"is aborted and the exit status is non-zero.\n"
	"\n"
	"  --type TYPE    the backup type (manual, daily, weekly, ...):\n"
	"                 the first element of the key, and the lifecycle\n"
	"                 rule that expires the backup (default: manual)\n"
	"  --stdin        back up standard input instead of running the\n"
	"                 dump tool, e.g. pg_dumpall | offsite backup ...\n"
	"  --name NAME    the database name in the key (needed with --stdin)\n"
	"  --dry-run      check the config, the dump tool and the bucket;\n"
	"                 upload nothing\n"
	"  --progress     show a live progress line on standard error even\n"
	"                 when it is not a terminal\n"
	"  --no-progress  no progress line, even on a terminal\n"
	"\n"
	"After the run, [metrics] textfile is rewritten and [notify]\n"
	"webhook is called (on failure, or always with on_success); neither\n"
	"changes the exit status.\n";

enum {
	OPT_TYPE = 256,
	OPT_STDIN,
	OPT_NAME,
	OPT_DRY_RUN,
	OPT_PROGRESS,
	OPT_NO_PROGRESS
};

static const struct option backup_options[] = {
	{"type", required_argument, NULL, OPT_TYPE},
	{"stdin", no_argument, NULL, OPT_STDIN},
	{"name", required_argument, NULL, OPT_NAME},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"progress", no_argument, NULL, OPT_PROGRESS},
	{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	{NULL, 0, NULL, 0},
};

/* ---- storage clients for the part writer ---- */

static int make_client(s3_client **out, void *ctx, bool (*cancelled)(void *ctx),
		       void *cancelled_ctx, s3_error *err)
{
	return storage_client(out, ctx, cancelled, cancelled_ctx, err);
}

/*
 * [retention] apply_on_backup: a bucket without our rule for this type
 * gets the configured rules now, so a new bucket (or a new type) is
 * covered from its first backup. Rules already there are left for
 * `offsite retention apply` to change. A store without lifecycle rules
 * only costs a warning.
 */
static void ensure_lifecycle(s3_client *s3, const conf *c, const char *type)
{
	struct s3_lifecycle lc = {0};
	struct retention_plan plan;
	char *id = NULL, have[RETENTION_NAME_MAX];
	bool found = false;
	struct retention_error rerr;
	s3_error err;
	size_t i;

	if (!c->retention.apply_on_backup)
		return;
	if (s3_lifecycle_get(&lc, s3, &err) != S3_OK) {
		log_event(LOG_WARN, "cannot read the lifecycle rules", "error",
			  err.msg, NULL);
		return;
	}
	for (i = 0; i < lc.nrules && !found; i++)
		found = retention_rule_ours(&lc.rules[i], c->storage.prefix,
					    have) &&
			strcmp(have, type) == 0;
	s3_lifecycle_dispose(&lc);
	if (found)
		return;
	if (retention_apply(&plan, s3, c, type, false, false, &rerr)) {
		log_event(LOG_WARN,
			  "cannot install the lifecycle rules: backups will "
			  "not expire by themselves",
			  "error", rerr.msg, NULL);
		return;
	}
	if (retention_rule_id(&id, c->storage.prefix, type) == RETENTION_OK)
		log_event(LOG_INFO, "lifecycle rules installed", "rule", id,
			  NULL);
	free(id);
	retention_plan_dispose(&plan);
}

/* ---- the run ---- */

struct run {
	const conf *c;
	const char *type;
	const char *database;
	bool use_stdin;
	bool dry_run;

	char host[256];
	time_t started;
	struct timespec t0; /* when the run started (CLOCK_MONOTONIC) */
	char *key;
	struct storage st;
	bool st_ready;
	s3_client *s3;
	bool marked; /* its stale-upload marker is written */
	struct crypto_key ckey;
	bool have_key;
	struct progress *progress; /* NULL: no live line */

	struct agent_error err; /* why the run failed */
	struct backup_result res;
};

/* The manifest, from the run's result: a backup is a backup once it is
 * written beside it. */
static int write_manifest(struct run *r, const struct source *src)
{
	const struct backup_result *res = &r->res;
	struct manifest m = {0};
	struct s3_put_options po = {.content_type = "application/json"};
	char *text = NULL, *mkey = NULL;
	s3_error err;
	int rc;

	m.key = r->key;
	m.type = r->type;
	m.database = r->database;
	m.host = r->host;
	m.started = r->started;
	m.duration = res->seconds;
	m.plain_bytes = res->plain_bytes;
	memcpy(m.plain_sha256, res->plain_sha256, sizeof(m.plain_sha256));
	m.stored_bytes = res->stored_bytes;
	memcpy(m.stored_sha256, res->stored_sha256, sizeof(m.stored_sha256));
	m.parts = res->parts;
	m.largest_part = res->largest_part;
	m.compression_engine = res->compression_engine;
	m.compression_level = res->compression_level;
	m.encrypted = res->encrypted;
	if (m.encrypted) {
		memcpy(m.key_id, res->key_id, sizeof(m.key_id));
		memcpy(m.header, res->header, sizeof(m.header));
		m.has_header = true;
		memcpy(m.mac, res->mac, sizeof(m.mac));
		m.has_mac = true;
	}
	m.driver = r->use_stdin ? "stdin" : source_driver_name(src);
	m.tool = source_tool_version(src);
	m.format = source_format(src);
	if (manifest_format(&text, &m) ||
	    asprintf(&mkey, "%s%s", r->key, RETENTION_MANIFEST_SUFFIX) < 0) {
		mkey = NULL;
		log_event(LOG_ERROR, "cannot build the manifest", NULL);
		rc = agent_fail(&r->err, AGENT_ENOMEM,
				"cannot build the manifest");
		goto out;
	}
	if (s3_put_object(r->s3, mkey, text, strlen(text), &po, &err)) {
		log_event(LOG_ERROR, "cannot write the manifest", "key", mkey,
			  "error", err.msg, NULL);
		rc = storage_error(&r->err, &err, "cannot write the manifest");
		goto out;
	}
	rc = AGENT_OK;
out:
	free(text);
	free(mkey);
	return rc;
}

static void log_complete(const struct run *r)
{
	const struct backup_result *res = &r->res;
	char plain[CONF_FORMAT_MAX], stored[CONF_FORMAT_MAX], secs[32],
		ratio[32];

	conf_format_size(plain, sizeof(plain), res->plain_bytes);
	conf_format_size(stored, sizeof(stored), res->stored_bytes);
	snprintf(secs, sizeof(secs), "%.1fs", res->seconds);
	snprintf(ratio, sizeof(ratio), "%.2f",
		 res->stored_bytes
			 ? (double)res->plain_bytes / (double)res->stored_bytes
			 : 0.0);
	log_event(LOG_INFO,
		  r->dry_run ? "dry run complete: nothing stored"
			     : "backup complete",
		  "key", r->key, "plain", plain, "stored", stored, "ratio",
		  ratio, "duration", secs, NULL);
}

static int run_backup(struct run *r)
{
	const conf *c = r->c;
	struct source_options so = SOURCE_OPTIONS_INIT;
	struct backup_options bo = {
		.c = c,
		.key = r->key,
		.type = r->type,
		.database = r->database,
		.host = r->host,
		.crypto_key = r->have_key ? &r->ckey : NULL,
		.dry_run = r->dry_run,
		.client_new = make_client,
		.client_ctx = &r->st,
		.progress = r->progress,
	};
	struct source *src = NULL;
	s3_error err;
	unsigned aborted;
	int rc;

	mono_now(&r->t0);
	bo.since = r->t0;
	if (!r->dry_run) {
		if (storage_init(&r->st, c, &err) == S3_OK)
			r->st_ready = true;
		if (!r->st_ready ||
		    storage_client(&r->s3, &r->st, stop_cancelled, NULL,
				   &err) != S3_OK) {
			log_event(LOG_ERROR, "cannot reach storage", "error",
				  err.msg, NULL);
			return cli_exit_for(storage_error(&r->err, &err, NULL));
		}
		/* Uploads no run can still be writing (agent/stale.h); a
		 * failure costs a warning, never the backup. */
		(void)stale_uploads_abort(r->s3, c, r->database, false, NULL,
					  LOG_WARN, &aborted);
		ensure_lifecycle(r->s3, c, r->type);
		r->marked = stale_marker_put(r->s3, c, r->key, r->started);
	}

	so.use_stdin = r->use_stdin;
	so.database = r->database;
	so.stdin_fd = STDIN_FILENO;
	rc = source_open(&src, c, &so, &r->err);
	if (rc != AGENT_OK) {
		backup_log_failure(r->key, &r->err);
		return EXIT_FAILED;
	}
	rc = backup_run(&r->res, src, &bo, &r->err);
	if (rc == AGENT_OK && !r->dry_run)
		rc = write_manifest(r, src);
	if (rc != AGENT_OK && r->res.stored) {
		/* Without its manifest it is not a backup: don't leave it
		 * (even when stopped, but without waiting long). */
		s3_client_set_cleanup(r->s3, UPLOAD_CLEANUP_TIMEOUT_MS);
		if (s3_delete_object(r->s3, r->key, &err) != S3_OK)
			log_event(LOG_WARN, "cannot delete the backup", "key",
				  r->key, "error", err.msg, NULL);
	}
	if (rc == AGENT_OK)
		log_complete(r);
	source_close(src);
	return rc == AGENT_OK ? EXIT_OK : EXIT_FAILED;
}

/* ---- after the run: the catalog, metrics and the webhook; none of them
 * changes it ---- */

/* The run in the catalog, if there is one: complete with the stored
 * size and digest, or failed with the reason. */
static void record_run(const struct run *r, int rc, double secs)
{
	struct catalog_entry e = {0};

	e.key = r->key;
	e.type = r->type;
	e.database = r->database;
	e.created_at = r->started;
	e.host = r->host;
	e.duration = secs;
	if (rc == EXIT_OK) {
		e.status = CATALOG_COMPLETE;
		e.has_size = true;
		e.size = r->res.stored_bytes;
		e.sha256 = r->res.stored_sha256;
	} else {
		e.status = CATALOG_FAILED;
		e.detail = r->err.msg[0] ? r->err.msg : "failed";
	}
	(void)catalog_record(r->c, &e);
}

static void observe_run(const struct run *r, int rc, double secs)
{
	struct metrics_run m = {0};
	struct notify_event e = {0};

	m.type = e.type = r->type;
	m.database = e.database = r->database;
	m.ended = e.time = time(NULL);
	m.duration = e.duration = secs;
	m.success = e.success = rc == EXIT_OK;
	m.has_bytes = e.has_bytes = rc == EXIT_OK;
	if (rc == EXIT_OK) {
		m.plain_bytes = r->res.plain_bytes;
		m.stored_bytes = r->res.stored_bytes;
	}
	e.plain_bytes = m.plain_bytes;
	e.stored_bytes = m.stored_bytes;
	e.host = r->host;
	e.key = r->key;
	e.error = r->err.msg[0] ? r->err.msg : "failed";
	(void)metrics_write(r->c->metrics.textfile, &m);
	(void)notify_run(r->c, &e);
}

int cmd_backup(const struct cli_globals *g, const conf *c, int argc,
	       char **argv)
{
	struct run r = {0};
	enum progress_mode progress = PROGRESS_AUTO;
	char lock_path[4096];
	struct agent_error lerr = {0};
	int ch, rc = EXIT_FAILED, lock_fd = -1, lrc;

	(void)g;
	r.c = c;
	r.type = "manual";
	r.database = c->database.name;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", backup_options, NULL)) !=
	       -1) {
		switch (ch) {
		case OPT_TYPE:
			r.type = optarg;
			break;
		case OPT_STDIN:
			r.use_stdin = true;
			break;
		case OPT_NAME:
			r.database = optarg;
			break;
		case OPT_DRY_RUN:
			r.dry_run = true;
			break;
		case OPT_PROGRESS:
			progress = PROGRESS_ON;
			break;
		case OPT_NO_PROGRESS:
			progress = PROGRESS_OFF;
			break;
		default:
			return cli_option_error(argv[0], ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "unexpected argument '%s'",
				       argv[optind]);
	if (c->database.driver == CONF_DRIVER_STDIN)
		r.use_stdin = true;
	if (cli_check_type(argv[0], r.type))
		return EXIT_USAGE;
	if (!r.database)
		return cli_usage_error(argv[0], "no database name: set name in "
						"[database] or give --name");
	if (cli_check_database(argv[0], r.database))
		return EXIT_USAGE;

	lrc = lock_acquire(&lock_fd, lock_path, sizeof(lock_path), r.database,
			   &lerr);
	if (lrc == AGENT_ELOCKED)
		cli_errorf("another backup of '%s' is running (lock %s)",
			   r.database, lock_path);
	else if (lrc != AGENT_OK)
		cli_errorf("%s", lerr.msg);
	if (lrc != AGENT_OK)
		return cli_exit_for(lrc);

	if (c->encryption.enabled) {
		struct agent_error cerr = {0};
		int krc = c->encryption.key_file
				  ? crypto_key_load_file(&r.ckey,
							 c->encryption.key_file,
							 &cerr)
				  : crypto_key_load_passphrase(
					    &r.ckey,
					    c->encryption.passphrase_file, NULL,
					    &cerr);
		if (krc) {
			cli_errorf("%s", cerr.msg);
			lock_release(lock_fd);
			return EXIT_USAGE;
		}
		r.have_key = true;
	}

	gethostname(r.host, sizeof(r.host) - 1);
	r.started = time(NULL);
	if (retention_key_format(
		    &r.key, c->storage.prefix, r.type, r.database, r.started,
		    c->encryption.enabled ? "sql.gz.enc" : "sql.gz")) {
		cli_errorf("cannot name the backup");
		goto out;
	}
	if (progress_new(&r.progress, progress, STDERR_FILENO)) {
		cli_errorf("out of memory");
		goto out;
	}
	if (stop_start_message("stop requested: aborting the backup")) {
		cli_errorf("cannot set up signal handling");
		goto out;
	}
	rc = run_backup(&r);
	if (r.marked) {
		/* The upload is complete or aborted by now. A cleanup: sent
		 * after a stop too, without waiting long. */
		s3_client_set_cleanup(r.s3, UPLOAD_CLEANUP_TIMEOUT_MS);
		stale_marker_delete(r.s3, r.key);
	}
	stop_end();
	if (!r.dry_run) {
		double secs =
			rc == EXIT_OK ? r.res.seconds : mono_elapsed_s(&r.t0);
		record_run(&r, rc, secs);
		observe_run(&r, rc, secs);
	}
out:
	progress_free(r.progress);
	s3_client_free(r.s3);
	if (r.st_ready)
		storage_dispose(&r.st);
	if (r.have_key)
		crypto_key_dispose(&r.ckey);
	free(r.key);
	lock_release(lock_fd);
	return rc;
}
