/*
 * Presigned GET URLs: S3 query-parameter authentication (Amazon S3 API
 * Reference, "Authenticating Requests: Using Query Parameters (AWS
 * Signature Version 4)"). The URL is a bearer credential until it expires.
 */
#include "s3/s3_internal.h"

#include <stdlib.h>
#include <string.h>

int s3_presign_get(char **url, s3_client *c, const char *key,
		   const struct s3_presign_options *po, s3_error *err)
{
	struct sigv4_signer signer;
	struct sigv4_kv query[1];
	struct sigv4_kv host_header;
	struct sigv4_request r = {0};
	char *base = NULL, *path = NULL, *host = NULL, *q = NULL;
	char amz_date[17];
	time_t at;
	int rc;

	*url = NULL;
	memset(err, 0, sizeof(*err));
	if (!key || !*key) {
		s3_error_set(err, S3_EINVAL, "presign: no key");
		return S3_EINVAL;
	}
	if (po->expires < 1 || po->expires > SIGV4_PRESIGN_MAX_EXPIRES) {
		s3_error_set(err, S3_EINVAL,
			     "presign: expiry must be between 1 second and 7 "
			     "days (the SigV4 limit)");
		return S3_EINVAL;
	}
	if (c->use_imds && c->creds.expire &&
	    s3_now(c) > c->creds.expire - 300) {
		rc = s3_imds_fetch(c, err);
		if (rc)
			return rc;
	}
	at = po->at ? po->at : s3_now(c);
	if (sigv4_format_time(amz_date, NULL, at)) {
		s3_error_set(err, S3_EINVAL, "presign: time out of range");
		return S3_EINVAL;
	}
	rc = s3_build_target(&base, &path, &host, c, key, NULL);
	if (rc) {
		s3_error_set(err, rc, "presign: cannot build the URL of '%s'",
			     key);
		return rc;
	}
	s3_signer(&signer, c);
	host_header.name = "host";
	host_header.value = host;
	r.method = "GET";
	r.path = path;
	r.headers = &host_header;
	r.nheaders = 1;
	if (po->content_disposition) {
		query[0].name = "response-content-disposition";
		query[0].value = po->content_disposition;
		r.query = query;
		r.nquery = 1;
	}
	rc = sigv4_presign(&q, NULL, &signer, &r, amz_date, po->expires);
	if (rc) {
		rc = rc == SIGV4_ENOMEM ? S3_ENOMEM : S3_EINVAL;
		s3_error_set(err, rc, "presign: cannot sign '%s'", key);
		goto out;
	}
	if (asprintf(url, "%s://%s%s?%s", c->scheme, host, path, q) < 0) {
		*url = NULL;
		rc = S3_ENOMEM;
		s3_error_set(err, rc, "out of memory");
	}
out:
	sigv4_str_free(q);
	free(base);
	free(path);
	free(host);
	return rc;
}
