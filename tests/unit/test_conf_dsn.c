/*
 * conf/dsn: the one MySQL DSN parser, every part and every refusal, with
 * the reason it gives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "conf/conf.h"

static void test_parts(void **state)
{
	struct conf_mysql_dsn d;
	const char *why = "x";

	(void)state;
	assert_int_equal(
		conf_mysql_dsn_parse(
			&d, "mysql://ro%6Ft:p%40ss@db.example:3307/shop", &why),
		CONF_OK);
	assert_null(why);
	assert_string_equal(d.user, "root");
	assert_string_equal(d.password, "p@ss");
	assert_string_equal(d.host, "db.example");
	assert_int_equal(d.port, 3307);
	assert_string_equal(d.db, "shop");
	assert_null(d.socket);
	conf_mysql_dsn_dispose(&d);
	assert_null(d.user);

	assert_int_equal(
		conf_mysql_dsn_parse(
			&d, "mysql://[::1]/x?socket=/a&socket=%2Fb#f", &why),
		CONF_OK);
	assert_string_equal(d.host, "::1");
	assert_null(d.user);
	assert_string_equal(d.socket, "/b"); /* the last one wins */
	conf_mysql_dsn_dispose(&d);

	assert_int_equal(conf_mysql_dsn_parse(&d, "mysql://u@[::1]:1", &why),
			 CONF_OK);
	assert_int_equal(d.port, 1);
	assert_null(d.db);
	conf_mysql_dsn_dispose(&d);

	/* Empty parts are absent; an empty query parameter is ignored. */
	assert_int_equal(conf_mysql_dsn_parse(&d, "mysql://:@h/?&", &why),
			 CONF_OK);
	assert_null(d.user);
	assert_null(d.password);
	assert_null(d.db);
	conf_mysql_dsn_dispose(&d);
}

static void bad(const char *dsn, const char *want)
{
	struct conf_mysql_dsn d;
	const char *why = NULL;

	assert_int_equal(conf_mysql_dsn_parse(&d, dsn, &why), CONF_ESYNTAX);
	assert_non_null(why);
	assert_string_equal(why, want);
	assert_null(d.user);
	assert_null(d.password);
	assert_null(d.host);
}

static void test_refused(void **state)
{
	(void)state;
	bad("postgresql://h/db", "not a mysql:// URL");
	bad("mysql://u:a%zz@h/db", "bad %-escape in the user");
	bad("mysql://u%00@h/db", "bad %-escape in the user");
	bad("mysql://u@h%/db", "bad %-escape in the host");
	bad("mysql://u@[::1/db", "unclosed [ in the host");
	bad("mysql://u@[::1]x/db", "bad host");
	bad("mysql://u@h:/db", "empty port");
	bad("mysql://u@h:0/db", "bad port");
	bad("mysql://u@h:65536/db", "bad port");
	bad("mysql://u@h:99999999999/db", "bad port");
	bad("mysql://u@h:33a/db", "bad port");
	bad("mysql://u@h/d%00", "bad %-escape in the database");
	bad("mysql://u@h/db?socket=%", "bad %-escape in socket");
	bad("mysql://u@h/db?ssl=1",
	    "unknown parameter (only socket= is known)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
