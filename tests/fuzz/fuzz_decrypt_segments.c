/*
 * fuzz_decrypt_segments: the segment decoder past the header, which
 * fuzz_decrypt cannot reach (a mutated header fails its tag). The input
 * describes a file and one change to it:
 *
 *   byte 0      segment size - 1, modulo 64 (small segments: many of them)
 *   byte 1      the change: 0 none, 1 flip a byte, 2 cut, 3 append a
 *               byte, 4 drop a byte, 5 swap two bytes (others: none)
 *   bytes 2..3  where (big-endian, modulo the file's length)
 *   byte 4      the byte to append or XOR in (at least 1 for a flip)
 *   bytes 5..   the plaintext
 *
 * The plaintext is encrypted with the key of test vector 1 and fixed
 * salts, the change applied, and the result decrypted in pieces. What
 * docs/FORMAT.md promises is checked: the unchanged file decrypts to the
 * plaintext, and any change is detected (the decryption fails).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/pipe/crypto.h"
#include "agent/pipe/stages.h"
#include "agent/pipe/stages_internal.h"
#include "agent/pipe/stream.h"
#include "tests/fuzz/fuzz.h"

#define HEAD 5

static const uint8_t vector_key[CRYPTO_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
	0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};
static const uint8_t file_salt[CRYPTO_FILE_SALT_LEN] = {0x20, 0x21, 0x22};

/* Encrypt PLAIN into *OUT (malloc'd, *LEN bytes); aborts on failure. */
static void encrypt(uint8_t **out, size_t *len, const struct crypto_key *key,
		    uint32_t segment_size, const uint8_t *plain, size_t n)
{
	struct encrypt_options o = ENCRYPT_OPTIONS_INIT;
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct agent_error err = {0};
	struct stream *mem = NULL, *enc = NULL;
	const void *data;

	o.key = key;
	o.segment_size = segment_size;
	o.test_file_salt = file_salt;
	if (stage_memory_new(&mem, &err, &mo) != AGENT_OK ||
	    stage_encrypt_new(&enc, mem, &err, &o) != AGENT_OK ||
	    stream_write(enc, plain, n) != AGENT_OK ||
	    stream_finish(enc) != AGENT_OK)
		abort();
	data = stage_memory_data(mem, len);
	*out = malloc(*len + 1);
	if (*out == NULL || data == NULL)
		abort();
	memcpy(*out, data, *len);
	stream_free_chain(enc);
}

/* Decrypt FILE; 0 with the plaintext compared to PLAIN, or the code. */
static int decrypt(const struct crypto_key *key, const uint8_t *file,
		   size_t len, const uint8_t *plain, size_t n)
{
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct agent_error err = {0};
	struct stream *mem = NULL, *dec = NULL;
	size_t step = 1 + len % 97, got;
	const void *data;
	int rc;

	if (stage_memory_new(&mem, &err, &mo) != AGENT_OK ||
	    stage_decrypt_new(&dec, mem, &err, key) != AGENT_OK)
		abort();
	rc = AGENT_OK;
	for (size_t off = 0; off < len && rc == AGENT_OK; off += step)
		rc = stream_write(dec, file + off,
				  len - off < step ? len - off : step);
	if (rc == AGENT_OK)
		rc = stream_finish(dec);
	if (rc != AGENT_OK && (err.code != rc || err.msg[0] == '\0'))
		abort();
	if (rc == AGENT_OK) {
		data = stage_memory_data(mem, &got);
		if (got != n || (n > 0 && memcmp(data, plain, n) != 0))
			abort();
	}
	stream_free_chain(dec);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct crypto_key key;
	struct agent_error cerr = {0};
	uint8_t *file = NULL;
	size_t len, at;
	uint8_t v;
	bool changed = true;
	int rc;

	if (size < HEAD)
		return 0;
	if (crypto_key_from_bytes(&key, vector_key, &cerr) != AGENT_OK)
		abort();
	encrypt(&file, &len, &key, 1 + data[0] % 64, data + HEAD, size - HEAD);
	at = ((size_t)data[2] << 8 | data[3]) % len;
	v = data[4];
	switch (data[1]) {
	case 1:
		file[at] ^= v ? v : 1;
		break;
	case 2:
		len = at;
		break;
	case 3:
		file[len++] = v;
		break;
	case 4:
		memmove(file + at, file + at + 1, len - at - 1);
		len--;
		break;
	case 5: {
		size_t other = (at + 1 + v) % len;
		uint8_t t = file[at];

		file[at] = file[other];
		file[other] = t;
		changed = file[at] != file[other];
		break;
	}
	default:
		changed = false;
		break;
	}
	rc = decrypt(&key, file, len, data + HEAD, size - HEAD);
	if (changed ? rc == AGENT_OK : rc != AGENT_OK)
		abort();
	free(file);
	crypto_key_dispose(&key);
	return 0;
}
