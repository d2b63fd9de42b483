/*
 * report: the numbers and sentences of list and status, and their JSON.
 */
#include "agent/ops/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *report_time(char buf[REPORT_TIME_MAX], time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    strftime(buf, REPORT_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, REPORT_TIME_MAX, "?");
	return buf;
}

const char *report_size(char buf[REPORT_SIZE_MAX], uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB",
					    "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	size_t i = 0;

	if (bytes < 1024) {
		snprintf(buf, REPORT_SIZE_MAX, "%" PRIu64 " B", bytes);
		return buf;
	}
	v /= 1024;
	/* 1023.97 KiB would print as "1024.0 KiB": step up a unit first. */
	while (v >= 1023.95 && i + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		i++;
	}
	snprintf(buf, REPORT_SIZE_MAX, "%.1f %s", v, units[i]);
	return buf;
}

const char *report_age(char buf[REPORT_AGE_MAX], uint64_t seconds)
{
	static const struct {
		char unit;
		uint64_t secs;
	} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	size_t i, n = sizeof(units) / sizeof(units[0]);

	for (i = 0; i + 1 < n && seconds < units[i].secs; i++)
		;
	if (i + 1 < n && seconds % units[i].secs >= units[i + 1].secs)
		snprintf(buf, REPORT_AGE_MAX, "%" PRIu64 "%c%" PRIu64 "%c",
			 seconds / units[i].secs, units[i].unit,
			 seconds % units[i].secs / units[i + 1].secs,
			 units[i + 1].unit);
	else
		snprintf(buf, REPORT_AGE_MAX, "%" PRIu64 "%c",
			 seconds / units[i].secs, units[i].unit);
	return buf;
}

/* Add VALUE (a new reference, may be NULL) to OBJ; -1 when either is
 * missing. json_object_set_new takes the reference either way. */
static int set(json_t *obj, const char *name, json_t *value)
{
	if (!obj || !value) {
		json_decref(value);
		return -1;
	}
	return json_object_set_new(obj, name, value);
}

static json_t *time_json(time_t t)
{
	char ts[REPORT_TIME_MAX];

	return json_string(report_time(ts, t));
}

/* A string, or null for "". */
static json_t *name_json(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

const char *report_state(const struct retention_backup *x)
{
	if (x->future)
		return "future";
	switch (x->verdict) {
	case RETENTION_ACCEPTED:
		return "complete";
	case RETENTION_NO_MANIFEST:
		return "incomplete";
	case RETENTION_UNVERIFIED:
		return "unverified";
	case RETENTION_UNENCRYPTED:
		return "unencrypted";
	case RETENTION_UNCHECKED:
		break;
	}
	return "unchecked";
}

json_t *report_list_json(const char *bucket, const char *prefix,
			 const struct retention_backups *b)
{
	json_t *root = json_object(), *list = json_array();
	size_t i;
	int bad = 0;

	bad |= set(root, "bucket", json_string(bucket));
	bad |= set(root, "prefix", json_string(prefix));
	for (i = 0; !bad && i < b->n; i++) {
		const struct retention_backup *x = &b->items[i];
		json_t *o = json_object();

		bad |= set(o, "key", json_string(x->key));
		bad |= set(o, "type", json_string(x->parsed.type));
		bad |= set(o, "database", json_string(x->parsed.database));
		bad |= set(o, "created", time_json(x->parsed.created));
		bad |= set(o, "size", json_integer((json_int_t)x->size));
		bad |= set(o, "encrypted", json_boolean(x->encrypted));
		bad |= set(o, "complete", json_boolean(x->complete));
		bad |= set(o, "state", json_string(report_state(x)));
		if (bad)
			json_decref(o);
		else /* takes O, even when it fails */
			bad = json_array_append_new(list, o);
	}
	bad |= set(root, "backups", list);
	if (bad) {
		json_decref(root);
		return NULL;
	}
	return root;
}

void report_status_dispose(struct report_status *s)
{
	size_t i;

	for (i = 0; s->problems && i < s->nproblems; i++)
		free(s->problems[i]);
	free(s->problems);
	free(s->types);
	free(s->pairs);
	memset(s, 0, sizeof(*s));
}

static int by_type(const void *a, const void *b)
{
	return strcmp(((const struct report_type_total *)a)->type,
		      ((const struct report_type_total *)b)->type);
}

static int by_pair(const void *a, const void *b)
{
	const struct report_pair *x = a, *y = b;
	int d = strcmp(x->type, y->type);

	return d ? d : strcmp(x->database, y->database);
}

/* Grow *ITEMS of *N elements of SIZE by one zeroed element. */
static void *append(void *items, size_t *n, size_t size)
{
	char *grown;

	if (*n >= SIZE_MAX / size - 1)
		return NULL;
	grown = realloc(items, (*n + 1) * size);
	if (!grown)
		return NULL;
	memset(grown + *n * size, 0, size);
	(*n)++;
	return grown;
}

static struct report_type_total *find_type(struct report_status *s,
					   const char *type)
{
	size_t i;

	for (i = 0; i < s->ntypes; i++)
		if (strcmp(s->types[i].type, type) == 0)
			return &s->types[i];
	return NULL;
}

static struct report_pair *find_pair(struct report_status *s, const char *type,
				     const char *database)
{
	size_t i;

	for (i = 0; i < s->npairs; i++)
		if (strcmp(s->pairs[i].type, type) == 0 &&
		    (!database || strcmp(s->pairs[i].database, database) == 0))
			return &s->pairs[i];
	return NULL;
}

static int add_pair(struct report_status *s, const char *type,
		    const char *database)
{
	struct report_pair *grown;

	grown = append(s->pairs, &s->npairs, sizeof(*s->pairs));
	if (!grown)
		return ENOMEM;
	s->pairs = grown;
	snprintf(grown[s->npairs - 1].type, RETENTION_NAME_MAX, "%s", type);
	snprintf(grown[s->npairs - 1].database, RETENTION_NAME_MAX, "%s",
		 database);
	return 0;
}

/* The maximum age of TYPE ("" for any type); 0: not checked. */
static uint64_t max_age_of(const struct report_status_options *o,
			   const char *type)
{
	if (o->max_age)
		return o->max_age;
	if (!o->c)
		return 0;
	return type[0] ? conf_type_max_age(o->c, type)
		       : o->c->retention.max_age;
}

/* A type with a maximum age and no backup at all is a pair of its own. */
static int add_missing_type(struct report_status *s,
			    const struct report_status_options *o,
			    const char *type)
{
	if (o->type && strcmp(type, o->type) != 0)
		return 0;
	if (find_pair(s, type, NULL) || max_age_of(o, type) == 0)
		return 0;
	return add_pair(s, type, o->database ? o->database : "");
}

static int add_problem(struct report_status *s, char *msg)
{
	char **grown;

	grown = append(s->problems, &s->nproblems, sizeof(*s->problems));
	if (!grown) {
		free(msg);
		return ENOMEM;
	}
	s->problems = grown;
	grown[s->nproblems - 1] = msg;
	return 0;
}

/* One sentence for every backup dated in the future. */
static int future_problem(struct report_status *s)
{
	char *msg = NULL;

	if (asprintf(&msg,
		     "%zu backup%s dated in the future, ignored (a clock "
		     "that ran ahead, or planted): the newest is %s",
		     s->future, s->future == 1 ? "" : "s",
		     s->newest_future->key) < 0)
		return ENOMEM;
	return add_problem(s, msg);
}

static int problem(struct report_status *s, const struct report_pair *p)
{
	char age[REPORT_AGE_MAX], max[REPORT_AGE_MAX];
	char *msg = NULL;
	int n;

	if (p->newest)
		n = asprintf(&msg,
			     "%s backup of %s is stale: the newest complete "
			     "one is %s old, max age %s",
			     p->type, p->database, report_age(age, p->age),
			     report_age(max, p->max_age));
	else
		n = asprintf(&msg, "no complete backup%s%s%s%s",
			     p->type[0] ? " of type " : "", p->type,
			     p->database[0] ? " for database " : "",
			     p->database);
	if (n < 0)
		return ENOMEM;
	return add_problem(s, msg);
}

int report_status_build(struct report_status *out,
			const struct retention_backups *b,
			const struct retention_uploads *u,
			const struct report_status_options *o)
{
	struct report_status s = {0};
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < b->n; i++) {
		const struct retention_backup *x = &b->items[i];
		struct report_type_total *t;
		struct report_pair *p;

		if (x->future) {
			if (!s.future++)
				s.newest_future = x;
			continue;
		}
		t = find_type(&s, x->parsed.type);
		if (!t) {
			t = append(s.types, &s.ntypes, sizeof(*s.types));
			if (!t) {
				rc = ENOMEM;
				goto out;
			}
			s.types = t;
			t = &s.types[s.ntypes - 1];
			snprintf(t->type, sizeof(t->type), "%s",
				 x->parsed.type);
		}
		t->count++;
		s.total.count++;
		t->bytes += x->size;
		s.total.bytes += x->size;
		if (x->complete) {
			t->complete++;
			s.total.complete++;
		}
		/* B is newest first. */
		if (!s.newest)
			s.newest = x;
		s.oldest = x;

		p = find_pair(&s, x->parsed.type, x->parsed.database);
		if (!p) {
			rc = add_pair(&s, x->parsed.type, x->parsed.database);
			if (rc)
				goto out;
			p = &s.pairs[s.npairs - 1];
		}
		if (x->complete && !p->newest)
			p->newest = x;
	}

	/* Types that should have backups. */
	for (i = 0; o->c && i < o->c->retention.ntypes; i++) {
		rc = add_missing_type(&s, o, o->c->retention.types[i].name);
		if (rc)
			goto out;
	}
	if (o->type) {
		rc = add_missing_type(&s, o, o->type);
		if (rc)
			goto out;
	}
	if (s.npairs == 0 && max_age_of(o, "") > 0) {
		rc = add_pair(&s, "", o->database ? o->database : "");
		if (rc)
			goto out;
	}

	if (s.future) {
		rc = future_problem(&s);
		if (rc)
			goto out;
	}
	if (s.ntypes > 1)
		qsort(s.types, s.ntypes, sizeof(*s.types), by_type);
	if (s.npairs > 1)
		qsort(s.pairs, s.npairs, sizeof(*s.pairs), by_pair);
	for (i = 0; i < s.npairs; i++) {
		struct report_pair *p = &s.pairs[i];

		p->max_age = max_age_of(o, p->type);
		if (p->newest && o->now > p->newest->parsed.created)
			p->age = (uint64_t)(o->now - p->newest->parsed.created);
		p->stale =
			p->max_age > 0 && (!p->newest || p->age > p->max_age);
		if (p->stale) {
			rc = problem(&s, p);
			if (rc)
				goto out;
		}
	}

	s.pending = u ? u->n : 0;
	s.oldest_pending = s.pending ? &u->items[0] : NULL;
out:
	if (rc) {
		report_status_dispose(&s);
		return rc;
	}
	*out = s;
	return 0;
}

static json_t *backup_json(const struct retention_backup *x)
{
	json_t *o;

	if (!x)
		return json_null();
	o = json_object();
	if (set(o, "key", json_string(x->key)) ||
	    set(o, "created", time_json(x->parsed.created)) ||
	    set(o, "size", json_integer((json_int_t)x->size)) ||
	    set(o, "complete", json_boolean(x->complete)) ||
	    set(o, "state", json_string(report_state(x)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *totals_json(const struct report_type_total *t, bool named)
{
	json_t *o = json_object();

	if ((named && set(o, "type", json_string(t->type))) ||
	    set(o, "count", json_integer((json_int_t)t->count)) ||
	    set(o, "complete", json_integer((json_int_t)t->complete)) ||
	    set(o, "bytes", json_integer((json_int_t)t->bytes))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *pair_json(const struct report_pair *p)
{
	const struct retention_backup *x = p->newest;
	json_t *o = json_object();

	if (set(o, "type", name_json(p->type)) ||
	    set(o, "database", name_json(p->database)) ||
	    set(o, "key", x ? json_string(x->key) : json_null()) ||
	    set(o, "created", x ? time_json(x->parsed.created) : json_null()) ||
	    set(o, "age", x ? json_integer((json_int_t)p->age) : json_null()) ||
	    set(o, "max_age",
		p->max_age ? json_integer((json_int_t)p->max_age)
			   : json_null()) ||
	    set(o, "stale", json_boolean(p->stale))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *pending_json(const struct report_status *s)
{
	const struct retention_upload *x = s->oldest_pending;
	json_t *o = json_object(), *oldest = NULL;

	if (x) {
		oldest = json_object();
		if (set(oldest, "key", json_string(x->key)) ||
		    set(oldest, "initiated", time_json(x->initiated))) {
			json_decref(oldest);
			oldest = NULL;
		}
	} else {
		oldest = json_null();
	}
	if (set(o, "count", json_integer((json_int_t)s->pending)) ||
	    set(o, "oldest", oldest)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *future_json(const struct report_status *s)
{
	json_t *o = json_object();

	if (set(o, "count", json_integer((json_int_t)s->future)) ||
	    set(o, "newest",
		s->newest_future ? json_string(s->newest_future->key)
				 : json_null())) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *report_status_json(const char *bucket, const char *prefix,
			   const struct report_status *s, time_t now)
{
	json_t *root = json_object(), *problems = json_array(),
	       *types = json_array(), *latest = json_array();
	size_t i;
	int bad = 0;

	bad |= set(root, "bucket", json_string(bucket));
	bad |= set(root, "prefix", json_string(prefix));
	bad |= set(root, "now", time_json(now));
	bad |= set(root, "healthy", json_boolean(s->nproblems == 0));
	for (i = 0; !bad && problems && i < s->nproblems; i++)
		bad |= json_array_append_new(problems,
					     json_string(s->problems[i]));
	bad |= set(root, "problems", problems);
	bad |= set(root, "total", totals_json(&s->total, false));
	for (i = 0; !bad && types && i < s->ntypes; i++)
		bad |= json_array_append_new(types,
					     totals_json(&s->types[i], true));
	bad |= set(root, "types", types);
	bad |= set(root, "newest", backup_json(s->newest));
	bad |= set(root, "oldest", backup_json(s->oldest));
	for (i = 0; !bad && latest && i < s->npairs; i++)
		bad |= json_array_append_new(latest, pair_json(&s->pairs[i]));
	bad |= set(root, "latest", latest);
	bad |= set(root, "pending", pending_json(s));
	bad |= set(root, "future", future_json(s));
	if (bad) {
		json_decref(root);
		return NULL;
	}
	return root;
}
