/*
 * The filter in front of psql: drops the dump's own \restrict and
 * \unrestrict lines, which psql, restricted under offsite's key, would
 * refuse, and refuses the one restricted-mode command psql lets run a
 * shell: \unrestrict with a backquote in its argument.
 */
#include "agent/proc/target.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define RESTRICT   "\\restrict "
#define UNRESTRICT "\\unrestrict "
/* psql runs "\unrestrict `...`" before it compares the key. */
#define GUARD	  "\\unrestrict"
#define GUARD_LEN (sizeof(GUARD) - 1)

struct psql_filter {
	struct stream base;
	char key[STAGE_PSQL_KEY_MAX + 1]; /* the dump's own; "" until learnt */
	size_t key_len;
	bool header; /* only blank and "--" lines so far: the key may come */

	/* The current line, kept while it may be one to drop. */
	char line[sizeof(UNRESTRICT) + STAGE_PSQL_KEY_MAX + 2];
	size_t len;
	bool buffering;
	char lead[2]; /* the line's first bytes, for the header */
	size_t lead_len;

	size_t match;	 /* bytes of GUARD matched on this line */
	size_t slashes;	 /* backslashes in a row just before this byte */
	bool armed;	 /* this line holds GUARD */
	uint64_t lineno; /* of the current line, from 1 */
};

static bool alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

/* LINE[0..LEN) is a prefix of PREFIX KEY [\r] \n (KEY alphanumeric); at
 * a line's end (COMPLETE), all of it with a KEY of one byte or more:
 * *KEY and *KEY_LEN then name it. */
static bool shaped(const char *line, size_t len, const char *prefix,
		   bool complete, const char **key, size_t *key_len)
{
	size_t plen = strlen(prefix), i, end = len;

	if (memcmp(line, prefix, len < plen ? len : plen) != 0)
		return false;
	if (len <= plen)
		return !complete;
	if (complete)
		end--; /* the \n */
	if (end > plen && line[end - 1] == '\r')
		end--;
	for (i = plen; i < end; i++) {
		if (!alnum(line[i]))
			return false;
	}
	/* Only a \n may follow a \r. */
	if (!complete && end < len && end + 1 != len)
		return false;
	if (end - plen > STAGE_PSQL_KEY_MAX)
		return false;
	if (complete && end == plen)
		return false;
	*key = line + plen;
	*key_len = end - plen;
	return true;
}

static bool may_drop(const struct psql_filter *f)
{
	const char *k;
	size_t n;

	return shaped(f->line, f->len, RESTRICT, false, &k, &n) ||
	       shaped(f->line, f->len, UNRESTRICT, false, &k, &n);
}

/* A whole line was kept: drop it, or pass it on. */
static int end_of_kept_line(struct psql_filter *f)
{
	const char *k;
	size_t n;

	if (shaped(f->line, f->len, RESTRICT, true, &k, &n) && f->header &&
	    f->key_len == 0) {
		memcpy(f->key, k, n);
		f->key[n] = '\0';
		f->key_len = n;
		return AGENT_OK; /* the dump's own \restrict: dropped */
	}
	if (f->key_len > 0 &&
	    ((shaped(f->line, f->len, RESTRICT, true, &k, &n) ||
	      shaped(f->line, f->len, UNRESTRICT, true, &k, &n)) &&
	     n == f->key_len && memcmp(k, f->key, n) == 0))
		return AGENT_OK;
	return stream_emit(&f->base, f->line, f->len);
}

static void end_of_line(struct psql_filter *f)
{
	bool blank = f->lead_len == 0 ||
		     (f->lead_len == 1 && f->lead[0] == '\r'),
	     comment =
		     f->lead_len == 2 && f->lead[0] == '-' && f->lead[1] == '-';

	if (!blank && !comment && f->key_len == 0)
		f->header = false;
	f->lead_len = 0;
	f->match = 0;
	f->slashes = 0;
	f->armed = false;
	f->buffering = true;
	f->len = 0;
	f->lineno++;
}

static int psql_write(struct stream *s, const void *data, size_t len)
{
	struct psql_filter *f = (struct psql_filter *)s;
	const char *p = data;
	size_t span = 0; /* P[SPAN..i) passes on unchanged */
	int rc;

	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (c != '\n') {
			if (f->armed && c == '`')
				return agent_fail(
					s->err, AGENT_EIO,
					"refused: line %llu of the dump holds "
					"a psql \\unrestrict with a backquote, "
					"which would run a shell command",
					(unsigned long long)f->lineno);
			/*
			 * '\\' is only GUARD's first byte. An even run of
			 * them is not a \unrestrict: psql reads "\\" as its
			 * separator command, which restricted mode refuses
			 * first, and COPY data doubles every backslash, so a
			 * row that holds the text still loads.
			 */
			if (c == '\\') {
				f->slashes++;
				f->match = 1;
			} else {
				if (f->match == 1 && f->slashes % 2 == 0)
					f->match = 0;
				f->slashes = 0;
				if (f->match > 0 && c == GUARD[f->match]) {
					if (++f->match == GUARD_LEN) {
						f->armed = true;
						f->match = 0;
					}
				} else {
					f->match = 0;
				}
			}
			if (f->lead_len < sizeof(f->lead))
				f->lead[f->lead_len++] = c;
		}
		if (f->buffering) {
			f->line[f->len++] = c;
			span = i + 1;
			if (c == '\n') {
				rc = end_of_kept_line(f);
				if (rc != AGENT_OK)
					return rc;
				end_of_line(f);
			} else if (!may_drop(f)) {
				rc = stream_emit(s, f->line, f->len);
				if (rc != AGENT_OK)
					return rc;
				f->buffering = false;
			}
		} else if (c == '\n') {
			rc = stream_emit(s, p + span, i + 1 - span);
			if (rc != AGENT_OK)
				return rc;
			span = i + 1;
			end_of_line(f);
		}
	}
	if (!f->buffering && span < len)
		return stream_emit(s, p + span, len - span);
	return AGENT_OK;
}

static int psql_finish(struct stream *s)
{
	struct psql_filter *f = (struct psql_filter *)s;
	int rc = AGENT_OK;

	/* A last line without its end: as it is. */
	if (f->buffering && f->len > 0)
		rc = stream_emit(s, f->line, f->len);
	f->len = 0;
	return rc != AGENT_OK ? rc : stream_finish(s->next);
}

static void psql_free(struct stream *s)
{
	OPENSSL_cleanse(s, sizeof(struct psql_filter));
	free(s);
}

static const struct stream_ops psql_ops = {
	.name = "psql filter",
	.write = psql_write,
	.finish = psql_finish,
	.free = psql_free,
};

int stage_psql_new(struct stream **out, struct stream *next,
		   struct agent_error *err)
{
	struct psql_filter *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (f == NULL)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	f->base.ops = &psql_ops;
	f->base.next = next;
	f->base.err = err;
	f->header = true;
	f->buffering = true;
	f->lineno = 1;
	*out = &f->base;
	return AGENT_OK;
}
