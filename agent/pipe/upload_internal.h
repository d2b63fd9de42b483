/*
 * upload_internal: the part-size schedule of the part writer. Not for
 * other modules; unit tests include it to check the schedule directly.
 */
#ifndef OFFSITE_AGENT_PIPE_UPLOAD_INTERNAL_H
#define OFFSITE_AGENT_PIPE_UPLOAD_INTERNAL_H

#include <stdint.h>

/*
 * The doubling period STEP of the part size for a first part size FIRST
 * and MAX_PARTS parts: as large as possible while MAX_PARTS parts still
 * reach UPLOAD_TARGET (or 1, as fast as possible, when they cannot).
 * Costs O(n log n): computed once per upload.
 */
unsigned upload_part_step(uint64_t first, unsigned max_parts);

/* The size of part NUMBER (1-based): FIRST doubled every STEP parts,
 * capped at UPLOAD_MAX_PART. */
uint64_t upload_part_size_at(uint64_t first, unsigned step, unsigned number);

#endif
