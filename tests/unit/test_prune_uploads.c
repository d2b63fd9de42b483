/*
 * offsite retention prune against a scripted server, for what a real
 * server cannot be made to show on cue: unfinished uploads that started
 * days ago (radosgw stamps uploads with its own clock), with markers
 * naming other hosts. Only uploads no run can still be writing are
 * aborted: not a young one, not someone else's, not one whose database's
 * run lock is held on this host, not one whose other host's run may still
 * be going.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/cli.h"
#include "agent/ops/lock.h"
#include "agent/ops/stale.h"
#include "tests/support/fake_server.h"

#define DAY 86400L
/* Ours, years old, no marker, no run: aborted. */
#define OLD_KEY "p/daily/app/app-daily-20200101T000000Z.sql.gz"
/* Ours, started now: young. */
#define YOUNG_KEY "p/daily/app/app-daily-20991231T000000Z.sql.gz"
/* Not ours. */
#define FOREIGN_KEY "p/daily/notes.bin"
/* Old, no marker, and a run of "busy" holds its lock here: kept. */
#define BUSY_KEY "p/daily/busy/busy-daily-20200101T000000Z.sql.gz"
/* Three days old; another host's marker says its run may last five. */
#define AWAY_KEY "p/daily/away/away-daily-20200101T000000Z.sql.gz"
/* Three days old; another host's marker says two: over. */
#define GONE_KEY "p/daily/gone/gone-daily-20200101T000000Z.sql.gz"
/* Three days old; this host's marker, its process gone, though a newer
 * run of "dead" holds the lock: over. */
#define DEAD_KEY "p/daily/dead/dead-daily-20200101T000000Z.sql.gz"

struct world {
	char host[RETENTION_HOST_MAX];
	long dead_pid;
};

static void iso(char *out, size_t size, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

static void marker(struct fake_conn *conn, const char *extra, const char *host,
		   long pid, long longest)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "offsite-upload 1\nhost=%s\npid=%ld\n"
		 "started=20200101T000000Z\nlongest_run=%ld\n",
		 host, pid, longest);
	fake_reply(conn, 200, extra, body, strlen(body));
}

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	struct world *w = ctx;
	char body[4096], now[32], old[32], extra[128], date[64];
	time_t t = time(NULL);

	fake_http_date(date, (long)t);
	snprintf(extra, sizeof(extra), "Date: %s\r\n", date);
	if (strcmp(req->method, "GET") == 0 && strstr(req->target, "uploads")) {
		iso(now, sizeof(now), t);
		iso(old, sizeof(old), t - 3 * DAY);
		snprintf(
			body, sizeof(body),
			"<ListMultipartUploadsResult><Bucket>backups</Bucket>"
			"<IsTruncated>false</IsTruncated>"
#define UPLOAD(key, id, when)                                                  \
	"<Upload><Key>" key "</Key><UploadId>" id                              \
	"</UploadId><Initiated>" when "</Initiated></Upload>"
			UPLOAD(OLD_KEY, "old1", "2020-01-01T00:00:00.000Z") UPLOAD(
				YOUNG_KEY, "young1",
				"%s") UPLOAD(FOREIGN_KEY, "foreign1",
					     "2020-01-01T00:00:00.000Z")
				UPLOAD(BUSY_KEY, "busy1",
				       "2020-01-01T00:00:00.000Z")
					UPLOAD(AWAY_KEY, "away1", "%s") UPLOAD(
						GONE_KEY, "gone1",
						"%s") UPLOAD(DEAD_KEY, "dead1",
							     "%s")
#undef UPLOAD
						"</ListMultipartUploadsResult>",
			now, old, old, old);
		fake_reply(conn, 200, extra, body, strlen(body));
	} else if (strcmp(req->method, "GET") == 0 &&
		   strstr(req->target, "/away/") &&
		   strstr(req->target, ".uploading")) {
		marker(conn, extra, "elsewhere", 77, 5 * DAY);
	} else if (strcmp(req->method, "GET") == 0 &&
		   strstr(req->target, "/gone/") &&
		   strstr(req->target, ".uploading")) {
		marker(conn, extra, "elsewhere", 77, 2 * DAY);
	} else if (strcmp(req->method, "GET") == 0 &&
		   strstr(req->target, "/dead/") &&
		   strstr(req->target, ".uploading")) {
		marker(conn, extra, w->host, w->dead_pid, 60);
	} else if (strcmp(req->method, "GET") == 0 &&
		   strstr(req->target, ".uploading")) {
		static const char none[] = "<Error><Code>NoSuchKey</Code>"
					   "</Error>";
		fake_reply(conn, 404, extra, none, strlen(none));
	} else if (strcmp(req->method, "GET") == 0) {
		static const char empty[] =
			"<ListBucketResult><Name>backups</Name>"
			"<Prefix>p/</Prefix><KeyCount>0</KeyCount>"
			"<IsTruncated>false</IsTruncated></ListBucketResult>";
		fake_reply(conn, 200, extra, empty, strlen(empty));
	} else if (strcmp(req->method, "DELETE") == 0) {
		fake_reply(conn, 204, extra, NULL, 0);
	} else {
		fake_reply(conn, 400, extra, NULL, 0);
	}
}

/* Run `offsite -q -c CONF retention prune [--dry-run]`, its stdout into
 * OUT (the TAP stream is ours). */
static int prune(const char *conf_path, bool dry_run, const char *out)
{
	char *argv[] = {(char *)(uintptr_t) "offsite",
			(char *)(uintptr_t) "-q",
			(char *)(uintptr_t) "-c",
			(char *)(uintptr_t)conf_path,
			(char *)(uintptr_t) "retention",
			(char *)(uintptr_t) "prune",
			(char *)(uintptr_t)(dry_run ? "--dry-run" : NULL),
			NULL};
	int saved, fd, rc;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	rc = cli_main(dry_run ? 7 : 6, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	return rc;
}

/* What the requests of METHOD whose target has NEEDLE were, as
 * "FROM-NEEDLE-TO-'&'," for each. */
static void requests(char *out, size_t size, struct fake_server *s,
		     const char *method, const char *needle)
{
	unsigned i, n = fake_server_count(s);
	size_t len = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		const struct fake_request *r = fake_server_request(s, i);
		const char *at = strstr(r->target, needle);
		if (strcmp(r->method, method) == 0 && at && len < size)
			len += (size_t)snprintf(
				out + len, size - len, "%.*s,",
				(int)strcspn(at + strlen(needle), "&"),
				at + strlen(needle));
	}
}

static bool has_line(const char *path, const char *text)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

/* A process ID that was in use a moment ago and is free now. */
static long gone_pid(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return (long)pid;
}

static void test_only_uploads_no_run_writes_are_aborted(void **state)
{
	char dir[] = "/tmp/offsite-prune-XXXXXX", path[256], out[256],
	     text[512], got[512], lock_path[4096];
	struct fake_server *srv = NULL;
	struct world w = {.dead_pid = gone_pid()};
	struct agent_error lerr = {0};
	int port, busy = -1, dead = -1;
	FILE *f;

	(void)state;
	stale_host(w.host);
	assert_non_null(mkdtemp(dir));
	setenv("RUNTIME_DIRECTORY", dir, 1);
	/* Runs of "busy" and "dead" in progress on this host. */
	assert_int_equal(lock_acquire(&busy, lock_path, sizeof(lock_path),
				      "busy", &lerr),
			 AGENT_OK);
	assert_int_equal(lock_acquire(&dead, lock_path, sizeof(lock_path),
				      "dead", &lerr),
			 AGENT_OK);
	assert_int_equal(fake_server_start(&srv, &port, handler, &w), 0);
	snprintf(path, sizeof(path), "%s/offsite.ini", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(text, sizeof(text),
		 "[storage]\nendpoint = http://127.0.0.1:%d\n"
		 "bucket = backups\nprefix = p/\n"
		 "[database]\ndriver = stdin\n"
		 "[retention]\nabort_incomplete_days = 2\n",
		 port);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	setenv("AWS_ACCESS_KEY_ID", "AKIDFAKEFAKEFAKE0001", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "fakeSecretKeyThatMustNeverBeSeen00",
	       1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);

	assert_int_equal(prune(path, true, out), EXIT_OK);
	requests(got, sizeof(got), srv, "DELETE", "");
	assert_string_equal(got, ""); /* --dry-run deletes nothing */
	assert_true(has_line(out, "would abort  " OLD_KEY));
	assert_true(has_line(out, "keep         " BUSY_KEY
				  " (incomplete upload started 20200101T000000Z"
				  ", still running on this host)"));
	assert_true(has_line(out, "keep         " AWAY_KEY));
	assert_true(has_line(out, "still running on elsewhere)"));

	assert_int_equal(prune(path, false, out), EXIT_OK);
	/* Oldest first; the dead one and the gone one are three days old. */
	requests(got, sizeof(got), srv, "DELETE", "uploadId=");
	assert_string_equal(got, "old1,dead1,gone1,");
	/* Their markers go with them. */
	requests(got, sizeof(got), srv, "DELETE", "/p/daily/");
	assert_string_equal(
		got, "app/app-daily-20200101T000000Z.sql.gz?uploadId=old1,"
		     "app/app-daily-20200101T000000Z.sql.gz.uploading,"
		     "dead/dead-daily-20200101T000000Z.sql.gz?uploadId="
		     "dead1,"
		     "dead/dead-daily-20200101T000000Z.sql.gz.uploading,"
		     "gone/gone-daily-20200101T000000Z.sql.gz?uploadId="
		     "gone1,"
		     "gone/gone-daily-20200101T000000Z.sql.gz.uploading,");
	/* No marker was read for the young or the foreign one. */
	requests(got, sizeof(got), srv, "GET", "/p/daily/");
	assert_null(strstr(got, "20991231"));
	assert_null(strstr(got, "notes"));
	assert_non_null(strstr(got, "away/away-daily-20200101T000000Z.sql.gz"
				    ".uploading,"));

	lock_release(busy);
	lock_release(dead);
	fake_server_stop(srv);
	unsetenv("RUNTIME_DIRECTORY");
	unlink(path);
	unlink(out);
	snprintf(lock_path, sizeof(lock_path), "%s/offsite-busy.lock", dir);
	unlink(lock_path);
	snprintf(lock_path, sizeof(lock_path), "%s/offsite-dead.lock", dir);
	unlink(lock_path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_uploads_no_run_writes_are_aborted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
