/*
 * The object documents: the ListObjectsV2 answer, and DeleteObjects'
 * request and answer (Amazon S3 API Reference).
 */
#include "s3/xml.h"
#include "s3/xml_intern.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ListObjectsV2 ---- */

void s3xml_list_objects_dispose(struct s3xml_list_objects *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nobjects; i++) {
		free(l->objects[i].key);
		free(l->objects[i].etag);
	}
	free(l->objects);
	for (i = 0; i < l->nprefixes; i++)
		free(l->prefixes[i]);
	free(l->prefixes);
	free(l->next_continuation_token);
	memset(l, 0, sizeof(*l));
}

/* One <Contents> into O (left empty on failure). */
static int parse_object(struct s3_object *o, const xmlNode *n, bool url)
{
	int rc;

	memset(o, 0, sizeof(*o));
	rc = s3xml_child_key(&o->key, n, "Key", url, true);
	if (rc == S3XML_OK)
		rc = s3xml_child_time(&o->last_modified, n, "LastModified");
	if (rc == S3XML_OK)
		rc = s3xml_child_text(&o->etag, n, "ETag", true);
	if (rc == S3XML_OK)
		rc = s3xml_child_u64(&o->size, NULL, n, "Size", UINT64_MAX,
				     true);
	if (rc) {
		free(o->key);
		free(o->etag);
		memset(o, 0, sizeof(*o));
		return rc;
	}
	s3xml_unquote(o->etag);
	return S3XML_OK;
}

/* Every Prefix of one <CommonPrefixes> (radosgw has put several in one). */
static int parse_prefixes(struct s3xml_list_objects *l, size_t *cap,
			  const xmlNode *n, bool url)
{
	const xmlNode *c;
	size_t found = 0;
	int rc = S3XML_OK;

	for (c = n->children; c; c = c->next) {
		char **p;

		if (!s3xml_is(c, "Prefix"))
			continue;
		p = s3xml_grow(l->prefixes, cap, l->nprefixes,
			       sizeof(*l->prefixes), &rc);
		if (!p)
			return rc;
		l->prefixes = p;
		rc = s3xml_text(&p[l->nprefixes], c);
		if (rc == S3XML_OK && url)
			rc = s3xml_url_decode(p[l->nprefixes]);
		if (rc) {
			free(p[l->nprefixes]);
			return rc;
		}
		l->nprefixes++;
		found++;
	}
	return found ? S3XML_OK : S3XML_ESHAPE;
}

int s3xml_parse_list_objects_v2(const char *body, size_t len,
				struct s3xml_list_objects *out)
{
	struct s3xml_list_objects l = {0};
	size_t cap_objects = 0, cap_prefixes = 0;
	xmlDoc *doc = NULL;
	xmlNode *root, *n;
	bool url;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = s3xml_read(&doc, body, len);
	if (rc == S3XML_OK)
		rc = s3xml_root(&root, doc, "ListBucketResult");
	/* EncodingType may come after the keys: read it first. */
	if (rc == S3XML_OK)
		rc = s3xml_encoding(&url, root);
	if (rc == S3XML_OK)
		rc = s3xml_child_bool(&l.is_truncated, root, "IsTruncated",
				      true);
	if (rc == S3XML_OK)
		rc = s3xml_child_text(&l.next_continuation_token, root,
				      "NextContinuationToken", false);
	if (rc == S3XML_OK)
		rc = s3xml_child_u64(&l.key_count, NULL, root, "KeyCount",
				     UINT64_MAX, false);
	for (n = rc ? NULL : root->children; n && rc == S3XML_OK; n = n->next) {
		if (s3xml_is(n, "Contents")) {
			struct s3_object *o;

			o = s3xml_grow(l.objects, &cap_objects, l.nobjects,
				       sizeof(*l.objects), &rc);
			if (!o)
				break;
			l.objects = o;
			rc = parse_object(&o[l.nobjects], n, url);
			if (rc == S3XML_OK)
				l.nobjects++;
		} else if (s3xml_is(n, "CommonPrefixes")) {
			rc = parse_prefixes(&l, &cap_prefixes, n, url);
		}
	}
	if (rc == S3XML_OK) {
		*out = l;
		memset(&l, 0, sizeof(l));
	}
	s3xml_list_objects_dispose(&l);
	xmlFreeDoc(doc);
	return rc;
}

/* ---- DeleteObjects ---- */

void s3xml_delete_result_dispose(struct s3xml_delete_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->ndeleted; i++)
		free(r->deleted[i]);
	free(r->deleted);
	for (i = 0; i < r->nerrors; i++) {
		free(r->errors[i].key);
		free(r->errors[i].code);
		free(r->errors[i].message);
	}
	free(r->errors);
	memset(r, 0, sizeof(*r));
}

static int parse_delete_error(struct s3xml_delete_error *e, const xmlNode *n)
{
	int rc;

	memset(e, 0, sizeof(*e));
	rc = s3xml_child_text(&e->key, n, "Key", true);
	if (rc == S3XML_OK)
		rc = s3xml_child_text(&e->code, n, "Code", true);
	if (rc == S3XML_OK)
		rc = s3xml_child_text(&e->message, n, "Message", false);
	if (rc == S3XML_OK && !e->message)
		rc = s3xml_dup(&e->message, "");
	if (rc) {
		free(e->key);
		free(e->code);
		free(e->message);
		memset(e, 0, sizeof(*e));
	}
	return rc;
}

int s3xml_parse_delete_result(const char *body, size_t len,
			      struct s3xml_delete_result *out)
{
	struct s3xml_delete_result r = {0};
	size_t cap_deleted = 0, cap_errors = 0;
	xmlDoc *doc = NULL;
	xmlNode *root, *n;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = s3xml_read(&doc, body, len);
	if (rc == S3XML_OK)
		rc = s3xml_root(&root, doc, "DeleteResult");
	for (n = rc ? NULL : root->children; n && rc == S3XML_OK; n = n->next) {
		if (s3xml_is(n, "Deleted")) {
			char **d = s3xml_grow(r.deleted, &cap_deleted,
					      r.ndeleted, sizeof(*d), &rc);

			if (!d)
				break;
			r.deleted = d;
			rc = s3xml_child_text(&d[r.ndeleted], n, "Key", true);
			if (rc == S3XML_OK)
				r.ndeleted++;
		} else if (s3xml_is(n, "Error")) {
			struct s3xml_delete_error *e;

			e = s3xml_grow(r.errors, &cap_errors, r.nerrors,
				       sizeof(*e), &rc);
			if (!e)
				break;
			r.errors = e;
			rc = parse_delete_error(&e[r.nerrors], n);
			if (rc == S3XML_OK)
				r.nerrors++;
		}
	}
	if (rc == S3XML_OK) {
		*out = r;
		memset(&r, 0, sizeof(r));
	}
	s3xml_delete_result_dispose(&r);
	xmlFreeDoc(doc);
	return rc;
}

/* S3's longest key, in bytes of UTF-8 (User Guide, "Naming objects"). */
#define KEY_MAX 1024

int s3xml_build_delete(const char *const *keys, size_t n, bool quiet,
		       char **out)
{
	xmlDoc *doc = NULL;
	xmlNode *root, *object;
	size_t i;
	int rc;

	*out = NULL;
	if (!keys || n == 0 || n > S3XML_DELETE_MAX)
		return S3XML_EINVAL;
	for (i = 0; i < n; i++)
		if (!keys[i] || !keys[i][0] || !s3xml_text_ok(keys[i], KEY_MAX))
			return S3XML_EINVAL;
	rc = s3xml_new_doc(&doc, &root, "Delete");
	if (rc == S3XML_OK && quiet)
		rc = s3xml_add(NULL, root, "Quiet", "true");
	for (i = 0; i < n && rc == S3XML_OK; i++) {
		rc = s3xml_add(&object, root, "Object", NULL);
		if (rc == S3XML_OK)
			rc = s3xml_add(NULL, object, "Key", keys[i]);
	}
	if (rc == S3XML_OK)
		rc = s3xml_doc_string(out, doc);
	xmlFreeDoc(doc);
	return rc;
}
