/*
 * Client-side pruning: for stores without lifecycle rules, and for the
 * count limit (keep_last) that lifecycle rules cannot express.
 *
 * The safety rules, each tested: the newest complete backup of each type
 * and database is never chosen; a backup that is not complete (no
 * manifest, or one that was not accepted) never counts as a kept one; a
 * backup's age is read from its key, so a copy or a restore of the bucket
 * does not make old backups young; keys dated in the future are never
 * counted or chosen, and while a complete one exists nothing is deleted:
 * a clock that ran ahead, or a writer who plants backups, must not make
 * the real ones look old.
 */
#include "retention/retention.h"

#include <stdlib.h>
#include <string.h>

struct group {
	const char *type, *database;
	size_t complete; /* complete backups seen so far, newest first */
};

static struct group *find_group(struct group *g, size_t *n,
				const struct retention_key *k)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(g[i].type, k->type) == 0 &&
		    strcmp(g[i].database, k->database) == 0)
			return &g[i];
	g[*n].type = k->type;
	g[*n].database = k->database;
	g[*n].complete = 0;
	return &g[(*n)++];
}

int retention_prune_plan(struct retention_prune_item **items, size_t *n,
			 const struct retention_backups *all, const conf *c,
			 time_t now)
{
	struct retention_prune_item *out = NULL;
	struct group *groups = NULL;
	size_t ngroups = 0, i, count = 0;

	*items = NULL;
	*n = 0;
	if (all->n == 0)
		return RETENTION_OK;
	if (retention_future_accepted(all) != NULL)
		return RETENTION_EFUTURE;
	groups = calloc(all->n, sizeof(*groups));
	out = calloc(all->n, sizeof(*out));
	if (!groups || !out) {
		free(groups);
		free(out);
		return RETENTION_ENOMEM;
	}
	for (i = 0; i < all->n; i++) {
		const struct retention_backup *b = &all->items[i];
		const struct retention_key *k = &b->parsed;
		struct group *g = find_group(groups, &ngroups, k);
		int keep_last = conf_type_keep_last(c, k->type);
		time_t max_age = (time_t)conf_type_days(c, k->type) * 86400;
		bool old = now - k->created > max_age;
		enum retention_prune_why why = 0;

		if (b->future || b->verdict == RETENTION_UNCHECKED) {
			/* Not trusted, or not judged: left alone. */
		} else if (!b->complete) {
			/* Not a backup: never kept in place of one, and
			 * gone once a backup of its age would be. */
			if (old)
				why = RETENTION_PRUNE_INCOMPLETE;
		} else if (++g->complete == 1) {
			/* The newest complete backup: always kept. */
		} else if (keep_last > 0) {
			if (g->complete > (size_t)keep_last)
				why = RETENTION_PRUNE_COUNT;
		} else if (old) {
			why = RETENTION_PRUNE_AGE;
		}
		if (why) {
			out[count].backup = b;
			out[count].why = why;
			count++;
		}
	}
	free(groups);
	if (count == 0) {
		free(out);
		return RETENTION_OK;
	}
	*items = out;
	*n = count;
	return RETENTION_OK;
}
