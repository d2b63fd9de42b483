/*
 * clock: the monotonic clock (CLOCK_MONOTONIC), for durations and
 * timeouts. It never jumps with the wall clock.
 */
#ifndef OFFSITE_COMMON_CLOCK_H
#define OFFSITE_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* The monotonic clock now, into *NOW. */
void mono_now(struct timespec *now);

/* The monotonic clock now, in milliseconds. */
int64_t mono_now_ms(void);

/* Milliseconds since T0 (a mono_now() reading), truncated. */
int64_t mono_elapsed_ms(const struct timespec *t0);

/* Seconds since T0 (a mono_now() reading), to the nanosecond. */
double mono_elapsed_s(const struct timespec *t0);

/* Milliseconds from T0 to T1 (two mono_now() readings), truncated. */
int64_t mono_diff_ms(const struct timespec *t0, const struct timespec *t1);

/* Seconds from T0 to T1 (two mono_now() readings). */
double mono_diff_s(const struct timespec *t0, const struct timespec *t1);

#endif
