/*
 * stream: the one interface of every pipeline stage.
 *
 *   backup:  source -> [sha256 plain] -> gzip -> encrypt -> [sha256 stored]
 *                   -> part writer
 *   restore: object reader -> [sha256 stored] -> decrypt -> gunzip
 *                   -> [sha256 plain] -> sink
 *
 * A stage accepts bytes with stream_write(), pushes what it produces to
 * the next stage, and is finished once with stream_finish(): it flushes
 * what it holds, checks that its input was complete (a gzip trailer, a
 * last encrypted segment), then finishes the next stage. A stage never
 * knows what stands before or after it.
 *
 * The buffer contract, which every stage keeps and every test exercises:
 *   - write() takes any length, 0 and 1 included, any number of times;
 *   - a stage does not keep the caller's pointer after write() returns;
 *   - a stage may call the next stage's write() any number of times, with
 *     any lengths, from inside its own write() or finish();
 *   - after any call fails, the chain is broken: the caller stops writing,
 *     does not call finish(), and frees the stages;
 *   - finish() is called at most once, and write() never after it;
 *   - stream_free() frees one stage (not the next); free the chain from
 *     the head with stream_free_chain().
 *
 * Errors: one struct agent_error (agent/error.h) is shared by a whole chain. The stage
 * where an error happens sets it (code and message, once: the first error
 * wins) and returns the code; every stage before it passes the code up
 * unchanged.
 */
#ifndef OFFSITE_AGENT_STREAM_H
#define OFFSITE_AGENT_STREAM_H

#include "agent/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stream;

struct stream_ops {
	const char *name; /* "gzip", "encrypt", ... for messages */
	int (*write)(struct stream *s, const void *data, size_t len);
	int (*finish)(struct stream *s);
	void (*free)(struct stream *s); /* the stage's own state only */
};

/* The common head of every stage; a stage embeds it first. */
struct stream {
	const struct stream_ops *ops;
	struct stream *next; /* NULL for a sink */
	struct agent_error *err;
	uint64_t bytes_in; /* counted by stream_write() */
	bool finished;
};

int stream_write(struct stream *s, const void *data, size_t len);
int stream_finish(struct stream *s);
void stream_free(struct stream *s);
void stream_free_chain(struct stream *head);

/* Helpers for stages. */
/* Pass to the next stage (a stage's write calls this for its output). */
static inline int stream_emit(struct stream *s, const void *data, size_t len)
{
	return stream_write(s->next, data, len);
}

#endif
