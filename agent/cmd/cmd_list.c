/*
 * offsite list: every backup under the prefix, newest first, as an
 * aligned table or one JSON document. Each manifest is read and judged
 * (agent/trust.h): backups that do not count are listed all the same,
 * marked incomplete ("no"), unverified, unencrypted or future.
 */
#include "agent/cmd/cmd.h"
#include "agent/cmd/cmd_scan.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/ops/log.h"
#include "agent/ops/report.h"
#include "retention/retention.h"

const char cmd_list_usage[] =
	"usage: offsite list [--type TYPE] [--database DB] [--json]\n"
	"\n"
	"List the backups under the prefix, of every database, newest\n"
	"first: time of creation (UTC), type, database, stored size,\n"
	"whether encrypted, whether complete, and key. A backup without\n"
	"its manifest is listed as not complete (no); one whose manifest\n"
	"does not authenticate as unverified; one that is not encrypted\n"
	"where encryption is configured as unencrypted; one dated later\n"
	"than now plus [retention] future_tolerance as future.\n"
	"\n"
	"  --type TYPE      only backups of this type\n"
	"  --database DB    only backups of this database\n"
	"  --json           print one JSON document: bucket, prefix and\n"
	"                   the list of backups\n";

enum { OPT_TYPE = 256, OPT_DATABASE, OPT_JSON };

static const struct option list_options[] = {
	{"type", required_argument, NULL, OPT_TYPE},
	{"database", required_argument, NULL, OPT_DATABASE},
	{"json", no_argument, NULL, OPT_JSON},
	{NULL, 0, NULL, 0},
};

static int width(int w, const char *s)
{
	int n = (int)strlen(s);

	return n > w ? n : w;
}

/* The "complete" column: yes, no (no manifest), or why it does not
 * count. */
static const char *complete_word(const struct retention_backup *x)
{
	if (x->complete)
		return "yes";
	if (!x->future && x->verdict == RETENTION_NO_MANIFEST)
		return "no";
	return report_state(x);
}

static void print_table(const struct retention_backups *b)
{
	char size[REPORT_SIZE_MAX], bytes[24], ts[REPORT_TIME_MAX];
	int wtype = 4, wdb = 8, wsize = 4, wbytes = 5, wstate = 8;
	size_t i;

	for (i = 0; i < b->n; i++) {
		const struct retention_backup *x = &b->items[i];

		snprintf(bytes, sizeof(bytes), "%" PRIu64, x->size);
		wtype = width(wtype, x->parsed.type);
		wdb = width(wdb, x->parsed.database);
		wsize = width(wsize, report_size(size, x->size));
		wbytes = width(wbytes, bytes);
		wstate = width(wstate, complete_word(x));
	}
	printf("%-20s  %-*s  %-*s  %*s  %*s  %-9s  %-*s  %s\n", "created",
	       wtype, "type", wdb, "database", wsize, "size", wbytes, "bytes",
	       "encrypted", wstate, "complete", "key");
	for (i = 0; i < b->n; i++) {
		const struct retention_backup *x = &b->items[i];

		snprintf(bytes, sizeof(bytes), "%" PRIu64, x->size);
		cli_outf("%-20s  %-*s  %-*s  %*s  %*s  %-9s  %-*s  %s\n",
			 report_time(ts, x->parsed.created), wtype,
			 x->parsed.type, wdb, x->parsed.database, wsize,
			 report_size(size, x->size), wbytes, bytes,
			 x->encrypted ? "yes" : "no", wstate, complete_word(x),
			 x->key);
	}
}

static int print_json(const conf *c, const struct retention_backups *b)
{
	json_t *root =
		report_list_json(c->storage.bucket, c->storage.prefix, b);
	int rc = -1;

	if (root &&
	    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII) == 0 &&
	    putchar('\n') != EOF)
		rc = 0;
	json_decref(root);
	return rc;
}

int cmd_list(const struct cli_globals *g, const conf *c, int argc, char **argv)
{
	const char *type = NULL, *database = NULL;
	struct cmd_scan scan;
	bool json = false;
	int ch, rc;

	(void)g;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", list_options, NULL)) != -1) {
		switch (ch) {
		case OPT_TYPE:
			type = optarg;
			if (cli_check_type(argv[0], type))
				return EXIT_USAGE;
			break;
		case OPT_DATABASE:
			database = optarg;
			if (cli_check_database(argv[0], database))
				return EXIT_USAGE;
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

	rc = cmd_scan_open(&scan, c, type, database);
	if (rc == EXIT_OK && !json) {
		print_table(&scan.backups);
	} else if (rc == EXIT_OK && print_json(c, &scan.backups) != 0) {
		log_event(LOG_ERROR, "cannot write the listing", NULL);
		rc = EXIT_FAILED;
	}
	cmd_scan_dispose(&scan);
	return rc;
}
