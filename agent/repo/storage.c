/*
 * The adapter from conf to s3_options. The s3 library reads no file and
 * no environment: everything it needs is decided here.
 */
#include "agent/repo/storage.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ops/log.h"
#include "agent/ops/stop.h"

static void s3_log_line(void *ctx, enum s3_log_level level, const char *line)
{
	static const enum log_level map[] = {
		[S3_LOG_ERROR] = LOG_ERROR,
		[S3_LOG_WARN] = LOG_WARN,
		[S3_LOG_INFO] = LOG_INFO,
		[S3_LOG_DEBUG] = LOG_DEBUG,
	};

	(void)ctx;
	log_event(map[level], line, NULL);
}

bool storage_in_clear(const conf *c)
{
	return s3_endpoint_in_clear(c->storage.endpoint);
}

int storage_init(struct storage *st, const conf *c, s3_error *err)
{
	s3_options o = S3_OPTIONS_INIT;
	conf_error cerr = {{0}};
	const char *off;

	memset(st, 0, sizeof(*st));
	memset(err, 0, sizeof(*err));
	if (storage_in_clear(c) && !c->storage.allow_http) {
		snprintf(err->msg, sizeof(err->msg),
			 "endpoint %s is plain http to a host that is not "
			 "loopback: " STORAGE_IN_CLEAR_RISK "; use https://, "
			 "or set allow_http = true in [storage] to accept that",
			 c->storage.endpoint);
		err->code = S3_EINVAL;
		return S3_EINVAL;
	}
	o.endpoint = c->storage.endpoint;
	o.allow_http = c->storage.allow_http;
	o.region = c->storage.region;
	o.bucket = c->storage.bucket;
	o.virtual_hosted = c->storage.addressing == CONF_ADDRESSING_VIRTUAL;
	o.access_key = c->storage.access_key;
	o.secret_key = c->storage.secret_key;
	o.session_token = c->storage.session_token;
	o.ca_file = c->storage.ca_file;
	o.log = s3_log_line;
	o.user_agent = "offsite/" OFFSITE_VERSION;

	if (!o.access_key || !o.secret_key) {
		if (conf_aws_profile_load(&st->profile, NULL, &cerr) !=
		    CONF_OK) {
			snprintf(err->msg, sizeof(err->msg), "%s", cerr.msg);
			err->code = S3_ECRED;
			return S3_ECRED;
		}
		o.access_key = o.secret_key = o.session_token = NULL;
		if (st->profile.access_key) {
			o.access_key = st->profile.access_key;
			o.secret_key = st->profile.secret_key;
			o.session_token = st->profile.session_token;
			log_event(LOG_DEBUG, "credentials from AWS profile",
				  "profile", st->profile.source, NULL);
		} else {
			/* Last in the chain: an EC2 instance's role, at the
			 * SDKs' standard endpoint variable, unless disabled. */
			off = getenv("AWS_EC2_METADATA_DISABLED");
			if (off && strcmp(off, "true") == 0) {
				snprintf(
					err->msg, sizeof(err->msg),
					"no credentials: set access_key and "
					"secret_key_file in [storage], the "
					"AWS_* environment, or an AWS profile");
				err->code = S3_ECRED;
				return S3_ECRED;
			}
			o.use_imds = true;
			o.imds_endpoint =
				getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
		}
	}
	st->o = o;
	return S3_OK;
}

void storage_dispose(struct storage *st)
{
	conf_aws_profile_dispose(&st->profile);
	memset(st, 0, sizeof(*st));
}

int storage_client(s3_client **out, struct storage *st,
		   bool (*cancelled)(void *ctx), void *cancelled_ctx,
		   s3_error *err)
{
	s3_options o = st->o;

	o.cancelled = cancelled ? cancelled : stop_cancelled;
	o.cancelled_ctx = cancelled ? cancelled_ctx : NULL;
	return s3_client_new(out, &o, err);
}

int storage_open(s3_client **out, const conf *c, s3_error *err)
{
	struct storage st;
	int rc;

	*out = NULL;
	rc = storage_init(&st, c, err);
	if (rc == S3_OK)
		rc = storage_client(out, &st, NULL, NULL, err);
	storage_dispose(&st);
	return rc;
}

int storage_error(struct agent_error *err, const s3_error *serr,
		  const char *fmt, ...)
{
	char context[AGENT_ERROR_MAX];
	int code = serr->code == S3_ENOMEM ? AGENT_ENOMEM : AGENT_EIO;
	va_list ap;

	if (fmt == NULL)
		return agent_fail(err, code, "%s", serr->msg);
	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	return agent_fail(err, code, "%s: %s", context, serr->msg);
}
