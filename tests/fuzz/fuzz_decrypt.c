/*
 * fuzz_decrypt: the encrypted format (docs/FORMAT.md) as the decrypt
 * stage reads it, header and segments, with the key of test vector 1
 * (tests/fixtures/vector.enc decrypts). The input goes in through the
 * stream interface in pieces whose size depends on the input's length,
 * so one-byte writes and large ones are both exercised, then finish().
 * A stage that accepts a file must have checked all of it: finish()
 * succeeding on an input no longer than a header is a bug.
 */
#include <stdint.h>
#include <stdlib.h>

#include "agent/pipe/crypto.h"
#include "agent/pipe/stages.h"
#include "agent/pipe/stream.h"
#include "tests/fuzz/fuzz.h"

static const uint8_t vector_key[CRYPTO_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
	0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t steps[] = {1, 7, 64, 4096};
	size_t step = steps[size % 4];
	struct crypto_key key;
	struct agent_error cerr = {0};
	struct agent_error err = {0};
	struct stream *sink = NULL, *dec = NULL;
	int rc;

	if (crypto_key_from_bytes(&key, vector_key, &cerr) != AGENT_OK)
		abort();
	if (stage_hash_new(&sink, NULL, &err) != AGENT_OK ||
	    stage_decrypt_new(&dec, sink, &err, &key) != AGENT_OK)
		abort();
	rc = AGENT_OK;
	for (size_t off = 0; off < size && rc == AGENT_OK; off += step)
		rc = stream_write(dec, data + off,
				  size - off < step ? size - off : step);
	if (rc == AGENT_OK)
		rc = stream_finish(dec);
	if (rc != AGENT_OK && (err.code != rc || err.msg[0] == '\0'))
		abort();
	if (rc == AGENT_OK && size <= CRYPTO_HEADER_LEN)
		abort();
	stream_free_chain(dec);
	crypto_key_dispose(&key);
	return 0;
}
