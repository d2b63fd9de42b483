/*
 * Dump sources against the harness's real PostgreSQL and MariaDB: pg_dump
 * of the fixture ends with its marker, a wrong password fails in the
 * pre-flight without showing it, mysqldump reads its credentials from a
 * private option file and never from argv; command and stdin sources;
 * exit statuses, signals, the timeout, cancel, a failing chain; what the
 * tool inherits (process group, descriptors, signals, environment). The
 * parsers behind them (pg_dump options, the end-of-dump marker, the MySQL
 * DSN and option file quoting) are checked directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/ops/log.h"
#include "agent/proc/source_internal.h"
#include "agent/pipe/stages.h"
#include "agent/pipe/stages_internal.h"

static char pg_db[64], my_db[64];

/* ---- helpers ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL)
		fail_msg("%s is not set: run under tests/run", name);
	return v;
}

/* A config: a bucket, then [database] with the lines of FMT. */
static conf *conf_db(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static conf *conf_db(const char *fmt, ...)
{
	char text[4096], body[3072];
	conf_error cerr;
	conf *c = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text),
		 "[storage]\nbucket = backups\n[database]\n%s", body);
	if (conf_parse(&c, "itest.ini", text, &cerr) != CONF_OK)
		fail_msg("conf: %s", cerr.msg);
	return c;
}

/* What one run of a source produced. */
struct run {
	struct agent_error err;
	struct stream *sink;
	int open_rc, pump_rc;
	const char *data;
	size_t len;
	double secs;
};

static void run_cap(struct run *r, const conf *c,
		    const struct source_options *o, size_t cap)
{
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct source *s = NULL;
	double t0 = now_s();

	memset(r, 0, sizeof(*r));
	mo.cap = cap;
	assert_int_equal(stage_memory_new(&r->sink, &r->err, &mo), AGENT_OK);
	r->open_rc = source_open(&s, c, o, &r->err);
	r->pump_rc = -1;
	if (r->open_rc == AGENT_OK)
		r->pump_rc = source_pump(s, r->sink, &r->err);
	source_close(s);
	r->secs = now_s() - t0;
	r->data = stage_memory_data(r->sink, &r->len);
}

static void run(struct run *r, const conf *c, const struct source_options *o)
{
	run_cap(r, c, o, 256u * 1024 * 1024);
}

static void run_done(struct run *r)
{
	stream_free(r->sink);
}

static bool contains(const char *data, size_t len, const char *needle)
{
	return data != NULL &&
	       memmem(data, len, needle, strlen(needle)) != NULL;
}

static void assert_ok(const struct run *r)
{
	if (r->open_rc != AGENT_OK || r->pump_rc != AGENT_OK)
		fail_msg("open %d pump %d: %s", r->open_rc, r->pump_rc,
			 r->err.msg);
}

static void assert_error(const struct run *r, int code, const char *text)
{
	if (r->err.code != code || strstr(r->err.msg, text) == NULL)
		fail_msg("expected %d '%s', got %d '%s'", code, text,
			 r->err.code, r->err.msg);
}

/* A command config: the shell words of CMD. */
static conf *conf_cmd(const char *cmd, const char *extra)
{
	return conf_db("driver = command\nname = cmd\ncommand = %s\n%s", cmd,
		       extra ? extra : "");
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	return d;
}

/* The command line of PID as ps shows it, NULs and all (empty once the
 * process has exited). */
static const char *proc_cmdline(pid_t pid, size_t *len)
{
	static char buf[65536];
	char path[64];
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	*len = n > 0 ? (size_t)n : 0;
	return buf;
}

/* /proc/sys/fs/pipe-max-size */
static long pipe_max(void)
{
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
	long v = 0;

	if (f != NULL) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static bool argv_has(const struct source *s, const char *needle)
{
	for (size_t i = 0; i < s->argv.n; i++) {
		if (strstr(s->argv.v[i], needle) != NULL)
			return true;
	}
	return false;
}

static int group_setup(void **state)
{
	char cmd[512];

	(void)state;
	if (getenv("PGHOST") == NULL || getenv("MYSQL_PORT") == NULL ||
	    getenv("TESTS") == NULL) {
		fprintf(stderr, "run under tests/run: no harness servers\n");
		return -1;
	}
	snprintf(pg_db, sizeof(pg_db), "itest_source_%d", (int)getpid());
	snprintf(my_db, sizeof(my_db), "itest_source_%d", (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "bash -c '. \"$TESTS/harness/pg.sh\" && pg_load_fixture %s'",
		 pg_db);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot load the PostgreSQL fixture\n");
		return -1;
	}
	snprintf(cmd, sizeof(cmd),
		 "bash -c '. \"$TESTS/harness/mysql.sh\" && "
		 "mysql_load_fixture %s'",
		 my_db);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot load the MariaDB fixture\n");
		return -1;
	}
	return 0;
}

/* ---- postgres ---- */

static conf *conf_pg(const char *password, const char *extra)
{
	return conf_db("conninfo = host=%s port=%s user=%s password=%s "
		       "dbname=%s\n%s",
		       env("PGHOST"), env("PGPORT"), env("PGUSER"), password,
		       pg_db, extra ? extra : "");
}

static void test_pg_plain(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	const char *password = env("PGPASSWORD");
	char *saved = xstrdup(password);
	const char *cmdline;
	struct agent_error err = {0};
	struct stream *sink = NULL;
	struct source *s = NULL;
	const char *data;
	size_t len, clen;
	conf *c;

	(void)state;
	/* The password is in the conninfo only: it must reach pg_dump
	 * through its environment. */
	c = conf_pg(saved, NULL);
	unsetenv("PGPASSWORD");
	assert_int_equal(stage_memory_new(&sink, &err, &mo), AGENT_OK);
	if (source_open(&s, c, &o, &err) != AGENT_OK)
		fail_msg("open: %s", err.msg);
	assert_false(argv_has(s, saved));
	cmdline = proc_cmdline(s->pid, &clen);
	assert_null(memmem(cmdline, clen, saved, strlen(saved)));
	assert_string_equal(source_driver_name(s), "postgres");
	assert_string_equal(source_format(s), "plain");
	/* The pipe from pg_dump is enlarged where the system allows it. */
	if (pipe_max() >= 1024 * 1024)
		assert_true(fcntl(s->out_fd, F_GETPIPE_SZ) >= 1024 * 1024);
	/* "pg_dump (PostgreSQL) 15.18", without Debian's suffix. */
	assert_true(strncmp(source_tool_version(s), "pg_dump (PostgreSQL) 1",
			    22) == 0);
	assert_null(strchr(source_tool_version(s) + 20, '('));
	if (source_pump(s, sink, &err) != AGENT_OK)
		fail_msg("pump: %s", err.msg);
	source_close(s);
	setenv("PGPASSWORD", saved, 1);

	data = stage_memory_data(sink, &len);
	assert_true(len > 100000);
	assert_true(contains(data, len, "CREATE TABLE public.customers"));
	assert_true(contains(data, len, "Zürich"));
	assert_true(
		contains(data, len, "-- PostgreSQL database dump complete"));
	assert_true(source_pg_marker_seen(data + len - 200, 200));
	stream_free(sink);
	free(saved);
	conf_free(c);
}

static void test_pg_custom_not_compressed_twice(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct agent_error err = {0};
	struct stream *sink = NULL;
	struct source *s = NULL;
	char *saved = xstrdup(env("PGPASSWORD"));
	const char *data;
	size_t len;
	/* A URI this time, the password in it. */
	conf *c = conf_db("conninfo = postgresql://%s:%s@%s:%s/%s\n"
			  "dump_options = -Fc\ntables = customers\n",
			  env("PGUSER"), saved, env("PGHOST"), env("PGPORT"),
			  pg_db);

	(void)state;
	unsetenv("PGPASSWORD");
	assert_int_equal(stage_memory_new(&sink, &err, &mo), AGENT_OK);
	if (source_open(&s, c, &o, &err) != AGENT_OK)
		fail_msg("open: %s", err.msg);
	assert_false(argv_has(s, saved));
	assert_string_equal(source_format(s), "custom");
	assert_true(argv_has(s, "-Z0"));
	assert_true(argv_has(s, "--table=customers"));
	if (source_pump(s, sink, &err) != AGENT_OK)
		fail_msg("pump: %s", err.msg);
	source_close(s);
	setenv("PGPASSWORD", saved, 1);
	data = stage_memory_data(sink, &len);
	assert_true(len > 5 && memcmp(data, "PGDMP", 5) == 0);
	/* -Z0: the rows are there as they are, for offsite to compress. */
	assert_true(contains(data, len, "Zürich"));
	stream_free(sink);
	free(saved);
	conf_free(c);
}

static void test_pg_wrong_password_fails_fast(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	const char *wrong = "Wr0ngSecretXyz";
	struct run r;
	conf *c = conf_pg(wrong, NULL);
	char *saved = xstrdup(env("PGPASSWORD"));

	(void)state;
	unsetenv("PGPASSWORD");
	run(&r, c, &o);
	setenv("PGPASSWORD", saved, 1);
	assert_int_not_equal(r.open_rc, AGENT_OK);
	assert_error(&r, AGENT_EIO, "cannot connect to the database: ");
	assert_non_null(strstr(r.err.msg, "password authentication failed"));
	assert_null(strstr(r.err.msg, wrong));
	assert_null(strchr(r.err.msg, '\n'));
	assert_true(r.secs < 10);
	run_done(&r);
	conf_free(c);
	free(saved);
}

static void test_pg_unreachable(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct run r;
	conf *c = conf_db("conninfo = postgresql://u:Secr3tPw@127.0.0.1:1/x\n");

	(void)state;
	run(&r, c, &o);
	assert_error(&r, AGENT_EIO, "cannot connect to the database: ");
	assert_null(strstr(r.err.msg, "Secr3tPw"));
	run_done(&r);
	conf_free(c);
}

/* A fake pg_dump: prints VERSION for --version, else BODY. */
static void fake_pg_dump(const char *path, const char *version,
			 const char *body)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "#!/bin/sh\n"
		 "if [ \"$1\" = --version ]; then echo '%s'; exit 0; fi\n"
		 "%s\n",
		 version, body);
	write_file(path, text, 0755);
}

static void test_pg_tool_older_than_server(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct run r;
	conf *c = conf_pg(env("PGPASSWORD"), NULL);

	(void)state;
	fake_pg_dump("./old_pg_dump", "pg_dump (PostgreSQL) 9.6.24", "exit 0");
	o.tool = "./old_pg_dump";
	run(&r, c, &o);
	assert_error(&r, AGENT_EIO,
		     "pg_dump 9.6 is older than the server (PostgreSQL 15)");
	run_done(&r);
	conf_free(c);
}

static void test_pg_missing_marker(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct run r;
	conf *c = conf_pg(env("PGPASSWORD"), NULL);

	(void)state;
	o.tool = "./cut_pg_dump";
	fake_pg_dump(o.tool, "pg_dump (PostgreSQL) 15.18",
		     "printf 'SET x = 0;\\n-- PostgreSQL database dump\\n"
		     "COPY public.t (a) FROM stdin;\\n1\\n'");
	run(&r, c, &o);
	assert_int_equal(r.open_rc, AGENT_OK);
	assert_error(&r, AGENT_EIO,
		     "pg_dump output ended without the end-of-dump marker");
	assert_true(contains(r.data, r.len, "COPY public.t"));
	run_done(&r);

	/* Zero bytes and status 0: no marker either. */
	fake_pg_dump(o.tool, "pg_dump (PostgreSQL) 15.18", "exit 0");
	run(&r, c, &o);
	assert_error(&r, AGENT_EIO,
		     "pg_dump output ended without the end-of-dump marker");
	run_done(&r);
	conf_free(c);
}

static void test_pg_bad_dump_options(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct run r;
	conf *c = conf_pg(env("PGPASSWORD"), "dump_options = -f out.sql\n");

	(void)state;
	run(&r, c, &o);
	assert_error(&r, AGENT_EIO, "-f/--file");
	run_done(&r);
	conf_free(c);
	c = conf_pg(env("PGPASSWORD"), "dump_options = --format=directory\n");
	run(&r, c, &o);
	assert_error(&r, AGENT_EIO, "directory format");
	run_done(&r);
	conf_free(c);
}

static void test_pg_scan_options(void **state)
{
	struct source_pg_opts p;

	(void)state;
	/* Writable words, like the config's. */
#define W(s) ((char[]){s})
#define SCAN(...)                                                              \
	do {                                                                   \
		char *v[] = {__VA_ARGS__, NULL};                               \
		source_pg_scan_options(&p, v);                                 \
	} while (0)
	source_pg_scan_options(&p, NULL);
	assert_int_equal(p.format, 'p');
	SCAN(W("-Fc"));
	assert_int_equal(p.format, 'c');
	assert_false(p.compress);
	SCAN(W("--format=custom"));
	assert_int_equal(p.format, 'c');
	SCAN(W("--format"), W("t"));
	assert_int_equal(p.format, 't');
	SCAN(W("-vFc"));
	assert_int_equal(p.format, 'c');
	SCAN(W("-F"), W("Directory"));
	assert_int_equal(p.format, 'd');
	SCAN(W("-Z"), W("5"), W("-Fc"));
	assert_int_equal(p.format, 'c');
	assert_true(p.compress && p.compressed);
	SCAN(W("--compress=0"));
	assert_true(p.compress && !p.compressed);
	SCAN(W("-Znone"));
	assert_true(p.compress && !p.compressed);
	SCAN(W("-f"), W("x"));
	assert_true(p.file);
	SCAN(W("--file=x"));
	assert_true(p.file);
	/* Arguments of other options are not options. */
	SCAN(W("-t"), W("-Fc"));
	assert_int_equal(p.format, 'p');
	SCAN(W("--table"), W("-Fc"));
	assert_int_equal(p.format, 'p');
	SCAN(W("-Fx"));
	assert_true(p.bad_format);
#undef SCAN
#undef W
}

static void test_pg_marker(void **state)
{
	static const char real[] =
		"ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey;\n\n\n"
		"--\n-- PostgreSQL database dump complete\n--\n\n"
		"\\unrestrict Hd9QrX0DwNIF658SY3Vy19o4GMpWcemiRgLNgbKXEehLDHDG\n"
		"\n";
	static const char old[] =
		"SELECT 1;\n--\n-- PostgreSQL database dump complete\n--\n\n";
	static const char cut[] =
		"SELECT 1;\n--\n-- PostgreSQL database dump compl";
	static const char after[] = "--\n-- PostgreSQL database dump "
				    "complete\n--\n\nSELECT 1;\n";
	static const char no_nl[] =
		"--\n-- PostgreSQL database dump complete\n--";

	(void)state;
	assert_true(source_pg_marker_seen(real, strlen(real)));
	assert_true(source_pg_marker_seen(old, strlen(old)));
	assert_false(source_pg_marker_seen(cut, strlen(cut)));
	assert_false(source_pg_marker_seen(after, strlen(after)));
	assert_false(source_pg_marker_seen(no_nl, strlen(no_nl)));
	assert_false(source_pg_marker_seen("", 0));
	assert_false(source_pg_marker_seen("\n\n", 2));
	assert_int_equal(source_pg_tool_major("pg_dump (PostgreSQL) 15.18 "
					      "(Debian 15.18-0+deb12u1)"),
			 1500);
	assert_int_equal(source_pg_tool_major("pg_dump (PostgreSQL) 9.6.24"),
			 906);
	assert_int_equal(source_pg_tool_major("pg_dump (PostgreSQL) 17beta2"),
			 1700);
	assert_int_equal(source_pg_tool_major("mysqldump Ver 10"), -1);
}

/* ---- mysql ---- */

/* A private password file holding PASSWORD; returns its path. */
static const char *password_file(const char *password)
{
	static char path[4096];
	char cwd[4000];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(path, sizeof(path), "%s/mysql-password", cwd);
	write_file(path, password, 0600);
	return path;
}

static void test_mysql_dump(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	const char *password = env("MYSQL_PASSWORD");
	struct agent_error err = {0};
	struct stream *sink = NULL;
	struct source *s = NULL;
	const char *cmdline;
	char *optfile, opt[1024];
	const char *data;
	size_t len, clen;
	struct stat st;
	FILE *f;
	conf *c = conf_db("driver = mysql\ndsn = mysql://%s@%s:%s/%s\n"
			  "password_file = %s\n",
			  env("MYSQL_USER"), env("MYSQL_HOST"),
			  env("MYSQL_PORT"), my_db, password_file(password));

	(void)state;
	assert_int_equal(stage_memory_new(&sink, &err, &mo), AGENT_OK);
	if (source_open(&s, c, &o, &err) != AGENT_OK)
		fail_msg("open: %s", err.msg);
	/* Read while mysqldump runs (or has just finished). */
	cmdline = proc_cmdline(s->pid, &clen);
	assert_null(memmem(cmdline, clen, password, strlen(password)));
	assert_false(argv_has(s, password));
	assert_true(s->argv.n >= 3);
	assert_string_equal(s->argv.v[0], "mysqldump");
	assert_true(strncmp(s->argv.v[1], "--defaults-extra-file=", 22) == 0);
	assert_string_equal(s->argv.v[2], "--single-transaction");
	optfile = xstrdup(s->argv.v[1] + 22);
	assert_int_equal(stat(optfile, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(optfile, "r");
	assert_non_null(f);
	len = fread(opt, 1, sizeof(opt) - 1, f);
	opt[len] = '\0';
	fclose(f);
	assert_non_null(strstr(opt, "[client]\n"));
	assert_non_null(strstr(opt, password));
	assert_string_equal(source_driver_name(s), "mysql");
	assert_string_equal(source_format(s), "sql");
	assert_true(strncmp(source_tool_version(s), "mysqldump Ver ", 14) == 0);

	if (source_pump(s, sink, &err) != AGENT_OK)
		fail_msg("pump: %s", err.msg);
	source_close(s);
	/* The option file is gone with the source. */
	assert_int_equal(stat(optfile, &st), -1);
	free(optfile);

	data = stage_memory_data(sink, &len);
	assert_true(contains(data, len, "CREATE TABLE `customers`"));
	assert_true(contains(data, len, "CREATE TABLE `Odd Name ü`"));
	assert_true(contains(data, len, "東京"));
	assert_true(contains(data, len, "-- Dump completed on"));
	stream_free(sink);
	conf_free(c);
}

static void test_mysql_wrong_password(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct run r;
	conf *c =
		conf_db("driver = mysql\ndsn = mysql://%s@%s:%s/%s\n"
			"password_file = %s\n",
			env("MYSQL_USER"), env("MYSQL_HOST"), env("MYSQL_PORT"),
			my_db, password_file("NotThePassw0rd"));

	(void)state;
	run(&r, c, &o);
	assert_int_equal(r.open_rc, AGENT_OK);
	assert_error(&r, AGENT_EIO, "mysqldump exited with status 2");
	assert_non_null(strstr(r.err.msg, "Access denied"));
	assert_null(strstr(r.err.msg, "NotThePassw0rd"));
	run_done(&r);
	conf_free(c);
}

/* A user whose password needs every escape of the option file. */
static void test_mysql_odd_password(void **state)
{
	static const char odd[] = "p\"a'ss#w\\rd x;";
	struct source_options o = SOURCE_OPTIONS_INIT;
	char cmd[1024];
	struct run r;
	conf *c;

	(void)state;
	write_file("odd-user.sql",
		   "CREATE OR REPLACE USER 'odd'@'127.0.0.1' IDENTIFIED BY "
		   "'p\"a\\'ss#w\\\\rd x;';\n"
		   "GRANT ALL PRIVILEGES ON *.* TO 'odd'@'127.0.0.1';\n",
		   0600);
	snprintf(cmd, sizeof(cmd),
		 "MYSQL_PWD=\"$MYSQL_PASSWORD\" mariadb --no-defaults "
		 "--protocol=tcp -h \"$MYSQL_HOST\" -P \"$MYSQL_PORT\" "
		 "-u \"$MYSQL_USER\" <odd-user.sql");
	assert_int_equal(system(cmd), 0);
	c = conf_db("driver = mysql\ndsn = mysql://odd@%s:%s/%s\n"
		    "password_file = %s\ntables = customers\n",
		    env("MYSQL_HOST"), env("MYSQL_PORT"), my_db,
		    password_file(odd));
	run(&r, c, &o);
	assert_ok(&r);
	assert_true(contains(r.data, r.len, "INSERT INTO `customers`"));
	assert_false(contains(r.data, r.len, "`orders`"));
	run_done(&r);
	conf_free(c);
}

static void test_mysql_dsn(void **state)
{
	struct conf_mysql_dsn d;
	struct agent_error err = {0};
	char *q;

	(void)state;
	assert_int_equal(
		source_mysql_parse_dsn(
			&d, "mysql://root:p%40ss@127.0.0.1:3307/db", &err),
		AGENT_OK);
	assert_string_equal(d.user, "root");
	assert_string_equal(d.password, "p@ss");
	assert_string_equal(d.host, "127.0.0.1");
	assert_int_equal(d.port, 3307);
	assert_string_equal(d.db, "db");
	assert_null(d.socket);
	conf_mysql_dsn_dispose(&d);

	assert_int_equal(
		source_mysql_parse_dsn(&d, "mysql://u@[::1]:3306/x", &err),
		AGENT_OK);
	assert_string_equal(d.host, "::1");
	assert_null(d.password);
	conf_mysql_dsn_dispose(&d);

	assert_int_equal(
		source_mysql_parse_dsn(
			&d, "mysql://u@localhost/db?socket=%2Frun%2Fm.sock",
			&err),
		AGENT_OK);
	assert_string_equal(d.socket, "/run/m.sock");
	assert_int_equal(d.port, 0);
	conf_mysql_dsn_dispose(&d);

	assert_int_equal(source_mysql_parse_dsn(&d, "mysql://h", &err),
			 AGENT_OK);
	assert_string_equal(d.host, "h");
	assert_null(d.user);
	assert_null(d.db);
	conf_mysql_dsn_dispose(&d);

	assert_int_equal(
		source_mysql_parse_dsn(&d, "mysql://u@h:99999/db", &err),
		AGENT_EIO);
	assert_non_null(strstr(err.msg, "bad port"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(
		source_mysql_parse_dsn(&d, "mysql://u@h/db?ssl=1", &err),
		AGENT_EIO);
	assert_non_null(strstr(err.msg, "unknown parameter"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(
		source_mysql_parse_dsn(&d, "mysql://u:a%zz@h/db", &err),
		AGENT_EIO);
	memset(&err, 0, sizeof(err));
	assert_int_equal(source_mysql_parse_dsn(&d, "mysql://u@h/d%00", &err),
			 AGENT_EIO);

	q = source_mysql_quote("a\"b\\c#d e\n");
	assert_string_equal(q, "\"a\\\"b\\\\c#d e\\n\"");
	free(q);
}

/* ---- command ---- */

static void test_command_exit_status(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct run r;
	conf *c = conf_cmd("sh -c 'echo data; echo oops >&2; exit 1'", NULL);

	(void)state;
	run(&r, c, &o);
	assert_int_equal(r.open_rc, AGENT_OK);
	assert_error(&r, AGENT_EIO, "sh exited with status 1");
	assert_non_null(strstr(r.err.msg, "oops"));
	assert_int_equal(r.len, 5);
	assert_memory_equal(r.data, "data\n", 5);
	run_done(&r);
	conf_free(c);
}

static void test_command_killed_by_signal(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct run r;
	conf *c = conf_cmd("sh -c 'echo partial; kill -9 $$'", NULL);

	(void)state;
	run(&r, c, &o);
	assert_error(&r, AGENT_EIO, "sh was killed by signal 9 (KILL)");
	run_done(&r);
	conf_free(c);
}

static void test_command_empty_output(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct run r;
	conf *c = conf_cmd("true", NULL);

	(void)state;
	run(&r, c, &o);
	assert_ok(&r);
	assert_int_equal(r.len, 0);
	assert_string_equal(r.err.msg, "");
	run_done(&r);
	conf_free(c);
}

static void test_command_not_found(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct run r;
	conf *c = conf_cmd("/nonexistent/dump-tool --all", NULL);

	(void)state;
	run(&r, c, &o);
	assert_error(&r, AGENT_EIO,
		     "cannot run dump-tool: No such file or directory");
	run_done(&r);
	conf_free(c);
}

/* Many chunks through the queue, in order, none lost. */
static void test_command_large_output(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct run r;
	conf *c = conf_cmd("seq 1 2000000", NULL);
	const char *p, *end;
	long want = 1;

	(void)state;
	run(&r, c, &o);
	assert_ok(&r);
	assert_int_equal(r.len, 14888896);
	for (p = r.data, end = r.data + r.len; p < end; want++) {
		char *nl;
		long got = strtol(p, &nl, 10);

		if (got != want || *nl != '\n')
			fail_msg("line %ld reads %ld", want, got);
		p = nl + 1;
	}
	assert_int_equal(want, 2000001);
	run_done(&r);
	conf_free(c);
}

static void test_timeout(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct run r;
	conf *c = conf_cmd("sleep 30", "timeout = 1s\n");

	(void)state;
	run(&r, c, &o);
	assert_error(&r, AGENT_ELIMIT, "sleep timed out after 1s");
	assert_true(r.secs >= 0.9 && r.secs < 5);
	run_done(&r);
	conf_free(c);

	/* A tool that ignores SIGTERM gets SIGKILL after the grace, and so
	 * does what it started: the whole process group. */
	c = conf_cmd("sh -c 'trap \"\" TERM; sleep 30; echo late'",
		     "timeout = 1s\n");
	o.kill_grace_ms = 300;
	run(&r, c, &o);
	assert_error(&r, AGENT_ELIMIT, "sh timed out after 1s");
	assert_true(r.secs < 5);
	assert_int_equal(r.len, 0);
	run_done(&r);
	conf_free(c);
}

static void *cancel_later(void *arg)
{
	struct timespec ts = {0, 300 * 1000 * 1000};

	nanosleep(&ts, NULL);
	source_cancel(arg);
	source_cancel(arg); /* twice is fine */
	return NULL;
}

static void test_cancel(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct agent_error err = {0};
	struct stream *sink = NULL;
	struct source *s = NULL;
	pthread_t t;
	double t0 = now_s();
	conf *c = conf_cmd("sh -c 'echo started; sleep 30'", NULL);

	(void)state;
	assert_int_equal(stage_memory_new(&sink, &err, &mo), AGENT_OK);
	assert_int_equal(source_open(&s, c, &o, &err), AGENT_OK);
	assert_int_equal(pthread_create(&t, NULL, cancel_later, s), 0);
	assert_int_equal(source_pump(s, sink, &err), AGENT_ECANCEL);
	pthread_join(t, NULL);
	assert_string_equal(err.msg, "sh was cancelled");
	assert_true(now_s() - t0 < 5);
	source_close(s);
	stream_free(sink);
	conf_free(c);

	/* Before the pump: the pump returns at once. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(stage_memory_new(&sink, &err, &mo), AGENT_OK);
	c = conf_cmd("sleep 30", NULL);
	assert_int_equal(source_open(&s, c, &o, &err), AGENT_OK);
	source_cancel(s);
	assert_int_equal(source_pump(s, sink, &err), AGENT_ECANCEL);
	source_close(s);
	stream_free(sink);
	conf_free(c);
}

/* The chain fails: its error comes back, and the tool is stopped. */
static void test_chain_failure_stops_tool(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct run r;
	conf *c = conf_cmd("yes offsite", NULL);

	(void)state;
	run_cap(&r, c, &o, 3u * 1024 * 1024);
	assert_int_equal(r.open_rc, AGENT_OK);
	assert_int_equal(r.pump_rc, AGENT_ELIMIT);
	assert_int_equal(r.err.code, AGENT_ELIMIT);
	assert_null(strstr(r.err.msg, "yes"));
	assert_true(r.secs < 5);
	run_done(&r);
	conf_free(c);
}

/* What a tool gets: its own process group, descriptors 0-2 only,
 * default signals, an empty mask, no S3 secret. */
static void test_child_environment(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	sigset_t block, old;
	struct run r;
	char want[256];
	const char *ign;
	conf *c;
	long pid, pgrp;

	(void)state;
	c = conf_cmd("sh -c 'read pid comm state ppid pgrp rest </proc/self/"
		     "stat; echo $pid $pgrp; ls /proc/self/fd'",
		     NULL);
	run(&r, c, &o);
	assert_ok(&r);
	assert_int_equal(sscanf(r.data, "%ld %ld", &pid, &pgrp), 2);
	assert_int_equal(pgrp, pid);
	assert_int_not_equal(pgrp, (long)getpgrp());
	/* ls: 0 1 2, and the directory it reads. */
	snprintf(want, sizeof(want), "\n0\n1\n2\n3\n");
	assert_true(contains(r.data, r.len, want));
	assert_false(contains(r.data, r.len, "\n4\n"));
	run_done(&r);
	conf_free(c);

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	setenv("AWS_SECRET_ACCESS_KEY", "itest-secret-key", 1);
	c = conf_cmd("sh -c 'grep -E \"^Sig(Blk|Ign)\" /proc/self/status; "
		     "echo key=${AWS_SECRET_ACCESS_KEY-unset}'",
		     NULL);
	run(&r, c, &o);
	unsetenv("AWS_SECRET_ACCESS_KEY");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, SIG_DFL);
	assert_ok(&r);
	assert_true(contains(r.data, r.len, "SigBlk:\t0000000000000000\n"));
	ign = memmem(r.data, r.len, "SigIgn:\t", 8);
	assert_non_null(ign);
	/* glibc's posix_spawn leaves its own two signals (32, 33) ignored;
	 * glibc in the new image installs its handlers over that. */
	if ((strtoull(ign + 8, NULL, 16) & ~0x180000000ULL) != 0)
		fail_msg("the tool ignores signals: %.*s", (int)r.len, r.data);
	assert_true(contains(r.data, r.len, "key=unset\n"));
	run_done(&r);
	conf_free(c);
}

static void test_stderr_logged(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	FILE *logf = tmpfile();
	char text[8192];
	size_t n;
	struct run r;
	conf *c = conf_cmd("sh -c 'echo one >&2; printf \"two\\r\\n\" >&2; "
			   "printf password=hunter2 >&2; echo out'",
			   NULL);

	(void)state;
	assert_non_null(logf);
	log_setup(LOG_INFO, LOG_FORMAT_TEXT, logf);
	run(&r, c, &o);
	log_setup(LOG_INFO, LOG_FORMAT_TEXT, NULL);
	assert_ok(&r);
	rewind(logf);
	n = fread(text, 1, sizeof(text) - 1, logf);
	text[n] = '\0';
	fclose(logf);
	assert_non_null(strstr(text, "level=warn msg=\"sh stderr: one\"\n"));
	assert_non_null(strstr(text, "level=warn msg=\"sh stderr: two\"\n"));
	assert_null(strstr(text, "hunter2"));
	assert_non_null(strstr(text, "msg=\"dump finished\" tool=sh bytes=4"));
	run_done(&r);
	conf_free(c);
}

/* ---- stdin ---- */

struct feeder {
	int fd;
	size_t len;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	char buf[65536];
	size_t sent = 0;

	while (sent < f->len) {
		size_t n = f->len - sent < sizeof(buf) ? f->len - sent
						       : sizeof(buf);
		ssize_t w;

		for (size_t i = 0; i < n; i++)
			buf[i] = (char)((sent + i) * 7 % 251);
		w = write(f->fd, buf, n);
		if (w <= 0)
			break;
		sent += (size_t)w;
	}
	close(f->fd);
	return NULL;
}

static void test_stdin_pipe(void **state)
{
	struct source_options o = SOURCE_OPTIONS_INIT;
	struct feeder f;
	pthread_t t;
	int p[2];
	struct run r;
	conf *c = conf_pg("unused", NULL);

	(void)state;
	assert_int_equal(pipe(p), 0);
	f.fd = p[1];
	f.len = 3 * 1024 * 1024 + 17;
	/* A run that stops reading early leaves the feeder writing: closing
	 * the read end before the join makes its write fail (EPIPE, the
	 * signal ignored) instead of waiting for a reader for good. */
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pthread_create(&t, NULL, feed, &f), 0);
	o.use_stdin = true;
	o.stdin_fd = p[0];
	run(&r, c, &o);
	close(p[0]);
	pthread_join(t, NULL);
	signal(SIGPIPE, SIG_DFL);
	assert_ok(&r);
	assert_int_equal(r.len, f.len);
	for (size_t i = 0; i < r.len; i++) {
		if (r.data[i] != (char)(i * 7 % 251))
			fail_msg("byte %zu differs", i);
	}
	run_done(&r);

	/* Nothing piped in: allowed, with a warning. */
	assert_int_equal(pipe(p), 0);
	close(p[1]);
	o.stdin_fd = p[0];
	run(&r, c, &o);
	close(p[0]);
	assert_ok(&r);
	assert_int_equal(r.len, 0);
	run_done(&r);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_scan_options),
		cmocka_unit_test(test_pg_marker),
		cmocka_unit_test(test_mysql_dsn),
		cmocka_unit_test(test_pg_plain),
		cmocka_unit_test(test_pg_custom_not_compressed_twice),
		cmocka_unit_test(test_pg_wrong_password_fails_fast),
		cmocka_unit_test(test_pg_unreachable),
		cmocka_unit_test(test_pg_tool_older_than_server),
		cmocka_unit_test(test_pg_missing_marker),
		cmocka_unit_test(test_pg_bad_dump_options),
		cmocka_unit_test(test_mysql_dump),
		cmocka_unit_test(test_mysql_wrong_password),
		cmocka_unit_test(test_mysql_odd_password),
		cmocka_unit_test(test_command_exit_status),
		cmocka_unit_test(test_command_killed_by_signal),
		cmocka_unit_test(test_command_empty_output),
		cmocka_unit_test(test_command_not_found),
		cmocka_unit_test(test_command_large_output),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_chain_failure_stops_tool),
		cmocka_unit_test(test_child_environment),
		cmocka_unit_test(test_stderr_logged),
		cmocka_unit_test(test_stdin_pipe),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
