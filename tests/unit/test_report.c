/* What list and status say: sizes and ages for people, the health check
 * against made-up backups and a fixed clock, and the JSON documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "agent/ops/report.h"

/* 2026-11-23T09:30:00Z */
#define NOW  ((time_t)1795426200)
#define HOUR 3600
#define DAY  (24 * HOUR)

static void test_size(void **state)
{
	char b[REPORT_SIZE_MAX];

	(void)state;
	assert_string_equal(report_size(b, 0), "0 B");
	assert_string_equal(report_size(b, 1023), "1023 B");
	assert_string_equal(report_size(b, 1024), "1.0 KiB");
	assert_string_equal(report_size(b, 1536), "1.5 KiB");
	assert_string_equal(report_size(b, 1288490189), "1.2 GiB");
	/* Not "1024.0 KiB". */
	assert_string_equal(report_size(b, 1024 * 1024 - 1), "1.0 MiB");
	assert_string_equal(report_size(b, UINT64_MAX), "16.0 EiB");
}

static void test_age(void **state)
{
	char b[REPORT_AGE_MAX];

	(void)state;
	assert_string_equal(report_age(b, 0), "0s");
	assert_string_equal(report_age(b, 45), "45s");
	assert_string_equal(report_age(b, 60), "1m");
	assert_string_equal(report_age(b, 125), "2m5s");
	assert_string_equal(report_age(b, 2 * HOUR + 5 * 60 + 7), "2h5m");
	assert_string_equal(report_age(b, 26 * HOUR), "1d2h");
	assert_string_equal(report_age(b, 3 * DAY + 59 * 60), "3d");
	assert_string_equal(report_age(b, 400 * DAY), "400d");
}

static void test_time(void **state)
{
	char b[REPORT_TIME_MAX];

	(void)state;
	assert_string_equal(report_time(b, NOW), "2026-11-23T09:30:00Z");
	assert_string_equal(report_time(b, 0), "1970-01-01T00:00:00Z");
}

/* Backups made up for a test, newest first, as retention_scan gives them. */
struct fixture {
	struct retention_backups b;
	struct retention_uploads u;
	struct retention_backup items[8];
	struct retention_upload uploads[2];
};

static void add(struct fixture *f, const char *type, const char *db, time_t age,
		uint64_t size, bool complete)
{
	struct retention_backup *x = &f->items[f->b.n++];

	memset(x, 0, sizeof(*x));
	snprintf(x->parsed.type, sizeof(x->parsed.type), "%s", type);
	snprintf(x->parsed.database, sizeof(x->parsed.database), "%s", db);
	x->parsed.created = NOW - age;
	x->size = size;
	x->complete = complete;
	x->verdict = complete ? RETENTION_ACCEPTED : RETENTION_NO_MANIFEST;
	x->key = (char *)(uintptr_t) "k"; /* not freed: no dispose here */
	f->b.items = f->items;
}

static conf *config(const char *retention)
{
	char text[1024];
	conf_error err;
	conf *c = NULL;

	snprintf(text, sizeof(text),
		 "[storage]\nbucket = backups\n"
		 "[database]\nname = app\n[retention]\n%s\n",
		 retention);
	assert_int_equal(conf_parse(&c, "t.ini", text, &err), CONF_OK);
	return c;
}

static void test_totals(void **state)
{
	struct report_status_options o = {.now = NOW};
	struct report_status s;
	struct fixture f = {0};

	(void)state;
	add(&f, "daily", "app", 1 * HOUR, 100, true);
	add(&f, "manual", "app", 2 * HOUR, 5, false);
	add(&f, "daily", "app", 25 * HOUR, 200, true);
	add(&f, "daily", "crm", 30 * HOUR, 1000, true);
	f.uploads[0].key = (char *)(uintptr_t) "p";
	f.uploads[0].initiated = NOW - 60;
	f.u.items = f.uploads;
	f.u.n = 1;
	assert_int_equal(report_status_build(&s, &f.b, &f.u, &o), 0);

	assert_int_equal(s.total.count, 4);
	assert_int_equal(s.total.complete, 3);
	assert_int_equal(s.total.bytes, 1305);
	assert_int_equal(s.ntypes, 2);
	assert_string_equal(s.types[0].type, "daily");
	assert_int_equal(s.types[0].count, 3);
	assert_int_equal(s.types[0].bytes, 1300);
	assert_string_equal(s.types[1].type, "manual");
	assert_int_equal(s.types[1].complete, 0);
	assert_ptr_equal(s.newest, &f.items[0]);
	assert_ptr_equal(s.oldest, &f.items[3]);
	assert_int_equal(s.pending, 1);
	assert_ptr_equal(s.oldest_pending, &f.uploads[0]);

	/* Pairs sorted; the newest complete of each; no max age: no check. */
	assert_int_equal(s.npairs, 3);
	assert_string_equal(s.pairs[0].database, "app");
	assert_ptr_equal(s.pairs[0].newest, &f.items[0]);
	assert_int_equal(s.pairs[0].age, HOUR);
	assert_string_equal(s.pairs[1].database, "crm");
	assert_string_equal(s.pairs[2].type, "manual");
	assert_null(s.pairs[2].newest);
	assert_false(s.pairs[2].stale);
	assert_int_equal(s.nproblems, 0);
	report_status_dispose(&s);
}

static void test_max_age_option(void **state)
{
	struct report_status_options o = {.now = NOW, .max_age = 26 * HOUR};
	struct report_status s;
	struct fixture f = {0};

	(void)state;
	add(&f, "daily", "app", 1 * HOUR, 1, true);
	add(&f, "daily", "crm", 2 * HOUR, 1, false);
	add(&f, "daily", "crm", 3 * DAY, 1, true);
	assert_int_equal(report_status_build(&s, &f.b, NULL, &o), 0);
	assert_int_equal(s.npairs, 2);
	assert_false(s.pairs[0].stale);
	/* The incomplete newer one does not count. */
	assert_true(s.pairs[1].stale);
	assert_int_equal(s.pairs[1].age, 3 * DAY);
	assert_int_equal(s.nproblems, 1);
	assert_string_equal(s.problems[0],
			    "daily backup of crm is stale: the newest "
			    "complete one is 3d old, max age 1d2h");
	report_status_dispose(&s);

	/* Exactly at the limit is still fresh. */
	memset(&f, 0, sizeof(f));
	add(&f, "daily", "app", 26 * HOUR, 1, true);
	assert_int_equal(report_status_build(&s, &f.b, NULL, &o), 0);
	assert_int_equal(s.nproblems, 0);
	report_status_dispose(&s);
}

static void test_max_age_config(void **state)
{
	conf *c = config("max_age.daily = 26h\nmax_age.weekly = 8d\n"
			 "days.monthly = 365\n");
	struct report_status_options o = {.now = NOW, .c = c};
	struct report_status s;
	struct fixture f = {0};

	(void)state;
	add(&f, "daily", "app", 2 * DAY, 1, true);
	add(&f, "manual", "app", 90 * DAY, 1, true);
	assert_int_equal(report_status_build(&s, &f.b, NULL, &o), 0);
	/* daily stale; manual not checked; weekly has a max age and no
	 * backup at all; monthly has no max age. */
	assert_int_equal(s.npairs, 3);
	assert_string_equal(s.pairs[0].type, "daily");
	assert_int_equal(s.pairs[0].max_age, 26 * HOUR);
	assert_true(s.pairs[0].stale);
	assert_string_equal(s.pairs[1].type, "manual");
	assert_int_equal(s.pairs[1].max_age, 0);
	assert_false(s.pairs[1].stale);
	assert_string_equal(s.pairs[2].type, "weekly");
	assert_string_equal(s.pairs[2].database, "");
	assert_true(s.pairs[2].stale);
	assert_int_equal(s.nproblems, 2);
	assert_string_equal(s.problems[1], "no complete backup of type weekly");
	report_status_dispose(&s);

	/* Limited to one type, the others are not looked at. */
	o.type = "daily";
	memset(&f, 0, sizeof(f));
	add(&f, "daily", "app", HOUR, 1, true);
	assert_int_equal(report_status_build(&s, &f.b, NULL, &o), 0);
	assert_int_equal(s.npairs, 1);
	assert_int_equal(s.nproblems, 0);
	report_status_dispose(&s);

	/* Limited to a database: a missing type names it. */
	o.type = "weekly";
	o.database = "crm";
	memset(&f, 0, sizeof(f));
	assert_int_equal(report_status_build(&s, &f.b, NULL, &o), 0);
	assert_int_equal(s.nproblems, 1);
	assert_string_equal(s.problems[0],
			    "no complete backup of type weekly for database "
			    "crm");
	report_status_dispose(&s);
	conf_free(c);
}

static void test_nothing_at_all(void **state)
{
	conf *c = config("max_age = 2d\n");
	struct report_status_options o = {.now = NOW, .c = c};
	struct report_status s;
	struct fixture f = {0};

	(void)state;
	assert_int_equal(report_status_build(&s, &f.b, NULL, &o), 0);
	assert_int_equal(s.nproblems, 1);
	assert_string_equal(s.problems[0], "no complete backup");
	assert_null(s.newest);
	report_status_dispose(&s);

	/* Without any max age, an empty bucket is merely empty. */
	o.c = NULL;
	assert_int_equal(report_status_build(&s, &f.b, NULL, &o), 0);
	assert_int_equal(s.nproblems, 0);
	assert_int_equal(s.npairs, 0);
	report_status_dispose(&s);
	conf_free(c);
}

static void test_list_json(void **state)
{
	struct retention_backups b = {0};
	struct retention_backup x[2] = {{0}};
	json_t *root, *item;
	char *text;

	(void)state;
	x[0].key = (char *)(uintptr_t) "p/daily/app/app-daily-"
				       "20261123T093000Z.sql.gz.enc";
	snprintf(x[0].parsed.type, RETENTION_NAME_MAX, "daily");
	snprintf(x[0].parsed.database, RETENTION_NAME_MAX, "app");
	x[0].parsed.created = NOW;
	x[0].parsed.encrypted = true;
	x[0].encrypted = true;
	x[0].size = 5000000000ULL;
	x[0].complete = true;
	x[0].verdict = RETENTION_ACCEPTED;
	x[1] = x[0];
	x[1].complete = false;
	x[1].verdict = RETENTION_UNVERIFIED;
	b.items = x;
	b.n = 2;

	root = report_list_json("bkt", "p/", &b);
	assert_non_null(root);
	text = json_dumps(root, JSON_COMPACT);
	assert_string_equal(
		text, "{\"bucket\":\"bkt\",\"prefix\":\"p/\",\"backups\":["
		      "{\"key\":\"p/daily/app/app-daily-20261123T093000Z.sql."
		      "gz.enc\",\"type\":\"daily\",\"database\":\"app\","
		      "\"created\":\"2026-11-23T09:30:00Z\",\"size\":"
		      "5000000000,\"encrypted\":true,\"complete\":true,"
		      "\"state\":\"complete\"},"
		      "{\"key\":\"p/daily/app/app-daily-20261123T093000Z.sql."
		      "gz.enc\",\"type\":\"daily\",\"database\":\"app\","
		      "\"created\":\"2026-11-23T09:30:00Z\",\"size\":"
		      "5000000000,\"encrypted\":true,\"complete\":false,"
		      "\"state\":\"unverified\"}]}");
	free(text);
	json_decref(root);

	b.n = 0;
	root = report_list_json("bkt", "", &b);
	item = json_object_get(root, "backups");
	assert_true(json_is_array(item));
	assert_int_equal(json_array_size(item), 0);
	json_decref(root);
}

static void test_status_json(void **state)
{
	conf *c = config("max_age.weekly = 8d\n");
	struct report_status_options o = {
		.now = NOW, .c = c, .max_age = 26 * HOUR};
	struct report_status s;
	struct fixture f = {0};
	json_t *root, *latest, *p;

	(void)state;
	add(&f, "daily", "app", HOUR, 10, true);
	f.uploads[0].key = (char *)(uintptr_t) "up";
	f.uploads[0].initiated = NOW - DAY;
	f.u.items = f.uploads;
	f.u.n = 1;
	assert_int_equal(report_status_build(&s, &f.b, &f.u, &o), 0);
	root = report_status_json("bkt", "", &s, NOW);
	assert_non_null(root);
	assert_true(json_is_false(json_object_get(root, "healthy")));
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(root, "problems"), 0)),
			    "no complete backup of type weekly");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(root, "total"), "bytes")),
			 10);
	latest = json_object_get(root, "latest");
	assert_int_equal(json_array_size(latest), 2);
	p = json_array_get(latest, 0);
	assert_int_equal(json_integer_value(json_object_get(p, "age")), HOUR);
	assert_int_equal(json_integer_value(json_object_get(p, "max_age")),
			 26 * HOUR);
	assert_true(json_is_false(json_object_get(p, "stale")));
	p = json_array_get(latest, 1);
	assert_true(json_is_null(json_object_get(p, "database")));
	assert_true(json_is_null(json_object_get(p, "key")));
	assert_true(json_is_true(json_object_get(p, "stale")));
	p = json_object_get(root, "pending");
	assert_int_equal(json_integer_value(json_object_get(p, "count")), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(p, "oldest"), "initiated")),
			    "2026-11-22T09:30:00Z");
	json_decref(root);
	report_status_dispose(&s);
	conf_free(c);
}

/* Backups dated in the future: one problem, and nothing else counts
 * them; the newest real backup's age is its own, not 0. */
static void test_future(void **state)
{
	struct report_status_options o = {.now = NOW, .max_age = 26 * HOUR};
	struct report_status s;
	struct fixture f = {0};
	json_t *root, *future;

	(void)state;
	add(&f, "daily", "app", -3 * 365 * DAY, 1, true);
	f.items[0].future = true;
	f.items[0].complete = false;
	f.items[0].key = (char *)(uintptr_t) "planted";
	add(&f, "daily", "app", -2 * DAY, 1, false);
	f.items[1].future = true;
	add(&f, "daily", "app", 30 * HOUR, 100, true);
	assert_int_equal(report_status_build(&s, &f.b, NULL, &o), 0);
	assert_int_equal(s.future, 2);
	assert_ptr_equal(s.newest_future, &f.items[0]);
	assert_int_equal(s.total.count, 1);
	assert_ptr_equal(s.newest, &f.items[2]);
	assert_int_equal(s.npairs, 1);
	assert_ptr_equal(s.pairs[0].newest, &f.items[2]);
	assert_int_equal(s.pairs[0].age, 30 * HOUR);
	assert_true(s.pairs[0].stale);
	assert_int_equal(s.nproblems, 2);
	assert_string_equal(s.problems[0],
			    "2 backups dated in the future, ignored (a clock "
			    "that ran ahead, or planted): the newest is "
			    "planted");
	assert_string_equal(report_state(&f.items[0]), "future");
	root = report_status_json("bkt", "", &s, NOW);
	future = json_object_get(root, "future");
	assert_int_equal(json_integer_value(json_object_get(future, "count")),
			 2);
	assert_string_equal(
		json_string_value(json_object_get(future, "newest")),
		"planted");
	json_decref(root);
	report_status_dispose(&s);

	/* Only the future: a problem even without a maximum age. */
	f.b.n = 1;
	o.max_age = 0;
	assert_int_equal(report_status_build(&s, &f.b, NULL, &o), 0);
	assert_int_equal(s.nproblems, 1);
	assert_null(s.newest);
	report_status_dispose(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_totals),
		cmocka_unit_test(test_max_age_option),
		cmocka_unit_test(test_max_age_config),
		cmocka_unit_test(test_nothing_at_all),
		cmocka_unit_test(test_list_json),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_future),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
