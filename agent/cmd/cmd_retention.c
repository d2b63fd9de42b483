/*
 * offsite retention: the bucket's lifecycle rules (show, apply, remove),
 * merged with everyone else's, and client-side pruning.
 */
#include "agent/cmd/cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/ops/log.h"
#include "agent/ops/metrics.h"
#include "agent/ops/stale.h"
#include "agent/repo/storage.h"
#include "agent/ops/trust.h"
#include "common/clock.h"
#include "retention/retention.h"

const char cmd_retention_usage[] =
	"usage: offsite retention show|apply|remove|prune [--dry-run]\n"
	"\n"
	"Manage how long backups are kept. The bucket's lifecycle rules\n"
	"expire backups on the server: one rule per backup type\n"
	"(offsite-TYPE, [retention] days.TYPE or days), and one that\n"
	"aborts uploads left unfinished. Rules that are not offsite's are\n"
	"never changed. prune does the same work from this host, for\n"
	"stores without lifecycle rules, and enforces keep_last.\n"
	"\n"
	"  show       the bucket's rules beside the configured ones\n"
	"  apply      install or update offsite's rules, keeping the others\n"
	"  remove     take offsite's rules out, keeping the others\n"
	"  prune      delete backups past their type's days, or beyond\n"
	"             keep_last, and abort old unfinished uploads; the\n"
	"             newest complete backup of each type and database is\n"
	"             always kept, and nothing is deleted while a complete\n"
	"             backup is dated in the future\n"
	"  --dry-run  print what would change; change nothing\n";

enum { OPT_DRY_RUN = 256 };

static const struct option retention_options[] = {
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{NULL, 0, NULL, 0},
};

enum action { SHOW, APPLY, REMOVE, PRUNE };

/* The word in front of a change, per action: show states, apply and
 * remove say what they do (or would do). */
static const char *verb(enum action a, enum retention_change_op op,
			bool dry_run)
{
	switch (op) {
	case RETENTION_RULE_ADD:
		return a == SHOW ? "missing" : dry_run ? "would add" : "add";
	case RETENTION_RULE_UPDATE:
		return a == SHOW ? "differs"
		       : dry_run ? "would change"
				 : "change";
	case RETENTION_RULE_REMOVE:
		return dry_run ? "would remove" : "remove";
	case RETENTION_RULE_SAME:
		return a == SHOW ? "ok" : "keep";
	case RETENTION_RULE_FOREIGN:
		return "other";
	}
	return "?";
}

static int rules(s3_client *s3, const conf *c, enum action a, bool dry_run)
{
	struct retention_plan plan;
	struct retention_error err;
	size_t i;
	int rc;

	rc = retention_apply(&plan, s3, c, NULL, a == REMOVE,
			     a == SHOW || dry_run, &err);
	if (rc != RETENTION_OK) {
		log_event(LOG_ERROR,
			  a == SHOW ? "cannot read the lifecycle rules"
				    : "cannot update the lifecycle rules",
			  "bucket", c->storage.bucket, "error", err.msg, NULL);
		if (rc == RETENTION_ENOTSUP)
			log_event(LOG_ERROR,
				  "this store has no lifecycle rules: run "
				  "`offsite retention prune` from a timer "
				  "instead",
				  NULL);
		return EXIT_FAILED;
	}
	for (i = 0; i < plan.nchanges; i++) {
		const struct retention_change *ch = &plan.changes[i];
		cli_outf("%-12s %s%s\n", verb(a, ch->op, dry_run), ch->text,
			 ch->op == RETENTION_RULE_FOREIGN ? " (not offsite's)"
							  : "");
	}
	for (i = 0; i < plan.nwarnings; i++)
		log_event(LOG_WARN, plan.warnings[i], NULL);
	if (a == SHOW)
		printf("%s\n", plan.changed ? "the bucket's rules differ from "
					      "the configuration: run "
					      "`offsite retention apply`"
					    : "the bucket's rules match the "
					      "configuration");
	else if (!plan.changed)
		printf("nothing to change\n");
	else if (dry_run)
		printf("dry run: nothing written\n");
	else
		log_event(LOG_INFO,
			  a == REMOVE ? "lifecycle rules removed"
				      : "lifecycle rules applied",
			  "bucket", c->storage.bucket, NULL);
	retention_plan_dispose(&plan);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

/* ---- prune ---- */

static void why_text(char *buf, size_t size,
		     const struct retention_prune_item *it, const conf *c)
{
	const char *type = it->backup->parsed.type;
	int days = conf_type_days(c, type);

	switch (it->why) {
	case RETENTION_PRUNE_COUNT:
		snprintf(buf, size, "beyond keep_last %d",
			 conf_type_keep_last(c, type));
		break;
	case RETENTION_PRUNE_INCOMPLETE:
		snprintf(buf, size, "%s, older than %d days",
			 it->backup->verdict == RETENTION_NO_MANIFEST
				 ? "no manifest"
			 : it->backup->verdict == RETENTION_UNENCRYPTED
				 ? "not encrypted"
				 : "manifest not accepted",
			 days);
		break;
	case RETENTION_PRUNE_AGE:
	default:
		snprintf(buf, size, "older than %d days", days);
		break;
	}
}

/* Delete one backup: its manifest first, so that a crash in between
 * leaves an incomplete object, never a manifest without its backup
 * counted as complete. */
static int delete_backup(s3_client *s3, const struct retention_backup *b)
{
	s3_error err;
	char *mkey = NULL;
	int rc = -1;

	if (asprintf(&mkey, "%s%s", b->key, RETENTION_MANIFEST_SUFFIX) < 0)
		return -1;
	if (b->verdict != RETENTION_NO_MANIFEST &&
	    s3_delete_object(s3, mkey, &err) != S3_OK &&
	    err.code != S3_ENOTFOUND) {
		log_event(LOG_ERROR, "cannot delete a manifest", "key", mkey,
			  "error", err.msg, NULL);
		goto out;
	}
	if (s3_delete_object(s3, b->key, &err) != S3_OK &&
	    err.code != S3_ENOTFOUND) {
		log_event(LOG_ERROR, "cannot delete a backup", "key", b->key,
			  "error", err.msg, NULL);
		goto out;
	}
	rc = 0;
out:
	free(mkey);
	return rc;
}

/* A complete backup dated in the future: a clock ran ahead, or someone
 * planted it. Ages read from keys cannot be trusted then. */
static void refuse_future(const struct retention_backups *all,
			  const struct retention_scan_options *o)
{
	const struct retention_backup *f = retention_future_accepted(all);
	char after[17];

	retention_format_time(o->now + (time_t)o->future_tolerance, after);
	log_event(LOG_ERROR,
		  "prune refused: a complete backup is dated in the future; "
		  "nothing deleted",
		  "key", f ? f->key : "?", "after", after, "hint",
		  "check the clocks of the hosts that write backups, then "
		  "delete or rename what is dated in the future",
		  NULL);
}

static int prune(s3_client *s3, const conf *c, bool dry_run)
{
	struct retention_backups all = {0};
	struct retention_prune_item *items = NULL;
	struct retention_scan_options o;
	struct agent_error terr = {0};
	struct trust t;
	char why[96], size[CONF_FORMAT_MAX], count_s[24], aborted_s[24];
	uint64_t bytes = 0;
	time_t now;
	unsigned aborted = 0;
	size_t n = 0, i, deleted = 0;
	struct retention_error err;
	int rc = EXIT_FAILED, prc;

	/* keep_last counts only backups that count: with a key, only those
	 * whose manifest authenticates. */
	if (trust_init(&t, c, false, &terr) != 0) {
		log_event(LOG_ERROR, "cannot load the key", "error", terr.msg,
			  NULL);
		goto out;
	}
	trust_scan_options(&o, &t, s3, NULL, NULL, false);
	now = o.now;
	if (retention_scan(&all, s3, c->storage.prefix, &o, &err)) {
		log_event(LOG_ERROR, "cannot list backups", "error", err.msg,
			  NULL);
		goto out;
	}
	trust_warn_future(&all, &o);
	prc = retention_prune_plan(&items, &n, &all, c, now);
	if (prc == RETENTION_EFUTURE) {
		refuse_future(&all, &o);
		goto out;
	}
	if (prc != RETENTION_OK) {
		log_event(LOG_ERROR, "out of memory", NULL);
		goto out;
	}
	rc = EXIT_OK;
	for (i = 0; i < n; i++) {
		const struct retention_backup *b = items[i].backup;
		why_text(why, sizeof(why), &items[i], c);
		printf("%-12s %s (%s)\n", dry_run ? "would delete" : "delete",
		       b->key, why);
		if (dry_run) {
			bytes += b->size;
			deleted++;
			continue;
		}
		if (delete_backup(s3, b)) {
			rc = EXIT_FAILED;
			continue;
		}
		log_event(LOG_INFO, "backup pruned", "key", b->key, "reason",
			  why, NULL);
		bytes += b->size;
		deleted++;
	}
	/* Uploads no run can still be writing (agent/stale.h). */
	if (stale_uploads_abort(s3, c, NULL, dry_run, stdout, LOG_ERROR,
				&aborted))
		rc = EXIT_FAILED;
	conf_format_size(size, sizeof(size), bytes);
	snprintf(count_s, sizeof(count_s), "%zu", deleted);
	snprintf(aborted_s, sizeof(aborted_s), "%u", aborted);
	printf("%s %zu backup%s (%s), %u incomplete upload%s%s\n",
	       dry_run ? "would prune" : "pruned", deleted,
	       deleted == 1 ? "" : "s", size, aborted, aborted == 1 ? "" : "s",
	       dry_run ? ": dry run, nothing deleted" : "");
	if (!dry_run)
		log_event(LOG_INFO, "prune complete", "deleted", count_s,
			  "bytes", size, "aborted_uploads", aborted_s, NULL);
	if (fflush(stdout) != 0)
		rc = EXIT_FAILED;
out:
	free(items);
	retention_backups_dispose(&all);
	trust_dispose(&t);
	return rc;
}

/* [metrics] textfile: the prune run as the series type "prune",
 * database "*"; a file that cannot be written costs a warning. */
static void prune_metrics(const conf *c, int rc, const struct timespec *t0)
{
	struct metrics_run m = {.type = METRICS_PRUNE_TYPE,
				.database = METRICS_PRUNE_DATABASE};

	m.ended = time(NULL);
	m.duration = mono_elapsed_s(t0);
	m.success = rc == EXIT_OK;
	(void)metrics_write(c->metrics.textfile, &m);
}

int cmd_retention(const struct cli_globals *g, const conf *c, int argc,
		  char **argv)
{
	static const char *const names[] = {"show", "apply", "remove", "prune"};
	enum action a = SHOW;
	bool dry_run = false, found = false;
	s3_client *s3 = NULL;
	struct timespec t0;
	s3_error err;
	size_t i;
	int ch, rc;

	(void)g;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", retention_options, NULL)) !=
	       -1) {
		switch (ch) {
		case OPT_DRY_RUN:
			dry_run = true;
			break;
		default:
			return cli_option_error(argv[0], ch, argv);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(argv[0], optind < argc
							? "one action, not more"
							: "which action? show, "
							  "apply, remove or "
							  "prune");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(argv[optind], names[i]) == 0) {
			a = (enum action)i;
			found = true;
		}
	if (!found)
		return cli_usage_error(argv[0],
				       "unknown action '%s' (show, apply, "
				       "remove or prune)",
				       argv[optind]);
	if (dry_run && a == SHOW)
		return cli_usage_error(argv[0],
				       "show changes nothing: --dry-run is "
				       "for apply, remove and prune");

	mono_now(&t0);
	if (storage_open(&s3, c, &err) != S3_OK) {
		log_event(LOG_ERROR, "cannot reach storage", "error", err.msg,
			  NULL);
		rc = EXIT_FAILED;
	} else {
		rc = a == PRUNE ? prune(s3, c, dry_run)
				: rules(s3, c, a, dry_run);
		s3_client_free(s3);
	}
	if (a == PRUNE && !dry_run)
		prune_metrics(c, rc, &t0);
	return rc;
}
