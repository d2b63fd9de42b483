/*
 * conf: the value parsers and helpers, at their edges.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/conf_internal.h"

static void size_is(const char *s, uint64_t want)
{
	uint64_t v = 12345;
	int rc = conf_parse_size(s, &v);

	if (rc != CONF_OK)
		fail_msg("conf_parse_size(\"%s\") failed", s);
	if (v != want)
		fail_msg("conf_parse_size(\"%s\") = %llu, want %llu", s,
			 (unsigned long long)v, (unsigned long long)want);
}

static void size_bad(const char *s)
{
	uint64_t v = 0;

	if (conf_parse_size(s, &v) != CONF_ESYNTAX)
		fail_msg("conf_parse_size(\"%s\") accepted: %llu", s,
			 (unsigned long long)v);
}

static void test_size(void **state)
{
	(void)state;
	size_is("0", 0);
	size_is("1", 1);
	size_is("1048576", 1048576);
	size_is("16MiB", 16u << 20);
	size_is("16 MiB", 16u << 20);
	size_is("16\tMiB", 16u << 20);
	size_is("16mib", 16u << 20);
	size_is("16MIB", 16u << 20);
	size_is("16M", 16u << 20);
	size_is("16m", 16u << 20);
	size_is("5MB", 5000000);
	size_is("5mb", 5000000);
	size_is("1k", 1024);
	size_is("1K", 1024);
	size_is("1KiB", 1024);
	size_is("1kib", 1024);
	size_is("1kB", 1000);
	size_is("1KB", 1000);
	size_is("1G", UINT64_C(1) << 30);
	size_is("5GiB", UINT64_C(5) << 30);
	size_is("2GB", UINT64_C(2000000000));
	size_is("1T", UINT64_C(1) << 40);
	size_is("1TiB", UINT64_C(1) << 40);
	size_is("1TB", UINT64_C(1000000000000));
	size_is("100B", 100);
	size_is("100 b", 100);
	size_is("007", 7);
	size_is("18446744073709551615", UINT64_MAX);
	size_is("16777215TiB", UINT64_C(16777215) << 40);

	assert_int_equal(conf_parse_size(NULL, &(uint64_t){0}), CONF_ESYNTAX);
	size_bad("");
	size_bad(" ");
	size_bad(" 1");
	size_bad("1 ");
	size_bad("16MiB ");
	size_bad("-1");
	size_bad("+1");
	size_bad("1.5MiB");
	size_bad("12XB");
	size_bad("MiB");
	size_bad("1iB");
	size_bad("1MiBs");
	size_bad("1 M iB");
	size_bad("1Mi");
	size_bad("0x10");
	size_bad("1P");
	size_bad("18446744073709551616");
	size_bad("99999999999999999999999");
	size_bad("16777216TiB");
	size_bad("18446744073709552K");
	assert_int_equal(conf_parse_size("1", NULL), CONF_ESYNTAX);
}

static void duration_is(const char *s, uint64_t want)
{
	uint64_t v = 12345;

	if (conf_parse_duration(s, &v) != CONF_OK)
		fail_msg("conf_parse_duration(\"%s\") failed", s);
	if (v != want)
		fail_msg("conf_parse_duration(\"%s\") = %llu, want %llu", s,
			 (unsigned long long)v, (unsigned long long)want);
}

static void duration_bad(const char *s)
{
	uint64_t v = 0;

	if (conf_parse_duration(s, &v) != CONF_ESYNTAX)
		fail_msg("conf_parse_duration(\"%s\") accepted: %llu", s,
			 (unsigned long long)v);
}

static void test_duration(void **state)
{
	(void)state;
	duration_is("0", 0);
	duration_is("0s", 0);
	duration_is("90", 90);
	duration_is("90s", 90);
	duration_is("15m", 900);
	duration_is("1h", 3600);
	duration_is("30d", 30 * 86400);
	duration_is("2w", 14 * 86400);
	duration_is("1h30m", 5400);
	duration_is("1d2h3m4s", 86400 + 7200 + 180 + 4);
	duration_is("30m1h", 5400);
	duration_is("18446744073709551615", UINT64_MAX);
	duration_is("18446744073709551615s", UINT64_MAX);
	duration_is("30500568904943w", UINT64_C(30500568904943) * 604800);

	assert_int_equal(conf_parse_duration(NULL, &(uint64_t){0}),
			 CONF_ESYNTAX);
	duration_bad("");
	duration_bad("h");
	duration_bad("1h30");
	duration_bad("1H");
	duration_bad("1 h");
	duration_bad(" 1h");
	duration_bad("1h ");
	duration_bad("-1s");
	duration_bad("1y");
	duration_bad("1.5h");
	duration_bad("18446744073709551616");
	duration_bad("30500568904944w");
	duration_bad("18446744073709551615s1s");
	assert_int_equal(conf_parse_duration("1", NULL), CONF_ESYNTAX);
}

static void test_bool(void **state)
{
	static const char *const yes[] = {"yes", "YES", "true", "True",
					  "on",	 "ON",	"1"};
	static const char *const no[] = {"no",	"No",  "false", "FALSE",
					 "off", "Off", "0"};
	static const char *const bad[] = {"",  "2", "yess",    " yes", "yes ",
					  "y", "n", "enabled", "-1"};
	bool b;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		assert_int_equal(conf_parse_bool(yes[i], &b), CONF_OK);
		assert_true(b);
		b = true;
		assert_int_equal(conf_parse_bool(no[i], &b), CONF_OK);
		assert_false(b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(conf_parse_bool(bad[i], &b), CONF_ESYNTAX);
	assert_int_equal(conf_parse_bool(NULL, &b), CONF_ESYNTAX);
}

static void test_integer(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(conf_parse_integer("0", &v), CONF_OK);
	assert_int_equal(v, 0);
	assert_int_equal(conf_parse_integer("-5", &v), CONF_OK);
	assert_int_equal(v, -5);
	assert_int_equal(conf_parse_integer("9223372036854775807", &v),
			 CONF_OK);
	assert_true(v == INT64_MAX);
	assert_int_equal(conf_parse_integer("-9223372036854775808", &v),
			 CONF_OK);
	assert_true(v == INT64_MIN);
	/* Too big saturates, so the range check reports it. */
	assert_int_equal(conf_parse_integer("9223372036854775808", &v),
			 CONF_OK);
	assert_true(v == INT64_MAX);
	assert_int_equal(conf_parse_integer("99999999999999999999999", &v),
			 CONF_OK);
	assert_true(v == INT64_MAX);
	assert_int_equal(conf_parse_integer("-99999999999999999999999", &v),
			 CONF_OK);
	assert_true(v == INT64_MIN);
	assert_int_equal(conf_parse_integer("", &v), CONF_ESYNTAX);
	assert_int_equal(conf_parse_integer("-", &v), CONF_ESYNTAX);
	assert_int_equal(conf_parse_integer("+1", &v), CONF_ESYNTAX);
	assert_int_equal(conf_parse_integer("1a", &v), CONF_ESYNTAX);
	assert_int_equal(conf_parse_integer(" 1", &v), CONF_ESYNTAX);
	assert_int_equal(conf_parse_integer("1 ", &v), CONF_ESYNTAX);
}

static void format_size_is(uint64_t v, const char *want)
{
	char buf[CONF_FORMAT_MAX];
	uint64_t back = 0;

	assert_string_equal(conf_format_size(buf, sizeof(buf), v), want);
	assert_int_equal(conf_parse_size(buf, &back), CONF_OK);
	assert_true(back == v);
}

static void format_duration_is(uint64_t v, const char *want)
{
	char buf[CONF_FORMAT_MAX];
	uint64_t back = 0;

	assert_string_equal(conf_format_duration(buf, sizeof(buf), v), want);
	assert_int_equal(conf_parse_duration(buf, &back), CONF_OK);
	assert_true(back == v);
}

static void test_format(void **state)
{
	char small[4];

	(void)state;
	format_size_is(0, "0");
	format_size_is(1, "1");
	format_size_is(1023, "1023");
	format_size_is(1024, "1KiB");
	format_size_is(1536, "1536");
	format_size_is(1000, "1kB");
	format_size_is(16u << 20, "16MiB");
	format_size_is(5u << 20, "5MiB");
	format_size_is(UINT64_C(5) << 30, "5GiB");
	format_size_is(5000000, "5MB");
	format_size_is(1024000, "1000KiB");
	format_size_is(UINT64_C(1) << 40, "1TiB");
	format_size_is(UINT64_C(3) << 50, "3072TiB");
	format_size_is(UINT64_MAX, "18446744073709551615");

	format_duration_is(0, "0");
	format_duration_is(1, "1s");
	format_duration_is(60, "1m");
	format_duration_is(90, "1m30s");
	format_duration_is(3600, "1h");
	format_duration_is(5400, "1h30m");
	format_duration_is(86400, "1d");
	format_duration_is(7 * 86400, "7d");
	format_duration_is(30 * 86400, "30d");
	format_duration_is(90061, "1d1h1m1s");
	format_duration_is(UINT64_MAX, "213503982334601d7h15s");

	/* A short buffer is cut, never overrun. */
	assert_string_equal(conf_format_size(small, sizeof(small), 16u << 20),
			    "16M");
	conf_format_duration(small, sizeof(small), 90061);
	assert_true(strlen(small) < sizeof(small));
}

/* Split S and compare with the NULL-terminated WANT. */
static void argv_is(const char *s, const char *const *want)
{
	char **argv = (char **)1;
	size_t i;

	if (conf_split_argv(s, &argv) != CONF_OK)
		fail_msg("conf_split_argv(\"%s\") failed", s);
	assert_non_null(argv);
	for (i = 0; want[i] != NULL; i++) {
		if (argv[i] == NULL)
			fail_msg("\"%s\": word %zu missing", s, i);
		assert_string_equal(argv[i], want[i]);
	}
	if (argv[i] != NULL)
		fail_msg("\"%s\": extra word '%s'", s, argv[i]);
	conf_argv_free(argv);
}

static void argv_bad(const char *s, const char *why)
{
	char **argv = (char **)1;
	const char *got = NULL;

	assert_int_equal(conf_split_argv_why(s, &argv, &got), CONF_ESYNTAX);
	assert_null(argv);
	assert_non_null(got);
	assert_string_equal(got, why);
}

static void test_argv(void **state)
{
	char **argv = (char **)1;

	(void)state;
	argv_is("", (const char *const[]){NULL});
	argv_is("  \t ", (const char *const[]){NULL});
	argv_is("pg_dump", (const char *const[]){"pg_dump", NULL});
	argv_is("a b  c", (const char *const[]){"a", "b", "c", NULL});
	argv_is("  a\tb\nc  ", (const char *const[]){"a", "b", "c", NULL});
	argv_is("'a b' c", (const char *const[]){"a b", "c", NULL});
	argv_is("\"a b\" c", (const char *const[]){"a b", "c", NULL});
	argv_is("a'b'c", (const char *const[]){"abc", NULL});
	argv_is("a\\ b", (const char *const[]){"a b", NULL});
	argv_is("\\'", (const char *const[]){"'", NULL});
	argv_is("''", (const char *const[]){"", NULL});
	argv_is("\"\" ''", (const char *const[]){"", "", NULL});
	argv_is("'it'\\''s'", (const char *const[]){"it's", NULL});
	argv_is("'a\\b'", (const char *const[]){"a\\b", NULL});
	argv_is("\"a \\\" b\"", (const char *const[]){"a \" b", NULL});
	argv_is("\"a\\\\b\"", (const char *const[]){"a\\b", NULL});
	argv_is("\"a\\nb\"", (const char *const[]){"a\\nb", NULL});
	argv_is("\"\\$HOME\" $HOME '*' ~",
		(const char *const[]){"$HOME", "$HOME", "*", "~", NULL});
	argv_is("a\\\nb", (const char *const[]){"ab", NULL});
	argv_is("a \\\n b", (const char *const[]){"a", "b", NULL});
	argv_is("sh -c 'pg_dump \"$DB\" | gzip'",
		(const char *const[]){"sh", "-c", "pg_dump \"$DB\" | gzip",
				      NULL});
	argv_is("--exclude-table='audit log' -Fc",
		(const char *const[]){"--exclude-table=audit log", "-Fc",
				      NULL});

	argv_bad("'a", "has an unterminated quote");
	argv_bad("a \"b", "has an unterminated quote");
	argv_bad("\"a\\\"", "has an unterminated quote");
	argv_bad("a\\", "ends with a backslash");
	assert_int_equal(conf_split_argv(NULL, &argv), CONF_ESYNTAX);
	assert_null(argv);
	assert_int_equal(conf_split_argv("a", NULL), CONF_ESYNTAX);
	conf_argv_free(NULL);
}

static void test_list(void **state)
{
	char **list = NULL;

	(void)state;
	assert_int_equal(conf_split_list("a,b c,,d\t, e ", &list), CONF_OK);
	assert_int_equal(conf_argv_count(list), 5);
	assert_string_equal(list[0], "a");
	assert_string_equal(list[1], "b");
	assert_string_equal(list[2], "c");
	assert_string_equal(list[3], "d");
	assert_string_equal(list[4], "e");
	conf_argv_free(list);
	assert_int_equal(conf_split_list(" , ,", &list), CONF_OK);
	assert_int_equal(conf_argv_count(list), 0);
	conf_argv_free(list);
	assert_int_equal(conf_split_list("public.users", &list), CONF_OK);
	assert_int_equal(conf_argv_count(list), 1);
	assert_string_equal(list[0], "public.users");
	conf_argv_free(list);
}

static void test_edit_distance(void **state)
{
	char longer[100];

	(void)state;
	assert_int_equal(conf_edit_distance("bucket", "bucket"), 0);
	assert_int_equal(conf_edit_distance("buckt", "bucket"), 1);
	assert_int_equal(conf_edit_distance("bukcet", "bucket"), 1);
	assert_int_equal(conf_edit_distance("buket", "backet"), 2);
	assert_int_equal(conf_edit_distance("", "abc"), 3);
	assert_int_equal(conf_edit_distance("abc", ""), 3);
	assert_int_equal(conf_edit_distance("foo", "bar"), 3);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_true(conf_edit_distance(longer, "a") == SIZE_MAX);

	assert_string_equal(conf_key_suggest("storage", "buckt"), "bucket");
	assert_string_equal(conf_key_suggest("storage", "Region"), "region");
	assert_null(conf_key_suggest("storage", "foo"));
	/* Not suggested: keys the file cannot set. */
	assert_null(conf_key_suggest("storage", "secret_kye"));
	assert_string_equal(conf_section_suggest("storag"), "storage");
	assert_null(conf_section_suggest("foo"));
}

static void dbname_is(const char *conninfo, const char *want)
{
	char *name = (char *)1;

	if (conf_dbname_from_conninfo(&name, conninfo) != CONF_OK)
		fail_msg("conninfo \"%s\" did not parse", conninfo);
	if (want == NULL) {
		assert_null(name);
		return;
	}
	assert_non_null(name);
	assert_string_equal(name, want);
	free(name);
}

static void test_dbname(void **state)
{
	char *name = (char *)1;

	(void)state;
	dbname_is("host=db dbname=app user=backup", "app");
	dbname_is("dbname = app", "app");
	dbname_is("dbname='my app' port=5432", "my app");
	dbname_is("dbname='it\\'s'", "it's");
	dbname_is("dbname=a\\ b", "a b");
	dbname_is("dbname=one dbname=two", "two");
	dbname_is("host=db", NULL);
	dbname_is("", NULL);
	dbname_is("dbname=''", NULL);
	dbname_is("postgresql://u:pw@db:5432/app?sslmode=require", "app");
	dbname_is("postgres://db/ap%70", "app");
	dbname_is("postgresql:///app", "app");
	dbname_is("postgresql://db", NULL);
	dbname_is("postgresql://db/", NULL);
	dbname_is("postgresql://db/?dbname=x", "x");
	dbname_is("postgresql://db/a?sslmode=require&dbname=b", "b");
	dbname_is("postgresql://[::1]:5432/app#frag", "app");

	assert_int_equal(conf_dbname_from_conninfo(&name, "host"),
			 CONF_ESYNTAX);
	assert_null(name);
	assert_int_equal(conf_dbname_from_conninfo(&name, "=x"), CONF_ESYNTAX);
	assert_int_equal(conf_dbname_from_conninfo(&name, "dbname='x"),
			 CONF_ESYNTAX);
	assert_int_equal(conf_dbname_from_conninfo(&name, "postgres://h/%zz"),
			 CONF_ESYNTAX);
	assert_int_equal(conf_dbname_from_conninfo(&name, "postgres://h/a%0"),
			 CONF_ESYNTAX);
	assert_int_equal(conf_dbname_from_conninfo(&name, "postgres://h/%00"),
			 CONF_ESYNTAX);

	assert_int_equal(
		conf_dbname_from_url(&name, "mysql://u@h:3306/shop", false),
		CONF_OK);
	assert_string_equal(name, "shop");
	free(name);
	/* Only libpq reads a dbname parameter. */
	assert_int_equal(
		conf_dbname_from_url(&name, "mysql://u@h/a?dbname=b", false),
		CONF_OK);
	assert_string_equal(name, "a");
	free(name);
	assert_int_equal(conf_dbname_from_url(&name, "mysql://u@h", false),
			 CONF_OK);
	assert_null(name);
	assert_int_equal(conf_dbname_from_url(&name, "no-scheme", false),
			 CONF_ESYNTAX);
}

static void redact_is(const char *in, bool cut, const char *want)
{
	char *out = conf_redact(in, cut);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void test_redact(void **state)
{
	(void)state;
	redact_is("postgresql://u:pw@h/db", false,
		  "postgresql://u:<redacted>@h/db");
	redact_is("postgresql://u@h/db", false, "postgresql://u@h/db");
	redact_is("mysql://root:p%40ss@h:3306/shop", false,
		  "mysql://root:<redacted>@h:3306/shop");
	redact_is("postgres://h/db?sslmode=require&password=pw&x=1", false,
		  "postgres://h/db?sslmode=require&password=<redacted>&x=1");
	redact_is("host=h password=secret dbname=x", false,
		  "host=h password=<redacted> dbname=x");
	redact_is("password = 'a b' host=h", false,
		  "password = <redacted> host=h");
	redact_is("host=h password='unterminated", false, "host=h<redacted>");
	redact_is("https://hooks.example.com/services/T0/B0/XyZ", true,
		  "https://hooks.example.com/<redacted>");
	redact_is("https://hooks.example.com/", true,
		  "https://hooks.example.com/");
	redact_is("https://u:tok@hooks.example.com", true,
		  "https://u:<redacted>@hooks.example.com");
	redact_is("https://h?token=abc", true, "https://h?<redacted>");
}

static void test_type_names(void **state)
{
	(void)state;
	assert_true(conf_type_name_ok("daily", 5));
	assert_true(conf_type_name_ok("pre-upgrade_2", 13));
	assert_true(conf_type_name_ok("0123456789012345678901234567890", 31));
	assert_false(conf_type_name_ok("01234567890123456789012345678901", 32));
	assert_false(conf_type_name_ok("", 0));
	assert_false(conf_type_name_ok("Daily", 5));
	assert_false(conf_type_name_ok("a.b", 3));
	assert_false(conf_type_name_ok("a b", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_integer),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_dbname),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
