/*
 * catalog: without a conninfo nothing is tried; a catalog that cannot be
 * reached costs one warning (naming the backup, never the conninfo's
 * password) and -1, and `check` says it cannot connect. The rows
 * themselves are written against a real PostgreSQL by
 * integration/catalog.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/ops/catalog.h"
#include "agent/ops/log.h"

/* A loopback port nobody listens on: bound, then closed. */
static int closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static conf *parse(const char *catalog)
{
	char text[512];
	conf_error err = {{0}};
	conf *c = NULL;

	snprintf(text, sizeof(text),
		 "[storage]\nbucket = bkt\n[database]\nname = app\n%s",
		 catalog);
	if (conf_parse(&c, "t.ini", text, &err) != CONF_OK)
		fail_msg("%s", err.msg);
	return c;
}

static const struct catalog_entry entry = {
	.key = "daily/app/app-daily-20250101T000000Z.sql.gz",
	.type = "daily",
	.database = "app",
	.has_size = true,
	.size = 42,
	.created_at = 1735689600,
	.duration = 1.5,
	.status = CATALOG_COMPLETE,
};

static char *read_all(FILE *fp)
{
	static char buf[4096];
	size_t n;

	fflush(fp);
	rewind(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	return buf;
}

static void test_no_catalog_no_connection(void **state)
{
	FILE *log = tmpfile();
	conf *c = parse("");

	(void)state;
	assert_non_null(log);
	log_setup(LOG_DEBUG, LOG_FORMAT_TEXT, log);
	assert_int_equal(catalog_record(c, &entry), 0);
	assert_string_equal(read_all(log), "");
	log_setup(LOG_ERROR, LOG_FORMAT_TEXT, NULL);
	fclose(log);
	conf_free(c);
}

/* Unreachable: one warning with the key, -1; check cannot connect. */
static void test_unreachable_is_one_warning(void **state)
{
	char catalog[256], detail[512];
	FILE *log = tmpfile();
	const char *text;
	conf *c;

	(void)state;
	assert_non_null(log);
	snprintf(catalog, sizeof(catalog),
		 "[catalog]\nconninfo = host=127.0.0.1 port=%d dbname=x "
		 "user=u password=TopSecretPw connect_timeout=5\n",
		 closed_port());
	c = parse(catalog);
	log_setup(LOG_INFO, LOG_FORMAT_TEXT, log);
	assert_int_equal(catalog_record(c, &entry), -1);
	text = read_all(log);
	assert_non_null(strstr(text, "catalog not updated"));
	assert_non_null(strstr(text, entry.key));
	assert_null(strstr(text, "TopSecretPw"));
	log_setup(LOG_ERROR, LOG_FORMAT_TEXT, NULL);
	fclose(log);

	assert_int_equal(catalog_check(c, detail, sizeof(detail)), -1);
	if (strncmp(detail, "cannot connect: ", 16) != 0)
		fail_msg("detail: %s", detail);
	assert_null(strstr(detail, "TopSecretPw"));
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_catalog_no_connection),
		cmocka_unit_test(test_unreachable_is_one_warning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
