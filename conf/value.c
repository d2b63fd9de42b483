/*
 * value: one value of one key, read from text into struct conf and written
 * back out, by the kind its row in the key table gives it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/wipe.h"
#include "conf/conf_internal.h"

#define SHOW_MAX 100

static const char *label(const struct conf_key *k, const struct conf_set *how)
{
	return how->label != NULL ? how->label : k->name;
}

const char *conf_value_show(char *buf, size_t size, const struct conf_key *k,
			    const char *value)
{
	char *red = NULL;
	const char *s = value;

	if ((k->flags & CONF_F_SECRET) != 0) {
		snprintf(buf, size, "<redacted>");
		return buf;
	}
	if ((k->flags & (CONF_F_PASSWORD | CONF_F_URLTOKEN)) != 0) {
		red = conf_redact(value, (k->flags & CONF_F_URLTOKEN) != 0);
		if (red == NULL) {
			snprintf(buf, size, "<redacted>");
			return buf;
		}
		s = red;
	}
	if (strlen(s) > SHOW_MAX)
		snprintf(buf, size, "%.*s...", SHOW_MAX - 3, s);
	else
		snprintf(buf, size, "%s", s);
	free(red);
	return buf;
}

const char *conf_value_bound(char *buf, size_t size, const struct conf_key *k,
			     uint64_t v)
{
	if (k->kind == CONF_K_SIZE)
		return conf_format_size(buf, size, v);
	if (k->kind == CONF_K_DURATION)
		return conf_format_duration(buf, size, v);
	snprintf(buf, size, "%" PRIu64, v);
	return buf;
}

static int bad_value(conf_error *err, const struct conf_key *k,
		     const struct conf_set *how, const char *value,
		     const char *why)
{
	char shown[SHOW_MAX + 32];

	conf_seterr(err, "%s: bad value for %s in [%s]: '%s' %s", how->where,
		    label(k, how), k->section,
		    conf_value_show(shown, sizeof(shown), k, value), why);
	return CONF_ESYNTAX;
}

static int check_range(conf_error *err, const struct conf_key *k,
		       const struct conf_set *how, uint64_t v)
{
	char lo[CONF_FORMAT_MAX], hi[CONF_FORMAT_MAX];
	const char *note = k->range_note;

	if (v >= k->min && v <= k->max)
		return CONF_OK;
	conf_seterr(err, "%s: %s in [%s] must be between %s and %s%s%s%s",
		    how->where, label(k, how), k->section,
		    conf_value_bound(lo, sizeof(lo), k, k->min),
		    conf_value_bound(hi, sizeof(hi), k, k->max),
		    note != NULL ? " (" : "", note != NULL ? note : "",
		    note != NULL ? ")" : "");
	return CONF_ESYNTAX;
}

/* Control characters would break the printout, logs and HTTP headers.
 * Lists may hold tabs and newlines (from the environment) as blanks. */
static bool has_control(const char *s, bool blanks_ok)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (blanks_ok && (*p == '\t' || *p == '\n' || *p == '\r'))
			continue;
		if (*p < 0x20 || *p == 0x7f)
			return true;
	}
	return false;
}

static void record(conf *c, const struct conf_key *k,
		   const struct conf_set *how)
{
	struct conf_value_meta *m;

	if (how->typed || c->meta == NULL)
		return;
	m = &c->meta->v[conf_key_index(k)];
	m->src = how->src;
	m->line = how->line;
	m->env = how->env;
}

static void store_string(void *dst, char *s)
{
	char **field = dst;

	wipe_free_str(*field);
	*field = s;
}

/* A file name from the config: a relative one starts at the config's
 * directory, so the same file works from a shell and from systemd. */
static int resolve_path(char **out, const conf *c, const char *value)
{
	const char *dir = c->meta != NULL ? c->meta->dir : NULL;
	size_t dl, vl;
	char *p;

	*out = NULL;
	if (value[0] == '/' || dir == NULL) {
		*out = strdup(value);
		return *out != NULL ? CONF_OK : CONF_ENOMEM;
	}
	dl = strlen(dir);
	vl = strlen(value);
	if (dl > SIZE_MAX - vl - 2)
		return CONF_ENOMEM;
	p = malloc(dl + vl + 2);
	if (p == NULL)
		return CONF_ENOMEM;
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, value, vl + 1);
	*out = p;
	return CONF_OK;
}

void conf_value_clear(const struct conf_key *k, void *dst)
{
	switch (k->kind) {
	case CONF_K_STRING:
	case CONF_K_PATH:
	case CONF_K_SECRET:
		store_string(dst, NULL);
		break;
	case CONF_K_ARGV:
	case CONF_K_LIST:
		conf_argv_free(*(char ***)dst);
		*(char ***)dst = NULL;
		break;
	case CONF_K_SIZE:
	case CONF_K_DURATION:
		*(uint64_t *)dst = 0;
		break;
	case CONF_K_UINT:
		*(unsigned *)dst = 0;
		break;
	case CONF_K_INT:
	case CONF_K_ENUM:
		*(int *)dst = 0;
		break;
	case CONF_K_BOOL:
		*(bool *)dst = false;
		break;
	}
}

static int set_string(conf *c, const struct conf_key *k, void *dst,
		      const char *value, const struct conf_set *how,
		      conf_error *err)
{
	const char *why = NULL;
	char *s = NULL;
	int rc;

	if (k->kind == CONF_K_PATH) {
		rc = resolve_path(&s, c, value);
	} else {
		s = strdup(value);
		rc = s != NULL ? CONF_OK : CONF_ENOMEM;
	}
	if (rc == CONF_OK && k->check != NULL)
		rc = k->check(&s, &why);
	if (rc == CONF_ESYNTAX)
		bad_value(err, k, how, value, why);
	if (rc != CONF_OK) {
		wipe_free_str(s);
		return rc;
	}
	store_string(dst, s);
	return CONF_OK;
}

/* A private file: check it (and read it, if its contents have a key). */
static int set_secret(conf *c, const struct conf_key *k, void *dst,
		      const char *value, const struct conf_set *how,
		      conf_error *err)
{
	const struct conf_key *ck = NULL;
	char *path = NULL, *content = NULL;
	int rc;

	if (k->content != NULL && (k->flags & CONF_F_NOREAD) == 0)
		ck = conf_key_find(k->section, k->content);
	rc = resolve_path(&path, c, value);
	if (rc != CONF_OK)
		goto out;
	rc = conf_secret_file(ck != NULL ? &content : NULL, path, how->where,
			      label(k, how), err);
	if (rc != CONF_OK)
		goto out;
	store_string(dst, path);
	path = NULL;
	if (ck != NULL) {
		store_string(conf_key_ptr(c, ck), content);
		content = NULL;
		record(c, ck, how);
	}
out:
	free(path);
	wipe_free_str(content);
	return rc;
}

static int set_number(const struct conf_key *k, void *dst, const char *value,
		      const struct conf_set *how, conf_error *err)
{
	uint64_t v = 0;
	int64_t i = 0;
	int rc;

	switch (k->kind) {
	case CONF_K_SIZE:
		if (conf_parse_size(value, &v) != CONF_OK)
			return bad_value(err, k, how, value,
					 "is not a size (e.g. 16MiB)");
		break;
	case CONF_K_DURATION:
		if (conf_parse_duration(value, &v) != CONF_OK)
			return bad_value(err, k, how, value,
					 "is not a duration (e.g. 1h, 30d)");
		break;
	default:
		if (conf_parse_integer(value, &i) != CONF_OK)
			return bad_value(err, k, how, value,
					 "is not a whole number");
		/* Below zero is out of every range in the table. */
		v = i < 0 ? UINT64_MAX : (uint64_t)i;
		break;
	}
	rc = check_range(err, k, how, v);
	if (rc != CONF_OK)
		return rc;
	if (k->kind == CONF_K_UINT)
		*(unsigned *)dst = (unsigned)v;
	else if (k->kind == CONF_K_INT)
		*(int *)dst = (int)v;
	else
		*(uint64_t *)dst = v;
	return CONF_OK;
}

static int set_enum(const struct conf_key *k, void *dst, const char *value,
		    const struct conf_set *how, conf_error *err)
{
	char why[256] = "must be one of: ";
	size_t used = strlen(why);

	for (int i = 0; k->names[i] != NULL; i++) {
		if (strcasecmp(value, k->names[i]) == 0) {
			*(int *)dst = i;
			return CONF_OK;
		}
	}
	for (int i = 0; k->names[i] != NULL && used < sizeof(why); i++) {
		int w = snprintf(why + used, sizeof(why) - used, "%s%s",
				 i > 0 ? ", " : "", k->names[i]);

		if (w < 0)
			break;
		used += (size_t)w;
	}
	return bad_value(err, k, how, value, why);
}

static int set_words(const struct conf_key *k, void *dst, const char *value,
		     const struct conf_set *how, conf_error *err)
{
	const char *why = NULL;
	char **words = NULL;
	int rc;

	if (k->kind == CONF_K_ARGV)
		rc = conf_split_argv_why(value, &words, &why);
	else
		rc = conf_split_list(value, &words);
	if (rc == CONF_ESYNTAX)
		return bad_value(err, k, how, value, why);
	if (rc != CONF_OK)
		return rc;
	if (words[0] == NULL) { /* only blanks: not set */
		conf_argv_free(words);
		words = NULL;
	}
	conf_argv_free(*(char ***)dst);
	*(char ***)dst = words;
	return CONF_OK;
}

int conf_value_set(conf *c, const struct conf_key *k, void *dst,
		   const char *value, const struct conf_set *how,
		   conf_error *err)
{
	bool b;
	int rc;

	if (value != NULL && *value == '\0')
		value = k->def;
	if (value == NULL) {
		conf_value_clear(k, dst);
		if (k->kind == CONF_K_SECRET && k->content != NULL) {
			const struct conf_key *ck =
				conf_key_find(k->section, k->content);

			if (ck != NULL) {
				conf_value_clear(ck, conf_key_ptr(c, ck));
				record(c, ck, how);
			}
		}
		record(c, k, how);
		return CONF_OK;
	}
	if (has_control(value,
			k->kind == CONF_K_ARGV || k->kind == CONF_K_LIST))
		return bad_value(err, k, how, value,
				 "contains a control character");

	switch (k->kind) {
	case CONF_K_STRING:
	case CONF_K_PATH:
		rc = set_string(c, k, dst, value, how, err);
		break;
	case CONF_K_SECRET:
		rc = set_secret(c, k, dst, value, how, err);
		break;
	case CONF_K_SIZE:
	case CONF_K_DURATION:
	case CONF_K_UINT:
	case CONF_K_INT:
		rc = set_number(k, dst, value, how, err);
		break;
	case CONF_K_BOOL:
		rc = conf_parse_bool(value, &b);
		if (rc != CONF_OK) {
			rc = bad_value(err, k, how, value,
				       "is not a boolean (yes/no, true/false, "
				       "on/off, 1/0)");
			break;
		}
		*(bool *)dst = b;
		break;
	case CONF_K_ENUM:
		rc = set_enum(k, dst, value, how, err);
		break;
	case CONF_K_ARGV:
	case CONF_K_LIST:
		rc = set_words(k, dst, value, how, err);
		break;
	default:
		rc = CONF_ESYNTAX;
		break;
	}
	if (rc == CONF_OK)
		record(c, k, how);
	return rc;
}

/* Characters a shell word needs no quotes for. */
static bool word_plain(const char *w)
{
	if (*w == '\0')
		return false;
	for (; *w != '\0'; w++) {
		if (!((*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z') ||
		      (*w >= '0' && *w <= '9') || strchr("_@%+=:,./-", *w)))
			return false;
	}
	return true;
}

/* Write W quoted for conf_split_argv at DST (or only measure, if DST is
 * NULL); returns its length. */
static size_t quote_word(char *dst, const char *w)
{
	size_t n = 0;

	if (word_plain(w)) {
		n = strlen(w);
		if (dst != NULL)
			memcpy(dst, w, n);
		return n;
	}
	if (dst != NULL)
		dst[n] = '\'';
	n++;
	for (; *w != '\0'; w++) {
		if (*w == '\'') {
			if (dst != NULL)
				memcpy(dst + n, "'\\''", 4);
			n += 4;
		} else {
			if (dst != NULL)
				dst[n] = *w;
			n++;
		}
	}
	if (dst != NULL)
		dst[n] = '\'';
	return n + 1;
}

/* ARGV words, quoted and joined by blanks; LIST words joined by ", ". */
static char *join_words(char *const *words, bool quote)
{
	const char *sep = quote ? " " : ", ";
	size_t n = 0, len = 0;
	char *s;

	for (size_t i = 0; words != NULL && words[i] != NULL; i++) {
		/* Quoting at most quadruples a word, plus two quotes. */
		size_t wl =
			quote ? quote_word(NULL, words[i]) : strlen(words[i]);

		if (len > SIZE_MAX / 2 || wl > SIZE_MAX / 2 - len - 2)
			return NULL;
		len += wl + (i > 0 ? strlen(sep) : 0);
	}
	s = malloc(len + 1);
	if (s == NULL)
		return NULL;
	for (size_t i = 0; words != NULL && words[i] != NULL; i++) {
		if (i > 0) {
			memcpy(s + n, sep, strlen(sep));
			n += strlen(sep);
		}
		if (quote) {
			n += quote_word(s + n, words[i]);
		} else {
			memcpy(s + n, words[i], strlen(words[i]));
			n += strlen(words[i]);
		}
	}
	s[n] = '\0';
	return s;
}

int conf_value_format(char **out, const struct conf_key *k, const void *src)
{
	char buf[CONF_FORMAT_MAX];
	const char *s = buf;

	*out = NULL;
	switch (k->kind) {
	case CONF_K_STRING:
	case CONF_K_PATH:
	case CONF_K_SECRET:
		s = *(char *const *)src;
		if ((k->flags & CONF_F_SECRET) != 0) {
			s = s != NULL ? "<redacted>" : "<not set>";
		} else if (s == NULL) {
			s = "";
		} else if ((k->flags & (CONF_F_PASSWORD | CONF_F_URLTOKEN))) {
			*out = conf_redact(s,
					   (k->flags & CONF_F_URLTOKEN) != 0);
			goto done;
		}
		break;
	case CONF_K_SIZE:
		conf_format_size(buf, sizeof(buf), *(const uint64_t *)src);
		break;
	case CONF_K_DURATION:
		conf_format_duration(buf, sizeof(buf), *(const uint64_t *)src);
		break;
	case CONF_K_UINT:
		snprintf(buf, sizeof(buf), "%u", *(const unsigned *)src);
		break;
	case CONF_K_INT:
		snprintf(buf, sizeof(buf), "%d", *(const int *)src);
		break;
	case CONF_K_BOOL:
		s = *(const bool *)src ? "true" : "false";
		break;
	case CONF_K_ENUM: {
		int v = *(const int *)src, n = 0;

		while (k->names[n] != NULL)
			n++;
		s = v >= 0 && v < n ? k->names[v] : "?";
		break;
	}
	case CONF_K_ARGV:
	case CONF_K_LIST:
		*out = join_words(*(char **const *)src, k->kind == CONF_K_ARGV);
		goto done;
	}
	*out = strdup(s);
done:
	return *out != NULL ? CONF_OK : CONF_ENOMEM;
}
