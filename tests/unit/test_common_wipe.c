/*
 * common/wipe: the bytes are zero after a wipe, and every free accepts
 * NULL (the sanitizers check the frees themselves).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/wipe.h"

static void test_wipe(void **state)
{
	char secret[] = "hunter2hunter2";
	const char zero[sizeof(secret)] = {0};

	(void)state;
	wipe(secret, sizeof(secret));
	assert_memory_equal(secret, zero, sizeof(secret));
	/* Only LEN bytes. */
	memcpy(secret, "abcdef", 7);
	wipe(secret, 3);
	assert_memory_equal(secret, "\0\0\0def", 7);
	wipe(secret, 0);
	assert_string_equal(secret + 3, "def");
	wipe(NULL, 0);
}

static void test_wipe_free(void **state)
{
	char *s = strdup("secret-access-key");
	char *p = malloc(32);

	(void)state;
	assert_non_null(s);
	assert_non_null(p);
	memset(p, 'k', 32);
	wipe_free(p, 32);
	wipe_free_str(s);
	wipe_free(NULL, 32);
	wipe_free_str(NULL);
	/* An empty string is still freed. */
	s = strdup("");
	assert_non_null(s);
	wipe_free_str(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_wipe_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
