/*
 * storage: the one adapter from the configuration to the s3 library.
 */
#ifndef OFFSITE_AGENT_STORAGE_H
#define OFFSITE_AGENT_STORAGE_H

#include "agent/error.h"
#include "conf/conf.h"
#include "s3/s3.h"

/*
 * The s3 options of the configured bucket, resolved once. Credentials, in
 * order: the config and the AWS_* environment (already merged by conf),
 * then the profile of the AWS shared files (AWS_PROFILE or "default"),
 * then the EC2 instance metadata service (unless
 * AWS_EC2_METADATA_DISABLED=true). Logs go to the agent's log.
 */
struct storage {
	s3_options o;
	struct conf_aws_profile profile;
};

/*
 * Whether the configured endpoint is plain http to a host that is not
 * loopback (s3_endpoint_in_clear), and what that exposes, for messages.
 * storage_init refuses it unless [storage] allow_http is true.
 */
bool storage_in_clear(const conf *c);
#define STORAGE_IN_CLEAR_RISK                                                  \
	"requests are signed, but backups and their metadata travel in the "   \
	"clear and can be read or altered on the way"

int storage_init(struct storage *st, const conf *c, s3_error *err);
void storage_dispose(struct storage *st);

/*
 * A new client; CANCELLED as in s3_options. NULL means stop_cancelled()
 * (agent/stop.h): no client of a run is left deaf to a stop request.
 */
int storage_client(s3_client **out, struct storage *st,
		   bool (*cancelled)(void *ctx), void *cancelled_ctx,
		   s3_error *err);

/* storage_init + storage_client + storage_dispose, for one client
 * (cancelled by stop_cancelled()). */
int storage_open(s3_client **out, const conf *c, s3_error *err);

/*
 * The one place an s3 error becomes the agent's: ERR gets SERR's message
 * whole, after the context FMT formats and ": " when FMT is not NULL
 * ("cannot read the manifest: ..."). The code is AGENT_ENOMEM for
 * S3_ENOMEM, else AGENT_EIO: a caller that gives a 404, a stop or a bad
 * answer another meaning (a corrupt backup, a cancelled run) tests
 * SERR->code first and says so itself. Returns the code; the first error
 * wins, as with agent_fail().
 */
int storage_error(struct agent_error *err, const s3_error *serr,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
