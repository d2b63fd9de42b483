/*
 * Restore targets: which tool loads a dump of a given format, with which
 * arguments, environment and credentials; and whether the target database
 * already holds something.
 */
#include "agent/proc/target.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "agent/ops/log.h"
#include "agent/proc/runner.h"
/* The drivers' connection helpers: conninfo, DSN, option file. */
#include "agent/proc/source_internal.h"
#include "common/wipe.h"

enum target_kind { TARGET_PSQL, TARGET_PG_RESTORE, TARGET_MYSQL };

/* offsite's \restrict key: 32 of 62 characters, ~190 bits. */
#define KEY_LEN 32

struct target {
	enum target_kind kind;
	bool tar;	 /* pg_restore of a tar archive */
	bool restricted; /* psql: runs under \restrict */
	bool sandbox;	 /* mysql: has --sandbox */
	char tool[32];
	char *describe;		 /* for the log: no password */
	char *conninfo;		 /* postgres: as given, for libpq */
	char *db;		 /* mysql: the database */
	char *optfile;		 /* mysql: the option file; removed */
	struct runner_argv argv; /* the tool's */
	struct runner_argv env;	 /* its environment (may hold PGPASSWORD) */
	struct stream *sink;	 /* the tool sink */
	struct stream *filter;	 /* psql: the filter before it */
};

/* ---- what the tools can do ---- */

bool target_psql_can_restrict(const char *version)
{
	/* The first release of each branch with \restrict (CVE-2025-8714). */
	static const struct {
		long major, minor;
	} first[] = {{13, 22}, {14, 19}, {15, 14}, {16, 10}, {17, 6}};
	const char *p = version ? strstr(version, "(PostgreSQL) ") : NULL;
	long major, minor = 0;
	char *end;

	if (p == NULL)
		return false;
	p += strlen("(PostgreSQL) ");
	if (!isdigit((unsigned char)*p))
		return false;
	major = strtol(p, &end, 10);
	if (*end == '.' && isdigit((unsigned char)end[1]))
		minor = strtol(end + 1, NULL, 10);
	if (major >= 18)
		/* 18beta1 and 18beta2 came before it. */
		return !(major == 18 && (strncmp(end, "beta1", 5) == 0 ||
					 strncmp(end, "beta2", 5) == 0));
	for (size_t i = 0; i < sizeof(first) / sizeof(*first); i++) {
		if (major == first[i].major)
			return minor >= first[i].minor;
	}
	return false;
}

bool target_mysql_has_sandbox(const char *version)
{
	/* MariaDB's client, from the releases of May 2024 (MDEV-33727). */
	static const struct {
		long major, minor, patch;
	} first[] = {{10, 5, 25}, {10, 6, 18}, {10, 11, 8}, {11, 0, 6},
		     {11, 1, 5},  {11, 2, 4},  {11, 4, 2}};
	const char *m = version ? strstr(version, "-MariaDB") : NULL;
	const char *p = m;
	long v[3] = {0, 0, 0};
	char *end;

	/* "Distrib 10.11.19-MariaDB," or "from 11.4.2-MariaDB,": the
	 * version just before the suffix. Oracle's client has no sandbox. */
	while (p != NULL && p > version &&
	       (isdigit((unsigned char)p[-1]) || p[-1] == '.'))
		p--;
	if (p == NULL || p == m)
		return false;
	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*p))
			return false;
		v[i] = strtol(p, &end, 10);
		p = end;
		if (i < 2 && *p++ != '.')
			return false;
	}
	if (p != m)
		return false;
	if (v[0] > 11 || (v[0] == 11 && v[1] >= 5))
		return true;
	for (size_t i = 0; i < sizeof(first) / sizeof(*first); i++) {
		if (v[0] == first[i].major && v[1] == first[i].minor)
			return v[2] >= first[i].patch;
	}
	return false;
}

/* Run `TOOL --version` with the tool's environment. */
static int tool_version(char **version, struct target *t,
			struct agent_error *err)
{
	struct runner_argv a = {0};
	int rc;

	runner_argv_add(&a, t->tool);
	runner_argv_add(&a, "--version");
	rc = runner_argv_check(&a, err);
	if (rc == AGENT_OK)
		rc = runner_capture_version(version, a.v, t->env.v, t->tool,
					    err);
	runner_argv_free(&a);
	return rc;
}

static int check_psql(struct target *t, const struct target_options *o,
		      struct agent_error *err)
{
	char *version = NULL;
	int rc = tool_version(&version, t, err);

	if (rc != AGENT_OK)
		return rc;
	t->restricted = target_psql_can_restrict(version);
	if (!t->restricted && !o->trust_backup)
		rc = agent_fail(err, AGENT_EIO,
				"%.100s cannot run restricted (\\restrict "
				"needs psql 13.22, 14.19, 15.14, 16.10, 17.6, "
				"18 or later): a plain dump could run shell "
				"commands on this host through psql's "
				"meta-commands. Upgrade psql, restore with "
				"-o FILE, or give --trust-backup if everyone "
				"who can write to the bucket is trusted",
				version);
	else if (!t->restricted)
		log_event(LOG_WARN,
			  "psql cannot run restricted: loading the dump "
			  "unrestricted (--trust-backup)",
			  "tool", version, NULL);
	free(version);
	return rc;
}

/* ---- postgres ---- */

static int prepare_pg(struct target *t, const struct target_options *o,
		      struct agent_error *err)
{
	const conf *c = o->c;
	const char *conninfo = o->to;
	char *ci = NULL, *password = NULL;
	int rc;

	if (conninfo == NULL) {
		if (c->database.driver != CONF_DRIVER_POSTGRES)
			return agent_fail(err, AGENT_EIO,
					  "a PostgreSQL backup and a %s "
					  "database in the configuration: "
					  "name the target with --to "
					  "CONNINFO",
					  c->database.driver ==
							  CONF_DRIVER_MYSQL
						  ? "MySQL"
						  : "non-database");
		conninfo = c->database.conninfo ? c->database.conninfo : "";
	}
	t->conninfo = strdup(conninfo);
	if (t->conninfo == NULL)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	rc = source_pg_child_conninfo(&ci, &password, conninfo, t->tool, err);
	if (rc != AGENT_OK)
		return rc;
	t->describe = strdup(ci[0] != '\0' ? ci : "(libpq defaults)");
	if (t->describe == NULL) {
		rc = agent_fail(err, AGENT_ENOMEM, "out of memory");
		goto out;
	}
	rc = runner_env_build(&t->env, err);
	if (rc != AGENT_OK)
		goto out;
	if (password != NULL)
		runner_env_set(&t->env, "PGPASSWORD", password);
	rc = runner_argv_check(&t->env, err);
	if (rc == AGENT_OK && t->kind == TARGET_PSQL)
		rc = check_psql(t, o, err);
	if (rc != AGENT_OK)
		goto out;

	/* --no-password: never prompt; the tool runs in the background. */
	runner_argv_add(&t->argv, t->tool);
	runner_argv_add(&t->argv, "--no-password");
	if (t->kind == TARGET_PSQL) {
		/* -1 wraps the whole input in one transaction (psql needs -f
		 * for it); ON_ERROR_STOP ends it, rolled back, at the first
		 * error; -X: no ~/.psqlrc. */
		runner_argv_add(&t->argv, "-X");
		runner_argv_add(&t->argv, "-q");
		runner_argv_add(&t->argv, "-v");
		runner_argv_add(&t->argv, "ON_ERROR_STOP=1");
		runner_argv_add(&t->argv, "--single-transaction");
		runner_argv_add(&t->argv, "-f");
		runner_argv_add(&t->argv, "-");
	} else {
		/* Reads the archive from stdin. Ownership is restored as the
		 * dump has it, as psql does for a plain dump: take the dump
		 * with --no-owner (dump_options) to leave it out. */
		runner_argv_add(&t->argv, "--single-transaction");
		runner_argv_add(&t->argv, "--exit-on-error");
	}
	/* pg_restore without -d writes SQL to stdout instead: always give
	 * one. An empty conninfo leaves everything to libpq's defaults. */
	runner_argv_add(&t->argv, "--dbname");
	runner_argv_add(&t->argv, ci);
	rc = runner_argv_check(&t->argv, err);
out:
	wipe_free_str(password);
	free(ci);
	return rc;
}

/* ---- mysql ---- */

static int prepare_mysql(struct target *t, const struct target_options *o,
			 struct agent_error *err)
{
	const conf *c = o->c;
	struct conf_mysql_dsn d = {0};
	const char *dsn = o->to, *password, *db;
	char port[16] = "", *version = NULL;
	int rc = AGENT_OK;

	if (dsn == NULL) {
		if (c->database.driver != CONF_DRIVER_MYSQL)
			return agent_fail(err, AGENT_EIO,
					  "a MySQL backup and a %s database "
					  "in the configuration: name the "
					  "target with --to "
					  "mysql://user@host:port/db",
					  c->database.driver ==
							  CONF_DRIVER_POSTGRES
						  ? "PostgreSQL"
						  : "non-database");
		dsn = c->database.dsn;
	}
	if (dsn != NULL) {
		rc = source_mysql_parse_dsn(&d, dsn, err);
		if (rc != AGENT_OK)
			return rc;
	}
	/* The DSN's own password, else password_file. */
	password = d.password ? d.password : c->database.password;
	db = d.db ? d.db : (o->to == NULL ? c->database.name : NULL);
	if (db == NULL || db[0] == '\0' || db[0] == '-') {
		rc = agent_fail(err, AGENT_EIO,
				"no database to restore into: name it in the "
				"DSN (mysql://user@host:port/DB)");
		goto out;
	}
	if (d.port != 0)
		snprintf(port, sizeof(port), ":%u", d.port);
	t->db = strdup(db);
	if (asprintf(&t->describe, "mysql://%s%s%s%s/%s", d.user ? d.user : "",
		     d.user ? "@" : "", d.host ? d.host : "", port, db) < 0)
		t->describe = NULL;
	if (t->db == NULL || t->describe == NULL) {
		rc = agent_fail(err, AGENT_ENOMEM, "out of memory");
		goto out;
	}
	rc = runner_env_build(&t->env, err);
	if (rc != AGENT_OK)
		goto out;
	if (d.user || password || d.host || d.port || d.socket) {
		rc = source_mysql_write_optfile(&t->optfile, &d, password,
						t->tool, err);
		if (rc != AGENT_OK)
			goto out;
	}
	rc = tool_version(&version, t, err);
	if (rc != AGENT_OK)
		goto out;
	t->sandbox = target_mysql_has_sandbox(version);
	free(version);
	runner_argv_add(&t->argv, t->tool);
	/* Read only as the first argument. */
	if (t->optfile != NULL)
		runner_argv_addf(&t->argv, "--defaults-extra-file=%s",
				 t->optfile);
	/* Data as it is: no \r\n translation, NUL bytes allowed, no client
	 * commands but DELIMITER (mysqldump's routines use it). */
	runner_argv_add(&t->argv, "--binary-mode");
	/* LOAD DATA LOCAL would let the dump read any file of ours into
	 * the database; --sandbox does not stop it. */
	runner_argv_add(&t->argv, "--local-infile=0");
	/* And no command that reaches the file system either (\!, system,
	 * source, tee...), where the client knows the option. */
	if (t->sandbox)
		runner_argv_add(&t->argv, "--sandbox");
	runner_argv_add(&t->argv, t->db);
	rc = runner_argv_check(&t->argv, err);
out:
	conf_mysql_dsn_dispose(&d);
	return rc;
}

/* ---- the target ---- */

int target_prepare(struct target **out, const struct target_options *o,
		   struct agent_error *err)
{
	struct target *t;
	const char *f = o->format;
	int rc;

	*out = NULL;
	if (f == NULL)
		return agent_fail(err, AGENT_EIO,
				  "the manifest does not say which format the "
				  "dump has: restore it with -o FILE");
	if (strcmp(f, "raw") == 0)
		return agent_fail(err, AGENT_EIO,
				  "the backup is a command's or standard "
				  "input's output, which no database tool "
				  "loads: restore it with -o FILE");
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	if (strcmp(f, "plain") == 0) {
		t->kind = TARGET_PSQL;
		snprintf(t->tool, sizeof(t->tool), "psql");
		rc = prepare_pg(t, o, err);
	} else if (strcmp(f, "custom") == 0 || strcmp(f, "tar") == 0) {
		t->kind = TARGET_PG_RESTORE;
		t->tar = strcmp(f, "tar") == 0;
		snprintf(t->tool, sizeof(t->tool), "pg_restore");
		rc = prepare_pg(t, o, err);
	} else if (strcmp(f, "sql") == 0) {
		t->kind = TARGET_MYSQL;
		snprintf(t->tool, sizeof(t->tool), "mysql");
		rc = prepare_mysql(t, o, err);
	} else {
		rc = agent_fail(err, AGENT_EIO,
				"unknown dump format '%.32s' in the manifest: "
				"restore it with -o FILE",
				f);
	}
	if (rc != AGENT_OK) {
		target_free(t);
		return rc;
	}
	*out = t;
	return AGENT_OK;
}

const char *target_tool(const struct target *t)
{
	return t->tool;
}

const char *target_describe(const struct target *t)
{
	return t->describe;
}

const char *target_verify_first(const struct target *t)
{
	if (t->kind == TARGET_MYSQL)
		return "checking the whole backup before mysql loads it: a "
		       "MySQL restore cannot be rolled back";
	if (t->tar)
		return "checking the whole backup before pg_restore loads it: "
		       "it does not read a tar archive to its end";
	return NULL;
}

bool target_rolls_back(const struct target *t)
{
	return t->kind != TARGET_MYSQL;
}

int target_count_objects(struct target *t, long long *count, const char **what,
			 struct agent_error *err)
{
	struct runner_argv a = {0};
	char *line = NULL, *end;
	int rc;

	*count = -1;
	*what = t->kind == TARGET_MYSQL ? "tables" : "relations";
	if (t->kind != TARGET_MYSQL)
		return source_pg_user_relations(t->conninfo, count, err);
	runner_argv_add(&a, t->tool);
	if (t->optfile != NULL)
		runner_argv_addf(&a, "--defaults-extra-file=%s", t->optfile);
	runner_argv_add(&a, "--batch");
	runner_argv_add(&a, "--skip-column-names");
	runner_argv_add(&a, "-e");
	runner_argv_add(&a, "SELECT COUNT(*) FROM information_schema.tables "
			    "WHERE table_schema = DATABASE()");
	runner_argv_add(&a, t->db);
	rc = runner_argv_check(&a, err);
	if (rc == AGENT_OK)
		rc = runner_capture_line(&line, a.v, t->env.v, t->tool,
					 "(counting the target's tables)", err);
	if (rc == AGENT_OK) {
		*count = strtoll(line, &end, 10);
		if (end == line || *end != '\0' || *count < 0)
			rc = agent_fail(err, AGENT_EIO,
					"mysql: unexpected answer counting "
					"the target's tables");
	}
	free(line);
	runner_argv_free(&a);
	return rc;
}

/* KEY_LEN random letters and digits, from RAND_bytes. */
static int restrict_key(char out[KEY_LEN + 1], struct agent_error *err)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char buf[64];
	size_t n = 0;

	while (n < KEY_LEN) {
		if (RAND_bytes(buf, sizeof(buf)) != 1)
			return agent_fail(err, AGENT_EIO,
					  "cannot make a key for psql: "
					  "RAND_bytes failed");
		/* 248 = 4 * 62: no bias. */
		for (size_t i = 0; i < sizeof(buf) && n < KEY_LEN; i++) {
			if (buf[i] < 248)
				out[n++] = abc[buf[i] % 62];
		}
	}
	out[KEY_LEN] = '\0';
	OPENSSL_cleanse(buf, sizeof(buf));
	return AGENT_OK;
}

int target_start(struct target *t, bool drain, struct stream **sink,
		 struct agent_error *err)
{
	struct tool_options to = TOOL_OPTIONS_INIT;
	char key[KEY_LEN + 1], prologue[64], epilogue[64];
	int rc = AGENT_OK;

	*sink = NULL;
	if (t->sink != NULL)
		return agent_fail(err, AGENT_EIO, "%s started twice", t->tool);
	to.argv = t->argv.v;
	to.env = t->env.v;
	to.name = t->tool;
	to.drain = drain;
	if (t->restricted) {
		/* A fresh key per restore, sent to psql's stdin only: in
		 * restricted mode psql refuses every meta-command of the
		 * dump, and only \unrestrict with this key, sent once every
		 * check passed, ends it. The epilogue starts on a line of
		 * its own whatever the dump's last line is. */
		rc = restrict_key(key, err);
		if (rc == AGENT_OK) {
			snprintf(prologue, sizeof(prologue), "\\restrict %s\n",
				 key);
			snprintf(epilogue, sizeof(epilogue),
				 "\n\\unrestrict %s\n", key);
			to.prologue = prologue;
			to.epilogue = epilogue;
		}
	}
	if (rc == AGENT_OK)
		rc = stage_tool_new(&t->sink, err, &to);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(prologue, sizeof(prologue));
	OPENSSL_cleanse(epilogue, sizeof(epilogue));
	if (rc == AGENT_OK && t->kind == TARGET_PSQL)
		rc = stage_psql_new(&t->filter, t->sink, err);
	if (rc == AGENT_OK)
		*sink = t->filter != NULL ? t->filter : t->sink;
	return rc;
}

int target_commit(struct target *t)
{
	return stage_tool_commit(t->sink);
}

void target_cancel(struct target *t)
{
	if (t != NULL)
		stage_tool_cancel(t->sink);
}

const char *target_to_secret(const char *to)
{
	PQconninfoOption *opts;
	const char *what = NULL;

	if (strncmp(to, "mysql://", 8) == 0) {
		struct conf_mysql_dsn d = {0};
		struct agent_error err = {0};

		if (source_mysql_parse_dsn(&d, to, &err) == AGENT_OK &&
		    d.password != NULL)
			what = "a password";
		conf_mysql_dsn_dispose(&d);
		return what;
	}
	opts = PQconninfoParse(to, NULL);
	for (PQconninfoOption *o = opts; o && o->keyword; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "password") == 0)
			what = "a password";
		else if (what == NULL && o->dispchar != NULL &&
			 o->dispchar[0] == '*')
			what = "an sslpassword";
	}
	PQconninfoFree(opts);
	return what;
}

void target_free(struct target *t)
{
	if (t == NULL)
		return;
	stream_free(t->filter);
	stream_free(t->sink); /* kills a tool that was not committed */
	if (t->optfile != NULL) {
		(void)unlink(t->optfile);
		free(t->optfile);
	}
	runner_argv_free(&t->argv);
	runner_argv_free(&t->env);
	free(t->describe);
	wipe_free_str(t->conninfo); /* may hold a password */
	free(t->db);
	free(t);
}
