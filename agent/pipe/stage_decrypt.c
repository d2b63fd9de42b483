/*
 * stage_decrypt: the encrypted format (docs/FORMAT.md) in, plaintext out.
 *
 * Input arrives in any pieces; the stage collects, in turn, the header,
 * a segment's 4-byte length, then its ciphertext and tag, and passes a
 * segment's plaintext on only once its tag has verified. A length below
 * the segment size marks the last segment; after it, any byte is an
 * error, and so is an input that ends before it.
 */
#include "agent/pipe/stages.h"
#include "common/wipe.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

enum decrypt_state {
	D_HEADER, /* collecting the header */
	D_LENGTH, /* collecting a segment's length */
	D_BODY,	  /* collecting a segment's ciphertext and tag */
	D_DONE,	  /* the last segment verified */
};

struct decrypt_stage {
	struct stream base;
	struct crypto_key key; /* a copy, wiped on free */
	struct crypto_file *file;
	enum decrypt_state state;
	uint8_t header[CRYPTO_HEADER_LEN];
	uint8_t length[CRYPTO_SEGMENT_LEN_SIZE];
	size_t have; /* bytes collected in the current state */
	size_t need; /* bytes the current state collects */
	uint32_t segment_size;
	uint64_t index;	 /* of the segment being collected */
	size_t plain;	 /* its plaintext length */
	uint8_t *buf;	 /* its ciphertext || tag; plaintext after open */
	size_t buf_size; /* segment_size + tag */
};

/* The whole header is here: check it, derive the key, get ready. */
static int start_file(struct decrypt_stage *d)
{
	struct crypto_header h;
	int rc;

	rc = crypto_header_parse(&h, d->header, sizeof(d->header), d->base.err);
	if (rc != AGENT_OK)
		return rc;
	rc = crypto_file_new_decrypt(&d->file, &h, d->header, &d->key,
				     d->base.err);
	if (rc != AGENT_OK)
		return rc;
	/* The key is not needed any more. */
	crypto_key_dispose(&d->key);
	d->segment_size = h.segment_size;
	d->buf_size = (size_t)h.segment_size + CRYPTO_TAG_LEN;
	d->buf = malloc(d->buf_size);
	if (d->buf == NULL)
		return agent_fail(d->base.err, AGENT_ENOMEM, "out of memory");
	d->state = D_LENGTH;
	d->need = CRYPTO_SEGMENT_LEN_SIZE;
	d->have = 0;
	return AGENT_OK;
}

/* A segment's length is here. */
static int start_segment(struct decrypt_stage *d)
{
	uint32_t len = (uint32_t)d->length[0] << 24 |
		       (uint32_t)d->length[1] << 16 |
		       (uint32_t)d->length[2] << 8 | (uint32_t)d->length[3];

	if (len > d->segment_size)
		return agent_fail(d->base.err, AGENT_ECORRUPT,
				  "segment %llu: length %lu is larger than "
				  "the segment size %lu",
				  (unsigned long long)d->index,
				  (unsigned long)len,
				  (unsigned long)d->segment_size);
	d->plain = len;
	d->state = D_BODY;
	d->need = (size_t)len + CRYPTO_TAG_LEN;
	d->have = 0;
	return AGENT_OK;
}

/* A whole segment is here: verify, then pass it on. */
static int end_segment(struct decrypt_stage *d)
{
	bool last = d->plain < d->segment_size;
	int rc;

	rc = crypto_file_open(d->file, d->index, last, d->buf, d->plain,
			      d->buf + d->plain, d->base.err);
	if (rc != AGENT_OK)
		return rc;
	rc = stream_emit(&d->base, d->buf, d->plain);
	if (rc != AGENT_OK)
		return rc;
	d->index++;
	d->have = 0;
	if (last) {
		d->state = D_DONE;
		d->need = 0;
	} else {
		d->state = D_LENGTH;
		d->need = CRYPTO_SEGMENT_LEN_SIZE;
	}
	return AGENT_OK;
}

static int decrypt_write(struct stream *s, const void *data, size_t len)
{
	struct decrypt_stage *d = (struct decrypt_stage *)s;
	const uint8_t *p = data;
	int rc = AGENT_OK;

	while (len > 0 && rc == AGENT_OK) {
		uint8_t *dst;
		size_t n;

		switch (d->state) {
		case D_HEADER:
			dst = d->header;
			break;
		case D_LENGTH:
			dst = d->length;
			break;
		case D_BODY:
			dst = d->buf;
			break;
		case D_DONE:
		default:
			return agent_fail(s->err, AGENT_EFORMAT,
					  "data after the last segment");
		}
		n = d->need - d->have;
		if (n > len)
			n = len;
		memcpy(dst + d->have, p, n);
		d->have += n;
		p += n;
		len -= n;

		if (d->state == D_HEADER && d->have < d->need) {
			/* Say "not an offsite encrypted file" at once,
			 * not after 89 bytes of something else. */
			struct crypto_header h;
			struct agent_error probe = {0};

			rc = crypto_header_parse(&h, d->header, d->have,
						 &probe);
			if (rc == AGENT_ETRUNC)
				rc = AGENT_OK;
			else if (rc != AGENT_OK)
				rc = agent_fail(s->err, rc, "%s", probe.msg);
			continue;
		}
		if (d->have < d->need)
			continue;
		switch (d->state) {
		case D_HEADER:
			rc = start_file(d);
			break;
		case D_LENGTH:
			rc = start_segment(d);
			break;
		case D_BODY:
			rc = end_segment(d);
			break;
		case D_DONE:
			break;
		}
	}
	return rc;
}

static int decrypt_finish(struct stream *s)
{
	struct decrypt_stage *d = (struct decrypt_stage *)s;
	struct crypto_header h;

	switch (d->state) {
	case D_HEADER:
		/* Shorter than a header: parse says why (ETRUNC). */
		return crypto_header_parse(&h, d->header, d->have, s->err);
	case D_LENGTH:
	case D_BODY:
		return agent_fail(s->err, AGENT_ETRUNC,
				  "encrypted data ends before its last "
				  "segment");
	case D_DONE:
		break;
	}
	return stream_finish(s->next);
}

static void decrypt_free(struct stream *s)
{
	struct decrypt_stage *d = (struct decrypt_stage *)s;

	crypto_file_free(d->file);
	crypto_key_dispose(&d->key);
	if (d->buf != NULL) {
		wipe(d->buf, d->buf_size); /* plaintext */
		free(d->buf);
	}
	free(d);
}

static const struct stream_ops decrypt_ops = {
	.name = "decrypt",
	.write = decrypt_write,
	.finish = decrypt_finish,
	.free = decrypt_free,
};

int stage_decrypt_new(struct stream **out, struct stream *next,
		      struct agent_error *err, const struct crypto_key *key)
{
	struct decrypt_stage *d;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	d->base.ops = &decrypt_ops;
	d->base.next = next;
	d->base.err = err;
	d->key = *key;
	d->state = D_HEADER;
	d->need = CRYPTO_HEADER_LEN;
	*out = (struct stream *)d; /* base is the first member */
	return AGENT_OK;
}
