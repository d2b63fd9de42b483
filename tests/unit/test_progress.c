/* The progress line: what it says, and that it stays within its size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/ops/progress.h"

static void test_format(void **state)
{
	struct progress_sample s = {.read = 4 * 1024 * 1024,
				    .stored = 1024 * 1024,
				    .has_parts = true,
				    .in_flight = 3,
				    .done = 18};
	char b[PROGRESS_LINE_MAX];

	(void)state;
	progress_format(b, sizeof(b), &s, 3725.0);
	assert_string_equal(b, "read 4.0 MiB  stored 1.0 MiB  ratio 4.00  "
			       "1.1 KiB/s  parts 3 in flight, 18 done  "
			       "1:02:05");
	/* Nothing stored yet, no parts (a dry run), no time yet. */
	s.stored = 0;
	s.has_parts = false;
	progress_format(b, sizeof(b), &s, 0);
	assert_string_equal(b, "read 4.0 MiB  stored 0 B  ratio -  0 B/s  "
			       "0:00:00");
}

static void test_small_buffer(void **state)
{
	struct progress_sample s = {.read = 1, .stored = 1};
	char b[8];

	(void)state;
	assert_int_equal(progress_format(b, sizeof(b), &s, 1), 7);
	assert_string_equal(b, "read 1 ");
}

/* AUTO draws on a terminal only: a pipe gets no line. */
static void test_wanted(void **state)
{
	struct progress *p = NULL;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_false(progress_wanted(PROGRESS_AUTO, fds[1]));
	assert_false(progress_wanted(PROGRESS_OFF, fds[1]));
	assert_true(progress_wanted(PROGRESS_ON, fds[1]));
	assert_int_equal(progress_new(&p, PROGRESS_AUTO, fds[1]), 0);
	assert_null(p);
	/* Forced: started and stopped, it leaves its last state. */
	assert_int_equal(progress_new(&p, PROGRESS_ON, fds[1]), 0);
	assert_non_null(p);
	assert_int_equal(progress_start(p, NULL, NULL), 0);
	progress_free(p);
	close(fds[1]);
	{
		char buf[256];
		ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
		assert_true(n > 0);
		buf[n] = '\0';
		assert_int_equal(buf[0], '\r');
		assert_non_null(strstr(buf, "read 0 B"));
		assert_int_equal(buf[n - 1], '\n');
	}
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_wanted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
