/*
 * stages_internal: stages the program does not use, kept for the tests,
 * fuzz targets and benchmarks that read a chain's output back. Not for
 * the rooms of the agent.
 */
#ifndef OFFSITE_AGENT_PIPE_STAGES_INTERNAL_H
#define OFFSITE_AGENT_PIPE_STAGES_INTERNAL_H

#include <stddef.h>

#include "agent/pipe/stages.h"

/*
 * memory sink: collects everything into one buffer of at most CAP bytes;
 * a write past the cap fails with AGENT_ELIMIT. The buffer grows as
 * needed (doubling), so memory follows the data, not the cap.
 */
struct memory_options {
	size_t cap;
};
#define MEMORY_OPTIONS_INIT                                                    \
	{                                                                      \
		.cap = 64u * 1024 * 1024                                       \
	}

int stage_memory_new(struct stream **out, struct agent_error *err,
		     const struct memory_options *o);

/* What the memory sink holds so far; valid until the next write or free.
 * *LEN is set; the pointer is NULL when nothing was written. */
const void *stage_memory_data(const struct stream *s, size_t *len);

#endif
