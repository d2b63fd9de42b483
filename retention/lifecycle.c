/*
 * Lifecycle rules: ours, built from the configuration and merged into the
 * bucket's configuration without touching anyone else's rules.
 *
 * PutBucketLifecycleConfiguration replaces the whole configuration (AWS S3
 * API Reference, PutBucketLifecycleConfiguration), so writing only our
 * rules would wipe every other rule in the bucket. We read, merge, write.
 */
#include "retention/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retention/retention_internal.h"

#define DAY_WORD(n) ((n) == 1 ? "day" : "days")

int retention_rule_id(char **out, const char *prefix, const char *type)
{
	*out = NULL;
	if (asprintf(out, "%s%s%s", RETENTION_RULE_ID_PREFIX, prefix,
		     type ? type : RETENTION_ABORT_RULE) < 0) {
		*out = NULL;
		return RETENTION_ENOMEM;
	}
	return RETENTION_OK;
}

bool retention_rule_ours(const struct s3_lifecycle_rule *r, const char *prefix,
			 char type[RETENTION_NAME_MAX])
{
	size_t idlen = strlen(RETENTION_RULE_ID_PREFIX), plen = strlen(prefix);
	const char *rest;

	type[0] = '\0';
	if (!r->id || strncmp(r->id, RETENTION_RULE_ID_PREFIX, idlen) != 0 ||
	    strncmp(r->id + idlen, prefix, plen) != 0)
		return false;
	rest = r->id + idlen + plen;
	if (strcmp(rest, RETENTION_ABORT_RULE) == 0)
		return true;
	if (!retention_type_valid(rest))
		return false;
	/* Valid types are shorter than the buffer. */
	snprintf(type, RETENTION_NAME_MAX, "%s", rest);
	return true;
}

static void rule_dispose(struct s3_lifecycle_rule *r)
{
	free(r->id);
	free(r->prefix);
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

static int rule_copy(struct s3_lifecycle_rule *dst,
		     const struct s3_lifecycle_rule *src, bool keep_raw)
{
	*dst = *src;
	dst->id = src->id ? strdup(src->id) : NULL;
	dst->prefix = src->prefix ? strdup(src->prefix) : NULL;
	dst->raw = keep_raw && src->raw ? strdup(src->raw) : NULL;
	if ((src->id && !dst->id) || (src->prefix && !dst->prefix) ||
	    (keep_raw && src->raw && !dst->raw)) {
		rule_dispose(dst);
		return RETENTION_ENOMEM;
	}
	return RETENTION_OK;
}

/* Append a copy of R to LC, whose array has room (callers size it). */
static int push_rule(struct s3_lifecycle *lc, const struct s3_lifecycle_rule *r,
		     bool keep_raw)
{
	int rc = rule_copy(&lc->rules[lc->nrules], r, keep_raw);

	if (rc == RETENTION_OK)
		lc->nrules++;
	return rc;
}

static int by_type(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int retention_rules_wanted(struct s3_lifecycle *out, const conf *c,
			   const char *const *types, size_t ntypes)
{
	const char *prefix = c->storage.prefix ? c->storage.prefix : "";
	struct s3_lifecycle_rule *abort;
	const char **sorted = NULL;
	size_t i, n = 0;
	int rc = RETENTION_ENOMEM;

	memset(out, 0, sizeof(*out));
	sorted = calloc(ntypes + 1, sizeof(*sorted));
	out->rules = calloc(ntypes + 1, sizeof(*out->rules));
	if (!sorted || !out->rules)
		goto out;
	for (i = 0; i < ntypes; i++)
		if (retention_type_valid(types[i]))
			sorted[n++] = types[i];
	qsort(sorted, n, sizeof(*sorted), by_type);

	abort = &out->rules[out->nrules++];
	abort->enabled = true;
	abort->abort_incomplete_days =
		(unsigned)c->retention.abort_incomplete_days;
	if (retention_rule_id(&abort->id, prefix, NULL) ||
	    !(abort->prefix = strdup(prefix)))
		goto out;

	for (i = 0; i < n; i++) {
		struct s3_lifecycle_rule *r;
		if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
			continue;
		r = &out->rules[out->nrules++];
		r->enabled = true;
		r->expiration_days = (unsigned)conf_type_days(c, sorted[i]);
		if (retention_rule_id(&r->id, prefix, sorted[i]) ||
		    asprintf(&r->prefix, "%s%s/", prefix, sorted[i]) < 0) {
			r->prefix = NULL;
			goto out;
		}
	}
	rc = RETENTION_OK;
out:
	free(sorted);
	if (rc != RETENTION_OK)
		s3_lifecycle_dispose(out);
	return rc;
}

/* ---- the plan ---- */

static const struct s3_lifecycle_rule *find_id(const struct s3_lifecycle *lc,
					       const char *id)
{
	size_t i;

	for (i = 0; lc && i < lc->nrules; i++)
		if (lc->rules[i].id && strcmp(lc->rules[i].id, id) == 0)
			return &lc->rules[i];
	return NULL;
}

static bool same_rule(const struct s3_lifecycle_rule *a,
		      const struct s3_lifecycle_rule *b)
{
	return a->enabled == b->enabled && a->prefix && b->prefix &&
	       strcmp(a->prefix, b->prefix) == 0 &&
	       a->expiration_days == b->expiration_days &&
	       a->abort_incomplete_days == b->abort_incomplete_days;
}

/* What a rule does, in words: "expire daily/ after 30 days". */
static void describe(char *buf, size_t size, const struct s3_lifecycle_rule *r)
{
	const char *where = !r->prefix	 ? "(a filter other than a prefix)"
			    : *r->prefix ? r->prefix
					 : "(the whole bucket)";
	size_t n;

	n = (size_t)snprintf(buf, size, "%s:", r->id ? r->id : "(no id)");
	if (n < size && r->expiration_days)
		n += (size_t)snprintf(
			buf + n, size - n, " expire %s after %u %s", where,
			r->expiration_days, DAY_WORD(r->expiration_days));
	if (n < size && r->abort_incomplete_days)
		n += (size_t)snprintf(buf + n, size - n,
				      "%s abort uploads under %s unfinished "
				      "after %u %s",
				      r->expiration_days ? ";" : "", where,
				      r->abort_incomplete_days,
				      DAY_WORD(r->abort_incomplete_days));
	if (n < size && !r->expiration_days && !r->abort_incomplete_days)
		n += (size_t)snprintf(buf + n, size - n, " %s", where);
	if (n < size && !r->enabled)
		snprintf(buf + n, size - n, " (disabled)");
}

static int add_change(struct retention_plan *p, enum retention_change_op op,
		      const struct s3_lifecycle_rule *r,
		      const struct s3_lifecycle_rule *was)
{
	struct retention_change *grown, *ch;
	size_t n;

	grown = realloc(p->changes, (p->nchanges + 1) * sizeof(*grown));
	if (!grown)
		return RETENTION_ENOMEM;
	p->changes = grown;
	ch = &p->changes[p->nchanges++];
	ch->op = op;
	describe(ch->text, sizeof(ch->text), r);
	n = strlen(ch->text);
	if (was && was->expiration_days != r->expiration_days &&
	    n < sizeof(ch->text))
		snprintf(ch->text + n, sizeof(ch->text) - n, " (was %u %s)",
			 was->expiration_days, DAY_WORD(was->expiration_days));
	else if (was &&
		 was->abort_incomplete_days != r->abort_incomplete_days &&
		 n < sizeof(ch->text))
		snprintf(ch->text + n, sizeof(ch->text) - n, " (was %u %s)",
			 was->abort_incomplete_days,
			 DAY_WORD(was->abort_incomplete_days));
	return RETENTION_OK;
}

enum retention_reach retention_rule_reach(const struct s3_lifecycle_rule *r,
					  const char *prefix,
					  char type[RETENTION_NAME_MAX])
{
	size_t plen = strlen(prefix), rlen, tlen;
	const char *rest;

	type[0] = '\0';
	if (!r->enabled || r->expiration_days == 0 || r->prefix == NULL)
		return RETENTION_REACH_NONE;
	rlen = strlen(r->prefix);
	if (rlen <= plen)
		return strncmp(prefix, r->prefix, rlen) == 0
			       ? RETENTION_REACH_ALL
			       : RETENTION_REACH_NONE;
	if (strncmp(r->prefix, prefix, plen) != 0)
		return RETENTION_REACH_NONE;
	/* "<prefix><type>/" exactly: one rule per type (DESIGN.md). */
	rest = r->prefix + plen;
	tlen = rlen - plen - 1;
	if (tlen == 0 || rest[tlen] != '/' || tlen >= RETENTION_NAME_MAX)
		return RETENTION_REACH_PART;
	memcpy(type, rest, tlen);
	type[tlen] = '\0';
	if (retention_type_valid(type))
		return RETENTION_REACH_TYPE;
	type[0] = '\0';
	return RETENTION_REACH_PART;
}

/* Warn about a foreign rule F that expires a wanted type's backups first. */
static int check_foreign(struct retention_plan *p,
			 const struct s3_lifecycle_rule *f,
			 const struct s3_lifecycle *wanted)
{
	char type[RETENTION_NAME_MAX];
	size_t i;

	if (!f->enabled || !f->expiration_days || !f->prefix || !wanted)
		return RETENTION_OK;
	for (i = 0; i < wanted->nrules; i++) {
		const struct s3_lifecycle_rule *w = &wanted->rules[i];
		char **grown, *msg;
		if (!w->expiration_days ||
		    retention_rule_reach(f, w->prefix, type) ==
			    RETENTION_REACH_NONE ||
		    f->expiration_days >= w->expiration_days)
			continue;
		if (asprintf(&msg,
			     "rule '%s' (not offsite's) expires objects under "
			     "'%s' after %u %s: backups under '%s' go before "
			     "their %u days",
			     f->id ? f->id : "(no id)", f->prefix,
			     f->expiration_days, DAY_WORD(f->expiration_days),
			     w->prefix, w->expiration_days) < 0)
			return RETENTION_ENOMEM;
		grown = realloc(p->warnings,
				(p->nwarnings + 1) * sizeof(*grown));
		if (!grown) {
			free(msg);
			return RETENTION_ENOMEM;
		}
		p->warnings = grown;
		p->warnings[p->nwarnings++] = msg;
	}
	return RETENTION_OK;
}

void retention_plan_dispose(struct retention_plan *p)
{
	size_t i;

	s3_lifecycle_dispose(&p->result);
	free(p->changes);
	for (i = 0; i < p->nwarnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	memset(p, 0, sizeof(*p));
}

int retention_plan_make(struct retention_plan *out,
			const struct s3_lifecycle *current,
			const struct s3_lifecycle *wanted, const char *prefix,
			bool remove)
{
	struct retention_plan p = {0};
	size_t i, cap = (current ? current->nrules : 0) +
			(wanted && !remove ? wanted->nrules : 0);
	char type[RETENTION_NAME_MAX];
	int rc = RETENTION_ENOMEM;

	memset(out, 0, sizeof(*out));
	p.result.rules = calloc(cap + 1, sizeof(*p.result.rules));
	if (!p.result.rules)
		goto out;

	/* The bucket's rules, in their order: foreign ones as they are,
	 * ours replaced (or dropped with REMOVE). */
	for (i = 0; current && i < current->nrules; i++) {
		const struct s3_lifecycle_rule *r = &current->rules[i], *w;
		if (!retention_rule_ours(r, prefix, type)) {
			if (push_rule(&p.result, r, true) ||
			    add_change(&p, RETENTION_RULE_FOREIGN, r, NULL) ||
			    check_foreign(&p, r, remove ? NULL : wanted))
				goto out;
			continue;
		}
		if (remove) {
			if (add_change(&p, RETENTION_RULE_REMOVE, r, NULL))
				goto out;
			p.changed = true;
			continue;
		}
		w = find_id(wanted, r->id);
		if (!w) {
			/* Ours but no longer wanted: keep its expiry. */
			if (push_rule(&p.result, r, false) ||
			    add_change(&p, RETENTION_RULE_SAME, r, NULL))
				goto out;
		} else if (same_rule(r, w)) {
			if (push_rule(&p.result, w, false) ||
			    add_change(&p, RETENTION_RULE_SAME, w, NULL))
				goto out;
		} else {
			if (push_rule(&p.result, w, false) ||
			    add_change(&p, RETENTION_RULE_UPDATE, w, r))
				goto out;
			p.changed = true;
		}
	}
	/* Wanted rules the bucket does not have yet. */
	for (i = 0; !remove && wanted && i < wanted->nrules; i++) {
		const struct s3_lifecycle_rule *w = &wanted->rules[i];
		if (find_id(current, w->id))
			continue;
		if (push_rule(&p.result, w, false) ||
		    add_change(&p, RETENTION_RULE_ADD, w, NULL))
			goto out;
		p.changed = true;
	}
	rc = RETENTION_OK;
	*out = p;
	memset(&p, 0, sizeof(p));
out:
	retention_plan_dispose(&p);
	return rc;
}

/* ---- apply ---- */

/* TYPES plus one more (copied), unless it is there already. */
static int add_type(char ***types, size_t *n, const char *type)
{
	char **grown;
	size_t i;

	if (!retention_type_valid(type))
		return RETENTION_OK;
	for (i = 0; i < *n; i++)
		if (strcmp((*types)[i], type) == 0)
			return RETENTION_OK;
	grown = realloc(*types, (*n + 1) * sizeof(*grown));
	if (!grown)
		return RETENTION_ENOMEM;
	*types = grown;
	if (!(grown[*n] = strdup(type)))
		return RETENTION_ENOMEM;
	(*n)++;
	return RETENTION_OK;
}

/* The types that have objects under PREFIX: "<prefix><type>/". */
static int bucket_types(char ***types, size_t *n, s3_client *s3,
			const char *prefix, struct retention_error *err)
{
	const struct s3_list_entry *e;
	s3_list *it = NULL;
	size_t plen = strlen(prefix);
	s3_error serr;
	int rc = RETENTION_OK, src;

	src = s3_list_new(&it, s3, prefix, "/", &serr);
	while (src == S3_OK && (src = s3_list_next(&e, it, &serr)) == 1) {
		char type[RETENTION_NAME_MAX];
		size_t len;

		src = S3_OK;
		if (!e->is_prefix || strncmp(e->key, prefix, plen) != 0)
			continue;
		len = strlen(e->key + plen);
		if (len < 2 || len >= sizeof(type))
			continue;
		memcpy(type, e->key + plen, len - 1); /* drop the '/' */
		type[len - 1] = '\0';
		if (add_type(types, n, type)) {
			rc = retention_fail(err, RETENTION_ENOMEM,
					    "out of memory");
			break;
		}
	}
	if (rc == RETENTION_OK && src != S3_OK)
		rc = retention_from_s3(err, &serr);
	s3_list_free(it);
	return rc;
}

int retention_apply(struct retention_plan *plan, s3_client *s3, const conf *c,
		    const char *extra_type, bool remove, bool dry_run,
		    struct retention_error *err)
{
	const char *prefix = c->storage.prefix ? c->storage.prefix : "";
	struct s3_lifecycle current = {0}, wanted = {0};
	char **types = NULL, type[RETENTION_NAME_MAX];
	size_t ntypes = 0, i;
	s3_error serr;
	int rc;

	memset(plan, 0, sizeof(*plan));
	if (s3_lifecycle_get(&current, s3, &serr) != S3_OK) {
		rc = retention_from_s3(err, &serr);
		goto out;
	}
	if (!remove) {
		rc = bucket_types(&types, &ntypes, s3, prefix, err);
		if (rc != RETENTION_OK)
			goto out;
		if (add_type(&types, &ntypes, "manual") ||
		    (extra_type && add_type(&types, &ntypes, extra_type)))
			goto nomem;
		for (i = 0; i < c->retention.ntypes; i++)
			if (add_type(&types, &ntypes,
				     c->retention.types[i].name))
				goto nomem;
		for (i = 0; i < current.nrules; i++)
			if (retention_rule_ours(&current.rules[i], prefix,
						type) &&
			    type[0] && add_type(&types, &ntypes, type))
				goto nomem;
		if (retention_rules_wanted(&wanted, c,
					   (const char *const *)types, ntypes))
			goto nomem;
	}
	if (retention_plan_make(plan, &current, remove ? NULL : &wanted, prefix,
				remove))
		goto nomem;
	rc = RETENTION_OK;
	if (dry_run || !plan->changed)
		goto out;
	if ((plan->result.nrules == 0
		     ? s3_lifecycle_delete(s3, &serr)
		     : s3_lifecycle_put(s3, &plan->result, &serr)) != S3_OK)
		rc = retention_from_s3(err, &serr);
	goto out;
nomem:
	rc = retention_fail(err, RETENTION_ENOMEM, "out of memory");
out:
	if (rc != RETENTION_OK)
		retention_plan_dispose(plan);
	for (i = 0; i < ntypes; i++)
		free(types[i]);
	free(types);
	s3_lifecycle_dispose(&current);
	s3_lifecycle_dispose(&wanted);
	return rc;
}
