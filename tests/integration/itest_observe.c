/*
 * Metrics, webhook and progress of real backups: the offsite binary
 * backs up the harness's PostgreSQL to its radosgw, and the webhook goes
 * to the scripted server in this process. A successful run, then a
 * failed one of the same database (the metrics keep the success), a
 * webhook on a port nobody listens on (the backup still succeeds), and a
 * prune run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "s3/s3.h"
#include "s3/s3_internal.h"
#include "tests/support/fake_server.h"

static char bucket[64];
static char dir[64];

static s3_client *rgw_client(void)
{
	s3_options o = S3_OPTIONS_INIT;
	s3_client *c = NULL;
	s3_error err;

	o.endpoint = getenv("RGW_ENDPOINT");
	o.region = getenv("RGW_REGION");
	o.bucket = bucket;
	o.access_key = getenv("RGW_ACCESS_KEY");
	o.secret_key = getenv("RGW_SECRET_KEY");
	if (s3_client_new(&c, &o, &err) != S3_OK)
		return NULL;
	return c;
}

static int group_setup(void **state)
{
	char path[128];
	s3_client *c;
	s3_error err;
	FILE *f;
	int rc;

	(void)state;
	if (!getenv("RGW_ENDPOINT") || !getenv("OFFSITE") || !getenv("PGHOST"))
		return -1;
	snprintf(bucket, sizeof(bucket), "itest-observe-%ld-%d",
		 (long)time(NULL), (int)getpid());
	snprintf(dir, sizeof(dir), "/tmp/itest_observe.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	c = rgw_client();
	if (!c)
		return -1;
	rc = s3_create_bucket(c, &err) == S3_OK ? 0 : -1;
	s3_client_free(c);
	snprintf(path, sizeof(path), "%s/secret", dir);
	umask(077);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", getenv("RGW_SECRET_KEY"));
	fclose(f);
	setenv("RUNTIME_DIRECTORY", dir, 1);
	return rc;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The scripted webhook receiver: 200 to everything. */
static void receiver(void *ctx, const struct fake_request *req,
		     struct fake_conn *conn)
{
	(void)ctx;
	(void)req;
	fake_reply(conn, 200, NULL, "ok", 2);
}

/* A config for database DBNAME (named "obsdb" in keys), webhook URL. */
static void write_config(const char *name, const char *dbname, const char *url)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"[storage]\nendpoint = %s\nregion = %s\nbucket = %s\n"
		"access_key = %s\nsecret_key_file = secret\n"
		"[database]\nname = obsdb\n"
		"conninfo = host=%s port=%s dbname=%s user=%s\n"
		"[notify]\nwebhook = %s\non_success = true\n"
		"[metrics]\ntextfile = %s/offsite.prom\n",
		getenv("RGW_ENDPOINT"), getenv("RGW_REGION"), bucket,
		getenv("RGW_ACCESS_KEY"), getenv("PGHOST"), getenv("PGPORT"),
		dbname, getenv("PGUSER"), url, dir);
	fclose(f);
}

/* Wait for child PID, at most SECONDS (then it is killed and the test
 * fails): a hung offsite fails this test instead of hanging the suite. */
static void wait_bounded(pid_t pid, int *status, int seconds)
{
	struct timespec tick = {0, 20 * 1000 * 1000}, t0, t;
	pid_t got;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((got = waitpid(pid, status, WNOHANG)) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= seconds) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			fail_msg("offsite did not finish within %d s", seconds);
		}
		nanosleep(&tick, NULL);
	}
	assert_int_equal(got, pid);
}

/* Run offsite -c DIR/CONFIG ARGS...; standard error into *ERR (malloc'ed).
 * Returns the exit status. */
static int run_offsite(char **err, const char *config, const char *a1,
		       const char *a2, const char *a3)
{
	char cfg[128], errpath[128];
	int status = 0, fd;
	pid_t pid;
	FILE *f;
	long n;

	snprintf(cfg, sizeof(cfg), "%s/%s", dir, config);
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(127);
		execl(getenv("OFFSITE"), "offsite", "-c", cfg, a1, a2, a3,
		      (char *)NULL);
		_exit(127);
	}
	wait_bounded(pid, &status, 300);
	assert_true(WIFEXITED(status));
	f = fopen(errpath, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*err = calloc(1, (size_t)n + 1);
	assert_non_null(*err);
	assert_int_equal(fread(*err, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return WEXITSTATUS(status);
}

static char *read_metrics(void)
{
	char path[128], *buf;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/offsite.prom", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	buf = calloc(1, 65536);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The value of METRIC for type daily, database obsdb in TEXT. */
static long long metric(const char *text, const char *name)
{
	char pat[160];
	const char *p;

	snprintf(pat, sizeof(pat), "\n%s{type=\"daily\",database=\"obsdb\"} ",
		 name);
	p = strstr(text, pat);
	if (!p)
		fail_msg("no %s in:\n%s", name, text);
	return atoll(p + strlen(pat));
}

static void assert_no_secret(const char *text)
{
	assert_null(strstr(text, getenv("RGW_SECRET_KEY")));
	if (getenv("PGPASSWORD") && getenv("PGPASSWORD")[0])
		assert_null(strstr(text, getenv("PGPASSWORD")));
}

/* The one webhook document the server got, as JSON. */
static json_t *webhook_doc(struct fake_server *srv, unsigned i)
{
	const struct fake_request *req = fake_server_request(srv, i);
	json_t *doc;

	assert_non_null(req);
	assert_string_equal(req->method, "POST");
	assert_string_equal(req->target, "/hook");
	assert_no_secret(req->body);
	doc = json_loads(req->body, 0, NULL);
	assert_non_null(doc);
	return doc;
}

static void test_success_then_failure(void **state)
{
	struct fake_server *srv = NULL;
	char url[64], *err = NULL, *m;
	long long success_at;
	json_t *doc;
	int port = 0;

	(void)state;
	assert_int_equal(fake_server_start(&srv, &port, receiver, NULL), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);

	/* A good backup, the progress line forced into a file. */
	write_config("good.ini", "postgres", url);
	assert_int_equal(run_offsite(&err, "good.ini", "backup", "--type=daily",
				     "--progress"),
			 0);
	assert_non_null(strstr(err, "msg=\"backup complete\""));
	assert_non_null(strchr(err, '\r'));
	assert_non_null(strstr(err, "\rread "));
	assert_no_secret(err);
	free(err);
	assert_int_equal(fake_server_count(srv), 1);
	doc = webhook_doc(srv, 0);
	assert_string_equal(json_string_value(json_object_get(doc, "event")),
			    "backup.succeeded");
	assert_string_equal(json_string_value(json_object_get(doc, "type")),
			    "daily");
	assert_string_equal(json_string_value(json_object_get(doc, "database")),
			    "obsdb");
	assert_true(strncmp(json_string_value(json_object_get(doc, "key")),
			    "daily/obsdb/obsdb-daily-", 24) == 0);
	assert_true(json_integer_value(json_object_get(doc, "stored_bytes")) >
		    0);
	assert_true(json_is_null(json_object_get(doc, "error")));
	json_decref(doc);
	m = read_metrics();
	assert_int_equal(metric(m, "offsite_last_run_success"), 1);
	success_at = metric(m, "offsite_last_success_timestamp_seconds");
	assert_true(success_at > 1700000000);
	assert_int_equal(metric(m, "offsite_last_run_timestamp_seconds"),
			 success_at);
	assert_true(metric(m, "offsite_last_stored_bytes") > 0);
	assert_true(metric(m, "offsite_last_plain_bytes") > 0);
	assert_non_null(strstr(m, "# TYPE offsite_last_run_success gauge\n"));
	free(m);

	/* The same database name, a database that is not there. Standard
	 * error is a file: no progress line by default. */
	write_config("bad.ini", "no_such_db_observe", url);
	assert_int_equal(
		run_offsite(&err, "bad.ini", "backup", "--type=daily", NULL),
		1);
	assert_null(strchr(err, '\r'));
	assert_no_secret(err);
	free(err);
	assert_int_equal(fake_server_count(srv), 2);
	doc = webhook_doc(srv, 1);
	assert_string_equal(json_string_value(json_object_get(doc, "event")),
			    "backup.failed");
	assert_non_null(strstr(json_string_value(json_object_get(doc, "error")),
			       "no_such_db_observe"));
	assert_true(json_is_null(json_object_get(doc, "stored_bytes")));
	json_decref(doc);
	m = read_metrics();
	assert_int_equal(metric(m, "offsite_last_run_success"), 0);
	assert_int_equal(metric(m, "offsite_last_success_timestamp_seconds"),
			 success_at);
	assert_true(metric(m, "offsite_last_run_timestamp_seconds") >=
		    success_at);
	assert_true(metric(m, "offsite_last_stored_bytes") > 0);
	free(m);
	fake_server_stop(srv);
}

/* Nobody listens on the webhook's port: a warning, the backup stands. */
static void test_webhook_down(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	char url[64], *err = NULL, *m;
	int fd;

	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook",
		 ntohs(sa.sin_port));
	write_config("down.ini", "postgres", url);
	/* Bound, not listening, until the run is over: the port refuses. */
	assert_int_equal(
		run_offsite(&err, "down.ini", "backup", "--type=daily", NULL),
		0);
	close(fd);
	assert_non_null(strstr(err, "msg=\"webhook not delivered\""));
	assert_non_null(strstr(err, "msg=\"backup complete\""));
	assert_null(strstr(err, "/hook"));
	free(err);
	m = read_metrics();
	assert_int_equal(metric(m, "offsite_last_run_success"), 1);
	free(m);
}

/* retention prune has its own series, beside the backups'. */
static void test_prune_series(void **state)
{
	char *err = NULL, *m;

	(void)state;
	assert_int_equal(
		run_offsite(&err, "good.ini", "retention", "prune", NULL), 0);
	free(err);
	m = read_metrics();
	assert_non_null(strstr(m, "offsite_last_run_success{type=\"prune\","
				  "database=\"*\"} 1\n"));
	assert_null(strstr(m, "offsite_last_stored_bytes{type=\"prune\""));
	assert_int_equal(metric(m, "offsite_last_run_success"), 1);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success_then_failure),
		cmocka_unit_test(test_webhook_down),
		cmocka_unit_test(test_prune_series),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
