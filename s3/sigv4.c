/*
 * sigv4: AWS Signature Version 4, the S3 flavour (see sigv4.h).
 *
 * Every string is built in a struct buf: capped at SIGV4_MAX_LEN, its
 * size arithmetic checked, and wiped when it grows or is freed, since
 * canonical requests and presigned queries can hold a session token.
 */
#include "s3/sigv4.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/hmac.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/wipe.h"

#define SCOPE_TERMINATOR "aws4_request"

/* ---- strings with a cap ------------------------------------------------ */

/* Every string: capped, and wiped when it grows or is freed. */
#define SB_INIT                                                                \
	{                                                                      \
		.max = SIGV4_MAX_LEN, .wipe = true                             \
	}

/* B's sticky error as ours. */
static int sb_err(const struct buf *b)
{
	switch (b->err) {
	case BUF_OK:
		return SIGV4_OK;
	case BUF_ETOOBIG:
		return SIGV4_ETOOBIG;
	default:
		return SIGV4_ENOMEM;
	}
}

/* Hand the string over to *OUT (an empty one is still a string). */
static int sb_finish(char **out, struct buf *b)
{
	int rc = sb_err(b);

	if (rc == SIGV4_OK && buf_take(b, out, NULL) != BUF_OK)
		rc = sb_err(b) != SIGV4_OK ? sb_err(b) : SIGV4_ENOMEM;
	if (rc != SIGV4_OK) {
		*out = NULL;
		buf_dispose(b);
	}
	return rc;
}

/* ---- characters -------------------------------------------------------- */

/* RFC 3986 section 2.3. */
static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* RFC 9110 section 5.6.2: the characters of a header name. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* strcmp of the lowercased strings, without making them. */
static int ascii_casecmp(const char *a, const char *b)
{
	unsigned char ca, cb;

	do {
		ca = (unsigned char)ascii_lower(*a++);
		cb = (unsigned char)ascii_lower(*b++);
	} while (ca != '\0' && ca == cb);
	return (ca > cb) - (ca < cb);
}

/*
 * UriEncode() of the S3 signing documentation: every byte but the
 * unreserved ones as %XX, uppercase; '/' kept in paths.
 */
static void sb_add_encoded(struct buf *b, const char *s, bool encode_slash)
{
	const unsigned char *p;
	char esc[3];

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (is_unreserved(*p) || (*p == '/' && !encode_slash)) {
			buf_add_char(b, (char)*p);
		} else {
			pct_encode_byte(esc, *p);
			buf_add(b, esc, 3);
		}
	}
}

/* ---- OpenSSL ----------------------------------------------------------- */

/*
 * The one place OpenSSL's failures become ours. Its error queue is
 * emptied so that a stale entry is never blamed on a later call.
 */
static int crypto_error(void)
{
	ERR_clear_error();
	return SIGV4_ECRYPTO;
}

static int sha256(unsigned char md[32], const void *data, size_t len)
{
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return crypto_error();
	return SIGV4_OK;
}

static int hmac_sha256(unsigned char out[32], const void *key, size_t keylen,
		       const void *data, size_t len)
{
	unsigned int outlen = 0;

	if (keylen > INT_MAX)
		return SIGV4_EINVAL;
	if (HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) ==
		    NULL ||
	    outlen != 32)
		return crypto_error();
	return SIGV4_OK;
}

/* ---- validation -------------------------------------------------------- */

/* "YYYYMMDDTHHMMSSZ", the format of X-Amz-Date (ISO 8601 basic, UTC). */
static bool datetime_valid(const char *s)
{
	int i;

	if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return false;
	for (i = 0; i < 15; i++)
		if (i != 8 && !is_digit(s[i]))
			return false;
	return true;
}

static bool date_valid(const char *s)
{
	int i;

	for (i = 0; i < 8; i++)
		if (!is_digit(s[i]))
			return false;
	return s[8] == '\0';
}

/* Region and service: they are '/'-separated parts of the scope. */
static bool name_valid(const char *s)
{
	size_t n;

	if (s == NULL)
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n + 1 >= SIGV4_NAME_MAX ||
		    !(is_unreserved(c) && c != '.' && c != '~'))
			return false;
	}
	return n > 0;
}

static bool scope_valid(const struct sigv4_scope *scope)
{
	return scope != NULL && date_valid(scope->date) &&
	       name_valid(scope->region) && name_valid(scope->service);
}

/* Length of a usable secret key, or 0. */
static size_t secret_length(const char *secret)
{
	size_t n;

	if (secret == NULL)
		return 0;
	n = strnlen(secret, SIGV4_SECRET_MAX + 1);
	return n > SIGV4_SECRET_MAX ? 0 : n;
}

/* It goes into "Credential=AKID/scope, ..." unencoded. */
static bool access_key_valid(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c >= 0x7f || c == '/' || c == ',')
			return false;
	}
	return true;
}

static bool value_valid(const char *s)
{
	for (; *s != '\0'; s++)
		if (is_control((unsigned char)*s))
			return false;
	return true;
}

static bool has_token(const struct sigv4_signer *s)
{
	return s->session_token != NULL && s->session_token[0] != '\0';
}

static bool signer_valid(const struct sigv4_signer *s)
{
	return s != NULL && access_key_valid(s->access_key) &&
	       secret_length(s->secret_key) > 0 && name_valid(s->region) &&
	       name_valid(s->service) &&
	       (!has_token(s) || value_valid(s->session_token));
}

static bool method_valid(const char *m)
{
	size_t n;

	if (m == NULL)
		return false;
	for (n = 0; m[n] != '\0'; n++)
		if (n >= 16 || m[n] < 'A' || m[n] > 'Z')
			return false;
	return n > 0;
}

/*
 * The path is signed as sent, so it must already be what UriEncode()
 * makes of a path: a %XX of an unreserved byte, lowercase hex or a raw
 * reserved character would be signed in one form and canonicalised by
 * the server in another.
 */
static bool path_valid(const char *p)
{
	if (p == NULL || p[0] != '/')
		return false;
	for (; *p != '\0'; p++) {
		int hi, lo;

		if (is_unreserved((unsigned char)*p) || *p == '/')
			continue;
		if (*p != '%')
			return false;
		hi = hex_digit((unsigned char)p[1], HEX_UPPER);
		lo = hi < 0 ? -1 : hex_digit((unsigned char)p[2], HEX_UPPER);
		if (lo < 0 || is_unreserved((unsigned char)(hi * 16 + lo)))
			return false;
		p += 2;
	}
	return true;
}

static bool payload_hash_valid(const char *h)
{
	int i;

	if (h == NULL)
		return false;
	if (strcmp(h, SIGV4_UNSIGNED_PAYLOAD) == 0)
		return true;
	for (i = 0; i < 64; i++)
		if (!is_digit(h[i]) && !(h[i] >= 'a' && h[i] <= 'f'))
			return false;
	return h[64] == '\0';
}

static bool kv_list_valid(const struct sigv4_kv *kv, size_t n)
{
	size_t i;

	if (n > SIGV4_MAX_ITEMS || (n > 0 && kv == NULL))
		return false;
	for (i = 0; i < n; i++)
		if (kv[i].name == NULL)
			return false;
	return true;
}

static bool request_valid(const struct sigv4_request *r, bool presign)
{
	return r != NULL && method_valid(r->method) && path_valid(r->path) &&
	       kv_list_valid(r->query, r->nquery) &&
	       kv_list_valid(r->headers, r->nheaders) &&
	       ((presign && r->payload_hash == NULL) ||
		payload_hash_valid(r->payload_hash));
}

/* ---- canonical pieces -------------------------------------------------- */

struct query_param {
	char *name; /* encoded */
	char *value;
};

static int query_param_cmp(const void *a, const void *b)
{
	const struct query_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

/*
 * CanonicalQueryString: each name and value URI-encoded ('/' too), the
 * pairs sorted by encoded name, then by encoded value, joined as
 * "name=value" with '&'; a name without a value keeps its '='. Q1 and Q2
 * are taken as one list (the request's and the X-Amz-* of a presign).
 */
static int canonical_query(struct buf *out, const struct sigv4_kv *q1,
			   size_t n1, const struct sigv4_kv *q2, size_t n2)
{
	struct query_param *params = NULL;
	size_t n = n1 + n2, i;
	int rc = SIGV4_OK;

	/* Both <= SIGV4_MAX_ITEMS: no overflow. */
	if (n == 0)
		return SIGV4_OK;
	params = calloc(n, sizeof(*params));
	if (params == NULL)
		return SIGV4_ENOMEM;
	for (i = 0; i < n; i++) {
		const struct sigv4_kv *kv = i < n1 ? &q1[i] : &q2[i - n1];

		if (kv->name[0] == '\0') {
			rc = SIGV4_EINVAL;
			goto out;
		}
		rc = sigv4_uri_encode(&params[i].name, kv->name, true);
		if (rc != SIGV4_OK)
			goto out;
		rc = sigv4_uri_encode(&params[i].value,
				      kv->value ? kv->value : "", true);
		if (rc != SIGV4_OK)
			goto out;
	}
	qsort(params, n, sizeof(*params), query_param_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_add_char(out, '&');
		buf_add_str(out, params[i].name);
		buf_add_char(out, '=');
		buf_add_str(out, params[i].value);
	}
	rc = sb_err(out);
out:
	for (i = 0; i < n; i++) {
		sigv4_str_free(params[i].name);
		sigv4_str_free(params[i].value);
	}
	free(params);
	return rc;
}

struct header_ref {
	const char *name;
	const char *value;
	size_t index; /* position in the request: keeps repeats in order */
};

static int header_ref_cmp(const void *a, const void *b)
{
	const struct header_ref *x = a, *y = b;
	int c = ascii_casecmp(x->name, y->name);

	if (c != 0)
		return c;
	return (x->index > y->index) - (x->index < y->index);
}

/*
 * A header value as signed: "Trim()" the leading and trailing spaces and
 * turn each run of spaces inside into one (AWS General Reference,
 * "Create a canonical request", CanonicalHeaders). Control characters
 * were refused before, so only the space needs care.
 */
static void sb_add_trimmed(struct buf *b, const char *v)
{
	bool space = false;

	while (*v == ' ')
		v++;
	for (; *v != '\0'; v++) {
		if (*v == ' ') {
			space = true;
			continue;
		}
		if (space)
			buf_add_char(b, ' ');
		space = false;
		buf_add_char(b, *v);
	}
}

/*
 * CanonicalHeaders and SignedHeaders: names lowercased and sorted by
 * character code, one "name:value\n" line per name, the values of a
 * repeated name joined with ',' in the order given (suite case
 * get-header-key-duplicate); SignedHeaders is the names joined with ';'.
 * Host must be among them.
 */
static int canonical_headers(struct buf *lines, struct buf *names,
			     const struct sigv4_kv *h, size_t n)
{
	struct header_ref *refs = NULL;
	bool host = false;
	size_t i;
	const char *p;
	int rc = SIGV4_OK;

	if (n == 0)
		return SIGV4_EINVAL;
	refs = calloc(n, sizeof(*refs));
	if (refs == NULL)
		return SIGV4_ENOMEM;
	for (i = 0; i < n; i++) {
		const char *value = h[i].value ? h[i].value : "";

		if (h[i].name[0] == '\0' || !value_valid(value)) {
			rc = SIGV4_EINVAL;
			goto out;
		}
		for (p = h[i].name; *p != '\0'; p++) {
			if (!is_tchar((unsigned char)*p)) {
				rc = SIGV4_EINVAL;
				goto out;
			}
		}
		if (ascii_casecmp(h[i].name, "host") == 0)
			host = true;
		refs[i] = (struct header_ref){h[i].name, value, i};
	}
	if (!host) {
		rc = SIGV4_EINVAL;
		goto out;
	}
	qsort(refs, n, sizeof(*refs), header_ref_cmp);
	for (i = 0; i < n; i++) {
		bool repeat = i > 0 && ascii_casecmp(refs[i - 1].name,
						     refs[i].name) == 0;

		if (repeat) {
			buf_add_char(lines, ',');
		} else {
			if (i > 0) {
				buf_add_char(lines, '\n');
				buf_add_char(names, ';');
			}
			for (p = refs[i].name; *p != '\0'; p++) {
				buf_add_char(lines, ascii_lower(*p));
				buf_add_char(names, ascii_lower(*p));
			}
			buf_add_char(lines, ':');
		}
		sb_add_trimmed(lines, refs[i].value);
	}
	buf_add_char(lines, '\n');
	rc = sb_err(lines) != SIGV4_OK ? sb_err(lines) : sb_err(names);
out:
	free(refs);
	return rc;
}

/*
 * CanonicalRequest =
 *   HTTPMethod \n CanonicalURI \n CanonicalQueryString \n
 *   CanonicalHeaders \n SignedHeaders \n HashedPayload
 * CanonicalHeaders ends with its own '\n', hence the empty line.
 */
static int join_canonical(char **out, const struct sigv4_request *r,
			  const char *query, const char *lines,
			  const char *names, const char *payload_hash)
{
	struct buf b = SB_INIT;

	buf_add_str(&b, r->method);
	buf_add_char(&b, '\n');
	buf_add_str(&b, r->path);
	buf_add_char(&b, '\n');
	buf_add_str(&b, query);
	buf_add_char(&b, '\n');
	buf_add_str(&b, lines);
	buf_add_char(&b, '\n');
	buf_add_str(&b, names);
	buf_add_char(&b, '\n');
	buf_add_str(&b, payload_hash);
	return sb_finish(out, &b);
}

/* ---- public: helpers --------------------------------------------------- */

const char *sigv4_strerror(int code)
{
	switch (code) {
	case SIGV4_OK:
		return "success";
	case SIGV4_EINVAL:
		return "invalid request to sign";
	case SIGV4_ETOOBIG:
		return "request to sign too large";
	case SIGV4_ENOMEM:
		return "out of memory";
	case SIGV4_ECRYPTO:
		return "OpenSSL failed to hash or sign";
	default:
		return "unknown signing error";
	}
}

void sigv4_str_free(char *s)
{
	if (s != NULL)
		wipe_free(s, strlen(s));
}

static void put_digits(char *p, int value, int width)
{
	while (width-- > 0) {
		p[width] = (char)('0' + value % 10);
		value /= 10;
	}
}

int sigv4_format_time(char amz_datetime[17], char date[9], time_t t)
{
	struct tm tm;
	char buf[17];

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return SIGV4_EINVAL;
	put_digits(buf, tm.tm_year + 1900, 4);
	put_digits(buf + 4, tm.tm_mon + 1, 2);
	put_digits(buf + 6, tm.tm_mday, 2);
	buf[8] = 'T';
	put_digits(buf + 9, tm.tm_hour, 2);
	put_digits(buf + 11, tm.tm_min, 2);
	put_digits(buf + 13, tm.tm_sec, 2);
	buf[15] = 'Z';
	buf[16] = '\0';
	if (amz_datetime != NULL)
		memcpy(amz_datetime, buf, 17);
	if (date != NULL) {
		memcpy(date, buf, 8);
		date[8] = '\0';
	}
	return SIGV4_OK;
}

int sigv4_uri_encode(char **out, const char *s, bool encode_slash)
{
	struct buf b = SB_INIT;

	*out = NULL;
	if (s == NULL)
		return SIGV4_EINVAL;
	sb_add_encoded(&b, s, encode_slash);
	return sb_finish(out, &b);
}

int sigv4_sha256_hex(char hex[65], const void *data, size_t len)
{
	unsigned char md[32];
	int rc;

	rc = sha256(md, data, len);
	if (rc == SIGV4_OK)
		hex_encode(hex, md, sizeof(md));
	return rc;
}

int sigv4_sha256_init(struct sigv4_sha256 *h)
{
	h->ctx = EVP_MD_CTX_new();
	if (h->ctx == NULL)
		return crypto_error();
	if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		return crypto_error();
	return SIGV4_OK;
}

int sigv4_sha256_update(struct sigv4_sha256 *h, const void *data, size_t len)
{
	if (h->ctx == NULL)
		return SIGV4_EINVAL;
	if (EVP_DigestUpdate(h->ctx, data, len) != 1)
		return crypto_error();
	return SIGV4_OK;
}

int sigv4_sha256_final(char hex[65], struct sigv4_sha256 *h)
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (h->ctx == NULL)
		return SIGV4_EINVAL;
	if (EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen != 32)
		return crypto_error();
	hex_encode(hex, md, sizeof(md));
	return SIGV4_OK;
}

void sigv4_sha256_dispose(struct sigv4_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

/* ---- public: the three steps ------------------------------------------- */

int sigv4_canonical_request(char **out, char **signed_headers_out,
			    const struct sigv4_request *r)
{
	struct buf query = SB_INIT, lines = SB_INIT, names = SB_INIT;
	int rc;

	*out = NULL;
	if (signed_headers_out != NULL)
		*signed_headers_out = NULL;
	if (!request_valid(r, false))
		return SIGV4_EINVAL;
	rc = canonical_headers(&lines, &names, r->headers, r->nheaders);
	if (rc != SIGV4_OK)
		goto out;
	rc = canonical_query(&query, r->query, r->nquery, NULL, 0);
	if (rc != SIGV4_OK)
		goto out;
	rc = join_canonical(out, r, query.data ? query.data : "", lines.data,
			    names.data, r->payload_hash);
	if (rc != SIGV4_OK)
		goto out;
	if (signed_headers_out != NULL) {
		rc = sb_finish(signed_headers_out, &names);
		if (rc != SIGV4_OK) {
			sigv4_str_free(*out);
			*out = NULL;
		}
	}
out:
	buf_dispose(&query);
	buf_dispose(&lines);
	buf_dispose(&names);
	return rc;
}

/*
 * StringToSign = "AWS4-HMAC-SHA256" \n X-Amz-Date \n
 *   <date>/<region>/<service>/aws4_request \n Hex(SHA256(CanonicalRequest))
 */
int sigv4_string_to_sign(char **out, const char *amz_datetime,
			 const struct sigv4_scope *scope,
			 const char *canonical_request)
{
	struct buf b = SB_INIT;
	char hex[65];
	int rc;

	*out = NULL;
	if (!datetime_valid(amz_datetime) || !scope_valid(scope) ||
	    memcmp(amz_datetime, scope->date, 8) != 0 ||
	    canonical_request == NULL)
		return SIGV4_EINVAL;
	rc = sigv4_sha256_hex(hex, canonical_request,
			      strlen(canonical_request));
	if (rc != SIGV4_OK)
		return rc;
	buf_add_str(&b, SIGV4_ALGORITHM "\n");
	buf_add_str(&b, amz_datetime);
	buf_add_char(&b, '\n');
	buf_add_str(&b, scope->date);
	buf_add_char(&b, '/');
	buf_add_str(&b, scope->region);
	buf_add_char(&b, '/');
	buf_add_str(&b, scope->service);
	buf_add_str(&b, "/" SCOPE_TERMINATOR "\n");
	buf_add_str(&b, hex);
	return sb_finish(out, &b);
}

/*
 * The derivation of "Calculate the signature" (AWS General Reference):
 *   kDate    = HMAC("AWS4" + secret, date)
 *   kRegion  = HMAC(kDate, region)
 *   kService = HMAC(kRegion, service)
 *   kSigning = HMAC(kService, "aws4_request")
 */
int sigv4_signing_key(unsigned char key[32], const char *secret,
		      const struct sigv4_scope *scope)
{
	unsigned char ksecret[4 + SIGV4_SECRET_MAX];
	unsigned char kdate[32], kregion[32], kservice[32];
	size_t slen = secret_length(secret);
	int rc = SIGV4_EINVAL;

	if (slen == 0 || !scope_valid(scope))
		goto out;
	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, secret, slen);
	rc = hmac_sha256(kdate, ksecret, 4 + slen, scope->date, 8);
	if (rc != SIGV4_OK)
		goto out;
	rc = hmac_sha256(kregion, kdate, 32, scope->region,
			 strlen(scope->region));
	if (rc != SIGV4_OK)
		goto out;
	rc = hmac_sha256(kservice, kregion, 32, scope->service,
			 strlen(scope->service));
	if (rc != SIGV4_OK)
		goto out;
	rc = hmac_sha256(key, kservice, 32, SCOPE_TERMINATOR,
			 strlen(SCOPE_TERMINATOR));
out:
	OPENSSL_cleanse(ksecret, sizeof(ksecret));
	OPENSSL_cleanse(kdate, sizeof(kdate));
	OPENSSL_cleanse(kregion, sizeof(kregion));
	OPENSSL_cleanse(kservice, sizeof(kservice));
	if (rc != SIGV4_OK)
		OPENSSL_cleanse(key, 32);
	return rc;
}

int sigv4_signature(char hex[65], const unsigned char key[32],
		    const char *string_to_sign)
{
	unsigned char mac[32];
	int rc;

	if (string_to_sign == NULL)
		return SIGV4_EINVAL;
	rc = hmac_sha256(mac, key, 32, string_to_sign, strlen(string_to_sign));
	if (rc == SIGV4_OK)
		hex_encode(hex, mac, sizeof(mac));
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

/* ---- public: the key cache --------------------------------------------- */

void sigv4_key_cache_init(struct sigv4_key_cache *c)
{
	memset(c, 0, sizeof(*c));
}

int sigv4_key_cache_get(unsigned char key[32], struct sigv4_key_cache *c,
			const char *secret, const struct sigv4_scope *scope)
{
	unsigned char secret_sha256[32];
	size_t slen = secret_length(secret);
	int rc;

	if (slen == 0 || !scope_valid(scope)) {
		OPENSSL_cleanse(key, 32);
		return SIGV4_EINVAL;
	}
	rc = sha256(secret_sha256, secret, slen);
	if (rc != SIGV4_OK)
		goto out;
	if (c->valid && strcmp(c->date, scope->date) == 0 &&
	    strcmp(c->region, scope->region) == 0 &&
	    strcmp(c->service, scope->service) == 0 &&
	    CRYPTO_memcmp(c->secret_sha256, secret_sha256, 32) == 0) {
		memcpy(key, c->key, 32);
		goto out;
	}
	c->valid = false;
	rc = sigv4_signing_key(c->key, secret, scope);
	if (rc != SIGV4_OK)
		goto out;
	/* Lengths were checked by scope_valid(): they fit. */
	memcpy(c->date, scope->date, sizeof(c->date));
	snprintf(c->region, sizeof(c->region), "%s", scope->region);
	snprintf(c->service, sizeof(c->service), "%s", scope->service);
	memcpy(c->secret_sha256, secret_sha256, 32);
	c->valid = true;
	c->derivations++;
	memcpy(key, c->key, 32);
out:
	OPENSSL_cleanse(secret_sha256, sizeof(secret_sha256));
	if (rc != SIGV4_OK) {
		OPENSSL_cleanse(c->key, sizeof(c->key));
		OPENSSL_cleanse(key, 32);
	}
	return rc;
}

void sigv4_key_cache_dispose(struct sigv4_key_cache *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

/* ---- public: signing a request ----------------------------------------- */

void sigv4_trace_dispose(struct sigv4_trace *trace)
{
	if (trace == NULL)
		return;
	sigv4_str_free(trace->canonical_request);
	sigv4_str_free(trace->string_to_sign);
	trace->canonical_request = NULL;
	trace->string_to_sign = NULL;
}

/* The one header named NAME must have exactly the value WANT. */
static bool header_is(const struct sigv4_request *r, const char *name,
		      const char *want)
{
	size_t i, found = 0;

	for (i = 0; i < r->nheaders; i++) {
		if (ascii_casecmp(r->headers[i].name, name) != 0)
			continue;
		if (r->headers[i].value == NULL ||
		    strcmp(r->headers[i].value, want) != 0)
			return false;
		found++;
	}
	return found == 1;
}

static void make_scope(struct sigv4_scope *scope, const struct sigv4_signer *s,
		       const char *amz_datetime)
{
	memcpy(scope->date, amz_datetime, 8);
	scope->date[8] = '\0';
	scope->region = s->region;
	scope->service = s->service;
}

/* AKID/<date>/<region>/<service>/aws4_request */
static void sb_add_credential(struct buf *b, const struct sigv4_signer *s,
			      const struct sigv4_scope *scope)
{
	buf_add_str(b, s->access_key);
	buf_add_char(b, '/');
	buf_add_str(b, scope->date);
	buf_add_char(b, '/');
	buf_add_str(b, scope->region);
	buf_add_char(b, '/');
	buf_add_str(b, scope->service);
	buf_add_str(b, "/" SCOPE_TERMINATOR);
}

/* String to sign and signature of CREQ; fills TRACE when asked. */
static int sign_canonical(char sig[65], struct sigv4_trace *trace,
			  const struct sigv4_signer *s,
			  const struct sigv4_scope *scope,
			  const char *amz_datetime, const char *creq)
{
	unsigned char key[32];
	char *sts = NULL;
	int rc;

	rc = sigv4_string_to_sign(&sts, amz_datetime, scope, creq);
	if (rc != SIGV4_OK)
		goto out;
	if (s->cache != NULL)
		rc = sigv4_key_cache_get(key, s->cache, s->secret_key, scope);
	else
		rc = sigv4_signing_key(key, s->secret_key, scope);
	if (rc != SIGV4_OK)
		goto out;
	rc = sigv4_signature(sig, key, sts);
	if (rc == SIGV4_OK && trace != NULL) {
		trace->string_to_sign = sts;
		sts = NULL;
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	sigv4_str_free(sts);
	return rc;
}

/*
 * Header signing: S3 API Reference, "Signature Calculations for the
 * Authorization Header: Transferring Payload in a Single Chunk".
 */
int sigv4_authorization(char **out, struct sigv4_trace *trace,
			const struct sigv4_signer *s,
			const struct sigv4_request *r, const char *amz_datetime)
{
	struct sigv4_scope scope;
	struct buf b = SB_INIT;
	char *creq = NULL, *names = NULL;
	char sig[65] = "";
	int rc;

	*out = NULL;
	if (trace != NULL)
		*trace = (struct sigv4_trace){0};
	if (!signer_valid(s) || !datetime_valid(amz_datetime) ||
	    !request_valid(r, false) ||
	    !header_is(r, "x-amz-date", amz_datetime) ||
	    (has_token(s) &&
	     !header_is(r, "x-amz-security-token", s->session_token)))
		return SIGV4_EINVAL;
	make_scope(&scope, s, amz_datetime);
	rc = sigv4_canonical_request(&creq, &names, r);
	if (rc != SIGV4_OK)
		goto out;
	rc = sign_canonical(sig, trace, s, &scope, amz_datetime, creq);
	if (rc != SIGV4_OK)
		goto out;
	buf_add_str(&b, SIGV4_ALGORITHM " Credential=");
	sb_add_credential(&b, s, &scope);
	buf_add_str(&b, ", SignedHeaders=");
	buf_add_str(&b, names);
	buf_add_str(&b, ", Signature=");
	buf_add_str(&b, sig);
	rc = sb_finish(out, &b);
	if (rc == SIGV4_OK && trace != NULL) {
		trace->canonical_request = creq;
		creq = NULL;
	}
out:
	if (rc != SIGV4_OK)
		sigv4_trace_dispose(trace);
	OPENSSL_cleanse(sig, sizeof(sig));
	sigv4_str_free(creq);
	sigv4_str_free(names);
	return rc;
}

/* The parameters presigning adds: the request must not bring its own. */
static const char *const presign_params[] = {
	"X-Amz-Algorithm", "X-Amz-Credential",	  "X-Amz-Date",
	"X-Amz-Expires",   "X-Amz-SignedHeaders", "X-Amz-Security-Token",
	"X-Amz-Signature",
};

static bool query_has_auth(const struct sigv4_request *r)
{
	size_t n = sizeof(presign_params) / sizeof(*presign_params);
	size_t i, j;

	for (i = 0; i < r->nquery; i++) {
		for (j = 0; j < n; j++) {
			if (ascii_casecmp(r->query[i].name,
					  presign_params[j]) == 0)
				return true;
		}
	}
	return false;
}

/*
 * Query signing: S3 API Reference, "Authenticating Requests: Using Query
 * Parameters (AWS Signature Version 4)". Every X-Amz-* parameter but the
 * signature, the security token included, is part of the canonical query
 * string; X-Amz-Signature is appended after it.
 */
int sigv4_presign(char **out, struct sigv4_trace *trace,
		  const struct sigv4_signer *s, const struct sigv4_request *r,
		  const char *amz_datetime, long expires)
{
	struct sigv4_scope scope;
	struct buf query = SB_INIT, lines = SB_INIT, names = SB_INIT,
		   credential = SB_INIT;
	struct sigv4_kv extra[6];
	size_t nextra = 0;
	char expires_str[24];
	char *creq = NULL;
	char sig[65] = "";
	int rc;

	*out = NULL;
	if (trace != NULL)
		*trace = (struct sigv4_trace){0};
	if (!signer_valid(s) || !datetime_valid(amz_datetime) ||
	    !request_valid(r, true) || expires < 1 ||
	    expires > SIGV4_PRESIGN_MAX_EXPIRES || query_has_auth(r))
		return SIGV4_EINVAL;
	make_scope(&scope, s, amz_datetime);
	snprintf(expires_str, sizeof(expires_str), "%ld", expires);
	rc = canonical_headers(&lines, &names, r->headers, r->nheaders);
	if (rc != SIGV4_OK)
		goto out;
	sb_add_credential(&credential, s, &scope);
	rc = sb_err(&credential);
	if (rc != SIGV4_OK)
		goto out;
	extra[nextra++] = (struct sigv4_kv){"X-Amz-Algorithm", SIGV4_ALGORITHM};
	extra[nextra++] =
		(struct sigv4_kv){"X-Amz-Credential", credential.data};
	extra[nextra++] = (struct sigv4_kv){"X-Amz-Date", amz_datetime};
	extra[nextra++] = (struct sigv4_kv){"X-Amz-Expires", expires_str};
	extra[nextra++] = (struct sigv4_kv){"X-Amz-SignedHeaders", names.data};
	if (has_token(s))
		extra[nextra++] = (struct sigv4_kv){"X-Amz-Security-Token",
						    s->session_token};
	rc = canonical_query(&query, r->query, r->nquery, extra, nextra);
	if (rc != SIGV4_OK)
		goto out;
	rc = join_canonical(&creq, r, query.data, lines.data, names.data,
			    r->payload_hash ? r->payload_hash
					    : SIGV4_UNSIGNED_PAYLOAD);
	if (rc != SIGV4_OK)
		goto out;
	rc = sign_canonical(sig, trace, s, &scope, amz_datetime, creq);
	if (rc != SIGV4_OK)
		goto out;
	buf_add_str(&query, "&X-Amz-Signature=");
	buf_add_str(&query, sig);
	rc = sb_finish(out, &query);
	if (rc == SIGV4_OK && trace != NULL) {
		trace->canonical_request = creq;
		creq = NULL;
	}
out:
	if (rc != SIGV4_OK)
		sigv4_trace_dispose(trace);
	OPENSSL_cleanse(sig, sizeof(sig));
	sigv4_str_free(creq);
	buf_dispose(&query);
	buf_dispose(&lines);
	buf_dispose(&names);
	buf_dispose(&credential);
	return rc;
}
