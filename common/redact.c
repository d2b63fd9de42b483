/*
 * redact: scrub credentials from text before it is logged or shown.
 *
 * A single left-to-right scan. At each position we try the secret names of
 * the table, then a URL's user information; a match gives the span of the
 * value, which is replaced by "REDACTED", and the scan goes on after it.
 */
#include "common/redact.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define REDACTED     "REDACTED"
#define REDACTED_LEN (sizeof(REDACTED) - 1)

/* How an unquoted value ends. */
enum value_end {
	END_WORD, /* at a blank, '&', a quote or a comma: query and key=value */
	END_LINE, /* at the end of the line: header values (Authorization) */
};

struct secret_name {
	const char *name;
	bool colon; /* "name: value" too, besides "name=value" */
	enum value_end end;
};

/* A name matches anywhere in a word: "aws_session_token" ends in
 * "session_token". "signature" alone takes '=' only: "bad signature: ..."
 * is ordinary text, "Signature=..." (SigV2 query, SigV4 header) is not. */
static const struct secret_name secret_names[] = {
	{"authorization", true, END_LINE},
	{"x-amz-security-token", true, END_WORD},
	{"x-amz-signature", true, END_WORD},
	{"signature", false, END_WORD},
	{"secret_access_key", true, END_WORD},
	{"secret_key", true, END_WORD},
	{"session_token", true, END_WORD},
	{"passphrase", true, END_WORD},
	{"password", true, END_WORD},
};
#define NSECRET_NAMES (sizeof(secret_names) / sizeof(secret_names[0]))

/* A value found in the text: [start, end). */
struct span {
	size_t start;
	size_t end;
};

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_eol(char ch)
{
	return ch == '\n' || ch == '\r' || ch == '\0';
}

/* The end of a value opened by QUOTE ('"', '\'' or 'e' for an escaped
 * quote, \"). Without a closing quote the value runs to the end of the
 * line: better too much than too little. */
static size_t quoted_end(const char *s, size_t len, size_t i, char quote)
{
	while (i < len && !is_eol(s[i])) {
		if (quote == '\'') {
			if (s[i] == '\'')
				return i;
		} else if (s[i] == '\\' && i + 1 < len) {
			if (quote == 'e' && s[i + 1] == '"')
				return i;
			i++; /* skip the escaped character */
		} else if (s[i] == '"') {
			return i;
		}
		i++;
	}
	return i;
}

static size_t unquoted_end(const char *s, size_t len, size_t i,
			   enum value_end end)
{
	while (i < len && !is_eol(s[i])) {
		char ch = s[i];

		if (ch == '"' || (ch == '\\' && end == END_LINE))
			break;
		/* \" closes an enclosing quoted string of a log line. */
		if (ch == '\\' && i + 1 < len && s[i + 1] == '"')
			break;
		if (end == END_WORD &&
		    (is_blank(ch) || ch == '&' || ch == '\'' || ch == ','))
			break;
		i++;
	}
	return i;
}

/* An optional quote at S[*I]: '"', '\'' or \". Returns the quote kind
 * ('e' for \") or 0, and steps over it. */
static char skip_quote(const char *s, size_t len, size_t *i)
{
	if (*i < len && (s[*i] == '"' || s[*i] == '\''))
		return s[(*i)++];
	if (*i + 1 < len && s[*i] == '\\' && s[*i + 1] == '"') {
		*i += 2;
		return 'e';
	}
	return 0;
}

/* "NAME [quote] [blanks] (=|:) [blanks] [quote] VALUE" at position AT. */
static bool match_name(const char *s, size_t len, size_t at,
		       const struct secret_name *sn, struct span *out)
{
	size_t nlen = strlen(sn->name);
	size_t i = at + nlen;
	char quote;

	if (nlen > len - at || strncasecmp(s + at, sn->name, nlen) != 0)
		return false;
	skip_quote(s, len, &i);
	while (i < len && is_blank(s[i]))
		i++;
	if (i >= len || !(s[i] == '=' || (sn->colon && s[i] == ':')))
		return false;
	i++;
	while (i < len && is_blank(s[i]))
		i++;
	quote = skip_quote(s, len, &i);
	out->start = i;
	if (quote)
		out->end = quoted_end(s, len, i, quote);
	else
		out->end = unquoted_end(s, len, i, sn->end);
	return true;
}

/* "://user:PASS@host": the password of a URL's user information. The
 * authority ends at '/', '?', '#', a blank, a quote or a backslash; its
 * last '@' ends the user information (a password may hold an '@'). */
static bool match_userinfo(const char *s, size_t len, size_t at,
			   struct span *out)
{
	size_t i, start = at + 3, colon = 0, atsign = 0;

	if (len - at < 3 || memcmp(s + at, "://", 3) != 0)
		return false;
	for (i = start; i < len && !is_eol(s[i]); i++) {
		char ch = s[i];

		if (ch == '/' || ch == '?' || ch == '#' || is_blank(ch) ||
		    ch == '"' || ch == '\'' || ch == '\\' || ch == '<' ||
		    ch == '>')
			break;
		if (ch == '@')
			atsign = i;
		else if (ch == ':' && colon == 0 && atsign == 0)
			colon = i;
	}
	if (atsign == 0 || colon == 0 || colon > atsign)
		return false;
	out->start = colon + 1;
	out->end = atsign;
	return true;
}

/* Replace BUF[start, end) with REDACTED, cutting the tail to fit SIZE.
 * Returns where the scan goes on. */
static size_t replace(char *buf, size_t size, size_t *len, size_t start,
		      size_t end)
{
	size_t room = size - 1; /* text bytes, the NUL excluded */
	size_t put = REDACTED_LEN;
	size_t tail = *len - end;

	if (put > room - start)
		put = room - start;
	if (tail > room - start - put)
		tail = room - start - put;
	memmove(buf + start + put, buf + end, tail);
	memcpy(buf + start, REDACTED, put);
	*len = start + put + tail;
	buf[*len] = '\0';
	return start + put;
}

static bool is_redacted(const char *s, const struct span *v)
{
	return v->end - v->start == REDACTED_LEN &&
	       memcmp(s + v->start, REDACTED, REDACTED_LEN) == 0;
}

size_t redact(char *buf, size_t size)
{
	size_t len, i = 0, count = 0;

	if (buf == NULL || size == 0)
		return 0;
	len = strnlen(buf, size);
	if (len == size) {
		len = size - 1;
		buf[len] = '\0';
	}
	while (i < len) {
		struct span v;
		bool found = match_userinfo(buf, len, i, &v);
		size_t k;

		for (k = 0; !found && k < NSECRET_NAMES; k++)
			found = match_name(buf, len, i, &secret_names[k], &v);
		if (!found) {
			i++;
		} else if (v.end == v.start || is_redacted(buf, &v)) {
			i = v.end > i ? v.end : i + 1;
		} else {
			i = replace(buf, size, &len, v.start, v.end);
			count++;
		}
	}
	return count;
}
