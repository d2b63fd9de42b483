/*
 * offsite keygen: write a new random 256-bit key to a file that did not
 * exist, readable by its owner only.
 */
#include "agent/cmd/cmd.h"

#include <getopt.h>
#include <stdio.h>

#include "agent/pipe/crypto.h"

const char cmd_keygen_usage[] =
	"usage: offsite keygen -o KEYFILE\n"
	"\n"
	"Generate a random 256-bit key and write it to KEYFILE, created\n"
	"readable by its owner only. An existing file is never\n"
	"overwritten. Keep a copy away from this host and the bucket:\n"
	"without the key, no encrypted backup can be restored.\n"
	"\n"
	"  -o KEYFILE   the file to create\n";

static const struct option keygen_options[] = {
	{"output", required_argument, NULL, 'o'},
	{NULL, 0, NULL, 0},
};

int cmd_keygen(const struct cli_globals *g, const conf *c, int argc,
	       char **argv)
{
	struct agent_error err = {0};
	uint8_t id[CRYPTO_KEY_ID_LEN];
	char hex[CRYPTO_KEY_ID_HEX_SIZE];
	const char *path = NULL;
	int ch, rc;

	(void)g;
	(void)c;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+:o:", keygen_options, NULL)) !=
	       -1) {
		switch (ch) {
		case 'o':
			path = optarg;
			break;
		default:
			return cli_option_error(argv[0], ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "unexpected argument '%s'",
				       argv[optind]);
	if (path == NULL || path[0] == '\0')
		return cli_usage_error(argv[0], "-o KEYFILE is required");

	rc = crypto_keygen(id, path, &err);
	if (rc != AGENT_OK) {
		cli_errorf("%s", err.msg);
		return EXIT_FAILED;
	}
	crypto_key_id_hex(hex, id);
	printf("wrote %s (key id %s)\n", path, hex);
	return EXIT_OK;
}
