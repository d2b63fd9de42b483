/*
 * fuzz_manifest: the manifest JSON read back from the bucket
 * (manifest_parse), and the round trip: what is read and written again
 * (manifest_format) reads back the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/manifest.h"
#include "tests/fuzz/fuzz.h"

static void same(const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m, again;
	struct manifest_store *store = NULL, *store2 = NULL;
	char why[256];
	char *text = NULL;

	if (manifest_parse(&m, &store, (const char *)data, size, why,
			   sizeof(why)) != 0) {
		if (store != NULL || why[0] == '\0')
			abort();
		return 0;
	}
	if (manifest_format(&text, &m) == 0) {
		if (manifest_parse(&again, &store2, text, strlen(text), why,
				   sizeof(why)) != 0)
			abort();
		same(m.key, again.key);
		same(m.type, again.type);
		same(m.database, again.database);
		if (m.plain_bytes != again.plain_bytes ||
		    m.stored_bytes != again.stored_bytes ||
		    m.parts != again.parts || m.encrypted != again.encrypted ||
		    strcmp(m.plain_sha256, again.plain_sha256) != 0 ||
		    strcmp(m.stored_sha256, again.stored_sha256) != 0)
			abort();
		manifest_store_free(store2);
		free(text);
	}
	manifest_store_free(store);
	return 0;
}
