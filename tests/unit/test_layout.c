/* The bucket layout: keys built and parsed, and keys that are not ours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "retention/retention.h"

/* 2026-11-23T09:30:05Z */
#define T0 ((time_t)1795426205)

static void test_format(void **state)
{
	char *key;

	(void)state;
	assert_int_equal(retention_key_format(&key, "backups/", "daily", "app",
					      T0, "sql.gz"),
			 RETENTION_OK);
	assert_string_equal(
		key, "backups/daily/app/app-daily-20261123T093005Z.sql.gz");
	free(key);

	assert_int_equal(retention_key_format(&key, "", "manual", "my_db.v2",
					      T0, "sql.gz.enc"),
			 RETENTION_OK);
	assert_string_equal(key, "manual/my_db.v2/my_db.v2-manual-"
				 "20261123T093005Z.sql.gz.enc");
	free(key);
}

static void test_format_refuses(void **state)
{
	char *key = (char *)1;

	(void)state;
	assert_int_equal(
		retention_key_format(&key, "", "Daily", "app", T0, "sql.gz"),
		RETENTION_EINVAL);
	assert_null(key);
	assert_int_equal(
		retention_key_format(&key, "", "daily", "a/b", T0, "sql.gz"),
		RETENTION_EINVAL);
	assert_int_equal(
		retention_key_format(&key, "", "daily", "..", T0, "sql.gz"),
		RETENTION_EINVAL);
	assert_int_equal(
		retention_key_format(&key, "", "daily", "app", T0, "zip"),
		RETENTION_EINVAL);
	assert_int_equal(
		retention_key_format(&key, "", "", "app", T0, "sql.gz"),
		RETENTION_EINVAL);
}

static void test_round_trip(void **state)
{
	struct retention_key k;
	char *key;

	(void)state;
	/* A database name with the separator in it still parses. */
	assert_int_equal(retention_key_format(&key, "p/", "weekly", "shop-eu-1",
					      T0, "sql.gz.enc"),
			 RETENTION_OK);
	assert_int_equal(retention_key_parse(&k, "p/", key), RETENTION_OK);
	assert_string_equal(k.type, "weekly");
	assert_string_equal(k.database, "shop-eu-1");
	assert_int_equal(k.created, T0);
	assert_string_equal(k.suffix, "sql.gz.enc");
	assert_true(k.encrypted);
	assert_false(k.manifest);
	free(key);
}

static void test_parse_manifest(void **state)
{
	struct retention_key k;

	(void)state;
	assert_int_equal(
		retention_key_parse(&k, "",
				    "daily/app/app-daily-20261123T093005Z"
				    ".sql.gz.manifest"),
		RETENTION_OK);
	assert_true(k.manifest);
	assert_false(k.encrypted);
	assert_string_equal(k.suffix, "sql.gz");
}

static void test_parse_not_ours(void **state)
{
	static const char *const keys[] = {
		"daily/app/app-daily-20261123T093005Z.sql",
		"daily/app/app-weekly-20261123T093005Z.sql.gz",
		"daily/app/other-daily-20261123T093005Z.sql.gz",
		"daily/app/app-daily-20261123T0930Z.sql.gz",
		"daily/app/app-daily-20260231T093005Z.sql.gz",
		"daily/app/app-daily-20261123T093005Z",
		"daily/app/sub/app-daily-20261123T093005Z.sql.gz",
		"daily/app/",
		"daily//app-daily-20261123T093005Z.sql.gz",
		"Daily/app/app-Daily-20261123T093005Z.sql.gz",
		"daily/app/app-daily-20261123T093005Z.sql.gz.manifest.x",
		"",
	};
	struct retention_key k;
	size_t i;

	(void)state;
	/* Outside our prefix. */
	assert_int_equal(retention_key_parse(&k, "p/",
					     "other/daily/app/app-daily-"
					     "20261123T093005Z.sql.gz"),
			 RETENTION_EINVAL);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(retention_key_parse(&k, "", keys[i]),
				 RETENTION_EINVAL);
}

static void test_time(void **state)
{
	time_t t;
	char s[17];

	(void)state;
	retention_format_time(0, s);
	assert_string_equal(s, "19700101T000000Z");
	assert_int_equal(retention_parse_time("20261123T093005Z", &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(retention_parse_time("20240229T000000Z", &t), 0);
	assert_int_equal(retention_parse_time("20230229T000000Z", &t),
			 RETENTION_EINVAL);
	assert_int_equal(retention_parse_time("20261123T093005", &t),
			 RETENTION_EINVAL);
	assert_int_equal(retention_parse_time("2026112XT093005Z", &t),
			 RETENTION_EINVAL);
	assert_int_equal(retention_parse_time("20261123T253005Z", &t),
			 RETENTION_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_refuses),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_manifest),
		cmocka_unit_test(test_parse_not_ours),
		cmocka_unit_test(test_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
