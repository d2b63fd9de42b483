/*
 * offsite status: totals, the newest complete backup of each type and
 * database with its age, unfinished uploads; and, where a maximum age
 * applies, a health check a monitoring system can run as is: exit 1 and
 * one line per problem when a backup is stale or missing, or when backups
 * dated in the future are in the bucket. Only backups that count
 * (agent/trust.h) are complete.
 */
#include "agent/cmd/cmd.h"
#include "agent/cmd/cmd_scan.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/ops/log.h"
#include "agent/ops/report.h"
#include "retention/retention.h"

const char cmd_status_usage[] =
	"usage: offsite status [--type TYPE] [--database DB]\n"
	"                      [--max-age DURATION] [--json]\n"
	"\n"
	"Show the number and size of the backups per type, the newest and\n"
	"oldest backup, the newest complete backup of each type and\n"
	"database with its age, and the unfinished uploads. The exit\n"
	"status is 1, with one line per problem, when a newest complete\n"
	"backup is older than its maximum age or a type that has one has\n"
	"no complete backup, or when backups are dated in the future, so\n"
	"a monitoring check can run it as is.\n"
	"\n"
	"  --type TYPE          only backups of this type\n"
	"  --database DB        only backups of this database\n"
	"  --max-age DURATION   the maximum age for every type, e.g. 26h\n"
	"                       or 8d (default: max_age.TYPE, else max_age\n"
	"                       in [retention]; none: not checked)\n"
	"  --json               print one JSON document\n";

enum { OPT_TYPE = 256, OPT_DATABASE, OPT_MAX_AGE, OPT_JSON };

static const struct option status_options[] = {
	{"type", required_argument, NULL, OPT_TYPE},
	{"database", required_argument, NULL, OPT_DATABASE},
	{"max-age", required_argument, NULL, OPT_MAX_AGE},
	{"json", no_argument, NULL, OPT_JSON},
	{NULL, 0, NULL, 0},
};

static int width(int w, const char *s)
{
	int n = (int)strlen(s);

	return n > w ? n : w;
}

static void print_totals(const struct report_status *s)
{
	char size[REPORT_SIZE_MAX];
	int wtype = 5;
	size_t i;

	for (i = 0; i < s->ntypes; i++)
		wtype = width(wtype, s->types[i].type);
	printf("%-*s  %7s  %8s  %10s  %s\n", wtype, "type", "backups",
	       "complete", "size", "bytes");
	for (i = 0; i <= s->ntypes; i++) {
		const struct report_type_total *t =
			i < s->ntypes ? &s->types[i] : &s->total;

		printf("%-*s  %7zu  %8zu  %10s  %" PRIu64 "\n", wtype,
		       i < s->ntypes ? t->type : "total", t->count, t->complete,
		       report_size(size, t->bytes), t->bytes);
	}
}

static void print_backup(const char *label, const struct retention_backup *x)
{
	char ts[REPORT_TIME_MAX];

	if (!x) {
		printf("%-8s  none\n", label);
		return;
	}
	cli_outf("%-8s  %s  %s%s%s%s\n", label,
		 report_time(ts, x->parsed.created), x->key,
		 x->complete ? "" : " (", x->complete ? "" : report_state(x),
		 x->complete ? "" : ")");
}

static const char *pair_state(const struct report_pair *p)
{
	if (p->max_age == 0)
		return "not checked";
	if (!p->newest)
		return "missing";
	return p->stale ? "stale" : "ok";
}

static void print_pairs(const struct report_status *s)
{
	char ts[REPORT_TIME_MAX], age[REPORT_AGE_MAX], max[REPORT_AGE_MAX];
	int wtype = 4, wdb = 8, wage = 3, wmax = 7;
	size_t i;

	for (i = 0; i < s->npairs; i++) {
		const struct report_pair *p = &s->pairs[i];

		wtype = width(wtype, p->type[0] ? p->type : "(any)");
		wdb = width(wdb, p->database[0] ? p->database : "(any)");
		if (p->newest)
			wage = width(wage, report_age(age, p->age));
		if (p->max_age)
			wmax = width(wmax, report_age(max, p->max_age));
	}
	printf("%-*s  %-*s  %-20s  %-*s  %-*s  %s\n", wtype, "type", wdb,
	       "database", "newest complete", wage, "age", wmax, "max age",
	       "state");
	for (i = 0; i < s->npairs; i++) {
		const struct report_pair *p = &s->pairs[i];

		printf("%-*s  %-*s  %-20s  %-*s  %-*s  %s\n", wtype,
		       p->type[0] ? p->type : "(any)", wdb,
		       p->database[0] ? p->database : "(any)",
		       p->newest ? report_time(ts, p->newest->parsed.created)
				 : "-",
		       wage, p->newest ? report_age(age, p->age) : "-", wmax,
		       p->max_age ? report_age(max, p->max_age) : "-",
		       pair_state(p));
	}
}

static bool any_checked(const struct report_status *s)
{
	size_t i;

	for (i = 0; i < s->npairs; i++)
		if (s->pairs[i].max_age)
			return true;
	return false;
}

static void print_status(const conf *c, const struct report_status *s)
{
	char ts[REPORT_TIME_MAX];
	size_t i;

	printf("bucket %s, prefix '%s'\n\n", c->storage.bucket,
	       c->storage.prefix);
	print_totals(s);
	printf("\n");
	print_backup("newest", s->newest);
	print_backup("oldest", s->oldest);
	printf("\n");
	if (s->npairs) {
		print_pairs(s);
		printf("\n");
	}
	if (s->oldest_pending)
		cli_outf("pending uploads: %zu, oldest %s %s\n", s->pending,
			 report_time(ts, s->oldest_pending->initiated),
			 s->oldest_pending->key);
	else
		printf("pending uploads: 0\n");
	printf("\n");
	for (i = 0; i < s->nproblems; i++)
		cli_outf("unhealthy: %s\n", s->problems[i]);
	if (s->nproblems == 0)
		printf("%s\n", any_checked(s) ? "healthy"
					      : "health not checked: no "
						"max age set");
}

static int print_json(const conf *c, const struct report_status *s, time_t now)
{
	json_t *root = report_status_json(c->storage.bucket, c->storage.prefix,
					  s, now);
	int rc = -1;

	if (root &&
	    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII) == 0 &&
	    putchar('\n') != EOF)
		rc = 0;
	json_decref(root);
	return rc;
}

int cmd_status(const struct cli_globals *g, const conf *c, int argc,
	       char **argv)
{
	struct report_status_options ro = {.c = c};
	struct cmd_scan scan;
	struct retention_uploads u = {0};
	struct report_status s = {0};
	bool json = false;
	struct retention_error rerr;
	size_t i;
	int ch, rc = EXIT_FAILED;

	(void)g;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", status_options, NULL)) !=
	       -1) {
		switch (ch) {
		case OPT_TYPE:
			ro.type = optarg;
			if (cli_check_type(argv[0], ro.type))
				return EXIT_USAGE;
			break;
		case OPT_DATABASE:
			ro.database = optarg;
			if (cli_check_database(argv[0], ro.database))
				return EXIT_USAGE;
			break;
		case OPT_MAX_AGE:
			if (conf_parse_duration(optarg, &ro.max_age) !=
				    CONF_OK ||
			    ro.max_age == 0)
				return cli_usage_error(argv[0],
						       "bad duration '%s' "
						       "(e.g. 26h, 8d)",
						       optarg);
			break;
		case OPT_JSON:
			json = true;
			break;
		default:
			return cli_option_error(argv[0], ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "unexpected argument '%s'",
				       argv[optind]);

	rc = cmd_scan_open(&scan, c, ro.type, ro.database);
	if (rc != EXIT_OK)
		goto out;
	rc = EXIT_FAILED;
	if (retention_pending(&u, scan.s3, c->storage.prefix, ro.type,
			      ro.database, &rerr) != RETENTION_OK) {
		log_event(LOG_ERROR, "cannot list unfinished uploads", "bucket",
			  c->storage.bucket, "error", rerr.msg, NULL);
		goto out;
	}
	ro.now = scan.opts.now;
	if (report_status_build(&s, &scan.backups, &u, &ro) != 0) {
		log_event(LOG_ERROR, "out of memory", NULL);
		goto out;
	}
	if (!json) {
		print_status(c, &s);
	} else if (print_json(c, &s, ro.now) != 0) {
		log_event(LOG_ERROR, "cannot write the status", NULL);
		goto out;
	}
	for (i = 0; i < s.npairs; i++) {
		const struct report_pair *p = &s.pairs[i];
		char age[REPORT_AGE_MAX], max[REPORT_AGE_MAX];

		if (!p->stale)
			continue;
		log_event(LOG_ERROR,
			  p->newest ? "backup too old" : "no complete backup",
			  "type", p->type[0] ? p->type : "any", "database",
			  p->database[0] ? p->database : "any", "age",
			  p->newest ? report_age(age, p->age) : "-", "max_age",
			  report_age(max, p->max_age), "key",
			  p->newest ? p->newest->key : "", NULL);
	}
	rc = s.nproblems ? EXIT_FAILED : EXIT_OK;
out:
	report_status_dispose(&s);
	retention_uploads_dispose(&u);
	cmd_scan_dispose(&scan);
	return rc;
}
