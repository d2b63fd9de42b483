/*
 * stop: SIGTERM, SIGINT and SIGHUP as a request to stop, for a command
 * that must clean up before it exits (restore kills its tool before the
 * tool's input ends, removes a half-written file).
 *
 * stop_start() blocks those signals in every thread and starts one thread
 * that waits for them. The first one logs "stop requested" and sets the
 * flag that stop_requested() reads; the s3 client polls it through
 * stop_cancelled() (s3_options.cancelled) and ends a transfer. A hook set
 * with stop_set_hook() runs on the signal thread, at once if a stop was
 * already requested: it must only do what is safe there (kill, write).
 * One user per process: these are process-wide.
 */
#ifndef OFFSITE_AGENT_STOP_H
#define OFFSITE_AGENT_STOP_H

#include <stdbool.h>

/* Start the signal thread; WHAT ("restore") is named in the log line.
 * 0, or -1 when the thread cannot be started. */
int stop_start(const char *what);

/* As stop_start(), but the first request logs MESSAGE with the signal
 * alone ("stop requested: aborting the backup"). */
int stop_start_message(const char *message);

/* Stop the thread and restore the signal mask. Safe without a start. */
void stop_end(void);

/* The signal that asked to stop, or 0. */
int stop_requested(void);

/* For s3_options.cancelled: true once a stop was requested. */
bool stop_cancelled(void *ctx);

/* Call FN(CTX) on a stop request (NULL: no hook). Calls never overlap a
 * running hook, so after stop_set_hook(NULL, NULL) returns the old CTX
 * may be freed. */
void stop_set_hook(void (*fn)(void *ctx), void *ctx);

#endif
