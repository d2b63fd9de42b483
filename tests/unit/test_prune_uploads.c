/*
 * offsite retention prune against a scripted server, for the one case a
 * real server cannot be made to show on cue: an unfinished upload that
 * started days ago (radosgw stamps uploads with its own clock). Only our
 * old upload is aborted: not a young one, not someone else's.
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
#include <time.h>
#include <unistd.h>

#include "agent/cli.h"
#include "tests/support/fake_server.h"

#define OLD_KEY	    "p/daily/app/app-daily-20200101T000000Z.sql.gz"
#define YOUNG_KEY   "p/daily/app/app-daily-20991231T000000Z.sql.gz"
#define FOREIGN_KEY "p/daily/notes.bin"

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	char body[2048], now[32], date[64];
	time_t t = time(NULL);
	struct tm tm;

	(void)ctx;
	fake_http_date(date, (long)t);
	snprintf(body, sizeof(body), "Date: %s\r\n", date);
	if (strcmp(req->method, "GET") == 0 && strstr(req->target, "uploads")) {
		char extra[128];
		gmtime_r(&t, &tm);
		strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
		snprintf(extra, sizeof(extra), "Date: %s\r\n", date);
		snprintf(body, sizeof(body),
			 "<ListMultipartUploadsResult><Bucket>backups</Bucket>"
			 "<IsTruncated>false</IsTruncated>"
			 "<Upload><Key>" OLD_KEY "</Key><UploadId>old1"
			 "</UploadId><Initiated>2020-01-01T00:00:00.000Z"
			 "</Initiated></Upload>"
			 "<Upload><Key>" YOUNG_KEY "</Key><UploadId>young1"
			 "</UploadId><Initiated>%s</Initiated></Upload>"
			 "<Upload><Key>" FOREIGN_KEY "</Key><UploadId>foreign1"
			 "</UploadId><Initiated>2020-01-01T00:00:00.000Z"
			 "</Initiated></Upload>"
			 "</ListMultipartUploadsResult>",
			 now);
		fake_reply(conn, 200, extra, body, strlen(body));
	} else if (strcmp(req->method, "GET") == 0) {
		static const char empty[] =
			"<ListBucketResult><Name>backups</Name>"
			"<Prefix>p/</Prefix><KeyCount>0</KeyCount>"
			"<IsTruncated>false</IsTruncated></ListBucketResult>";
		fake_reply(conn, 200, body, empty, strlen(empty));
	} else if (strcmp(req->method, "DELETE") == 0) {
		fake_reply(conn, 204, body, NULL, 0);
	} else {
		fake_reply(conn, 400, body, NULL, 0);
	}
}

/* Run `offsite -q -c CONF retention prune [--dry-run]`, stdout dropped
 * (the TAP stream is ours). */
static int prune(const char *conf_path, bool dry_run)
{
	char *argv[] = {(char *)(uintptr_t) "offsite",
			(char *)(uintptr_t) "-q",
			(char *)(uintptr_t) "-c",
			(char *)(uintptr_t)conf_path,
			(char *)(uintptr_t) "retention",
			(char *)(uintptr_t) "prune",
			(char *)(uintptr_t)(dry_run ? "--dry-run" : NULL),
			NULL};
	int saved, null, rc;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY);
	assert_true(saved >= 0 && null >= 0);
	dup2(null, STDOUT_FILENO);
	close(null);
	rc = cli_main(dry_run ? 7 : 6, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	return rc;
}

/* The uploadIds the run aborted, as "old1,". */
static void aborted(char *out, size_t size, struct fake_server *s)
{
	unsigned i, n = fake_server_count(s);
	size_t len = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		const struct fake_request *r = fake_server_request(s, i);
		const char *id = strstr(r->target, "uploadId=");
		if (strcmp(r->method, "DELETE") == 0 && id && len < size)
			len += (size_t)snprintf(out + len, size - len, "%s,",
						id + strlen("uploadId="));
	}
}

static void test_only_our_old_upload_is_aborted(void **state)
{
	char dir[] = "/tmp/offsite-prune-XXXXXX", path[256], text[512],
	     got[256];
	struct fake_server *srv = NULL;
	FILE *f;
	int port;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(fake_server_start(&srv, &port, handler, NULL), 0);
	snprintf(path, sizeof(path), "%s/offsite.ini", dir);
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

	assert_int_equal(prune(path, true), EXIT_OK);
	aborted(got, sizeof(got), srv);
	assert_string_equal(got, ""); /* --dry-run aborts nothing */

	assert_int_equal(prune(path, false), EXIT_OK);
	aborted(got, sizeof(got), srv);
	assert_string_equal(got, "old1,");

	fake_server_stop(srv);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_our_old_upload_is_aborted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
