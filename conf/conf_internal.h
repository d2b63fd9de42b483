/*
 * conf_internal: what the files of conf/ share. Not for other modules;
 * unit tests may include it to reach the helpers directly.
 *
 * One table of keys (keys.c) drives parsing, defaults, validation, the
 * environment, printing and the reference: a key's behaviour comes from
 * its row, never from code that names the key.
 */
#ifndef OFFSITE_CONF_INTERNAL_H
#define OFFSITE_CONF_INTERNAL_H

#include <stdarg.h>

#include "conf/conf.h"

/* How a value is read and stored. */
enum conf_kind {
	CONF_K_STRING,	 /* char *; an optional check may normalise it */
	CONF_K_PATH,	 /* char *; relative names start at the config's dir */
	CONF_K_SECRET,	 /* char * path of a private file (see content) */
	CONF_K_SIZE,	 /* uint64_t bytes */
	CONF_K_DURATION, /* uint64_t seconds */
	CONF_K_UINT,	 /* unsigned */
	CONF_K_INT,	 /* int */
	CONF_K_BOOL,	 /* bool */
	CONF_K_ENUM,	 /* an enum (int-sized), one of names[] */
	CONF_K_ARGV,	 /* char **, split by conf_split_argv */
	CONF_K_LIST,	 /* char **, split on commas and blanks */
};

enum {
	CONF_F_REQUIRED = 1 << 0, /* must be set */
	CONF_F_SECRET = 1 << 1,	  /* a credential: never shown */
	CONF_F_NOFILE = 1 << 2, /* not a file key (environment, secret file) */
	CONF_F_TYPED = 1 << 3,	/* [retention] also takes KEY.TYPE */
	CONF_F_NOREAD = 1 << 4, /* CONF_K_SECRET: checked, read later */
	CONF_F_PASSWORD = 1 << 5, /* may hold a password: redacted when shown */
	CONF_F_URLTOKEN = 1 << 6, /* a URL whose path is a token: shown cut */
};

/* The [retention] keys that also exist per backup type. */
#define CONF_TYPED_FIELDS 3

struct conf_key {
	const char *section;
	const char *name;
	enum conf_kind kind;
	unsigned flags;
	size_t offset;	 /* of the value in struct conf */
	const char *def; /* default as the file would spell it; NULL = unset */
	uint64_t min, max;	  /* numeric kinds */
	const char *range_note;	  /* said after a range error, or NULL */
	const char *const *names; /* CONF_K_ENUM, NULL-terminated */
	/* Strings: check and normalise *value in place (may replace it). */
	int (*check)(char **value, const char **why);
	const char *content; /* CONF_K_SECRET: the key that gets the contents */
	const char *env[2];  /* environment overrides, first set one wins */
	int typed_slot; /* CONF_F_TYPED: field index in conf_meta.type_line */
	size_t type_offset; /* CONF_F_TYPED: in struct conf_type_retention */
	const char *help;   /* one line for the reference */
};

extern const struct conf_key conf_keys[];
extern const size_t conf_nkeys;

/* Per value: where it came from and, for the file, on which line. */
struct conf_value_meta {
	enum conf_source src;
	int line;	 /* 0 unless it came from the file */
	const char *env; /* the variable, when src is CONF_FROM_ENV */
};

struct conf_meta {
	char *dir; /* where relative file names start; NULL = cwd */
	int type_line[CONF_MAX_TYPES][CONF_TYPED_FIELDS];
	struct conf_value_meta v[]; /* one per conf_keys[] row */
};

/* keys.c */
const struct conf_key *conf_key_find(const char *section, const char *name);
size_t conf_key_index(const struct conf_key *k);
bool conf_section_known(const char *section);
/* The nearest key of SECTION that the file may set (or section) within
 * edit distance 2 of NAME, 1 for names under 6 letters and 0 under 3;
 * NULL if none is that near. */
const char *conf_key_suggest(const char *section, const char *name);
const char *conf_section_suggest(const char *name);
size_t conf_edit_distance(const char *a, const char *b);
bool conf_type_name_ok(const char *name, size_t len);

/* units.c */
/* A whole number, optionally negative; out of range saturates to
 * INT64_MIN / INT64_MAX so that the caller's range check reports it. */
int conf_parse_integer(const char *s, int64_t *out);

/* argv.c */
/* conf_split_argv, with the reason for CONF_ESYNTAX in *why. */
int conf_split_argv_why(const char *s, char ***out, const char **why);
/* Words separated by commas and blanks; empty words dropped. */
int conf_split_list(const char *s, char ***out);
size_t conf_argv_count(char *const *argv);

/* secret.c */
/* Check the private file PATH named by KEY at WHERE: a regular file that
 * group and others cannot use, owned as conf_owner_trusted() allows for
 * secrets. With OUT, read it (trailing blanks cut;
 * one non-empty line at most 64 KiB) into a new string. */
int conf_secret_file(char **out, const char *path, const char *where,
		     const char *key, conf_error *err);

/* checks.c: string checks for the table. Each returns 0, or CONF_ESYNTAX
 * with *why completing "'VALUE' ...", or CONF_ENOMEM; each may replace
 * *value with a normalised copy. */
int conf_check_endpoint(char **value, const char **why);
int conf_check_url(char **value, const char **why);
int conf_check_region(char **value, const char **why);
int conf_check_bucket(char **value, const char **why);
int conf_check_prefix(char **value, const char **why);
int conf_check_token(char **value, const char **why);
int conf_check_conninfo(char **value, const char **why);
int conf_check_dsn(char **value, const char **why);
int conf_check_dbname(char **value, const char **why);
int conf_check_identifier(char **value, const char **why);
/* The database name in a libpq conninfo (key=value or URI) or in a URL's
 * path (QUERY: a dbname= parameter wins, as in libpq). *out is NULL when
 * there is none; CONF_ESYNTAX when the text does not parse. */
int conf_dbname_from_conninfo(char **out, const char *conninfo);
int conf_dbname_from_url(char **out, const char *url, bool query);
/* Percent-decode [S, END) into a new string (RFC 3986; "%00" refused):
 * CONF_OK, CONF_ESYNTAX or CONF_ENOMEM. */
int conf_pct_decode(char **out, const char *s, const char *end);
/* A copy of VALUE with passwords (URL user info, and in a conninfo or a
 * query the value of every keyword libpq marks as a password: password,
 * sslpassword...) replaced by <redacted>; with CUT, everything after a
 * URL's host too. NULL when out of memory. */
char *conf_redact(const char *value, bool cut);

/* value.c */
/* How a value is being set: for messages and for conf_meta. */
struct conf_set {
	const char *where; /* "FILE:LINE", "environment NAME", ... */
	const char *label; /* the key as written ("days.daily"); NULL: name */
	enum conf_source src;
	int line;	 /* CONF_FROM_FILE */
	const char *env; /* CONF_FROM_ENV */
	bool typed;	 /* DST is in retention.types[]: no conf_meta */
};

/*
 * Apply the text VALUE to the key K, stored at DST (a field of C). An empty
 * VALUE means "not set": the key's default, or nothing. Records where the
 * value came from unless HOW->typed.
 */
int conf_value_set(conf *c, const struct conf_key *k, void *dst,
		   const char *value, const struct conf_set *how,
		   conf_error *err);
/* Free (wiping) and zero the value of K at DST. */
void conf_value_clear(const struct conf_key *k, void *dst);
/* VALUE of K as a message may show it: secrets as <redacted>, passwords
 * cut out, at most about 100 characters. Returns BUF. */
const char *conf_value_show(char *buf, size_t size, const struct conf_key *k,
			    const char *value);
/* The value of K at SRC as conf_print writes it, in a new string. */
int conf_value_format(char **out, const struct conf_key *k, const void *src);
/* Format a number of K's kind (a range bound) into BUF. */
const char *conf_value_bound(char *buf, size_t size, const struct conf_key *k,
			     uint64_t v);

/* conf.c */
void conf_seterr(conf_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void *conf_key_ptr(conf *c, const struct conf_key *k);
const void *conf_key_cptr(const conf *c, const struct conf_key *k);

/* parse.c */
int conf_ini_apply(conf *c, const char *name, const char *text,
		   conf_error *err);

/*
 * Where the value of SECTION.KEY came from ("days.daily" style keys
 * included). Unknown keys read as CONF_FROM_DEFAULT.
 */
enum conf_source conf_get_source(const conf *c, const char *section,
				 const char *key);

#endif
