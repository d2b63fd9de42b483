/*
 * fuzz_gunzip: the gunzip stage (gzip members, headers, CRC-32 and ISIZE)
 * through the stream interface, in pieces whose size depends on the
 * input's length, then finish(). Errors must be set once, with a message.
 */
#include <stdint.h>
#include <stdlib.h>

#include "agent/pipe/stages.h"
#include "agent/pipe/stream.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t steps[] = {1, 3, 512, 65536};
	size_t step = steps[size % 4];
	struct agent_error err = {0};
	struct stream *sink = NULL, *gunzip = NULL;
	int rc;

	if (stage_hash_new(&sink, NULL, &err) != AGENT_OK ||
	    stage_gunzip_new(&gunzip, sink, &err) != AGENT_OK)
		abort();
	rc = AGENT_OK;
	for (size_t off = 0; off < size && rc == AGENT_OK; off += step)
		rc = stream_write(gunzip, data + off,
				  size - off < step ? size - off : step);
	if (rc == AGENT_OK)
		rc = stream_finish(gunzip);
	if (rc != AGENT_OK && (err.code != rc || err.msg[0] == '\0'))
		abort();
	/* The smallest gzip member is 20 bytes. */
	if (rc == AGENT_OK && size < 20)
		abort();
	stream_free_chain(gunzip);
	return 0;
}
