/*
 * `offsite backup --stdin`, run in-process against a scripted S3 server,
 * for the faults of the matrix (tests/README.md) that a real server
 * cannot show on cue: 503/500/SlowDown on a part, a reset mid-part, a
 * server unreachable for a while or for good, a 200 carrying an <Error>
 * on CompleteMultipartUpload, EntityTooLarge and QuotaExceeded on a part,
 * a clock an hour off, and an unfinished upload two days old.
 *
 * 11 MiB of noise (gzip cannot shrink it) in 5 MiB parts: three parts.
 * Every run is checked for its exit code, the one log line that says
 * what happened, and what is left on the server: a failed run stores no
 * object and no manifest and aborts its upload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/cli.h"
#include "tests/support/fake_server.h"

#define DATA_SIZE (11u * 1024 * 1024)
#define SECRET	  "fakeSecretKeyThatMustNeverBeSeen00"
#define STALE_KEY "p/daily/app/app-daily-20200101T000000Z.sql.gz"

/* The request the server takes and never answers, sending SIGTERM to
 * the run as it does: a stop while the run waits on S3. */
enum stall {
	STALL_NONE,
	STALL_PUT_OBJECT, /* the backup's single PutObject */
	STALL_LAST_PART,  /* the last part, sent by the finish */
	STALL_COMPLETE,	  /* CompleteMultipartUpload */
	STALL_MANIFEST,	  /* the manifest's PutObject */
};

/* What the server does to a request. */
enum fault {
	F_NONE,
	F_503,		/* 503 SlowDown */
	F_500,		/* 500 InternalError */
	F_DROP,		/* reset: the connection closed, no answer */
	F_ERROR_IN_200, /* 200 whose body is an <Error> */
	F_TOO_LARGE,	/* 400 EntityTooLarge */
	F_QUOTA,	/* 403 QuotaExceeded */
};

struct scenario {
	pthread_mutex_t mu;
	enum fault part2[4]; /* the attempts at part 2, in order */
	unsigned part2_seen;
	enum fault part2_always; /* every attempt at part 2 */
	enum fault complete;	 /* CompleteMultipartUpload */
	unsigned drop_first;	 /* the first N requests, whatever they are */
	bool drop_all;		 /* the server is gone */
	long skew;		 /* the server's clock minus ours, seconds */
	unsigned skewed;	 /* requests refused as too skewed */
	bool stale_upload;	 /* list an upload begun two days ago */
	enum stall stall;
	bool abort_gone;	 /* AbortMultipartUpload: 404 NoSuchUpload */
	bool stalled;		 /* the stall began, SIGTERM was sent */
	struct timespec term_at; /* when */
};

/* Send SIGTERM to the run, once, and hold the request unanswered. */
static void stall(struct scenario *s, struct fake_conn *conn)
{
	bool first;

	pthread_mutex_lock(&s->mu);
	first = !s->stalled;
	if (first) {
		s->stalled = true;
		clock_gettime(CLOCK_MONOTONIC, &s->term_at);
	}
	pthread_mutex_unlock(&s->mu);
	if (first)
		kill(getpid(), SIGTERM);
	fake_stall(conn, 60000);
}

/* The request's x-amz-date, in seconds; 0 without one. */
static long signed_at(const struct fake_request *req)
{
	char v[64];
	struct tm tm = {0};

	if (!fake_header(req, "x-amz-date", v, sizeof(v)) ||
	    !strptime(v, "%Y%m%dT%H%M%SZ", &tm))
		return 0;
	return (long)timegm(&tm);
}

static void error_reply(struct fake_conn *conn, int status, const char *extra,
			const char *code)
{
	char body[256];

	snprintf(body, sizeof(body),
		 "<Error><Code>%s</Code><Message>%s said no</Message>"
		 "<RequestId>RID</RequestId></Error>",
		 code, code);
	fake_reply(conn, status, extra, body, strlen(body));
}

/* The answer for a fault; false for F_NONE. */
static bool apply(enum fault f, struct fake_conn *conn, const char *extra)
{
	switch (f) {
	case F_NONE:
		return false;
	case F_503:
		error_reply(conn, 503, extra, "SlowDown");
		return true;
	case F_500:
		error_reply(conn, 500, extra, "InternalError");
		return true;
	case F_DROP:
		fake_drop(conn);
		return true;
	case F_ERROR_IN_200:
		error_reply(conn, 200, extra, "InternalError");
		return true;
	case F_TOO_LARGE:
		error_reply(conn, 400, extra, "EntityTooLarge");
		return true;
	case F_QUOTA:
		error_reply(conn, 403, extra, "QuotaExceeded");
		return true;
	}
	return false;
}

static void list_uploads(struct scenario *s, struct fake_conn *conn,
			 const char *extra)
{
	char body[1024], upload[256] = "", when[32];
	time_t t = time(NULL) + s->skew - 2 * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	if (s->stale_upload)
		snprintf(upload, sizeof(upload),
			 "<Upload><Key>" STALE_KEY "</Key><UploadId>stale1"
			 "</UploadId><Initiated>%s</Initiated></Upload>",
			 when);
	snprintf(body, sizeof(body),
		 "<ListMultipartUploadsResult><Bucket>backups</Bucket>"
		 "<IsTruncated>false</IsTruncated>%s"
		 "</ListMultipartUploadsResult>",
		 upload);
	fake_reply(conn, 200, extra, body, strlen(body));
}

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	struct scenario *s = ctx;
	char extra[256], date[64];
	const char *pn = strstr(req->target, "partNumber=");
	const char *body;
	long now = (long)time(NULL) + s->skew, at = signed_at(req);
	enum fault f = F_NONE;

	fake_http_date(date, now);
	snprintf(extra, sizeof(extra), "Date: %s\r\n", date);
	if (s->drop_all || req->index < s->drop_first) {
		fake_drop(conn);
		return;
	}
	if (at && (at - now > 900 || now - at > 900)) {
		pthread_mutex_lock(&s->mu);
		s->skewed++;
		pthread_mutex_unlock(&s->mu);
		error_reply(conn, 403, extra, "RequestTimeTooSkewed");
		return;
	}
	if (strcmp(req->method, "GET") == 0 && strstr(req->target, "uploads")) {
		list_uploads(s, conn, extra);
	} else if (strcmp(req->method, "POST") == 0 &&
		   strstr(req->target, "?uploads")) {
		body = "<InitiateMultipartUploadResult><Bucket>backups</Bucket>"
		       "<Key>k</Key><UploadId>UP1</UploadId>"
		       "</InitiateMultipartUploadResult>";
		fake_reply(conn, 200, extra, body, strlen(body));
	} else if (strcmp(req->method, "PUT") == 0 && pn) {
		unsigned part = (unsigned)atoi(pn + strlen("partNumber="));
		if (part == 3 && s->stall == STALL_LAST_PART) {
			stall(s, conn);
			return;
		}
		if (part == 2) {
			pthread_mutex_lock(&s->mu);
			f = s->part2_seen < 4 ? s->part2[s->part2_seen]
					      : F_NONE;
			s->part2_seen++;
			pthread_mutex_unlock(&s->mu);
			if (s->part2_always != F_NONE)
				f = s->part2_always;
		}
		if (!apply(f, conn, extra)) {
			snprintf(extra + strlen(extra),
				 sizeof(extra) - strlen(extra),
				 "ETag: \"etag-%u\"\r\n", part);
			fake_reply(conn, 200, extra, "", 0);
		}
	} else if (strcmp(req->method, "POST") == 0 &&
		   strstr(req->target, "uploadId=")) {
		if (s->stall == STALL_COMPLETE) {
			stall(s, conn);
			return;
		}
		if (!apply(s->complete, conn, extra)) {
			body = "<CompleteMultipartUploadResult><Key>k</Key>"
			       "<ETag>\"x-3\"</ETag>"
			       "</CompleteMultipartUploadResult>";
			fake_reply(conn, 200, extra, body, strlen(body));
		}
	} else if (strcmp(req->method, "DELETE") == 0) {
		if (s->abort_gone && strstr(req->target, "uploadId="))
			error_reply(conn, 404, extra, "NoSuchUpload");
		else
			fake_reply(conn, 204, extra, "", 0);
	} else if (strcmp(req->method, "PUT") == 0) {
		bool manifest = strstr(req->target, ".manifest") != NULL,
		     marker = strstr(req->target, ".uploading") != NULL;
		if (!marker && ((manifest && s->stall == STALL_MANIFEST) ||
				(!manifest && s->stall == STALL_PUT_OBJECT))) {
			stall(s, conn);
			return;
		}
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			 "ETag: \"single\"\r\n");
		fake_reply(conn, 200, extra, "", 0);
	} else {
		error_reply(conn, 404, extra, "NoSuchKey");
	}
}

/* ---- one run of `offsite backup --stdin` ---- */

struct run {
	char dir[64];
	char data[128], conf[128], log_path[128];
	struct scenario sc;
	struct fake_server *srv;
	int rc;
	char log[65536]; /* what offsite logged */
	double secs;
	size_t data_size;      /* 0: DATA_SIZE */
	const char *retention; /* more [retention] lines, or NULL */
	struct timespec ended;
	bool term_left; /* a SIGTERM was still pending after the run */
};

static void write_data(const char *path, size_t size)
{
	uint32_t x = 2463534242u, *buf = malloc(size);
	size_t i;
	FILE *f;

	assert_non_null(buf);
	for (i = 0; i < size / 4; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = x;
	}
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, size, f), size);
	fclose(f);
	free(buf);
}

static int setup(void **state)
{
	struct run *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	snprintf(r->dir, sizeof(r->dir), "/tmp/offsite-bfaults-XXXXXX");
	if (!mkdtemp(r->dir))
		return -1;
	snprintf(r->data, sizeof(r->data), "%s/data", r->dir);
	snprintf(r->conf, sizeof(r->conf), "%s/offsite.ini", r->dir);
	snprintf(r->log_path, sizeof(r->log_path), "%s/log", r->dir);
	pthread_mutex_init(&r->sc.mu, NULL);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct run *r = *state;

	/* The secret is never in the log. */
	assert_null(strstr(r->log, SECRET));
	fake_server_stop(r->srv);
	pthread_mutex_destroy(&r->sc.mu);
	unlink(r->data);
	unlink(r->conf);
	unlink(r->log_path);
	rmdir(r->dir);
	free(r);
	return 0;
}

/* Start the server with the scenario set so far, and run a backup. */
static void backup(struct run *r)
{
	char *argv[] = {(char *)(uintptr_t) "offsite",
			(char *)(uintptr_t) "-c",
			r->conf,
			(char *)(uintptr_t) "backup",
			(char *)(uintptr_t) "--stdin",
			(char *)(uintptr_t) "--name",
			(char *)(uintptr_t) "app",
			(char *)(uintptr_t) "--type",
			(char *)(uintptr_t) "daily",
			NULL};
	int port, in, out, err, saved[3], fd;
	struct timespec t0, t1, none = {0};
	sigset_t term, old;
	ssize_t n;
	FILE *f;

	/* While the run lasts, SIGTERM reaches only its signal thread:
	 * blocked in every other one, the fake server's included. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	assert_int_equal(fake_server_start(&r->srv, &port, handler, &r->sc), 0);
	write_data(r->data, r->data_size ? r->data_size : DATA_SIZE);
	f = fopen(r->conf, "w");
	assert_non_null(f);
	fprintf(f,
		"[storage]\nendpoint = http://127.0.0.1:%d\n"
		"bucket = backups\nprefix = p/\npart_size = 5MiB\n"
		"concurrency = 2\n"
		"[database]\ndriver = stdin\n"
		"[retention]\napply_on_backup = false\n%s",
		port, r->retention ? r->retention : "");
	fclose(f);
	setenv("AWS_ACCESS_KEY_ID", "AKIDFAKEFAKEFAKE0001", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("RUNTIME_DIRECTORY", r->dir, 1);

	fflush(stdout);
	fflush(stderr);
	in = open(r->data, O_RDONLY);
	out = open("/dev/null", O_WRONLY);
	err = open(r->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(in >= 0 && out >= 0 && err >= 0);
	for (fd = 0; fd < 3; fd++)
		saved[fd] = dup(fd);
	dup2(in, STDIN_FILENO);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	close(in);
	close(out);
	close(err);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r->rc = cli_main(9, argv);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->ended = t1;
	r->term_left = sigtimedwait(&term, NULL, &none) == SIGTERM;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	fflush(stdout);
	fflush(stderr);
	for (fd = 0; fd < 3; fd++) {
		dup2(saved[fd], fd);
		close(saved[fd]);
	}
	r->secs = (double)(t1.tv_sec - t0.tv_sec) +
		  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	fd = open(r->log_path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, r->log, sizeof(r->log) - 1);
	assert_true(n >= 0);
	r->log[n] = '\0';
	close(fd);
}

/* Requests of METHOD whose target contains NEEDLE (NULL: any). */
static unsigned count(struct run *r, const char *method, const char *needle)
{
	unsigned i, n = 0;

	for (i = 0; i < fake_server_count(r->srv); i++) {
		const struct fake_request *q = fake_server_request(r->srv, i);
		if (strcmp(q->method, method) == 0 &&
		    (!needle || strstr(q->target, needle)))
			n++;
	}
	return n;
}

/* PUTs of whole objects: the backup in one request, or a manifest; not
 * the marker that says the upload is being written (retention/stale.h). */
static unsigned object_puts(struct run *r)
{
	unsigned i, n = 0;

	for (i = 0; i < fake_server_count(r->srv); i++) {
		const struct fake_request *q = fake_server_request(r->srv, i);
		if (strcmp(q->method, "PUT") == 0 && !strchr(q->target, '?') &&
		    !strstr(q->target, ".uploading"))
			n++;
	}
	return n;
}

/* The run's marker was written once and is gone: the run is over. */
static void assert_marker_gone(struct run *r)
{
	assert_int_equal(count(r, "PUT", ".sql.gz.uploading"), 1);
	assert_int_equal(count(r, "DELETE", ".sql.gz.uploading") -
				 count(r, "DELETE", STALE_KEY ".uploading"),
			 1);
}

static void assert_log(struct run *r, const char *text)
{
	if (!strstr(r->log, text))
		fail_msg("the log has no \"%s\":\n%s", text, r->log);
}

/* Stored: three parts, completed, the manifest written, no abort. */
static void assert_stored(struct run *r)
{
	if (r->rc != EXIT_OK)
		fail_msg("exit %d:\n%s", r->rc, r->log);
	assert_int_equal(count(r, "POST", "uploadId=UP1"), 1);
	assert_int_equal(count(r, "DELETE", "uploadId=UP1"), 0);
	assert_int_equal(count(r, "PUT", "partNumber=3&"), 1);
	assert_int_equal(count(r, "PUT", "partNumber=4&"), 0);
	assert_int_equal(object_puts(r), 1); /* the manifest */
	assert_marker_gone(r);
	assert_log(r, "msg=\"backup complete\" key=p/daily/app/app-daily-");
}

/* Failed: exit 1, the upload aborted, nothing stored. */
static void assert_failed_cleanly(struct run *r, const char *why)
{
	if (r->rc != EXIT_FAILED)
		fail_msg("exit %d:\n%s", r->rc, r->log);
	assert_int_equal(count(r, "DELETE", "uploadId=UP1"), 1);
	assert_int_equal(object_puts(r), 0);
	assert_marker_gone(r);
	assert_log(r, "level=error msg=\"backup failed\"");
	assert_log(r, why);
	assert_log(r, "msg=\"multipart upload aborted: nothing stored\"");
}

/* ---- tests ---- */

static void test_part_503_500_slowdown_retried(void **state)
{
	struct run *r = *state;

	r->sc.part2[0] = F_503;
	r->sc.part2[1] = F_500;
	backup(r);
	assert_stored(r);
	assert_int_equal(count(r, "PUT", "partNumber=2&"), 3);
	assert_log(r, "msg=\"retrying: UploadPart p/daily/app/app-daily-");
	assert_log(r, "part 2: HTTP 503 SlowDown");
	assert_log(r, "part 2: HTTP 500 InternalError");
}

static void test_part_reset_retried(void **state)
{
	struct run *r = *state;

	r->sc.part2[0] = F_DROP;
	backup(r);
	assert_stored(r);
	assert_int_equal(count(r, "PUT", "partNumber=2&"), 2);
	/* Who sent it again depends on timing: our retry ("part 2: Failure
	 * when receiving data from the peer"), or libcurl itself, which
	 * resends a request on a reused connection that died unanswered. */
	assert_null(strstr(r->log, "level=error"));
}

static void test_unreachable_then_back(void **state)
{
	struct run *r = *state;

	r->sc.drop_first = 3;
	backup(r);
	assert_stored(r);
	assert_log(r, "retrying");
	assert_null(strstr(r->log, "level=warn"));
	assert_null(strstr(r->log, "level=error"));
}

static void test_unreachable_for_good(void **state)
{
	struct run *r = *state;

	r->sc.drop_all = true;
	backup(r);
	/* No upload ever began: nothing to abort, nothing stored. */
	if (r->rc != EXIT_FAILED)
		fail_msg("exit %d:\n%s", r->rc, r->log);
	assert_int_equal(object_puts(r), 0);
	assert_int_equal(count(r, "POST", "uploadId="), 0);
	assert_log(r, "level=error msg=\"backup failed\"");
	assert_log(r, "(after 6 attempts)");
	/* Six attempts a request, waits of at most 0.25 + 0.5 + 1 + 2 + 4 s,
	 * for the list, the marker and the initiate: well inside three
	 * budgets. */
	assert_true(r->secs < 60);
}

static void test_error_in_200_on_complete(void **state)
{
	struct run *r = *state;

	r->sc.complete = F_ERROR_IN_200;
	backup(r);
	assert_failed_cleanly(r, "HTTP 200 carrying an error");
	assert_true(count(r, "POST", "uploadId=UP1") >= 1);
}

static void test_entity_too_large(void **state)
{
	struct run *r = *state;

	r->sc.part2_always = F_TOO_LARGE;
	backup(r);
	assert_failed_cleanly(r, "HTTP 400 EntityTooLarge");
	/* A client error: not retried, never completed. */
	assert_int_equal(count(r, "PUT", "partNumber=2&"), 1);
	assert_int_equal(count(r, "POST", "uploadId=UP1"), 0);
}

static void test_quota_exceeded(void **state)
{
	struct run *r = *state;

	r->sc.part2_always = F_QUOTA;
	backup(r);
	assert_failed_cleanly(r, "HTTP 403 QuotaExceeded");
	assert_int_equal(count(r, "PUT", "partNumber=2&"), 1);
	assert_int_equal(count(r, "POST", "uploadId=UP1"), 0);
}

static void test_clock_an_hour_off(void **state)
{
	struct run *r = *state;
	const struct fake_request *last;
	long at;

	r->sc.skew = 3600;
	backup(r);
	assert_stored(r);
	/* One refusal at most per connection (the run's own, the upload's
	 * control and its two part workers), each then corrected for good. */
	assert_in_range(r->sc.skewed, 1, 4);
	assert_log(r, "clock differs");
	last = fake_server_request(r->srv, fake_server_count(r->srv) - 1);
	at = signed_at(last);
	assert_in_range(at - (long)time(NULL), 3590, 3610);
}

static void test_stale_upload_aborted(void **state)
{
	struct run *r = *state;

	r->sc.stale_upload = true;
	backup(r);
	assert_stored(r);
	assert_int_equal(count(r, "DELETE", "uploadId=stale1"), 1);
	/* Its marker too, had it one (a killed run's stays behind). */
	assert_int_equal(count(r, "DELETE", STALE_KEY ".uploading"), 1);
	assert_log(r,
		   "msg=\"aborted a stale incomplete upload\" key=" STALE_KEY);
}

/* The age from which backup aborts is [retention] abort_incomplete_days,
 * as prune's: with 3, the upload begun two days ago is left alone. */
static void test_stale_upload_follows_abort_days(void **state)
{
	struct run *r = *state;

	r->sc.stale_upload = true;
	r->retention = "abort_incomplete_days = 3\n";
	backup(r);
	assert_stored(r);
	assert_int_equal(count(r, "DELETE", "uploadId=stale1"), 0);
	assert_int_equal(count(r, "GET", STALE_KEY ".uploading"), 0);
	if (strstr(r->log, "aborted a stale incomplete upload"))
		fail_msg("aborted a young upload:\n%s", r->log);
}

/* ---- SIGTERM while the run waits on a server that does not answer ---- */

/* The run stopped within 10 s of SIGTERM (systemd waits 90 s), exit 1,
 * no manifest, and the signal was taken by the run. */
static void assert_stopped(struct run *r)
{
	double after;

	assert_true(r->sc.stalled);
	after = (double)(r->ended.tv_sec - r->sc.term_at.tv_sec) +
		(double)(r->ended.tv_nsec - r->sc.term_at.tv_nsec) / 1e9;
	if (after >= 10)
		fail_msg("ended %.1f s after SIGTERM:\n%s", after, r->log);
	if (r->rc != EXIT_FAILED)
		fail_msg("exit %d:\n%s", r->rc, r->log);
	assert_log(r, "stop requested");
	/* The signal was the run's, not left for whoever comes next. */
	assert_false(r->term_left);
}

/* Manifests written. */
static unsigned manifest_puts(struct run *r)
{
	return count(r, "PUT", ".manifest");
}

static void test_sigterm_during_single_put(void **state)
{
	struct run *r = *state;

	r->data_size = 1024 * 1024; /* one part: a single PutObject */
	r->sc.stall = STALL_PUT_OBJECT;
	backup(r);
	assert_stopped(r);
	assert_log(r, "cause=\"PUT p/daily/app/app-daily-");
	assert_int_equal(object_puts(r), 1); /* the stalled one, not resent */
	assert_int_equal(manifest_puts(r), 0);
	assert_int_equal(count(r, "POST", NULL), 0);
}

static void test_sigterm_during_last_part(void **state)
{
	struct run *r = *state;

	r->sc.stall = STALL_LAST_PART;
	backup(r);
	assert_stopped(r);
	assert_int_equal(count(r, "POST", "uploadId=UP1"), 0);
	assert_int_equal(count(r, "DELETE", "uploadId=UP1"), 1);
	assert_int_equal(object_puts(r), 0);
	assert_log(r, "msg=\"multipart upload aborted: nothing stored\"");
}

static void test_sigterm_during_complete(void **state)
{
	struct run *r = *state;

	r->sc.stall = STALL_COMPLETE;
	backup(r);
	assert_stopped(r);
	assert_log(r, "cause=\"CompleteMultipartUpload p/daily/app/");
	/* The abort still went out after the stop. */
	assert_int_equal(count(r, "POST", "uploadId=UP1"), 1);
	assert_int_equal(count(r, "DELETE", "uploadId=UP1"), 1);
	assert_int_equal(object_puts(r), 0);
	assert_log(r, "msg=\"multipart upload aborted: nothing stored\"");
}

/* DELETEs of the backup's own key (not an upload's). */
static unsigned object_deletes(struct run *r)
{
	unsigned i, n = 0;

	for (i = 0; i < fake_server_count(r->srv); i++) {
		const struct fake_request *q = fake_server_request(r->srv, i);
		if (strcmp(q->method, "DELETE") == 0 &&
		    strncmp(q->target, "/backups/p/daily/app/app-daily-", 31) ==
			    0 &&
		    !strchr(q->target, '?') && !strstr(q->target, ".uploading"))
			n++;
	}
	return n;
}

/* The stalled Complete went through after all: the server no longer
 * knows the upload. The object, this run's own, is deleted. */
static void test_sigterm_during_complete_that_went_through(void **state)
{
	struct run *r = *state;

	r->sc.stall = STALL_COMPLETE;
	r->sc.abort_gone = true;
	backup(r);
	assert_stopped(r);
	assert_int_equal(count(r, "DELETE", "uploadId=UP1"), 1);
	assert_int_equal(object_deletes(r), 1);
	assert_int_equal(object_puts(r), 0);
	assert_log(r, "msg=\"multipart upload gone; its object deleted: "
		      "nothing stored\"");
}

static void test_sigterm_during_manifest(void **state)
{
	struct run *r = *state;

	r->sc.stall = STALL_MANIFEST;
	backup(r);
	assert_stopped(r);
	assert_int_equal(manifest_puts(r), 1);
	assert_log(r, "msg=\"cannot write the manifest\"");
	/* Completed but without its manifest: the object was deleted, even
	 * though the run had been stopped. */
	assert_int_equal(object_deletes(r), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_part_503_500_slowdown_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_part_reset_retried, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_then_back,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_for_good,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_in_200_on_complete,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_entity_too_large, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_quota_exceeded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_clock_an_hour_off, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_upload_aborted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_stale_upload_follows_abort_days, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_during_single_put,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_during_last_part,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_during_complete,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_sigterm_during_complete_that_went_through, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_during_manifest,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
