/*
 * parse: the INI text, through inih, into struct conf.
 *
 * inih parses; we feed it one line at a time through a reader of our own,
 * which keeps the line number (the handler gets none), strips a line's
 * leading blanks (so an indented key is a key, never a continuation of the
 * one before, whatever inih was built with), refuses lines longer than
 * inih's buffer instead of letting it split them, and checks section names
 * where they are written. Only the documented inih API is used: no build
 * options or globals of the installed library are assumed.
 */
#include <stdio.h>
#include <string.h>

#include <ini.h>

#include "conf/conf_internal.h"

struct ini_state {
	conf *c;
	const char *name; /* the file, for messages */
	const char *pos;  /* the next line of the text */
	int line;	  /* the line last handed to inih */
	int rc;		  /* our first error ... */
	int err_line;	  /* ... and its line */
	conf_error *err;
};

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static void fail(struct ini_state *st, int rc)
{
	st->rc = rc;
	st->err_line = st->line;
}

/* Trim blanks around [S, S + LEN) into BUF; false if it does not fit. */
static bool trimmed(char *buf, size_t size, const char *s, size_t len)
{
	while (len > 0 && is_blank(*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	if (len >= size)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return true;
}

static void unknown_section(struct ini_state *st, const char *section)
{
	const char *near = conf_section_suggest(section);

	conf_seterr(st->err, "%s:%d: unknown section [%s]%s%s%s", st->name,
		    st->line, section, near != NULL ? "; did you mean [" : "",
		    near != NULL ? near : "", near != NULL ? "]?" : "");
	fail(st, CONF_ESYNTAX);
}

/* inih's reader: one line per call, as fgets would give it. */
static char *ini_read(char *buf, int num, void *stream)
{
	struct ini_state *st = stream;
	const char *p = st->pos, *end, *next;
	char section[256];
	size_t len;

	if (st->rc != CONF_OK || *p == '\0')
		return NULL;
	end = strchr(p, '\n');
	next = end != NULL ? end + 1 : p + strlen(p);
	if (end == NULL)
		end = next;
	st->line++;
	if (st->line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3; /* a UTF-8 byte order mark */
	while (p < end && is_blank(*p))
		p++;
	while (end > p && (is_blank(end[-1]) || end[-1] == '\r'))
		end--;
	len = (size_t)(end - p);

	/* The line, its newline and a NUL must fit. */
	if (num < 3 || len > (size_t)num - 2) {
		conf_seterr(st->err,
			    "%s:%d: line is too long (at most %d "
			    "characters)",
			    st->name, st->line, num < 3 ? 0 : num - 2);
		fail(st, CONF_ESYNTAX);
		return NULL;
	}
	if (len > 0 && *p == '[') {
		const char *close = memchr(p, ']', len);

		if (close != NULL &&
		    trimmed(section, sizeof(section), p + 1,
			    (size_t)(close - p - 1)) &&
		    !conf_section_known(section)) {
			unknown_section(st, section);
			return NULL;
		}
	}
	memcpy(buf, p, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	st->pos = next;
	return buf;
}

/* "KEY.TYPE" in [retention]: the row of KEY, or NULL. */
static const struct conf_key *typed_key(const char *section, const char *name,
					const char **type)
{
	const char *dot = strchr(name, '.');
	const struct conf_key *k;
	char base[64];

	if (dot == NULL || (size_t)(dot - name) >= sizeof(base))
		return NULL;
	memcpy(base, name, (size_t)(dot - name));
	base[dot - name] = '\0';
	k = conf_key_find(section, base);
	if (k == NULL || (k->flags & CONF_F_TYPED) == 0)
		return NULL;
	*type = dot + 1;
	return k;
}

static void unknown_key(struct ini_state *st, const char *section,
			const char *name)
{
	const char *dot = strchr(name, '.'), *near = NULL, *rest = "";
	char base[64];

	/* "day.weekly": suggest "days.weekly". */
	if (dot != NULL && (size_t)(dot - name) < sizeof(base)) {
		const struct conf_key *k;

		memcpy(base, name, (size_t)(dot - name));
		base[dot - name] = '\0';
		near = conf_key_suggest(section, base);
		k = near != NULL ? conf_key_find(section, near) : NULL;
		if (k != NULL && (k->flags & CONF_F_TYPED) != 0)
			rest = dot;
		else
			near = NULL;
	}
	if (near == NULL)
		near = conf_key_suggest(section, name);
	conf_seterr(st->err, "%s:%d: unknown key '%s' in [%s]%s%s%s%s",
		    st->name, st->line, name, section,
		    near != NULL ? "; did you mean '" : "",
		    near != NULL ? near : "", near != NULL ? rest : "",
		    near != NULL ? "'?" : "");
	fail(st, CONF_ESYNTAX);
}

/* A key that only the environment or a secret file sets. */
static void not_a_file_key(struct ini_state *st, const struct conf_key *k)
{
	const char *file = NULL;

	for (size_t i = 0; i < conf_nkeys; i++) {
		if (conf_keys[i].content != NULL &&
		    strcmp(conf_keys[i].section, k->section) == 0 &&
		    strcmp(conf_keys[i].content, k->name) == 0)
			file = conf_keys[i].name;
	}
	conf_seterr(st->err,
		    "%s:%d: %s in [%s] cannot be set in the file; use %s%s%s",
		    st->name, st->line, k->name, k->section,
		    file != NULL ? file : "",
		    file != NULL && k->env[0] ? " or " : "",
		    k->env[0] != NULL ? k->env[0] : "");
	fail(st, CONF_ESYNTAX);
}

static void duplicate(struct ini_state *st, const char *section,
		      const char *name)
{
	conf_seterr(st->err, "%s:%d: duplicate key '%s' in [%s]", st->name,
		    st->line, name, section);
	fail(st, CONF_ESYNTAX);
}

static int set_plain(struct ini_state *st, const struct conf_key *k,
		     const char *value, const char *where)
{
	const struct conf_set how = {
		.where = where, .src = CONF_FROM_FILE, .line = st->line};
	conf *c = st->c;

	if (c->meta->v[conf_key_index(k)].line > 0) {
		duplicate(st, k->section, k->name);
		return st->rc;
	}
	return conf_value_set(c, k, conf_key_ptr(c, k), value, &how, st->err);
}

static int set_typed(struct ini_state *st, const struct conf_key *k,
		     const char *name, const char *type, const char *value,
		     const char *where)
{
	const struct conf_set how = {.where = where,
				     .label = name,
				     .src = CONF_FROM_FILE,
				     .line = st->line,
				     .typed = true};
	conf *c = st->c;
	struct conf_type_retention *t;
	size_t i;
	void *dst;
	int rc = CONF_OK;

	if (!conf_type_name_ok(type, strlen(type))) {
		conf_seterr(st->err,
			    "%s: bad backup type '%s' in %s in [%s] (1 to %d "
			    "of a-z 0-9 _ -)",
			    where, type, name, k->section,
			    CONF_TYPE_NAME_MAX - 1);
		return CONF_ESYNTAX;
	}
	for (i = 0; i < c->retention.ntypes; i++) {
		if (strcmp(c->retention.types[i].name, type) == 0)
			break;
	}
	if (i == CONF_MAX_TYPES) {
		conf_seterr(st->err,
			    "%s: too many backup types in [%s] (at most %d)",
			    where, k->section, CONF_MAX_TYPES);
		return CONF_ESYNTAX;
	}
	t = &c->retention.types[i];
	if (i == c->retention.ntypes) {
		memset(t, 0, sizeof(*t));
		memcpy(t->name, type, strlen(type) + 1);
		t->days = -1;
		t->keep_last = -1;
		t->max_age = 0;
		c->retention.ntypes++;
	}
	if (c->meta->type_line[i][k->typed_slot] > 0) {
		duplicate(st, k->section, name);
		return st->rc;
	}
	dst = (char *)t + k->type_offset;
	if (*value == '\0') {
		/* Not set: the section's own value applies. */
		if (k->kind == CONF_K_INT)
			*(int *)dst = -1;
		else
			*(uint64_t *)dst = 0;
	} else {
		rc = conf_value_set(c, k, dst, value, &how, st->err);
	}
	if (rc == CONF_OK)
		c->meta->type_line[i][k->typed_slot] = st->line;
	return rc;
}

/* inih's handler: one "name = value" in a section. */
static int ini_handle(void *user, const char *section, const char *name,
		      const char *value)
{
	struct ini_state *st = user;
	const struct conf_key *k;
	const char *type = NULL;
	char sec[256], where[512];
	int rc;

	if (st->rc != CONF_OK)
		return 0;
	if (name == NULL)
		return 1; /* a new section, from an inih that reports them */
	snprintf(where, sizeof(where), "%s:%d", st->name, st->line);
	if (value == NULL) { /* "name" alone, from an inih that allows it */
		conf_seterr(st->err, "%s: syntax error", where);
		fail(st, CONF_ESYNTAX);
		return 0;
	}
	if (!trimmed(sec, sizeof(sec), section, strlen(section)) ||
	    *sec == '\0') {
		conf_seterr(st->err, "%s: key '%s' is outside any section",
			    where, name);
		fail(st, CONF_ESYNTAX);
		return 0;
	}
	if (!conf_section_known(sec)) {
		unknown_section(st, sec);
		return 0;
	}
	k = conf_key_find(sec, name);
	if (k != NULL && (k->flags & CONF_F_NOFILE) != 0) {
		not_a_file_key(st, k);
		return 0;
	}
	if (k != NULL) {
		rc = set_plain(st, k, value, where);
	} else {
		k = typed_key(sec, name, &type);
		if (k == NULL) {
			unknown_key(st, sec, name);
			return 0;
		}
		rc = set_typed(st, k, name, type, value, where);
	}
	if (rc != CONF_OK) {
		if (st->rc == CONF_OK)
			fail(st, rc);
		return 0;
	}
	return 1;
}

int conf_ini_apply(conf *c, const char *name, const char *text, conf_error *err)
{
	struct ini_state st = {
		.c = c, .name = name, .pos = text, .rc = CONF_OK, .err = err};
	int r = ini_parse_stream(ini_read, &st, ini_handle, &st);

	/* inih reports the first line it could not parse; ours may be
	 * later, as it reads on after a bad line. The first one wins. */
	if (r > 0 && (st.rc == CONF_OK || r < st.err_line)) {
		conf_seterr(err, "%s:%d: syntax error", name, r);
		return CONF_ESYNTAX;
	}
	if (st.rc != CONF_OK)
		return st.rc;
	if (r == -2)
		return CONF_ENOMEM;
	if (r != 0) {
		conf_seterr(err, "%s: syntax error", name);
		return CONF_ESYNTAX;
	}
	return CONF_OK;
}
