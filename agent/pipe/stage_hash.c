/*
 * The small stages: a pass-through SHA-256, and three sinks (null,
 * memory, file descriptor) used by tests, decrypt and restore.
 */
#include "agent/pipe/stages.h"
#include "agent/pipe/stages_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/codec.h"

/* ---- hash ---- */

struct hash {
	struct stream base;
	EVP_MD_CTX *ctx;
	unsigned char digest[32];
	bool done; /* digest holds the result */
};

/* The one translation of an OpenSSL failure in this file: the reason
 * from OpenSSL's error queue, which it empties. */
static int hash_openssl_fail(struct agent_error *err, const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[256] = "unknown error";

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	return agent_fail(err, AGENT_EIO, "hash: %s: %s", what, reason);
}

static int hash_write(struct stream *s, const void *data, size_t len)
{
	struct hash *h = (struct hash *)s;

	if (EVP_DigestUpdate(h->ctx, data, len) != 1)
		return hash_openssl_fail(s->err, "sha-256 update");
	if (s->next)
		return stream_emit(s, data, len);
	return AGENT_OK;
}

static int hash_finish(struct stream *s)
{
	struct hash *h = (struct hash *)s;
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->ctx, h->digest, &n) != 1 ||
	    n != sizeof(h->digest))
		return hash_openssl_fail(s->err, "sha-256 final");
	h->done = true;
	if (s->next)
		return stream_finish(s->next);
	return AGENT_OK;
}

static void hash_free(struct stream *s)
{
	struct hash *h = (struct hash *)s;

	EVP_MD_CTX_free(h->ctx);
	free(h);
}

static const struct stream_ops hash_ops = {
	.name = "hash",
	.write = hash_write,
	.finish = hash_finish,
	.free = hash_free,
};

int stage_hash_new(struct stream **out, struct stream *next,
		   struct agent_error *err)
{
	struct hash *h;
	int rc;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return agent_fail(err, AGENT_ENOMEM, "hash: out of memory");
	h->base.ops = &hash_ops;
	h->base.next = next;
	h->base.err = err;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx) {
		rc = agent_fail(err, AGENT_ENOMEM, "hash: out of memory");
		goto out;
	}
	if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		rc = hash_openssl_fail(err, "sha-256 init");
		goto out;
	}
	/* The cast, not &h->base: the same pointer (base comes first), but
	 * gcc 12's -fanalyzer loses the allocation through a member's
	 * address and reports a leak. */
	*out = (struct stream *)h;
	h = NULL;
	rc = AGENT_OK;
out:
	if (h)
		hash_free((struct stream *)h);
	return rc;
}

int stage_hash_result(struct stream *s, char hex[65], uint64_t *bytes)
{
	const struct hash *h = (const struct hash *)s;

	if (s->ops != &hash_ops || !h->done)
		return agent_fail(s->err, AGENT_EIO,
				  "%s: no hash result: the stage did not "
				  "finish",
				  s->ops->name);
	hex_encode(hex, h->digest, sizeof(h->digest));
	*bytes = s->bytes_in;
	return AGENT_OK;
}

/* ---- null sink ---- */

static int null_write(struct stream *s, const void *data, size_t len)
{
	(void)s;
	(void)data;
	(void)len;
	return AGENT_OK;
}

static int null_finish(struct stream *s)
{
	(void)s;
	return AGENT_OK;
}

static void null_free(struct stream *s)
{
	free(s);
}

static const struct stream_ops null_ops = {
	.name = "null sink",
	.write = null_write,
	.finish = null_finish,
	.free = null_free,
};

int stage_null_new(struct stream **out, struct agent_error *err)
{
	struct stream *s;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return agent_fail(err, AGENT_ENOMEM,
				  "null sink: out of memory");
	s->ops = &null_ops;
	s->err = err;
	*out = s;
	return AGENT_OK;
}

/* ---- memory sink ---- */

struct memory {
	struct stream base;
	struct buf buf;
};

static int memory_write(struct stream *s, const void *data, size_t len)
{
	struct memory *m = (struct memory *)s;

	switch (buf_add(&m->buf, data, len)) {
	case BUF_OK:
		return AGENT_OK;
	case BUF_ETOOBIG:
		return agent_fail(s->err, AGENT_ELIMIT,
				  "memory sink: more than %zu bytes",
				  m->buf.max);
	default:
		return agent_fail(s->err, AGENT_ENOMEM,
				  "memory sink: out of memory");
	}
}

static int memory_finish(struct stream *s)
{
	(void)s;
	return AGENT_OK;
}

static void memory_free(struct stream *s)
{
	struct memory *m = (struct memory *)s;

	buf_dispose(&m->buf);
	free(m);
}

static const struct stream_ops memory_ops = {
	.name = "memory sink",
	.write = memory_write,
	.finish = memory_finish,
	.free = memory_free,
};

int stage_memory_new(struct stream **out, struct agent_error *err,
		     const struct memory_options *o)
{
	struct memory *m;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return agent_fail(err, AGENT_ENOMEM,
				  "memory sink: out of memory");
	m->base.ops = &memory_ops;
	m->base.err = err;
	buf_init(&m->buf, o->cap, false);
	*out = (struct stream *)m;
	return AGENT_OK;
}

const void *stage_memory_data(const struct stream *s, size_t *len)
{
	const struct memory *m = (const struct memory *)s;

	if (s->ops != &memory_ops) {
		*len = 0;
		return NULL;
	}
	*len = m->buf.len;
	return m->buf.data;
}

/* ---- fd sink ---- */

struct fd_sink {
	struct stream base;
	int fd;
	const char *name;
};

static int fd_write(struct stream *s, const void *data, size_t len)
{
	struct fd_sink *f = (struct fd_sink *)s;
	const unsigned char *p = data;
	struct pollfd pfd;
	ssize_t n;

	while (len > 0) {
		n = write(f->fd, p, len);
		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		/* A non-blocking fd (a shared stdout): wait for room.
		 * EWOULDBLOCK is EAGAIN on Linux. */
		if (errno == EAGAIN) {
			pfd.fd = f->fd;
			pfd.events = POLLOUT;
			pfd.revents = 0;
			if (poll(&pfd, 1, -1) >= 0 || errno == EINTR)
				continue;
		}
		return agent_fail(s->err, AGENT_EIO, "write to %s: %s", f->name,
				  strerror(errno));
	}
	return AGENT_OK;
}

static int fd_finish(struct stream *s)
{
	(void)s;
	return AGENT_OK;
}

static void fd_free(struct stream *s)
{
	free(s);
}

static const struct stream_ops fd_ops = {
	.name = "fd sink",
	.write = fd_write,
	.finish = fd_finish,
	.free = fd_free,
};

int stage_fd_new(struct stream **out, struct agent_error *err,
		 const struct fd_options *o)
{
	struct fd_sink *f;

	*out = NULL;
	if (o->fd < 0)
		return agent_fail(err, AGENT_EIO,
				  "fd sink: bad options: no file descriptor");
	f = calloc(1, sizeof(*f));
	if (!f)
		return agent_fail(err, AGENT_ENOMEM, "fd sink: out of memory");
	f->base.ops = &fd_ops;
	f->base.err = err;
	f->fd = o->fd;
	f->name = o->name ? o->name : "output";
	*out = (struct stream *)f;
	return AGENT_OK;
}
