/*
 * trust: which backups in the bucket count, as this host sees them.
 *
 * The bucket is not trusted (DESIGN.md, "Trust model"). A backup counts
 * when its manifest parses, belongs to it and, where a key is configured,
 * authenticates (manifest_check); when [encryption] is enabled only
 * encrypted backups count, unless the command was given
 * --allow-unencrypted; and a key dated later than now plus [retention]
 * future_tolerance counts nowhere. list, status, prune, latest, restore,
 * verify and presign all judge by these rules, through this module.
 */
#ifndef OFFSITE_AGENT_TRUST_H
#define OFFSITE_AGENT_TRUST_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/pipe/crypto.h"
#include "agent/ops/manifest.h"
#include "agent/pipe/stream.h"
#include "conf/conf.h"
#include "retention/retention.h"
#include "s3/s3.h"

struct trust {
	struct crypto_key key; /* the configured key, when HAVE_KEY */
	bool have_key;
	bool encrypted_only; /* [encryption] enabled, no --allow-unencrypted */
	uint64_t future_tolerance; /* seconds */
};

/*
 * T from the configuration: the key of [encryption] (key_file, else
 * passphrase_file; loaded whether or not encryption is enabled), and
 * whether unencrypted backups count (ALLOW_UNENCRYPTED: the command's
 * --allow-unencrypted). A key that cannot be loaded: -1 with ERR set.
 * Dispose of T with trust_dispose() either way.
 */
int trust_init(struct trust *t, const conf *c, bool allow_unencrypted,
	       struct agent_error *err);
void trust_dispose(struct trust *t);

/* The configured key, or NULL. */
const struct crypto_key *trust_key(const struct trust *t);

/*
 * Scan options that judge by T: the manifest check, and the future
 * bound at the reader's clock (corrected by the server's skew when the
 * client learnt it). T must outlive the scan.
 */
void trust_scan_options(struct retention_scan_options *o, struct trust *t,
			const s3_client *s3, const char *type,
			const char *database, bool lazy);

/*
 * One warning in the log when B holds backups dated in the future ("N
 * backups dated in the future, ignored", the newest named). Returns how
 * many there are.
 */
size_t trust_warn_future(const struct retention_backups *b,
			 const struct retention_scan_options *o);

/*
 * The backup TARGET names under PREFIX (retention_resolve: a key, with
 * or without PREFIX, or "latest", the newest backup of TYPE and DATABASE,
 * NULL: any, that counts by T), in *KEY (malloc'd). Backups dated in the
 * future are passed over with a warning (trust_warn_future). T may be
 * NULL when TARGET is not "latest". Retention codes with ERR set:
 * RETENTION_EINVAL or RETENTION_EMANIFEST for a TARGET that names no
 * backup, RETENTION_ENOTFOUND when none counts as latest, others when
 * the bucket could not be read.
 */
int trust_resolve(char **key, s3_client *s3, struct trust *t,
		  const char *prefix, const char *target, const char *type,
		  const char *database, struct retention_error *err);

/*
 * Whether the backup KEY, whose manifest is M, counts by T: 0, or the
 * stream code with ERR set (manifest_check's, then AGENT_EIO "not
 * encrypted, and encryption is configured: ..." for an unencrypted backup
 * when only encrypted ones count). *AUTHENTIC as manifest_check's.
 */
int trust_check(const struct trust *t, const struct manifest *m,
		const char *key, bool *authentic, struct agent_error *err);

#endif
