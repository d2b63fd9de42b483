/*
 * keys: the table of every configuration key, and lookups in it.
 *
 * A row says everything about a key: its section and name, how its value
 * is read and where it is stored, its default (as the file would spell
 * it), its range, the environment variables that override it, and one
 * line of help for the reference (conf_describe). Adding a key is adding
 * a row; nothing else names keys.
 */
#include <stddef.h>
#include <string.h>

#include "conf/conf_internal.h"

/* Offsets, checked against the field's type at compile time. */
/* clang-format off */
#define FIELD(f, T) _Generic(((conf *)0)->f, T: offsetof(conf, f))
#define F_STR(f)    FIELD(f, char *)
#define F_ARGV(f)   FIELD(f, char **)
#define F_U64(f)    FIELD(f, uint64_t)
#define F_UINT(f)   FIELD(f, unsigned)
#define F_INT(f)    FIELD(f, int)
#define F_BOOL(f)   FIELD(f, bool)
#define F_ENUM(f) _Generic(((conf *)0)->f,				\
		enum conf_addressing: offsetof(conf, f),		\
		enum conf_driver: offsetof(conf, f),			\
		enum conf_log_level: offsetof(conf, f),			\
		enum conf_log_format: offsetof(conf, f))
#define TYPED(f, T) _Generic(((struct conf_type_retention *)0)->f,	\
		T: offsetof(struct conf_type_retention, f))
/* clang-format on */

/* Enums are stored through an int. */
_Static_assert(sizeof(enum conf_addressing) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_driver) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_log_format) == sizeof(int), "enum size");

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define DAY UINT64_C(86400)

/* Names in the order of the enum's values. */
static const char *const addressing_names[] = {"path", "virtual", NULL};
static const char *const driver_names[] = {"postgres", "mysql", "command",
					   "stdin", NULL};
static const char *const level_names[] = {"error", "warn", "info", "debug",
					  NULL};
static const char *const format_names[] = {"text", "json", NULL};

const struct conf_key conf_keys[] = {
	/* [storage] */
	{
		.section = "storage",
		.name = "endpoint",
		.kind = CONF_K_STRING,
		.offset = F_STR(storage.endpoint),
		.check = conf_check_endpoint,
		.env = {"AWS_ENDPOINT_URL"},
		.help = "S3 endpoint URL (http:// or https://); unset means "
			"AWS for the region.",
	},
	{
		.section = "storage",
		.name = "region",
		.kind = CONF_K_STRING,
		.offset = F_STR(storage.region),
		.def = "us-east-1",
		.check = conf_check_region,
		.env = {"AWS_REGION", "AWS_DEFAULT_REGION"},
		.help = "Region used to sign requests.",
	},
	{
		.section = "storage",
		.name = "bucket",
		.kind = CONF_K_STRING,
		.flags = CONF_F_REQUIRED,
		.offset = F_STR(storage.bucket),
		.check = conf_check_bucket,
		.help = "Bucket that holds the backups.",
	},
	{
		.section = "storage",
		.name = "prefix",
		.kind = CONF_K_STRING,
		.offset = F_STR(storage.prefix),
		.def = "",
		.check = conf_check_prefix,
		.help = "Key prefix inside the bucket; a leading '/' is "
			"dropped and a trailing '/' added.",
	},
	{
		.section = "storage",
		.name = "addressing",
		.kind = CONF_K_ENUM,
		.offset = F_ENUM(storage.addressing),
		.def = "path",
		.names = addressing_names,
		.help = "Bucket addressing: path (host/bucket/key) or virtual "
			"(bucket.host/key).",
	},
	{
		.section = "storage",
		.name = "access_key",
		.kind = CONF_K_STRING,
		.offset = F_STR(storage.access_key),
		.check = conf_check_token,
		.env = {"AWS_ACCESS_KEY_ID"},
		.help = "Access key id (not a secret).",
	},
	{
		.section = "storage",
		.name = "secret_key",
		.kind = CONF_K_STRING,
		.flags = CONF_F_SECRET | CONF_F_NOFILE,
		.offset = F_STR(storage.secret_key),
		.env = {"AWS_SECRET_ACCESS_KEY"},
		.help = "Not a file key: the contents of secret_key_file, or "
			"the environment.",
	},
	{
		.section = "storage",
		.name = "secret_key_file",
		.kind = CONF_K_SECRET,
		.offset = F_STR(storage.secret_key_file),
		.content = "secret_key",
		.help = "Private file (mode 600) holding the secret access "
			"key.",
	},
	{
		.section = "storage",
		.name = "session_token",
		.kind = CONF_K_STRING,
		.flags = CONF_F_SECRET | CONF_F_NOFILE,
		.offset = F_STR(storage.session_token),
		.env = {"AWS_SESSION_TOKEN"},
		.help = "Not a file key: the contents of session_token_file, "
			"or the environment.",
	},
	{
		.section = "storage",
		.name = "session_token_file",
		.kind = CONF_K_SECRET,
		.offset = F_STR(storage.session_token_file),
		.content = "session_token",
		.help = "Private file (mode 600) holding a session token.",
	},
	{
		.section = "storage",
		.name = "ca_file",
		.kind = CONF_K_PATH,
		.offset = F_STR(storage.ca_file),
		.help = "CA bundle (PEM) to verify the endpoint with, instead "
			"of the system's.",
	},
	{
		.section = "storage",
		.name = "part_size",
		.kind = CONF_K_SIZE,
		.offset = F_U64(storage.part_size),
		.def = "8MiB",
		.min = 5 * MiB,
		.max = 5 * GiB,
		.help = "Multipart upload part size; it grows if max_parts "
			"would be exceeded.",
	},
	{
		.section = "storage",
		.name = "max_parts",
		.kind = CONF_K_UINT,
		.offset = F_UINT(storage.max_parts),
		.def = "10000",
		.min = 1,
		.max = 10000,
		.help = "Most parts in one upload.",
	},
	{
		.section = "storage",
		.name = "concurrency",
		.kind = CONF_K_UINT,
		.offset = F_UINT(storage.concurrency),
		.def = "4",
		.min = 1,
		.max = 64,
		.help = "Parts uploaded in parallel; memory is about part_size "
			"times this.",
	},
	{
		.section = "storage",
		.name = "max_size",
		.kind = CONF_K_SIZE,
		.offset = F_U64(storage.max_size),
		.def = "0",
		.min = 0,
		.max = 5 * 1024 * GiB, /* S3's largest object */
		.help = "Largest stored backup: a run that would pass it stops "
			"and stores nothing; 0 means no limit.",
	},
	{
		.section = "storage",
		.name = "allow_http",
		.kind = CONF_K_BOOL,
		.offset = F_BOOL(storage.allow_http),
		.def = "false",
		.help = "Accept an http:// endpoint on a host that is not "
			"loopback (127.0.0.0/8, ::1, localhost). Requests stay "
			"signed, but backups and their metadata travel in the "
			"clear and can be read or altered on the way.",
	},

	/* [database] */
	{
		.section = "database",
		.name = "driver",
		.kind = CONF_K_ENUM,
		.offset = F_ENUM(database.driver),
		.def = "postgres",
		.names = driver_names,
		.help = "Where the dump comes from: postgres (pg_dump), mysql "
			"(mysqldump), command, or stdin.",
	},
	{
		.section = "database",
		.name = "name",
		.kind = CONF_K_STRING,
		.offset = F_STR(database.name),
		.check = conf_check_dbname,
		.help = "Database name used in object keys (A-Z a-z 0-9 _ . "
			"-); default: the dbname of conninfo or dsn.",
	},
	{
		.section = "database",
		.name = "conninfo",
		.kind = CONF_K_STRING,
		.flags = CONF_F_PASSWORD,
		.offset = F_STR(database.conninfo),
		.check = conf_check_conninfo,
		.help = "libpq connection string, key=value or "
			"postgresql:// URI.",
	},
	{
		.section = "database",
		.name = "dsn",
		.kind = CONF_K_STRING,
		.flags = CONF_F_PASSWORD,
		.offset = F_STR(database.dsn),
		.check = conf_check_dsn,
		.help = "MySQL server as mysql://user@host:port/db.",
	},
	{
		.section = "database",
		.name = "password_file",
		.kind = CONF_K_SECRET,
		.offset = F_STR(database.password_file),
		.content = "password",
		.help = "Private file (mode 600) holding the MySQL password.",
	},
	{
		.section = "database",
		.name = "password",
		.kind = CONF_K_STRING,
		.flags = CONF_F_SECRET | CONF_F_NOFILE,
		.offset = F_STR(database.password),
		.help = "Not a file key: the contents of password_file.",
	},
	{
		.section = "database",
		.name = "command",
		.kind = CONF_K_ARGV,
		.offset = F_ARGV(database.command),
		.help = "Dump command for driver = command, split like a shell "
			"would (quotes, backslashes) but run without one.",
	},
	{
		.section = "database",
		.name = "tables",
		.kind = CONF_K_LIST,
		.offset = F_ARGV(database.tables),
		.help = "Tables to dump, separated by commas or blanks; unset "
			"means all.",
	},
	{
		.section = "database",
		.name = "dump_options",
		.kind = CONF_K_ARGV,
		.offset = F_ARGV(database.dump_options),
		.help = "Extra arguments for the dump tool, split like "
			"command.",
	},
	{
		.section = "database",
		.name = "timeout",
		.kind = CONF_K_DURATION,
		.offset = F_U64(database.timeout),
		.def = "0",
		.min = 0,
		.max = 365 * DAY,
		.help = "Longest a dump may run (e.g. 6h); 0 means no limit.",
	},

	/* [compression] */
	{
		.section = "compression",
		.name = "level",
		.kind = CONF_K_INT,
		.offset = F_INT(compression.level),
		.def = "2",
		.min = 0,
		.max = 9,
		.help = "gzip level: 0 stores; 1 uses ISA-L (fastest, a ratio "
			"near gzip -6's); 2-9 use libdeflate (2: a better "
			"ratio than gzip -6 at a third of its CPU).",
	},

	/* [encryption] */
	{
		.section = "encryption",
		.name = "enabled",
		.kind = CONF_K_BOOL,
		.offset = F_BOOL(encryption.enabled),
		.def = "false",
		.help = "Encrypt backups (AES-256-GCM); needs key_file or "
			"passphrase_file.",
	},
	{
		.section = "encryption",
		.name = "key_file",
		.kind = CONF_K_SECRET,
		.flags = CONF_F_NOREAD,
		.offset = F_STR(encryption.key_file),
		.help = "Private file (mode 600) holding the encryption key.",
	},
	{
		.section = "encryption",
		.name = "passphrase_file",
		.kind = CONF_K_SECRET,
		.flags = CONF_F_NOREAD,
		.offset = F_STR(encryption.passphrase_file),
		.help = "Private file (mode 600) holding a passphrase, instead "
			"of key_file.",
	},

	/* [retention] */
	{
		.section = "retention",
		.name = "days",
		.kind = CONF_K_INT,
		.flags = CONF_F_TYPED,
		.offset = F_INT(retention.days),
		.def = "30",
		.min = 1,
		.max = 36500,
		.typed_slot = 0,
		.type_offset = TYPED(days, int),
		.help = "Days a backup is kept before the bucket expires it.",
	},
	{
		.section = "retention",
		.name = "keep_last",
		.kind = CONF_K_INT,
		.flags = CONF_F_TYPED,
		.offset = F_INT(retention.keep_last),
		.def = "0",
		.min = 0,
		.max = 1000000,
		.typed_slot = 1,
		.type_offset = TYPED(keep_last, int),
		.help = "Newest backups kept by pruning whatever their age; 0 "
			"means no count limit.",
	},
	{
		.section = "retention",
		.name = "abort_incomplete_days",
		.kind = CONF_K_INT,
		.offset = F_INT(retention.abort_incomplete_days),
		.min = 1,
		.max = 365,
		.help = "Days before the bucket aborts an unfinished upload "
			"(and offsite one no run is still writing); at least "
			"the longest a backup may run, which is the default: "
			"[database] timeout + 1h in whole days, else 2.",
	},
	{
		.section = "retention",
		.name = "max_age",
		.kind = CONF_K_DURATION,
		.flags = CONF_F_TYPED,
		.offset = F_U64(retention.max_age),
		.def = "0",
		.min = 0,
		.max = 36500 * DAY,
		.typed_slot = 2,
		.type_offset = TYPED(max_age, uint64_t),
		.help = "Newest backup older than this makes status unhealthy "
			"(e.g. 26h); 0 means no check.",
	},
	{
		.section = "retention",
		.name = "future_tolerance",
		.kind = CONF_K_DURATION,
		.offset = F_U64(retention.future_tolerance),
		.def = "1h",
		.min = 0,
		.max = 7 * DAY,
		.help = "Backups dated later than now plus this are ignored "
			"(a clock that ran ahead, or planted), and status "
			"reports them.",
	},
	{
		.section = "retention",
		.name = "apply_on_backup",
		.kind = CONF_K_BOOL,
		.offset = F_BOOL(retention.apply_on_backup),
		.def = "true",
		.help = "Install the lifecycle rules on each backup.",
	},

	/* [presign] */
	{
		.section = "presign",
		.name = "expires",
		.kind = CONF_K_DURATION,
		.offset = F_U64(presign.expires),
		.def = "1h",
		.min = 1,
		.max = 7 * DAY,
		.range_note = "SigV4 presigned URLs expire within 7 days",
		.help = "Lifetime of a presigned URL; SigV4 allows at most "
			"7 days.",
	},

	/* [notify] */
	{
		.section = "notify",
		.name = "webhook",
		.kind = CONF_K_STRING,
		.flags = CONF_F_URLTOKEN,
		.offset = F_STR(notify.webhook),
		.check = conf_check_url,
		.help = "URL (http:// or https://) that gets a JSON POST after "
			"each run.",
	},
	{
		.section = "notify",
		.name = "on_success",
		.kind = CONF_K_BOOL,
		.offset = F_BOOL(notify.on_success),
		.def = "false",
		.help = "Also notify when a run succeeds, not only on failure.",
	},

	/* [metrics] */
	{
		.section = "metrics",
		.name = "textfile",
		.kind = CONF_K_PATH,
		.offset = F_STR(metrics.textfile),
		.help = "Prometheus textfile-collector file written after each "
			"run.",
	},

	/* [catalog] */
	{
		.section = "catalog",
		.name = "conninfo",
		.kind = CONF_K_STRING,
		.flags = CONF_F_PASSWORD,
		.offset = F_STR(catalog.conninfo),
		.check = conf_check_conninfo,
		.help = "libpq connection string of a PostgreSQL database that "
			"records every backup and presign; unset means no "
			"catalog.",
	},
	{
		.section = "catalog",
		.name = "table",
		.kind = CONF_K_STRING,
		.offset = F_STR(catalog.table),
		.def = "offsite_backups",
		.check = conf_check_identifier,
		.help = "Table of the catalog, created if missing "
			"([a-z_][a-z0-9_]*, at most 63 characters).",
	},

	/* [log] */
	{
		.section = "log",
		.name = "level",
		.kind = CONF_K_ENUM,
		.offset = F_ENUM(log.level),
		.def = "info",
		.names = level_names,
		.help = "Least severe level logged: error, warn, info, debug.",
	},
	{
		.section = "log",
		.name = "format",
		.kind = CONF_K_ENUM,
		.offset = F_ENUM(log.format),
		.def = "text",
		.names = format_names,
		.help = "Log line format: text (key=value) or json.",
	},
};

const size_t conf_nkeys = sizeof(conf_keys) / sizeof(conf_keys[0]);

const struct conf_key *conf_key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < conf_nkeys; i++) {
		if (strcmp(conf_keys[i].section, section) == 0 &&
		    strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	}
	return NULL;
}

size_t conf_key_index(const struct conf_key *k)
{
	return (size_t)(k - conf_keys);
}

bool conf_section_known(const char *section)
{
	for (size_t i = 0; i < conf_nkeys; i++) {
		if (strcmp(conf_keys[i].section, section) == 0)
			return true;
	}
	return false;
}

#define DIST_MAX 64

/* Optimal string alignment distance: Levenshtein plus transpositions.
 * Longer inputs than DIST_MAX just read as far away. */
size_t conf_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[3][DIST_MAX + 1];

	if (la > DIST_MAX || lb > DIST_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = d[i % 3], *prev = d[(i - 1) % 3];
		size_t *prev2 = d[(i + 1) % 3]; /* row i - 2 */

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = prev[j - 1] + cost;

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
	}
	return d[la % 3][lb];
}

/* How far a typo may be from a name to be suggested: 2 edits, fewer for
 * short names ("foo" is not a typo of "log"). */
static bool near_enough(size_t d, const char *candidate)
{
	size_t max = strlen(candidate) / 3;

	return d <= (max < 2 ? max : 2);
}

const char *conf_key_suggest(const char *section, const char *name)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		size_t d;

		if (strcmp(k->section, section) != 0 ||
		    (k->flags & CONF_F_NOFILE) != 0)
			continue;
		d = conf_edit_distance(name, k->name);
		if (near_enough(d, k->name) && d < best_d) {
			best = k->name;
			best_d = d;
		}
	}
	return best;
}

const char *conf_section_suggest(const char *name)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; i < conf_nkeys; i++) {
		size_t d = conf_edit_distance(name, conf_keys[i].section);

		if (near_enough(d, conf_keys[i].section) && d < best_d) {
			best = conf_keys[i].section;
			best_d = d;
		}
	}
	return best;
}

bool conf_type_name_ok(const char *name, size_t len)
{
	if (len == 0 || len >= CONF_TYPE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '-'))
			return false;
	}
	return true;
}
