/*
 * The multipart upload documents: the answers of CreateMultipartUpload,
 * CompleteMultipartUpload, ListMultipartUploads and ListParts, and
 * CompleteMultipartUpload's request (Amazon S3 API Reference).
 */
#include "s3/xml.h"
#include "s3/xml_intern.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- multipart upload ---- */

int s3xml_parse_initiate_multipart(const char *body, size_t len,
				   char **upload_id)
{
	xmlDoc *doc = NULL;
	xmlNode *root;
	int rc;

	*upload_id = NULL;
	rc = s3xml_read(&doc, body, len);
	if (rc == S3XML_OK)
		rc = s3xml_root(&root, doc, "InitiateMultipartUploadResult");
	if (rc == S3XML_OK)
		rc = s3xml_child_text(upload_id, root, "UploadId", true);
	if (rc == S3XML_OK && !**upload_id)
		rc = S3XML_ESHAPE;
	if (rc) {
		free(*upload_id);
		*upload_id = NULL;
	}
	xmlFreeDoc(doc);
	return rc;
}

int s3xml_parse_complete_multipart(const char *body, size_t len,
				   struct s3xml_error *err)
{
	xmlDoc *doc = NULL;
	xmlNode *root;
	int rc;

	if (err)
		memset(err, 0, sizeof(*err));
	rc = s3xml_read(&doc, body, len);
	if (rc == S3XML_OK)
		rc = s3xml_root(&root, doc, "CompleteMultipartUploadResult");
	if (rc == S3XML_EERRORDOC && err) {
		struct s3xml_error e;

		/* An Error without a Code is still a failure. */
		int frc = s3xml_fill_error(&e, root);

		if (frc == S3XML_ENOMEM)
			rc = frc;
		else
			*err = e;
	} else if (rc == S3XML_OK && !s3xml_child(root, "ETag")) {
		/* Present, but it may be empty (radosgw). */
		rc = S3XML_ESHAPE;
	}
	xmlFreeDoc(doc);
	return rc;
}

void s3xml_list_uploads_dispose(struct s3xml_list_uploads *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nuploads; i++) {
		free(l->uploads[i].key);
		free(l->uploads[i].upload_id);
	}
	free(l->uploads);
	free(l->next_key_marker);
	free(l->next_upload_id_marker);
	memset(l, 0, sizeof(*l));
}

static int parse_upload(struct s3_upload *u, const xmlNode *n, bool url)
{
	int rc;

	memset(u, 0, sizeof(*u));
	rc = s3xml_child_key(&u->key, n, "Key", url, true);
	if (rc == S3XML_OK)
		rc = s3xml_child_text(&u->upload_id, n, "UploadId", true);
	if (rc == S3XML_OK && !*u->upload_id)
		rc = S3XML_ESHAPE;
	if (rc == S3XML_OK)
		rc = s3xml_child_time(&u->initiated, n, "Initiated");
	if (rc) {
		free(u->key);
		free(u->upload_id);
		memset(u, 0, sizeof(*u));
	}
	return rc;
}

int s3xml_parse_list_multipart_uploads(const char *body, size_t len,
				       struct s3xml_list_uploads *out)
{
	struct s3xml_list_uploads l = {0};
	size_t cap = 0;
	xmlDoc *doc = NULL;
	xmlNode *root, *n;
	bool url;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = s3xml_read(&doc, body, len);
	if (rc == S3XML_OK)
		rc = s3xml_root(&root, doc, "ListMultipartUploadsResult");
	if (rc == S3XML_OK)
		rc = s3xml_encoding(&url, root);
	if (rc == S3XML_OK)
		rc = s3xml_child_bool(&l.is_truncated, root, "IsTruncated",
				      true);
	if (rc == S3XML_OK)
		rc = s3xml_child_key(&l.next_key_marker, root, "NextKeyMarker",
				     url, false);
	if (rc == S3XML_OK)
		rc = s3xml_child_text(&l.next_upload_id_marker, root,
				      "NextUploadIdMarker", false);
	for (n = rc ? NULL : root->children; n && rc == S3XML_OK; n = n->next) {
		struct s3_upload *u;

		if (!s3xml_is(n, "Upload"))
			continue;
		u = s3xml_grow(l.uploads, &cap, l.nuploads, sizeof(*u), &rc);
		if (!u)
			break;
		l.uploads = u;
		rc = parse_upload(&u[l.nuploads], n, url);
		if (rc == S3XML_OK)
			l.nuploads++;
	}
	if (rc == S3XML_OK) {
		*out = l;
		memset(&l, 0, sizeof(l));
	}
	s3xml_list_uploads_dispose(&l);
	xmlFreeDoc(doc);
	return rc;
}

void s3xml_list_parts_dispose(struct s3xml_list_parts *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nparts; i++)
		free(l->parts[i].etag);
	free(l->parts);
	memset(l, 0, sizeof(*l));
}

/* Part numbers run 1..10000 (API Reference, UploadPart). */
#define PART_MAX 10000

static int parse_part(struct s3_part *p, const xmlNode *n)
{
	uint64_t number;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = s3xml_child_u64(&number, NULL, n, "PartNumber", PART_MAX, true);
	if (rc == S3XML_OK && number == 0)
		rc = S3XML_ESHAPE;
	if (rc == S3XML_OK)
		rc = s3xml_child_text(&p->etag, n, "ETag", true);
	if (rc == S3XML_OK)
		rc = s3xml_child_u64(&p->size, NULL, n, "Size", UINT64_MAX,
				     true);
	if (rc) {
		free(p->etag);
		memset(p, 0, sizeof(*p));
		return rc;
	}
	p->number = (unsigned)number;
	s3xml_unquote(p->etag);
	return S3XML_OK;
}

int s3xml_parse_list_parts(const char *body, size_t len,
			   struct s3xml_list_parts *out)
{
	struct s3xml_list_parts l = {0};
	uint64_t marker = 0;
	size_t cap = 0;
	xmlDoc *doc = NULL;
	xmlNode *root, *n;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = s3xml_read(&doc, body, len);
	if (rc == S3XML_OK)
		rc = s3xml_root(&root, doc, "ListPartsResult");
	if (rc == S3XML_OK)
		rc = s3xml_child_bool(&l.is_truncated, root, "IsTruncated",
				      true);
	/* radosgw sends NextPartNumberMarker on every page. */
	if (rc == S3XML_OK)
		rc = s3xml_child_u64(&marker, NULL, root,
				     "NextPartNumberMarker", PART_MAX, false);
	l.next_part_number_marker = (unsigned)marker;
	for (n = rc ? NULL : root->children; n && rc == S3XML_OK; n = n->next) {
		struct s3_part *p;

		if (!s3xml_is(n, "Part"))
			continue;
		p = s3xml_grow(l.parts, &cap, l.nparts, sizeof(*p), &rc);
		if (!p)
			break;
		l.parts = p;
		rc = parse_part(&p[l.nparts], n);
		if (rc == S3XML_OK)
			l.nparts++;
	}
	if (rc == S3XML_OK) {
		*out = l;
		memset(&l, 0, sizeof(l));
	}
	s3xml_list_parts_dispose(&l);
	xmlFreeDoc(doc);
	return rc;
}

int s3xml_build_complete_multipart(const struct s3_part *parts, size_t n,
				   char **out)
{
	xmlDoc *doc = NULL;
	xmlNode *root, *part;
	size_t i;
	int rc;

	*out = NULL;
	if (!parts || n == 0 || n > PART_MAX)
		return S3XML_EINVAL;
	for (i = 0; i < n; i++) {
		if (parts[i].number < 1 || parts[i].number > PART_MAX ||
		    (i > 0 && parts[i].number <= parts[i - 1].number) ||
		    !parts[i].etag || !parts[i].etag[0] ||
		    !s3xml_text_ok(parts[i].etag, 1024))
			return S3XML_EINVAL;
	}
	rc = s3xml_new_doc(&doc, &root, "CompleteMultipartUpload");
	for (i = 0; i < n && rc == S3XML_OK; i++) {
		const char *etag = parts[i].etag;
		size_t elen = strlen(etag);
		char num[16], *quoted;

		snprintf(num, sizeof(num), "%u", parts[i].number);
		/* S3 lists ETags quoted; we strip the quotes, so add them. */
		quoted = malloc(elen + 3);
		if (!quoted) {
			rc = S3XML_ENOMEM;
			break;
		}
		if (elen >= 2 && etag[0] == '"' && etag[elen - 1] == '"')
			memcpy(quoted, etag, elen + 1);
		else
			snprintf(quoted, elen + 3, "\"%s\"", etag);
		rc = s3xml_add(&part, root, "Part", NULL);
		if (rc == S3XML_OK)
			rc = s3xml_add(NULL, part, "PartNumber", num);
		if (rc == S3XML_OK)
			rc = s3xml_add(NULL, part, "ETag", quoted);
		free(quoted);
	}
	if (rc == S3XML_OK)
		rc = s3xml_doc_string(out, doc);
	xmlFreeDoc(doc);
	return rc;
}
