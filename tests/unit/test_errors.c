/*
 * The agent's one error: each library's codes become AGENT_* codes in one
 * function at its edge, with its message whole, and the commands turn a
 * code into an exit status in one place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cli.h"
#include "agent/error.h"
#include "agent/repo/storage.h"

/* A message as long as S3 may make one, with a tail that must arrive. */
static void long_s3_error(s3_error *serr, int code)
{
	memset(serr, 0, sizeof(*serr));
	serr->code = code;
	memset(serr->msg, 'x', 1000);
	memcpy(serr->msg + 990, "...the end", 10);
	serr->msg[1000] = '\0';
}

static void test_storage_error_whole(void **state)
{
	struct agent_error err = {0};
	s3_error serr;

	(void)state;
	long_s3_error(&serr, S3_EHTTP);
	assert_int_equal(storage_error(&err, &serr, NULL), AGENT_EIO);
	assert_int_equal(err.code, AGENT_EIO);
	assert_int_equal(strlen(err.msg), 1000);
	assert_string_equal(err.msg, serr.msg);
}

static void test_storage_error_context(void **state)
{
	struct agent_error err = {0};
	s3_error serr;
	const char *want = "cannot read the manifest of b/k-1: ";

	(void)state;
	long_s3_error(&serr, S3_ENET);
	assert_int_equal(storage_error(&err, &serr,
				       "cannot read the manifest of %s-%d",
				       "b/k", 1),
			 AGENT_EIO);
	assert_int_equal(strlen(err.msg), strlen(want) + 1000);
	assert_memory_equal(err.msg, want, strlen(want));
	assert_string_equal(err.msg + strlen(want), serr.msg);
}

static void test_storage_error_codes(void **state)
{
	static const struct {
		int s3;
		int agent;
	} map[] = {
		{S3_ENOMEM, AGENT_ENOMEM}, {S3_EINVAL, AGENT_EIO},
		{S3_ENET, AGENT_EIO},	   {S3_EHTTP, AGENT_EIO},
		{S3_ENOTFOUND, AGENT_EIO}, {S3_EPROTO, AGENT_EIO},
		{S3_EABORTED, AGENT_EIO},  {S3_ECRED, AGENT_EIO},
	};
	char want[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		struct agent_error err = {0};
		s3_error serr = {0};

		serr.code = map[i].s3;
		snprintf(serr.msg, sizeof(serr.msg), "s3 code %d", map[i].s3);
		assert_int_equal(storage_error(&err, &serr, "doing %s", "it"),
				 map[i].agent);
		assert_int_equal(err.code, map[i].agent);
		snprintf(want, sizeof(want), "doing it: s3 code %d", map[i].s3);
		assert_string_equal(err.msg, want);
	}
}

/* The first error wins: a later s3 error is what the first caused. */
static void test_storage_error_first_wins(void **state)
{
	struct agent_error err = {0};
	s3_error serr = {0};

	(void)state;
	agent_fail(&err, AGENT_ECORRUPT, "segment 3 failed authentication");
	serr.code = S3_ENOMEM;
	snprintf(serr.msg, sizeof(serr.msg), "out of memory");
	assert_int_equal(storage_error(&err, &serr, NULL), AGENT_ENOMEM);
	assert_int_equal(err.code, AGENT_ECORRUPT);
	assert_string_equal(err.msg, "segment 3 failed authentication");
}

/* Every code has its exit status, decided in cli_exit_for alone. */
static void test_exit_for(void **state)
{
	static const struct {
		int code;
		int exit;
	} map[] = {
		{AGENT_OK, EXIT_OK},
		{AGENT_EIO, EXIT_FAILED},
		{AGENT_ENOMEM, EXIT_FAILED},
		{AGENT_EFORMAT, EXIT_INTEGRITY},
		{AGENT_ETRUNC, EXIT_INTEGRITY},
		{AGENT_EAUTH, EXIT_INTEGRITY},
		{AGENT_ECORRUPT, EXIT_INTEGRITY},
		{AGENT_ELIMIT, EXIT_FAILED},
		{AGENT_ECANCEL, EXIT_FAILED},
		{AGENT_EKEY, EXIT_USAGE},
		{AGENT_ELOCKED, EXIT_LOCKED},
		{AGENT_ECONFIG, EXIT_USAGE},
		{AGENT_EEXIST, EXIT_FAILED},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		assert_int_equal(cli_exit_for(map[i].code), map[i].exit);
}

/* conf's codes become the agent's where commands load the config. */
static void test_config_error(void **state)
{
	char dir[] = "/tmp/test_errors.XXXXXX", path[64];
	struct cli_globals g = {0};
	struct agent_error err;
	conf *c = (conf *)&g; /* set to NULL on failure */
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.ini", dir);
	g.config_path = path;
	assert_int_equal(cli_config_try(&c, &g, &err), AGENT_ECONFIG);
	assert_null(c);
	assert_int_equal(err.code, AGENT_ECONFIG);
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(cli_exit_for(err.code), EXIT_USAGE);

	snprintf(path, sizeof(path), "%s/bad.ini", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("[no such section]\nkey = value\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(cli_config_try(&c, &g, &err), AGENT_ECONFIG);
	assert_null(c);
	assert_non_null(strstr(err.msg, "no such section"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storage_error_whole),
		cmocka_unit_test(test_storage_error_context),
		cmocka_unit_test(test_storage_error_codes),
		cmocka_unit_test(test_storage_error_first_wins),
		cmocka_unit_test(test_exit_for),
		cmocka_unit_test(test_config_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
