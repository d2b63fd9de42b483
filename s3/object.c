/*
 * Object operations: PutObject, GetObject, HeadObject, DeleteObject,
 * DeleteObjects, ListObjectsV2.
 */
#include "s3/s3_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "s3/xml.h"

#define DELETE_BATCH  1000
#define LIST_BODY_MAX S3XML_MAX_BODY

void s3_object_info_dispose(struct s3_object_info *info)
{
	size_t i;

	if (!info)
		return;
	free(info->etag);
	free(info->content_type);
	for (i = 0; i < info->nmetadata * 2; i++)
		free(info->metadata[i]);
	free(info->metadata);
	memset(info, 0, sizeof(*info));
}

const char *s3_object_info_meta(const struct s3_object_info *info,
				const char *name)
{
	size_t i;

	for (i = 0; i < info->nmetadata; i++)
		if (strcmp(info->metadata[i * 2], name) == 0)
			return info->metadata[i * 2 + 1];
	return NULL;
}

/* Move what the answer's headers say into INFO. */
static void take_info(struct s3_object_info *info, struct s3_resp *resp)
{
	if (!info)
		return;
	memset(info, 0, sizeof(*info));
	info->size = resp->content_length;
	info->last_modified = resp->last_modified;
	info->etag = resp->etag;
	info->content_type = resp->content_type;
	info->metadata = resp->meta;
	info->nmetadata = resp->nmeta;
	resp->etag = resp->content_type = NULL;
	resp->meta = NULL;
	resp->nmeta = 0;
}

int s3_put_headers_init(struct s3_put_headers *h,
			const struct s3_put_options *po, s3_error *err)
{
	size_t i;

	memset(h, 0, sizeof(*h));
	if (!po)
		return S3_OK;
	if (po->content_type) {
		h->kv[h->n].name = "Content-Type";
		h->kv[h->n].value = po->content_type;
		h->n++;
	}
	if (po->nmetadata > S3_MAX_METADATA) {
		s3_error_set(err, S3_EINVAL, "too many metadata entries");
		return S3_EINVAL;
	}
	for (i = 0; i < po->nmetadata; i++) {
		const char *name = po->metadata[i * 2];
		size_t len = strlen(name);
		if (len == 0 || len > 64 ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
			    len) {
			s3_error_set(err, S3_EINVAL,
				     "metadata name '%s' must be lowercase "
				     "[a-z0-9-]",
				     name);
			return S3_EINVAL;
		}
		if (asprintf(&h->names[i], "x-amz-meta-%s", name) < 0) {
			h->names[i] = NULL;
			s3_error_set(err, S3_ENOMEM, "out of memory");
			return S3_ENOMEM;
		}
		h->kv[h->n].name = h->names[i];
		h->kv[h->n].value = po->metadata[i * 2 + 1];
		h->n++;
	}
	return S3_OK;
}

void s3_put_headers_dispose(struct s3_put_headers *h)
{
	size_t i;

	for (i = 0; i < S3_MAX_METADATA; i++)
		free(h->names[i]);
}

int s3_put_object(s3_client *c, const char *key, const void *body, size_t len,
		  const struct s3_put_options *po, s3_error *err)
{
	struct s3_put_headers ph;
	struct s3_req r = {0};
	struct s3_resp resp;
	char *what = s3_what("PUT", key);
	int rc;

	memset(err, 0, sizeof(*err));
	rc = s3_put_headers_init(&ph, po, err);
	if (rc == S3_OK && !what) {
		rc = S3_ENOMEM;
		s3_error_set(err, rc, "out of memory");
	}
	if (rc == S3_OK) {
		r.method = "PUT";
		r.key = key;
		r.headers = ph.kv;
		r.nheaders = ph.n;
		r.body = body ? body : "";
		r.body_len = len;
		rc = s3_request(c, &r, &resp, what, err);
		s3_resp_dispose(&resp);
	}
	s3_put_headers_dispose(&ph);
	free(what);
	return rc;
}

static int get_object(struct s3_object_info *info, s3_client *c,
		      const char *key, uint64_t offset, uint64_t length,
		      const char *if_match, s3_write_fn fn, void *ctx,
		      s3_error *err)
{
	struct s3_req r = {0};
	struct s3_resp resp;
	char *what = s3_what("GET", key);
	int rc;

	if (info)
		memset(info, 0, sizeof(*info));
	if (!what) {
		s3_error_set(err, S3_ENOMEM, "out of memory");
		return S3_ENOMEM;
	}
	r.method = "GET";
	r.key = key;
	r.ranged = offset > 0 || length > 0;
	r.range_offset = offset;
	r.range_length = length;
	r.sink = fn;
	r.sink_ctx = ctx;
	r.if_match = if_match;
	rc = s3_request(c, &r, &resp, what, err);
	if (rc == S3_OK)
		take_info(info, &resp);
	s3_resp_dispose(&resp);
	free(what);
	return rc;
}

int s3_get_object(struct s3_object_info *info, s3_client *c, const char *key,
		  uint64_t offset, uint64_t length, s3_write_fn fn, void *ctx,
		  s3_error *err)
{
	return get_object(info, c, key, offset, length, NULL, fn, ctx, err);
}

int s3_get_object_if_match(struct s3_object_info *info, s3_client *c,
			   const char *key, const char *etag, s3_write_fn fn,
			   void *ctx, s3_error *err)
{
	char *quoted = NULL;
	int rc;

	if (info)
		memset(info, 0, sizeof(*info));
	if (etag == NULL || etag[0] == '\0') {
		s3_error_set(err, S3_EINVAL, "GET %s: no ETag to match", key);
		return S3_EINVAL;
	}
	/* An entity tag is quoted on the wire; ours have their quotes
	 * stripped. */
	if (asprintf(&quoted, "\"%s\"", etag) < 0) {
		s3_error_set(err, S3_ENOMEM, "out of memory");
		return S3_ENOMEM;
	}
	rc = get_object(info, c, key, 0, 0, quoted, fn, ctx, err);
	free(quoted);
	return rc;
}

int s3_get_object_buf(char **out, size_t *len, s3_client *c, const char *key,
		      size_t cap, s3_error *err)
{
	struct s3_req r = {0};
	struct s3_resp resp;
	char *what = s3_what("GET", key);
	int rc;

	*out = NULL;
	*len = 0;
	if (!what) {
		s3_error_set(err, S3_ENOMEM, "out of memory");
		return S3_ENOMEM;
	}
	r.method = "GET";
	r.key = key;
	r.body_max = cap;
	rc = s3_request(c, &r, &resp, what, err);
	if (rc == S3_OK) {
		if (!resp.body.data) {
			resp.body.data = strdup("");
			if (!resp.body.data) {
				rc = S3_ENOMEM;
				s3_error_set(err, rc, "out of memory");
			}
		}
		*out = resp.body.data;
		*len = resp.body.len;
		resp.body.data = NULL;
	}
	s3_resp_dispose(&resp);
	free(what);
	return rc;
}

int s3_head_object(struct s3_object_info *info, s3_client *c, const char *key,
		   s3_error *err)
{
	struct s3_req r = {0};
	struct s3_resp resp;
	char *what = s3_what("HEAD", key);
	int rc;

	memset(info, 0, sizeof(*info));
	if (!what) {
		s3_error_set(err, S3_ENOMEM, "out of memory");
		return S3_ENOMEM;
	}
	r.method = "HEAD";
	r.key = key;
	r.head = true;
	rc = s3_request(c, &r, &resp, what, err);
	if (rc == S3_OK)
		take_info(info, &resp);
	s3_resp_dispose(&resp);
	free(what);
	return rc;
}

int s3_delete_object(s3_client *c, const char *key, s3_error *err)
{
	struct s3_req r = {0};
	struct s3_resp resp;
	char *what = s3_what("DELETE", key);
	int rc;

	if (!what) {
		s3_error_set(err, S3_ENOMEM, "out of memory");
		return S3_ENOMEM;
	}
	r.method = "DELETE";
	r.key = key;
	rc = s3_request(c, &r, &resp, what, err);
	s3_resp_dispose(&resp);
	free(what);
	return rc;
}

/* One DeleteObjects call, at most DELETE_BATCH keys. */
static int delete_batch(s3_client *c, const char *const *keys, size_t n,
			s3_error *err)
{
	static const struct sigv4_kv q[] = {{"delete", ""}};
	static const struct sigv4_kv ct[] = {
		{"Content-Type", "application/xml"}};
	struct s3xml_delete_result dr = {0};
	struct s3_req r = {0};
	struct s3_resp resp;
	char *body = NULL;
	int rc;

	rc = s3xml_build_delete(keys, n, true, &body);
	if (rc) {
		rc = s3_xml_error(err, rc, "DeleteObjects");
		return rc;
	}
	r.method = "POST";
	r.query = q;
	r.nquery = 1;
	r.headers = ct;
	r.nheaders = 1;
	r.body = body;
	r.body_len = strlen(body);
	r.content_md5 = true;
	r.body_max = LIST_BODY_MAX;
	rc = s3_request(c, &r, &resp, "DeleteObjects", err);
	if (rc == S3_OK) {
		rc = s3xml_parse_delete_result(resp.body.data ? resp.body.data
							      : "",
					       resp.body.len, &dr);
		if (rc) {
			rc = s3_xml_error(err, rc, "DeleteObjects");
		} else if (dr.nerrors > 0) {
			rc = S3_EHTTP;
			s3_error_set(err, rc,
				     "DeleteObjects: %zu of %zu keys not "
				     "deleted, first %s: %s %s",
				     dr.nerrors, n, dr.errors[0].key,
				     dr.errors[0].code, dr.errors[0].message);
			snprintf(err->s3_code, sizeof(err->s3_code), "%s",
				 dr.errors[0].code);
		}
	}
	s3xml_delete_result_dispose(&dr);
	s3_resp_dispose(&resp);
	free(body);
	return rc;
}

int s3_delete_objects(s3_client *c, const char *const *keys, size_t n,
		      s3_error *err)
{
	size_t i;
	int rc = S3_OK;

	memset(err, 0, sizeof(*err));
	for (i = 0; i < n && rc == S3_OK; i += DELETE_BATCH)
		rc = delete_batch(c, keys + i,
				  n - i < DELETE_BATCH ? n - i : DELETE_BATCH,
				  err);
	return rc;
}

/* ---- ListObjectsV2 ---- */

struct s3_list {
	s3_client *c;
	char *prefix;
	char *delimiter;
	char *token; /* continuation token; NULL before the first page */
	unsigned page_size;
	unsigned long pages; /* fetched so far */
	uint64_t keys;	     /* entries received so far */
	bool started;
	bool last_page;
	struct s3xml_list_objects page;
	size_t next_object;
	size_t next_prefix;
	struct s3_list_entry entry;
};

int s3_list_new(s3_list **out, s3_client *c, const char *prefix,
		const char *delimiter, s3_error *err)
{
	s3_list *it = calloc(1, sizeof(*it));

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (!it)
		goto nomem;
	it->c = c;
	it->prefix = strdup(prefix ? prefix : "");
	it->delimiter = delimiter ? strdup(delimiter) : NULL;
	if (!it->prefix || (delimiter && !it->delimiter))
		goto nomem;
	*out = it;
	return S3_OK;
nomem:
	s3_list_free(it);
	s3_error_set(err, S3_ENOMEM, "out of memory");
	return S3_ENOMEM;
}

void s3_list_set_page_size(s3_list *it, unsigned n)
{
	it->page_size = n;
}

static int list_fetch(s3_list *it, s3_error *err)
{
	struct sigv4_kv q[6];
	struct s3_req r = {0};
	struct s3_resp resp;
	char maxkeys[16];
	char *what = NULL;
	size_t nq = 0;
	int rc;

	s3xml_list_objects_dispose(&it->page);
	it->next_object = it->next_prefix = 0;
	q[nq++] = (struct sigv4_kv){"list-type", "2"};
	q[nq++] = (struct sigv4_kv){"prefix", it->prefix};
	/* Keys come back URL-encoded: a key may hold bytes XML 1.0 cannot. */
	q[nq++] = (struct sigv4_kv){"encoding-type", "url"};
	if (it->delimiter)
		q[nq++] = (struct sigv4_kv){"delimiter", it->delimiter};
	if (it->token)
		q[nq++] = (struct sigv4_kv){"continuation-token", it->token};
	if (it->page_size) {
		snprintf(maxkeys, sizeof(maxkeys), "%u", it->page_size);
		q[nq++] = (struct sigv4_kv){"max-keys", maxkeys};
	}
	if (asprintf(&what, "LIST %s", it->prefix) < 0) {
		s3_error_set(err, S3_ENOMEM, "out of memory");
		return S3_ENOMEM;
	}
	rc = s3_list_check_pages(it->c, it->pages, what, err);
	if (rc) {
		free(what);
		return rc;
	}
	it->pages++;
	r.method = "GET";
	r.query = q;
	r.nquery = nq;
	r.body_max = LIST_BODY_MAX;
	rc = s3_request(it->c, &r, &resp, what, err);
	if (rc == S3_OK) {
		rc = s3xml_parse_list_objects_v2(resp.body.data ? resp.body.data
								: "",
						 resp.body.len, &it->page);
		if (rc)
			rc = s3_xml_error(err, rc, what);
	}
	if (rc == S3_OK) {
		it->keys += it->page.nobjects + it->page.nprefixes;
		rc = s3_list_check_keys(it->c, it->keys, what, err);
	}
	if (rc == S3_OK) {
		const char *next = it->page.next_continuation_token;
		if (it->page.is_truncated && (!next || !*next)) {
			rc = S3_EPROTO;
			s3_error_set(err, rc,
				     "%s: a truncated listing without a "
				     "continuation token",
				     what);
		} else if (it->page.is_truncated && it->token &&
			   strcmp(next, it->token) == 0) {
			/* The same page again, and again: it would never end. */
			rc = S3_EPROTO;
			s3_error_set(err, rc,
				     "%s: the server repeated the continuation "
				     "token: stopped (a listing that would not "
				     "end)",
				     what);
		}
	}
	if (rc == S3_OK) {
		free(it->token);
		it->token = NULL;
		if (it->page.is_truncated) {
			it->token = strdup(it->page.next_continuation_token);
			if (!it->token) {
				rc = S3_ENOMEM;
				s3_error_set(err, rc, "out of memory");
			}
		}
		it->last_page = !it->page.is_truncated;
	}
	s3_resp_dispose(&resp);
	free(what);
	return rc;
}

int s3_list_next(const struct s3_list_entry **entry, s3_list *it, s3_error *err)
{
	int rc;

	*entry = NULL;
	memset(err, 0, sizeof(*err));
	for (;;) {
		if (it->started && it->next_object < it->page.nobjects) {
			const struct s3_object *o =
				&it->page.objects[it->next_object++];
			it->entry = (struct s3_list_entry){
				.key = o->key,
				.size = o->size,
				.last_modified = o->last_modified,
				.etag = o->etag,
			};
			*entry = &it->entry;
			return 1;
		}
		if (it->started && it->next_prefix < it->page.nprefixes) {
			it->entry = (struct s3_list_entry){
				.key = it->page.prefixes[it->next_prefix++],
				.is_prefix = true,
			};
			*entry = &it->entry;
			return 1;
		}
		if (it->started && it->last_page)
			return 0;
		rc = list_fetch(it, err);
		if (rc)
			return -rc;
		it->started = true;
	}
}

void s3_list_free(s3_list *it)
{
	if (!it)
		return;
	s3xml_list_objects_dispose(&it->page);
	free(it->prefix);
	free(it->delimiter);
	free(it->token);
	free(it);
}
