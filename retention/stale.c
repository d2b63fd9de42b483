/*
 * Stale uploads: the decision (retention_upload_judge), the markers that
 * tell a live upload of another host, and the listing that judges every
 * old upload of ours. See stale.h for the rules.
 */
#include "retention/stale.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retention/retention_internal.h"

#define MARKER_MAGIC "offsite-upload 1"

static int no_memory(struct retention_error *err)
{
	return retention_fail(err, RETENTION_ENOMEM, "out of memory");
}

static bool host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
}

uint64_t retention_stale_after(const conf *c)
{
	return (uint64_t)c->retention.abort_incomplete_days * 86400;
}

void retention_host_token(char out[RETENTION_HOST_MAX], const char *host)
{
	size_t i;

	if (!host || !*host)
		host = "host";
	for (i = 0; i < RETENTION_HOST_MAX - 1 && host[i]; i++)
		out[i] = host_char(host[i]) ? host[i] : '-';
	out[i] = '\0';
}

int retention_marker_key(char **out, const char *key)
{
	if (asprintf(out, "%s%s", key, RETENTION_MARKER_SUFFIX) < 0) {
		*out = NULL;
		return RETENTION_ENOMEM;
	}
	return RETENTION_OK;
}

int retention_marker_format(char **out, const struct retention_marker *m)
{
	char started[17];

	retention_format_time(m->started, started);
	if (asprintf(out,
		     MARKER_MAGIC "\nhost=%s\npid=%ld\nstarted=%s\n"
				  "longest_run=%" PRIu64 "\n",
		     m->host, m->pid, started, m->longest_run) < 0) {
		*out = NULL;
		return RETENTION_ENOMEM;
	}
	return RETENTION_OK;
}

/* A decimal number in [LO, HI], the whole of S (LEN bytes). */
static bool number(const char *s, size_t len, uint64_t lo, uint64_t hi,
		   uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

enum { SEEN_HOST = 1, SEEN_PID = 2, SEEN_STARTED = 4, SEEN_LONGEST = 8 };

/* One "name=value" line (without its newline) into M. */
static int marker_line(struct retention_marker *m, unsigned *seen,
		       const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len);
	const char *v;
	size_t nlen, vlen, i;
	uint64_t n;
	char ts[17];

	if (!eq)
		return RETENTION_EINVAL;
	nlen = (size_t)(eq - line);
	v = eq + 1;
	vlen = len - nlen - 1;
#define IS(name) (nlen == strlen(name) && memcmp(line, name, nlen) == 0)
	if (IS("host") && !(*seen & SEEN_HOST)) {
		if (vlen == 0 || vlen >= RETENTION_HOST_MAX)
			return RETENTION_EINVAL;
		for (i = 0; i < vlen; i++)
			if (!host_char(v[i]))
				return RETENTION_EINVAL;
		memcpy(m->host, v, vlen);
		m->host[vlen] = '\0';
		*seen |= SEEN_HOST;
	} else if (IS("pid") && !(*seen & SEEN_PID)) {
		if (!number(v, vlen, 1, INT32_MAX, &n))
			return RETENTION_EINVAL;
		m->pid = (long)n;
		*seen |= SEEN_PID;
	} else if (IS("started") && !(*seen & SEEN_STARTED)) {
		if (vlen != 16)
			return RETENTION_EINVAL;
		memcpy(ts, v, 16);
		ts[16] = '\0';
		if (retention_parse_time(ts, &m->started))
			return RETENTION_EINVAL;
		*seen |= SEEN_STARTED;
	} else if (IS("longest_run") && !(*seen & SEEN_LONGEST)) {
		if (!number(v, vlen, 1, RETENTION_LONGEST_RUN_CAP, &n))
			return RETENTION_EINVAL;
		m->longest_run = n;
		*seen |= SEEN_LONGEST;
	} else {
		return RETENTION_EINVAL;
	}
#undef IS
	return RETENTION_OK;
}

int retention_marker_parse(struct retention_marker *m, const char *text,
			   size_t len)
{
	struct retention_marker got = {0};
	size_t magic = strlen(MARKER_MAGIC), at;
	unsigned seen = 0;

	memset(m, 0, sizeof(*m));
	if (len > RETENTION_MARKER_MAX || len <= magic ||
	    memcmp(text, MARKER_MAGIC, magic) != 0 || text[magic] != '\n')
		return RETENTION_EINVAL;
	at = magic + 1;
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end;

		if (!nl)
			return RETENTION_EINVAL; /* every line ends with one */
		end = (size_t)(nl - text);
		if (marker_line(&got, &seen, text + at, end - at))
			return RETENTION_EINVAL;
		at = end + 1;
	}
	if (seen != (SEEN_HOST | SEEN_PID | SEEN_STARTED | SEEN_LONGEST))
		return RETENTION_EINVAL;
	*m = got;
	return RETENTION_OK;
}

int retention_marker_put(s3_client *c, const char *key,
			 const struct retention_marker *m,
			 struct retention_error *err)
{
	struct s3_put_options po = {.content_type = "text/plain"};
	char *mkey = NULL, *text = NULL;
	s3_error serr;
	int rc = RETENTION_OK;

	if (retention_marker_key(&mkey, key) ||
	    retention_marker_format(&text, m))
		rc = no_memory(err);
	else if (s3_put_object(c, mkey, text, strlen(text), &po, &serr) !=
		 S3_OK)
		rc = retention_from_s3(err, &serr);
	free(mkey);
	free(text);
	return rc;
}

int retention_marker_delete(s3_client *c, const char *key,
			    struct retention_error *err)
{
	char *mkey = NULL;
	s3_error serr;
	int rc = RETENTION_OK, src;

	if (retention_marker_key(&mkey, key))
		return no_memory(err);
	src = s3_delete_object(c, mkey, &serr);
	if (src != S3_OK && src != S3_ENOTFOUND)
		rc = retention_from_s3(err, &serr);
	free(mkey);
	return rc;
}

enum retention_upload_verdict
retention_upload_judge(const struct s3_upload *u,
		       enum retention_marker_state state,
		       const struct retention_marker *m,
		       const struct retention_stale_options *o)
{
	struct retention_key k;
	long pid = 0;
	time_t age;

	if (retention_key_parse(&k, o->prefix, u->key) != RETENTION_OK ||
	    k.manifest)
		return RETENTION_NOT_OURS;
	/* By the server's clock on both sides: a host's clock that runs
	 * ahead cannot make a young upload old. */
	age = o->now - u->initiated;
	if (age < 0 || (uint64_t)age < o->after)
		return RETENTION_YOUNG;
	if (state == RETENTION_MARKER_UNREADABLE)
		return RETENTION_UNSURE;
	if (state == RETENTION_MARKER_FOUND && strcmp(m->host, o->host) != 0)
		/* Another host's run: alive while it may last. */
		return (uint64_t)age < m->longest_run ? RETENTION_LIVE_ELSEWHERE
						      : RETENTION_STALE;
	/* This host's run, or one that left no marker: the lock tells. */
	if (o->own_database && strcmp(k.database, o->own_database) == 0)
		return RETENTION_STALE; /* we hold its lock: no run is left */
	if (state == RETENTION_MARKER_FOUND)
		pid = m->pid;
	switch (o->probe ? o->probe(o->probe_ctx, k.database, pid)
			 : RETENTION_RUN_UNKNOWN) {
	case RETENTION_RUN_GONE:
		return RETENTION_STALE;
	case RETENTION_RUN_ALIVE:
		return RETENTION_LIVE_HERE;
	case RETENTION_RUN_UNKNOWN:
	default:
		return RETENTION_UNSURE;
	}
}

/* Read U's marker into *M. */
static enum retention_marker_state
read_marker(s3_client *c, const struct s3_upload *u, struct retention_marker *m)
{
	char *mkey = NULL, *text = NULL;
	size_t len = 0;
	s3_error err;
	enum retention_marker_state state = RETENTION_MARKER_UNREADABLE;
	int rc;

	if (retention_marker_key(&mkey, u->key))
		return state;
	rc = s3_get_object_buf(&text, &len, c, mkey, RETENTION_MARKER_MAX,
			       &err);
	if (rc == S3_OK)
		/* Not one of ours (or too large to be): as if none. */
		state = retention_marker_parse(m, text, len) == RETENTION_OK
				? RETENTION_MARKER_FOUND
				: RETENTION_MARKER_NONE;
	else if (rc == S3_ENOTFOUND)
		state = RETENTION_MARKER_NONE;
	/* Anything else (a marker past the cap included): unreadable, and
	 * the upload is left for a later run or the bucket's rule. */
	free(mkey);
	free(text);
	return state;
}

static int oldest_first(const void *a, const void *b)
{
	const struct retention_old_upload *x = a, *y = b;

	if (x->u.initiated != y->u.initiated)
		return x->u.initiated < y->u.initiated ? -1 : 1;
	return strcmp(x->u.key, y->u.key);
}

void retention_old_uploads_free(struct retention_old_upload *u, size_t n)
{
	size_t i;

	for (i = 0; u && i < n; i++) {
		free(u[i].u.key);
		free(u[i].u.upload_id);
	}
	free(u);
}

int retention_old_uploads(struct retention_old_upload **out, size_t *n,
			  s3_client *c, const struct retention_stale_options *o,
			  struct retention_error *err)
{
	struct s3_upload *ups = NULL;
	struct retention_old_upload *old = NULL;
	size_t nups = 0, i, count = 0;
	s3_error serr;

	*out = NULL;
	*n = 0;
	if (s3_multipart_list(&ups, &nups, c, o->prefix, &serr) != S3_OK)
		return retention_from_s3(err, &serr);
	if (nups > 0 && !(old = calloc(nups, sizeof(*old)))) {
		s3_uploads_free(ups, nups);
		return no_memory(err);
	}
	for (i = 0; i < nups; i++) {
		struct retention_marker m = {0};
		enum retention_marker_state state = RETENTION_MARKER_NONE;
		enum retention_upload_verdict v;

		/* Age first: a young upload costs no request. */
		v = retention_upload_judge(&ups[i], RETENTION_MARKER_UNREADABLE,
					   NULL, o);
		if (v == RETENTION_NOT_OURS || v == RETENTION_YOUNG)
			continue;
		state = read_marker(c, &ups[i], &m);
		v = retention_upload_judge(&ups[i], state, &m, o);
		old[count].u = ups[i];
		old[count].verdict = v;
		if (state == RETENTION_MARKER_FOUND)
			memcpy(old[count].host, m.host, sizeof(m.host));
		ups[i].key = ups[i].upload_id = NULL; /* moved */
		count++;
	}
	s3_uploads_free(ups, nups);
	if (count == 0) {
		free(old);
		return RETENTION_OK;
	}
	qsort(old, count, sizeof(*old), oldest_first);
	*out = old;
	*n = count;
	return RETENTION_OK;
}

int retention_stale_abort(s3_client *c, const struct s3_upload *u,
			  struct retention_error *err)
{
	struct retention_error merr;
	s3_error serr;
	int src;

	src = s3_multipart_abort(c, u->key, u->upload_id, &serr);
	if (src != S3_OK && src != S3_ENOTFOUND) /* gone already: fine */
		return retention_from_s3(err, &serr);
	(void)retention_marker_delete(c, u->key, &merr);
	return RETENTION_OK;
}
