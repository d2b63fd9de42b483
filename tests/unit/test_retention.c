/*
 * Retention without a server: our lifecycle rules, the merge that keeps
 * everyone else's, the choice of backups to prune, and the keys dated in
 * the future that nothing trusts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "retention/retention.h"

#define DAY ((time_t)86400)
/* 2026-11-23T09:30:05Z */
#define NOW ((time_t)1795426205)

static conf *load(const char *retention)
{
	char text[2048];
	conf_error err;
	conf *c = NULL;

	snprintf(text, sizeof(text),
		 "[storage]\nbucket = backups\nprefix = %s\n"
		 "[database]\ndriver = stdin\n"
		 "[retention]\n%s\n",
		 "pfx/", retention);
	if (conf_parse(&c, "t.ini", text, &err) != CONF_OK)
		fail_msg("conf_parse: %s", err.msg);
	return c;
}

/* A rule as read from a bucket (strings owned: s3_lifecycle_dispose). */
static struct s3_lifecycle_rule foreign(const char *id, const char *prefix,
					unsigned days)
{
	struct s3_lifecycle_rule r = {0};

	r.id = strdup(id);
	r.prefix = strdup(prefix);
	r.enabled = true;
	r.expiration_days = days;
	r.raw = strdup("<Rule>as received</Rule>");
	assert_true(r.id && r.prefix && r.raw);
	return r;
}

/* A bucket configuration of N rules, to fill in. */
static void bucket(struct s3_lifecycle *lc, size_t n)
{
	lc->rules = calloc(n, sizeof(*lc->rules));
	assert_non_null(lc->rules);
	lc->nrules = n;
}

static void test_rule_ids(void **state)
{
	struct s3_lifecycle_rule r = {0};
	char type[RETENTION_NAME_MAX], *id;
	char weekly[] = "offsite-pfx/weekly", other[] = "offsite-other/weekly",
	     logs[] = "expire-logs";

	(void)state;
	assert_int_equal(retention_rule_id(&id, "", "daily"), RETENTION_OK);
	assert_string_equal(id, "offsite-daily");
	free(id);
	assert_int_equal(retention_rule_id(&id, "pfx/", NULL), RETENTION_OK);
	assert_string_equal(id, "offsite-pfx/abort-incomplete");

	r.id = id;
	assert_true(retention_rule_ours(&r, "pfx/", type));
	assert_string_equal(type, "");
	r.id = weekly;
	assert_true(retention_rule_ours(&r, "pfx/", type));
	assert_string_equal(type, "weekly");
	/* Another prefix's rules, and names that are not ours. */
	assert_false(retention_rule_ours(&r, "", type));
	r.id = other;
	assert_false(retention_rule_ours(&r, "pfx/", type));
	r.id = logs;
	assert_false(retention_rule_ours(&r, "pfx/", type));
	r.id = NULL;
	assert_false(retention_rule_ours(&r, "pfx/", type));
	free(id);
}

/* What a rule reaches under "pfx/": check and apply judge by it. */
static void test_rule_reach(void **state)
{
	struct s3_lifecycle_rule r = {0};
	char type[RETENTION_NAME_MAX], p[160];
	static const struct {
		const char *prefix;
		enum retention_reach reach;
		const char *type;
	} cases[] = {
		{"", RETENTION_REACH_ALL, ""},
		{"pf", RETENTION_REACH_ALL, ""},
		{"pfx/", RETENTION_REACH_ALL, ""},
		{"pfx/daily/", RETENTION_REACH_TYPE, "daily"},
		{"pfx/daily", RETENTION_REACH_PART, ""},
		{"pfx/da", RETENTION_REACH_PART, ""},
		{"pfx//", RETENTION_REACH_PART, ""},
		{"pfx/Daily/", RETENTION_REACH_PART, ""},
		{"pfx/daily/app/", RETENTION_REACH_PART, ""},
		{"pfx/abort-incomplete/", RETENTION_REACH_PART, ""},
		{"other/", RETENTION_REACH_NONE, ""},
		{"pfy", RETENTION_REACH_NONE, ""},
		{"pfx.daily/", RETENTION_REACH_NONE, ""},
	};

	(void)state;
	r.enabled = true;
	r.expiration_days = 7;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(p, sizeof(p), "%s", cases[i].prefix);
		r.prefix = p;
		memset(type, 'x', sizeof(type));
		assert_int_equal(retention_rule_reach(&r, "pfx/", type),
				 cases[i].reach);
		assert_string_equal(type, cases[i].type);
	}
	/* A type name as long as the buffer is none. */
	memset(p, 'a', sizeof(p));
	memcpy(p, "pfx/", 4);
	p[4 + RETENTION_NAME_MAX] = '/';
	p[5 + RETENTION_NAME_MAX] = '\0';
	assert_int_equal(retention_rule_reach(&r, "pfx/", type),
			 RETENTION_REACH_PART);
	/* Rules that expire nothing reach nothing. */
	r.prefix = p;
	snprintf(p, sizeof(p), "pfx/daily/");
	r.expiration_days = 0;
	assert_int_equal(retention_rule_reach(&r, "pfx/", type),
			 RETENTION_REACH_NONE);
	r.expiration_days = 7;
	r.enabled = false;
	assert_int_equal(retention_rule_reach(&r, "pfx/", type),
			 RETENTION_REACH_NONE);
	r.enabled = true;
	r.prefix = NULL; /* a filter other than a prefix */
	assert_int_equal(retention_rule_reach(&r, "pfx/", type),
			 RETENTION_REACH_NONE);
	/* With no prefix of ours, every rule reaches some of our keys. */
	r.prefix = p;
	assert_int_equal(retention_rule_reach(&r, "", type),
			 RETENTION_REACH_PART);
	snprintf(p, sizeof(p), "weekly/");
	assert_int_equal(retention_rule_reach(&r, "", type),
			 RETENTION_REACH_TYPE);
	assert_string_equal(type, "weekly");
}

static void test_wanted(void **state)
{
	const char *types[] = {"weekly", "daily", "Bad Type", "daily",
			       "abort-incomplete"};
	struct s3_lifecycle lc;
	conf *c =
		load("days = 30\ndays.weekly = 90\nabort_incomplete_days = 2");

	(void)state;
	assert_int_equal(retention_rules_wanted(&lc, c, types, 5),
			 RETENTION_OK);
	assert_int_equal(lc.nrules, 3);
	assert_string_equal(lc.rules[0].id, "offsite-pfx/abort-incomplete");
	assert_string_equal(lc.rules[0].prefix, "pfx/");
	assert_int_equal(lc.rules[0].abort_incomplete_days, 2);
	assert_int_equal(lc.rules[0].expiration_days, 0);
	assert_string_equal(lc.rules[1].id, "offsite-pfx/daily");
	assert_string_equal(lc.rules[1].prefix, "pfx/daily/");
	assert_int_equal(lc.rules[1].expiration_days, 30);
	assert_string_equal(lc.rules[2].id, "offsite-pfx/weekly");
	assert_int_equal(lc.rules[2].expiration_days, 90);
	assert_null(lc.rules[2].raw);
	s3_lifecycle_dispose(&lc);
	conf_free(c);
}

static size_t count_op(const struct retention_plan *p,
		       enum retention_change_op op)
{
	size_t i, n = 0;

	for (i = 0; i < p->nchanges; i++)
		n += p->changes[i].op == op;
	return n;
}

static void test_merge_keeps_foreign_rules(void **state)
{
	const char *types[] = {"daily", "weekly"};
	struct s3_lifecycle wanted, current = {0};
	struct retention_plan p;
	conf *c = load("days.daily = 7\ndays.weekly = 60");

	(void)state;
	assert_int_equal(retention_rules_wanted(&wanted, c, types, 2),
			 RETENTION_OK);
	bucket(&current, 3);
	current.rules[0] = foreign("expire-logs", "logs/", 3);
	current.rules[1] = foreign("offsite-pfx/daily", "pfx/daily/", 30);
	current.rules[2] = foreign("offsite-pfx/monthly", "pfx/monthly/", 365);

	assert_int_equal(
		retention_plan_make(&p, &current, &wanted, "pfx/", false),
		RETENTION_OK);
	assert_true(p.changed);
	/* foreign kept as received; daily changed; monthly (ours, not
	 * configured) kept; the abort rule and weekly added. */
	assert_int_equal(p.result.nrules, 5);
	assert_string_equal(p.result.rules[0].id, "expire-logs");
	assert_string_equal(p.result.rules[0].raw, "<Rule>as received</Rule>");
	assert_string_equal(p.result.rules[1].id, "offsite-pfx/daily");
	assert_int_equal(p.result.rules[1].expiration_days, 7);
	assert_string_equal(p.result.rules[2].id, "offsite-pfx/monthly");
	assert_int_equal(p.result.rules[2].expiration_days, 365);
	assert_int_equal(count_op(&p, RETENTION_RULE_FOREIGN), 1);
	assert_int_equal(count_op(&p, RETENTION_RULE_UPDATE), 1);
	assert_int_equal(count_op(&p, RETENTION_RULE_SAME), 1);
	assert_int_equal(count_op(&p, RETENTION_RULE_ADD), 2);
	assert_non_null(strstr(p.changes[1].text, "(was 30 days)"));
	assert_int_equal(p.nwarnings, 0);

	/* Applying the result again changes nothing. */
	struct retention_plan again;
	assert_int_equal(
		retention_plan_make(&again, &p.result, &wanted, "pfx/", false),
		RETENTION_OK);
	assert_false(again.changed);
	assert_int_equal(again.result.nrules, 5);
	retention_plan_dispose(&again);

	/* Remove takes ours out and nothing else. */
	assert_int_equal(
		retention_plan_make(&again, &p.result, NULL, "pfx/", true),
		RETENTION_OK);
	assert_true(again.changed);
	assert_int_equal(again.result.nrules, 1);
	assert_string_equal(again.result.rules[0].id, "expire-logs");
	assert_int_equal(count_op(&again, RETENTION_RULE_REMOVE), 4);
	retention_plan_dispose(&again);

	retention_plan_dispose(&p);
	s3_lifecycle_dispose(&current);
	s3_lifecycle_dispose(&wanted);
	conf_free(c);
}

static void test_foreign_rule_that_expires_sooner(void **state)
{
	const char *types[] = {"monthly"};
	struct s3_lifecycle wanted, current = {0};
	struct retention_plan p;
	conf *c = load("days.monthly = 365");

	(void)state;
	assert_int_equal(retention_rules_wanted(&wanted, c, types, 1),
			 RETENTION_OK);
	bucket(&current, 2);
	current.rules[0] = foreign("everything-30d", "", 30);
	current.rules[1] = foreign("other-app", "app/", 1);
	assert_int_equal(
		retention_plan_make(&p, &current, &wanted, "pfx/", false),
		RETENTION_OK);
	assert_int_equal(p.nwarnings, 1);
	assert_non_null(strstr(p.warnings[0], "'everything-30d'"));
	assert_non_null(strstr(p.warnings[0], "pfx/monthly/"));
	retention_plan_dispose(&p);
	s3_lifecycle_dispose(&current);
	s3_lifecycle_dispose(&wanted);
	conf_free(c);
}

/* ---- prune ---- */

struct fake {
	const char *type, *database;
	time_t age; /* seconds before NOW */
	bool complete;
};

static void make_scan(struct retention_backups *b, const struct fake *f,
		      size_t n)
{
	size_t i;

	b->items = calloc(n, sizeof(*b->items));
	b->n = n;
	assert_non_null(b->items);
	for (i = 0; i < n; i++) {
		struct retention_backup *x = &b->items[i];
		assert_int_equal(retention_key_format(&x->key, "pfx/",
						      f[i].type, f[i].database,
						      NOW - f[i].age, "sql.gz"),
				 RETENTION_OK);
		assert_int_equal(
			retention_key_parse(&x->parsed, "pfx/", x->key),
			RETENTION_OK);
		x->complete = f[i].complete;
		x->verdict = f[i].complete ? RETENTION_ACCEPTED
					   : RETENTION_NO_MANIFEST;
		x->size = 100;
	}
}

/* The indexes chosen, as "1,3,4". */
static void chosen(char *buf, size_t size, const struct retention_backups *b,
		   const struct retention_prune_item *items, size_t n)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%zu",
					i ? "," : "",
					(size_t)(items[i].backup - b->items));
}

static void test_prune_by_age(void **state)
{
	/* Newest first, as a scan gives them. */
	const struct fake f[] = {
		{"daily", "app", 1 * DAY, true},    /* 0 */
		{"daily", "app", 5 * DAY, true},    /* 1 */
		{"daily", "app", 8 * DAY, true},    /* 2: too old */
		{"daily", "app", 9 * DAY, false},   /* 3: incomplete, old */
		{"daily", "other", 20 * DAY, true}, /* 4: its newest: kept */
		{"daily", "other", 21 * DAY, true}, /* 5: too old */
		{"weekly", "app", 40 * DAY, true},  /* 6: weekly's newest */
		{"weekly", "app", 100 * DAY, true}, /* 7: too old for 90 */
		{"manual", "app", 2 * DAY, false},  /* 8: incomplete, young */
	};
	struct retention_backups b;
	struct retention_prune_item *items;
	char got[64];
	size_t n;
	conf *c = load("days = 7\ndays.weekly = 90");

	(void)state;
	make_scan(&b, f, sizeof(f) / sizeof(f[0]));
	assert_int_equal(retention_prune_plan(&items, &n, &b, c, NOW),
			 RETENTION_OK);
	chosen(got, sizeof(got), &b, items, n);
	assert_string_equal(got, "2,3,5,7");
	assert_int_equal(items[0].why, RETENTION_PRUNE_AGE);
	assert_int_equal(items[1].why, RETENTION_PRUNE_INCOMPLETE);
	free(items);
	retention_backups_dispose(&b);
	conf_free(c);
}

static void test_prune_keep_last(void **state)
{
	const struct fake f[] = {
		{"daily", "app", 1 * DAY, false},  /* 0: not counted as kept */
		{"daily", "app", 2 * DAY, true},   /* 1: kept (1st) */
		{"daily", "app", 3 * DAY, true},   /* 2: kept (2nd) */
		{"daily", "app", 50 * DAY, true},  /* 3: kept (3rd), old */
		{"daily", "app", 60 * DAY, true},  /* 4: beyond 3 */
		{"daily", "app", 61 * DAY, false}, /* 5: incomplete, old */
	};
	struct retention_backups b;
	struct retention_prune_item *items;
	char got[64];
	size_t n;
	conf *c = load("days = 30\nkeep_last.daily = 3");

	(void)state;
	make_scan(&b, f, sizeof(f) / sizeof(f[0]));
	assert_int_equal(retention_prune_plan(&items, &n, &b, c, NOW),
			 RETENTION_OK);
	chosen(got, sizeof(got), &b, items, n);
	assert_string_equal(got, "4,5");
	assert_int_equal(items[0].why, RETENTION_PRUNE_COUNT);
	free(items);
	retention_backups_dispose(&b);
	conf_free(c);
}

static void test_prune_never_the_newest(void **state)
{
	/* Every backup is ancient and keep_last is 1: the newest complete
	 * one stays, even behind a newer incomplete one. */
	const struct fake f[] = {
		{"daily", "app", 400 * DAY, false},
		{"daily", "app", 500 * DAY, true},
		{"daily", "app", 600 * DAY, true},
	};
	struct retention_backups b;
	struct retention_prune_item *items;
	char got[64];
	size_t n;
	conf *c = load("days = 1\nkeep_last = 1");

	(void)state;
	make_scan(&b, f, sizeof(f) / sizeof(f[0]));
	assert_int_equal(retention_prune_plan(&items, &n, &b, c, NOW),
			 RETENTION_OK);
	chosen(got, sizeof(got), &b, items, n);
	assert_string_equal(got, "0,2");
	free(items);
	retention_backups_dispose(&b);

	/* Nothing to prune: no allocation, no items. */
	b.items = NULL;
	b.n = 0;
	assert_int_equal(retention_prune_plan(&items, &n, &b, c, NOW),
			 RETENTION_OK);
	assert_null(items);
	assert_int_equal(n, 0);
	conf_free(c);
}

/* ---- the future, planted and forged backups ---- */

struct judged {
	const char *type, *database;
	time_t age; /* seconds before NOW; negative: in the future */
	enum retention_verdict verdict;
};

/* A scan as retention_scan() judges it at NOW, tolerance an hour. */
static void make_judged(struct retention_backups *b, const struct judged *f,
			size_t n)
{
	b->items = calloc(n, sizeof(*b->items));
	b->n = n;
	assert_non_null(b->items);
	for (size_t i = 0; i < n; i++) {
		struct retention_backup *x = &b->items[i];
		assert_int_equal(retention_key_format(&x->key, "pfx/",
						      f[i].type, f[i].database,
						      NOW - f[i].age, "sql.gz"),
				 RETENTION_OK);
		assert_int_equal(
			retention_key_parse(&x->parsed, "pfx/", x->key),
			RETENTION_OK);
		x->verdict = f[i].verdict;
		x->future = retention_is_future(x->parsed.created, NOW,
						RETENTION_FUTURE_TOLERANCE);
		x->complete = x->verdict == RETENTION_ACCEPTED && !x->future;
		x->size = 100;
	}
}

static void test_future_bound(void **state)
{
	(void)state;
	assert_false(retention_is_future(NOW - DAY, NOW, 3600));
	assert_false(retention_is_future(NOW, NOW, 3600));
	assert_false(retention_is_future(NOW + 3600, NOW, 3600));
	assert_true(retention_is_future(NOW + 3601, NOW, 3600));
	assert_true(retention_is_future(NOW + 1, NOW, 0));
	/* 9999-12-31T23:59:59Z, the last time a key can hold. */
	assert_true(retention_is_future((time_t)253402300799, NOW, 7 * DAY));
}

/* keep_last = 2 and three planted backups (two dated in the future, one
 * forged between the real ones): no real backup is chosen that keep_last
 * keeps, and no planted one counts. */
static void test_prune_planted(void **state)
{
	const struct judged f[] = {
		{"daily", "app", -400 * DAY, RETENTION_NO_MANIFEST}, /* 0 */
		{"daily", "app", -2 * DAY, RETENTION_UNVERIFIED},    /* 1 */
		{"daily", "app", DAY / 2, RETENTION_UNVERIFIED},     /* 2 */
		{"daily", "app", 1 * DAY, RETENTION_ACCEPTED},	  /* 3 kept */
		{"daily", "app", 2 * DAY, RETENTION_UNENCRYPTED}, /* 4 */
		{"daily", "app", 3 * DAY, RETENTION_ACCEPTED},	  /* 5 kept */
		{"daily", "app", 40 * DAY, RETENTION_ACCEPTED},	  /* 6 */
		{"daily", "app", 50 * DAY, RETENTION_UNVERIFIED}, /* 7 */
	};
	struct retention_backups b;
	struct retention_prune_item *items;
	char got[64];
	size_t n;
	conf *c = load("days = 30\nkeep_last = 2");

	(void)state;
	make_judged(&b, f, sizeof(f) / sizeof(f[0]));
	assert_true(b.items[0].future && b.items[1].future);
	assert_false(b.items[2].future);
	assert_int_equal(retention_prune_plan(&items, &n, &b, c, NOW),
			 RETENTION_OK);
	chosen(got, sizeof(got), &b, items, n);
	/* 6: the third real one; 7: not complete and old. */
	assert_string_equal(got, "6,7");
	assert_int_equal(items[0].why, RETENTION_PRUNE_COUNT);
	assert_int_equal(items[1].why, RETENTION_PRUNE_INCOMPLETE);
	free(items);
	retention_backups_dispose(&b);
	conf_free(c);
}

/* A complete backup dated in the future: nothing is deleted at all. */
static void test_prune_refuses_future(void **state)
{
	const struct judged f[] = {
		{"daily", "app", -30 * DAY, RETENTION_ACCEPTED}, /* 0 */
		{"daily", "app", 1 * DAY, RETENTION_ACCEPTED},	 /* 1 */
		{"daily", "app", 90 * DAY, RETENTION_ACCEPTED},	 /* 2: old */
		{"weekly", "crm", 90 * DAY, RETENTION_ACCEPTED}, /* 3 */
		{"weekly", "crm", 99 * DAY, RETENTION_ACCEPTED}, /* 4: old */
	};
	struct retention_backups b;
	struct retention_prune_item *items = NULL;
	size_t n = 9;
	conf *c = load("days = 30");

	(void)state;
	make_judged(&b, f, sizeof(f) / sizeof(f[0]));
	assert_int_equal(retention_prune_plan(&items, &n, &b, c, NOW),
			 RETENTION_EFUTURE);
	assert_null(items);
	assert_int_equal(n, 0);
	assert_ptr_equal(retention_future_accepted(&b), &b.items[0]);

	/* Planted in the future without an accepted manifest: ignored, and
	 * the rest is pruned as usual. */
	b.items[0].verdict = RETENTION_UNVERIFIED;
	assert_null(retention_future_accepted(&b));
	assert_int_equal(retention_prune_plan(&items, &n, &b, c, NOW),
			 RETENTION_OK);
	assert_int_equal(n, 2);
	assert_ptr_equal(items[0].backup, &b.items[2]);
	assert_ptr_equal(items[1].backup, &b.items[4]);
	free(items);
	retention_backups_dispose(&b);
	conf_free(c);
}

/* A check that accepts only backups whose index is in the mask. */
struct fake_check {
	const struct retention_backups *b;
	unsigned accept; /* bit i: item i is accepted */
	unsigned calls;	 /* bit i: item i was judged */
};

static int fake_check(void *ctx, s3_client *c, struct retention_backup *b,
		      struct retention_error *err)
{
	struct fake_check *f = ctx;
	size_t i = (size_t)(b - f->b->items);

	(void)c;
	(void)err;
	f->calls |= 1u << i;
	b->verdict = f->accept & (1u << i) ? RETENTION_ACCEPTED
					   : RETENTION_UNVERIFIED;
	return RETENTION_OK;
}

/* latest judges lazily, newest first: never a future key, never one
 * without a manifest, and nothing past the first accepted one. */
static void test_latest_lazy(void **state)
{
	const struct judged f[] = {
		{"daily", "app", -400 * DAY, RETENTION_UNCHECKED}, /* 0 */
		{"daily", "app", DAY, RETENTION_NO_MANIFEST},	   /* 1 */
		{"daily", "app", 2 * DAY, RETENTION_UNCHECKED}, /* 2 forged */
		{"daily", "app", 3 * DAY, RETENTION_UNCHECKED}, /* 3 */
		{"daily", "app", 4 * DAY, RETENTION_UNCHECKED}, /* 4 */
	};
	struct retention_scan_options o = RETENTION_SCAN_OPTIONS_INIT;
	struct retention_backups b;
	const struct retention_backup *latest = NULL;
	struct fake_check fc = {0};
	struct retention_error err;

	(void)state;
	make_judged(&b, f, sizeof(f) / sizeof(f[0]));
	fc.b = &b;
	fc.accept = 1u << 0 | 1u << 3 | 1u << 4;
	o.now = NOW;
	o.check = fake_check;
	o.check_ctx = &fc;
	o.lazy = true;
	assert_int_equal(retention_latest(&latest, &b, NULL, &o, &err),
			 RETENTION_OK);
	assert_ptr_equal(latest, &b.items[3]);
	assert_int_equal(fc.calls, 1u << 2 | 1u << 3);
	assert_true(b.items[3].complete);
	assert_false(b.items[2].complete);

	/* Nothing accepted: none, and no error. */
	fc.accept = 0;
	b.items[3].verdict = b.items[4].verdict = RETENTION_UNCHECKED;
	assert_int_equal(retention_latest(&latest, &b, NULL, &o, &err),
			 RETENTION_OK);
	assert_null(latest);
	retention_backups_dispose(&b);
}

/* The key forms every command that takes a backup accepts. */
static void test_resolve_key(void **state)
{
	const char *k = "daily/app/app-daily-20261123T093000Z.sql.gz";
	struct retention_error err;
	char full[128], *key = NULL;

	(void)state;
	snprintf(full, sizeof(full), "pfx/%s", k);
	/* As `offsite list` shows it, and without the prefix. */
	assert_int_equal(retention_resolve_key(&key, "pfx/", full, &err),
			 RETENTION_OK);
	assert_string_equal(key, full);
	free(key);
	assert_int_equal(retention_resolve_key(&key, "pfx/", k, &err),
			 RETENTION_OK);
	assert_string_equal(key, full);
	free(key);
	assert_int_equal(retention_resolve_key(&key, "", k, &err),
			 RETENTION_OK);
	assert_string_equal(key, k);
	free(key);
	/* Encrypted keys too. */
	assert_int_equal(
		retention_resolve_key(
			&key, "pfx/",
			"weekly/db/db-weekly-20261123T093000Z.sql.gz.enc",
			&err),
		RETENTION_OK);
	assert_string_equal(
		key, "pfx/weekly/db/db-weekly-20261123T093000Z.sql.gz.enc");
	free(key);

	/* Not a backup: a foreign object, another prefix, "latest" itself. */
	assert_int_equal(
		retention_resolve_key(&key, "pfx/", "pfx/notes.txt", &err),
		RETENTION_EINVAL);
	assert_null(key);
	assert_int_equal(err.code, RETENTION_EINVAL);
	assert_string_equal(err.msg,
			    "'pfx/notes.txt' is not a backup key (pfx/TYPE/DB/"
			    "DB-TYPE-YYYYMMDDTHHMMSSZ.sql.gz[.enc])");
	snprintf(full, sizeof(full), "other/%s", k);
	assert_int_equal(retention_resolve_key(&key, "pfx/", full, &err),
			 RETENTION_EINVAL);
	assert_int_equal(retention_resolve_key(&key, "", full, &err),
			 RETENTION_EINVAL);
	assert_int_equal(
		retention_resolve_key(&key, "pfx/", RETENTION_LATEST, &err),
		RETENTION_EINVAL);
	assert_int_equal(retention_resolve_key(&key, "", "", &err),
			 RETENTION_EINVAL);
	assert_null(key);

	/* A manifest, in either form: name its backup. */
	snprintf(full, sizeof(full), "%s.manifest", k);
	assert_int_equal(retention_resolve_key(&key, "pfx/", full, &err),
			 RETENTION_EMANIFEST);
	assert_null(key);
	assert_non_null(strstr(err.msg, "is a manifest: name its backup"));
	snprintf(full, sizeof(full), "pfx/%s.manifest", k);
	assert_int_equal(retention_resolve_key(&key, "pfx/", full, &err),
			 RETENTION_EMANIFEST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_ids),
		cmocka_unit_test(test_rule_reach),
		cmocka_unit_test(test_wanted),
		cmocka_unit_test(test_merge_keeps_foreign_rules),
		cmocka_unit_test(test_foreign_rule_that_expires_sooner),
		cmocka_unit_test(test_prune_by_age),
		cmocka_unit_test(test_prune_keep_last),
		cmocka_unit_test(test_prune_never_the_newest),
		cmocka_unit_test(test_future_bound),
		cmocka_unit_test(test_prune_planted),
		cmocka_unit_test(test_prune_refuses_future),
		cmocka_unit_test(test_latest_lazy),
		cmocka_unit_test(test_resolve_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
