/*
 * Resolving KEY|latest: which key forms name a backup, and what "latest"
 * means. One answer for every command that takes a backup.
 */
#include "retention/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retention/retention_internal.h"

int retention_resolve_key(char **key, const char *prefix, const char *target,
			  struct retention_error *err)
{
	struct retention_key k;
	char *full = NULL;

	*key = NULL;
	/* The key as `offsite list` shows it, or without the prefix. */
	if (retention_key_parse(&k, prefix, target) == RETENTION_OK) {
		full = strdup(target);
	} else if (prefix[0] != '\0' &&
		   asprintf(&full, "%s%s", prefix, target) < 0) {
		full = NULL;
	} else if (prefix[0] == '\0' ||
		   retention_key_parse(&k, prefix, full) != RETENTION_OK) {
		free(full);
		return retention_fail(err, RETENTION_EINVAL,
				      "'%s' is not a backup key (%sTYPE/DB/"
				      "DB-TYPE-YYYYMMDDTHHMMSSZ.sql.gz[.enc])",
				      target, prefix);
	}
	if (full == NULL)
		return retention_fail(err, RETENTION_ENOMEM, "out of memory");
	if (k.manifest) {
		free(full);
		return retention_fail(err, RETENTION_EMANIFEST,
				      "'%s' is a manifest: name its backup, "
				      "without %s",
				      target, RETENTION_MANIFEST_SUFFIX);
	}
	*key = full;
	return RETENTION_OK;
}

static int resolve_latest(char **key, s3_client *c, const char *prefix,
			  const struct retention_resolve_options *o,
			  struct retention_error *err)
{
	struct retention_scan_options so = o->scan;
	struct retention_backups b;
	const struct retention_backup *latest = NULL;
	int rc;

	/* Only the newest that counts is wanted: judge no more. */
	so.lazy = true;
	rc = retention_scan(&b, c, prefix, &so, err);
	if (rc != RETENTION_OK)
		return rc;
	if (o->scanned)
		o->scanned(o->scanned_ctx, &b, &so);
	rc = retention_latest(&latest, &b, c, &so, err);
	if (rc == RETENTION_OK && !latest)
		rc = retention_fail(err, RETENTION_ENOTFOUND,
				    "no complete %sbackup of type %s and "
				    "database %s under prefix '%s'",
				    o->encrypted_only ? "encrypted " : "",
				    so.type ? so.type : "any",
				    so.database ? so.database : "any", prefix);
	else if (rc == RETENTION_OK && !(*key = strdup(latest->key)))
		rc = retention_fail(err, RETENTION_ENOMEM, "out of memory");
	retention_backups_dispose(&b);
	return rc;
}

int retention_resolve(char **key, s3_client *c, const char *prefix,
		      const char *target,
		      const struct retention_resolve_options *o,
		      struct retention_error *err)
{
	*key = NULL;
	if (strcmp(target, RETENTION_LATEST) == 0)
		return resolve_latest(key, c, prefix, o, err);
	return retention_resolve_key(key, prefix, target, err);
}
