/*
 * The XML layer of the s3 module: the S3 response bodies we read and the
 * request bodies we write (Amazon S3 API Reference, 2006-03-01). Inside
 * s3/ only.
 *
 * Parsers take a body as received, (BODY, LEN), and fill an out-parameter
 * they first clear; on failure nothing is left to free. They accept the
 * S3 namespace "http://s3.amazonaws.com/doc/2006-03-01/" or none, match
 * elements on their local names, skip elements they do not know, and
 * check every value (numbers for overflow, required elements present,
 * strings capped). Bodies are parsed without network access, without
 * entity substitution and without DTDs (a DOCTYPE is refused), and
 * libxml2 prints nothing: its errors become our codes in one place.
 *
 * Builders return a new NUL-terminated heap string (free() it) holding a
 * UTF-8 document with an XML declaration; every value is escaped.
 *
 * Thread-safety: each call uses only its own libxml2 state (libxml2's
 * error handler is per thread). The program should call xmlInitParser()
 * once before it starts threads.
 */
#ifndef OFFSITE_S3_XML_H
#define OFFSITE_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "s3/s3.h"

#define S3XML_NS "http://s3.amazonaws.com/doc/2006-03-01/"
/* S3rver writes its ListBucketResult in this misspelling of S3XML_NS;
 * elements in it are read as S3's own. Any other namespace is refused. */
#define S3XML_NS_S3RVER "http://doc.s3.amazonaws.com/2006-03-01/"

/*
 * Every parser refuses a body larger than this (S3XML_EPARSE). A full
 * page (1000 entries) of the longest keys, URL-encoded, is under 4 MiB.
 * libxml2 2.9 itself fails a document from memory past 10,000,000 bytes
 * without XML_PARSE_HUGE ("Huge input lookup"), and we keep its limits.
 */
#define S3XML_MAX_BODY (8 * 1024 * 1024)
/* The longest text value we take from an element (S3XML_ESHAPE). */
#define S3XML_MAX_TEXT 8192
/* The most entries one document may list (S3XML_ESHAPE): S3 pages hold
 * 1000 at most, a lifecycle configuration 1000 rules. */
#define S3XML_MAX_ITEMS 10000

/* A small closed set; translate with s3_xml_error() (s3_internal.h). */
enum s3xml_code {
	S3XML_OK = 0,
	S3XML_EPARSE,	 /* not well-formed XML, empty, a DTD, or too big */
	S3XML_ESHAPE,	 /* well-formed, but not the document expected: wrong
			    root, a required element missing, a bad value */
	S3XML_ENOMEM,	 /* out of memory (libxml2's or ours) */
	S3XML_EERRORDOC, /* the body is an S3 <Error> document */
	S3XML_EINVAL,	 /* a builder was given something S3 cannot take */
};

/* A short lowercase phrase for CODE: "not well-formed XML"... */
const char *s3xml_strerror(int code);

/* ---- <Error> ---- */

/* Values are cut to fit (never inside a UTF-8 sequence), control
 * characters become spaces; "" when absent. */
struct s3xml_error {
	char code[64]; /* "NoSuchKey", "SlowDown"... */
	char message[512];
	char request_id[128];
	char resource[256];
};

/*
 * <Error><Code/><Message/><RequestId/><Resource/>...</Error>.
 * S3XML_ESHAPE when the root is not <Error> or Code is missing or empty.
 */
int s3xml_parse_error(const char *body, size_t len, struct s3xml_error *out);

/* Whether BODY is a well-formed document whose root is <Error>. */
bool s3xml_is_error_doc(const char *body, size_t len);

/*
 * Every parser below answers S3XML_EERRORDOC, not S3XML_ESHAPE, when the
 * body is an <Error> document: a 2xx answer that carries a failure.
 */

/* ---- ListObjectsV2 ---- */

struct s3xml_list_objects {
	struct s3_object *objects;
	size_t nobjects;
	char **prefixes; /* CommonPrefixes/Prefix, in order */
	size_t nprefixes;
	bool is_truncated;
	char *next_continuation_token; /* NULL when absent */
	uint64_t key_count;	       /* KeyCount; 0 when absent */
};

/*
 * ListBucketResult. IsTruncated is required; each Contents needs Key
 * (non-empty), LastModified, ETag (may be empty) and Size. When the body
 * says <EncodingType>url</EncodingType> (the request had
 * encoding-type=url), keys and prefixes are URL-decoded ("%XX", and '+'
 * for a space as AWS writes it); a bad escape or "%00" is S3XML_ESHAPE,
 * and so is any other EncodingType.
 */
int s3xml_parse_list_objects_v2(const char *body, size_t len,
				struct s3xml_list_objects *out);
void s3xml_list_objects_dispose(struct s3xml_list_objects *l);

/* ---- multipart upload ---- */

/* InitiateMultipartUploadResult: *UPLOAD_ID (non-empty; free() it). */
int s3xml_parse_initiate_multipart(const char *body, size_t len,
				   char **upload_id);

/*
 * CompleteMultipartUploadResult. ETag must be present but may be empty
 * (radosgw has answered an empty one); Location, Bucket and Key are
 * optional. S3 sends "200 OK" before it knows the outcome and may then
 * write an <Error> (API Reference, CompleteMultipartUpload): that is
 * S3XML_EERRORDOC with ERR filled, and the caller must treat it as a
 * failure. ERR may be NULL.
 */
int s3xml_parse_complete_multipart(const char *body, size_t len,
				   struct s3xml_error *err);

struct s3xml_list_uploads {
	struct s3_upload *uploads;
	size_t nuploads;
	bool is_truncated;
	char *next_key_marker;	     /* NULL when absent */
	char *next_upload_id_marker; /* NULL when absent */
};

/* ListMultipartUploadsResult: each Upload needs Key, UploadId and
 * Initiated; IsTruncated is required. EncodingType url decodes Key and
 * NextKeyMarker. */
int s3xml_parse_list_multipart_uploads(const char *body, size_t len,
				       struct s3xml_list_uploads *out);
void s3xml_list_uploads_dispose(struct s3xml_list_uploads *l);

struct s3xml_list_parts {
	struct s3_part *parts;
	size_t nparts;
	bool is_truncated;
	unsigned next_part_number_marker; /* 0 when absent */
};

/* ListPartsResult: each Part needs PartNumber (1..10000), ETag and Size;
 * IsTruncated is required. */
int s3xml_parse_list_parts(const char *body, size_t len,
			   struct s3xml_list_parts *out);
void s3xml_list_parts_dispose(struct s3xml_list_parts *l);

/*
 * <CompleteMultipartUpload> listing N (1..10000) parts, numbers strictly
 * ascending, each with a non-empty ETag (sent quoted, as S3 expects).
 * S3XML_EINVAL otherwise.
 */
int s3xml_build_complete_multipart(const struct s3_part *parts, size_t n,
				   char **out);

/* ---- DeleteObjects ---- */

struct s3xml_delete_error {
	char *key;
	char *code;    /* as sent: AWS "AccessDenied"; some radosgw "403" */
	char *message; /* "" when absent */
};

struct s3xml_delete_result {
	char **deleted; /* keys; none in quiet mode */
	size_t ndeleted;
	struct s3xml_delete_error *errors;
	size_t nerrors;
};

/* DeleteResult: Deleted needs Key; Error needs Key and Code. */
int s3xml_parse_delete_result(const char *body, size_t len,
			      struct s3xml_delete_result *out);
void s3xml_delete_result_dispose(struct s3xml_delete_result *r);

/* The most keys one DeleteObjects request may name. */
#define S3XML_DELETE_MAX 1000

/*
 * <Delete> naming N (1..S3XML_DELETE_MAX) KEYS, with <Quiet>true</Quiet>
 * when QUIET. A key must be non-empty, at most 1024 bytes of UTF-8, with
 * no character XML 1.0 cannot carry (S3XML_EINVAL).
 */
int s3xml_build_delete(const char *const *keys, size_t n, bool quiet,
		       char **out);

/* ---- lifecycle configuration ---- */

/*
 * LifecycleConfiguration into LC (free with s3_lifecycle_dispose): every
 * <Rule>, each with RAW set. Status is required (Enabled or Disabled);
 * Days and DaysAfterInitiation must be numbers.
 */
int s3xml_parse_lifecycle(const char *body, size_t len,
			  struct s3_lifecycle *lc);

/*
 * LifecycleConfiguration from LC. A rule with RAW is copied node for node
 * (RAW must parse as one <Rule> element); a rule without is written from
 * its fields and needs expiration_days or abort_incomplete_days, an ID of
 * at most 255 bytes (or none) and a prefix S3 can take (NULL is "").
 * S3XML_EINVAL otherwise, or past 1000 rules.
 */
int s3xml_build_lifecycle(const struct s3_lifecycle *lc, char **out);

/* ---- values ---- */

/*
 * ISO 8601 as S3 writes it, "2026-11-23T09:30:05.000Z" (fraction
 * optional, UTC only), years 1970..9999, into seconds since the epoch.
 * S3XML_ESHAPE when it is anything else. (HTTP dates, RFC 7231's
 * IMF-fixdate, belong to the HTTP code.)
 */
int s3xml_parse_time(const char *iso8601, time_t *out);

#endif
