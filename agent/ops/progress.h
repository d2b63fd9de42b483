/*
 * progress: a live line for a person watching a backup on a terminal,
 *
 *   read 1.2 GiB  stored 310.4 MiB  ratio 3.96  41.3 MiB/s
 *     parts 3 in flight, 18 done  0:00:29          (on one line)
 *
 * redrawn in place ("\r") at most every PROGRESS_INTERVAL_MS by a timer
 * thread, and left as the last state with a newline when the run ends.
 * Under systemd or cron (standard error not a terminal) there is none:
 * the log's summary line is enough. --progress / --no-progress force it.
 *
 * The byte counts come from two pass-through stages (taps) that add what
 * passes to an atomic counter: one in front of the chain (bytes read from
 * the dump), one in front of the part writer (bytes stored). Nothing else
 * is done on the data path; the timer thread reads the counters and asks
 * the part writer for its parts. While it runs, a log line first clears
 * the live line (log_set_hook()), so the two never share a line.
 */
#ifndef OFFSITE_AGENT_PROGRESS_H
#define OFFSITE_AGENT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/pipe/stream.h"

#define PROGRESS_INTERVAL_MS 250
#define PROGRESS_LINE_MAX    160

enum progress_mode { PROGRESS_AUTO, PROGRESS_ON, PROGRESS_OFF };
enum progress_counter { PROGRESS_READ, PROGRESS_STORED };

struct progress_sample {
	uint64_t read;	    /* plain bytes from the dump */
	uint64_t stored;    /* bytes handed to the part writer */
	bool has_parts;	    /* a dry run has none */
	unsigned in_flight; /* parts queued or uploading */
	unsigned done;	    /* parts stored */
};

/* Fills IN_FLIGHT and DONE; called on the timer thread. */
typedef void (*progress_parts_fn)(void *ctx, unsigned *in_flight,
				  unsigned *done);

struct progress;

/*
 * Whether a line is drawn on FD: PROGRESS_ON always, PROGRESS_OFF never,
 * PROGRESS_AUTO when FD is a terminal and the log shows info.
 */
bool progress_wanted(enum progress_mode mode, int fd);

/* A progress on FD; *OUT is NULL (and 0 returned) when none is wanted.
 * Returns 0, or -1 when out of memory. */
int progress_new(struct progress **out, enum progress_mode mode, int fd);

/* A tap in front of NEXT counting into P's counter WHICH. P not NULL. */
int progress_tap_new(struct stream **out, struct stream *next,
		     struct agent_error *err, struct progress *p,
		     enum progress_counter which);

/* Start drawing; PARTS may be NULL. Returns 0, or -1 (no thread: the run
 * goes on without a line). NULL P does nothing. */
int progress_start(struct progress *p, progress_parts_fn parts, void *ctx);

/* Stop drawing: the last state, then a newline. Idempotent; NULL is
 * fine. */
void progress_stop(struct progress *p);

/* Stop, and free. NULL is fine. */
void progress_free(struct progress *p);

/* One line (no "\r", no newline) for S after SECS seconds; its length. */
size_t progress_format(char *buf, size_t size, const struct progress_sample *s,
		       double secs);

#endif
