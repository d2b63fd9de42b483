/*
 * conf: the offsite configuration.
 *
 * One INI file (inih), defaults for everything that has a sensible one,
 * validation of every value, and overrides from the standard environment.
 * Depends on nothing else of ours. Values are parsed once here; the rest of
 * the program reads the struct and never the file.
 *
 * Errors: every function returns 0 on success or a CONF_E* code, and writes
 * a one-line message into the caller's conf_error. Messages about a line of
 * the file read "FILE:LINE: what is wrong"; about the file as a whole,
 * "FILE: what is wrong". Secret values never appear in a message.
 */
#ifndef OFFSITE_CONF_H
#define OFFSITE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#define CONF_DEFAULT_PATH "/etc/offsite/offsite.ini"

enum conf_code {
	CONF_OK = 0,
	CONF_EIO,      /* the file (or a file it names) cannot be read */
	CONF_ESYNTAX,  /* not INI, unknown section or key, bad value */
	CONF_EMISSING, /* a required key is missing */
	CONF_EPERM,    /* a file's owner or mode is unsafe (see below) */
	CONF_ENOMEM,
};

typedef struct conf_error {
	char msg[512];
} conf_error;

enum conf_addressing { CONF_ADDRESSING_PATH, CONF_ADDRESSING_VIRTUAL };

enum conf_driver {
	CONF_DRIVER_POSTGRES,
	CONF_DRIVER_MYSQL,
	CONF_DRIVER_COMMAND,
	CONF_DRIVER_STDIN,
};

enum conf_log_format { CONF_LOG_TEXT, CONF_LOG_JSON };

enum conf_log_level {
	CONF_LOG_ERROR,
	CONF_LOG_WARN,
	CONF_LOG_INFO,
	CONF_LOG_DEBUG,
};

/* Backup type names: [a-z0-9_-], 1..CONF_TYPE_NAME_MAX-1 characters. */
#define CONF_TYPE_NAME_MAX 32
#define CONF_MAX_TYPES	   16

/* Retention for one backup type; -1 means "not set, use the default". */
struct conf_type_retention {
	char name[CONF_TYPE_NAME_MAX];
	int days;
	int keep_last;
	uint64_t max_age; /* seconds; 0 = not set (status health check) */
};

/* Where a value came from, for `offsite config`. */
enum conf_source { CONF_FROM_DEFAULT, CONF_FROM_FILE, CONF_FROM_ENV };

typedef struct conf {
	char *path; /* the file that was loaded */

	struct {
		char *endpoint; /* URL; NULL means AWS for the region */
		char *region;	/* default "us-east-1" */
		char *bucket;	/* required */
		char *prefix;	/* "" or ends with '/' (one is added) */
		enum conf_addressing addressing; /* default path */
		char *access_key;
		char *secret_key; /* from secret_key_file or the environment; wiped on free */
		char *secret_key_file;
		char *session_token; /* from session_token_file or the environment; wiped */
		char *session_token_file;
		char *ca_file;
		uint64_t part_size;   /* bytes; default 8 MiB; 5 MiB .. 5 GiB */
		unsigned max_parts;   /* default 10000; 1 .. 10000 */
		unsigned concurrency; /* default 4; 1 .. 64 */
		uint64_t max_size;    /* stored bytes; 0 = no limit */
		bool allow_http; /* http:// to a host not loopback; default false */
	} storage;

	struct {
		enum conf_driver driver; /* default postgres */
		char *name;	     /* in object keys; default: conninfo/dsn */
		char *conninfo;	     /* libpq conninfo (URI or key=value) */
		char *dsn;	     /* mysql: mysql://user@host:port/db */
		char *password_file; /* mysql password, private file */
		char *password;	     /* its contents; wiped on free */
		/* The lists below are NULL when not set, else NULL-terminated. */
		char **command;	     /* argv for driver=command */
		char **tables;	     /* NULL = all */
		char **dump_options; /* extra argv for the dump tool */
		uint64_t timeout;    /* seconds; 0 = none */
	} database;

	struct {
		int level; /* 0..9, default 2 (agent/stages.h) */
	} compression;

	struct {
		bool enabled;
		char *key_file;
		char *passphrase_file;
	} encryption;

	struct {
		int days;		   /* default 30 */
		int keep_last;		   /* default 0 = no count limit */
		int abort_incomplete_days; /* default: conf_longest_run_days */
		uint64_t max_age;	   /* seconds; 0 = not set */
		uint64_t future_tolerance; /* seconds; default 3600 */
		bool apply_on_backup;	   /* default true */
		size_t ntypes;
		struct conf_type_retention types[CONF_MAX_TYPES];
	} retention;

	struct {
		uint64_t expires; /* seconds; default 3600; at most 7 days */
	} presign;

	struct {
		char *webhook;
		bool on_success;
	} notify;

	struct {
		char *textfile;
	} metrics;

	struct {
		char *conninfo; /* libpq conninfo; NULL = no catalog */
		char *table; /* default "offsite_backups"; [a-z_][a-z0-9_]* */
	} catalog;

	struct {
		enum conf_log_level level;   /* default info */
		enum conf_log_format format; /* default text */
	} log;

	/* Private to conf/: where each value came from. */
	struct conf_meta *meta;
} conf;

/*
 * Load and validate PATH, then apply the environment (ENVP-style lookups go
 * through getenv). On success *out owns a new conf; free it with conf_free.
 * Secret files named by the config are read here and must not be readable
 * by group or others. A relative file name in the config is taken from the
 * config's own directory. The first error found is the one reported.
 */
int conf_load(conf **out, const char *path, conf_error *err);

/*
 * Parse an INI text as if read from NAME (for tests and fuzzing): the same
 * as conf_load after the file is read, environment included.
 */
int conf_parse(conf **out, const char *name, const char *text, conf_error *err);

/* Wipes secrets, frees everything. Accepts NULL. */
void conf_free(conf *c);

/* Effective days / keep_last for a backup type (falls back to defaults). */
int conf_type_days(const conf *c, const char *type);
int conf_type_keep_last(const conf *c, const char *type);
/* Effective max_age for a backup type in seconds (0 = not set). */
uint64_t conf_type_max_age(const conf *c, const char *type);

/*
 * The longest a backup run of C may last, in seconds: [database] timeout
 * plus CONF_RUN_TAIL (the last parts, the completion and the manifest
 * once the dump has ended) when a timeout is set, else
 * CONF_LONGEST_RUN_DEFAULT. An unfinished upload younger than this may
 * still be running: [retention] abort_incomplete_days is never shorter
 * (conf_load refuses a shorter one, and an unset one is exactly this,
 * rounded up to whole days).
 */
#define CONF_RUN_TAIL		 3600
#define CONF_LONGEST_RUN_DEFAULT (2 * 86400)
uint64_t conf_longest_run(const conf *c);
int conf_longest_run_days(const conf *c);

/*
 * Print the effective configuration as INI, every secret shown as
 * "<redacted>" (or "<not set>"), with a comment where a value came from the
 * environment.
 */
int conf_print(const conf *c, FILE *fp);

/*
 * Print the reference of every key as a Markdown table (section, key,
 * default, description), for the README. Returns 0 or CONF_EIO.
 */
int conf_describe(FILE *fp);

/* Value parsers, shared with the command line. Return 0 or CONF_ESYNTAX. */

/*
 * "16MiB", "5 MB", "1048576", "1GiB": binary (KiB MiB GiB TiB, K M G T)
 * and decimal (kB MB GB TB) units, any case; "100B" and a plain number are
 * bytes. Whole numbers only; blanks only between number and unit;
 * overflow is an error.
 */
int conf_parse_size(const char *s, uint64_t *out);

/*
 * "90s", "15m", "1h", "30d", "2w", "1h30m" (lowercase units, no blanks);
 * a plain number is seconds. Overflow is an error.
 */
int conf_parse_duration(const char *s, uint64_t *out);

/* yes/no, true/false, on/off, 1/0, any case. */
int conf_parse_bool(const char *s, bool *out);

/*
 * Format a size ("16MiB", "5MB", "1234") or a duration ("1h30m", "7d", "0")
 * the way the parsers above read them back. BUF must hold CONF_FORMAT_MAX
 * bytes; returns BUF.
 */
#define CONF_FORMAT_MAX 32
const char *conf_format_size(char *buf, size_t size, uint64_t bytes);
const char *conf_format_duration(char *buf, size_t size, uint64_t seconds);

/*
 * Split a command line into argv without a shell: words separated by
 * blanks, '...' and "..." quoting, backslash escapes outside single quotes.
 * No expansion of any kind. *out is NULL-terminated (no words: an empty
 * array); free it with conf_argv_free, and only arrays made here. Returns
 * CONF_ESYNTAX for an unterminated quote or a trailing backslash.
 */
int conf_split_argv(const char *s, char ***out);
void conf_argv_free(char **argv);

/*
 * Who may own a file offsite reads. The config can run commands, so it
 * must belong to the user running offsite or to root (CONF_TRUST_CONFIG),
 * as ssh requires of its config. A file of secrets (key, passphrase,
 * password, credentials) too, or, for a run as root, to the service
 * account CONF_SERVICE_USER that the systemd units run as and whose key
 * files a manual run as root reads (CONF_TRUST_SECRET). Another user's
 * file is refused: whoever can write where it is could have put their own
 * key or commands there.
 */
#define CONF_SERVICE_USER "offsite"
enum conf_trust { CONF_TRUST_CONFIG, CONF_TRUST_SECRET };
bool conf_owner_trusted(uid_t owner, enum conf_trust trust);
/* CONF_OK, or CONF_EPERM and "WHAT 'PATH' is owned by ..." in ERR. */
int conf_check_owner(const struct stat *st, enum conf_trust trust,
		     const char *what, const char *path, conf_error *err);

/*
 * Credentials of a profile of the AWS shared files, read the way the AWS
 * CLI reads them: PROFILE (NULL: $AWS_PROFILE, else "default") from
 * $AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), then from
 * $AWS_CONFIG_FILE (~/.aws/config); the credentials file wins. Missing
 * files are not an error (all fields NULL), but a profile named
 * explicitly and found nowhere is (CONF_EMISSING). Dispose wipes secrets.
 */
struct conf_aws_profile {
	char *access_key;
	char *secret_key;
	char *session_token;
	char *region;
	char *source; /* the profile's name, when found */
};
int conf_aws_profile_load(struct conf_aws_profile *out, const char *profile,
			  conf_error *err);
void conf_aws_profile_dispose(struct conf_aws_profile *p);

/*
 * A MySQL DSN, mysql://user:password@host:port/db?socket=/path, parsed:
 * each part percent-decoded ("%00" refused), NULL (port 0) when absent.
 * CONF_OK; CONF_ESYNTAX or CONF_ENOMEM with *WHY, a static text saying
 * what is wrong ("bad port"), and OUT disposed. Dispose wipes the
 * password.
 */
struct conf_mysql_dsn {
	char *user, *password, *host, *db, *socket;
	unsigned port;
};
int conf_mysql_dsn_parse(struct conf_mysql_dsn *out, const char *dsn,
			 const char **why);
void conf_mysql_dsn_dispose(struct conf_mysql_dsn *d);

#endif
