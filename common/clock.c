/*
 * clock: the monotonic clock, for durations and timeouts.
 */
#include "common/clock.h"

void mono_now(struct timespec *now)
{
	/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
	clock_gettime(CLOCK_MONOTONIC, now);
}

int64_t mono_now_ms(void)
{
	struct timespec now;

	mono_now(&now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int64_t mono_diff_ms(const struct timespec *t0, const struct timespec *t1)
{
	return (int64_t)(t1->tv_sec - t0->tv_sec) * 1000 +
	       (t1->tv_nsec - t0->tv_nsec) / 1000000;
}

double mono_diff_s(const struct timespec *t0, const struct timespec *t1)
{
	return (double)(t1->tv_sec - t0->tv_sec) +
	       (double)(t1->tv_nsec - t0->tv_nsec) / 1e9;
}

int64_t mono_elapsed_ms(const struct timespec *t0)
{
	struct timespec now;

	mono_now(&now);
	return mono_diff_ms(t0, &now);
}

double mono_elapsed_s(const struct timespec *t0)
{
	struct timespec now;

	mono_now(&now);
	return mono_diff_s(t0, &now);
}
