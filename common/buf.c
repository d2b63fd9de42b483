/*
 * buf: a growable byte buffer with a cap, and a sticky error.
 */
#include "common/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wipe.h"

/* The first allocation; it doubles from there. */
#define BUF_FIRST 256

void buf_init(struct buf *b, size_t max, bool wipe)
{
	/* Room for the NUL: MAX + 1 never overflows. */
	if (max > SIZE_MAX - 1)
		max = SIZE_MAX - 1;
	*b = (struct buf){.max = max, .wipe = wipe};
}

static void block_free(const struct buf *b, char *p, size_t size)
{
	if (b->wipe)
		wipe_free(p, size);
	else
		free(p);
}

void buf_dispose(struct buf *b)
{
	block_free(b, b->data, b->alloc);
	buf_init(b, b->max, b->wipe);
}

int buf_reserve(struct buf *b, size_t extra)
{
	size_t need, size;
	char *p;

	if (b->err != BUF_OK)
		return b->err;
	if (extra > b->max - b->len) {
		b->err = BUF_ETOOBIG;
		return b->err;
	}
	need = b->len + extra + 1; /* <= max + 1: no overflow */
	if (need <= b->alloc)
		return BUF_OK;
	size = b->alloc ? b->alloc : BUF_FIRST;
	while (size < need)
		size = size > SIZE_MAX / 2 ? need : size * 2;
	if (size - 1 > b->max)
		size = b->max + 1;
	/* Not realloc(): with WIPE the old block must be wiped, and one
	 * path for both is simpler than two. */
	p = malloc(size);
	if (p == NULL) {
		b->err = BUF_ENOMEM;
		return b->err;
	}
	if (b->data != NULL)
		memcpy(p, b->data, b->len + 1);
	else
		p[0] = '\0';
	block_free(b, b->data, b->alloc);
	b->data = p;
	b->alloc = size;
	return BUF_OK;
}

int buf_add(struct buf *b, const void *p, size_t len)
{
	if (buf_reserve(b, len) != BUF_OK)
		return b->err;
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return BUF_OK;
}

int buf_add_str(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_add_char(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	if (b->err != BUF_OK)
		return b->err;
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0)
		b->err = BUF_ENOMEM;
	else if (buf_reserve(b, (size_t)n) == BUF_OK) {
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
	return b->err;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int buf_take(struct buf *b, char **out, size_t *len)
{
	int rc;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	rc = buf_reserve(b, 0);
	if (rc != BUF_OK) {
		buf_dispose(b);
		return rc;
	}
	*out = b->data;
	if (len != NULL)
		*len = b->len;
	buf_init(b, b->max, b->wipe);
	return BUF_OK;
}
