/*
 * argv: split a command line into words the way a POSIX shell quotes them,
 * without any expansion ($, *, ~ and ` are ordinary characters), and split
 * comma or blank separated lists.
 *
 * A word array is one allocation: the NULL-terminated pointers, then the
 * words they point to. One free releases it; nothing can leak half-built.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "conf/conf_internal.h"

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

size_t conf_argv_count(char *const *argv)
{
	size_t n = 0;

	while (argv != NULL && argv[n] != NULL)
		n++;
	return n;
}

void conf_argv_free(char **argv)
{
	if (argv == NULL)
		return;
	/* Words may carry passwords (dump options): wipe them. */
	for (size_t i = 0; argv[i] != NULL; i++)
		OPENSSL_cleanse(argv[i], strlen(argv[i]));
	free(argv);
}

/*
 * Room for the words of a LEN-byte text: at most LEN / 2 + 1 words (each
 * but the last needs a separator, or two quotes) plus the NULL, and their
 * characters, at most LEN, plus a NUL each. *TEXT is where words go.
 */
static char **words_alloc(size_t len, char **text)
{
	size_t nptr, size;
	char **words;

	*text = NULL;
	if (len > SIZE_MAX / 4 - 16)
		return NULL;
	nptr = len / 2 + 2;
	size = nptr * sizeof(char *) + len + nptr;
	words = calloc(1, size);
	if (words != NULL)
		*text = (char *)(words + nptr);
	return words;
}

static void words_free(char **words, size_t len)
{
	size_t nptr = len / 2 + 2;

	if (words == NULL)
		return;
	OPENSSL_cleanse(words, nptr * sizeof(char *) + len + nptr);
	free(words);
}

/* In "...", a backslash escapes only these (POSIX 2.2.3). */
static bool dquote_escapes(char ch)
{
	return ch == '"' || ch == '\\' || ch == '$' || ch == '`';
}

int conf_split_argv_why(const char *s, char ***out, const char **why)
{
	char **argv = NULL, *w = NULL;
	const char *p = s, *reason = NULL;
	size_t len = 0, n = 0;
	int rc;

	if (why != NULL)
		*why = NULL;
	if (out == NULL)
		return CONF_ESYNTAX;
	*out = NULL;
	if (s == NULL)
		return CONF_ESYNTAX;
	len = strlen(s);
	argv = words_alloc(len, &w);
	if (argv == NULL) {
		rc = CONF_ENOMEM;
		goto out;
	}

	for (;;) {
		char *start = w;
		bool quoted = false;

		while (is_space(*p))
			p++;
		if (*p == '\0')
			break;
		while (*p != '\0' && !is_space(*p)) {
			if (*p == '\'') {
				quoted = true;
				for (p++; *p != '\0' && *p != '\''; p++)
					*w++ = *p;
				if (*p == '\0') {
					reason = "has an unterminated quote";
					break;
				}
				p++;
			} else if (*p == '"') {
				quoted = true;
				for (p++; *p != '\0' && *p != '"'; p++) {
					if (p[0] == '\\' && p[1] == '\n') {
						p++;
						continue;
					}
					if (p[0] == '\\' &&
					    dquote_escapes(p[1]))
						p++;
					*w++ = *p;
				}
				if (*p == '\0') {
					reason = "has an unterminated quote";
					break;
				}
				p++;
			} else if (*p == '\\') {
				if (p[1] == '\0') {
					reason = "ends with a backslash";
					break;
				}
				if (p[1] !=
				    '\n') /* backslash-newline: nothing */
					*w++ = p[1];
				p += 2;
			} else {
				*w++ = *p++;
			}
		}
		if (reason != NULL) {
			rc = CONF_ESYNTAX;
			goto out;
		}
		if (w == start && !quoted)
			continue;
		*w++ = '\0';
		argv[n++] = start;
	}
	argv[n] = NULL;
	*out = argv;
	argv = NULL;
	rc = CONF_OK;
out:
	if (why != NULL)
		*why = reason;
	words_free(argv, len);
	return rc;
}

int conf_split_argv(const char *s, char ***out)
{
	return conf_split_argv_why(s, out, NULL);
}

int conf_split_list(const char *s, char ***out)
{
	char **list, *w = NULL;
	size_t n = 0;

	if (out == NULL)
		return CONF_ESYNTAX;
	*out = NULL;
	if (s == NULL)
		return CONF_ESYNTAX;
	list = words_alloc(strlen(s), &w);
	if (list == NULL)
		return CONF_ENOMEM;
	for (const char *p = s; *p != '\0';) {
		size_t len = strcspn(p, ", \t\r\n");

		if (len > 0) {
			memcpy(w, p, len);
			w[len] = '\0';
			list[n++] = w;
			w += len + 1;
		}
		p += len;
		if (*p != '\0')
			p++;
	}
	list[n] = NULL;
	*out = list;
	return CONF_OK;
}
