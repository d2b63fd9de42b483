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

/* Each usage text starts with its synopsis and ends with a newline. */
static const char usage_backup[] =
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

static const char usage_restore[] =
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
	"                 replace FILE (without it: exit 1)\n"
	"  --allow-unencrypted\n"
	"                 with encryption configured, accept a backup that\n"
	"                 is not encrypted (anyone who can write to the\n"
	"                 bucket can write one)\n"
	"  --trust-backup load a plain dump with a psql too old to run\n"
	"                 restricted (before 13.22, 14.19, 15.14, 16.10,\n"
	"                 17.6): the dump could run shell commands\n";

static const char usage_list[] =
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

static const char usage_status[] =
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

static const char usage_verify[] =
	"usage: offsite verify KEY|latest|--all [--type TYPE] [--database DB]\n"
	"                      [--allow-unencrypted]\n"
	"\n"
	"Read backups back from the bucket and check them end to end,\n"
	"writing nothing: every encrypted segment's authentication, the\n"
	"gzip CRCs and lengths, the sizes and SHA-256 of the stored and the\n"
	"plain bytes against the manifest, and the end-of-dump marker of a\n"
	"plain pg_dump. One line per backup on standard output:\n"
	"\n"
	"  ok KEY (plain N bytes, stored N bytes)\n"
	"  FAILED KEY: WHY     the backup is not intact\n"
	"  ERROR KEY: WHY      it could not be checked (network, key...)\n"
	"  skipped KEY: WHY    --all: no manifest, dated in the future, or\n"
	"                      not encrypted where encryption is configured\n"
	"\n"
	"The exit status is 4 when a backup failed, else 1 after an error.\n"
	"\n"
	"  KEY            the backup with this key\n"
	"  latest         the newest complete backup of the configured\n"
	"                 database\n"
	"  --all          every backup under the prefix\n"
	"  --type TYPE    with latest or --all: of this type only\n"
	"  --database DB  with latest or --all: of this database only\n"
	"  --allow-unencrypted\n"
	"                 with encryption configured, check backups that\n"
	"                 are not encrypted too\n";

static const char usage_presign[] =
	"usage: offsite presign KEY|latest [--type TYPE] [--expires DURATION]\n"
	"                       [--filename NAME] [--at TIME]\n"
	"                       [--allow-unencrypted] [--any-key]\n"
	"\n"
	"Print a presigned URL that downloads a backup without\n"
	"credentials. The URL is itself a credential: anyone who has it\n"
	"can download the backup until it expires.\n"
	"\n"
	"  KEY                 the backup with this key\n"
	"  latest              the newest complete backup\n"
	"  --type TYPE         with latest: the newest backup of this type\n"
	"  --expires DURATION  how long the URL is valid, e.g. 30m, 1h, 2d\n"
	"                      (default: expires in [presign], 1h; at most "
	"7d)\n"
	"  --filename NAME     the file name a browser saves the download\n"
	"                      as (default: the key's last element)\n"
	"  --at TIME           sign as of TIME, e.g. 2026-11-23T09:30:00Z,\n"
	"                      instead of now\n"
	"  --allow-unencrypted with encryption configured, sign a backup\n"
	"                      that is not encrypted\n"
	"  --any-key           sign KEY as it is, whatever it is; without\n"
	"                      it only a complete backup of the layout\n"
	"                      under the prefix is signed\n";

static const char usage_delete[] =
	"usage: offsite delete KEY|latest [--type TYPE] [--force]\n"
	"\n"
	"Delete a backup and its manifest, the manifest first. Only keys\n"
	"of offsite's layout under the prefix are deleted. Nothing is\n"
	"asked: the command is meant for scripts too.\n"
	"\n"
	"  KEY           the backup with this key, as offsite list shows it\n"
	"  latest        the newest complete backup of the database\n"
	"  --type TYPE   with latest: the newest backup of this type\n"
	"  --force       needed to delete latest\n";

static const char usage_check[] =
	"usage: offsite check\n"
	"\n"
	"Check, without taking a backup, that a backup can be taken and\n"
	"restored: the configuration, the encryption key, the dump tool\n"
	"and the database connection, the endpoint, the credentials and\n"
	"the bucket (a small object is written under the prefix, read\n"
	"back and deleted), the lifecycle rules that expire backups, and\n"
	"the catalog. Prints one line per check: ok, FAIL with what to\n"
	"fix, or skip with why. The exit status is 1 when a check fails.\n";

static const char usage_retention[] =
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

static const char usage_keygen[] =
	"usage: offsite keygen -o KEYFILE\n"
	"\n"
	"Generate a random 256-bit key and write it to KEYFILE, created\n"
	"readable by its owner only. An existing file is never\n"
	"overwritten. Keep a copy away from this host and the bucket:\n"
	"without the key, no encrypted backup can be restored.\n"
	"\n"
	"  -o KEYFILE   the file to create\n";

static const char usage_decrypt[] =
	"usage: offsite decrypt [-k KEYFILE | -p PASSFILE] < IN > OUT\n"
	"\n"
	"Decrypt a backup (a .sql.gz.enc object, downloaded by any means)\n"
	"from standard input to standard output, with nothing but the key:\n"
	"no configuration, no network. The output is the gzip stream;\n"
	"pipe it through gunzip. No byte is written before its segment is\n"
	"authenticated, and altered, reordered, truncated or extended\n"
	"input is an error.\n"
	"\n"
	"  -k KEYFILE    the key file written by offsite keygen\n"
	"  -p PASSFILE   a file holding the passphrase\n";

static const char usage_config[] =
	"usage: offsite config [--describe]\n"
	"\n"
	"Load and validate the configuration and print it as INI, defaults\n"
	"included, with every secret shown as <redacted> and a comment\n"
	"where a value came from the environment.\n"
	"\n"
	"  --describe   print the reference of every key instead (a\n"
	"               Markdown table); needs no config file\n";

/* The commands, in the order --help lists them:
 * name, summary, usage, needs_config, run. */
const struct cli_command cli_commands[] = {
	{"backup", "take a dump of the database and upload it", usage_backup,
	 true, cmd_backup},
	{"restore", "download a backup and load it into a database or a file",
	 usage_restore, true, cmd_restore},
	{"list", "list the backups in the bucket, newest first", usage_list,
	 true, cmd_list},
	{"status", "totals, the newest backup of each type, and its health",
	 usage_status, true, cmd_status},
	{"verify", "download a backup and check its integrity end to end",
	 usage_verify, true, cmd_verify},
	{"presign", "print a temporary download URL for a backup",
	 usage_presign, true, cmd_presign},
	{"delete", "delete one backup", usage_delete, true, cmd_delete},
	{"check", "check the config, credentials, bucket, database and key",
	 usage_check, false, cmd_check}, /* loads it: a bad one is a check */
	{"retention",
	 "show, apply or remove lifecycle rules; prune old backups",
	 usage_retention, true, cmd_retention},
	{"keygen", "generate a new encryption key file", usage_keygen, false,
	 cmd_keygen},
	{"decrypt", "decrypt an encrypted backup read from standard input",
	 usage_decrypt, false, cmd_decrypt},
	{"config", "print the effective configuration", usage_config, false,
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
