/*
 * s3: a self-contained S3 client library.
 *
 * It never reads the offsite configuration and knows nothing of backups:
 * callers fill an options struct. Depends on libcurl, OpenSSL and libxml2,
 * and of ours on common/ only.
 */
#ifndef OFFSITE_S3_H
#define OFFSITE_S3_H

#include <stddef.h>

/* ---- data types ---- */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* One entry of a ListObjectsV2 page. */
struct s3_object {
	char *key;
	uint64_t size;
	time_t last_modified; /* UTC, from "2026-11-23T09:30:05.000Z" */
	char *etag;	      /* quotes stripped; may be "" */
};

/* One in-progress multipart upload. */
struct s3_upload {
	char *key;
	char *upload_id;
	time_t initiated; /* UTC */
};

/* A part: sent (number, etag) or listed (number, etag, size). */
struct s3_part {
	unsigned number; /* 1..10000 */
	char *etag;	 /* quotes stripped */
	uint64_t size;
};

/*
 * One lifecycle rule. Rules read from the server always carry RAW, the
 * <Rule> element exactly as received; the other fields are filled where
 * the rule has their simple form. A rule that is not ours is written back
 * from RAW, untouched; a rule we build has RAW NULL and is written from
 * the fields (PutBucketLifecycleConfiguration: ID, Filter/Prefix, Status,
 * Expiration/Days, AbortIncompleteMultipartUpload/DaysAfterInitiation).
 */
struct s3_lifecycle_rule {
	char *id;     /* NULL when the rule has none */
	char *prefix; /* Filter/Prefix, or the legacy top-level Prefix; "" for
			 an empty Filter (the whole bucket); NULL when the rule
			 filters otherwise (tags, And, object size) */
	bool enabled;
	unsigned expiration_days;	/* Expiration/Days; 0: none */
	unsigned abort_incomplete_days; /* DaysAfterInitiation; 0: none */
	char *raw; /* the <Rule> element as received; NULL for rules we build */
};

struct s3_lifecycle {
	struct s3_lifecycle_rule *rules;
	size_t nrules;
};

/* Free every rule and its strings (free()), leaving LC empty; NULL is fine. */
void s3_lifecycle_dispose(struct s3_lifecycle *lc);

/* ---- the client ---- */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct s3_part;
struct s3_upload;
struct s3_lifecycle;

/*
 * Errors. Every fallible function returns S3_OK (0) or one of these codes
 * and fills the caller's s3_error: the message is set once, where the error
 * happens, already redacted, one line: what failed, on what, and why.
 */
enum s3_code {
	S3_OK = 0,
	S3_EINVAL, /* a bad argument or option */
	S3_ENOMEM,
	S3_ENET,  /* no usable answer: connect, TLS, reset, stall (retried) */
	S3_EHTTP, /* the server said no: see http_status and s3_code */
	S3_ENOTFOUND, /* 404: no such key, bucket, upload or configuration */
	S3_EPROTO,    /* an answer we cannot use: bad XML, 200 with an Error */
	S3_EABORTED,  /* the caller's callback asked to stop */
	S3_ECRED,     /* no credentials could be had */
};

#define S3_ERROR_MSG_MAX 1024

typedef struct s3_error {
	int code;	      /* enum s3_code */
	long http_status;     /* 0 when the server never answered */
	char s3_code[64];     /* "NoSuchKey", "SlowDown"...; "" if none */
	char request_id[128]; /* the server's, for its operators */
	char msg[S3_ERROR_MSG_MAX];
} s3_error;

/* Log levels of the log callback. */
enum s3_log_level { S3_LOG_ERROR, S3_LOG_WARN, S3_LOG_INFO, S3_LOG_DEBUG };

/*
 * Everything the client needs; the library reads no file and no
 * environment. Strings are copied by s3_client_new (secrets are wiped
 * when the client is freed). Start from S3_OPTIONS_INIT.
 */
typedef struct s3_options {
	const char *endpoint; /* "https://host[:port]"; NULL: AWS for region */
	/* Accept an http:// endpoint on a host that is not loopback (see
	 * s3_endpoint_in_clear); refused without it. */
	bool allow_http;
	const char *region;
	const char *bucket;
	bool virtual_hosted; /* bucket.host/key instead of host/bucket/key */

	const char *access_key;
	const char *secret_key;
	const char *session_token; /* NULL for long-term keys */
	time_t credentials_expire; /* 0: not known */
	/* With no access key: ask the EC2 instance metadata service
	 * (IMDSv2), and refresh before the credentials expire. */
	bool use_imds;
	const char *imds_endpoint; /* default "http://169.254.169.254" */

	const char *ca_file;	 /* NULL: the system's CA store */
	long connect_timeout_ms; /* per connection attempt */
	long stall_timeout_s; /* a transfer that moves no byte this long fails */
	unsigned max_attempts; /* per request, the first included */
	long retry_base_ms;    /* backoff: full jitter in [0, base * 2^n] */
	long retry_max_ms;     /* ... capped at this per wait */
	long retry_budget_ms;  /* all waits of one request together */
	/* One request, every attempt and wait included, ends within this;
	 * 0: bounded only by the attempts, the retry budget and the stall
	 * timeout. */
	long request_timeout_ms;
	size_t max_error_body; /* bytes of an error answer kept for parsing */
	/* Listings (s3_list_next, s3_multipart_list, s3_multipart_list_parts)
	 * stop with S3_EPROTO past this many keys (objects, prefixes or
	 * uploads) or pages, so that a server that never ends a listing can
	 * neither hold nor fill the process; 0: S3_LIST_MAX_KEYS and
	 * S3_LIST_MAX_PAGES. Tests lower them. */
	uint64_t max_list_keys;
	unsigned long max_list_pages;

	/* The clock (tests pin it); NULL: time(). */
	time_t (*clock)(void *ctx);
	void *clock_ctx;
	/* Log lines (already redacted); NULL: silent. */
	void (*log)(void *ctx, enum s3_log_level level, const char *line);
	void *log_ctx;
	/* Polled before each attempt, during transfers (about once a
	 * second when nothing moves) and during the waits between retries:
	 * true stops the request at once (S3_EABORTED, no retry), so a
	 * signal does not wait out a stalled server. NULL: never. */
	bool (*cancelled)(void *ctx);
	void *cancelled_ctx;
	/* CURLOPT_RESOLVE entries "host:port:address", NULL-terminated. */
	const char *const *resolve;
	const char *user_agent;
} s3_options;

/* Far beyond any real prefix of backups, still a bounded amount of memory
 * for a caller that keeps every key. */
#define S3_LIST_MAX_KEYS  10000000ULL
#define S3_LIST_MAX_PAGES 100000UL

#define S3_OPTIONS_INIT                                                        \
	{                                                                      \
		.region = "us-east-1", .connect_timeout_ms = 10000,            \
		.stall_timeout_s = 60, .max_attempts = 6,                      \
		.retry_base_ms = 250, .retry_max_ms = 20000,                   \
		.retry_budget_ms = 120000, .max_error_body = 64 * 1024,        \
	}

/*
 * Whether ENDPOINT ("scheme://host[:port][/path]") would carry requests in
 * the clear to another machine: http:// (any case) to a host other than
 * 127.0.0.0/8, ::1 or localhost. Signing keeps the credentials, but not
 * the data and metadata, from whoever is on the path: they can be read
 * and altered. s3_client_new refuses such an endpoint unless allow_http.
 */
bool s3_endpoint_in_clear(const char *endpoint);

/*
 * One client is one connection (one libcurl easy handle, kept alive) and
 * is not thread-safe: a thread that uploads in parallel has its own.
 */
typedef struct s3_client s3_client;

int s3_client_new(s3_client **out, const s3_options *o, s3_error *err);
void s3_client_free(s3_client *c); /* NULL is fine */

/*
 * What a stopped caller still owes the server (AbortMultipartUpload,
 * deleting an object that must not stay) has to go out after the cancel,
 * and must not hang: from this call on C ignores its cancel callback, and
 * each request ends within TIMEOUT_MS (> 0), every attempt and wait
 * included. There is no way back. Call it between requests, on the
 * thread that uses C.
 */
void s3_client_set_cleanup(s3_client *c, long timeout_ms);

/* Seconds the server's clock is ahead of ours, as learned so far. */
long s3_client_skew(const s3_client *c);

/* Credentials in use and when they expire (0: not known). */
time_t s3_client_credentials_expire(const s3_client *c);

/* Object operations. */

struct s3_put_options {
	const char *content_type;
	/* x-amz-meta-NAME: NAME, value pairs; NAME lowercase [a-z0-9-]. */
	const char *const *metadata;
	size_t nmetadata; /* pairs */
};

struct s3_object_info {
	uint64_t size;
	time_t last_modified;
	char *etag; /* quotes stripped */
	char *content_type;
	char **metadata;  /* name, value, name, value...: x-amz-meta-NAME */
	size_t nmetadata; /* pairs */
};
void s3_object_info_dispose(struct s3_object_info *info);

int s3_put_object(s3_client *c, const char *key, const void *body, size_t len,
		  const struct s3_put_options *po, s3_error *err);

/*
 * Stream an object (or the range OFFSET..OFFSET+LENGTH-1; LENGTH 0 = to
 * the end) to FN, which returns 0 to go on. A connection lost mid-body is
 * resumed where it stopped (Range + If-Match on the ETag), so FN sees every
 * byte once. INFO (may be NULL) receives the object's headers.
 */
typedef int (*s3_write_fn)(void *ctx, const void *data, size_t len);
int s3_get_object(struct s3_object_info *info, s3_client *c, const char *key,
		  uint64_t offset, uint64_t length, s3_write_fn fn, void *ctx,
		  s3_error *err);

/*
 * s3_get_object of the whole object, only as long as its ETag is ETAG
 * (If-Match on every attempt, RFC 9110 13.1.1): a pass pinned to the
 * object an earlier HEAD or GET saw. An object replaced since is
 * S3_EHTTP with http_status 412 (PreconditionFailed), before any byte
 * reaches FN; so is an answer that ignores If-Match but names another
 * ETag (or none). S3_EINVAL for an empty ETAG.
 */
int s3_get_object_if_match(struct s3_object_info *info, s3_client *c,
			   const char *key, const char *etag, s3_write_fn fn,
			   void *ctx, s3_error *err);

/* A small object whole into memory: S3_EPROTO past CAP bytes. */
int s3_get_object_buf(char **out, size_t *len, s3_client *c, const char *key,
		      size_t cap, s3_error *err);

int s3_head_object(struct s3_object_info *info, s3_client *c, const char *key,
		   s3_error *err);
int s3_delete_object(s3_client *c, const char *key, s3_error *err);

/*
 * ListObjectsV2 as one iterator over every page. With a DELIMITER, common
 * prefixes come as entries whose is_prefix is true (key = the prefix).
 * A server that repeats a continuation token, or says a page is truncated
 * without one, ends the listing with S3_EPROTO; so do more than
 * max_list_keys entries or max_list_pages pages (s3_options).
 */
struct s3_list_entry {
	const char *key;
	bool is_prefix;
	uint64_t size;
	time_t last_modified;
	const char *etag;
};
typedef struct s3_list s3_list;
int s3_list_new(s3_list **out, s3_client *c, const char *prefix,
		const char *delimiter, s3_error *err);
/* 1 with *entry set (valid until the next call), 0 at the end, or a
 * negative s3_code with ERR set. */
int s3_list_next(const struct s3_list_entry **entry, s3_list *it,
		 s3_error *err);
/* Keys per page (max-keys); 0, the default, is the server's (1000). */
void s3_list_set_page_size(s3_list *it, unsigned n);
void s3_list_free(s3_list *it);

/* Multipart upload. */
int s3_multipart_create(char **upload_id, s3_client *c, const char *key,
			const struct s3_put_options *po, s3_error *err);
/* *ETAG (quotes stripped) goes into the part list for complete. */
int s3_multipart_upload_part(char **etag, s3_client *c, const char *key,
			     const char *upload_id, unsigned part_number,
			     const void *body, size_t len, s3_error *err);
/* A 200 whose body is an <Error> is a failure (S3_EHTTP). */
int s3_multipart_complete(s3_client *c, const char *key, const char *upload_id,
			  const struct s3_part *parts, size_t nparts,
			  s3_error *err);
int s3_multipart_abort(s3_client *c, const char *key, const char *upload_id,
		       s3_error *err);
/* Every in-progress upload under PREFIX; free with s3_uploads_free.
 * Markers that repeat or are missing on a truncated page, and more than
 * max_list_keys uploads or max_list_pages pages, are S3_EPROTO. */
int s3_multipart_list(struct s3_upload **uploads, size_t *n, s3_client *c,
		      const char *prefix, s3_error *err);
void s3_uploads_free(struct s3_upload *uploads, size_t n);

/* Lifecycle configuration. A bucket with none reads as zero rules. */
int s3_lifecycle_get(struct s3_lifecycle *lc, s3_client *c, s3_error *err);
/* Replaces the whole configuration (sent with Content-MD5). */
int s3_lifecycle_put(s3_client *c, const struct s3_lifecycle *lc,
		     s3_error *err);
int s3_lifecycle_delete(s3_client *c, s3_error *err);

/*
 * A presigned GET URL for KEY, signed as of AT (0: now), valid EXPIRES
 * seconds (1 .. 7 days). CONTENT_DISPOSITION (may be NULL) is returned by
 * S3 as the download's Content-Disposition. The URL is a bearer
 * credential: never log it.
 */
struct s3_presign_options {
	time_t at;
	long expires;
	const char *content_disposition;
};
int s3_presign_get(char **url, s3_client *c, const char *key,
		   const struct s3_presign_options *po, s3_error *err);

#endif
