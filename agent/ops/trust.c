/*
 * trust: the rules by which a backup in the bucket counts, applied to
 * scans (the check retention calls back) and to single backups.
 */
#include "agent/ops/trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/ops/log.h"
#include "agent/ops/report.h"

int trust_init(struct trust *t, const conf *c, bool allow_unencrypted,
	       struct agent_error *err)
{
	int rc = AGENT_OK;

	memset(t, 0, sizeof(*t));
	t->encrypted_only = c->encryption.enabled && !allow_unencrypted;
	t->future_tolerance = c->retention.future_tolerance;
	if (c->encryption.key_file != NULL)
		rc = crypto_key_load_file(&t->key, c->encryption.key_file, err);
	else if (c->encryption.passphrase_file != NULL)
		/* The scrypt cost is each file's; the default fills the key. */
		rc = crypto_key_load_passphrase(
			&t->key, c->encryption.passphrase_file, NULL, err);
	else
		return 0;
	if (rc != AGENT_OK)
		return -1;
	t->have_key = true;
	return 0;
}

void trust_dispose(struct trust *t)
{
	crypto_key_dispose(&t->key);
	t->have_key = false;
}

const struct crypto_key *trust_key(const struct trust *t)
{
	return t->have_key ? &t->key : NULL;
}

int trust_check(const struct trust *t, const struct manifest *m,
		const char *key, bool *authentic, struct agent_error *err)
{
	int rc = manifest_check(m, key, trust_key(t), authentic, err);

	if (rc != AGENT_OK)
		return rc;
	if (t->encrypted_only && !m->encrypted)
		return agent_fail(err, AGENT_EIO,
				  "not encrypted, and encryption is "
				  "configured: give --allow-unencrypted to "
				  "use it all the same");
	return AGENT_OK;
}

/*
 * A scan judges every backup in the bucket: with a passphrase, each
 * manifest costs one scrypt run at the cost its header asks for. One
 * that asks for another cost than ours was not written by this
 * configuration, and a writer of the bucket could plant many at the
 * highest cost allowed; such a backup is not counted, without running
 * scrypt. (restore or verify of its key still reads it.)
 */
static bool costly(const struct trust *t, const struct manifest *m)
{
	struct crypto_header h;
	struct agent_error err = {0};

	if (!t->have_key || t->key.source != CRYPTO_SOURCE_PASSPHRASE ||
	    !m->encrypted || !m->has_header)
		return false;
	if (crypto_header_parse(&h, m->header, CRYPTO_HEADER_LEN, &err) !=
	    AGENT_OK)
		return false; /* manifest_check says why */
	return h.source == CRYPTO_SOURCE_PASSPHRASE &&
	       (h.scrypt.log2_n != t->key.scrypt.log2_n ||
		h.scrypt.r != t->key.scrypt.r || h.scrypt.p != t->key.scrypt.p);
}

/* retention_check_fn: read B's manifest and judge it by T. */
static int check_manifest(void *ctx, s3_client *c, struct retention_backup *b,
			  struct retention_error *err)
{
	const struct trust *t = ctx;
	struct agent_error serr = {0};
	struct manifest m;
	struct manifest_store *store = NULL;
	char *mkey = NULL, *text = NULL, why[256];
	size_t len = 0;
	s3_error gerr;
	int src, rc, out = RETENTION_OK;

	if (asprintf(&mkey, "%s%s", b->key, RETENTION_MANIFEST_SUFFIX) < 0) {
		memset(err, 0, sizeof(*err));
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return err->code = RETENTION_ENOMEM;
	}
	src = s3_get_object_buf(&text, &len, c, mkey, MANIFEST_MAX, &gerr);
	free(mkey);
	if (src == S3_ENOTFOUND) {
		b->verdict = RETENTION_NO_MANIFEST; /* gone since the listing */
		return RETENTION_OK;
	}
	if (src == S3_EPROTO) {
		b->verdict = RETENTION_UNVERIFIED;
		log_event(LOG_WARN, "backup not counted: unreadable manifest",
			  "key", b->key, "error", gerr.msg, NULL);
		return RETENTION_OK;
	}
	if (src != S3_OK) {
		/* The bucket: the s3 message whole. */
		memset(err, 0, sizeof(*err));
		snprintf(err->msg, sizeof(err->msg), "%s", gerr.msg);
		return err->code = src == S3_ENOMEM ? RETENTION_ENOMEM
						    : RETENTION_ES3;
	}
	if (manifest_parse(&m, &store, text, len, why, sizeof(why)) != 0) {
		b->verdict = RETENTION_UNVERIFIED;
		log_event(LOG_WARN, "backup not counted: invalid manifest",
			  "key", b->key, "error", why, NULL);
		free(text);
		return RETENTION_OK;
	}
	if (costly(t, &m)) {
		b->verdict = RETENTION_UNVERIFIED;
		log_event(LOG_WARN,
			  "backup not counted: its header asks for a scrypt "
			  "cost other than the configured passphrase's",
			  "key", b->key, NULL);
		manifest_store_free(store);
		free(text);
		return RETENTION_OK;
	}
	rc = trust_check(t, &m, b->key, NULL, &serr);
	if (rc == AGENT_OK) {
		b->verdict = RETENTION_ACCEPTED;
		b->encrypted = m.encrypted;
	} else if (rc == AGENT_EIO && t->encrypted_only && !m.encrypted) {
		b->verdict = RETENTION_UNENCRYPTED;
		b->encrypted = false;
	} else if (agent_code_is_integrity(rc)) {
		b->verdict = RETENTION_UNVERIFIED;
		log_event(LOG_WARN, "backup not counted: manifest not accepted",
			  "key", b->key, "error", serr.msg, NULL);
	} else {
		/* OpenSSL or memory: no verdict on the backup. */
		memset(err, 0, sizeof(*err));
		err->code = out = rc == AGENT_ENOMEM ? RETENTION_ENOMEM
						     : RETENTION_ECHECK;
		snprintf(err->msg, sizeof(err->msg), "checking %s: %.600s",
			 b->key, serr.msg);
	}
	manifest_store_free(store);
	free(text);
	return out;
}

void trust_scan_options(struct retention_scan_options *o, struct trust *t,
			const s3_client *s3, const char *type,
			const char *database, bool lazy)
{
	struct retention_scan_options init = RETENTION_SCAN_OPTIONS_INIT;

	*o = init;
	o->type = type;
	o->database = database;
	o->now = time(NULL) + (s3 ? s3_client_skew(s3) : 0);
	o->future_tolerance = t->future_tolerance;
	o->check = check_manifest;
	o->check_ctx = t;
	o->lazy = lazy;
}

size_t trust_warn_future(const struct retention_backups *b,
			 const struct retention_scan_options *o)
{
	const struct retention_backup *newest = NULL;
	char count[24], after[REPORT_TIME_MAX];
	size_t i, n = 0;

	for (i = 0; i < b->n; i++) {
		if (!b->items[i].future)
			continue;
		if (!newest)
			newest = &b->items[i];
		n++;
	}
	if (n == 0)
		return 0;
	snprintf(count, sizeof(count), "%zu", n);
	log_event(LOG_WARN,
		  "backups dated in the future are ignored (a clock that ran "
		  "ahead, or planted)",
		  "count", count, "after",
		  report_time(after, o->now + (time_t)o->future_tolerance),
		  "newest", newest->key, NULL);
	return n;
}

static void warn_future(void *ctx, const struct retention_backups *b,
			const struct retention_scan_options *o)
{
	(void)ctx;
	trust_warn_future(b, o);
}

int trust_resolve(char **key, s3_client *s3, struct trust *t,
		  const char *prefix, const char *target, const char *type,
		  const char *database, struct retention_error *err)
{
	struct retention_resolve_options o = {0};

	*key = NULL;
	if (t == NULL) /* a key: no manifest is read */
		return retention_resolve_key(key, prefix, target, err);
	trust_scan_options(&o.scan, t, s3, type, database, true);
	o.encrypted_only = t->encrypted_only;
	o.scanned = warn_future;
	return retention_resolve(key, s3, prefix, target, &o, err);
}
