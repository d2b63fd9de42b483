/*
 * Inside the s3 module: the client's state and the one request engine
 * every operation goes through. Not for callers outside s3/.
 */
#ifndef OFFSITE_S3_INTERNAL_H
#define OFFSITE_S3_INTERNAL_H

#include <curl/curl.h>

#include "common/buf.h"
#include "s3/s3.h"
#include "s3/sigv4.h"

struct s3_creds {
	char *access_key;
	char *secret_key; /* wiped on free */
	char *session_token;
	time_t expire; /* 0: not known */
};

struct s3_client {
	CURL *curl;
	char *scheme;	 /* "http" or "https" */
	char *host;	 /* host[:port] of the endpoint, default port dropped */
	char *base_path; /* the endpoint's path, "" or "/x" (no trailing '/') */
	char *region;
	char *bucket;
	bool virtual_hosted;

	struct s3_creds creds;
	bool use_imds;
	char *imds_endpoint;

	char *ca_file;
	long connect_timeout_ms;
	long stall_timeout_s;
	unsigned max_attempts;
	long retry_base_ms;
	long retry_max_ms;
	long retry_budget_ms;
	size_t max_error_body;

	time_t (*clock)(void *ctx);
	void *clock_ctx;
	void (*log)(void *ctx, enum s3_log_level level, const char *line);
	void *log_ctx;
	bool (*cancelled)(void *ctx);
	void *cancelled_ctx;
	/* s3_client_set_cleanup(): the cancel callback is ignored. */
	bool cleanup;
	long request_timeout_ms; /* 0: none */
	uint64_t max_list_keys;
	unsigned long max_list_pages;
	struct curl_slist *resolve;
	char *user_agent;

	struct sigv4_key_cache key_cache;
	long skew; /* seconds the server is ahead of our clock */
	bool skew_logged;
};

/* One request, as the operations describe it. */
struct s3_req {
	const char *method;
	const char *key; /* NULL: the bucket itself */
	const struct sigv4_kv *query;
	size_t nquery;
	const struct sigv4_kv *headers; /* sent and signed, beyond ours */
	size_t nheaders;
	const void *body;
	size_t body_len;
	bool content_md5; /* send Content-MD5 of the body */
	/* Range: bytes OFFSET..OFFSET+LENGTH-1 (LENGTH 0: to the end). */
	bool ranged;
	uint64_t range_offset;
	uint64_t range_length;
	/* A 2xx body goes to SINK when set, else into resp->body. */
	s3_write_fn sink;
	void *sink_ctx;
	/* If-Match on every attempt: only the object with this ETag. */
	const char *if_match;
	size_t body_max; /* cap of a kept 2xx body */
	bool head;	 /* HEAD: no body in the answer */
};

struct s3_resp {
	long status;
	struct buf body;  /* the 2xx body, when no sink */
	struct buf ebody; /* an error answer's body */
	char *etag;
	char *content_type;
	char *request_id;
	time_t date;
	time_t last_modified;
	uint64_t content_length;
	bool has_length;
	char **meta; /* name, value pairs of x-amz-meta-* */
	size_t nmeta;
	uint64_t delivered; /* bytes handed to the sink, all attempts */
	bool sink_stopped;
	bool not_matched; /* a 2xx answer whose ETag is not R's if_match */
	bool too_big;
	bool cancelled;
};

void s3_resp_dispose(struct s3_resp *resp);

/*
 * Send R, signed, with retries: transport errors, 500, 502, 503, 504,
 * 429, RequestTimeout, SlowDown, InternalError; RequestTimeTooSkewed after
 * correcting the clock. A streamed GET that breaks mid-body resumes where
 * it stopped. Returns S3_OK for a 2xx answer; otherwise ERR says why (its
 * message begins with WHAT, e.g. "PUT daily/app/x.sql.gz").
 */
int s3_request(s3_client *c, const struct s3_req *r, struct s3_resp *resp,
	       const char *what, s3_error *err);

/* Whether the caller asked to stop (never in cleanup mode). */
bool s3_cancelled(const s3_client *c);

/*
 * The caps of a listing (s3_options.max_list_keys, max_list_pages): about
 * to fetch page PAGES + 1, or having received KEYS entries. S3_OK, or
 * S3_EPROTO with ERR set ("WHAT: more than N ...").
 */
int s3_list_check_pages(const s3_client *c, unsigned long pages,
			const char *what, s3_error *err);
int s3_list_check_keys(const s3_client *c, uint64_t keys, const char *what,
		       s3_error *err);

/* Set ERR: code, then a printf-style message, redacted. */
void s3_error_set(s3_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Log through the caller's callback, redacted. */
void s3_log(const s3_client *c, enum s3_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "OP KEY" for messages (a new string), or NULL when out of memory. */
char *s3_what(const char *op, const char *key);

/* The client's clock: the caller's, plus what we learned of the skew. */
time_t s3_now(const s3_client *c);

/*
 * The URL, canonical path and Host of KEY (NULL: the bucket) with the
 * encoded QUERY (may be NULL), for the client's addressing style.
 */
int s3_build_target(char **url, char **path, char **host, s3_client *c,
		    const char *key, const char *query);

/* The signer of the client's current credentials. */
void s3_signer(struct sigv4_signer *s, s3_client *c);

/* Encode KEY for a URL path: each '/'-separated segment once. */
int s3_encode_key(char **out, const char *key);

/* Headers of PutObject and CreateMultipartUpload: type and metadata. */
#define S3_MAX_METADATA 32
struct s3_put_headers {
	struct sigv4_kv kv[S3_MAX_METADATA + 2];
	char *names[S3_MAX_METADATA];
	size_t n;
};
int s3_put_headers_init(struct s3_put_headers *h,
			const struct s3_put_options *po, s3_error *err);
void s3_put_headers_dispose(struct s3_put_headers *h);

/* IMDSv2 (s3/imds.c): fetch role credentials into C->creds. */
int s3_imds_fetch(s3_client *c, s3_error *err);

/* Translate an s3xml code into ERR, in one place. */
int s3_xml_error(s3_error *err, int xml_code, const char *what);

/*
 * Operations the agent does not use, kept for the tests that drive a
 * server through the library (bucket set-up, checks of what was stored).
 */
int s3_create_bucket(s3_client *c, s3_error *err);
/* Delete KEYS in batches of 1000; the first key that failed is named. */
int s3_delete_objects(s3_client *c, const char *const *keys, size_t n,
		      s3_error *err);
/* The value of x-amz-meta-NAME, or NULL. */
const char *s3_object_info_meta(const struct s3_object_info *info,
				const char *name);
/* Every part uploaded so far; free with s3_parts_free. A part number
 * marker that does not move forward is S3_EPROTO. */
int s3_multipart_list_parts(struct s3_part **parts, size_t *n, s3_client *c,
			    const char *key, const char *upload_id,
			    s3_error *err);
void s3_parts_free(struct s3_part *parts, size_t n);

#endif
