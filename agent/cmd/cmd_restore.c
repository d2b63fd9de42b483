/*
 * offsite restore: a backup streamed back, checked as it streams and
 * against its manifest at the end, into a database or a file.
 *
 * A failed restore leaves nothing: into a file, the bytes go to a private
 * temporary file beside it, renamed over it only once every check
 * passed; into PostgreSQL, the tool's single transaction is killed before
 * its input ends; into MySQL, which cannot roll back, the whole backup is
 * checked before the tool starts. SIGTERM, SIGINT and SIGHUP stop it the
 * same way.
 */
#include "agent/cmd/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/pipe/fetch.h"
#include "agent/ops/log.h"
#include "agent/pipe/stages.h"
#include "agent/ops/stop.h"
#include "agent/repo/storage.h"
#include "agent/proc/target.h"
#include "retention/retention.h"

const char cmd_restore_usage[] =
	"usage: offsite restore KEY|latest [--type TYPE]\n"
	"                       [--to CONNINFO | -o FILE|-] [--force]\n"
	"                       [--allow-unencrypted] [--trust-backup]\n"
	"\n"
	"Download a backup, decrypt and decompress it, and load it into a\n"
	"database or write the plain dump, checking it as it streams and\n"
	"against its manifest at the end (sizes, SHA-256 of the stored and\n"
	"the plain bytes, the end of a pg_dump). A restore that fails\n"
	"leaves nothing behind. Exit status 4: the backup is not intact.\n"
	"\n"
	"  KEY            a backup's key, as `offsite list` shows it\n"
	"  latest         the newest complete backup of the configured\n"
	"                 database (its manifest authenticated, encrypted\n"
	"                 when encryption is configured, not dated in the\n"
	"                 future)\n"
	"  --type TYPE    with latest: the newest backup of this type\n"
	"  --to CONNINFO  the database to restore into (default: the\n"
	"                 configured one), which must be empty. PostgreSQL:\n"
	"                 a libpq conninfo or URI; psql (plain dumps) or\n"
	"                 pg_restore (custom, tar) load it in one\n"
	"                 transaction, rolled back on any failure. MySQL:\n"
	"                 mysql://user@host:port/db; the whole backup is\n"
	"                 checked before mysql loads it, since MySQL cannot\n"
	"                 roll a restore back. No password here: other\n"
	"                 users see the command line (PGPASSFILE,\n"
	"                 ~/.pgpass; MySQL: password_file). Nothing in the\n"
	"                 dump runs a program here: psql runs restricted\n"
	"                 under offsite's own key, mysql with --sandbox\n"
	"  -o FILE        write the plain dump to FILE (mode 600); it\n"
	"                 appears only once every check passed\n"
	"  -o -           write it to standard output (not a terminal):\n"
	"                 the exit status is then the only verdict\n"
	"  --force        restore into a database that is not empty, or\n"
	"                 replace FILE, a regular file (without it: exit 1)\n"
	"  --allow-unencrypted\n"
	"                 with encryption configured, accept a backup that\n"
	"                 is not encrypted (anyone who can write to the\n"
	"                 bucket can write one)\n"
	"  --trust-backup load a plain dump with a psql too old to run\n"
	"                 restricted (before 13.22, 14.19, 15.14, 16.10,\n"
	"                 17.6): the dump could run shell commands\n";

enum {
	OPT_TYPE = 256,
	OPT_TO,
	OPT_FORCE,
	OPT_ALLOW_UNENCRYPTED,
	OPT_TRUST_BACKUP
};

static const struct option restore_options[] = {
	{"type", required_argument, NULL, OPT_TYPE},
	{"to", required_argument, NULL, OPT_TO},
	{"output", required_argument, NULL, 'o'},
	{"force", no_argument, NULL, OPT_FORCE},
	{"allow-unencrypted", no_argument, NULL, OPT_ALLOW_UNENCRYPTED},
	{"trust-backup", no_argument, NULL, OPT_TRUST_BACKUP},
	{NULL, 0, NULL, 0},
};

struct restore {
	const conf *c;
	const char *which; /* KEY or latest */
	const char *type;
	const char *to;
	const char *output; /* -o: a path, or "-" */
	bool force;
	bool allow_unencrypted;
	struct trust trust; /* which backups count (agent/trust.h) */
	bool trust_backup;

	struct storage st;
	bool st_ready;
	s3_client *s3;
	struct fetch_backup b;
	bool b_open;
	struct crypto_key ckey;
	bool have_key;
	struct agent_error serr;

	/* -o FILE */
	char *tmp_path;
	int tmp_fd;
	/* the sink: a file or stdout (ours), or a target's tool */
	struct stream *sink;
	struct target *tg;
	/* a check-then-load restore: what the check pass read */
	struct fetch_pin pin;
};

/* ---- -o FILE ---- */

/* A private file beside PATH, in the same file system, so that the
 * rename at the end is atomic. */
static int open_temp(struct restore *r)
{
	char *d = strdup(r->output), *b = strdup(r->output);
	int rc = -1;

	if (d == NULL || b == NULL ||
	    asprintf(&r->tmp_path, "%s/.%s.offsite-XXXXXX", dirname(d),
		     basename(b)) < 0) {
		r->tmp_path = NULL;
		agent_fail(&r->serr, AGENT_ENOMEM, "out of memory");
		goto out;
	}
	/* mkostemp: O_EXCL, mode 0600. */
	r->tmp_fd = mkostemp(r->tmp_path, O_CLOEXEC);
	if (r->tmp_fd < 0) {
		agent_fail(&r->serr, AGENT_EIO,
			   "cannot create a file beside %s: %s", r->output,
			   strerror(errno));
		free(r->tmp_path);
		r->tmp_path = NULL;
		goto out;
	}
	if (fchmod(r->tmp_fd, 0600) != 0) {
		agent_fail(&r->serr, AGENT_EIO, "chmod %s: %s", r->tmp_path,
			   strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(d);
	free(b);
	return rc;
}

static void drop_temp(struct restore *r)
{
	if (r->tmp_fd >= 0)
		close(r->tmp_fd);
	r->tmp_fd = -1;
	if (r->tmp_path != NULL)
		(void)unlink(r->tmp_path);
	free(r->tmp_path);
	r->tmp_path = NULL;
}

/* Every check passed: the file takes its name. */
static int commit_temp(struct restore *r)
{
	int rc;

	if (fsync(r->tmp_fd) != 0 || close(r->tmp_fd) != 0) {
		r->tmp_fd = -1;
		return agent_fail(&r->serr, AGENT_EIO, "cannot write %s: %s",
				  r->output, strerror(errno));
	}
	r->tmp_fd = -1;
	if (r->force) {
		rc = rename(r->tmp_path, r->output);
	} else {
		/* Not over a file that appeared meanwhile. */
		rc = renameat2(AT_FDCWD, r->tmp_path, AT_FDCWD, r->output,
			       RENAME_NOREPLACE);
		if (rc != 0 && errno == EINVAL) { /* not supported here */
			rc = link(r->tmp_path, r->output);
			if (rc == 0)
				(void)unlink(r->tmp_path);
		}
	}
	if (rc != 0)
		return agent_fail(&r->serr, AGENT_EIO, "cannot create %s: %s%s",
				  r->output, strerror(errno),
				  errno == EEXIST ? " (not overwriting it "
						    "without --force)"
						  : "");
	free(r->tmp_path);
	r->tmp_path = NULL;
	return AGENT_OK;
}

/* ---- the sink ---- */

static void cancel_tool(void *ctx)
{
	target_cancel(ctx);
}

/* Into a database: the tool, after the checks that come first. */
static int open_target(struct restore *r)
{
	struct target_options to = {.c = r->c,
				    .format = r->b.m.format,
				    .to = r->to,
				    .trust_backup = r->trust_backup};
	struct fetch_result res;
	const char *what = NULL, *first;
	long long n = 0;
	int rc;

	rc = target_prepare(&r->tg, &to, &r->serr);
	if (rc == AGENT_OK && !r->force) {
		rc = target_count_objects(r->tg, &n, &what, &r->serr);
		if (rc == AGENT_OK && n > 0)
			rc = agent_fail(&r->serr, AGENT_EIO,
					"the target database is not empty "
					"(%lld %s): restore into an empty "
					"one, or give --force",
					n, what);
	}
	first = rc == AGENT_OK ? target_verify_first(r->tg) : NULL;
	if (first != NULL) {
		/* The load pass then reads the object checked here. */
		log_event(LOG_INFO, first, "key", r->b.key, NULL);
		rc = fetch_check(&r->pin, &res, r->s3, &r->b,
				 r->have_key ? &r->ckey : NULL, &r->serr);
	}
	if (rc == AGENT_OK)
		/* Encrypted, nothing unauthenticated reaches the tool: its
		 * failure is the target's. Not encrypted, damaged data may
		 * have made it fail: read on, to say which. */
		rc = target_start(r->tg, !r->b.encrypted, &r->sink, &r->serr);
	return rc;
}

static int open_sink(struct restore *r, const char **into, const char **where)
{
	struct fd_options fo = FD_OPTIONS_INIT;

	if (r->output != NULL && strcmp(r->output, "-") == 0) {
		*into = "stdout";
		*where = "-";
		fo.fd = STDOUT_FILENO;
		fo.name = "standard output";
		return stage_fd_new(&r->sink, &r->serr, &fo);
	}
	if (r->output != NULL) {
		*into = "file";
		*where = r->output;
		if (open_temp(r) != 0)
			return r->serr.code;
		fo.fd = r->tmp_fd;
		fo.name = r->output;
		return stage_fd_new(&r->sink, &r->serr, &fo);
	}
	if (open_target(r) != AGENT_OK)
		return r->serr.code;
	*into = target_tool(r->tg);
	*where = target_describe(r->tg);
	return AGENT_OK;
}

/* ---- the run ---- */

static int report_failure(struct restore *r, const char *key)
{
	int sig = stop_requested();
	const char *note = r->tg == NULL ? NULL
			   : !target_rolls_back(r->tg) && r->sink != NULL
				   ? "mysql may have loaded part of the dump"
				   : "the target database was left as it was";

	if (sig != 0)
		log_event(LOG_ERROR, "restore stopped", "key", key ? key : "",
			  "signal", strsignal(sig), "cause", r->serr.msg,
			  note ? "target" : NULL, note, NULL);
	else
		log_event(LOG_ERROR,
			  agent_code_is_integrity(r->serr.code)
				  ? "restore failed: the backup is not intact"
				  : "restore failed",
			  "key", key ? key : "", "error", r->serr.msg,
			  note ? "target" : NULL, note, NULL);
	return sig != 0 ? EXIT_FAILED : cli_exit_for(r->serr.code);
}

static int run_restore(struct restore *r)
{
	const conf *c = r->c;
	struct fetch_result res;
	const char *into = NULL, *where = NULL;
	char *key = NULL, plain[CONF_FORMAT_MAX], stored[CONF_FORMAT_MAX],
	     secs[32];
	s3_error err;
	int rc;

	if (storage_init(&r->st, c, &err) != S3_OK) {
		log_event(LOG_ERROR, "cannot reach storage", "error", err.msg,
			  NULL);
		return EXIT_FAILED;
	}
	r->st_ready = true;
	if (storage_client(&r->s3, &r->st, stop_cancelled, NULL, &err) !=
	    S3_OK) {
		log_event(LOG_ERROR, "cannot reach storage", "error", err.msg,
			  NULL);
		return EXIT_FAILED;
	}
	if (trust_init(&r->trust, c, r->allow_unencrypted, &r->serr) != 0) {
		cli_errorf("%s", r->serr.msg);
		return EXIT_USAGE;
	}
	rc = fetch_resolve(&key, r->s3, c->storage.prefix, r->which, r->type,
			   c->database.name, &r->trust, &r->serr);
	if (rc == AGENT_OK) {
		rc = fetch_open(&r->b, r->s3, key, &r->trust, &r->serr);
		r->b_open = rc == AGENT_OK;
	}
	if (rc == AGENT_OK && r->b.encrypted) {
		if (fetch_load_key(&r->ckey, &r->have_key, c, &r->serr) != 0) {
			cli_errorf("%s", r->serr.msg);
			free(key);
			return EXIT_USAGE;
		}
		if (!r->have_key) {
			cli_errorf("%s is encrypted: set key_file or "
				   "passphrase_file in [encryption]",
				   key);
			free(key);
			return EXIT_USAGE;
		}
	}
	if (rc == AGENT_OK)
		rc = open_sink(r, &into, &where);
	if (rc != AGENT_OK) {
		rc = report_failure(r, key);
		free(key);
		return rc;
	}

	log_event(LOG_INFO, "restore started", "key", key, "into", into,
		  "target", where, NULL);
	if (r->tg != NULL)
		stop_set_hook(cancel_tool, r->tg);
	if (r->pin.checked)
		rc = fetch_load(&res, r->s3, &r->b,
				r->have_key ? &r->ckey : NULL, &r->pin, r->sink,
				&r->serr);
	else
		rc = fetch_run(&res, r->s3, &r->b,
			       r->have_key ? &r->ckey : NULL, r->sink,
			       &r->serr);
	/* A stop before the commit undoes everything; during it, the tool
	 * is killed (and the commit fails) unless it already committed;
	 * after it, the restore is done. */
	if (rc == AGENT_OK && stop_requested() != 0)
		rc = agent_fail(&r->serr, AGENT_ECANCEL, "stopped by %s",
				strsignal(stop_requested()));
	if (rc == AGENT_OK && r->tg != NULL)
		rc = target_commit(r->tg);
	stop_set_hook(NULL, NULL);
	if (rc == AGENT_OK && r->tmp_path != NULL)
		rc = commit_temp(r);
	if (rc != AGENT_OK) {
		rc = report_failure(r, key);
		free(key);
		return rc;
	}
	snprintf(secs, sizeof(secs), "%.1fs", res.seconds);
	log_event(LOG_INFO, "restore complete", "key", key, "into", into,
		  "plain",
		  conf_format_size(plain, sizeof(plain), res.plain_bytes),
		  "stored",
		  conf_format_size(stored, sizeof(stored), res.stored_bytes),
		  "duration", secs, NULL);
	free(key);
	return EXIT_OK;
}

int cmd_restore(const struct cli_globals *g, const conf *c, int argc,
		char **argv)
{
	struct restore r = {0};
	const char *secret;
	struct stat sb;
	int ch, rc;

	(void)g;
	r.c = c;
	r.tmp_fd = -1;
	fetch_pin_init(&r.pin);
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":o:", restore_options, NULL)) !=
	       -1) {
		switch (ch) {
		case OPT_TYPE:
			r.type = optarg;
			if (cli_check_type(argv[0], r.type))
				return EXIT_USAGE;
			break;
		case OPT_TO:
			r.to = optarg;
			break;
		case 'o':
			r.output = optarg;
			break;
		case OPT_FORCE:
			r.force = true;
			break;
		case OPT_ALLOW_UNENCRYPTED:
			r.allow_unencrypted = true;
			break;
		case OPT_TRUST_BACKUP:
			r.trust_backup = true;
			break;
		default:
			return cli_option_error(argv[0], ch, argv);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(argv[0], optind < argc
							? "one KEY or latest, "
							  "not more"
							: "which backup? give "
							  "a KEY or latest");
	r.which = argv[optind];
	if (r.to != NULL && r.output != NULL)
		return cli_usage_error(argv[0],
				       "--to and -o: give one place to restore "
				       "to");
	if (r.output != NULL && r.output[0] == '\0')
		return cli_usage_error(argv[0], "-o needs a file name, or -");
	if (r.type != NULL && strcmp(r.which, "latest") != 0)
		return cli_usage_error(argv[0], "--type goes with latest only");
	/* Not echoed: the message names the kind of secret only. */
	if (r.to != NULL && (secret = target_to_secret(r.to)) != NULL)
		return cli_usage_error(
			argv[0],
			"--to holds %s, which every user of this host can "
			"read on the command line: put it in a password file "
			"(%s), not in --to",
			secret,
			strncmp(r.to, "mysql://", 8) == 0
				? "password_file in [database]"
				: "PGPASSFILE, or ~/.pgpass");
	/* A dump is not for a terminal to interpret. */
	if (r.output != NULL && strcmp(r.output, "-") == 0 &&
	    isatty(STDOUT_FILENO))
		return cli_usage_error(argv[0],
				       "-o -: standard output is a terminal; "
				       "redirect it to a file or a pipe");
	if (r.output != NULL && strcmp(r.output, "-") != 0 &&
	    lstat(r.output, &sb) == 0) {
		/* The file is made beside it and renamed over it: over a
		 * device, a FIFO or a link that would replace the thing
		 * itself (as root, /dev/null). */
		if (!S_ISREG(sb.st_mode))
			return cli_usage_error(argv[0],
					       "%s is not a regular file; to "
					       "write into it, give -o - and "
					       "redirect",
					       r.output);
		if (!r.force) {
			cli_errorf("%s exists: not overwriting it without "
				   "--force",
				   r.output);
			return EXIT_FAILED;
		}
	}

	if (stop_start("restore") != 0) {
		cli_errorf("cannot set up signal handling");
		return EXIT_FAILED;
	}
	rc = run_restore(&r);
	/* The tool is killed before its input is closed, a file that did
	 * not pass is removed. */
	target_free(r.tg);
	if (r.tg == NULL)
		stream_free(r.sink);
	drop_temp(&r);
	stop_end();
	fetch_pin_dispose(&r.pin);
	if (r.b_open)
		fetch_backup_dispose(&r.b);
	if (r.have_key)
		crypto_key_dispose(&r.ckey);
	trust_dispose(&r.trust);
	s3_client_free(r.s3);
	if (r.st_ready)
		storage_dispose(&r.st);
	return rc;
}
