/*
 * cli: global options, the command table, help, and the steps every
 * command shares (config, log) before it runs.
 */
#include "agent/cli.h"

#include "agent/cmd/cmd.h"
#include "agent/ops/log.h"
#include "agent/error.h"
#include "retention/retention.h"
#include "common/redact.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <libxml/parser.h>
#include <libxml/xmlversion.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The commands, in the order --help lists them:
 * name, summary, usage, needs_config, run. */
const struct cli_command cli_commands[] = {
	{"backup", "take a dump of the database and upload it",
	 cmd_backup_usage, true, cmd_backup},
	{"restore", "download a backup and load it into a database or a file",
	 cmd_restore_usage, true, cmd_restore},
	{"list", "list the backups in the bucket, newest first", cmd_list_usage,
	 true, cmd_list},
	{"status", "totals, the newest backup of each type, and its health",
	 cmd_status_usage, true, cmd_status},
	{"verify", "download a backup and check its integrity end to end",
	 cmd_verify_usage, true, cmd_verify},
	{"presign", "print a temporary download URL for a backup",
	 cmd_presign_usage, true, cmd_presign},
	{"delete", "delete one backup", cmd_delete_usage, true, cmd_delete},
	{"check", "check the config, credentials, bucket, database and key",
	 cmd_check_usage, false,
	 cmd_check}, /* loads it: a bad one is a check */
	{"retention",
	 "show, apply or remove lifecycle rules; prune old backups",
	 cmd_retention_usage, true, cmd_retention},
	{"keygen", "generate a new encryption key file", cmd_keygen_usage,
	 false, cmd_keygen},
	{"decrypt", "decrypt an encrypted backup read from standard input",
	 cmd_decrypt_usage, false, cmd_decrypt},
	{"config", "print the effective configuration", cmd_config_usage, false,
	 cmd_config}, /* loads it itself: --describe does not need it */
	{NULL, NULL, NULL, false, NULL},
};

enum { OPT_VERSION = 256 };

static const struct option global_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

/* What the global options ask for. */
enum action { ACTION_RUN, ACTION_HELP, ACTION_VERSION };

const struct cli_command *cli_find(const char *name)
{
	const struct cli_command *cmd;

	for (cmd = cli_commands; cmd->name != NULL; cmd++) {
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	}
	return NULL;
}

/* "offsite[ COMMAND]: MSG" on stderr, redacted, then escaped: a message
 * may quote a server, the bucket or the config. */
static void put_error(const char *command, char *msg, size_t size)
{
	char shown[4 * 2048 + 1];

	redact(msg, size);
	log_escape(shown, sizeof(shown), msg);
	fprintf(stderr, "offsite%s%s: %s\n", command != NULL ? " " : "",
		command != NULL ? command : "", shown);
}

int cli_voutf(const char *fmt, va_list ap)
{
	char *text = NULL, *shown = NULL;
	size_t len, size;
	bool eol;
	int n, rc = -1;

	n = vasprintf(&text, fmt, ap);
	if (n < 0)
		return -1;
	len = (size_t)n;
	eol = len > 0 && text[len - 1] == '\n';
	if (eol)
		text[--len] = '\0';
	if (len > (SIZE_MAX - 2) / 4)
		goto out;
	size = 4 * len + 1;
	shown = malloc(size + 1);
	if (shown == NULL)
		goto out;
	len = log_escape(shown, size, text);
	if (eol)
		shown[len++] = '\n';
	if (fwrite(shown, 1, len, stdout) == len)
		rc = (int)len;
out:
	free(text);
	free(shown);
	return rc;
}

int cli_outf(const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cli_voutf(fmt, ap);
	va_end(ap);
	return rc;
}

void cli_errorf(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	put_error(NULL, msg, sizeof(msg));
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	char what[1024];
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s (see offsite %s --help)", what, command);
	put_error(command, msg, sizeof(msg));
	return EXIT_USAGE;
}

int cli_check_type(const char *command, const char *type)
{
	if (retention_type_valid(type))
		return 0;
	return cli_usage_error(command,
			       "bad type '%s' (1 to 31 of a-z 0-9 _ -, not "
			       "'%s')",
			       type, RETENTION_ABORT_RULE);
}

int cli_check_database(const char *command, const char *database)
{
	if (retention_database_valid(database))
		return 0;
	return cli_usage_error(command,
			       "bad database '%s' (1 to 127 of A-Z a-z 0-9 _ "
			       ". -)",
			       database);
}

/* What is wrong with the option getopt_long just rejected (CH is '?' or
 * ':'), naming it as the user typed it. optopt is the short option, a long
 * option's value, or 0 for an unknown long option; argv[optind - 1] is the
 * word it came from: exact for a long option, maybe a cluster (-qx). */
static void option_problem(char *out, size_t size, int ch, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	bool is_long = arg[0] == '-' && arg[1] == '-';
	int namelen = (int)strcspn(arg, "=");

	if (!is_long)
		snprintf(out, size, "%s '-%c'%s",
			 ch == ':' ? "option" : "unknown option", optopt,
			 ch == ':' ? " needs a value" : "");
	else if (ch == ':')
		snprintf(out, size, "option '%.*s' needs a value", namelen,
			 arg);
	else if (optopt != 0 && arg[namelen] == '=')
		snprintf(out, size, "option '%.*s' takes no value", namelen,
			 arg);
	else
		snprintf(out, size, "unknown option '%.*s'", namelen, arg);
}

int cli_option_error(const char *command, int ch, char **argv)
{
	char problem[256];

	option_problem(problem, sizeof(problem), ch, argv);
	return cli_usage_error(command, "%s", problem);
}

static void print_help(FILE *fp)
{
	const struct cli_command *cmd;

	fprintf(fp,
		"usage: offsite [OPTIONS] COMMAND [ARGS...]\n"
		"\n"
		"offsite streams database dumps, compressed and encrypted, to\n"
		"S3 storage, and brings them back.\n"
		"\n"
		"Commands:\n");
	for (cmd = cli_commands; cmd->name != NULL; cmd++)
		fprintf(fp, "  %-10s %s\n", cmd->name, cmd->summary);
	fprintf(fp,
		"\n"
		"Options:\n"
		"  -c, --config FILE   the configuration file (default: "
		"$OFFSITE_CONFIG,\n"
		"                      else " CONF_DEFAULT_PATH ")\n"
		"  -q, --quiet         log warnings and errors only\n"
		"  -v, --verbose       log debug messages too\n"
		"  -h, --help          show this help\n"
		"      --version       show the versions of offsite and its "
		"libraries\n"
		"\n"
		"Run 'offsite COMMAND --help' for a command's arguments.\n"
		"\n"
		"Exit status:\n"
		"  0  success\n"
		"  1  the operation failed\n"
		"  2  usage or configuration error\n"
		"  3  lock held: another run is in progress\n"
		"  4  integrity failure: a backup failed verification\n");
}

/* "MAJOR.MINOR.PATCH" from a number made of two decimal digits each
 * (libxml2's 20914, libpq's 150018 as MAJOR.MINOR from version 10). */
static void print_versions(void)
{
	const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
	long xml = strtol(xmlParserVersion, NULL, 10);
	int pq = PQlibVersion();

	printf("offsite %s\n", OFFSITE_VERSION);
	printf("libcurl %s%s%s%s\n", curl->version,
	       curl->ssl_version != NULL ? " (" : "",
	       curl->ssl_version != NULL ? curl->ssl_version : "",
	       curl->ssl_version != NULL ? ")" : "");
#ifdef OPENSSL_VERSION_STRING
	printf("OpenSSL %s\n", OpenSSL_version(OPENSSL_VERSION_STRING));
#else
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
#endif
	printf("zlib %s\n", zlibVersion());
	if (xml > 0)
		printf("libxml2 %ld.%ld.%ld\n", xml / 10000, xml / 100 % 100,
		       xml % 100);
	else
		printf("libxml2 %s\n", LIBXML_DOTTED_VERSION);
	if (pq >= 100000)
		printf("libpq %d.%d\n", pq / 10000, pq % 10000);
	else
		printf("libpq %d.%d.%d\n", pq / 10000, pq / 100 % 100,
		       pq % 100);
}

/* -q and -v move the level from BASE. */
static enum log_level log_level_for(int verbosity, enum log_level base)
{
	if (verbosity < 0)
		return LOG_WARN;
	if (verbosity > 0)
		return LOG_DEBUG;
	return base;
}

static enum log_level log_level_from_conf(enum conf_log_level level)
{
	switch (level) {
	case CONF_LOG_ERROR:
		return LOG_ERROR;
	case CONF_LOG_WARN:
		return LOG_WARN;
	case CONF_LOG_DEBUG:
		return LOG_DEBUG;
	case CONF_LOG_INFO:
		break;
	}
	return LOG_INFO;
}

/* Parse the options before the command; *NEXT is the command's index. */
static int parse_globals(struct cli_globals *g, enum action *action, int *next,
			 int argc, char **argv)
{
	const char *config = NULL;
	int ch;

	*action = ACTION_RUN;
	g->verbosity = 0;
	opterr = 0;
	optind = 0; /* glibc: start afresh, whatever ran before */
	while ((ch = getopt_long(argc, argv, "+:c:qvh", global_options,
				 NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'q':
			g->verbosity = -1;
			break;
		case 'v':
			g->verbosity = 1;
			break;
		case 'h':
			*action = ACTION_HELP;
			break;
		case OPT_VERSION:
			*action = ACTION_VERSION;
			break;
		default: {
			char problem[256];

			option_problem(problem, sizeof(problem), ch, argv);
			cli_errorf("%s (see offsite --help)", problem);
			return EXIT_USAGE;
		}
		}
	}
	if (config == NULL) {
		config = getenv("OFFSITE_CONFIG");
		if (config == NULL || config[0] == '\0')
			config = CONF_DEFAULT_PATH;
	}
	if (config[0] == '\0') {
		cli_errorf("-c needs a file name (see offsite --help)");
		return EXIT_USAGE;
	}
	g->config_path = config;
	*next = optind;
	return EXIT_OK;
}

/* `COMMAND ... -h|--help ...`, up to a "--". */
static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

int cli_config_try(conf **out, const struct cli_globals *g,
		   struct agent_error *err)
{
	conf_error cerr = {{0}};
	conf *c = NULL;
	int rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	rc = conf_load(&c, g->config_path, &cerr);
	if (rc != CONF_OK) {
		conf_free(c);
		rc = rc == CONF_ENOMEM ? AGENT_ENOMEM : AGENT_ECONFIG;
		if (cerr.msg[0] == '\0')
			return agent_fail(err, rc, "%s: cannot load config",
					  g->config_path);
		return agent_fail(err, rc, "%s", cerr.msg);
	}
	log_setup(
		log_level_for(g->verbosity, log_level_from_conf(c->log.level)),
		c->log.format == CONF_LOG_JSON ? LOG_FORMAT_JSON
					       : LOG_FORMAT_TEXT,
		NULL);
	log_event(LOG_DEBUG, "config loaded", "path", g->config_path, NULL);
	*out = c;
	return AGENT_OK;
}

int cli_load_config(conf **out, const struct cli_globals *g)
{
	struct agent_error err;
	int rc = cli_config_try(out, g, &err);

	if (rc == AGENT_OK)
		return EXIT_OK;
	cli_errorf("%s", err.msg);
	return cli_exit_for(rc);
}

/* Output that did not reach stdout is a failure, even a --help. */
static int finish_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_errorf("cannot write to standard output: %s",
			   strerror(errno));
		if (rc == EXIT_OK)
			rc = EXIT_FAILED;
	}
	return rc;
}

int cli_main(int argc, char **argv)
{
	struct cli_globals g = {0};
	const struct cli_command *cmd;
	enum action action;
	conf *c = NULL;
	int next = 0;
	int rc;

	log_setup(LOG_INFO, LOG_FORMAT_TEXT, NULL);
	rc = parse_globals(&g, &action, &next, argc, argv);
	if (rc != EXIT_OK)
		goto out;
	if (action == ACTION_HELP) {
		print_help(stdout);
		goto out;
	}
	if (action == ACTION_VERSION) {
		print_versions();
		goto out;
	}
	if (next >= argc) {
		print_help(stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	cmd = cli_find(argv[next]);
	if (cmd == NULL) {
		cli_errorf("unknown command '%s' (see offsite --help)",
			   argv[next]);
		rc = EXIT_USAGE;
		goto out;
	}
	argc -= next;
	argv += next;
	if (wants_help(argc, argv)) {
		fputs(cmd->usage, stdout);
		goto out;
	}

	log_setup(log_level_for(g.verbosity, LOG_INFO), LOG_FORMAT_TEXT, NULL);
	if (cmd->needs_config) {
		rc = cli_load_config(&c, &g);
		if (rc != EXIT_OK)
			goto out;
	}
	rc = cmd->run(&g, c, argc, argv);

out:
	conf_free(c);
	return finish_stdout(rc);
}

int cli_exit_for(int code)
{
	if (code == AGENT_OK)
		return EXIT_OK;
	if (agent_code_is_integrity(code))
		return EXIT_INTEGRITY;
	if (code == AGENT_ECONFIG || code == AGENT_EKEY)
		return EXIT_USAGE;
	if (code == AGENT_ELOCKED)
		return EXIT_LOCKED;
	return EXIT_FAILED;
}
