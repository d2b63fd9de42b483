/*
 * fuzz_marker: the upload marker read back from the bucket
 * (retention_marker_parse), and the round trip: what is accepted and
 * written again (retention_marker_format) reads back the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "retention/stale.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retention_marker m, again;
	char *text = NULL;

	if (retention_marker_parse(&m, (const char *)data, size) !=
	    RETENTION_OK)
		return 0;
	/* What is accepted is in range, whatever the bytes. */
	if (m.pid < 1 || m.longest_run < 1 ||
	    m.longest_run > RETENTION_LONGEST_RUN_CAP || m.host[0] == '\0' ||
	    strlen(m.host) >= RETENTION_HOST_MAX)
		abort();
	if (retention_marker_format(&text, &m) != RETENTION_OK)
		return 0;
	if (retention_marker_parse(&again, text, strlen(text)) !=
		    RETENTION_OK ||
	    strcmp(m.host, again.host) != 0 || m.pid != again.pid ||
	    m.started != again.started || m.longest_run != again.longest_run)
		abort();
	free(text);
	return 0;
}
