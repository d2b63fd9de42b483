/*
 * retention's reading of a bucket against a scripted server: the
 * unfinished uploads of backups (retention_pending: ours only, of the
 * type and database asked, oldest first), a scan of one type, ties in
 * time, a check that decides nothing or fails, and a listing that fails
 * mid-way; then the words a plan uses for rules of every shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ops/log.h"
#include "retention/retention.h"
#include "retention/stale.h"
#include "tests/support/fake_server.h"

#define T0 1735689600 /* 2025-01-01T00:00:00Z */

/* How the bucket answers: a listing page per request, from LIST (the
 * last one again past the end), or an error status for every listing
 * from request FAIL_AT on; ListMultipartUploads: UPLOADS. */
struct bucket {
	const char *list[4];
	size_t nlist;
	unsigned fail_at; /* 0: never */
	const char *uploads;
	unsigned lists;
	bool lifecycle_denied; /* else the bucket has none */
};

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	static const char denied[] =
		"<Error><Code>AccessDenied</Code><Message>Access Denied"
		"</Message></Error>";
	static const char none[] =
		"<Error><Code>NoSuchLifecycleConfiguration</Code><Message>The "
		"lifecycle configuration does not exist</Message></Error>";
	static const char gone[] = "<Error><Code>NoSuchUpload</Code>"
				   "<Message>gone</Message></Error>";
	struct bucket *b = ctx;
	const char *body;
	unsigned i;

	if (strcmp(req->method, "DELETE") == 0) {
		fake_reply(conn, 404, NULL, gone, strlen(gone));
		return;
	}
	if (strstr(req->target, "lifecycle=") != NULL) {
		if (b->lifecycle_denied)
			fake_reply(conn, 403, NULL, denied, strlen(denied));
		else
			fake_reply(conn, 404, NULL, none, strlen(none));
		return;
	}
	if (strstr(req->target, "uploads=") != NULL) {
		body = b->uploads;
	} else {
		i = b->lists++;
		if (b->fail_at && i + 1 >= b->fail_at) {
			fake_reply(conn, 403, NULL, denied, strlen(denied));
			return;
		}
		body = b->list[i < b->nlist ? i : b->nlist - 1];
	}
	fake_reply(conn, 200, NULL, body, strlen(body));
}

struct fixture {
	struct bucket b;
	struct fake_server *server;
	s3_client *client;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	*state = f;
	return f ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	s3_client_free(f->client);
	fake_server_stop(f->server);
	free(f);
	return 0;
}

static void start(struct fixture *f)
{
	s3_options o;
	char endpoint[64];
	s3_error err;
	int port;

	assert_int_equal(fake_server_start(&f->server, &port, handler, &f->b),
			 0);
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
	fake_s3_options(&o, endpoint);
	o.max_attempts = 1;
	assert_int_equal(s3_client_new(&f->client, &o, &err), S3_OK);
}

/* ---- unfinished uploads ---- */

#define UPLOAD(key, when)                                                      \
	"<Upload><Key>" key "</Key><UploadId>u-" when "</UploadId><Initiated>" \
	"2025-01-0" when "T00:00:00.000Z</Initiated></Upload>"

static const char uploads[] =
	"<ListMultipartUploadsResult><Bucket>bkt</Bucket><IsTruncated>false"
	"</IsTruncated>" UPLOAD(
		"pfx/daily/app/app-daily-20250103T000000Z.sql.gz",
		"3") UPLOAD("pfx/daily/app/"
			    "app-daily-20250101T000000Z.sql.gz",
			    "1") UPLOAD("pfx/daily/app/app-daily-20250101T000000Z.sql.gz."
					"manifest",
					"2")
		UPLOAD("pfx/daily/app/app-daily-20250102T000000Z.sql.gz",
		       "2") UPLOAD("pfx/weekly/app/"
				   "app-weekly-20250102T000000Z.sql.gz.enc",
				   "2")
			UPLOAD("pfx/daily/other/"
			       "other-daily-20250104T000000Z.sql.gz",
			       "4") UPLOAD("pfx/notours.txt",
					   "5") "</ListMultipartUploadsResult>";

static void test_pending(void **state)
{
	struct fixture *f = *state;
	struct retention_uploads u;
	struct retention_error err;

	f->b.uploads = uploads;
	start(f);
	assert_int_equal(
		retention_pending(&u, f->client, "pfx/", NULL, NULL, &err),
		RETENTION_OK);
	/* Every backup's upload, oldest first (by key at the same time);
	 * not the manifest's, not a key outside the layout. */
	assert_int_equal(u.n, 5);
	assert_string_equal(u.items[0].key,
			    "pfx/daily/app/app-daily-20250101T000000Z.sql.gz");
	assert_int_equal(u.items[0].initiated, T0);
	assert_string_equal(u.items[1].key,
			    "pfx/daily/app/app-daily-20250102T000000Z.sql.gz");
	assert_int_equal(u.items[1].initiated, T0 + 86400);
	assert_string_equal(u.items[2].parsed.type, "weekly");
	assert_int_equal(u.items[2].initiated, T0 + 86400);
	assert_true(u.items[2].parsed.encrypted);
	assert_string_equal(u.items[3].key,
			    "pfx/daily/app/app-daily-20250103T000000Z.sql.gz");
	assert_string_equal(u.items[4].parsed.database, "other");
	retention_uploads_dispose(&u);
	assert_null(u.items);
	assert_int_equal(u.n, 0);

	/* One type, one database. */
	assert_int_equal(
		retention_pending(&u, f->client, "pfx/", "daily", "app", &err),
		RETENTION_OK);
	assert_int_equal(u.n, 3);
	assert_int_equal(u.items[0].parsed.created, T0);
	assert_int_equal(u.items[2].parsed.created, T0 + 2 * 86400);
	retention_uploads_dispose(&u);
	assert_int_equal(
		retention_pending(&u, f->client, "pfx/", "monthly", NULL, &err),
		RETENTION_OK);
	assert_int_equal(u.n, 0);
	retention_uploads_dispose(&u);
}

static void test_pending_none_and_failure(void **state)
{
	struct fixture *f = *state;
	struct retention_uploads u;
	struct retention_error err;

	f->b.uploads = "<ListMultipartUploadsResult><IsTruncated>false"
		       "</IsTruncated></ListMultipartUploadsResult>";
	start(f);
	assert_int_equal(
		retention_pending(&u, f->client, "pfx/", NULL, NULL, &err),
		RETENTION_OK);
	assert_int_equal(u.n, 0);
	assert_null(u.items);
	retention_uploads_dispose(&u);

	f->b.uploads = "<ListMultipartUploadsResult>";
	assert_int_equal(
		retention_pending(&u, f->client, "pfx/", NULL, NULL, &err),
		RETENTION_ES3);
	assert_int_equal(u.n, 0);
	assert_null(u.items);
	assert_non_null(strstr(err.msg, "not well-formed XML"));
}

/* ---- scans ---- */

#define OBJ(key)                                                               \
	"<Contents><Key>" key "</Key><LastModified>2025-01-05T00:00:00.000Z"   \
	"</LastModified><ETag>\"e\"</ETag><Size>10</Size></Contents>"

static const char page_last[] =
	"<ListBucketResult><Name>bkt</Name><IsTruncated>false</IsTruncated>" OBJ(
		"pfx/daily/app/app-daily-20250101T000000Z.sql.gz")
		OBJ("pfx/daily/app/app-daily-20250101T000000Z.sql.gz.manifest")
			OBJ("pfx/daily/zed/zed-daily-20250101T000000Z.sql.gz")
				OBJ("pfx/daily/zed/"
				    "zed-daily-20250101T000000Z.sql.gz."
				    "manifest") "</ListBucketResult>";

static const char page_first[] =
	"<ListBucketResult><Name>bkt</Name><IsTruncated>true</IsTruncated>"
	"<NextContinuationToken>t1</NextContinuationToken>" OBJ(
		"pfx/daily/app/app-daily-20241231T000000Z.sql.gz") "</ListBucketResult>";

/* A check that decides nothing, or fails, and counts its calls. */
struct check {
	unsigned calls;
	int rc;
};

static int check(void *ctx, s3_client *c, struct retention_backup *b,
		 struct retention_error *err)
{
	struct check *k = ctx;

	(void)c;
	(void)b;
	k->calls++;
	if (k->rc != RETENTION_OK) {
		err->code = k->rc;
		snprintf(err->msg, sizeof(err->msg), "manifest unreadable");
	}
	return k->rc;
}

static void test_scan_of_a_type(void **state)
{
	struct fixture *f = *state;
	struct retention_scan_options o = RETENTION_SCAN_OPTIONS_INIT;
	struct retention_backups b;
	struct check k = {0};
	const struct fake_request *r;
	struct retention_error err;

	f->b.list[0] = page_last;
	f->b.nlist = 1;
	start(f);
	o.type = "daily";
	o.now = T0 + 86400;
	o.check = check;
	o.check_ctx = &k;
	assert_int_equal(retention_scan(&b, f->client, "pfx/", &o, &err),
			 RETENTION_OK);
	r = fake_server_request(f->server, 0);
	assert_non_null(r);
	assert_non_null(strstr(r->target, "prefix=pfx%2Fdaily%2F"));
	/* The same time: the later key first. Judged, undecided. */
	assert_int_equal(b.n, 2);
	assert_string_equal(b.items[0].parsed.database, "zed");
	assert_string_equal(b.items[1].parsed.database, "app");
	assert_int_equal(k.calls, 2);
	assert_int_equal(b.items[0].verdict, RETENTION_UNVERIFIED);
	assert_false(b.items[0].complete);
	retention_backups_dispose(&b);
}

static void test_scan_check_fails(void **state)
{
	struct fixture *f = *state;
	struct retention_scan_options o = RETENTION_SCAN_OPTIONS_INIT;
	struct retention_backups b, lazy;
	const struct retention_backup *latest = NULL;
	struct check k = {.rc = RETENTION_ES3};
	struct retention_error err;

	f->b.list[0] = page_last;
	f->b.nlist = 1;
	start(f);
	o.now = T0 + 86400;
	o.check = check;
	o.check_ctx = &k;
	assert_int_equal(retention_scan(&b, f->client, "pfx/", &o, &err),
			 RETENTION_ES3);
	assert_int_equal(k.calls, 1);
	assert_int_equal(b.n, 0);
	assert_null(b.items);
	assert_string_equal(err.msg, "manifest unreadable");

	/* Lazy: the scan succeeds, latest fails on its first judgement. */
	o.lazy = true;
	k.calls = 0;
	assert_int_equal(retention_scan(&lazy, f->client, "pfx/", &o, &err),
			 RETENTION_OK);
	assert_int_equal(k.calls, 0);
	assert_int_equal(lazy.n, 2);
	assert_int_equal(retention_latest(&latest, &lazy, f->client, &o, &err),
			 RETENTION_ES3);
	assert_null(latest);
	assert_int_equal(k.calls, 1);
	retention_backups_dispose(&lazy);
}

/* The second page is refused: the scan fails, with what it had freed. */
static void test_scan_listing_fails_midway(void **state)
{
	struct fixture *f = *state;
	struct retention_scan_options o = RETENTION_SCAN_OPTIONS_INIT;
	struct retention_backups b;
	struct retention_error err;

	f->b.list[0] = page_first;
	f->b.list[1] = page_last;
	f->b.nlist = 2;
	f->b.fail_at = 2;
	start(f);
	o.now = T0;
	o.type = "daily";
	o.database = "app";
	assert_int_equal(retention_scan(&b, f->client, "pfx/", &o, &err),
			 RETENTION_ES3);
	assert_int_equal(b.n, 0);
	/* The S3 answer is carried over whole. */
	assert_non_null(strstr(err.msg, "AccessDenied"));
	assert_non_null(strstr(err.msg, "403"));
	assert_int_equal(fake_server_count(f->server), 2);
	assert_non_null(strstr(fake_server_request(f->server, 1)->target,
			       "continuation-token=t1"));
}

/* ---- markers and aborts of uploads that are gone ---- */

static void test_gone_is_not_an_error(void **state)
{
	static const char bad_time[] = "offsite-upload 1\nhost=h\npid=1\n"
				       "started=20250101T000000\n"
				       "longest_run=60\n";
	char key[] = "pfx/daily/app/app-daily-20250101T000000Z.sql.gz";
	char id[] = "u1";
	struct fixture *f = *state;
	struct s3_upload u = {.key = key, .upload_id = id};
	struct retention_marker m;
	struct retention_error err;

	start(f);
	/* The server says 404 to every DELETE. */
	assert_int_equal(retention_marker_delete(f->client, key, &err),
			 RETENTION_OK);
	assert_int_equal(retention_stale_abort(f->client, &u, &err),
			 RETENTION_OK);
	assert_int_equal(fake_server_count(f->server), 3);
	assert_string_equal(fake_server_request(f->server, 1)->target,
			    "/bkt/pfx/daily/app/"
			    "app-daily-20250101T000000Z.sql.gz?uploadId=u1");

	/* A marker whose time is not 16 characters. */
	assert_int_equal(retention_marker_parse(&m, bad_time, strlen(bad_time)),
			 RETENTION_EINVAL);
}

static void test_layout_refusals(void **state)
{
	struct retention_key k;
	time_t t = 1;

	(void)state;
	assert_int_equal(retention_parse_time("2025-01-01", &t),
			 RETENTION_EINVAL);
	assert_int_equal(retention_parse_time("20250101T000000Z", &t),
			 RETENTION_OK);
	assert_int_equal(t, T0);
	/* A suffix too long for any of ours. */
	assert_int_equal(
		retention_key_parse(&k, "pfx/",
				    "pfx/daily/app/app-daily-20250101T000000Z."
				    "sql.gz.enc.and.then.some.more.text"),
		RETENTION_EINVAL);
}

/* ---- retention apply: where the types come from, and failures ---- */

static const char folders[] =
	"<ListBucketResult><Name>bkt</Name><IsTruncated>false</IsTruncated>"
	"<CommonPrefixes><Prefix>pfx/x/</Prefix></CommonPrefixes>"
	"<CommonPrefixes><Prefix>pfx//</Prefix></CommonPrefixes>"
	"<CommonPrefixes><Prefix>other/</Prefix></CommonPrefixes>"
	"<Contents><Key>pfx/readme</Key><LastModified>2025-01-05T00:00:00.000Z"
	"</LastModified><ETag>\"e\"</ETag><Size>1</Size></Contents>"
	"</ListBucketResult>";

static bool has_rule(const struct retention_plan *p, const char *id)
{
	for (size_t i = 0; i < p->result.nrules; i++)
		if (p->result.rules[i].id &&
		    strcmp(p->result.rules[i].id, id) == 0)
			return true;
	return false;
}

static void test_apply_types_and_failures(void **state)
{
	struct fixture *f = *state;
	conf_error cerr = {{0}};
	struct retention_plan p;
	conf *c = NULL;
	struct retention_error err;

	assert_int_equal(conf_parse(&c, "t.ini",
				    "[storage]\nbucket = bkt\nprefix = pfx/\n"
				    "[database]\ndriver = stdin\n"
				    "[retention]\ndays = 30\n",
				    &cerr),
			 CONF_OK);
	f->b.list[0] = folders;
	f->b.nlist = 1;
	start(f);
	/* Folders of the prefix name types; nothing else does, and a name
	 * that is not a type is left out. */
	assert_int_equal(retention_apply(&p, f->client, c, "Not A Type", false,
					 true, &err),
			 RETENTION_OK);
	assert_true(p.changed);
	assert_true(has_rule(&p, "offsite-pfx/x"));
	assert_true(has_rule(&p, "offsite-pfx/manual"));
	assert_true(has_rule(&p, "offsite-pfx/abort-incomplete"));
	assert_int_equal(p.result.nrules, 3);
	retention_plan_dispose(&p);

	/* The folders cannot be listed. */
	f->b.fail_at = 1;
	assert_int_equal(
		retention_apply(&p, f->client, c, NULL, false, true, &err),
		RETENTION_ES3);
	assert_non_null(strstr(err.msg, "AccessDenied"));
	assert_int_equal(p.nchanges, 0);
	assert_int_equal(p.result.nrules, 0);

	/* The configuration cannot be read. */
	f->b.lifecycle_denied = true;
	assert_int_equal(
		retention_apply(&p, f->client, c, NULL, false, true, &err),
		RETENTION_ES3);
	assert_non_null(strstr(err.msg, "403"));
	assert_int_equal(p.nchanges, 0);
	conf_free(c);
}

/* ---- plans: the words for every shape of rule ---- */

static void test_plan_words(void **state)
{
	char id_abort[] = "offsite-pfx/abort-incomplete",
	     id_daily[] = "offsite-pfx/daily", id_other[] = "tags-only",
	     id_off[] = "disabled-whole", p_pfx[] = "pfx/",
	     p_daily[] = "pfx/daily/", p_all[] = "";
	struct s3_lifecycle_rule cur[] = {
		{.id = id_abort,
		 .prefix = p_pfx,
		 .enabled = true,
		 .abort_incomplete_days = 3},
		{.id = id_daily,
		 .prefix = p_daily,
		 .enabled = true,
		 .expiration_days = 30},
		{.id = id_other, .prefix = NULL, .enabled = true},
		{.id = id_off,
		 .prefix = p_all,
		 .enabled = false,
		 .expiration_days = 1},
	};
	struct s3_lifecycle_rule want[] = {
		{.id = id_abort,
		 .prefix = p_pfx,
		 .enabled = true,
		 .abort_incomplete_days = 7},
		{.id = id_daily,
		 .prefix = p_daily,
		 .enabled = true,
		 .expiration_days = 30},
	};
	struct s3_lifecycle current = {cur, 4}, wanted = {want, 2};
	struct retention_plan p;

	(void)state;
	assert_int_equal(
		retention_plan_make(&p, &current, &wanted, "pfx/", false),
		RETENTION_OK);
	assert_true(p.changed);
	assert_int_equal(p.nchanges, 4);
	assert_int_equal(p.changes[0].op, RETENTION_RULE_UPDATE);
	assert_string_equal(p.changes[0].text,
			    "offsite-pfx/abort-incomplete: abort uploads under "
			    "pfx/ unfinished after 7 days (was 3 days)");
	assert_int_equal(p.changes[1].op, RETENTION_RULE_SAME);
	assert_int_equal(p.changes[2].op, RETENTION_RULE_FOREIGN);
	assert_string_equal(p.changes[2].text,
			    "tags-only: (a filter other than a prefix)");
	assert_int_equal(p.changes[3].op, RETENTION_RULE_FOREIGN);
	assert_string_equal(p.changes[3].text,
			    "disabled-whole: expire (the whole bucket) after 1 "
			    "day (disabled)");
	assert_int_equal(p.result.nrules, 4);
	assert_int_equal(p.result.rules[0].abort_incomplete_days, 7);
	retention_plan_dispose(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_none_and_failure,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_of_a_type, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scan_check_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scan_listing_fails_midway,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_is_not_an_error,
						setup, teardown),
		cmocka_unit_test(test_layout_refusals),
		cmocka_unit_test_setup_teardown(test_apply_types_and_failures,
						setup, teardown),
		cmocka_unit_test(test_plan_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
