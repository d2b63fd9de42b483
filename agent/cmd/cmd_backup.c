/*
 * offsite backup: dump -> [sha256 plain] -> gzip -> [encrypt]
 *                 -> [sha256 stored] -> part writer -> S3
 *
 * The upload is completed only if every stage succeeded: the dump tool
 * exited 0 (and plain pg_dump output ended with its end-of-dump marker),
 * the gzip trailer and the last encrypted segment were written, and every
 * part was stored. Otherwise, and on SIGTERM, SIGINT or SIGHUP, the
 * multipart upload is aborted: nothing is left under the key. A backup
 * is a backup once its manifest is written beside it.
 */
#include "agent/cmd/cmd.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/ops/catalog.h"
#include "agent/pipe/crypto.h"
#include "agent/ops/lock.h"
#include "agent/ops/log.h"
#include "agent/ops/manifest.h"
#include "agent/ops/metrics.h"
#include "agent/ops/notify.h"
#include "agent/ops/progress.h"
#include "agent/proc/source.h"
#include "agent/pipe/stages.h"
#include "agent/ops/stale.h"
#include "agent/repo/storage.h"
#include "agent/pipe/upload.h"
#include "retention/retention.h"

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

/* ---- signals: a thread waits for them and stops the run ---- */

static atomic_int stop_signal;
/* The running source, published for the signal thread under this lock,
 * so a cancel never races with source_close(). */
static pthread_mutex_t source_lock = PTHREAD_MUTEX_INITIALIZER;
static struct source *running_source;

static void publish_source(struct source *src)
{
	pthread_mutex_lock(&source_lock);
	running_source = src;
	if (src && atomic_load(&stop_signal) > 0)
		source_cancel(src);
	pthread_mutex_unlock(&source_lock);
}

static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig = 0;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGUSR2 && atomic_load(&stop_signal) == -1)
			return NULL; /* the run is over: quit */
		if (atomic_load(&stop_signal) > 0)
			continue;
		atomic_store(&stop_signal, sig);
		log_event(LOG_WARN, "stop requested: aborting the backup",
			  "signal", strsignal(sig), NULL);
		pthread_mutex_lock(&source_lock);
		if (running_source)
			source_cancel(running_source);
		pthread_mutex_unlock(&source_lock);
	}
}

struct signals {
	sigset_t set;
	sigset_t old;
	pthread_t thread;
	bool started;
};

/* Block the stop signals in every thread; one thread waits for them. */
static int signals_start(struct signals *s)
{
	sigemptyset(&s->set);
	sigaddset(&s->set, SIGTERM);
	sigaddset(&s->set, SIGINT);
	sigaddset(&s->set, SIGHUP);
	sigaddset(&s->set, SIGUSR2);
	atomic_store(&stop_signal, 0);
	if (pthread_sigmask(SIG_BLOCK, &s->set, &s->old) != 0)
		return -1;
	if (pthread_create(&s->thread, NULL, signal_thread, &s->set) != 0)
		return -1;
	s->started = true;
	return 0;
}

static void signals_stop(struct signals *s)
{
	if (s->started) {
		int sig = atomic_load(&stop_signal);
		atomic_store(&stop_signal, -1);
		pthread_kill(s->thread, SIGUSR2);
		pthread_join(s->thread, NULL);
		atomic_store(&stop_signal, sig);
	}
	pthread_sigmask(SIG_SETMASK, &s->old, NULL);
}

/* Every client of the run polls this: a stop ends whatever it waits on. */
static bool run_cancelled(void *ctx)
{
	(void)ctx;
	return atomic_load(&stop_signal) > 0;
}

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
	char *key;
	struct storage st;
	bool st_ready;
	s3_client *s3;
	bool marked; /* its stale-upload marker is written */
	struct crypto_key ckey;
	bool have_key;

	struct agent_error serr;
	struct stream *hash_plain, *gzip, *encrypt, *hash_stored, *sink;
	struct stream *head;
	struct progress *progress;	      /* NULL: no live line */
	struct stream *tap_read, *tap_stored; /* progress counters */
	struct gzip_options gz;
	const char *meta[12];
	struct s3_put_options put;

	struct timespec t0; /* when the run started (CLOCK_MONOTONIC) */
	double secs;	    /* how long the run took */
	char why[AGENT_ERROR_MAX + 64]; /* why it failed, when not in serr */
};

/* Build sink <- hash(stored) <- [encrypt] <- gzip <- hash(plain). */
static int build_chain(struct run *r)
{
	const conf *c = r->c;
	struct gzip_options gz = GZIP_OPTIONS_INIT;
	const char **meta = r->meta;
	int rc;

	if (r->dry_run) {
		rc = stage_null_new(&r->sink, &r->serr);
	} else {
		struct upload_options uo = {
			.key = r->key,
			.part_size = c->storage.part_size,
			.max_parts = c->storage.max_parts,
			.concurrency = c->storage.concurrency,
			.max_size = c->storage.max_size,
			.put = &r->put,
			.client_new = make_client,
			.client_ctx = &r->st,
			.cancelled = run_cancelled,
		};
		meta[0] = "type";
		meta[1] = r->type;
		meta[2] = "database";
		meta[3] = r->database;
		meta[4] = "format";
		meta[5] = "1";
		meta[6] = "compression";
		meta[7] = "gzip";
		meta[8] = "encryption";
		meta[9] = c->encryption.enabled ? "aes-256-gcm" : "none";
		meta[10] = "host";
		meta[11] = r->host;
		r->put.content_type = c->encryption.enabled
					      ? "application/octet-stream"
					      : "application/gzip";
		r->put.metadata = meta;
		r->put.nmetadata = 6;
		rc = upload_new(&r->sink, &r->serr, &uo);
	}
	if (rc)
		return rc;
	if (r->progress) {
		rc = progress_tap_new(&r->tap_stored, r->sink, &r->serr,
				      r->progress, PROGRESS_STORED);
		if (rc)
			return rc;
	}
	rc = stage_hash_new(&r->hash_stored,
			    r->tap_stored ? r->tap_stored : r->sink, &r->serr);
	if (rc)
		return rc;
	r->head = r->hash_stored;
	if (c->encryption.enabled) {
		struct encrypt_options eo = ENCRYPT_OPTIONS_INIT;
		eo.key = &r->ckey;
		rc = stage_encrypt_new(&r->encrypt, r->head, &r->serr, &eo);
		if (rc)
			return rc;
		r->head = r->encrypt;
	}
	gz.level = c->compression.level;
	r->gz = gz;
	rc = stage_gzip_new(&r->gzip, r->head, &r->serr, &gz);
	if (rc)
		return rc;
	r->head = r->gzip;
	rc = stage_hash_new(&r->hash_plain, r->head, &r->serr);
	if (rc)
		return rc;
	r->head = r->hash_plain;
	if (r->progress) {
		rc = progress_tap_new(&r->tap_read, r->head, &r->serr,
				      r->progress, PROGRESS_READ);
		if (rc)
			return rc;
		r->head = r->tap_read;
	}
	return AGENT_OK;
}

static void free_chain(struct run *r)
{
	stream_free(r->tap_read);
	stream_free(r->tap_stored);
	stream_free(r->hash_plain);
	stream_free(r->gzip);
	stream_free(r->encrypt);
	stream_free(r->hash_stored);
	stream_free(r->sink); /* aborts an unfinished upload */
	r->hash_plain = r->gzip = r->encrypt = r->hash_stored = r->sink = NULL;
	r->tap_read = r->tap_stored = NULL;
}

/* An encrypted backup's manifest carries its header and is signed with
 * the file's MAC key (docs/FORMAT.md, "The manifest MAC"). */
static int sign_manifest(struct run *r, struct manifest *m)
{
	struct agent_error err = {0};
	uint8_t *input = NULL;
	size_t len = 0;
	int rc;

	stage_encrypt_header(r->encrypt, m->header);
	m->has_header = true;
	if (manifest_mac_input(&input, &len, m) != 0)
		rc = agent_fail(&err, AGENT_ENOMEM, "out of memory");
	else
		rc = stage_encrypt_manifest_mac(r->encrypt, input, len, m->mac,
						&err);
	free(input);
	if (rc != AGENT_OK) {
		log_event(LOG_ERROR, "cannot sign the manifest", "error",
			  err.msg, NULL);
		snprintf(r->why, sizeof(r->why), "cannot sign the manifest: %s",
			 err.msg);
		return -1;
	}
	m->has_mac = true;
	return 0;
}

static int write_manifest(struct run *r, struct source *src, double secs)
{
	struct manifest m = {0};
	struct upload_result ur = {0};
	struct s3_put_options po = {.content_type = "application/json"};
	char *text = NULL, *mkey = NULL;
	int level = 0;
	s3_error err;
	int rc = -1;

	m.key = r->key;
	m.type = r->type;
	m.database = r->database;
	m.host = r->host;
	m.started = r->started;
	m.duration = secs;
	stage_hash_result(r->hash_plain, m.plain_sha256, &m.plain_bytes);
	stage_hash_result(r->hash_stored, m.stored_sha256, &m.stored_bytes);
	upload_result(r->sink, &ur);
	m.parts = ur.parts;
	m.largest_part = ur.largest_part;
	m.compression_engine = stage_gzip_engine_name(&r->gz, &level);
	m.compression_level = level;
	m.encrypted = r->c->encryption.enabled;
	if (m.encrypted) {
		uint8_t id[CRYPTO_KEY_ID_LEN];
		stage_encrypt_key_id(r->encrypt, id);
		crypto_key_id_hex(m.key_id, id);
	}
	m.driver = r->use_stdin ? "stdin" : source_driver_name(src);
	m.tool = source_tool_version(src);
	m.format = source_format(src);
	if (m.encrypted && sign_manifest(r, &m))
		goto out;
	if (manifest_format(&text, &m) ||
	    asprintf(&mkey, "%s%s", r->key, RETENTION_MANIFEST_SUFFIX) < 0) {
		mkey = NULL;
		log_event(LOG_ERROR, "cannot build the manifest", NULL);
		goto out;
	}
	if (s3_put_object(r->s3, mkey, text, strlen(text), &po, &err)) {
		log_event(LOG_ERROR, "cannot write the manifest", "key", mkey,
			  "error", err.msg, NULL);
		snprintf(r->why, sizeof(r->why),
			 "cannot write the manifest: %s", err.msg);
		goto out;
	}
	rc = 0;
out:
	free(text);
	free(mkey);
	return rc;
}

/* For the progress line: the part writer's parts. */
static void sink_parts(void *ctx, unsigned *in_flight, unsigned *done)
{
	upload_parts(ctx, in_flight, done);
}

static int run_backup(struct run *r)
{
	const conf *c = r->c;
	struct source_options so = SOURCE_OPTIONS_INIT;
	struct source *src = NULL;
	struct timespec t0, t1;
	s3_error err;
	char plain[CONF_FORMAT_MAX], stored[CONF_FORMAT_MAX];
	unsigned aborted;
	double secs;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r->t0 = t0;
	if (!r->dry_run) {
		if (storage_init(&r->st, c, &err) ||
		    storage_client(&r->s3, &r->st, run_cancelled, NULL, &err)) {
			log_event(LOG_ERROR, "cannot reach storage", "error",
				  err.msg, NULL);
			snprintf(r->why, sizeof(r->why), "%s", err.msg);
			return EXIT_FAILED;
		}
		r->st_ready = true;
		/* Uploads no run can still be writing (agent/stale.h); a
		 * failure costs a warning, never the backup. */
		(void)stale_uploads_abort(r->s3, c, r->database, false, NULL,
					  LOG_WARN, &aborted);
		ensure_lifecycle(r->s3, c, r->type);
		r->marked = stale_marker_put(r->s3, c, r->key, r->started);
	}
	if (build_chain(r)) {
		log_event(LOG_ERROR, "backup failed", "error", r->serr.msg,
			  NULL);
		return EXIT_FAILED;
	}
	if (progress_start(r->progress, r->dry_run ? NULL : sink_parts,
			   r->sink))
		log_event(LOG_WARN, "no progress line: cannot start its thread",
			  NULL);

	so.use_stdin = r->use_stdin;
	so.database = r->database;
	so.stdin_fd = STDIN_FILENO;
	rc = source_open(&src, c, &so, &r->serr);
	if (rc == AGENT_OK) {
		publish_source(src);
		log_event(LOG_INFO, "backup started", "key", r->key, "type",
			  r->type, "database", r->database, NULL);
		rc = source_pump(src, r->head, &r->serr);
		publish_source(NULL);
	}
	if (rc == AGENT_OK && atomic_load(&stop_signal) > 0)
		rc = agent_fail(&r->serr, AGENT_ECANCEL, "stopped by %s",
				strsignal(atomic_load(&stop_signal)));
	if (rc == AGENT_OK)
		rc = stream_finish(r->head);
	progress_stop(r->progress); /* the log has the terminal again */
	if (rc != AGENT_OK) {
		if (atomic_load(&stop_signal) > 0 &&
		    r->serr.code != AGENT_ECANCEL)
			log_event(LOG_ERROR, "backup stopped", "signal",
				  strsignal(atomic_load(&stop_signal)), "cause",
				  r->serr.msg, NULL);
		else
			log_event(LOG_ERROR, "backup failed", "key", r->key,
				  "error", r->serr.msg, NULL);
		if (r->sink && !r->dry_run)
			upload_abort(r->sink);
		source_close(src);
		return EXIT_FAILED;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	r->secs = secs;

	if (!r->dry_run && write_manifest(r, src, secs)) {
		/* Without its manifest it is not a backup: don't leave it
		 * (even when stopped, but without waiting long). */
		s3_client_set_cleanup(r->s3, UPLOAD_CLEANUP_TIMEOUT_MS);
		if (s3_delete_object(r->s3, r->key, &err) != S3_OK)
			log_event(LOG_WARN, "cannot delete the backup", "key",
				  r->key, "error", err.msg, NULL);
		source_close(src);
		return EXIT_FAILED;
	}
	{
		char hp[65], hs[65], secbuf[32], ratio[32];
		uint64_t pb = 0, sb = 0;
		stage_hash_result(r->hash_plain, hp, &pb);
		stage_hash_result(r->hash_stored, hs, &sb);
		conf_format_size(plain, sizeof(plain), pb);
		conf_format_size(stored, sizeof(stored), sb);
		snprintf(secbuf, sizeof(secbuf), "%.1fs", secs);
		snprintf(ratio, sizeof(ratio), "%.2f",
			 sb ? (double)pb / (double)sb : 0.0);
		log_event(LOG_INFO,
			  r->dry_run ? "dry run complete: nothing stored"
				     : "backup complete",
			  "key", r->key, "plain", plain, "stored", stored,
			  "ratio", ratio, "duration", secbuf, NULL);
	}
	source_close(src);
	return EXIT_OK;
}

/* The run in the catalog, if there is one: complete with the stored
 * size and digest, or failed with the reason. */
static void record_run(struct run *r, int rc)
{
	struct catalog_entry e = {0};
	struct timespec t1;
	char sha[65] = "";
	uint64_t stored = 0;

	if (r->dry_run)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	e.key = r->key;
	e.type = r->type;
	e.database = r->database;
	e.created_at = r->started;
	e.host = r->host;
	if (rc == EXIT_OK) {
		stage_hash_result(r->hash_stored, sha, &stored);
		e.status = CATALOG_COMPLETE;
		e.has_size = true;
		e.size = stored;
		e.sha256 = sha;
		e.duration = r->secs;
	} else {
		e.status = CATALOG_FAILED;
		e.detail = r->why[0]	    ? r->why
			   : r->serr.msg[0] ? r->serr.msg
					    : "failed";
		e.duration = (double)(t1.tv_sec - r->t0.tv_sec) +
			     (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e9;
	}
	(void)catalog_record(r->c, &e);
}

/* ---- after the run: metrics and the webhook; neither changes it ---- */

static double run_elapsed(const struct run *r)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - r->t0.tv_sec) +
	       (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e9;
}

static void observe_run(struct run *r, int rc)
{
	struct metrics_run m = {0};
	struct notify_event e = {0};
	char sha[65];

	if (r->dry_run)
		return;
	m.type = e.type = r->type;
	m.database = e.database = r->database;
	m.ended = e.time = time(NULL);
	m.duration = e.duration = rc == EXIT_OK ? r->secs : run_elapsed(r);
	m.success = e.success = rc == EXIT_OK;
	m.has_bytes = e.has_bytes = rc == EXIT_OK;
	if (rc == EXIT_OK) {
		stage_hash_result(r->hash_plain, sha, &m.plain_bytes);
		stage_hash_result(r->hash_stored, sha, &m.stored_bytes);
	}
	e.plain_bytes = m.plain_bytes;
	e.stored_bytes = m.stored_bytes;
	e.host = r->host;
	e.key = r->key;
	e.error = r->why[0] ? r->why : r->serr.msg[0] ? r->serr.msg : "failed";
	(void)metrics_write(r->c->metrics.textfile, &m);
	(void)notify_run(r->c, &e);
}

int cmd_backup(const struct cli_globals *g, const conf *c, int argc,
	       char **argv)
{
	struct run r = {0};
	struct signals sig = {0};
	enum progress_mode progress = PROGRESS_AUTO;
	char lock_path[4096];
	struct lock_error lerr;
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
	if (lrc == LOCK_HELD) {
		cli_errorf("another backup of '%s' is running (lock %s)",
			   r.database, lock_path);
		return EXIT_LOCKED;
	}
	if (lrc != LOCK_OK) {
		cli_errorf("%s", lerr.msg);
		return EXIT_FAILED;
	}

	if (c->encryption.enabled) {
		struct crypto_error cerr = {0};
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
	if (signals_start(&sig)) {
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
	signals_stop(&sig);
	record_run(&r, rc);
	observe_run(&r, rc);
out:
	progress_free(r.progress);
	free_chain(&r);
	s3_client_free(r.s3);
	if (r.st_ready)
		storage_dispose(&r.st);
	if (r.have_key)
		crypto_key_dispose(&r.ckey);
	free(r.key);
	lock_release(lock_fd);
	return rc;
}
