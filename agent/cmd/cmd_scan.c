/*
 * cmd_scan: the scan list and status share.
 */
#include "agent/cmd/cmd_scan.h"

#include <string.h>

#include "agent/cmd/cmd.h"
#include "agent/ops/log.h"
#include "agent/repo/storage.h"

int cmd_scan_open(struct cmd_scan *s, const conf *c, const char *type,
		  const char *database)
{
	struct agent_error terr = {0};
	struct retention_error rerr;
	s3_error err;

	memset(s, 0, sizeof(*s));
	if (trust_init(&s->trust, c, false, &terr) != 0) {
		cli_errorf("%s", terr.msg);
		return EXIT_USAGE;
	}
	if (storage_open(&s->s3, c, &err) != S3_OK) {
		log_event(LOG_ERROR, "cannot reach storage", "error", err.msg,
			  NULL);
		return EXIT_FAILED;
	}
	trust_scan_options(&s->opts, &s->trust, s->s3, type, database, false);
	if (retention_scan(&s->backups, s->s3, c->storage.prefix, &s->opts,
			   &rerr) != RETENTION_OK) {
		log_event(LOG_ERROR, "cannot list backups", "bucket",
			  c->storage.bucket, "error", rerr.msg, NULL);
		return EXIT_FAILED;
	}
	trust_warn_future(&s->backups, &s->opts);
	return EXIT_OK;
}

void cmd_scan_dispose(struct cmd_scan *s)
{
	retention_backups_dispose(&s->backups);
	s3_client_free(s->s3);
	s->s3 = NULL;
	trust_dispose(&s->trust);
}
