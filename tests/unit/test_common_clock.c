/*
 * common/clock: the monotonic clock never goes back, and the differences
 * carry the nanoseconds across a second.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"

static void test_diff(void **state)
{
	struct timespec t0 = {10, 900000000}, t1 = {12, 100000000};

	(void)state;
	assert_int_equal(mono_diff_ms(&t0, &t1), 1200);
	assert_true(mono_diff_s(&t0, &t1) > 1.199 &&
		    mono_diff_s(&t0, &t1) < 1.201);
	assert_int_equal(mono_diff_ms(&t0, &t0), 0);
	assert_true(mono_diff_s(&t0, &t0) == 0.0);
	/* Truncated, not rounded: 1.9999999 ms is 1 ms. */
	t1 = (struct timespec){10, 901999999};
	assert_int_equal(mono_diff_ms(&t0, &t1), 1);
}

static void test_now(void **state)
{
	struct timespec t0, t1;
	int64_t a, b;

	(void)state;
	mono_now(&t0);
	a = mono_now_ms();
	b = mono_now_ms();
	mono_now(&t1);
	assert_true(b >= a);
	assert_true(a >= (int64_t)t0.tv_sec * 1000 + t0.tv_nsec / 1000000);
	assert_true(mono_diff_ms(&t0, &t1) >= 0);
	assert_true(mono_elapsed_ms(&t0) >= mono_diff_ms(&t0, &t1));
	assert_true(mono_elapsed_s(&t0) >= mono_diff_s(&t0, &t1));
	/* A reading an hour back is an hour old, whatever the machine. */
	t0.tv_sec -= 3600;
	assert_true(mono_elapsed_ms(&t0) >= 3600 * 1000);
	assert_true(mono_elapsed_s(&t0) >= 3600.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
