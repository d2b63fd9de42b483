/*
 * fuzz_manifest: the manifest JSON read back from the bucket
 * (manifest_parse), its judgement under a key (manifest_check: the MAC,
 * the header copy), and the round trip: what is read and written again
 * (manifest_format) reads back the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ops/manifest.h"
#include "tests/fuzz/fuzz.h"

static void same(const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
		abort();
}

/* Judged under the key of FORMAT.md's vectors (a key file's, so no
 * scrypt: a passphrase header is the wrong kind of key), as the key it
 * names and as another: never a crash, never "authentic" without a MAC
 * that verifies. The seed signed.json is the manifest MAC's test vector. */
static void check(const struct manifest *m)
{
	uint8_t raw[CRYPTO_KEY_LEN];
	struct agent_error cerr = {0};
	struct agent_error err = {0};
	struct crypto_key k;
	bool authentic = false;
	int rc;

	for (int i = 0; i < CRYPTO_KEY_LEN; i++)
		raw[i] = (uint8_t)i;
	if (crypto_key_from_bytes(&k, raw, &cerr) != AGENT_OK)
		abort();
	rc = manifest_check(m, m->key, &k, &authentic, &err);
	if (authentic && (rc != AGENT_OK || !m->has_mac))
		abort();
	if (rc != AGENT_OK && err.msg[0] == '\0')
		abort();
	rc = manifest_check(m, "k.sql.gz.enc", NULL, &authentic, NULL);
	if (authentic)
		abort();
	crypto_key_dispose(&k);
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
	check(&m);
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
		    m.has_header != again.has_header ||
		    m.has_mac != again.has_mac ||
		    memcmp(m.header, again.header, sizeof(m.header)) != 0 ||
		    memcmp(m.mac, again.mac, sizeof(m.mac)) != 0 ||
		    strcmp(m.plain_sha256, again.plain_sha256) != 0 ||
		    strcmp(m.stored_sha256, again.stored_sha256) != 0)
			abort();
		manifest_store_free(store2);
		free(text);
	}
	manifest_store_free(store);
	return 0;
}
