/*
 * Bucket operations: HeadBucket, CreateBucket, and the lifecycle
 * configuration (Get/Put/DeleteBucketLifecycleConfiguration).
 */
#include "s3/s3_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/xml.h"

#define LIFECYCLE_BODY_MAX (1024 * 1024)

static int simple(s3_client *c, const char *method, const struct sigv4_kv *q,
		  size_t nq, const char *what, s3_error *err)
{
	struct s3_req r = {0};
	struct s3_resp resp;
	int rc;

	r.method = method;
	r.query = q;
	r.nquery = nq;
	r.head = strcmp(method, "HEAD") == 0;
	rc = s3_request(c, &r, &resp, what, err);
	s3_resp_dispose(&resp);
	return rc;
}

int s3_create_bucket(s3_client *c, s3_error *err)
{
	struct s3_req r = {0};
	struct s3_resp resp;
	char what[128], *body = NULL;
	int rc;

	snprintf(what, sizeof(what), "CreateBucket %s", c->bucket);
	r.method = "PUT";
	/* Outside us-east-1, S3 wants the region named in the body. The
	 * region is [a-z0-9-_] (checked at s3_client_new): no escaping. */
	if (strcmp(c->region, "us-east-1") != 0) {
		if (asprintf(&body,
			     "<CreateBucketConfiguration xmlns=\"http://s3."
			     "amazonaws.com/doc/2006-03-01/\"><Location"
			     "Constraint>%s</LocationConstraint></CreateBucket"
			     "Configuration>",
			     c->region) < 0) {
			s3_error_set(err, S3_ENOMEM, "out of memory");
			return S3_ENOMEM;
		}
	}
	r.body = body ? body : "";
	r.body_len = body ? strlen(body) : 0;
	rc = s3_request(c, &r, &resp, what, err);
	s3_resp_dispose(&resp);
	free(body);
	return rc;
}

int s3_lifecycle_get(struct s3_lifecycle *lc, s3_client *c, s3_error *err)
{
	static const struct sigv4_kv q[] = {{"lifecycle", ""}};
	struct s3_req r = {0};
	struct s3_resp resp;
	int rc;

	memset(lc, 0, sizeof(*lc));
	r.method = "GET";
	r.query = q;
	r.nquery = 1;
	r.body_max = LIFECYCLE_BODY_MAX;
	rc = s3_request(c, &r, &resp, "GetBucketLifecycleConfiguration", err);
	if (rc == S3_ENOTFOUND && strcmp(err->s3_code, "NoSuchBucket") != 0) {
		/* NoSuchLifecycleConfiguration: a bucket with no rules. */
		memset(err, 0, sizeof(*err));
		rc = S3_OK;
	} else if (rc == S3_OK) {
		rc = s3xml_parse_lifecycle(resp.body.data ? resp.body.data : "",
					   resp.body.len, lc);
		if (rc)
			rc = s3_xml_error(err, rc,
					  "GetBucketLifecycleConfiguration");
	}
	s3_resp_dispose(&resp);
	return rc;
}

int s3_lifecycle_put(s3_client *c, const struct s3_lifecycle *lc, s3_error *err)
{
	static const struct sigv4_kv q[] = {{"lifecycle", ""}};
	static const struct sigv4_kv ct[] = {
		{"Content-Type", "application/xml"}};
	struct s3_req r = {0};
	struct s3_resp resp;
	char *body = NULL;
	int rc;

	memset(err, 0, sizeof(*err));
	rc = s3xml_build_lifecycle(lc, &body);
	if (rc)
		return s3_xml_error(err, rc, "PutBucketLifecycleConfiguration");
	r.method = "PUT";
	r.query = q;
	r.nquery = 1;
	r.headers = ct;
	r.nheaders = 1;
	r.body = body;
	r.body_len = strlen(body);
	/* Required by PutBucketLifecycleConfiguration. */
	r.content_md5 = true;
	rc = s3_request(c, &r, &resp, "PutBucketLifecycleConfiguration", err);
	s3_resp_dispose(&resp);
	free(body);
	return rc;
}

int s3_lifecycle_delete(s3_client *c, s3_error *err)
{
	static const struct sigv4_kv q[] = {{"lifecycle", ""}};

	memset(err, 0, sizeof(*err));
	return simple(c, "DELETE", q, 1, "DeleteBucketLifecycle", err);
}
