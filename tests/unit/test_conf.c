/*
 * conf: whole configurations, their errors word for word, secret files,
 * the environment, and the printout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf_internal.h"

static const char *const env_vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_REGION",	     "AWS_DEFAULT_REGION",    "AWS_ENDPOINT_URL",
};

/* A private directory for the files a test writes. */
static char dir[64];

/* The smallest valid config. */
#define MIN_CONF "[storage]\nbucket = backups\n[database]\nname = app\n"

static void clear_env(void)
{
	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
}

static int setup(void **state)
{
	(void)state;
	clear_env();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	clear_env();
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/offsite-conf-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write TEXT to DIR/NAME with MODE; the full path goes to PATH. */
static void write_file(char *path, size_t size, const char *name,
		       const char *text, mode_t mode)
{
	FILE *fp;

	snprintf(path, size, "%s/%s", dir, name);
	unlink(path);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
	/* chmod, not the umask: the mode is what the test is about. */
	assert_int_equal(chmod(path, mode), 0);
}

static conf *parse_ok(const char *text)
{
	conf_error err = {{0}};
	conf *c = NULL;
	int rc = conf_parse(&c, "t.ini", text, &err);

	if (rc != CONF_OK)
		fail_msg("conf_parse failed (%d): %s", rc, err.msg);
	assert_non_null(c);
	return c;
}

static void parse_err(const char *text, int code, const char *msg)
{
	conf_error err = {{0}};
	conf *c = (conf *)1;
	int rc = conf_parse(&c, "t.ini", text, &err);

	assert_null(c);
	if (rc != code || strcmp(err.msg, msg) != 0)
		fail_msg("got %d \"%s\"\nwant %d \"%s\"", rc, err.msg, code,
			 msg);
}

static conf *load_ok(const char *path)
{
	conf_error err = {{0}};
	conf *c = NULL;
	int rc = conf_load(&c, path, &err);

	if (rc != CONF_OK)
		fail_msg("conf_load failed (%d): %s", rc, err.msg);
	return c;
}

static void load_err(const char *path, int code, const char *msg)
{
	conf_error err = {{0}};
	conf *c = (conf *)1;
	int rc = conf_load(&c, path, &err);

	assert_null(c);
	if (rc != code || strcmp(err.msg, msg) != 0)
		fail_msg("got %d \"%s\"\nwant %d \"%s\"", rc, err.msg, code,
			 msg);
}

/* conf_print into a new string. */
static char *print(const conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	assert_int_equal(conf_print(c, fp), CONF_OK);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static void test_defaults(void **state)
{
	conf *c = parse_ok(MIN_CONF);

	(void)state;
	assert_string_equal(c->path, "t.ini");
	assert_null(c->storage.endpoint);
	assert_string_equal(c->storage.region, "us-east-1");
	assert_string_equal(c->storage.bucket, "backups");
	assert_string_equal(c->storage.prefix, "");
	assert_int_equal(c->storage.addressing, CONF_ADDRESSING_PATH);
	assert_null(c->storage.access_key);
	assert_null(c->storage.secret_key);
	assert_null(c->storage.secret_key_file);
	assert_null(c->storage.session_token);
	assert_null(c->storage.session_token_file);
	assert_null(c->storage.ca_file);
	assert_int_equal(c->storage.part_size, 8 << 20);
	assert_int_equal(c->storage.max_parts, 10000);
	assert_int_equal(c->storage.concurrency, 4);
	assert_int_equal(c->database.driver, CONF_DRIVER_POSTGRES);
	assert_string_equal(c->database.name, "app");
	assert_null(c->database.conninfo);
	assert_null(c->database.dsn);
	assert_null(c->database.password_file);
	assert_null(c->database.password);
	assert_null(c->database.command);
	assert_null(c->database.tables);
	assert_null(c->database.dump_options);
	assert_int_equal(c->database.timeout, 0);
	assert_int_equal(c->compression.level, 2);
	assert_false(c->encryption.enabled);
	assert_null(c->encryption.key_file);
	assert_null(c->encryption.passphrase_file);
	assert_int_equal(c->retention.days, 30);
	assert_int_equal(c->retention.keep_last, 0);
	/* The longest a run may last without a timeout: two days. */
	assert_int_equal(c->retention.abort_incomplete_days, 2);
	assert_int_equal(c->retention.max_age, 0);
	assert_true(c->retention.apply_on_backup);
	assert_int_equal(c->retention.ntypes, 0);
	assert_int_equal(c->presign.expires, 3600);
	assert_null(c->notify.webhook);
	assert_false(c->notify.on_success);
	assert_null(c->metrics.textfile);
	assert_null(c->catalog.conninfo);
	assert_string_equal(c->catalog.table, "offsite_backups");
	assert_int_equal(c->log.level, CONF_LOG_INFO);
	assert_int_equal(c->log.format, CONF_LOG_TEXT);
	assert_int_equal(conf_get_source(c, "storage", "region"),
			 CONF_FROM_DEFAULT);
	assert_int_equal(conf_get_source(c, "storage", "bucket"),
			 CONF_FROM_FILE);
	assert_int_equal(conf_get_source(c, "storage", "nope"),
			 CONF_FROM_DEFAULT);
	conf_free(c);
	conf_free(NULL);
}

/* Every key, through a file, with relative secret file names. */
static void test_full(void **state)
{
	char path[256], want[256];
	conf *c;

	(void)state;
	write_file(path, sizeof(path), "secret.key", "wJalrXUtnFEMI/K7MDENG\n",
		   0600);
	write_file(path, sizeof(path), "token", "  tok3n  \n\n", 0400);
	write_file(path, sizeof(path), "mysql.pw", "hunter2", 0600);
	write_file(path, sizeof(path), "enc.key", "0123456789abcdef", 0600);
	write_file(path, sizeof(path), "full.ini",
		   "; every key\n"
		   "[storage]\n"
		   "endpoint = https://s3.example.com:9000/\n"
		   "region = eu-central-1\n"
		   "bucket = my.bucket-1\n"
		   "prefix = /db/prod\n"
		   "addressing = virtual\n"
		   "access_key = AKIAEXAMPLE\n"
		   "secret_key_file = secret.key\n"
		   "session_token_file = token\n"
		   "ca_file = /etc/ssl/ca.pem\n"
		   "part_size = 64 MiB\n"
		   "max_parts = 5000\n"
		   "concurrency = 8\n"
		   "\n"
		   "[database]\n"
		   "driver = command\n"
		   "name = shop_db\n"
		   "conninfo = host=db dbname=other\n"
		   "dsn = mysql://backup@db:3306/shop\n"
		   "password_file = mysql.pw\n"
		   "command = mysqldump --single-transaction 'shop db'\n"
		   "tables = users, orders items\n"
		   "dump_options = --no-tablespaces \"--where=id > 5\"\n"
		   "timeout = 6h\n"
		   "[compression]\n"
		   "level = 9\n"
		   "[encryption]\n"
		   "enabled = yes\n"
		   "key_file = enc.key\n"
		   "[retention]\n"
		   "days = 14\n"
		   "keep_last = 3\n"
		   "abort_incomplete_days = 2\n"
		   "max_age = 26h\n"
		   "apply_on_backup = off\n"
		   "days.daily = 7\n"
		   "keep_last.daily = 10\n"
		   "days.monthly = 365\n"
		   "max_age.weekly = 8d\n"
		   "[presign]\n"
		   "expires = 7d\n"
		   "[notify]\n"
		   "webhook = https://hooks.example.com/T/B/x\n"
		   "on_success = true\n"
		   "[metrics]\n"
		   "textfile = /var/lib/node/offsite.prom\n"
		   "[log]\n"
		   "level = debug\n"
		   "format = json\n",
		   0640);
	c = load_ok(path);

	assert_string_equal(c->path, path);
	assert_string_equal(c->storage.endpoint, "https://s3.example.com:9000");
	assert_string_equal(c->storage.region, "eu-central-1");
	assert_string_equal(c->storage.bucket, "my.bucket-1");
	assert_string_equal(c->storage.prefix, "db/prod/");
	assert_int_equal(c->storage.addressing, CONF_ADDRESSING_VIRTUAL);
	assert_string_equal(c->storage.access_key, "AKIAEXAMPLE");
	assert_string_equal(c->storage.secret_key, "wJalrXUtnFEMI/K7MDENG");
	snprintf(want, sizeof(want), "%s/secret.key", dir);
	assert_string_equal(c->storage.secret_key_file, want);
	assert_string_equal(c->storage.session_token, "  tok3n");
	snprintf(want, sizeof(want), "%s/token", dir);
	assert_string_equal(c->storage.session_token_file, want);
	assert_string_equal(c->storage.ca_file, "/etc/ssl/ca.pem");
	assert_int_equal(c->storage.part_size, 64 << 20);
	assert_int_equal(c->storage.max_parts, 5000);
	assert_int_equal(c->storage.concurrency, 8);

	assert_int_equal(c->database.driver, CONF_DRIVER_COMMAND);
	assert_string_equal(c->database.name, "shop_db");
	assert_string_equal(c->database.conninfo, "host=db dbname=other");
	assert_string_equal(c->database.dsn, "mysql://backup@db:3306/shop");
	snprintf(want, sizeof(want), "%s/mysql.pw", dir);
	assert_string_equal(c->database.password_file, want);
	assert_string_equal(c->database.password, "hunter2");
	assert_int_equal(conf_argv_count(c->database.command), 3);
	assert_string_equal(c->database.command[0], "mysqldump");
	assert_string_equal(c->database.command[1], "--single-transaction");
	assert_string_equal(c->database.command[2], "shop db");
	assert_int_equal(conf_argv_count(c->database.tables), 3);
	assert_string_equal(c->database.tables[0], "users");
	assert_string_equal(c->database.tables[1], "orders");
	assert_string_equal(c->database.tables[2], "items");
	assert_int_equal(conf_argv_count(c->database.dump_options), 2);
	assert_string_equal(c->database.dump_options[1], "--where=id > 5");
	assert_int_equal(c->database.timeout, 6 * 3600);

	assert_int_equal(c->compression.level, 9);
	assert_true(c->encryption.enabled);
	snprintf(want, sizeof(want), "%s/enc.key", dir);
	assert_string_equal(c->encryption.key_file, want);
	assert_null(c->encryption.passphrase_file);

	assert_int_equal(c->retention.days, 14);
	assert_int_equal(c->retention.keep_last, 3);
	assert_int_equal(c->retention.abort_incomplete_days, 2);
	assert_int_equal(c->retention.max_age, 26 * 3600);
	assert_false(c->retention.apply_on_backup);
	assert_int_equal(c->retention.ntypes, 3);
	assert_string_equal(c->retention.types[0].name, "daily");
	assert_int_equal(c->retention.types[0].days, 7);
	assert_int_equal(c->retention.types[0].keep_last, 10);
	assert_int_equal(c->retention.types[0].max_age, 0);
	assert_string_equal(c->retention.types[1].name, "monthly");
	assert_int_equal(c->retention.types[1].days, 365);
	assert_int_equal(c->retention.types[1].keep_last, -1);
	assert_string_equal(c->retention.types[2].name, "weekly");
	assert_int_equal(c->retention.types[2].days, -1);
	assert_int_equal(c->retention.types[2].max_age, 8 * 86400);
	assert_int_equal(conf_type_days(c, "daily"), 7);
	assert_int_equal(conf_type_days(c, "monthly"), 365);
	assert_int_equal(conf_type_days(c, "weekly"), 14);
	assert_int_equal(conf_type_days(c, "manual"), 14);
	assert_int_equal(conf_type_keep_last(c, "daily"), 10);
	assert_int_equal(conf_type_keep_last(c, "monthly"), 3);
	assert_int_equal(conf_type_keep_last(c, "manual"), 3);
	assert_int_equal(conf_type_max_age(c, "weekly"), 8 * 86400);
	assert_int_equal(conf_type_max_age(c, "daily"), 26 * 3600);
	assert_int_equal(conf_get_source(c, "retention", "days.daily"),
			 CONF_FROM_FILE);
	assert_int_equal(conf_get_source(c, "retention", "max_age.daily"),
			 CONF_FROM_DEFAULT);
	assert_int_equal(conf_get_source(c, "retention", "days.nope"),
			 CONF_FROM_DEFAULT);
	assert_int_equal(conf_get_source(c, "storage", "secret_key"),
			 CONF_FROM_FILE);

	assert_int_equal(c->presign.expires, 7 * 86400);
	assert_string_equal(c->notify.webhook,
			    "https://hooks.example.com/T/B/x");
	assert_true(c->notify.on_success);
	assert_string_equal(c->metrics.textfile, "/var/lib/node/offsite.prom");
	assert_int_equal(c->log.level, CONF_LOG_DEBUG);
	assert_int_equal(c->log.format, CONF_LOG_JSON);
	conf_free(c);
}

static void test_layout(void **state)
{
	conf *c;

	(void)state;
	/* Indenting, comments, CRLF, a BOM, blank lines, "name: value". */
	c = parse_ok("\xEF\xBB\xBF; comment\r\n"
		     "# another\r\n"
		     "  [storage]  \r\n"
		     "    bucket = bk1 ; inline comment\r\n"
		     "\tregion: eu-west-1\r\n"
		     "\r\n"
		     "[ database ]\n"
		     "  name = app\n"
		     "  tables = a;b\n");
	assert_string_equal(c->storage.bucket, "bk1");
	assert_string_equal(c->storage.region, "eu-west-1");
	assert_string_equal(c->database.tables[0], "a;b");
	conf_free(c);

	/* An empty value is the default; enums ignore case. */
	c = parse_ok(MIN_CONF "[storage]\nregion =\npart_size =\n"
			      "addressing = Virtual\n");
	assert_string_equal(c->storage.region, "us-east-1");
	assert_int_equal(c->storage.part_size, 8 << 20);
	assert_int_equal(c->storage.addressing, CONF_ADDRESSING_VIRTUAL);
	conf_free(c);

	/* A section may come back; its keys are still counted once. */
	c = parse_ok("[storage]\nbucket = bkt\n[database]\nname = x\n"
		     "[storage]\nregion = r1\n");
	assert_string_equal(c->storage.region, "r1");
	conf_free(c);
}

static void prefix_is(const char *value, const char *want)
{
	char text[256];
	conf *c;

	snprintf(text, sizeof(text), MIN_CONF "[storage]\nprefix = %s\n",
		 value);
	c = parse_ok(text);
	assert_string_equal(c->storage.prefix, want);
	conf_free(c);
}

static void test_prefix(void **state)
{
	(void)state;
	prefix_is("", "");
	prefix_is("/", "");
	prefix_is("///", "");
	prefix_is("backups", "backups/");
	prefix_is("backups/", "backups/");
	prefix_is("/backups", "backups/");
	prefix_is("//a/b", "a/b/");
}

static void name_is(const char *database, const char *want)
{
	char text[512];
	conf *c;

	snprintf(text, sizeof(text), "[storage]\nbucket = bkt\n[database]\n%s",
		 database);
	c = parse_ok(text);
	if (want == NULL)
		assert_null(c->database.name);
	else
		assert_string_equal(c->database.name, want);
	conf_free(c);
}

static void test_name(void **state)
{
	(void)state;
	name_is("conninfo = host=db port=5432 dbname=app\n", "app");
	name_is("conninfo = host=db dbname='app'\n", "app");
	name_is("conninfo = postgresql://u:pw@db/app?sslmode=require\n", "app");
	name_is("conninfo = postgres://db/main_db\n", "main_db");
	name_is("driver = mysql\ndsn = mysql://u@db:3306/shop\n", "shop");
	name_is("name = mine\nconninfo = dbname=other\n", "mine");
	name_is("driver = stdin\n", NULL);
	name_is("driver = command\ncommand = dump\n", NULL);
	name_is("driver = stdin\nconninfo = dbname=x\n", "x");

	parse_err("[storage]\nbucket = bkt\n", CONF_EMISSING,
		  "t.ini: missing required key 'name' in [database] (no "
		  "database name in conninfo or dsn)");
	parse_err("[storage]\nbucket = bkt\n[database]\nconninfo = host=db\n",
		  CONF_EMISSING,
		  "t.ini: missing required key 'name' in [database] (no "
		  "database name in conninfo or dsn)");
	parse_err("[storage]\nbucket = bkt\n[database]\n"
		  "conninfo = dbname='my db'\n",
		  CONF_ESYNTAX,
		  "t.ini: database name 'my db' from conninfo is not usable in "
		  "object keys (A-Z a-z 0-9 _ . -); set name in [database]");
	parse_err("[storage]\nbucket = bkt\n[database]\nname = a/b\n",
		  CONF_ESYNTAX,
		  "t.ini:4: bad value for name in [database]: 'a/b' is not "
		  "usable in object keys (A-Z a-z 0-9 _ . -)");
	parse_err("[storage]\nbucket = bkt\n[database]\nname = ..\n",
		  CONF_ESYNTAX,
		  "t.ini:4: bad value for name in [database]: '..' is not "
		  "usable in object keys (A-Z a-z 0-9 _ . -)");
	parse_err(
		"[storage]\nbucket = bkt\n[database]\nconninfo = host\n",
		CONF_ESYNTAX,
		"t.ini:4: bad value for conninfo in [database]: '<redacted>' "
		"is not a libpq conninfo (key=value ... or postgresql://...)");
	/* The password in a bad conninfo is not shown. */
	parse_err("[storage]\nbucket = bkt\n[database]\n"
		  "conninfo = password=hunter2 'x\n",
		  CONF_ESYNTAX,
		  "t.ini:4: bad value for conninfo in [database]: "
		  "'password=<redacted><redacted>' is not a libpq conninfo "
		  "(key=value ... or postgresql://...)");
	parse_err("[storage]\nbucket = bkt\n[database]\ndsn = db:3306\n",
		  CONF_ESYNTAX,
		  "t.ini:4: bad value for dsn in [database]: '<redacted>' is "
		  "not a mysql:// URL (mysql://user@host:port/db)");
}

static void test_errors(void **state)
{
	(void)state;
	parse_err(MIN_CONF "[foo]\nx = 1\n", CONF_ESYNTAX,
		  "t.ini:5: unknown section [foo]");
	/* Even with no keys in it. */
	parse_err(MIN_CONF "[foo]\n", CONF_ESYNTAX,
		  "t.ini:5: unknown section [foo]");
	parse_err("[storag]\nbucket = b\n", CONF_ESYNTAX,
		  "t.ini:1: unknown section [storag]; did you mean [storage]?");
	parse_err("[storage]\nfoo = 1\n", CONF_ESYNTAX,
		  "t.ini:2: unknown key 'foo' in [storage]");
	parse_err("[storage]\nbuckt = b\n", CONF_ESYNTAX,
		  "t.ini:2: unknown key 'buckt' in [storage]; did you mean "
		  "'bucket'?");
	parse_err("[storage]\nbukcet = b\n", CONF_ESYNTAX,
		  "t.ini:2: unknown key 'bukcet' in [storage]; did you mean "
		  "'bucket'?");
	parse_err("[storage]\nsecret_key_fiel = /x\n", CONF_ESYNTAX,
		  "t.ini:2: unknown key 'secret_key_fiel' in [storage]; did "
		  "you mean 'secret_key_file'?");
	parse_err(MIN_CONF "[retention]\nday.daily = 3\n", CONF_ESYNTAX,
		  "t.ini:6: unknown key 'day.daily' in [retention]; did you "
		  "mean 'days.daily'?");
	parse_err(MIN_CONF "[retention]\nabort_incomplete_days.x = 3\n",
		  CONF_ESYNTAX,
		  "t.ini:6: unknown key 'abort_incomplete_days.x' in "
		  "[retention]; did you mean 'abort_incomplete_days'?");
	parse_err(MIN_CONF "[storage]\ndays.daily = 3\n", CONF_ESYNTAX,
		  "t.ini:6: unknown key 'days.daily' in [storage]");
	parse_err("bucket = b\n", CONF_ESYNTAX,
		  "t.ini:1: key 'bucket' is outside any section");
	parse_err("[storage]\nsecret_key = abc\n", CONF_ESYNTAX,
		  "t.ini:2: secret_key in [storage] cannot be set in the file; "
		  "use secret_key_file or AWS_SECRET_ACCESS_KEY");
	parse_err(MIN_CONF "[database]\npassword = abc\n", CONF_ESYNTAX,
		  "t.ini:6: password in [database] cannot be set in the file; "
		  "use password_file");

	parse_err("[storage]\npart_size = 12XB\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for part_size in [storage]: '12XB' is "
		  "not a size (e.g. 16MiB)");
	parse_err("[storage]\npart_size = 1MiB\n", CONF_ESYNTAX,
		  "t.ini:2: part_size in [storage] must be between 5MiB and "
		  "5GiB");
	parse_err("[storage]\npart_size = 6GiB\n", CONF_ESYNTAX,
		  "t.ini:2: part_size in [storage] must be between 5MiB and "
		  "5GiB");
	parse_err("[storage]\nmax_parts = 0\n", CONF_ESYNTAX,
		  "t.ini:2: max_parts in [storage] must be between 1 and "
		  "10000");
	parse_err("[storage]\nconcurrency = many\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for concurrency in [storage]: 'many' is "
		  "not a whole number");
	parse_err("[storage]\nconcurrency = 99999999999999999999999\n",
		  CONF_ESYNTAX,
		  "t.ini:2: concurrency in [storage] must be between 1 and 64");
	parse_err("[compression]\nlevel = 10\n", CONF_ESYNTAX,
		  "t.ini:2: level in [compression] must be between 0 and 9");
	parse_err("[compression]\nlevel = -1\n", CONF_ESYNTAX,
		  "t.ini:2: level in [compression] must be between 0 and 9");
	parse_err("[database]\ntimeout = 5 minutes\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for timeout in [database]: '5 minutes' "
		  "is not a duration (e.g. 1h, 30d)");
	parse_err("[presign]\nexpires = 8d\n", CONF_ESYNTAX,
		  "t.ini:2: expires in [presign] must be between 1s and 7d "
		  "(SigV4 presigned URLs expire within 7 days)");
	parse_err("[presign]\nexpires = 0\n", CONF_ESYNTAX,
		  "t.ini:2: expires in [presign] must be between 1s and 7d "
		  "(SigV4 presigned URLs expire within 7 days)");
	parse_err("[encryption]\nenabled = maybe\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for enabled in [encryption]: 'maybe' is "
		  "not a boolean (yes/no, true/false, on/off, 1/0)");
	parse_err("[storage]\naddressing = dns\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for addressing in [storage]: 'dns' must "
		  "be one of: path, virtual");
	parse_err("[database]\ndriver = oracle\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for driver in [database]: 'oracle' must "
		  "be one of: postgres, mysql, command, stdin");
	parse_err("[log]\nlevel = trace\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for level in [log]: 'trace' must be one "
		  "of: error, warn, info, debug");
	parse_err("[storage]\nendpoint = ftp://x\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for endpoint in [storage]: 'ftp://x' is "
		  "not an http:// or https:// URL");
	parse_err("[storage]\nendpoint = https://\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for endpoint in [storage]: 'https://' is "
		  "not an http:// or https:// URL");
	parse_err("[storage]\nbucket = my bucket\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for bucket in [storage]: 'my bucket' is "
		  "not a bucket name (3 to 255 of a-z 0-9 . - _)");
	parse_err("[storage]\nregion = eu west\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for region in [storage]: 'eu west' is "
		  "not a region name (a-z 0-9 -)");
	parse_err("[storage]\naccess_key = AK IA\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for access_key in [storage]: 'AK IA' "
		  "must not contain blanks");
	/* A webhook's path is a credential: not shown. */
	parse_err("[notify]\nwebhook = hooks.example.com/T/B/x\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for webhook in [notify]: '<redacted>' is "
		  "not an http:// or https:// URL");
	parse_err("[database]\ncommand = pg_dump \"x\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for command in [database]: 'pg_dump \"x' "
		  "has an unterminated quote");
	parse_err("[database]\ndump_options = -a \\\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for dump_options in [database]: '-a \\' "
		  "ends with a backslash");
	parse_err("[storage]\nbucket = a\x01z\n", CONF_ESYNTAX,
		  "t.ini:2: bad value for bucket in [storage]: 'a\x01z' "
		  "contains a control character");

	parse_err("[storage]\nbucket = aa1\nregion = r\nbucket = aa2\n",
		  CONF_ESYNTAX, "t.ini:4: duplicate key 'bucket' in [storage]");
	parse_err("[storage]\nbucket = aa1\n[log]\n[storage]\nbucket = aa2\n",
		  CONF_ESYNTAX, "t.ini:5: duplicate key 'bucket' in [storage]");
	parse_err(MIN_CONF "[retention]\ndays.daily = 1\ndays.daily = 2\n",
		  CONF_ESYNTAX,
		  "t.ini:7: duplicate key 'days.daily' in [retention]");
	parse_err(MIN_CONF "[retention]\ndays.Daily = 1\n", CONF_ESYNTAX,
		  "t.ini:6: bad backup type 'Daily' in days.Daily in "
		  "[retention] (1 to 31 of a-z 0-9 _ -)");
	parse_err(MIN_CONF "[retention]\ndays. = 1\n", CONF_ESYNTAX,
		  "t.ini:6: bad backup type '' in days. in [retention] (1 to "
		  "31 of a-z 0-9 _ -)");
	parse_err(MIN_CONF "[retention]\ndays.daily = 0\n", CONF_ESYNTAX,
		  "t.ini:6: days.daily in [retention] must be between 1 and "
		  "36500");

	parse_err("[storage\nbucket = b\n", CONF_ESYNTAX,
		  "t.ini:1: syntax error");
	parse_err("[storage]\nbucket\n", CONF_ESYNTAX, "t.ini:2: syntax error");
	/* The first error wins, whoever finds it. */
	parse_err("[storage]\ngarbage\nfoo = 1\n", CONF_ESYNTAX,
		  "t.ini:2: syntax error");
	parse_err("[storage]\nfoo = 1\ngarbage\n", CONF_ESYNTAX,
		  "t.ini:2: unknown key 'foo' in [storage]");
	parse_err("[storage]\nbucket = bkt\n[foo]\nbar = 1\n[log]\nlevel = x\n",
		  CONF_ESYNTAX, "t.ini:3: unknown section [foo]");

	parse_err("", CONF_EMISSING,
		  "t.ini: missing required key 'bucket' in [storage]");
	parse_err("[database]\nname = app\n", CONF_EMISSING,
		  "t.ini: missing required key 'bucket' in [storage]");
	parse_err("[storage]\nbucket =\n[database]\nname = app\n",
		  CONF_EMISSING,
		  "t.ini: missing required key 'bucket' in [storage]");
	parse_err(MIN_CONF "[database]\ndriver = command\n", CONF_EMISSING,
		  "t.ini: missing required key 'command' in [database] "
		  "(needed by driver = command)");
}

static void test_long_lines(void **state)
{
	char text[1024], value[400];
	conf_error err;
	conf *c = NULL;

	(void)state;
	/* What fits in inih's line buffer (at least 200 bytes) works. */
	memset(value, 'a', 180);
	value[180] = '\0';
	snprintf(text, sizeof(text), MIN_CONF "[storage]\nprefix = %s\n",
		 value);
	c = parse_ok(text);
	assert_int_equal(strlen(c->storage.prefix), 181);
	conf_free(c);
	/* Longer is refused, never split into two lines. */
	memset(value, 'a', 390);
	value[390] = '\0';
	snprintf(text, sizeof(text), MIN_CONF "[storage]\nprefix = %s\n",
		 value);
	assert_int_equal(conf_parse(&c, "t.ini", text, &err), CONF_ESYNTAX);
	assert_null(c);
	assert_non_null(strstr(err.msg, "t.ini:6: line is too long (at most "));
}

static void test_types(void **state)
{
	char text[4096];
	size_t n;
	conf *c;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), MIN_CONF "[retention]\n");
	for (int i = 0; i < CONF_MAX_TYPES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "days.t%d = %d\n", i, i + 1);
	c = parse_ok(text);
	assert_int_equal(c->retention.ntypes, CONF_MAX_TYPES);
	assert_int_equal(conf_type_days(c, "t15"), 16);
	conf_free(c);
	snprintf(text + n, sizeof(text) - n,
		 "keep_last.t3 = 1\n"
		 "days.one-too-many = 1\n");
	parse_err(text, CONF_ESYNTAX,
		  "t.ini:23: too many backup types in [retention] (at most "
		  "16)");

	/* An empty per-type value means "use the section's". */
	c = parse_ok(MIN_CONF "[retention]\ndays.daily =\nkeep_last = 4\n");
	assert_int_equal(c->retention.types[0].days, -1);
	assert_int_equal(conf_type_days(c, "daily"), 30);
	assert_int_equal(conf_type_keep_last(c, "daily"), 4);
	conf_free(c);
}

static void test_secret_files(void **state)
{
	char path[256], text[512], msg[768];
	conf *c;

	(void)state;
	/* World-readable: refused, with the chmod that fixes it. */
	write_file(path, sizeof(path), "open.key", "s3cr3t\n", 0644);
	snprintf(text, sizeof(text),
		 MIN_CONF "[storage]\nsecret_key_file = %s\n", path);
	snprintf(msg, sizeof(msg),
		 "t.ini:6: secret_key_file '%s': permissions 0644 are too "
		 "open; it must be readable by its owner only (chmod 600 %s)",
		 path, path);
	parse_err(text, CONF_EPERM, msg);

	/* Group-readable, or executable by others: refused too. */
	write_file(path, sizeof(path), "group.key", "s3cr3t\n", 0640);
	snprintf(text, sizeof(text),
		 MIN_CONF "[storage]\nsecret_key_file = %s\n", path);
	snprintf(msg, sizeof(msg),
		 "t.ini:6: secret_key_file '%s': permissions 0640 are too "
		 "open; it must be readable by its owner only (chmod 600 %s)",
		 path, path);
	parse_err(text, CONF_EPERM, msg);
	write_file(path, sizeof(path), "x.key", "s3cr3t\n", 0601);
	snprintf(text, sizeof(text),
		 MIN_CONF "[database]\npassword_file = %s\n", path);
	snprintf(msg, sizeof(msg),
		 "t.ini:6: password_file '%s': permissions 0601 are too "
		 "open; it must be readable by its owner only (chmod 600 %s)",
		 path, path);
	parse_err(text, CONF_EPERM, msg);

	/* Missing. */
	snprintf(path, sizeof(path), "%s/missing.key", dir);
	snprintf(text, sizeof(text),
		 MIN_CONF "[storage]\nsecret_key_file = %s\n", path);
	snprintf(msg, sizeof(msg),
		 "t.ini:6: cannot read secret_key_file '%s': No such file or "
		 "directory",
		 path);
	parse_err(text, CONF_EIO, msg);

	/* A directory. */
	snprintf(text, sizeof(text),
		 MIN_CONF "[storage]\nsecret_key_file = %s\n", dir);
	snprintf(msg, sizeof(msg),
		 "t.ini:6: secret_key_file '%s' is not a regular file", dir);
	parse_err(text, CONF_EIO, msg);

	/* Empty, or only blanks. */
	write_file(path, sizeof(path), "empty.key", " \n\n", 0600);
	snprintf(text, sizeof(text),
		 MIN_CONF "[storage]\nsession_token_file = %s\n", path);
	snprintf(msg, sizeof(msg), "t.ini:6: session_token_file '%s' is empty",
		 path);
	parse_err(text, CONF_ESYNTAX, msg);

	/* Two lines. */
	write_file(path, sizeof(path), "two.key", "a\nb\n", 0600);
	snprintf(text, sizeof(text),
		 MIN_CONF "[storage]\nsecret_key_file = %s\n", path);
	snprintf(msg, sizeof(msg),
		 "t.ini:6: secret_key_file '%s' must hold a single line", path);
	parse_err(text, CONF_ESYNTAX, msg);

	/* Over 64 KiB. */
	{
		char *big = malloc(70000);

		assert_non_null(big);
		memset(big, 'k', 69999);
		big[69999] = '\0';
		write_file(path, sizeof(path), "big.key", big, 0600);
		free(big);
	}
	snprintf(text, sizeof(text),
		 MIN_CONF "[storage]\nsecret_key_file = %s\n", path);
	snprintf(msg, sizeof(msg),
		 "t.ini:6: secret_key_file '%s' is larger than 64 KiB", path);
	parse_err(text, CONF_ESYNTAX, msg);

	/* Exactly 64 KiB is fine. */
	{
		char *big = malloc(65537);

		assert_non_null(big);
		memset(big, 'k', 65536);
		big[65536] = '\0';
		write_file(path, sizeof(path), "max.key", big, 0600);
		free(big);
	}
	snprintf(text, sizeof(text),
		 MIN_CONF "[storage]\nsecret_key_file = %s\n", path);
	c = parse_ok(text);
	assert_int_equal(strlen(c->storage.secret_key), 65536);
	conf_free(c);

	/* key_file is checked, not read: its contents stay out of memory. */
	write_file(path, sizeof(path), "open-enc.key", "k", 0604);
	snprintf(text, sizeof(text), MIN_CONF "[encryption]\nkey_file = %s\n",
		 path);
	snprintf(msg, sizeof(msg),
		 "t.ini:6: key_file '%s': permissions 0604 are too open; it "
		 "must be readable by its owner only (chmod 600 %s)",
		 path, path);
	parse_err(text, CONF_EPERM, msg);
	snprintf(path, sizeof(path), "%s/nope.pass", dir);
	snprintf(text, sizeof(text),
		 MIN_CONF "[encryption]\npassphrase_file = %s\n", path);
	snprintf(msg, sizeof(msg),
		 "t.ini:6: cannot read passphrase_file '%s': No such file or "
		 "directory",
		 path);
	parse_err(text, CONF_EIO, msg);
}

static void test_encryption(void **state)
{
	char key[256], pass[256], text[1024], msg[256];
	conf *c;

	(void)state;
	write_file(key, sizeof(key), "a.key", "k", 0600);
	write_file(pass, sizeof(pass), "a.pass", "p", 0600);

	snprintf(text, sizeof(text),
		 MIN_CONF "[encryption]\nkey_file = %s\npassphrase_file = %s\n",
		 key, pass);
	snprintf(msg, sizeof(msg),
		 "t.ini:7: key_file and passphrase_file in [encryption] "
		 "exclude each other; set only one");
	parse_err(text, CONF_ESYNTAX, msg);
	snprintf(text, sizeof(text),
		 MIN_CONF "[encryption]\nenabled = true\nkey_file = %s\n"
			  "passphrase_file = %s\n",
		 key, pass);
	snprintf(msg, sizeof(msg),
		 "t.ini:8: key_file and passphrase_file in [encryption] "
		 "exclude each other; set only one");
	parse_err(text, CONF_ESYNTAX, msg);

	parse_err(MIN_CONF "[encryption]\nenabled = true\n", CONF_EMISSING,
		  "t.ini: missing required key 'key_file' or "
		  "'passphrase_file' in [encryption] (needed by enabled = "
		  "true)");

	snprintf(text, sizeof(text),
		 MIN_CONF "[encryption]\nenabled = on\npassphrase_file = %s\n",
		 pass);
	c = parse_ok(text);
	assert_true(c->encryption.enabled);
	assert_string_equal(c->encryption.passphrase_file, pass);
	conf_free(c);
}

/* [catalog]: a conninfo shown without its password, a table name that
 * can go into SQL unquoted. */
static void test_catalog(void **state)
{
	conf *c;
	char *out;

	(void)state;
	c = parse_ok(MIN_CONF "[catalog]\nconninfo = host=ops dbname=ops "
			      "password=hunter2\ntable = backups_2\n");
	assert_string_equal(c->catalog.conninfo,
			    "host=ops dbname=ops password=hunter2");
	assert_string_equal(c->catalog.table, "backups_2");
	out = print(c);
	assert_non_null(strstr(out,
			       "[catalog]\nconninfo = host=ops dbname=ops "
			       "password=<redacted>\ntable = backups_2\n"));
	assert_null(strstr(out, "hunter2"));
	free(out);
	conf_free(c);

	c = parse_ok(MIN_CONF "[catalog]\ntable = _x\n");
	assert_null(c->catalog.conninfo);
	assert_string_equal(c->catalog.table, "_x");
	conf_free(c);

	parse_err(MIN_CONF "[catalog]\ntable = Backups\n", CONF_ESYNTAX,
		  "t.ini:6: bad value for table in [catalog]: 'Backups' is "
		  "not a plain SQL name (lowercase only: [a-z_][a-z0-9_]*)");
	parse_err(MIN_CONF "[catalog]\ntable = 9lives\n", CONF_ESYNTAX,
		  "t.ini:6: bad value for table in [catalog]: '9lives' is "
		  "not a plain SQL name ([a-z_][a-z0-9_]*, at most 63 "
		  "characters)");
	parse_err(MIN_CONF "[catalog]\ntable = a;drop table x\n", CONF_ESYNTAX,
		  "t.ini:6: bad value for table in [catalog]: 'a;drop table "
		  "x' is not a plain SQL name ([a-z_][a-z0-9_]*, at most 63 "
		  "characters)");
	c = parse_ok(MIN_CONF "[catalog]\ntable = "
			      "a2345678901234567890123456789012345678901234567"
			      "8901234567890123\n");
	assert_int_equal(strlen(c->catalog.table), 63);
	conf_free(c);
	parse_err(MIN_CONF "[catalog]\ntable = "
			   "a234567890123456789012345678901234567890123456789"
			   "0123456789012345\n",
		  CONF_ESYNTAX,
		  "t.ini:6: bad value for table in [catalog]: "
		  "'a2345678901234567890123456789012345678901234567890123456"
		  "789012345' is not a plain SQL name ([a-z_][a-z0-9_]*, at "
		  "most 63 characters)");
}

static void test_load(void **state)
{
	char path[256], want[256], msg[512];
	conf *c;

	(void)state;
	load_err("/nonexistent/offsite.ini", CONF_EIO,
		 "cannot read config /nonexistent/offsite.ini: No such file "
		 "or directory");
	snprintf(msg, sizeof(msg), "cannot read config %s: Is a directory",
		 dir);
	load_err(dir, CONF_EIO, msg);

	/* Errors name the file as given. */
	write_file(path, sizeof(path), "bad.ini",
		   "[storage]\nbucket = bkt\nx = 1\n", 0600);
	snprintf(msg, sizeof(msg), "%s:3: unknown key 'x' in [storage]", path);
	load_err(path, CONF_ESYNTAX, msg);

	/* Relative file names start at the config's directory. */
	write_file(path, sizeof(path), "rel.secret", "abc", 0600);
	write_file(path, sizeof(path), "rel.ini",
		   MIN_CONF "[storage]\nsecret_key_file = rel.secret\n"
			    "ca_file = ca/bundle.pem\n"
			    "[metrics]\ntextfile = /abs/m.prom\n",
		   0640);
	c = load_ok(path);
	snprintf(want, sizeof(want), "%s/rel.secret", dir);
	assert_string_equal(c->storage.secret_key_file, want);
	assert_string_equal(c->storage.secret_key, "abc");
	snprintf(want, sizeof(want), "%s/ca/bundle.pem", dir);
	assert_string_equal(c->storage.ca_file, want);
	assert_string_equal(c->metrics.textfile, "/abs/m.prom");
	conf_free(c);

	/* A file with NUL bytes is not a config. */
	snprintf(path, sizeof(path), "%s/nul.ini", dir);
	{
		FILE *fp = fopen(path, "w");

		assert_non_null(fp);
		assert_int_equal(fwrite("[storage]\n\0x", 1, 12, fp), 12);
		assert_int_equal(fclose(fp), 0);
	}
	snprintf(msg, sizeof(msg), "%s: not a text file (it holds NUL bytes)",
		 path);
	load_err(path, CONF_ESYNTAX, msg);
}

/* "NAME (uid N)" as the messages name a user. */
static const char *who(char *buf, size_t size, uid_t uid)
{
	const struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, size, "%s (uid %u)", pw->pw_name, (unsigned)uid);
	else
		snprintf(buf, size, "uid %u", (unsigned)uid);
	return buf;
}

/* The config can run commands: only its owner, us or root, may change it
 * (as ssh asks of ~/.ssh/config). Files of secrets: ours or root's. */
static void test_load_owner_and_mode(void **state)
{
	char path[256], secret[256], text[512], msg[768], name[96];
	const uid_t other = 65534;
	conf *c;

	(void)state;
	write_file(path, sizeof(path), "gw.ini", MIN_CONF, 0664);
	snprintf(msg, sizeof(msg),
		 "config '%s': permissions 0664 let others change it; it must "
		 "be writable by its owner only (chmod go-w %s)",
		 path, path);
	load_err(path, CONF_EPERM, msg);
	write_file(path, sizeof(path), "ow.ini", MIN_CONF, 0606);
	snprintf(msg, sizeof(msg),
		 "config '%s': permissions 0606 let others change it; it must "
		 "be writable by its owner only (chmod go-w %s)",
		 path, path);
	load_err(path, CONF_EPERM, msg);
	/* Readable by all is fine: the config holds no secret. */
	write_file(path, sizeof(path), "ro.ini", MIN_CONF, 0644);
	c = load_ok(path);
	conf_free(c);

	if (geteuid() != 0)
		skip(); /* handing a file to another user needs root */
	assert_int_equal(chown(path, other, other), 0);
	snprintf(msg, sizeof(msg),
		 "config '%s' is owned by %s; it must belong to root (chown "
		 "it)",
		 path, who(name, sizeof(name), other));
	load_err(path, CONF_EPERM, msg);

	/* A key another user wrote: refused, even at mode 600. */
	write_file(secret, sizeof(secret), "theirs.key", "s3cr3t\n", 0600);
	assert_int_equal(chown(secret, other, other), 0);
	snprintf(text, sizeof(text),
		 MIN_CONF "[storage]\nsecret_key_file = %s\n", secret);
	snprintf(msg, sizeof(msg),
		 "t.ini:6: secret_key_file '%s' is owned by %s; it must belong "
		 "to root or " CONF_SERVICE_USER " (chown it)",
		 secret, who(name, sizeof(name), other));
	parse_err(text, CONF_EPERM, msg);
	assert_false(conf_owner_trusted(other, CONF_TRUST_SECRET));
	assert_true(conf_owner_trusted(0, CONF_TRUST_CONFIG));
}

static void test_env(void **state)
{
	char path[256], text[512];
	conf *c;

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value", 1);
	setenv("AWS_SESSION_TOKEN", "env-token-value", 1);
	setenv("AWS_DEFAULT_REGION", "ap-south-1", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7480/", 1);
	c = parse_ok(MIN_CONF "[storage]\naccess_key = AKIAFILE\n"
			      "region = eu-west-1\n");
	assert_string_equal(c->storage.access_key, "AKIAENV");
	assert_string_equal(c->storage.secret_key, "env-secret-value");
	assert_string_equal(c->storage.session_token, "env-token-value");
	assert_string_equal(c->storage.region, "ap-south-1");
	assert_string_equal(c->storage.endpoint, "http://127.0.0.1:7480");
	assert_int_equal(conf_get_source(c, "storage", "access_key"),
			 CONF_FROM_ENV);
	assert_int_equal(conf_get_source(c, "storage", "region"),
			 CONF_FROM_ENV);
	conf_free(c);

	/* AWS_REGION beats AWS_DEFAULT_REGION. */
	setenv("AWS_REGION", "us-west-2", 1);
	c = parse_ok(MIN_CONF);
	assert_string_equal(c->storage.region, "us-west-2");
	conf_free(c);

	/* The environment beats a secret file, too. */
	write_file(path, sizeof(path), "file.secret", "file-secret", 0600);
	snprintf(text, sizeof(text),
		 MIN_CONF "[storage]\nsecret_key_file = %s\n", path);
	c = parse_ok(text);
	assert_string_equal(c->storage.secret_key, "env-secret-value");
	assert_string_equal(c->storage.secret_key_file, path);
	conf_free(c);

	/* Empty is not set. */
	clear_env();
	setenv("AWS_REGION", "", 1);
	setenv("AWS_DEFAULT_REGION", "eu-north-1", 1);
	c = parse_ok(MIN_CONF);
	assert_string_equal(c->storage.region, "eu-north-1");
	conf_free(c);

	/* Checked like the file's values. */
	clear_env();
	setenv("AWS_ENDPOINT_URL", "ftp://x", 1);
	parse_err(MIN_CONF, CONF_ESYNTAX,
		  "environment AWS_ENDPOINT_URL: bad value for endpoint in "
		  "[storage]: 'ftp://x' is not an http:// or https:// URL");
	clear_env();
	setenv("AWS_REGION", "eu\nwest", 1);
	parse_err(MIN_CONF, CONF_ESYNTAX,
		  "environment AWS_REGION: bad value for region in [storage]: "
		  "'eu\nwest' contains a control character");
	clear_env();
	setenv("AWS_SECRET_ACCESS_KEY", "bad\x01secret", 1);
	parse_err(MIN_CONF, CONF_ESYNTAX,
		  "environment AWS_SECRET_ACCESS_KEY: bad value for secret_key "
		  "in [storage]: '<redacted>' contains a control character");
	/* File errors come first. */
	clear_env();
	setenv("AWS_REGION", "bad region", 1);
	parse_err("[storage]\nbucket = bkt\nfoo = 1\n", CONF_ESYNTAX,
		  "t.ini:3: unknown key 'foo' in [storage]");

	/* A secret key alone is fine: credentials may come later. */
	clear_env();
	setenv("AWS_SECRET_ACCESS_KEY", "only-secret", 1);
	c = parse_ok(MIN_CONF);
	assert_null(c->storage.access_key);
	assert_string_equal(c->storage.secret_key, "only-secret");
	conf_free(c);
}

/* Every keyword libpq marks as a password is redacted, in a key=value
 * conninfo and in a URI's query, however its name is spelt there. */
static void test_print_libpq_secrets(void **state)
{
	char *out;
	conf *c;

	(void)state;
	c = parse_ok(MIN_CONF
		     "[database]\nconninfo = host=db sslpassword='key pass' "
		     "dbname=app password=pw-one sslkey=/etc/k\n"
		     "[catalog]\nconninfo = postgresql://u@db/cat"
		     "?sslpassword=pw-two&ssl%70assword=pw-three"
		     "&PASSWORD=pw-four&sslmode=require\n");
	out = print(c);
	assert_non_null(strstr(out, "\nconninfo = host=db "
				    "sslpassword=<redacted> dbname=app "
				    "password=<redacted> sslkey=/etc/k\n"));
	assert_non_null(strstr(out, "\nconninfo = postgresql://u@db/cat"
				    "?sslpassword=<redacted>"
				    "&ssl%70assword=<redacted>"
				    "&PASSWORD=<redacted>&sslmode=require\n"));
	assert_null(strstr(out, "key pass"));
	assert_null(strstr(out, "pw-"));
	free(out);
	conf_free(c);
}

static void test_print(void **state)
{
	char path[256], text[1024];
	char *out, *out2;
	conf *c, *c2;

	(void)state;
	write_file(path, sizeof(path), "print.secret", "file-secret-value",
		   0600);
	snprintf(text, sizeof(text),
		 MIN_CONF
		 "[storage]\nsecret_key_file = %s\n"
		 "part_size = 67108864\n"
		 "[database]\n"
		 "conninfo = postgresql://u:pg-password@db/app\n"
		 "dump_options = --exclude-table 'audit log' -x\n"
		 "tables = a, b\n"
		 "[retention]\nmax_age = 93600\ndays.daily = 7\n"
		 "max_age.daily = 1d\n"
		 "[notify]\nwebhook = https://hooks.example.com/T/tok\n",
		 path);
	setenv("AWS_REGION", "eu-central-1", 1);
	setenv("AWS_SESSION_TOKEN", "env-token-value", 1);
	c = parse_ok(text);
	out = print(c);

	assert_non_null(strstr(out, "[storage]\nendpoint =\n"
				    "; from AWS_REGION\n"
				    "region = eu-central-1\n"
				    "bucket = backups\n"));
	assert_non_null(strstr(out, "\n; secret_key = <redacted>\n"));
	assert_non_null(strstr(out, "\n; from AWS_SESSION_TOKEN\n"
				    "; session_token = <redacted>\n"));
	assert_non_null(strstr(out, "\n; password = <not set>\n"));
	assert_non_null(strstr(out, "\npart_size = 64MiB\n"));
	assert_non_null(strstr(out, "\nmax_parts = 10000\n"));
	assert_non_null(strstr(out, "\naddressing = path\n"));
	assert_non_null(strstr(out, "\nconninfo = "
				    "postgresql://u:<redacted>@db/app\n"));
	assert_non_null(strstr(
		out, "\ndump_options = --exclude-table 'audit log' -x\n"));
	assert_non_null(strstr(out, "\ntables = a, b\n"));
	assert_non_null(strstr(out, "\ntimeout = 0\n"));
	assert_non_null(strstr(out, "\nmax_age = 1d2h\n"));
	assert_non_null(strstr(out, "\nexpires = 1h\n"));
	assert_non_null(strstr(out, "\ndays = 30\n"));
	assert_non_null(strstr(out, "\ndays.daily = 7\nmax_age.daily = 1d\n"));
	assert_null(strstr(out, "keep_last.daily"));
	assert_non_null(strstr(out, "\nenabled = false\n"));
	assert_non_null(strstr(out, "\napply_on_backup = true\n"));
	assert_non_null(strstr(out, "\nwebhook = "
				    "https://hooks.example.com/<redacted>\n"));
	assert_non_null(strstr(out, "\n[log]\nlevel = info\nformat = text\n"));
	assert_non_null(strstr(out, path)); /* paths are not secret */
	/* No secret, anywhere. */
	assert_null(strstr(out, "file-secret-value"));
	assert_null(strstr(out, "env-token-value"));
	assert_null(strstr(out, "pg-password"));
	assert_null(strstr(out, "/T/tok"));
	free(out);
	conf_free(c);

	/* The printout loads again, to the same printout. */
	clear_env();
	c = parse_ok(MIN_CONF "[storage]\nprefix = p\nconcurrency = 2\n"
			      "[database]\ntables = x y\n"
			      "dump_options = \"a b\" 'c'\\''d'\n"
			      "[retention]\nkeep_last.hourly = 24\n"
			      "[log]\nformat = json\n");
	out = print(c);
	c2 = parse_ok(out);
	out2 = print(c2);
	assert_string_equal(out, out2);
	assert_string_equal(c2->database.dump_options[1], "c'd");
	free(out);
	free(out2);
	conf_free(c);
	conf_free(c2);
}

/* abort_incomplete_days follows the longest a run may last: never
 * shorter, and that when not set. */
static void test_abort_days_follow_longest_run(void **state)
{
	conf *c;

	(void)state;
	c = parse_ok(MIN_CONF);
	assert_int_equal(conf_longest_run(c), 2 * 86400);
	assert_int_equal(c->retention.abort_incomplete_days, 2);
	conf_free(c);
	/* A timeout bounds the run: plus an hour for the last parts. */
	c = parse_ok(MIN_CONF "timeout = 6h\n");
	assert_int_equal(conf_longest_run(c), 7 * 3600);
	assert_int_equal(c->retention.abort_incomplete_days, 1);
	conf_free(c);
	c = parse_ok(MIN_CONF "timeout = 3d\n");
	assert_int_equal(conf_longest_run(c), 3 * 86400 + 3600);
	assert_int_equal(c->retention.abort_incomplete_days, 4);
	conf_free(c);
	c = parse_ok(MIN_CONF "timeout = 23h\n[retention]\n"
			      "abort_incomplete_days = 1\n");
	assert_int_equal(c->retention.abort_incomplete_days, 1);
	conf_free(c);
	c = parse_ok(MIN_CONF "[retention]\nabort_incomplete_days = 9\n");
	assert_int_equal(c->retention.abort_incomplete_days, 9);
	conf_free(c);

	parse_err(MIN_CONF "[retention]\nabort_incomplete_days = 1\n",
		  CONF_ESYNTAX,
		  "t.ini:6: abort_incomplete_days = 1 in [retention] is "
		  "shorter than a backup may run (2d, without a [database] "
		  "timeout): the bucket would abort an upload still in "
		  "progress; set 2 or more, or set [database] timeout");
	parse_err(MIN_CONF "timeout = 1d\n[retention]\n"
			   "abort_incomplete_days = 1\n",
		  CONF_ESYNTAX,
		  "t.ini:7: abort_incomplete_days = 1 in [retention] is "
		  "shorter than a backup may run (1d1h, [database] timeout "
		  "+ 1h): the bucket would abort an upload still in "
		  "progress; set 2 or more, or a shorter timeout");
}

static void test_describe(void **state)
{
	char *buf = NULL, want[128];
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(fp);
	assert_int_equal(conf_describe(fp), CONF_OK);
	assert_int_equal(fclose(fp), 0);
	assert_true(strncmp(buf, "| Section | Key | Default | Description |\n",
			    41) == 0);
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		if ((k->flags & CONF_F_NOFILE) != 0 && k->env[0] == NULL)
			continue;
		snprintf(want, sizeof(want), "| `[%s]` | `%s` |", k->section,
			 k->name);
		if (strstr(buf, want) == NULL)
			fail_msg("no row for %s", want);
		assert_non_null(k->help);
	}
	assert_non_null(strstr(buf, "| `[storage]` | `part_size` | `8MiB` |"));
	assert_non_null(strstr(buf, "| `[storage]` | `bucket` | (required) |"));
	assert_non_null(strstr(buf, "| `[retention]` | `days.TYPE` |"));
	assert_non_null(strstr(buf, "`AWS_REGION`, `AWS_DEFAULT_REGION`"));
	free(buf);
}

/* Every row of the table is sound: its default parses, its section is
 * known, its names are unique. */
static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		assert_ptr_equal(conf_key_find(k->section, k->name), k);
		assert_non_null(k->help);
		if (k->content != NULL)
			assert_non_null(conf_key_find(k->section, k->content));
		if (k->kind == CONF_K_ENUM)
			assert_non_null(k->names);
	}
	assert_null(conf_key_find("storage", "nope"));
	assert_true(conf_section_known("presign"));
	assert_false(conf_section_known("nope"));
}

static void test_api_misuse(void **state)
{
	conf_error err;
	conf *c = (conf *)1;

	(void)state;
	assert_int_equal(conf_parse(&c, "t.ini", NULL, &err), CONF_ESYNTAX);
	assert_null(c);
	assert_int_equal(conf_parse(NULL, "t.ini", "", &err), CONF_ESYNTAX);
	assert_int_equal(conf_load(NULL, "x", NULL), CONF_ESYNTAX);
	/* A NULL error buffer is allowed. */
	assert_int_equal(conf_parse(&c, "t.ini", "[x]\n", NULL), CONF_ESYNTAX);
	assert_null(c);
	assert_int_equal(conf_print(NULL, stdout), CONF_ESYNTAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_encryption, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_catalog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_owner_and_mode, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_print_libpq_secrets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_abort_days_follow_longest_run, setup, teardown),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_table),
		cmocka_unit_test_setup_teardown(test_api_misuse, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
