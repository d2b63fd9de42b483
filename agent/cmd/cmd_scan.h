/*
 * cmd_scan: what the commands that read the whole bucket start with (list,
 * status): the trust rules of the configuration, a client, and the
 * backups of a type and a database judged by those rules, with the ones
 * dated in the future passed over with a warning.
 */
#ifndef OFFSITE_AGENT_CMD_SCAN_H
#define OFFSITE_AGENT_CMD_SCAN_H

#include "agent/ops/trust.h"
#include "conf/conf.h"
#include "retention/retention.h"
#include "s3/s3.h"

struct cmd_scan {
	struct trust trust;
	s3_client *s3;
	struct retention_scan_options opts; /* opts.now: the scan's time */
	struct retention_backups backups;
};

/* Scan the backups of TYPE and DATABASE (NULL: any) into S. Returns
 * EXIT_OK, or the exit status after saying why (a key that does not
 * load: EXIT_USAGE; no storage or no listing: EXIT_FAILED). Dispose of S
 * with cmd_scan_dispose() either way. */
int cmd_scan_open(struct cmd_scan *s, const conf *c, const char *type,
		  const char *database);
void cmd_scan_dispose(struct cmd_scan *s);

#endif
