/*
 * Finding backups in the bucket: one listing, keys parsed by the layout,
 * manifests matched to their backups, newest first; then each judged by
 * the caller's check, and keys dated in the future set apart.
 */
#include "retention/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retention/retention_internal.h"

void retention_backups_dispose(struct retention_backups *b)
{
	size_t i;

	for (i = 0; b->items && i < b->n; i++)
		free(b->items[i].key);
	free(b->items);
	memset(b, 0, sizeof(*b));
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct retention_backup *)a)->key,
		      ((const struct retention_backup *)b)->key);
}

static int newest_first(const void *a, const void *b)
{
	const struct retention_backup *x = a, *y = b;

	if (x->parsed.created != y->parsed.created)
		return x->parsed.created > y->parsed.created ? -1 : 1;
	return -strcmp(x->key, y->key);
}

bool retention_is_future(time_t created, time_t now, uint64_t tolerance)
{
	/* In seconds since the epoch; a key's year is at most 9999. */
	return created > now && (uint64_t)(created - now) > tolerance;
}

static void set_complete(struct retention_backup *b)
{
	b->complete = b->verdict == RETENTION_ACCEPTED && !b->future;
}

int retention_judge(struct retention_backup *b, s3_client *c,
		    const struct retention_scan_options *o,
		    struct retention_error *err)
{
	int rc = RETENTION_OK;

	if (b->verdict == RETENTION_UNCHECKED && o->check != NULL) {
		rc = o->check(o->check_ctx, c, b, err);
		if (rc == RETENTION_OK && b->verdict == RETENTION_UNCHECKED)
			b->verdict = RETENTION_UNVERIFIED; /* undecided */
	}
	set_complete(b);
	return rc;
}

int retention_scan(struct retention_backups *out, s3_client *c,
		   const char *prefix, const struct retention_scan_options *o,
		   struct retention_error *err)
{
	const char *type = o->type, *database = o->database;
	struct retention_backup *all = NULL, *grown;
	const struct s3_list_entry *e;
	size_t n = 0, cap = 0, i, kept = 0;
	char *list_prefix = NULL;
	s3_list *it = NULL;
	s3_error serr;
	int rc, src;

	memset(out, 0, sizeof(*out));
	if (type && database)
		rc = asprintf(&list_prefix, "%s%s/%s/", prefix, type, database);
	else if (type)
		rc = asprintf(&list_prefix, "%s%s/", prefix, type);
	else
		rc = asprintf(&list_prefix, "%s", prefix);
	if (rc < 0)
		return retention_fail(err, RETENTION_ENOMEM, "out of memory");
	rc = RETENTION_OK;
	src = s3_list_new(&it, c, list_prefix, NULL, &serr);
	while (src == S3_OK && (src = s3_list_next(&e, it, &serr)) == 1) {
		struct retention_key k;

		src = S3_OK;
		if (retention_key_parse(&k, prefix, e->key) != RETENTION_OK)
			continue; /* not ours */
		if (database && strcmp(k.database, database) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(all, cap * sizeof(*all));
			if (!grown) {
				rc = retention_fail(err, RETENTION_ENOMEM,
						    "out of memory");
				break;
			}
			all = grown;
		}
		memset(&all[n], 0, sizeof(all[n]));
		all[n].key = strdup(e->key);
		if (!all[n].key) {
			rc = retention_fail(err, RETENTION_ENOMEM,
					    "out of memory");
			break;
		}
		all[n].parsed = k;
		all[n].size = e->size;
		all[n].last_modified = e->last_modified;
		all[n].encrypted = k.encrypted;
		all[n].future = retention_is_future(k.created, o->now,
						    o->future_tolerance);
		n++;
	}
	if (src < 0)
		src = -src;
	if (rc == RETENTION_OK && src != S3_OK)
		rc = retention_from_s3(err, &serr);
	s3_list_free(it);
	free(list_prefix);

	if (rc == RETENTION_OK && n > 0) {
		/* A backup has a manifest to judge when one is listed. */
		qsort(all, n, sizeof(*all), by_key);
		for (i = 0; i < n; i++) {
			struct retention_backup probe, *m;
			if (all[i].parsed.manifest)
				continue;
			if (asprintf(&probe.key, "%s%s", all[i].key,
				     RETENTION_MANIFEST_SUFFIX) < 0) {
				rc = retention_fail(err, RETENTION_ENOMEM,
						    "out of memory");
				break;
			}
			m = bsearch(&probe, all, n, sizeof(*all), by_key);
			all[i].verdict = m != NULL ? RETENTION_UNCHECKED
						   : RETENTION_NO_MANIFEST;
			free(probe.key);
		}
		/* Keep the backups; the manifests have done their job. */
		for (i = 0; i < n; i++) {
			if (all[i].parsed.manifest)
				free(all[i].key);
			else
				all[kept++] = all[i];
		}
		n = kept;
		qsort(all, n, sizeof(*all), newest_first);
	}
	for (i = 0; rc == RETENTION_OK && i < n && !o->lazy; i++)
		rc = retention_judge(&all[i], c, o, err);
	if (rc != RETENTION_OK) {
		out->items = all;
		out->n = n;
		retention_backups_dispose(out);
		return rc;
	}
	out->items = all;
	out->n = n;
	return RETENTION_OK;
}

int retention_latest(const struct retention_backup **out,
		     struct retention_backups *b, s3_client *c,
		     const struct retention_scan_options *o,
		     struct retention_error *err)
{
	size_t i;
	int rc;

	*out = NULL;
	for (i = 0; i < b->n; i++) {
		struct retention_backup *x = &b->items[i];

		if (x->future || x->verdict == RETENTION_NO_MANIFEST)
			continue;
		rc = retention_judge(x, c, o, err);
		if (rc != RETENTION_OK)
			return rc;
		if (x->complete) {
			*out = x;
			break;
		}
	}
	return RETENTION_OK;
}

const struct retention_backup *
retention_future_accepted(const struct retention_backups *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->items[i].future &&
		    b->items[i].verdict == RETENTION_ACCEPTED)
			return &b->items[i];
	return NULL;
}

void retention_uploads_dispose(struct retention_uploads *u)
{
	size_t i;

	for (i = 0; u->items && i < u->n; i++)
		free(u->items[i].key);
	free(u->items);
	memset(u, 0, sizeof(*u));
}

static int oldest_first(const void *a, const void *b)
{
	const struct retention_upload *x = a, *y = b;

	if (x->initiated != y->initiated)
		return x->initiated < y->initiated ? -1 : 1;
	return strcmp(x->key, y->key);
}

int retention_pending(struct retention_uploads *out, s3_client *c,
		      const char *prefix, const char *type,
		      const char *database, struct retention_error *err)
{
	struct s3_upload *all = NULL;
	size_t n = 0, i, kept = 0;
	s3_error serr;
	int rc = RETENTION_OK;

	memset(out, 0, sizeof(*out));
	if (s3_multipart_list(&all, &n, c, prefix, &serr) != S3_OK)
		return retention_from_s3(err, &serr);
	if (n > 0) {
		out->items = calloc(n, sizeof(*out->items));
		if (!out->items) {
			rc = retention_fail(err, RETENTION_ENOMEM,
					    "out of memory");
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		struct retention_upload *u = &out->items[kept];

		if (retention_key_parse(&u->parsed, prefix, all[i].key) !=
			    RETENTION_OK ||
		    u->parsed.manifest)
			continue; /* not ours */
		if ((type && strcmp(u->parsed.type, type) != 0) ||
		    (database && strcmp(u->parsed.database, database) != 0))
			continue;
		/* Take the key over from the listing. */
		u->key = all[i].key;
		all[i].key = NULL;
		u->initiated = all[i].initiated;
		out->n = ++kept;
	}
	if (out->n > 1)
		qsort(out->items, out->n, sizeof(*out->items), oldest_first);
out:
	s3_uploads_free(all, n);
	if (rc != RETENTION_OK)
		retention_uploads_dispose(out);
	return rc;
}
