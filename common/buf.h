/*
 * buf: a growable byte buffer with a cap, and a sticky error.
 *
 * Every caller sets the cap (MAX, the most bytes the buffer may hold, its
 * NUL excluded). Appends after a failure do nothing, so a text can be
 * built by a run of appends and the error read once at the end: the
 * first error wins. The data is always NUL-terminated once anything was
 * appended, so text can be read as a string; binary data may hold NULs.
 * With WIPE set, every block given back (grown or disposed) is wiped
 * first: the buffer may hold a secret.
 *
 *	struct buf b;
 *	buf_init(&b, 64 * 1024, false);
 *	buf_add_str(&b, "a=");
 *	buf_addf(&b, "%d", n);
 *	if (buf_take(&b, &text, NULL) != BUF_OK) ...
 */
#ifndef OFFSITE_COMMON_BUF_H
#define OFFSITE_COMMON_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum {
	BUF_OK = 0,
	BUF_ETOOBIG, /* the cap would be passed */
	BUF_ENOMEM,  /* malloc failed, or a format error in buf_addf */
};

struct buf {
	char *data;   /* NULL until the first byte (or buf_reserve) */
	size_t len;   /* bytes used, the NUL excluded */
	size_t alloc; /* bytes allocated */
	size_t max;   /* the cap on LEN */
	bool wipe;    /* wipe every block before it is freed */
	int err;      /* BUF_OK, or the first error */
};

/* An empty buffer that may hold up to MAX bytes. */
void buf_init(struct buf *b, size_t max, bool wipe);

/* Free (wipe first with WIPE) and reset to empty, keeping MAX and WIPE. */
void buf_dispose(struct buf *b);

/* Room for EXTRA more bytes and a NUL. BUF_OK or the (sticky) error. */
int buf_reserve(struct buf *b, size_t extra);

/* Append LEN bytes at P. Returns the sticky error (BUF_OK if none). */
int buf_add(struct buf *b, const void *p, size_t len);

/* Append the string S. */
int buf_add_str(struct buf *b, const char *s);

/* Append the byte C. */
int buf_add_char(struct buf *b, char c);

/* Append a printf-style text. */
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * Hand the data over: *OUT (a NUL-terminated block, "" when nothing was
 * appended, the caller frees it) and *LEN (may be NULL), and leave B
 * empty. On a sticky error, *OUT is NULL, B is disposed and the error
 * returned.
 */
int buf_take(struct buf *b, char **out, size_t *len);

#endif
