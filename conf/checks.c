/*
 * checks: what a string value must look like (URLs, names, conninfo), the
 * database name hidden in a conninfo or DSN, and the redaction of the
 * passwords these may carry.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "common/codec.h"
#include "common/wipe.h"
#include "conf/conf_internal.h"

#define REDACTED "<redacted>"

/*
 * The connection keywords whose value is a secret: every one libpq itself
 * shows as a password field (dispchar "*" in PQconndefaults(): password
 * and sslpassword in libpq 15, and whatever a later libpq adds), and the
 * two we know of should libpq not answer.
 */
#define SECRET_KEYWORDS_MAX 16
#define SECRET_KEYWORD_LEN  64
static char secret_keywords[SECRET_KEYWORDS_MAX][SECRET_KEYWORD_LEN] = {
	"password",
	"sslpassword",
};
static size_t nsecret_keywords = 2;
static pthread_once_t secret_keywords_once = PTHREAD_ONCE_INIT;

static bool secret_keyword_known(const char *key, size_t len)
{
	for (size_t i = 0; i < nsecret_keywords; i++) {
		if (strlen(secret_keywords[i]) == len &&
		    strncasecmp(secret_keywords[i], key, len) == 0)
			return true;
	}
	return false;
}

static void secret_keywords_load(void)
{
	PQconninfoOption *opts = PQconndefaults();

	if (opts == NULL)
		return;
	for (const PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		size_t len = strlen(o->keyword);

		if (o->dispchar == NULL || strcmp(o->dispchar, "*") != 0 ||
		    secret_keyword_known(o->keyword, len) ||
		    len >= SECRET_KEYWORD_LEN ||
		    nsecret_keywords == SECRET_KEYWORDS_MAX)
			continue;
		memcpy(secret_keywords[nsecret_keywords++], o->keyword,
		       len + 1);
	}
	PQconninfoFree(opts);
}

/* Is KEY (LEN bytes, any case) a keyword whose value is a secret? */
static bool secret_keyword(const char *key, size_t len)
{
	pthread_once(&secret_keywords_once, secret_keywords_load);
	return secret_keyword_known(key, len);
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	       ch == '\f' || ch == '\v';
}

static bool is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

/* Every character of S is alphanumeric or in EXTRA; LO <= length <= HI. */
static bool only(const char *s, const char *extra, size_t lo, size_t hi)
{
	size_t n = strlen(s);

	if (n < lo || n > hi)
		return false;
	for (; *s != '\0'; s++) {
		if (!is_alnum(*s) && strchr(extra, *s) == NULL)
			return false;
	}
	return true;
}

/* The parts of SCHEME://AUTHORITY/PATH?QUERY#FRAGMENT, as spans. */
struct url {
	const char *auth, *auth_end;
	const char *path, *path_end;   /* starts with '/' when there is one */
	const char *query, *query_end; /* after '?' */
};

static bool url_split(const char *s, struct url *u)
{
	const char *p = strstr(s, "://");

	if (p == NULL || p == s)
		return false;
	for (const char *q = s; q < p; q++) {
		if (!is_alnum(*q) && strchr("+-.", *q) == NULL)
			return false;
	}
	u->auth = p + 3;
	u->auth_end = u->auth + strcspn(u->auth, "/?#");
	u->path = u->auth_end;
	u->path_end = u->path + strcspn(u->path, "?#");
	u->query = u->query_end = u->path_end;
	if (*u->path_end == '?') {
		u->query = u->path_end + 1;
		u->query_end = u->query + strcspn(u->query, "#");
	}
	return true;
}

static bool has_prefix_nocase(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool has_blank(const char *s)
{
	for (; *s != '\0'; s++) {
		if (is_space(*s))
			return true;
	}
	return false;
}

int conf_check_url(char **value, const char **why)
{
	const char *v = *value;
	struct url u;

	if ((!has_prefix_nocase(v, "http://") &&
	     !has_prefix_nocase(v, "https://")) ||
	    !url_split(v, &u) || u.auth == u.auth_end || has_blank(v)) {
		*why = "is not an http:// or https:// URL";
		return CONF_ESYNTAX;
	}
	return CONF_OK;
}

int conf_check_endpoint(char **value, const char **why)
{
	char *v;
	size_t n;
	struct url u;
	int rc = conf_check_url(value, why);

	if (rc != CONF_OK)
		return rc;
	/* "https://host/" and "https://host" are the same endpoint. */
	v = *value;
	url_split(v, &u);
	n = strlen(v);
	while (n > (size_t)(u.auth_end - v) && v[n - 1] == '/')
		v[--n] = '\0';
	return CONF_OK;
}

int conf_check_region(char **value, const char **why)
{
	if (!only(*value, "-_", 1, 64)) {
		*why = "is not a region name (a-z 0-9 -)";
		return CONF_ESYNTAX;
	}
	return CONF_OK;
}

int conf_check_bucket(char **value, const char **why)
{
	/* Wider than AWS's rules for new buckets (3-63, lowercase): older
	 * buckets and other S3 servers allow more. */
	if (!only(*value, ".-_", 3, 255)) {
		*why = "is not a bucket name (3 to 255 of a-z 0-9 . - _)";
		return CONF_ESYNTAX;
	}
	return CONF_OK;
}

int conf_check_prefix(char **value, const char **why)
{
	const char *v = *value;
	char *fixed;
	size_t n;

	(void)why;
	while (*v == '/')
		v++;
	n = strlen(v);
	fixed = malloc(n + 2);
	if (fixed == NULL)
		return CONF_ENOMEM;
	memcpy(fixed, v, n);
	if (n > 0 && v[n - 1] != '/')
		fixed[n++] = '/';
	fixed[n] = '\0';
	free(*value);
	*value = fixed;
	return CONF_OK;
}

int conf_check_token(char **value, const char **why)
{
	if (has_blank(*value)) {
		*why = "must not contain blanks";
		return CONF_ESYNTAX;
	}
	return CONF_OK;
}

int conf_check_dbname(char **value, const char **why)
{
	if (!only(*value, "_.-", 1, 128) || strcmp(*value, ".") == 0 ||
	    strcmp(*value, "..") == 0) {
		*why = "is not usable in object keys (A-Z a-z 0-9 _ . -)";
		return CONF_ESYNTAX;
	}
	return CONF_OK;
}

/* A plain SQL identifier, usable unquoted: lowercase, at most 63 bytes
 * (PostgreSQL's NAMEDATALEN - 1). */
int conf_check_identifier(char **value, const char **why)
{
	const char *v = *value;

	if (!only(v, "_", 1, 63) || (v[0] >= '0' && v[0] <= '9')) {
		*why = "is not a plain SQL name ([a-z_][a-z0-9_]*, at most "
		       "63 characters)";
		return CONF_ESYNTAX;
	}
	for (; *v != '\0'; v++) {
		if (*v >= 'A' && *v <= 'Z') {
			*why = "is not a plain SQL name (lowercase only: "
			       "[a-z_][a-z0-9_]*)";
			return CONF_ESYNTAX;
		}
	}
	return CONF_OK;
}

int conf_pct_decode(char **out, const char *s, const char *end)
{
	size_t len = (size_t)(end - s);
	char *d = malloc(len + 1);

	*out = NULL;
	if (d == NULL)
		return CONF_ENOMEM;
	if (pct_decode(d, NULL, s, len, false) != 0) {
		wipe_free(d, len + 1); /* may be part of a password */
		return CONF_ESYNTAX;
	}
	*out = d;
	return CONF_OK;
}

/* Replace *OUT with NAME, or drop NAME if it is empty. */
static void take_name(char **out, char *name)
{
	free(*out);
	*out = NULL;
	if (name != NULL && *name != '\0')
		*out = name;
	else
		free(name);
}

int conf_dbname_from_url(char **out, const char *url, bool query)
{
	char *name = NULL, *v = NULL;
	struct url u;
	int rc;

	*out = NULL;
	if (!url_split(url, &u))
		return CONF_ESYNTAX;
	if (u.path < u.path_end) {
		rc = conf_pct_decode(&v, u.path + 1,
				     u.path_end); /* after '/' */
		if (rc != CONF_OK)
			goto out;
		take_name(&name, v);
	}
	/* libpq: a dbname= parameter overrides the path. */
	for (const char *p = u.query; query && p < u.query_end;) {
		const char *amp = memchr(p, '&', (size_t)(u.query_end - p));
		const char *end = amp != NULL ? amp : u.query_end;

		if ((size_t)(end - p) >= 7 && strncmp(p, "dbname=", 7) == 0) {
			rc = conf_pct_decode(&v, p + 7, end);
			if (rc != CONF_OK)
				goto out;
			take_name(&name, v);
		}
		p = end + (amp != NULL);
	}
	*out = name;
	name = NULL;
	rc = CONF_OK;
out:
	free(name);
	return rc;
}

/* One "keyword = value" of a libpq key/value conninfo, as spans of the
 * text; the value keeps its quotes. */
struct kv {
	const char *key;
	size_t key_len;
	const char *val;
	size_t val_len;
};

/* The next pair after *PP: 1 and *KV, 0 at the end, -1 if malformed. */
static int kv_next(const char **pp, struct kv *kv)
{
	const char *p = *pp;

	while (is_space(*p))
		p++;
	if (*p == '\0')
		return 0;
	kv->key = p;
	while (*p != '\0' && *p != '=' && !is_space(*p))
		p++;
	kv->key_len = (size_t)(p - kv->key);
	while (is_space(*p))
		p++;
	if (*p != '=' || kv->key_len == 0)
		return -1;
	p++;
	while (is_space(*p))
		p++;
	kv->val = p;
	if (*p == '\'') {
		for (p++; *p != '\0' && *p != '\''; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
		}
		if (*p == '\0')
			return -1;
		p++;
	} else {
		for (; *p != '\0' && !is_space(*p); p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
		}
	}
	kv->val_len = (size_t)(p - kv->val);
	*pp = p;
	return 1;
}

static bool kv_is(const struct kv *kv, const char *key)
{
	return kv->key_len == strlen(key) &&
	       strncmp(kv->key, key, kv->key_len) == 0;
}

/* The value of KV without its quotes and backslashes, in a new string. */
static char *kv_value(const struct kv *kv)
{
	const char *s = kv->val, *end = kv->val + kv->val_len;
	char *d = malloc(kv->val_len + 1);
	size_t n = 0;

	if (d == NULL)
		return NULL;
	if (s < end && *s == '\'') {
		s++;
		end--;
	}
	for (; s < end; s++) {
		if (*s == '\\' && s + 1 < end)
			s++;
		d[n++] = *s;
	}
	d[n] = '\0';
	return d;
}

static bool is_pg_uri(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
	       strncmp(s, "postgres://", 11) == 0;
}

int conf_dbname_from_conninfo(char **out, const char *conninfo)
{
	const char *p = conninfo;
	char *name = NULL, *v;
	struct kv kv;
	int r;

	*out = NULL;
	if (is_pg_uri(conninfo))
		return conf_dbname_from_url(out, conninfo, true);
	while ((r = kv_next(&p, &kv)) > 0) {
		if (!kv_is(&kv, "dbname"))
			continue;
		v = kv_value(&kv);
		if (v == NULL) {
			free(name);
			return CONF_ENOMEM;
		}
		take_name(&name, v);
	}
	if (r < 0) {
		free(name);
		return CONF_ESYNTAX;
	}
	*out = name;
	return CONF_OK;
}

int conf_check_conninfo(char **value, const char **why)
{
	char *name = NULL;
	int rc = conf_dbname_from_conninfo(&name, *value);

	free(name);
	if (rc == CONF_ESYNTAX)
		*why = "is not a libpq conninfo (key=value ... or "
		       "postgresql://...)";
	return rc;
}

int conf_check_dsn(char **value, const char **why)
{
	char *name = NULL;
	int rc = CONF_ESYNTAX;

	if (strncmp(*value, "mysql://", 8) == 0 && !has_blank(*value))
		rc = conf_dbname_from_url(&name, *value, false);
	free(name);
	if (rc == CONF_ESYNTAX)
		*why = "is not a mysql:// URL (mysql://user@host:port/db)";
	return rc;
}

#define SPANS_MAX 8

struct spans {
	size_t n;
	const char *from[SPANS_MAX], *to[SPANS_MAX];
	bool overflow;
};

static void span_add(struct spans *sp, const char *from, const char *to)
{
	if (from >= to)
		return;
	if (sp->n == SPANS_MAX) {
		sp->overflow = true;
		return;
	}
	sp->from[sp->n] = from;
	sp->to[sp->n] = to;
	sp->n++;
}

/* Is the query parameter named by P..EQ a secret? libpq decodes a
 * parameter's name too (ssl%70assword is sslpassword); a name that does
 * not decode counts as one. */
static bool url_secret_param(const char *p, const char *eq)
{
	char *name = NULL;
	bool secret;

	if (conf_pct_decode(&name, p, eq) != CONF_OK)
		return true;
	secret = secret_keyword(name, strlen(name));
	free(name);
	return secret;
}

static void url_spans(struct spans *sp, const char *v, bool cut)
{
	struct url u;
	const char *at = NULL;

	url_split(v, &u);
	for (const char *p = u.auth; p < u.auth_end; p++) {
		if (*p == '@')
			at = p;
	}
	if (at != NULL) {
		const char *colon = memchr(u.auth, ':', (size_t)(at - u.auth));

		if (colon != NULL)
			span_add(sp, colon + 1, at);
	}
	if (cut) {
		span_add(sp, u.auth_end + (*u.auth_end != '\0'),
			 u.auth_end + strlen(u.auth_end));
		return;
	}
	for (const char *p = u.query; p < u.query_end;) {
		const char *amp = memchr(p, '&', (size_t)(u.query_end - p));
		const char *end = amp != NULL ? amp : u.query_end;
		const char *eq = memchr(p, '=', (size_t)(end - p));

		if (eq != NULL && url_secret_param(p, eq))
			span_add(sp, eq + 1, end);
		p = end + (amp != NULL);
	}
}

static void kv_spans(struct spans *sp, const char *v)
{
	const char *p = v, *last = v;
	struct kv kv;
	int r;

	while ((r = kv_next(&p, &kv)) > 0) {
		if (secret_keyword(kv.key, kv.key_len))
			span_add(sp, kv.val, kv.val + kv.val_len);
		last = p;
	}
	/* Malformed from here on: nothing after it can be shown safely. */
	if (r < 0)
		span_add(sp, last, v + strlen(v));
}

char *conf_redact(const char *value, bool cut)
{
	struct spans sp = {0};
	struct url u;
	size_t len = strlen(value), n = 0;
	const char *p = value;
	char *out;

	if (url_split(value, &u))
		url_spans(&sp, value, cut);
	else
		kv_spans(&sp, value);
	if (sp.overflow)
		return strdup(REDACTED);
	/* Each span shrinks to REDACTED: at most that much more per span. */
	out = malloc(len + sp.n * sizeof(REDACTED) + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < sp.n; i++) {
		memcpy(out + n, p, (size_t)(sp.from[i] - p));
		n += (size_t)(sp.from[i] - p);
		memcpy(out + n, REDACTED, sizeof(REDACTED) - 1);
		n += sizeof(REDACTED) - 1;
		p = sp.to[i];
	}
	memcpy(out + n, p, len - (size_t)(p - value));
	n += len - (size_t)(p - value);
	out[n] = '\0';
	return out;
}
