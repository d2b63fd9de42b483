/*
 * The gunzip stage: a gzip file of one or more members (RFC 1952) in,
 * the plain bytes out.
 *
 * zlib inflates the raw deflate data; the member's header and trailer
 * are read here, byte by byte as they arrive, so that each failure gets
 * its own code: a wrong magic number is "not gzip" (or, after a member,
 * trailing garbage), a wrong CRC-32 or ISIZE is corruption, and input
 * that stops inside a member is truncation.
 */
#include "agent/pipe/stages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#define CHUNK (64u * 1024) /* output per call to the next stage */

/* RFC 1952 2.3.1: FLG bits. */
#define FHCRC	  0x02
#define FEXTRA	  0x04
#define FNAME	  0x08
#define FCOMMENT  0x10
#define FRESERVED 0xe0

enum part {
	P_MAGIC,     /* between members: the first bytes of the next one */
	P_HEADER,    /* the rest of the 10 fixed header bytes */
	P_EXTRA_LEN, /* FEXTRA: XLEN, 2 bytes */
	P_EXTRA,     /* FEXTRA: XLEN bytes */
	P_NAME,	     /* FNAME: up to a zero byte */
	P_COMMENT,   /* FCOMMENT: up to a zero byte */
	P_HCRC,	     /* FHCRC: 2 bytes */
	P_DATA,	     /* deflate data */
	P_TRAILER,   /* CRC-32 and ISIZE, 8 bytes */
};

struct gunzip {
	struct stream base;
	z_stream z;
	bool z_ready;
	enum part part;
	unsigned char field[10]; /* the fixed-size field being read */
	size_t have;		 /* bytes of it so far */
	unsigned flags;
	size_t extra_left;
	uLong hcrc;	    /* CRC-32 of the header so far (for FHCRC) */
	uLong crc;	    /* CRC-32 of the member's data so far */
	uint32_t size;	    /* its length, modulo 2^32 (ISIZE) */
	uint64_t members;   /* members complete */
	unsigned char *out; /* CHUNK bytes */
};

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The number of the member being read, for messages. */
static unsigned long long member_no(const struct gunzip *g)
{
	return (unsigned long long)g->members + 1;
}

/* The header part after AFTER, as the flags say. */
static enum part next_part(const struct gunzip *g, enum part after)
{
	switch (after) {
	case P_HEADER:
		if (g->flags & FEXTRA)
			return P_EXTRA_LEN;
		/* fall through */
	case P_EXTRA_LEN:
	case P_EXTRA:
		if (g->flags & FNAME)
			return P_NAME;
		/* fall through */
	case P_NAME:
		if (g->flags & FCOMMENT)
			return P_COMMENT;
		/* fall through */
	case P_COMMENT:
		if (g->flags & FHCRC)
			return P_HCRC;
		/* fall through */
	default:
		return P_DATA;
	}
}

/* Move to PART; entering the data resets the inflater. */
static int enter(struct gunzip *g, enum part part)
{
	int rc;

	g->part = part;
	g->have = 0;
	if (part == P_DATA) {
		rc = inflateReset(&g->z);
		if (rc != Z_OK)
			return stage_zlib_fail(g->base.err, rc, g->z.msg,
					       "gunzip: inflate reset");
		g->crc = crc32(0L, Z_NULL, 0);
		g->size = 0;
	}
	return AGENT_OK;
}

/* Take up to WANT bytes of a fixed-size field; true when it is whole. */
static bool take_field(struct gunzip *g, const unsigned char **p, size_t *len,
		       size_t want)
{
	size_t n = want - g->have;

	if (n > *len)
		n = *len;
	memcpy(g->field + g->have, *p, n);
	if (g->part != P_TRAILER && g->part != P_HCRC)
		g->hcrc = crc32(g->hcrc, *p, (uInt)n);
	g->have += n;
	*p += n;
	*len -= n;
	return g->have == want;
}

/* The magic number, one byte at a time, so that garbage fails at once. */
static int read_magic(struct gunzip *g, const unsigned char **p, size_t *len)
{
	static const unsigned char magic[2] = {0x1f, 0x8b};

	if (g->have == 0)
		g->hcrc = crc32(0L, Z_NULL, 0);
	if (**p != magic[g->have]) {
		if (g->members == 0)
			return agent_fail(g->base.err, AGENT_EFORMAT,
					  "gunzip: not gzip data (bad magic "
					  "number)");
		return agent_fail(g->base.err, AGENT_EFORMAT,
				  "gunzip: trailing garbage after gzip "
				  "member %llu",
				  (unsigned long long)g->members);
	}
	take_field(g, p, len, g->have + 1);
	if (g->have == 2)
		g->part = P_HEADER; /* keep HAVE: the field goes on */
	return AGENT_OK;
}

static int read_header(struct gunzip *g, const unsigned char **p, size_t *len)
{
	if (!take_field(g, p, len, 10))
		return AGENT_OK;
	if (g->field[2] != 8)
		return agent_fail(g->base.err, AGENT_EFORMAT,
				  "gunzip: member %llu: unknown compression "
				  "method %u",
				  member_no(g), g->field[2]);
	g->flags = g->field[3];
	if (g->flags & FRESERVED)
		return agent_fail(g->base.err, AGENT_EFORMAT,
				  "gunzip: member %llu: reserved header flags "
				  "set (0x%02x)",
				  member_no(g), g->flags);
	return enter(g, next_part(g, P_HEADER));
}

/* FNAME and FCOMMENT: skip up to and including the zero byte. */
static int skip_string(struct gunzip *g, const unsigned char **p, size_t *len)
{
	const unsigned char *zero = memchr(*p, 0, *len);
	size_t n = zero ? (size_t)(zero - *p) + 1 : *len;

	g->hcrc = crc32(g->hcrc, *p, (uInt)n);
	*p += n;
	*len -= n;
	if (zero)
		return enter(g, next_part(g, g->part));
	return AGENT_OK;
}

static int read_extra(struct gunzip *g, const unsigned char **p, size_t *len)
{
	size_t n;

	if (g->part == P_EXTRA_LEN) {
		if (!take_field(g, p, len, 2))
			return AGENT_OK;
		g->extra_left = (size_t)g->field[0] | (size_t)g->field[1] << 8;
		return enter(g,
			     g->extra_left ? P_EXTRA : next_part(g, P_EXTRA));
	}
	n = g->extra_left < *len ? g->extra_left : *len;
	g->hcrc = crc32(g->hcrc, *p, (uInt)n);
	*p += n;
	*len -= n;
	g->extra_left -= n;
	if (g->extra_left == 0)
		return enter(g, next_part(g, P_EXTRA));
	return AGENT_OK;
}

static int read_hcrc(struct gunzip *g, const unsigned char **p, size_t *len)
{
	uLong want = g->hcrc & 0xffff; /* before the CRC16 bytes themselves */
	unsigned stored;

	if (!take_field(g, p, len, 2))
		return AGENT_OK;
	stored = (unsigned)g->field[0] | (unsigned)g->field[1] << 8;
	if (stored != want)
		return agent_fail(g->base.err, AGENT_ECORRUPT,
				  "gunzip: member %llu: header CRC mismatch",
				  member_no(g));
	return enter(g, P_DATA);
}

/* Inflate what of *P belongs to this member, pushing the output on in
 * chunks; at the end of the deflate data, move to the trailer. */
static int read_data(struct gunzip *g, const unsigned char **p, size_t *len)
{
	size_t n;
	uInt avail = *len > UINT32_MAX ? UINT32_MAX : (uInt)*len;
	char what[64];
	int zrc, rc;

	g->z.next_in = *p;
	g->z.avail_in = avail;
	do {
		g->z.next_out = g->out;
		g->z.avail_out = CHUNK;
		zrc = inflate(&g->z, Z_NO_FLUSH);
		if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
			snprintf(what, sizeof(what),
				 "gunzip: member %llu: deflate data",
				 member_no(g));
			return stage_zlib_fail(g->base.err, zrc, g->z.msg,
					       what);
		}
		n = CHUNK - g->z.avail_out;
		if (n > 0) {
			g->crc = crc32(g->crc, g->out, (uInt)n);
			g->size += (uint32_t)n;
			rc = stream_emit(&g->base, g->out, n);
			if (rc != AGENT_OK)
				return rc;
		}
		/* Z_BUF_ERROR: no progress possible, it needs more input. */
	} while (zrc == Z_OK && (g->z.avail_in > 0 || g->z.avail_out == 0));

	n = avail - g->z.avail_in;
	*p += n;
	*len -= n;
	if (zrc == Z_STREAM_END)
		return enter(g, P_TRAILER);
	return AGENT_OK;
}

static int read_trailer(struct gunzip *g, const unsigned char **p, size_t *len)
{
	uint32_t crc, isize;

	if (!take_field(g, p, len, 8))
		return AGENT_OK;
	crc = le32(g->field);
	isize = le32(g->field + 4);
	if (crc != (uint32_t)g->crc)
		return agent_fail(g->base.err, AGENT_ECORRUPT,
				  "gunzip: member %llu: CRC-32 mismatch "
				  "(stored %08x, data %08x)",
				  member_no(g), crc, (uint32_t)g->crc);
	if (isize != g->size)
		return agent_fail(g->base.err, AGENT_ECORRUPT,
				  "gunzip: member %llu: length mismatch "
				  "(stored %u, data %u modulo 2^32)",
				  member_no(g), isize, g->size);
	g->members++;
	return enter(g, P_MAGIC);
}

static int gunzip_write(struct stream *s, const void *data, size_t len)
{
	struct gunzip *g = (struct gunzip *)s;
	const unsigned char *p = data;
	int rc = AGENT_OK;

	while (len > 0 && rc == AGENT_OK) {
		switch (g->part) {
		case P_MAGIC:
			rc = read_magic(g, &p, &len);
			break;
		case P_HEADER:
			rc = read_header(g, &p, &len);
			break;
		case P_EXTRA_LEN:
		case P_EXTRA:
			rc = read_extra(g, &p, &len);
			break;
		case P_NAME:
		case P_COMMENT:
			rc = skip_string(g, &p, &len);
			break;
		case P_HCRC:
			rc = read_hcrc(g, &p, &len);
			break;
		case P_DATA:
			rc = read_data(g, &p, &len);
			break;
		case P_TRAILER:
			rc = read_trailer(g, &p, &len);
			break;
		}
	}
	return rc;
}

static int gunzip_finish(struct stream *s)
{
	struct gunzip *g = (struct gunzip *)s;

	if (g->part == P_MAGIC && g->have == 0 && g->members == 0)
		return agent_fail(s->err, AGENT_ETRUNC,
				  "gunzip: gzip data ends early (no data)");
	if (g->part != P_MAGIC || g->have != 0)
		return agent_fail(s->err, AGENT_ETRUNC,
				  "gunzip: gzip data ends early (in member "
				  "%llu)",
				  member_no(g));
	return stream_finish(s->next);
}

static void gunzip_free(struct stream *s)
{
	struct gunzip *g = (struct gunzip *)s;

	if (g->z_ready)
		inflateEnd(&g->z);
	free(g->out);
	free(g);
}

static const struct stream_ops gunzip_ops = {
	.name = "gunzip",
	.write = gunzip_write,
	.finish = gunzip_finish,
	.free = gunzip_free,
};

int stage_gunzip_new(struct stream **out, struct stream *next,
		     struct agent_error *err)
{
	struct gunzip *g;
	int rc, zrc;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return agent_fail(err, AGENT_ENOMEM, "gunzip: out of memory");
	g->base.ops = &gunzip_ops;
	g->base.next = next;
	g->base.err = err;
	g->part = P_MAGIC;
	g->out = malloc(CHUNK);
	if (!g->out) {
		rc = agent_fail(err, AGENT_ENOMEM, "gunzip: out of memory");
		goto out;
	}
	/* Raw deflate (-15): the gzip wrapper is read above. */
	zrc = inflateInit2(&g->z, -MAX_WBITS);
	if (zrc != Z_OK) {
		rc = stage_zlib_fail(err, zrc, g->z.msg,
				     "gunzip: inflate init");
		goto out;
	}
	g->z_ready = true;
	/* The cast, not &g->base: the same pointer (base comes first), but
	 * gcc 12's -fanalyzer loses the allocation through a member's
	 * address and reports a leak. */
	*out = (struct stream *)g;
	g = NULL;
	rc = AGENT_OK;
out:
	if (g)
		gunzip_free((struct stream *)g);
	return rc;
}
