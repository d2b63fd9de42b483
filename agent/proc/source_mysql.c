/*
 * The mysql driver: the DSN, the private option file that carries the
 * credentials, and mysqldump's arguments.
 */
#include "agent/proc/source_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ops/log.h"
#include "common/wipe.h"

/* ---- the DSN ---- */

int source_mysql_parse_dsn(struct conf_mysql_dsn *d, const char *dsn,
			   struct agent_error *err)
{
	const char *why;
	int rc = conf_mysql_dsn_parse(d, dsn, &why);

	if (rc == CONF_ENOMEM)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	if (rc != CONF_OK)
		return agent_fail(err, AGENT_EIO,
				  "dsn: %s (mysql://user@host:port/db)", why);
	return AGENT_OK;
}

/* ---- the option file ---- */

char *source_mysql_quote(const char *value)
{
	/* MySQL's option file reader: a value in double quotes keeps '#'
	 * and blanks; inside, \\ \" \n \r \t \b are escapes. */
	size_t len = strlen(value);
	char *q = malloc(len * 2 + 3), *d = q;

	if (q == NULL)
		return NULL;
	*d++ = '"';
	for (const char *p = value; *p != '\0'; p++) {
		switch (*p) {
		case '\\':
		case '"':
			*d++ = '\\';
			*d++ = *p;
			break;
		case '\n':
			*d++ = '\\';
			*d++ = 'n';
			break;
		case '\r':
			*d++ = '\\';
			*d++ = 'r';
			break;
		case '\t':
			*d++ = '\\';
			*d++ = 't';
			break;
		case '\b':
			*d++ = '\\';
			*d++ = 'b';
			break;
		default:
			*d++ = *p;
			break;
		}
	}
	*d++ = '"';
	*d = '\0';
	return q;
}

/* Write "KEY=VALUE" quoted; false on failure. */
static bool put_value(FILE *f, const char *key, const char *value)
{
	char *q;
	bool ok;

	if (value == NULL)
		return true;
	q = source_mysql_quote(value);
	if (q == NULL)
		return false;
	ok = fprintf(f, "%s=%s\n", key, q) > 0;
	wipe_free_str(q);
	return ok;
}

int source_mysql_write_optfile(char **path, const struct conf_mysql_dsn *d,
			       const char *password, const char *tool,
			       struct agent_error *err)
{
	const char *tmp = getenv("TMPDIR");
	FILE *f;
	int fd;
	bool ok;

	*path = NULL;
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (asprintf(path, "%s/offsite-mysql-XXXXXX", tmp) < 0) {
		*path = NULL;
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	}
	fd = mkostemp(*path, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(*path);
		*path = NULL;
		return agent_fail(err, AGENT_EIO,
				  "cannot create the %s option file in %s: %s",
				  tool, tmp, strerror(e));
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return agent_fail(err, AGENT_EIO,
				  "cannot write the %s option file: %s", tool,
				  strerror(errno));
	}
	ok = fchmod(fd, 0600) == 0 && fputs("[client]\n", f) >= 0 &&
	     put_value(f, "user", d->user) &&
	     put_value(f, "password", password) &&
	     put_value(f, "host", d->host) && put_value(f, "socket", d->socket);
	if (ok && d->port != 0)
		ok = fprintf(f, "port=%u\n", d->port) > 0;
	if (fclose(f) != 0)
		ok = false;
	if (!ok)
		return agent_fail(err, AGENT_EIO,
				  "cannot write the %s option file %s", tool,
				  *path);
	return AGENT_OK;
}

/* ---- the driver ---- */

/* The server and the database of the config: the DSN parsed into D, the
 * password (password_file wins over one in the DSN), the database (the
 * DSN's, else name). */
static int resolve(struct conf_mysql_dsn *d, const char **password,
		   const char **db, const conf *c, struct agent_error *err)
{
	int rc = AGENT_OK;

	memset(d, 0, sizeof(*d));
	if (c->database.dsn != NULL) {
		rc = source_mysql_parse_dsn(d, c->database.dsn, err);
		if (rc != AGENT_OK)
			return rc;
	}
	*password = c->database.password ? c->database.password : d->password;
	*db = d->db ? d->db : c->database.name;
	if (*db == NULL)
		return agent_fail(err, AGENT_EIO,
				  "no database to dump: name it in dsn "
				  "(mysql://user@host/DB) or as name in "
				  "[database]");
	if ((*db)[0] == '-')
		return agent_fail(err, AGENT_EIO,
				  "database name '%.64s' starts with '-'", *db);
	return AGENT_OK;
}

static bool has_client_options(const struct conf_mysql_dsn *d,
			       const char *password)
{
	return d->user || password || d->host || d->port || d->socket;
}

int source_mysql_prepare(struct source *s, const conf *c,
			 const struct source_options *o,
			 struct agent_error *err)
{
	struct conf_mysql_dsn d = {0};
	struct runner_argv vargv = {0};
	const char *password = NULL, *db = NULL;
	int rc;

	snprintf(s->tool, sizeof(s->tool), "mysqldump");
	rc = resolve(&d, &password, &db, c, err);
	if (rc != AGENT_OK)
		goto out;
	for (char *const *t = c->database.tables; t && *t; t++) {
		if (**t == '\0' || **t == '-') {
			rc = agent_fail(err, AGENT_EIO,
					"tables: '%.64s' is not a table name",
					*t);
			goto out;
		}
	}
	rc = runner_env_build(&s->env, err);
	if (rc != AGENT_OK)
		goto out;

	runner_argv_add(&vargv, o->tool ? o->tool : "mysqldump");
	runner_argv_add(&vargv, "--version");
	rc = runner_argv_check(&vargv, err);
	if (rc == AGENT_OK)
		rc = runner_capture_version(&s->version, vargv.v, s->env.v,
					    s->tool, err);
	if (rc != AGENT_OK)
		goto out;

	if (has_client_options(&d, password)) {
		rc = source_mysql_write_optfile(&s->optfile, &d, password,
						"mysqldump", err);
		if (rc != AGENT_OK)
			goto out;
	}
	runner_argv_add(&s->argv, o->tool ? o->tool : "mysqldump");
	/* mysqldump reads --defaults-extra-file only as its first
	 * argument. */
	if (s->optfile != NULL)
		runner_argv_addf(&s->argv, "--defaults-extra-file=%s",
				 s->optfile);
	runner_argv_add(&s->argv, "--single-transaction");
	runner_argv_addv(&s->argv, c->database.dump_options);
	runner_argv_add(&s->argv, db);
	runner_argv_addv(&s->argv, c->database.tables);
	rc = runner_argv_check(&s->argv, err);
	s->format = "sql";
out:
	runner_argv_free(&vargv);
	conf_mysql_dsn_dispose(&d);
	return rc;
}

int source_mysql_check_tool(char **version, const struct source_options *o,
			    struct agent_error *err)
{
	struct runner_argv env = {0}, vargv = {0};
	int rc;

	*version = NULL;
	rc = runner_env_build(&env, err);
	runner_argv_add(&vargv, o->tool ? o->tool : "mysqldump");
	runner_argv_add(&vargv, "--version");
	if (rc == AGENT_OK)
		rc = runner_argv_check(&vargv, err);
	if (rc == AGENT_OK)
		rc = runner_capture_version(version, vargv.v, env.v,
					    "mysqldump", err);
	runner_argv_free(&vargv);
	runner_argv_free(&env);
	return rc;
}

/* Seconds the mysql client waits for a connection. */
#define CHECK_CONNECT_TIMEOUT "10"

int source_mysql_check_database(char **detail, const conf *c,
				struct agent_error *err)
{
	struct conf_mysql_dsn d = {0};
	struct runner_argv env = {0}, argv = {0};
	const char *password = NULL, *db = NULL;
	char *optfile = NULL, *version = NULL;
	int rc;

	*detail = NULL;
	rc = resolve(&d, &password, &db, c, err);
	if (rc == AGENT_OK)
		rc = runner_env_build(&env, err);
	if (rc == AGENT_OK && has_client_options(&d, password))
		rc = source_mysql_write_optfile(&optfile, &d, password, "mysql",
						err);
	if (rc != AGENT_OK)
		goto out;
	/* The same credentials as mysqldump, through the same kind of
	 * file, and a question only a connected client can answer. */
	runner_argv_add(&argv, "mysql");
	if (optfile != NULL)
		runner_argv_addf(&argv, "--defaults-extra-file=%s", optfile);
	runner_argv_add(&argv, "--connect-timeout=" CHECK_CONNECT_TIMEOUT);
	runner_argv_add(&argv, "--batch");
	runner_argv_add(&argv, "--skip-column-names");
	runner_argv_add(&argv, "--execute=SELECT VERSION()");
	runner_argv_add(&argv, db); /* resolve() refused a leading '-' */
	rc = runner_argv_check(&argv, err);
	if (rc == AGENT_OK)
		rc = runner_capture_line(&version, argv.v, env.v, "mysql",
					 "(connecting to the database)", err);
	if (rc != AGENT_OK)
		goto out;
	if (asprintf(detail, "server %s, database %s", version, db) < 0) {
		*detail = NULL;
		rc = agent_fail(err, AGENT_ENOMEM, "out of memory");
	}
out:
	if (optfile != NULL) {
		(void)unlink(optfile);
		free(optfile);
	}
	free(version);
	runner_argv_free(&argv);
	runner_argv_free(&env);
	conf_mysql_dsn_dispose(&d);
	return rc;
}
