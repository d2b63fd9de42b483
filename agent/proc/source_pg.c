/*
 * The postgres driver: pg_dump's arguments, its version against the
 * server's, the libpq pre-flight, and the end-of-dump marker.
 */
#include "agent/proc/source_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "agent/ops/log.h"
#include "agent/proc/pq.h"
#include "common/redact.h"
#include "common/wipe.h"

#define MARKER "-- PostgreSQL database dump complete"

/* Seconds the pre-flight waits for a connection, unless PGCONNECT_TIMEOUT
 * or the conninfo says otherwise. */
#define PREFLIGHT_CONNECT_TIMEOUT "30"

/* ---- dump_options ---- */

/* pg_dump's short options that take an argument (its getopt string). */
static const char short_with_arg[] = "deEfFhjnNpStTUZ";

/* pg_dump's long options that take an argument. */
static const char *const long_with_arg[] = {
	"compress",
	"dbname",
	"encoding",
	"exclude-extension",
	"exclude-schema",
	"exclude-table",
	"exclude-table-and-children",
	"exclude-table-data",
	"exclude-table-data-and-children",
	"extension",
	"extra-float-digits",
	"file",
	"filter",
	"format",
	"host",
	"include-foreign-data",
	"jobs",
	"lock-wait-timeout",
	"port",
	"role",
	"rows-per-insert",
	"schema",
	"section",
	"snapshot",
	"superuser",
	"table",
	"table-and-children",
	"username",
};

static bool long_takes_arg(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(long_with_arg) / sizeof(*long_with_arg);
	     i++) {
		if (strlen(long_with_arg[i]) == len &&
		    strncmp(long_with_arg[i], name, len) == 0)
			return true;
	}
	return false;
}

/* As pg_dump's parseArchiveFormat. */
static char parse_format(const char *v)
{
	static const struct {
		const char *name;
		char format;
	} formats[] = {
		{"p", 'p'}, {"plain", 'p'},	{"a", 'p'}, {"append", 'p'},
		{"c", 'c'}, {"custom", 'c'},	{"t", 't'}, {"tar", 't'},
		{"d", 'd'}, {"directory", 'd'},
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(*formats); i++) {
		if (strcasecmp(v, formats[i].name) == 0)
			return formats[i].format;
	}
	return '\0';
}

static void take_option(struct source_pg_opts *o, char opt, const char *v)
{
	switch (opt) {
	case 'F':
		o->format = parse_format(v);
		if (o->format == '\0') {
			o->bad_format = true;
			o->fval = v;
			o->format = 'p';
		}
		break;
	case 'f':
		o->file = true;
		break;
	case 'Z':
		o->compress = true;
		o->compressed = strcmp(v, "0") != 0 &&
				strcasecmp(v, "none") != 0 &&
				strncasecmp(v, "none:", 5) != 0;
		break;
	default:
		break;
	}
}

void source_pg_scan_options(struct source_pg_opts *o, char *const *opts)
{
	memset(o, 0, sizeof(*o));
	o->format = 'p';
	for (size_t i = 0; opts != NULL && opts[i] != NULL; i++) {
		const char *a = opts[i];

		if (strcmp(a, "--") == 0)
			break;
		if (strncmp(a, "--", 2) == 0) {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const char *v = eq ? eq + 1 : NULL;
			char opt = '\0';

			if (v == NULL && long_takes_arg(name, len))
				v = opts[i + 1] != NULL ? opts[++i] : "";
			if (len == 6 && strncmp(name, "format", 6) == 0)
				opt = 'F';
			else if (len == 4 && strncmp(name, "file", 4) == 0)
				opt = 'f';
			else if (len == 8 && strncmp(name, "compress", 8) == 0)
				opt = 'Z';
			if (opt != '\0')
				take_option(o, opt, v ? v : "");
			continue;
		}
		if (a[0] != '-' || a[1] == '\0')
			continue; /* not an option */
		/* A cluster of short options: "-vFc", "-Z", "0". */
		for (const char *p = a + 1; *p != '\0'; p++) {
			const char *v;

			if (strchr(short_with_arg, *p) == NULL)
				continue;
			if (p[1] != '\0')
				v = p + 1;
			else
				v = opts[i + 1] != NULL ? opts[++i] : "";
			take_option(o, *p, v);
			break;
		}
	}
}

/* ---- the end-of-dump marker ---- */

static bool line_is(const char *l, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(l, s, n) == 0;
}

bool source_pg_marker_seen(const char *tail, size_t len)
{
	/* pg_dump ends a plain dump with
	 *   --\n-- PostgreSQL database dump complete\n--\n\n
	 * and, since 17.6/16.10/15.14/14.19/13.22, "\unrestrict KEY\n\n"
	 * after it. Walk back over those trailing lines. */
	if (len == 0 || tail[len - 1] != '\n')
		return false;
	len--;
	for (;;) {
		const char *nl = memrchr(tail, '\n', len);
		const char *l = nl ? nl + 1 : tail;
		size_t n = len - (size_t)(l - tail);

		if (line_is(l, n, MARKER))
			return true;
		if (!(n == 0 || line_is(l, n, "--") ||
		      (n > 12 && memcmp(l, "\\unrestrict ", 12) == 0)))
			return false;
		if (nl == NULL)
			return false;
		len = (size_t)(nl - tail);
	}
}

/* ---- versions ---- */

/* "15.18" -> 1500, "9.6.24" -> 906, "16beta1" -> 1600; -1. */
static int major_of(const char *v)
{
	char *end;
	long a = strtol(v, &end, 10), b = 0;

	if (end == v || a <= 0 || a > 1000)
		return -1;
	if (a < 10 && *end == '.')
		b = strtol(end + 1, NULL, 10);
	return (int)(a * 100 + b);
}

int source_pg_tool_major(const char *version)
{
	const char *p = strstr(version, "(PostgreSQL) ");

	return p ? major_of(p + strlen("(PostgreSQL) ")) : -1;
}

static int server_major(int num)
{
	return num >= 100000 ? num / 10000 * 100 : num / 100;
}

static void major_text(char *buf, size_t size, int major)
{
	if (major >= 1000)
		snprintf(buf, size, "%d", major / 100);
	else
		snprintf(buf, size, "%d.%d", major / 100, major % 100);
}

/* "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)": keep up to the
 * version number. */
static void trim_version(char *v)
{
	char *p = strstr(v, "(PostgreSQL) ");

	if (p != NULL) {
		p += strlen("(PostgreSQL) ");
		p += strcspn(p, " ");
		*p = '\0';
	}
}

/* ---- libpq ---- */

/* What the pre-flight learns about the server. */
struct pg_server {
	int major;	    /* 1500 for 15; -1 unknown */
	char version[64];   /* server_version: "15.8 (Debian 15.8-1)" */
	char database[128]; /* the database connected to */
	char bytes[32];	    /* its size in bytes, or "unknown" */
	char pretty[32];    /* ... as pg_size_pretty says it, or "" */
};

/*
 * Connect as pg_dump will, and learn the server's version and the
 * database's size.
 */
static int preflight(const char *conninfo, struct pg_server *srv,
		     struct agent_error *err)
{
	const char *version;
	char msg[PQ_MESSAGE_MAX];
	PGconn *conn = NULL;
	PGresult *res = NULL;

	memset(srv, 0, sizeof(*srv));
	srv->major = -1;
	snprintf(srv->bytes, sizeof(srv->bytes), "unknown");
	if (pq_connect(&conn, conninfo, PREFLIGHT_CONNECT_TIMEOUT, msg,
		       sizeof(msg)) != 0)
		return agent_fail(err, AGENT_EIO,
				  "cannot connect to the database: %s", msg);
	srv->major = server_major(PQserverVersion(conn));
	version = PQparameterStatus(conn, "server_version");
	snprintf(srv->version, sizeof(srv->version), "%s",
		 version ? version : "");
	snprintf(srv->database, sizeof(srv->database), "%s", PQdb(conn));
	res = PQexec(conn, "SELECT pg_catalog.pg_database_size("
			   "pg_catalog.current_database()), "
			   "pg_catalog.pg_size_pretty(pg_catalog."
			   "pg_database_size(pg_catalog.current_database()))");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    PQnfields(res) == 2) {
		snprintf(srv->bytes, sizeof(srv->bytes), "%s",
			 PQgetvalue(res, 0, 0));
		snprintf(srv->pretty, sizeof(srv->pretty), "%s",
			 PQgetvalue(res, 0, 1));
	} else {
		/* Not fatal: pg_dump may still be allowed to read. */
		pq_message(msg, sizeof(msg), conn, res);
		log_event(LOG_WARN, "cannot read the database size", "error",
			  msg, NULL);
	}
	log_event(LOG_INFO, "database reachable", "server_version",
		  srv->version, "database", srv->database, "size", srv->bytes,
		  NULL);
	PQclear(res);
	PQfinish(conn);
	return AGENT_OK;
}

/* pg_dump refuses a server newer than itself. TOOL_MAJOR -1: unknown,
 * let pg_dump decide. */
static int versions_fit(int tool_major, int srv_major, struct agent_error *err)
{
	char a[16], b[16];

	if (tool_major <= 0 || srv_major <= tool_major)
		return AGENT_OK;
	major_text(a, sizeof(a), tool_major);
	major_text(b, sizeof(b), srv_major);
	return agent_fail(err, AGENT_EIO,
			  "pg_dump %s is older than the server (PostgreSQL "
			  "%s) and cannot dump it: install the PostgreSQL %s "
			  "client (postgresql-client-%s)",
			  a, b, b, b);
}

/* `TOOL --version`, cut after the version number. */
static int tool_version(char **out, const char *tool, char *const *env,
			struct agent_error *err)
{
	struct runner_argv vargv = {0};
	int rc;

	runner_argv_add(&vargv, tool);
	runner_argv_add(&vargv, "--version");
	rc = runner_argv_check(&vargv, err);
	if (rc == AGENT_OK)
		rc = runner_capture_version(out, vargv.v, env, "pg_dump", err);
	if (rc == AGENT_OK)
		trim_version(*out);
	runner_argv_free(&vargv);
	return rc;
}

int source_pg_check_tool(char **version, const struct source_options *o,
			 struct agent_error *err)
{
	struct runner_argv env = {0};
	int rc;

	*version = NULL;
	rc = runner_env_build(&env, err);
	if (rc == AGENT_OK)
		rc = tool_version(version, o->tool ? o->tool : "pg_dump", env.v,
				  err);
	runner_argv_free(&env);
	return rc;
}

int source_pg_check_database(char **detail, const conf *c,
			     const char *tool_version, struct agent_error *err)
{
	struct pg_server srv;
	int rc;

	*detail = NULL;
	rc = preflight(c->database.conninfo, &srv, err);
	if (rc == AGENT_OK)
		rc = versions_fit(
			tool_version ? source_pg_tool_major(tool_version) : -1,
			srv.major, err);
	if (rc != AGENT_OK)
		return rc;
	/* "15.8 (Debian 15.8-1.pgdg120+1)": the number says enough. */
	srv.version[strcspn(srv.version, " ")] = '\0';
	if (asprintf(detail, "PostgreSQL %s, database %s, %s", srv.version,
		     srv.database,
		     srv.pretty[0] ? srv.pretty : "size unknown") < 0) {
		*detail = NULL;
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	}
	return AGENT_OK;
}

/* Relations in the schemas of users: what a restore would collide with. */
#define USER_RELATIONS_SQL                                                     \
	"SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c"                \
	" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"            \
	" WHERE n.nspname <> 'information_schema'"                             \
	" AND n.nspname !~ '^pg_'"

int source_pg_user_relations(const char *conninfo, long long *count,
			     struct agent_error *err)
{
	char msg[PQ_MESSAGE_MAX];
	PGconn *conn = NULL;
	PGresult *res = NULL;
	int rc = AGENT_OK;

	*count = -1;
	if (pq_connect(&conn, conninfo, PREFLIGHT_CONNECT_TIMEOUT, msg,
		       sizeof(msg)) != 0)
		return agent_fail(err, AGENT_EIO,
				  "cannot connect to the target database: %s",
				  msg);
	res = PQexec(conn, USER_RELATIONS_SQL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		pq_message(msg, sizeof(msg), conn, res);
		rc = agent_fail(err, AGENT_EIO,
				"cannot look into the target database: %s",
				msg);
		goto out;
	}
	*count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
out:
	PQclear(res);
	PQfinish(conn);
	return rc;
}

int source_pg_child_conninfo(char **out, char **password, const char *conninfo,
			     const char *tool, struct agent_error *err)
{
	PQconninfoOption *opts;
	char *errmsg = NULL, *buf = NULL, msg[400];
	size_t size = 0;
	FILE *f;
	int rc = AGENT_OK;

	*out = NULL;
	*password = NULL;
	opts = PQconninfoParse(conninfo, &errmsg);
	if (opts == NULL) {
		snprintf(msg, sizeof(msg), "%.*s",
			 errmsg ? (int)strcspn(errmsg, "\n") : 13,
			 errmsg ? errmsg : "out of memory");
		redact(msg, sizeof(msg));
		PQfreemem(errmsg);
		return agent_fail(err, AGENT_EIO, "conninfo: %s", msg);
	}
	f = open_memstream(&buf, &size);
	if (f == NULL) {
		PQconninfoFree(opts);
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "password") == 0) {
			wipe_free_str(*password);
			*password = strdup(o->val);
			if (*password == NULL)
				rc = agent_fail(err, AGENT_ENOMEM,
						"out of memory");
			continue;
		}
		if (o->dispchar != NULL && o->dispchar[0] == '*') {
			rc = agent_fail(err, AGENT_EIO,
					"conninfo: %s cannot be passed to "
					"%s without showing it on its "
					"command line; remove it",
					o->keyword, tool);
			continue;
		}
		fprintf(f, "%s%s='", ftell(f) > 0 ? " " : "", o->keyword);
		for (const char *p = o->val; *p != '\0'; p++) {
			if (*p == '\'' || *p == '\\')
				fputc('\\', f);
			fputc(*p, f);
		}
		fputc('\'', f);
	}
	/* libpq's copies of the secrets go wiped, like ours. */
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (o->val != NULL &&
		    (strcmp(o->keyword, "password") == 0 ||
		     (o->dispchar != NULL && o->dispchar[0] == '*')))
			wipe(o->val, strlen(o->val));
	PQconninfoFree(opts);
	if (fclose(f) != 0 && rc == AGENT_OK)
		rc = agent_fail(err, AGENT_ENOMEM, "out of memory");
	if (rc != AGENT_OK) {
		free(buf);
		wipe_free_str(*password);
		*password = NULL;
		return rc;
	}
	*out = buf;
	return AGENT_OK;
}

int source_pg_prepare(struct source *s, const conf *c,
		      const struct source_options *o, struct agent_error *err)
{
	const char *conninfo = c->database.conninfo;
	struct source_pg_opts po;
	struct pg_server srv;
	char *ci = NULL, *password = NULL;
	int rc, tool_major;

	snprintf(s->tool, sizeof(s->tool), "pg_dump");
	source_pg_scan_options(&po, c->database.dump_options);
	if (po.bad_format)
		return agent_fail(err, AGENT_EIO,
				  "dump_options: unknown pg_dump format "
				  "'%.40s' (plain, custom or tar)",
				  po.fval);
	if (po.file)
		return agent_fail(err, AGENT_EIO,
				  "dump_options: -f/--file would send "
				  "pg_dump's output to a file, not to "
				  "offsite; remove it");
	if (po.format == 'd')
		return agent_fail(err, AGENT_EIO,
				  "dump_options: the directory format writes "
				  "files, not a stream; use -Fc or -Ft");
	for (char *const *t = c->database.tables; t && *t; t++) {
		if (**t == '\0')
			return agent_fail(err, AGENT_EIO,
					  "tables: an empty table name");
	}

	rc = source_pg_child_conninfo(&ci, &password, conninfo ? conninfo : "",
				      "pg_dump", err);
	if (rc != AGENT_OK)
		return rc;
	rc = runner_env_build(&s->env, err);
	if (rc != AGENT_OK)
		goto out;
	if (password != NULL)
		runner_env_set(&s->env, "PGPASSWORD", password);
	rc = runner_argv_check(&s->env, err);
	if (rc != AGENT_OK)
		goto out;

	/* The tool and its version, before the network. */
	rc = tool_version(&s->version, o->tool ? o->tool : "pg_dump", s->env.v,
			  err);
	if (rc != AGENT_OK)
		goto out;
	tool_major = source_pg_tool_major(s->version);
	rc = preflight(conninfo, &srv, err);
	if (rc == AGENT_OK)
		rc = versions_fit(tool_major, srv.major, err);
	if (rc != AGENT_OK)
		goto out;
	if (tool_major < 0)
		log_event(LOG_WARN, "cannot read pg_dump's version", "version",
			  s->version, NULL);

	/* -w: never prompt. The process group is in the background, and a
	 * prompt on /dev/tty would stop it for good. */
	runner_argv_add(&s->argv, o->tool ? o->tool : "pg_dump");
	runner_argv_add(&s->argv, "--no-password");
	if (ci != NULL && ci[0] != '\0') {
		runner_argv_add(&s->argv, "--dbname");
		runner_argv_add(&s->argv, ci);
	}
	runner_argv_addv(&s->argv, c->database.dump_options);
	for (char *const *t = c->database.tables; t && *t; t++)
		runner_argv_addf(&s->argv, "--table=%s", *t);
	/* Custom format: pg_dump would compress, then offsite again. */
	if (po.format == 'c' && !po.compress)
		runner_argv_add(&s->argv, "-Z0");
	if (po.compressed)
		log_event(LOG_WARN,
			  "pg_dump compresses (-Z in dump_options) and "
			  "offsite compresses again; drop -Z, or set "
			  "[compression] level = 0",
			  NULL);
	rc = runner_argv_check(&s->argv, err);
	if (rc != AGENT_OK)
		goto out;
	s->format = po.format == 'c'   ? "custom"
		    : po.format == 't' ? "tar"
				       : "plain";
	/* A compressed plain dump is gzip: no marker to read. */
	s->check_marker = po.format == 'p' && !po.compressed;
out:
	wipe_free_str(password);
	free(ci);
	return rc;
}
