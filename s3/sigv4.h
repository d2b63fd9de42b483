/*
 * sigv4: the AWS Signature Version 4 core, internal to the s3 module.
 *
 * Pure functions: no I/O, no clock (the time is passed in), no globals.
 * Header signing (Authorization) and query signing (presigned URLs) both go
 * through the same three steps: canonical request, string to sign,
 * signature. Specs:
 *
 *   AWS General Reference, "Create a canonical request for Signature
 *   Version 4" and "Create a string to sign"; Amazon S3 API Reference,
 *   "Signature Calculations for the Authorization Header: Transferring
 *   Payload in a Single Chunk" and "Authenticating Requests: Using Query
 *   Parameters (AWS Signature Version 4)".
 *
 * S3 differs from other services in one way that matters here: the
 * canonical URI is the path as sent, encoded once and never normalised
 * ("//", "." and ".." are kept). That is the only behaviour offered.
 *
 * Errors: every fallible function returns SIGV4_OK (0) or one of the codes
 * below and writes its results through the out-parameters, which come
 * first. Pointer outputs are set to NULL on entry, so they are NULL after
 * any failure. sigv4_strerror() gives the one-line meaning of a code.
 *
 * Ownership: every char ** output is a new NUL-terminated string owned by
 * the caller, to be released with sigv4_str_free(), which wipes it first
 * (canonical requests and presigned queries can hold a session token, and
 * an Authorization value is a credential for its request).
 *
 * Secrets: the secret key is read, never copied; the "AWS4" + secret
 * buffer and every intermediate key of the derivation are wiped with
 * OPENSSL_cleanse. The 32-byte signing key the caller receives is the
 * caller's to wipe (struct sigv4_key_cache does it for its copy).
 */
#ifndef OFFSITE_S3_SIGV4_H
#define OFFSITE_S3_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

enum sigv4_code {
	SIGV4_OK = 0,
	SIGV4_EINVAL,  /* an argument breaks the rules given per function */
	SIGV4_ETOOBIG, /* a result would be longer than SIGV4_MAX_LEN */
	SIGV4_ENOMEM,
	SIGV4_ECRYPTO, /* OpenSSL failed (SHA-256 or HMAC) */
};

/* The cap of every string built here, NUL excluded. */
#define SIGV4_MAX_LEN (256 * 1024)
/* At most this many query parameters, and as many headers. */
#define SIGV4_MAX_ITEMS 1024
/* Region and service names: 1..63 bytes of [A-Za-z0-9_-]. */
#define SIGV4_NAME_MAX 64
/* Secret access keys: 1..512 bytes. */
#define SIGV4_SECRET_MAX 512

#define SIGV4_ALGORITHM	       "AWS4-HMAC-SHA256"
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* SHA-256 of the empty string: the payload hash of a request without body. */
#define SIGV4_EMPTY_SHA256                                                     \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* A presigned URL lives 1 second .. 7 days (S3 query-parameter auth). */
#define SIGV4_PRESIGN_MAX_EXPIRES 604800L

/* A query parameter or a header, raw (not encoded). */
struct sigv4_kv {
	const char *name;
	const char *value; /* NULL is taken as "" */
};

struct sigv4_request {
	/* "GET", "PUT", ...: 1..16 of [A-Z]. */
	const char *method;
	/*
	 * The path exactly as sent on the wire, already encoded (build each
	 * part with sigv4_uri_encode(..., false)). It must be in canonical
	 * form: it starts with '/', and holds only unreserved characters,
	 * '/' and %XX escapes with uppercase hex of bytes that are not
	 * unreserved. It is the canonical URI as it is: S3 does not
	 * normalise "//", "." or "..".
	 */
	const char *path;
	/*
	 * Query parameters, raw; encoded and sorted here. A sub-resource
	 * such as "uploads" has the value "" and signs as "uploads=".
	 */
	const struct sigv4_kv *query;
	size_t nquery;
	/*
	 * The headers to sign, in any case and order; they must include
	 * host. Names are RFC 9110 tokens; values hold no control
	 * characters (CR, LF and TAB included). Names are lowercased,
	 * values trimmed of spaces with inner runs of spaces collapsed,
	 * and repeated names joined with ',' in the order given.
	 */
	const struct sigv4_kv *headers;
	size_t nheaders;
	/*
	 * Lowercase hex SHA-256 of the body, or SIGV4_UNSIGNED_PAYLOAD.
	 * sigv4_presign() takes NULL as SIGV4_UNSIGNED_PAYLOAD.
	 */
	const char *payload_hash;
};

/* The credential scope: DATE/REGION/SERVICE/aws4_request. */
struct sigv4_scope {
	char date[9]; /* YYYYMMDD, UTC */
	const char *region;
	const char *service;
};

/*
 * A signing-key cache: the key depends only on the secret, the date, the
 * region and the service, so it is derived once a day. The secret is not
 * kept: only its SHA-256, to notice a change. Not thread-safe: one cache
 * per thread, or a lock around sigv4_key_cache_get().
 */
struct sigv4_key_cache {
	bool valid;
	char date[9];
	char region[SIGV4_NAME_MAX];
	char service[SIGV4_NAME_MAX];
	unsigned char secret_sha256[32];
	unsigned char key[32];
	unsigned long derivations; /* keys derived so far (tests, stats) */
};

/* Who signs, and for what. */
struct sigv4_signer {
	const char *access_key;	       /* printable ASCII, no ' ', '/' or ',' */
	const char *secret_key;	       /* 1..SIGV4_SECRET_MAX bytes */
	const char *session_token;     /* NULL or "": long-term credentials */
	const char *region;	       /* "us-east-1" */
	const char *service;	       /* "s3" */
	struct sigv4_key_cache *cache; /* NULL: derive the key every time */
};

/*
 * What was signed, for tests and for comparing with the CanonicalRequest
 * and StringToSign a server returns with SignatureDoesNotMatch. The strings
 * may hold a session token: log them only through redact().
 */
struct sigv4_trace {
	char *canonical_request;
	char *string_to_sign;
};

/* A running SHA-256, for payloads that arrive in pieces. */
struct sigv4_sha256 {
	EVP_MD_CTX *ctx;
};

const char *sigv4_strerror(int code);

/* Wipe and free a string returned here. NULL is fine. */
void sigv4_str_free(char *s);

/*
 * Format T (UTC) as "YYYYMMDDTHHMMSSZ" into AMZ_DATETIME and "YYYYMMDD"
 * into DATE (either may be NULL). SIGV4_EINVAL when T is not a time of
 * the years 0..9999.
 */
int sigv4_format_time(char amz_datetime[17], char date[9], time_t t);

/*
 * URI-encode S byte by byte: RFC 3986 unreserved characters (A-Z a-z 0-9
 * - . _ ~) are kept, '/' is kept unless ENCODE_SLASH, and every other byte
 * becomes %XX with uppercase hex (so UTF-8 is encoded byte by byte, a
 * space is %20, never '+'). Path parts: ENCODE_SLASH false; query names
 * and values: true. SIGV4_ETOOBIG past SIGV4_MAX_LEN.
 */
int sigv4_uri_encode(char **out, const char *s, bool encode_slash);

/* Lowercase hex SHA-256 of LEN bytes at DATA. */
int sigv4_sha256_hex(char hex[65], const void *data, size_t len);

/*
 * Streaming SHA-256: init, any number of updates, one final, then dispose
 * (always, after a failure too; dispose of a zeroed struct is fine).
 */
int sigv4_sha256_init(struct sigv4_sha256 *h);
int sigv4_sha256_update(struct sigv4_sha256 *h, const void *data, size_t len);
int sigv4_sha256_final(char hex[65], struct sigv4_sha256 *h);
void sigv4_sha256_dispose(struct sigv4_sha256 *h);

/*
 * The canonical request of R:
 *
 *   METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n
 *   SignedHeaders \n HashedPayload
 *
 * and, when SIGNED_HEADERS_OUT is not NULL, the SignedHeaders list alone
 * ("host;x-amz-date"). SIGV4_EINVAL for a request outside the rules of
 * struct sigv4_request.
 */
int sigv4_canonical_request(char **out, char **signed_headers_out,
			    const struct sigv4_request *r);

/*
 * The string to sign:
 *
 *   AWS4-HMAC-SHA256 \n AMZ_DATETIME \n DATE/REGION/SERVICE/aws4_request \n
 *   hex(SHA-256(CANONICAL_REQUEST))
 *
 * AMZ_DATETIME is "YYYYMMDDTHHMMSSZ"; its date must be SCOPE's.
 */
int sigv4_string_to_sign(char **out, const char *amz_datetime,
			 const struct sigv4_scope *scope,
			 const char *canonical_request);

/*
 * The signing key: kSecret = "AWS4" + SECRET, kDate = HMAC(kSecret, date),
 * kRegion = HMAC(kDate, region), kService = HMAC(kRegion, service),
 * KEY = HMAC(kService, "aws4_request"). KEY is wiped on failure.
 */
int sigv4_signing_key(unsigned char key[32], const char *secret,
		      const struct sigv4_scope *scope);

/* HEX = lowercase hex of HMAC-SHA256(KEY, STRING_TO_SIGN). */
int sigv4_signature(char hex[65], const unsigned char key[32],
		    const char *string_to_sign);

/* Zero the cache: the first get derives a key. */
void sigv4_key_cache_init(struct sigv4_key_cache *c);

/*
 * The signing key for SECRET and SCOPE into KEY: the cached one when the
 * date, region, service and secret are those of the last call, else a
 * new one, which replaces it in the cache. On failure the cache is left
 * empty.
 */
int sigv4_key_cache_get(unsigned char key[32], struct sigv4_key_cache *c,
			const char *secret, const struct sigv4_scope *scope);

/* Wipe the cache. It may be used again after sigv4_key_cache_init(). */
void sigv4_key_cache_dispose(struct sigv4_key_cache *c);

/*
 * The value of the Authorization header for R, signed by S at
 * AMZ_DATETIME:
 *
 *   AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request,
 *   SignedHeaders=host;x-amz-date, Signature=<64 hex>
 *
 * (one line). R's headers must include x-amz-date equal to AMZ_DATETIME
 * and, when S has a session token, x-amz-security-token equal to it: the
 * caller sends exactly the headers it signs. TRACE (may be NULL) receives
 * the canonical request and string to sign; on failure it is left empty.
 * Release it with sigv4_trace_dispose().
 */
int sigv4_authorization(char **out, struct sigv4_trace *trace,
			const struct sigv4_signer *s,
			const struct sigv4_request *r,
			const char *amz_datetime);

/*
 * Presign R (S3 query-parameter authentication): the query of R plus
 * X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
 * X-Amz-SignedHeaders and, with a session token, X-Amz-Security-Token,
 * all signed, then X-Amz-Signature. *OUT is the whole encoded query
 * string, without '?': the URL is scheme://host + R->path + "?" + *OUT.
 * R's headers are the ones the URL's user must send (host alone,
 * usually); its payload hash NULL means UNSIGNED-PAYLOAD, what S3 expects
 * of a presigned URL. SIGV4_EINVAL when EXPIRES is outside
 * 1..SIGV4_PRESIGN_MAX_EXPIRES seconds or R's query already holds an
 * X-Amz- authentication parameter. TRACE as for sigv4_authorization().
 */
int sigv4_presign(char **out, struct sigv4_trace *trace,
		  const struct sigv4_signer *s, const struct sigv4_request *r,
		  const char *amz_datetime, long expires);

/* Free (and wipe) what a trace holds; a zeroed trace is fine. */
void sigv4_trace_dispose(struct sigv4_trace *trace);

#endif
