/*
 * Multipart upload: CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload, ListMultipartUploads,
 * ListParts (Amazon S3 API Reference).
 */
#include "s3/s3_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/xml.h"

#define MP_BODY_MAX S3XML_MAX_BODY

int s3_multipart_create(char **upload_id, s3_client *c, const char *key,
			const struct s3_put_options *po, s3_error *err)
{
	static const struct sigv4_kv q[] = {{"uploads", ""}};
	struct s3_put_headers ph;
	struct s3_req r = {0};
	struct s3_resp resp;
	char *what = s3_what("CreateMultipartUpload", key);
	int rc;

	*upload_id = NULL;
	memset(err, 0, sizeof(*err));
	rc = s3_put_headers_init(&ph, po, err);
	if (rc == S3_OK && !what) {
		rc = S3_ENOMEM;
		s3_error_set(err, rc, "out of memory");
	}
	if (rc == S3_OK) {
		r.method = "POST";
		r.key = key;
		r.query = q;
		r.nquery = 1;
		r.headers = ph.kv;
		r.nheaders = ph.n;
		r.body = "";
		r.body_max = MP_BODY_MAX;
		rc = s3_request(c, &r, &resp, what, err);
		if (rc == S3_OK) {
			rc = s3xml_parse_initiate_multipart(
				resp.body.data ? resp.body.data : "",
				resp.body.len, upload_id);
			if (rc)
				rc = s3_xml_error(err, rc, what);
		}
		s3_resp_dispose(&resp);
	}
	s3_put_headers_dispose(&ph);
	free(what);
	return rc;
}

int s3_multipart_upload_part(char **etag, s3_client *c, const char *key,
			     const char *upload_id, unsigned part_number,
			     const void *body, size_t len, s3_error *err)
{
	struct sigv4_kv q[2];
	struct s3_req r = {0};
	struct s3_resp resp;
	char num[16], *what = NULL;
	int rc;

	*etag = NULL;
	memset(err, 0, sizeof(*err));
	if (part_number < 1 || part_number > 10000) {
		s3_error_set(err, S3_EINVAL,
			     "part number %u is outside 1..10000", part_number);
		return S3_EINVAL;
	}
	snprintf(num, sizeof(num), "%u", part_number);
	if (asprintf(&what, "UploadPart %s part %u", key, part_number) < 0) {
		s3_error_set(err, S3_ENOMEM, "out of memory");
		return S3_ENOMEM;
	}
	q[0] = (struct sigv4_kv){"partNumber", num};
	q[1] = (struct sigv4_kv){"uploadId", upload_id};
	r.method = "PUT";
	r.key = key;
	r.query = q;
	r.nquery = 2;
	r.body = body ? body : "";
	r.body_len = len;
	rc = s3_request(c, &r, &resp, what, err);
	if (rc == S3_OK) {
		if (!resp.etag || !*resp.etag) {
			rc = S3_EPROTO;
			s3_error_set(err, rc, "%s: no ETag in the answer",
				     what);
		} else {
			*etag = resp.etag;
			resp.etag = NULL;
		}
	}
	s3_resp_dispose(&resp);
	free(what);
	return rc;
}

int s3_multipart_complete(s3_client *c, const char *key, const char *upload_id,
			  const struct s3_part *parts, size_t nparts,
			  s3_error *err)
{
	static const struct sigv4_kv ct[] = {
		{"Content-Type", "application/xml"}};
	struct sigv4_kv q[1] = {{"uploadId", upload_id}};
	struct s3xml_error xe = {0};
	struct s3_req r = {0};
	struct s3_resp resp;
	char *body = NULL, *what = s3_what("CompleteMultipartUpload", key);
	int rc;

	memset(err, 0, sizeof(*err));
	if (!what) {
		s3_error_set(err, S3_ENOMEM, "out of memory");
		return S3_ENOMEM;
	}
	rc = s3xml_build_complete_multipart(parts, nparts, &body);
	if (rc) {
		rc = s3_xml_error(err, rc, what);
		free(what);
		return rc;
	}
	r.method = "POST";
	r.key = key;
	r.query = q;
	r.nquery = 1;
	r.headers = ct;
	r.nheaders = 1;
	r.body = body;
	r.body_len = strlen(body);
	r.body_max = MP_BODY_MAX;
	rc = s3_request(c, &r, &resp, what, err);
	/*
	 * S3 may answer 200 and then report a failure in the body (API
	 * Reference, CompleteMultipartUpload: "a 200 OK response can contain
	 * valid or invalid XML"). Such an answer is a failure.
	 */
	if (rc == S3_OK) {
		rc = s3xml_parse_complete_multipart(
			resp.body.data ? resp.body.data : "", resp.body.len,
			&xe);
		if (rc == S3XML_EERRORDOC) {
			s3_error_set(err, S3_EHTTP,
				     "%s: HTTP 200 carrying an error: %s%s%s",
				     what, xe.code, xe.message[0] ? ": " : "",
				     xe.message);
			snprintf(err->s3_code, sizeof(err->s3_code), "%s",
				 xe.code);
			err->http_status = resp.status;
			rc = S3_EHTTP;
		} else if (rc) {
			rc = s3_xml_error(err, rc, what);
		}
	}
	s3_resp_dispose(&resp);
	free(body);
	free(what);
	return rc;
}

int s3_multipart_abort(s3_client *c, const char *key, const char *upload_id,
		       s3_error *err)
{
	struct sigv4_kv q[1] = {{"uploadId", upload_id}};
	struct s3_req r = {0};
	struct s3_resp resp;
	char *what = s3_what("AbortMultipartUpload", key);
	int rc;

	memset(err, 0, sizeof(*err));
	if (!what) {
		s3_error_set(err, S3_ENOMEM, "out of memory");
		return S3_ENOMEM;
	}
	r.method = "DELETE";
	r.key = key;
	r.query = q;
	r.nquery = 1;
	rc = s3_request(c, &r, &resp, what, err);
	s3_resp_dispose(&resp);
	free(what);
	return rc;
}

void s3_uploads_free(struct s3_upload *uploads, size_t n)
{
	size_t i;

	for (i = 0; uploads && i < n; i++) {
		free(uploads[i].key);
		free(uploads[i].upload_id);
	}
	free(uploads);
}

void s3_parts_free(struct s3_part *parts, size_t n)
{
	size_t i;

	for (i = 0; parts && i < n; i++)
		free(parts[i].etag);
	free(parts);
}

int s3_multipart_list(struct s3_upload **uploads, size_t *n, s3_client *c,
		      const char *prefix, s3_error *err)
{
	static const char what[] = "ListMultipartUploads";
	struct s3xml_list_uploads page = {0};
	struct s3_upload *all = NULL;
	size_t nall = 0;
	unsigned long pages = 0;
	/* S3 keys are at most 1024 bytes; upload ids are shorter. */
	char key_marker[1025] = "", id_marker[1025] = "";
	int rc = S3_OK;

	*uploads = NULL;
	*n = 0;
	memset(err, 0, sizeof(*err));
	for (;;) {
		struct sigv4_kv q[4];
		struct s3_req r = {0};
		struct s3_resp resp;
		size_t nq = 0, i;
		struct s3_upload *grown;
		const char *next_id;

		rc = s3_list_check_pages(c, pages++, what, err);
		if (rc)
			break;
		q[nq++] = (struct sigv4_kv){"uploads", ""};
		q[nq++] = (struct sigv4_kv){"prefix", prefix ? prefix : ""};
		if (key_marker[0])
			q[nq++] = (struct sigv4_kv){"key-marker", key_marker};
		if (id_marker[0])
			q[nq++] = (struct sigv4_kv){"upload-id-marker",
						    id_marker};
		r.method = "GET";
		r.query = q;
		r.nquery = nq;
		r.body_max = MP_BODY_MAX;
		rc = s3_request(c, &r, &resp, what, err);
		if (rc == S3_OK) {
			rc = s3xml_parse_list_multipart_uploads(
				resp.body.data ? resp.body.data : "",
				resp.body.len, &page);
			if (rc)
				rc = s3_xml_error(err, rc, what);
		}
		s3_resp_dispose(&resp);
		if (rc == S3_OK)
			rc = s3_list_check_keys(
				c, (uint64_t)nall + page.nuploads, what, err);
		if (rc)
			break;
		grown = realloc(all, (nall + page.nuploads + 1) * sizeof(*all));
		if (!grown) {
			rc = S3_ENOMEM;
			s3_error_set(err, rc, "out of memory");
			break;
		}
		all = grown;
		for (i = 0; i < page.nuploads; i++) {
			all[nall++] = page.uploads[i];
			memset(&page.uploads[i], 0, sizeof(page.uploads[i]));
		}
		if (!page.is_truncated)
			break;
		/* An empty key marker would start the listing over. */
		next_id = page.next_upload_id_marker
				  ? page.next_upload_id_marker
				  : "";
		if (!page.next_key_marker || !*page.next_key_marker ||
		    strlen(page.next_key_marker) >= sizeof(key_marker) ||
		    strlen(next_id) >= sizeof(id_marker)) {
			rc = S3_EPROTO;
			s3_error_set(err, rc,
				     "%s: truncated without a usable marker",
				     what);
			break;
		}
		if (strcmp(page.next_key_marker, key_marker) == 0 &&
		    strcmp(next_id, id_marker) == 0) {
			rc = S3_EPROTO;
			s3_error_set(err, rc,
				     "%s: the server repeated the markers: "
				     "stopped (a listing that would not end)",
				     what);
			break;
		}
		snprintf(key_marker, sizeof(key_marker), "%s",
			 page.next_key_marker);
		snprintf(id_marker, sizeof(id_marker), "%s", next_id);
		s3xml_list_uploads_dispose(&page);
	}
	s3xml_list_uploads_dispose(&page);
	if (rc) {
		s3_uploads_free(all, nall);
		return rc;
	}
	*uploads = all;
	*n = nall;
	return S3_OK;
}

int s3_multipart_list_parts(struct s3_part **parts, size_t *n, s3_client *c,
			    const char *key, const char *upload_id,
			    s3_error *err)
{
	struct s3xml_list_parts page = {0};
	struct s3_part *all = NULL;
	size_t nall = 0;
	char marker[16] = "";
	unsigned current = 0; /* the marker sent; 0: none */
	unsigned long pages = 0;
	char *what = s3_what("ListParts", key);
	int rc = S3_OK;

	*parts = NULL;
	*n = 0;
	memset(err, 0, sizeof(*err));
	if (!what) {
		s3_error_set(err, S3_ENOMEM, "out of memory");
		return S3_ENOMEM;
	}
	for (;;) {
		struct sigv4_kv q[2];
		struct s3_req r = {0};
		struct s3_resp resp;
		size_t nq = 0, i;
		struct s3_part *grown;

		rc = s3_list_check_pages(c, pages++, what, err);
		if (rc)
			break;
		q[nq++] = (struct sigv4_kv){"uploadId", upload_id};
		if (marker[0])
			q[nq++] =
				(struct sigv4_kv){"part-number-marker", marker};
		r.method = "GET";
		r.key = key;
		r.query = q;
		r.nquery = nq;
		r.body_max = MP_BODY_MAX;
		rc = s3_request(c, &r, &resp, what, err);
		if (rc == S3_OK) {
			rc = s3xml_parse_list_parts(
				resp.body.data ? resp.body.data : "",
				resp.body.len, &page);
			if (rc)
				rc = s3_xml_error(err, rc, what);
		}
		s3_resp_dispose(&resp);
		if (rc)
			break;
		if (nall + page.nparts > 10000) {
			rc = S3_EPROTO;
			s3_error_set(err, rc, "%s: more than 10000 parts",
				     what);
			break;
		}
		grown = realloc(all, (nall + page.nparts + 1) * sizeof(*all));
		if (!grown) {
			rc = S3_ENOMEM;
			s3_error_set(err, rc, "out of memory");
			break;
		}
		all = grown;
		for (i = 0; i < page.nparts; i++) {
			all[nall++] = page.parts[i];
			memset(&page.parts[i], 0, sizeof(page.parts[i]));
		}
		if (!page.is_truncated)
			break;
		if (page.next_part_number_marker == 0) {
			rc = S3_EPROTO;
			s3_error_set(err, rc, "%s: truncated without a marker",
				     what);
			break;
		}
		/* Parts come in ascending order: the marker only moves on. */
		if (page.next_part_number_marker <= current) {
			rc = S3_EPROTO;
			s3_error_set(
				err, rc,
				"%s: the part number marker did not move "
				"on (%u after %u): stopped (a listing that "
				"would not end)",
				what, page.next_part_number_marker, current);
			break;
		}
		current = page.next_part_number_marker;
		snprintf(marker, sizeof(marker), "%u", current);
		s3xml_list_parts_dispose(&page);
	}
	s3xml_list_parts_dispose(&page);
	free(what);
	if (rc) {
		s3_parts_free(all, nall);
		return rc;
	}
	*parts = all;
	*n = nall;
	return S3_OK;
}
