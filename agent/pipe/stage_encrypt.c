/*
 * stage_encrypt: plaintext in, the encrypted format (docs/FORMAT.md) out.
 *
 * The header goes out with the first write (or at finish, for an empty
 * input). Plaintext collects in one segment buffer; a full one is sealed
 * and sent at once, since a full segment is never the last. finish()
 * seals what is left, 0 bytes included, as the last segment.
 */
#include "agent/pipe/stages.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

struct encrypt_stage {
	struct stream base;
	struct crypto_file *file;
	uint8_t header[CRYPTO_HEADER_LEN];
	bool header_sent;
	uint32_t segment_size;
	uint64_t index; /* of the segment being filled */
	size_t fill;	/* plaintext bytes in it */
	/* length (4) || plaintext, sealed in place || tag (16) */
	uint8_t *buf;
	size_t buf_size;
};

static int send_header(struct encrypt_stage *e)
{
	int rc;

	if (e->header_sent)
		return AGENT_OK;
	rc = stream_emit(&e->base, e->header, sizeof(e->header));
	if (rc == AGENT_OK)
		e->header_sent = true;
	return rc;
}

/* Seal the segment in the buffer and send it. */
static int send_segment(struct encrypt_stage *e, bool last)
{
	uint8_t *plain = e->buf + CRYPTO_SEGMENT_LEN_SIZE;
	int rc;

	if (e->index == UINT64_MAX)
		return agent_fail(e->base.err, AGENT_ELIMIT,
				  "encrypt: too many segments");
	e->buf[0] = (uint8_t)(e->fill >> 24);
	e->buf[1] = (uint8_t)(e->fill >> 16);
	e->buf[2] = (uint8_t)(e->fill >> 8);
	e->buf[3] = (uint8_t)e->fill;
	rc = crypto_file_seal(e->file, e->index, last, plain, e->fill,
			      plain + e->fill, e->base.err);
	if (rc != AGENT_OK)
		return rc;
	rc = stream_emit(&e->base, e->buf,
			 CRYPTO_SEGMENT_LEN_SIZE + e->fill + CRYPTO_TAG_LEN);
	if (rc != AGENT_OK)
		return rc;
	e->index++;
	e->fill = 0;
	return AGENT_OK;
}

static int encrypt_write(struct stream *s, const void *data, size_t len)
{
	struct encrypt_stage *e = (struct encrypt_stage *)s;
	const uint8_t *p = data;
	int rc;

	rc = send_header(e);
	if (rc != AGENT_OK)
		return rc;
	while (len > 0) {
		size_t n = e->segment_size - e->fill;

		if (n > len)
			n = len;
		memcpy(e->buf + CRYPTO_SEGMENT_LEN_SIZE + e->fill, p, n);
		e->fill += n;
		p += n;
		len -= n;
		/* Full: not the last, whatever comes next (FORMAT.md). */
		if (e->fill == e->segment_size) {
			rc = send_segment(e, false);
			if (rc != AGENT_OK)
				return rc;
		}
	}
	return AGENT_OK;
}

static int encrypt_finish(struct stream *s)
{
	struct encrypt_stage *e = (struct encrypt_stage *)s;
	int rc;

	rc = send_header(e);
	if (rc == AGENT_OK)
		rc = send_segment(e, true);
	if (rc == AGENT_OK)
		rc = stream_finish(s->next);
	return rc;
}

static void encrypt_free(struct stream *s)
{
	struct encrypt_stage *e = (struct encrypt_stage *)s;

	crypto_file_free(e->file);
	if (e->buf != NULL) {
		OPENSSL_cleanse(e->buf, e->buf_size); /* plaintext */
		free(e->buf);
	}
	free(e);
}

static const struct stream_ops encrypt_ops = {
	.name = "encrypt",
	.write = encrypt_write,
	.finish = encrypt_finish,
	.free = encrypt_free,
};

int stage_encrypt_new(struct stream **out, struct stream *next,
		      struct agent_error *err, const struct encrypt_options *o)
{
	struct encrypt_stage *e = NULL;
	int rc;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		rc = agent_fail(err, AGENT_ENOMEM, "out of memory");
		goto out;
	}
	e->base.ops = &encrypt_ops;
	e->base.next = next;
	e->base.err = err;
	e->segment_size = o->segment_size;
	rc = crypto_file_new_encrypt(&e->file, e->header, o->key,
				     o->segment_size, o->test_file_salt,
				     o->test_scrypt_salt, err);
	if (rc != AGENT_OK)
		goto out;
	e->buf_size = CRYPTO_SEGMENT_LEN_SIZE + (size_t)e->segment_size +
		      CRYPTO_TAG_LEN;
	e->buf = malloc(e->buf_size);
	if (e->buf == NULL) {
		rc = agent_fail(err, AGENT_ENOMEM, "out of memory");
		goto out;
	}
	*out = &e->base;
	e = NULL;
	rc = AGENT_OK;
out:
	if (e != NULL)
		encrypt_free(&e->base);
	return rc;
}

void stage_encrypt_key_id(const struct stream *s, uint8_t id[CRYPTO_KEY_ID_LEN])
{
	const struct encrypt_stage *e = (const struct encrypt_stage *)s;
	struct crypto_header h;

	/* Our own header: it parses. */
	if (crypto_header_parse(&h, e->header, sizeof(e->header), NULL) ==
	    AGENT_OK)
		memcpy(id, h.key_id, CRYPTO_KEY_ID_LEN);
	else
		memset(id, 0, CRYPTO_KEY_ID_LEN);
}

void stage_encrypt_header(const struct stream *s,
			  uint8_t out[CRYPTO_HEADER_LEN])
{
	const struct encrypt_stage *e = (const struct encrypt_stage *)s;

	memcpy(out, e->header, CRYPTO_HEADER_LEN);
}

int stage_encrypt_manifest_mac(const struct stream *s, const void *msg,
			       size_t len, uint8_t tag[CRYPTO_MAC_LEN],
			       struct agent_error *err)
{
	const struct encrypt_stage *e = (const struct encrypt_stage *)s;

	return crypto_file_manifest_mac(e->file, msg, len, tag, err);
}
