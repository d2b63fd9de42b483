/*
 * stop: a stop signal is taken by the signal thread, once (the first
 * signal names it), the hook runs on it (at once when set after the
 * request), and stop_end gives the signals back to the process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "agent/ops/log.h"
#include "agent/ops/stop.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int calls;

static void hook(void *ctx)
{
	pthread_mutex_lock(&mu);
	calls++;
	*(int *)ctx = stop_requested();
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

/* Wait (at most 10 s) until the hook has run N times in all. */
static bool hook_ran(int n)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&mu);
	while (calls < n && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&cv, &mu, &until);
	rc = calls >= n;
	pthread_mutex_unlock(&mu);
	return rc;
}

static bool blocked(int sig)
{
	sigset_t now;

	pthread_sigmask(SIG_BLOCK, NULL, &now);
	return sigismember(&now, sig) == 1;
}

static int setup(void **state)
{
	(void)state;
	log_setup(LOG_ERROR, LOG_FORMAT_TEXT, NULL);
	calls = 0;
	return 0;
}

static void test_end_without_start(void **state)
{
	(void)state;
	stop_end();
	assert_int_equal(stop_requested(), 0);
	assert_false(stop_cancelled(NULL));
}

/* A stop signal is taken by the thread, not the process, and named. */
static void test_first_signal_stops(void **state)
{
	int seen = 0, late = 0;

	(void)state;
	assert_false(blocked(SIGTERM));
	assert_int_equal(stop_start("test"), 0);
	assert_true(blocked(SIGTERM));
	assert_true(blocked(SIGHUP));
	stop_set_hook(hook, &seen);
	assert_int_equal(stop_requested(), 0);
	assert_false(stop_cancelled(NULL));

	assert_int_equal(kill(getpid(), SIGTERM), 0);
	assert_true(hook_ran(1));
	assert_int_equal(seen, SIGTERM);
	assert_int_equal(stop_requested(), SIGTERM);
	assert_true(stop_cancelled(NULL));

	/* A hook set after the request runs at once, on this thread. */
	stop_set_hook(hook, &late);
	assert_int_equal(calls, 2);
	assert_int_equal(late, SIGTERM);

	stop_set_hook(NULL, NULL);
	stop_end();
	assert_int_equal(stop_requested(), SIGTERM);
	assert_int_equal(calls, 2);
	assert_false(blocked(SIGTERM));
	assert_false(blocked(SIGINT));
}

/* A new start forgets the old request; an end with no request ends the
 * thread all the same. */
static void test_start_again(void **state)
{
	int seen = 0;

	(void)state;
	assert_int_equal(stop_start("again"), 0);
	assert_int_equal(stop_requested(), 0);
	stop_set_hook(hook, &seen);
	stop_end();
	assert_int_equal(calls, 0);
	assert_false(blocked(SIGTERM));

	assert_int_equal(stop_start("again"), 0);
	stop_set_hook(hook, &seen);
	assert_int_equal(kill(getpid(), SIGHUP), 0);
	assert_true(hook_ran(1));
	assert_int_equal(seen, SIGHUP);
	stop_end();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_end_without_start, setup),
		cmocka_unit_test_setup(test_first_signal_stops, setup),
		cmocka_unit_test_setup(test_start_again, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
