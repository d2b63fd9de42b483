/*
 * offsite config: print the effective configuration, or the reference of
 * every key (--describe, which needs no config file).
 */
#include "agent/cmd/cmd.h"

#include <getopt.h>
#include <stdio.h>

const char cmd_config_usage[] =
	"usage: offsite config [--describe]\n"
	"\n"
	"Load and validate the configuration and print it as INI, defaults\n"
	"included, with every secret shown as <redacted> and a comment\n"
	"where a value came from the environment.\n"
	"\n"
	"  --describe   print the reference of every key instead (a\n"
	"               Markdown table); needs no config file\n";

enum { OPT_DESCRIBE = 256 };

static const struct option config_options[] = {
	{"describe", no_argument, NULL, OPT_DESCRIBE},
	{NULL, 0, NULL, 0},
};

int cmd_config(const struct cli_globals *g, const conf *unused, int argc,
	       char **argv)
{
	conf *c = NULL;
	bool describe = false;
	int ch, rc;

	(void)unused;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+:", config_options, NULL)) !=
	       -1) {
		switch (ch) {
		case OPT_DESCRIBE:
			describe = true;
			break;
		default:
			return cli_option_error(argv[0], ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "unexpected argument '%s'",
				       argv[optind]);

	if (describe) {
		if (conf_describe(stdout) != 0) {
			cli_errorf("cannot write the reference");
			return EXIT_FAILED;
		}
		return EXIT_OK;
	}

	rc = cli_load_config(&c, g);
	if (rc != EXIT_OK)
		goto out;
	if (conf_print(c, stdout) != 0) {
		cli_errorf("cannot write the configuration");
		rc = EXIT_FAILED;
	}
out:
	conf_free(c);
	return rc;
}
