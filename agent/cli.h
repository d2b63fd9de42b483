/*
 * cli: the command table and what every command gets.
 */
#ifndef OFFSITE_AGENT_CLI_H
#define OFFSITE_AGENT_CLI_H

#include "agent/error.h"
#include "conf/conf.h"

#include <stdarg.h>

/* Exit codes, documented in README and --help. */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,    /* the operation failed */
	EXIT_USAGE = 2,	    /* bad command line or configuration */
	EXIT_LOCKED = 3,    /* another run holds the lock */
	EXIT_INTEGRITY = 4, /* a backup failed verification */
};

/* Global options, parsed before the command name. */
struct cli_globals {
	const char *config_path; /* -c / OFFSITE_CONFIG / default */
	int verbosity;		 /* -1 quiet, 0 normal, 1 verbose */
};

struct cli_command {
	const char *name;
	const char *summary; /* one line for `offsite --help` */
	const char *usage;   /* full text for `offsite COMMAND --help` */
	bool needs_config;   /* load and validate the config before run */
	/* argv[0] is the command name. */
	int (*run)(const struct cli_globals *g, const conf *c, int argc,
		   char **argv);
};

/* The table, terminated by an entry whose name is NULL. */
extern const struct cli_command cli_commands[];

/* The command called NAME, or NULL. */
const struct cli_command *cli_find(const char *name);

/* The whole program; main() only calls this. Returns an EXIT_* code. */
int cli_main(int argc, char **argv);

/*
 * Load and validate the config at G->config_path (conf_load). On error,
 * print conf's message as "offsite: FILE:LINE: ..." (redacted) and return
 * EXIT_USAGE, or EXIT_FAILED when out of memory. On success, set the log's
 * level and format from the config, -q / -v overriding the level. Commands
 * with needs_config have it done for them; one that needs the config only
 * for some of its work calls it itself.
 */
int cli_load_config(conf **out, const struct cli_globals *g);

/*
 * cli_load_config for a command that reports a bad config itself: returns
 * AGENT_OK, or AGENT_ENOMEM or AGENT_ECONFIG with conf_load's message
 * (never empty) in ERR, and prints nothing. The one place conf's codes
 * become the agent's. The log is set up the same way on success.
 */
int cli_config_try(conf **out, const struct cli_globals *g,
		   struct agent_error *err);

/*
 * Print "offsite: MESSAGE" on stderr, redacted (redact), then escaped
 * (log_escape): for errors that stop the program before or outside the
 * log, which read like a compiler's.
 */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * printf to stdout for what a command prints that holds text from outside
 * (keys, rule IDs, manifests, a server's messages): the formatted text is
 * escaped with log_escape(), so no control character reaches the
 * terminal; a newline that ends it is kept. Returns the bytes written, or
 * -1 (out of memory, or stdout failed).
 */
int cli_outf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_voutf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

/*
 * Print "offsite COMMAND: MESSAGE (see offsite COMMAND --help)" on stderr
 * and return EXIT_USAGE: for a command's bad options and arguments.
 */
int cli_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The exit status for agent code CODE (agent/error.h), the one place a
 * code becomes one: EXIT_OK for AGENT_OK, EXIT_INTEGRITY for the
 * integrity codes (a tag, a CRC, a size or digest that does not match),
 * EXIT_USAGE for a configuration that does not load or an unusable key
 * file, EXIT_LOCKED for a lock another run holds, else EXIT_FAILED.
 */
int cli_exit_for(int code);

/*
 * A backup type or database name from the command line (--type, --name,
 * --database): 0 when it fits the bucket layout, else EXIT_USAGE after
 * cli_usage_error says what is allowed.
 */
int cli_check_type(const char *command, const char *type);
int cli_check_database(const char *command, const char *database);

/*
 * Report the option getopt_long just rejected (its return value CH, '?' or
 * ':', with ARGV and optind/optopt as it left them) with cli_usage_error;
 * returns EXIT_USAGE. Commands call getopt_long with opterr = 0 and an
 * optstring starting with "+:" (or ":"), after setting optind = 0.
 */
int cli_option_error(const char *command, int ch, char **argv);

#endif
