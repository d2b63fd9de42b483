/*
 * Stale uploads without a server: the decision (retention_upload_judge)
 * in every case, the marker read back from the bucket (hostile ones
 * refused), the run lock probe, and the test knob that only lowers the
 * threshold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ops/lock.h"
#include "agent/ops/stale.h"
#include "conf/conf.h"
#include "retention/stale.h"

#define DAY ((time_t)86400)
/* 2026-11-23T09:30:05Z */
#define NOW	((time_t)1795426205)
#define APP_KEY "pfx/daily/app/app-daily-20261120T000000Z.sql.gz"

/* The probe's script: what it answers, and what it was asked. */
struct probe_log {
	enum retention_run answer;
	unsigned calls;
	char database[64];
	long pid;
};

static enum retention_run probe(void *ctx, const char *database, long pid)
{
	struct probe_log *p = ctx;

	p->calls++;
	snprintf(p->database, sizeof(p->database), "%s", database);
	p->pid = pid;
	return p->answer;
}

static struct retention_stale_options options(struct probe_log *p)
{
	struct retention_stale_options o = {
		.prefix = "pfx/",
		.now = NOW,
		.after = 2 * DAY,
		.host = "db01",
		.own_database = NULL,
		.probe = probe,
		.probe_ctx = p,
	};
	return o;
}

static struct retention_marker marker(const char *host, long pid,
				      uint64_t longest)
{
	struct retention_marker m = {0};

	snprintf(m.host, sizeof(m.host), "%s", host);
	m.pid = pid;
	m.started = NOW - 3 * DAY;
	m.longest_run = longest;
	return m;
}

static enum retention_upload_verdict
judge(const char *key, time_t age, enum retention_marker_state state,
      const struct retention_marker *m, const struct retention_stale_options *o)
{
	struct s3_upload u = {.key = (char *)(uintptr_t)key,
			      .upload_id = NULL,
			      .initiated = NOW - age};

	return retention_upload_judge(&u, state, m, o);
}

static void test_not_ours_or_young(void **state)
{
	struct probe_log p = {.answer = RETENTION_RUN_GONE};
	struct retention_stale_options o = options(&p);

	(void)state;
	assert_int_equal(judge("pfx/notes.txt", 100 * DAY,
			       RETENTION_MARKER_NONE, NULL, &o),
			 RETENTION_NOT_OURS);
	assert_int_equal(judge(APP_KEY ".manifest", 100 * DAY,
			       RETENTION_MARKER_NONE, NULL, &o),
			 RETENTION_NOT_OURS);
	assert_int_equal(judge(APP_KEY ".uploading", 100 * DAY,
			       RETENTION_MARKER_NONE, NULL, &o),
			 RETENTION_NOT_OURS);
	assert_int_equal(judge("other/daily/app/app-daily-20261120T000000Z"
			       ".sql.gz",
			       100 * DAY, RETENTION_MARKER_NONE, NULL, &o),
			 RETENTION_NOT_OURS);
	assert_int_equal(
		judge(APP_KEY, 2 * DAY - 1, RETENTION_MARKER_NONE, NULL, &o),
		RETENTION_YOUNG);
	/* Initiated "in the future": young, whatever the clocks say. */
	assert_int_equal(
		judge(APP_KEY, -5 * DAY, RETENTION_MARKER_NONE, NULL, &o),
		RETENTION_YOUNG);
	assert_int_equal(p.calls, 0);
	/* Exactly AFTER old: old enough to be judged. */
	assert_int_equal(
		judge(APP_KEY, 2 * DAY, RETENTION_MARKER_NONE, NULL, &o),
		RETENTION_STALE);
	assert_int_equal(p.calls, 1);
}

/* No marker, or one of this host: the run lock on this host decides. */
static void test_this_host_lock_decides(void **state)
{
	struct probe_log p = {.answer = RETENTION_RUN_ALIVE};
	struct retention_stale_options o = options(&p);
	struct retention_marker m = marker("db01", 4242, 60);

	(void)state;
	/* A run of "app" holds its lock: alive, however old. */
	assert_int_equal(
		judge(APP_KEY, 30 * DAY, RETENTION_MARKER_FOUND, &m, &o),
		RETENTION_LIVE_HERE);
	assert_string_equal(p.database, "app");
	assert_int_equal(p.pid, 4242);
	assert_int_equal(
		judge(APP_KEY, 30 * DAY, RETENTION_MARKER_NONE, NULL, &o),
		RETENTION_LIVE_HERE);
	assert_int_equal(p.pid, 0); /* no marker: no process to ask */

	p.answer = RETENTION_RUN_GONE;
	assert_int_equal(
		judge(APP_KEY, 3 * DAY, RETENTION_MARKER_FOUND, &m, &o),
		RETENTION_STALE);
	assert_int_equal(
		judge(APP_KEY, 3 * DAY, RETENTION_MARKER_NONE, NULL, &o),
		RETENTION_STALE);

	p.answer = RETENTION_RUN_UNKNOWN;
	assert_int_equal(
		judge(APP_KEY, 3 * DAY, RETENTION_MARKER_NONE, NULL, &o),
		RETENTION_UNSURE);
	o.probe = NULL;
	assert_int_equal(
		judge(APP_KEY, 3 * DAY, RETENTION_MARKER_NONE, NULL, &o),
		RETENTION_UNSURE);
}

/* Another host's marker: alive while that run may last, and no probe of
 * a lock here (it would say nothing about that host). */
static void test_other_host_marker_decides(void **state)
{
	struct probe_log p = {.answer = RETENTION_RUN_GONE};
	struct retention_stale_options o = options(&p);
	struct retention_marker m = marker("db02", 4242, 5 * DAY);

	(void)state;
	assert_int_equal(
		judge(APP_KEY, 3 * DAY, RETENTION_MARKER_FOUND, &m, &o),
		RETENTION_LIVE_ELSEWHERE);
	assert_int_equal(
		judge(APP_KEY, 5 * DAY - 1, RETENTION_MARKER_FOUND, &m, &o),
		RETENTION_LIVE_ELSEWHERE);
	assert_int_equal(
		judge(APP_KEY, 5 * DAY, RETENTION_MARKER_FOUND, &m, &o),
		RETENTION_STALE);
	/* A shorter run than our threshold: our threshold still counts. */
	m.longest_run = 60;
	assert_int_equal(judge(APP_KEY, DAY, RETENTION_MARKER_FOUND, &m, &o),
			 RETENTION_YOUNG);
	assert_int_equal(
		judge(APP_KEY, 2 * DAY, RETENTION_MARKER_FOUND, &m, &o),
		RETENTION_STALE);
	/* Even for the database whose lock we hold: it is not ours here. */
	o.own_database = "app";
	m.longest_run = 5 * DAY;
	assert_int_equal(
		judge(APP_KEY, 3 * DAY, RETENTION_MARKER_FOUND, &m, &o),
		RETENTION_LIVE_ELSEWHERE);
	assert_int_equal(p.calls, 0);
}

/* The caller holds the database's lock: no other run of it is here. */
static void test_own_database(void **state)
{
	struct probe_log p = {.answer = RETENTION_RUN_ALIVE};
	struct retention_stale_options o = options(&p);
	struct retention_marker m = marker("db01", 4242, 60);

	(void)state;
	o.own_database = "app";
	assert_int_equal(
		judge(APP_KEY, 3 * DAY, RETENTION_MARKER_NONE, NULL, &o),
		RETENTION_STALE);
	assert_int_equal(
		judge(APP_KEY, 3 * DAY, RETENTION_MARKER_FOUND, &m, &o),
		RETENTION_STALE);
	assert_int_equal(p.calls, 0);
	/* Another database: its lock is asked. */
	o.own_database = "web";
	assert_int_equal(
		judge(APP_KEY, 3 * DAY, RETENTION_MARKER_NONE, NULL, &o),
		RETENTION_LIVE_HERE);
	assert_int_equal(p.calls, 1);
}

/* A marker that could not be read: never aborted on a guess. */
static void test_unreadable_marker(void **state)
{
	struct probe_log p = {.answer = RETENTION_RUN_GONE};
	struct retention_stale_options o = options(&p);

	(void)state;
	o.own_database = "app";
	assert_int_equal(judge(APP_KEY, 300 * DAY, RETENTION_MARKER_UNREADABLE,
			       NULL, &o),
			 RETENTION_UNSURE);
	assert_int_equal(p.calls, 0);
}

static void test_marker_round_trip(void **state)
{
	struct retention_marker m = marker("db-01.example.org", 31337, 7 * DAY);
	struct retention_marker got;
	char *text = NULL, *key = NULL;

	(void)state;
	assert_int_equal(retention_marker_format(&text, &m), RETENTION_OK);
	assert_string_equal(text, "offsite-upload 1\n"
				  "host=db-01.example.org\n"
				  "pid=31337\n"
				  "started=20261120T093005Z\n"
				  "longest_run=604800\n");
	assert_int_equal(retention_marker_parse(&got, text, strlen(text)),
			 RETENTION_OK);
	assert_string_equal(got.host, m.host);
	assert_int_equal(got.pid, m.pid);
	assert_int_equal(got.started, m.started);
	assert_int_equal(got.longest_run, m.longest_run);
	free(text);
	assert_int_equal(retention_marker_key(&key, APP_KEY), RETENTION_OK);
	assert_string_equal(key, APP_KEY ".uploading");
	free(key);
}

/* Markers come from the bucket: anything but our exact format is
 * refused (and the upload judged as if it had none). */
static void test_hostile_markers(void **state)
{
	static const char *const bad[] = {
		"", "offsite-upload 1",
		"offsite-upload 2\nhost=a\npid=1\nstarted=20261120T093005Z\n"
		"longest_run=1\n",
		/* a key missing, twice, unknown, or a line without '=' */
		"offsite-upload 1\nhost=a\npid=1\nstarted=20261120T093005Z\n",
		"offsite-upload 1\nhost=a\nhost=b\npid=1\n"
		"started=20261120T093005Z\nlongest_run=1\n",
		"offsite-upload 1\nhost=a\npid=1\nstarted=20261120T093005Z\n"
		"longest_run=1\nuser=root\n",
		"offsite-upload 1\nhost=a\npid=1\nstarted=20261120T093005Z\n"
		"longest_run=1\njunk\n",
		/* the last line without its newline */
		"offsite-upload 1\nhost=a\npid=1\nstarted=20261120T093005Z\n"
		"longest_run=1",
		/* values out of range or not numbers */
		"offsite-upload 1\nhost=a\npid=0\nstarted=20261120T093005Z\n"
		"longest_run=1\n",
		"offsite-upload 1\nhost=a\npid=-1\nstarted=20261120T093005Z\n"
		"longest_run=1\n",
		"offsite-upload 1\nhost=a\npid=2147483648\n"
		"started=20261120T093005Z\nlongest_run=1\n",
		"offsite-upload 1\nhost=a\npid=007\nstarted=20261120T093005Z\n"
		"longest_run=1\n",
		"offsite-upload 1\nhost=a\npid=1\nstarted=20261120T093005Z\n"
		"longest_run=0\n",
		"offsite-upload 1\nhost=a\npid=1\nstarted=20261120T093005Z\n"
		"longest_run=31622401\n", /* a year and a day, and a second */
		"offsite-upload 1\nhost=a\npid=1\nstarted=20261120T093005Z\n"
		"longest_run=99999999999999999999999\n",
		"offsite-upload 1\nhost=a\npid=1\nstarted=20261131T093005Z\n"
		"longest_run=1\n",
		/* hosts that are not host names */
		"offsite-upload 1\nhost=\npid=1\nstarted=20261120T093005Z\n"
		"longest_run=1\n",
		"offsite-upload 1\nhost=a b\npid=1\nstarted=20261120T093005Z\n"
		"longest_run=1\n",
		"offsite-upload 1\nhost=\x1b[31m\npid=1\n"
		"started=20261120T093005Z\nlongest_run=1\n",
		"offsite-upload 1\nhost=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaa\npid=1\nstarted=20261120T093005Z\n"
		"longest_run=1\n", /* 64 characters */
	};
	static const char nul[] = "offsite-upload 1\nhost=a\0b\npid=1\n"
				  "started=20261120T093005Z\nlongest_run=1\n";
	static const char good[] = "offsite-upload 1\nlongest_run=31622400\n"
				   "pid=2147483647\nstarted=20261120T093005Z\n"
				   "host=a\n";
	struct retention_marker m;
	char *big;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (retention_marker_parse(&m, bad[i], strlen(bad[i])) !=
		    RETENTION_EINVAL)
			fail_msg("accepted bad marker %zu", i);
	assert_int_equal(retention_marker_parse(&m, nul, sizeof(nul) - 1),
			 RETENTION_EINVAL);
	assert_int_equal(retention_marker_parse(&m, good, sizeof(good) - 1),
			 RETENTION_OK);
	assert_int_equal(m.longest_run, RETENTION_LONGEST_RUN_CAP);
	/* Past the cap in size, even when well formed. */
	big = calloc(1, sizeof(good) + RETENTION_MARKER_MAX);
	assert_non_null(big);
	memcpy(big, good, sizeof(good) - 1);
	memset(big + sizeof(good) - 1, '\n', RETENTION_MARKER_MAX);
	assert_int_equal(retention_marker_parse(&m, big, strlen(big)),
			 RETENTION_EINVAL);
	free(big);
}

static void test_host_token(void **state)
{
	char out[RETENTION_HOST_MAX];
	char long_name[200];

	(void)state;
	retention_host_token(out, "db01.example.org");
	assert_string_equal(out, "db01.example.org");
	retention_host_token(out, "db 01/\x1b_x");
	assert_string_equal(out, "db-01---x");
	retention_host_token(out, "");
	assert_string_equal(out, "host");
	memset(long_name, 'h', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	retention_host_token(out, long_name);
	assert_int_equal(strlen(out), RETENTION_HOST_MAX - 1);
}

/* The run lock, as another run holds it: probed without being taken. */
static void test_lock_probe(void **state)
{
	char dir[] = "/tmp/offsite-stale-XXXXXX", path[256];
	struct agent_error lerr = {0};
	bool held = true;
	int fd = -1, other;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("RUNTIME_DIRECTORY", dir, 1);
	/* No lock file: no run. */
	assert_int_equal(lock_probe("app", &held), AGENT_OK);
	assert_false(held);
	assert_int_equal(lock_acquire(&fd, path, sizeof(path), "app", &lerr),
			 AGENT_OK);
	assert_int_equal(lock_probe("app", &held), AGENT_OK);
	assert_true(held);
	/* The probe let go: the lock is still the holder's, once. */
	other = open(path, O_RDONLY);
	assert_true(other >= 0);
	assert_int_not_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	lock_release(fd);
	assert_int_equal(lock_probe("app", &held), AGENT_OK);
	assert_false(held);
	/* ... and the probe does not keep it either. */
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	close(other);
	/* Something else in its place: not told, so not "free". */
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(lock_probe("app", &held), AGENT_EIO);
	unlink(path);
	rmdir(dir);
	unsetenv("RUNTIME_DIRECTORY");
}

/* OFFSITE_TEST_LONGEST_RUN lowers the threshold, never raises it. */
static void test_knob_only_lowers(void **state)
{
	conf_error err;
	conf *c = NULL;

	(void)state;
	assert_int_equal(conf_parse(&c, "t.ini",
				    "[storage]\nbucket = backups\n"
				    "[database]\ndriver = stdin\n"
				    "[retention]\nabort_incomplete_days = 3\n",
				    &err),
			 CONF_OK);
	unsetenv(STALE_TEST_ENV);
	assert_int_equal(retention_stale_after(c), 3 * DAY);
	assert_int_equal(stale_longest_run(c), 2 * DAY);
	assert_int_equal(stale_after(c), 3 * DAY);
	setenv(STALE_TEST_ENV, "5s", 1);
	assert_int_equal(stale_longest_run(c), 5);
	assert_int_equal(stale_after(c), 5);
	setenv(STALE_TEST_ENV, "0s", 1);
	assert_int_equal(stale_after(c), 0);
	/* The knob is the agent's: retention's days stay the configured. */
	assert_int_equal(retention_stale_after(c), 3 * DAY);
	setenv(STALE_TEST_ENV, "30d", 1);
	assert_int_equal(stale_longest_run(c), 2 * DAY);
	assert_int_equal(stale_after(c), 3 * DAY);
	setenv(STALE_TEST_ENV, "soon", 1);
	assert_int_equal(stale_after(c), 3 * DAY);
	unsetenv(STALE_TEST_ENV);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_ours_or_young),
		cmocka_unit_test(test_this_host_lock_decides),
		cmocka_unit_test(test_other_host_marker_decides),
		cmocka_unit_test(test_own_database),
		cmocka_unit_test(test_unreadable_marker),
		cmocka_unit_test(test_marker_round_trip),
		cmocka_unit_test(test_hostile_markers),
		cmocka_unit_test(test_host_token),
		cmocka_unit_test(test_lock_probe),
		cmocka_unit_test(test_knob_only_lowers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
