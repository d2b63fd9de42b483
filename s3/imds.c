/*
 * Credentials from the EC2 instance metadata service, version 2 (IMDSv2):
 *
 *   PUT /latest/api/token            (X-aws-ec2-metadata-token-ttl-seconds)
 *   GET /latest/meta-data/iam/security-credentials/        -> role name
 *   GET /latest/meta-data/iam/security-credentials/ROLE    -> JSON
 *
 * AWS EC2 User Guide, "Use the Instance Metadata Service to access
 * instance metadata" and "Retrieve security credentials from instance
 * metadata". The JSON answer is parsed with jansson.
 */
#include "s3/s3_internal.h"
#include "common/wipe.h"
#include "s3/xml.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#define IMDS_MAX_BODY (16 * 1024)
#define IMDS_ATTEMPTS 3

struct imds_buf {
	char data[IMDS_MAX_BODY + 1];
	size_t len;
	bool too_big;
};

static size_t imds_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct imds_buf *b = ud;
	size_t n = size * nmemb;

	if (n > IMDS_MAX_BODY - b->len) {
		b->too_big = true;
		return 0;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* One IMDS call; *STATUS is the HTTP status or 0. */
static int imds_call(struct imds_buf *b, long *status, s3_client *c,
		     const char *method, const char *path, const char *header)
{
	struct curl_slist *h = NULL;
	char *url = NULL;
	CURLcode cc;

	b->len = 0;
	b->data[0] = '\0';
	b->too_big = false;
	*status = 0;
	if (asprintf(&url, "%s%s", c->imds_endpoint, path) < 0)
		return S3_ENOMEM;
	if (header) {
		h = curl_slist_append(NULL, header);
		if (!h) {
			free(url);
			return S3_ENOMEM;
		}
	}
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, imds_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, b);
	cc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	if (h) {
		OPENSSL_cleanse(h->data, strlen(h->data));
		curl_slist_free_all(h);
	}
	free(url);
	if (b->too_big)
		return S3_EPROTO;
	return cc == CURLE_OK ? S3_OK : S3_ENET;
}

/* Take the credentials out of the role's JSON document. */
static int take_credentials(s3_client *c, const char *json, s3_error *err)
{
	json_error_t jerr;
	json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	const char *code, *ak, *sk, *tok, *exp;
	char *nak = NULL, *nsk = NULL, *ntok = NULL;
	time_t expire = 0;
	int rc = S3_EPROTO;

	if (!root || json_unpack(root, "{s:s, s:s, s:s, s:s, s:s}", "Code",
				 &code, "AccessKeyId", &ak, "SecretAccessKey",
				 &sk, "Token", &tok, "Expiration", &exp) != 0) {
		s3_error_set(err, rc,
			     "instance metadata: the role's credentials are "
			     "not the expected JSON document");
		goto out;
	}
	if (strcmp(code, "Success") != 0) {
		s3_error_set(err, S3_ECRED, "instance metadata: role says '%s'",
			     code);
		rc = S3_ECRED;
		goto out;
	}
	if (s3xml_parse_time(exp, &expire) != S3XML_OK || !*ak || !*sk) {
		s3_error_set(err, rc,
			     "instance metadata: bad credentials document");
		goto out;
	}
	nak = strdup(ak);
	nsk = strdup(sk);
	ntok = *tok ? strdup(tok) : NULL;
	if (!nak || !nsk || (*tok && !ntok)) {
		rc = S3_ENOMEM;
		s3_error_set(err, rc, "out of memory");
		goto out;
	}
	free(c->creds.access_key);
	wipe_free_str(c->creds.secret_key);
	wipe_free_str(c->creds.session_token);
	c->creds.access_key = nak;
	c->creds.secret_key = nsk;
	c->creds.session_token = ntok;
	c->creds.expire = expire;
	nak = nsk = ntok = NULL;
	rc = S3_OK;
out:
	/* jansson keeps the secret in its own strings: wipe them. */
	if (root) {
		json_t *v = json_object_get(root, "SecretAccessKey");
		json_t *t = json_object_get(root, "Token");
		if (json_is_string(v))
			OPENSSL_cleanse((char *)(uintptr_t)json_string_value(v),
					json_string_length(v));
		if (json_is_string(t))
			OPENSSL_cleanse((char *)(uintptr_t)json_string_value(t),
					json_string_length(t));
		json_decref(root);
	}
	/* Out of memory after one copy was made: the secrets are wiped. */
	free(nak);
	wipe_free_str(nsk);
	wipe_free_str(ntok);
	return rc;
}

static int fetch_once(s3_client *c, struct imds_buf *b, s3_error *err)
{
	char token_header[IMDS_MAX_BODY + 64];
	char path[512];
	char role[256];
	long status;
	size_t n;
	int rc;

	rc = imds_call(b, &status, c, "PUT", "/latest/api/token",
		       "X-aws-ec2-metadata-token-ttl-seconds: 21600");
	if (rc || status != 200 || b->len == 0) {
		s3_error_set(err, rc == S3_OK ? S3_ECRED : rc,
			     "instance metadata: no session token (HTTP %ld)",
			     status);
		return rc == S3_OK ? S3_ECRED : rc;
	}
	snprintf(token_header, sizeof(token_header),
		 "X-aws-ec2-metadata-token: %s", b->data);
	OPENSSL_cleanse(b->data, b->len);

	rc = imds_call(b, &status, c, "GET",
		       "/latest/meta-data/iam/security-credentials/",
		       token_header);
	if (rc || status != 200) {
		s3_error_set(err, rc == S3_OK ? S3_ECRED : rc,
			     "instance metadata: no IAM role (HTTP %ld)",
			     status);
		rc = rc == S3_OK ? S3_ECRED : rc;
		goto out;
	}
	n = strcspn(b->data, "\r\n");
	if (n == 0 || n >= sizeof(role) ||
	    strspn(b->data, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
			    "wxyz0123456789+=,.@_-") < n) {
		s3_error_set(err, S3_EPROTO,
			     "instance metadata: bad IAM role name");
		rc = S3_EPROTO;
		goto out;
	}
	memcpy(role, b->data, n);
	role[n] = '\0';
	snprintf(path, sizeof(path),
		 "/latest/meta-data/iam/security-credentials/%s", role);
	rc = imds_call(b, &status, c, "GET", path, token_header);
	if (rc || status != 200) {
		s3_error_set(err, rc == S3_OK ? S3_ECRED : rc,
			     "instance metadata: no credentials for role %s "
			     "(HTTP %ld)",
			     role, status);
		rc = rc == S3_OK ? S3_ECRED : rc;
		goto out;
	}
	rc = take_credentials(c, b->data, err);
	if (rc == S3_OK)
		s3_log(c, S3_LOG_INFO,
		       "credentials from instance metadata, role %s", role);
out:
	OPENSSL_cleanse(token_header, sizeof(token_header));
	OPENSSL_cleanse(b->data, b->len);
	return rc;
}

int s3_imds_fetch(s3_client *c, s3_error *err)
{
	struct imds_buf *b = malloc(sizeof(*b));
	int rc = S3_ENOMEM, i;

	if (!b) {
		s3_error_set(err, rc, "out of memory");
		return rc;
	}
	for (i = 0; i < IMDS_ATTEMPTS; i++) {
		rc = fetch_once(c, b, err);
		if (rc != S3_ENET)
			break;
	}
	wipe_free(b, sizeof(*b));
	return rc;
}
