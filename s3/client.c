/*
 * The S3 client: options, the connection, and the one request engine
 * (sign, send, classify, retry) that every operation goes through.
 */
#include "s3/s3_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <libxml/parser.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include "common/clock.h"
#include "common/redact.h"
#include "common/wipe.h"
#include "s3/xml.h"

/* A difference between the server's clock and ours worth correcting. */
#define SKEW_TOLERANCE 300
/* A wait between retries looks at the cancel callback this often. */
#define CANCEL_POLL_MS 50

static char *dup_or_null(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

void s3_error_set(s3_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	redact(err->msg, sizeof(err->msg));
}

void s3_log(const s3_client *c, enum s3_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!c->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	redact(line, sizeof(line));
	c->log(c->log_ctx, level, line);
}

char *s3_what(const char *op, const char *key)
{
	char *w;

	if (asprintf(&w, "%s %s", op, key ? key : "") < 0)
		return NULL;
	return w;
}

time_t s3_now(const s3_client *c)
{
	time_t t = c->clock ? c->clock(c->clock_ctx) : time(NULL);

	return t + c->skew;
}

long s3_client_skew(const s3_client *c)
{
	return c->skew;
}

time_t s3_client_credentials_expire(const s3_client *c)
{
	return c->creds.expire;
}

bool s3_cancelled(const s3_client *c)
{
	return !c->cleanup && c->cancelled && c->cancelled(c->cancelled_ctx);
}

int s3_list_check_pages(const s3_client *c, unsigned long pages,
			const char *what, s3_error *err)
{
	if (pages < c->max_list_pages)
		return S3_OK;
	s3_error_set(err, S3_EPROTO,
		     "%s: more than %lu pages: stopped (a listing that does "
		     "not end)",
		     what, c->max_list_pages);
	return S3_EPROTO;
}

int s3_list_check_keys(const s3_client *c, uint64_t keys, const char *what,
		       s3_error *err)
{
	if (keys <= c->max_list_keys)
		return S3_OK;
	s3_error_set(err, S3_EPROTO, "%s: more than %llu keys: stopped", what,
		     (unsigned long long)c->max_list_keys);
	return S3_EPROTO;
}

void s3_client_set_cleanup(s3_client *c, long timeout_ms)
{
	c->cleanup = true;
	c->request_timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
}

/* Forget what one attempt learned from the headers (keep delivered). */
static void resp_reset_headers(struct s3_resp *resp)
{
	size_t i;

	free(resp->etag);
	free(resp->content_type);
	free(resp->request_id);
	for (i = 0; i < resp->nmeta * 2; i++)
		free(resp->meta[i]);
	free(resp->meta);
	resp->etag = resp->content_type = resp->request_id = NULL;
	resp->meta = NULL;
	resp->nmeta = 0;
	resp->status = 0;
	resp->date = resp->last_modified = 0;
	resp->content_length = 0;
	resp->has_length = false;
	resp->ebody.len = 0;
	resp->ebody.err = BUF_OK; /* each attempt keeps its own answer */
	if (resp->ebody.data)
		resp->ebody.data[0] = '\0';
	/* A body kept in memory is asked for whole again: what a broken
	 * attempt left would stand before it. (A streamed body resumes
	 * instead, and never fills this one.) */
	resp->body.len = 0;
	resp->body.err = BUF_OK;
	if (resp->body.data)
		resp->body.data[0] = '\0';
}

void s3_resp_dispose(struct s3_resp *resp)
{
	resp_reset_headers(resp);
	buf_dispose(&resp->body);
	buf_dispose(&resp->ebody);
}

/*
 * Endpoint "scheme://host[:port][/path]": split it, drop a default port
 * (curl would not send it in Host, and we sign what is sent).
 */
static int parse_endpoint(s3_client *c, const char *endpoint, s3_error *err)
{
	const char *p, *slash;
	size_t hostlen;

	if (strncmp(endpoint, "https://", 8) == 0) {
		c->scheme = strdup("https");
		p = endpoint + 8;
	} else if (strncmp(endpoint, "http://", 7) == 0) {
		c->scheme = strdup("http");
		p = endpoint + 7;
	} else {
		s3_error_set(
			err, S3_EINVAL,
			"endpoint '%s' must start with http:// or https://",
			endpoint);
		return S3_EINVAL;
	}
	if (!c->scheme)
		return S3_ENOMEM;
	slash = strchr(p, '/');
	hostlen = slash ? (size_t)(slash - p) : strlen(p);
	if (hostlen == 0 || memchr(p, '@', hostlen) ||
	    memchr(p, '?', hostlen)) {
		s3_error_set(err, S3_EINVAL, "endpoint '%s' has no usable host",
			     endpoint);
		return S3_EINVAL;
	}
	c->host = strndup(p, hostlen);
	c->base_path = strdup(slash ? slash : "");
	if (!c->host || !c->base_path)
		return S3_ENOMEM;
	/* No trailing '/' on the base path: keys bring their own. */
	hostlen = strlen(c->base_path);
	while (hostlen > 0 && c->base_path[hostlen - 1] == '/')
		c->base_path[--hostlen] = '\0';
	hostlen = strlen(c->host);
	if (strcmp(c->scheme, "https") == 0 && hostlen > 4 &&
	    strcmp(c->host + hostlen - 4, ":443") == 0)
		c->host[hostlen - 4] = '\0';
	if (strcmp(c->scheme, "http") == 0 && hostlen > 3 &&
	    strcmp(c->host + hostlen - 3, ":80") == 0)
		c->host[hostlen - 3] = '\0';
	return S3_OK;
}

/* The host of an endpoint's authority is loopback: 127.0.0.0/8, ::1 or
 * localhost, nothing that merely resolves there (a name can be made to
 * resolve anywhere). */
static bool host_is_loopback(const char *auth, size_t len)
{
	const char *at = memchr(auth, '@', len), *end;
	char host[64];
	struct in_addr a4;
	struct in6_addr a6;
	size_t n;

	if (at) {
		len -= (size_t)(at + 1 - auth);
		auth = at + 1;
	}
	if (len > 0 && auth[0] == '[') {
		end = memchr(auth, ']', len);
		if (!end || (size_t)(end - auth - 1) >= sizeof(host))
			return false;
		n = (size_t)(end - auth - 1);
		memcpy(host, auth + 1, n);
		host[n] = '\0';
		return inet_pton(AF_INET6, host, &a6) == 1 &&
		       IN6_IS_ADDR_LOOPBACK(&a6);
	}
	end = memchr(auth, ':', len);
	n = end ? (size_t)(end - auth) : len;
	if (n >= sizeof(host))
		return false;
	memcpy(host, auth, n);
	host[n] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return true;
	return inet_pton(AF_INET, host, &a4) == 1 &&
	       (ntohl(a4.s_addr) >> 24) == 127;
}

bool s3_endpoint_in_clear(const char *endpoint)
{
	const char *auth;

	if (!endpoint || strncasecmp(endpoint, "http://", 7) != 0)
		return false;
	auth = endpoint + 7;
	return !host_is_loopback(auth, strcspn(auth, "/?#"));
}

static bool bucket_name_valid(const char *b)
{
	size_t n = strlen(b);

	/* S3's rules, loosely: 3..63 of [a-z0-9.-] (and '_' for old stores). */
	return n >= 3 && n <= 63 &&
	       strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-_") == n;
}

/*
 * libcurl and libxml2 each have a global initialisation that is not
 * thread-safe: do both once, before any client (and so any upload
 * thread) exists.
 */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
	xmlInitParser();
}

int s3_client_new(s3_client **out, const s3_options *o, s3_error *err)
{
	s3_client *c = NULL;
	bool failed = false;
	char aws[128];
	int rc = S3_ENOMEM;
	const char *const *r;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	pthread_once(&global_once, global_init);
	if (global_rc != 0) {
		s3_error_set(err, S3_ENOMEM, "cannot initialise libcurl");
		return S3_ENOMEM;
	}
	if (!o->bucket || !bucket_name_valid(o->bucket)) {
		s3_error_set(err, S3_EINVAL, "bucket name '%s' is not valid",
			     o->bucket ? o->bucket : "");
		return S3_EINVAL;
	}
	if (!o->region || !*o->region ||
	    strspn(o->region, "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
		    strlen(o->region)) {
		s3_error_set(err, S3_EINVAL, "region '%s' is not valid",
			     o->region ? o->region : "");
		return S3_EINVAL;
	}
	if ((!o->access_key || !o->secret_key) && !o->use_imds) {
		s3_error_set(err, S3_ECRED,
			     "no credentials: set an access key and a secret "
			     "key");
		return S3_ECRED;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	sigv4_key_cache_init(&c->key_cache);
	if (o->endpoint) {
		rc = parse_endpoint(c, o->endpoint, err);
	} else {
		snprintf(aws, sizeof(aws), "https://s3.%s.amazonaws.com",
			 o->region);
		rc = parse_endpoint(c, aws, err);
	}
	if (rc == S3_ENOMEM)
		goto nomem;
	if (rc)
		goto fail;
	if (!o->allow_http && s3_endpoint_in_clear(o->endpoint)) {
		rc = S3_EINVAL;
		s3_error_set(err, rc,
			     "endpoint '%s' is plain http to a host that is "
			     "not loopback: requests are signed, but the data "
			     "and metadata travel in the clear and can be read "
			     "or altered on the way; use https://, or set "
			     "allow_http to accept that",
			     o->endpoint);
		goto fail;
	}
	c->region = dup_or_null(o->region, &failed);
	c->bucket = dup_or_null(o->bucket, &failed);
	c->virtual_hosted = o->virtual_hosted;
	c->creds.access_key = dup_or_null(o->access_key, &failed);
	c->creds.secret_key = dup_or_null(o->secret_key, &failed);
	c->creds.session_token = dup_or_null(
		o->session_token && *o->session_token ? o->session_token : NULL,
		&failed);
	c->creds.expire = o->credentials_expire;
	c->use_imds = o->use_imds && !o->access_key;
	c->imds_endpoint = dup_or_null(
		o->imds_endpoint ? o->imds_endpoint : "http://169.254.169.254",
		&failed);
	c->ca_file = dup_or_null(o->ca_file, &failed);
	c->user_agent =
		dup_or_null(o->user_agent ? o->user_agent : "offsite", &failed);
	if (failed)
		goto nomem;
	c->connect_timeout_ms =
		o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
	c->stall_timeout_s = o->stall_timeout_s > 0 ? o->stall_timeout_s : 60;
	c->max_attempts = o->max_attempts > 0 ? o->max_attempts : 1;
	c->retry_base_ms = o->retry_base_ms > 0 ? o->retry_base_ms : 1;
	c->retry_max_ms = o->retry_max_ms > 0 ? o->retry_max_ms : 1;
	c->retry_budget_ms = o->retry_budget_ms >= 0 ? o->retry_budget_ms : 0;
	c->request_timeout_ms =
		o->request_timeout_ms > 0 ? o->request_timeout_ms : 0;
	c->max_error_body = o->max_error_body ? o->max_error_body : 64 * 1024;
	c->max_list_keys =
		o->max_list_keys ? o->max_list_keys : S3_LIST_MAX_KEYS;
	c->max_list_pages =
		o->max_list_pages ? o->max_list_pages : S3_LIST_MAX_PAGES;
	c->clock = o->clock;
	c->clock_ctx = o->clock_ctx;
	c->log = o->log;
	c->log_ctx = o->log_ctx;
	c->cancelled = o->cancelled;
	c->cancelled_ctx = o->cancelled_ctx;
	for (r = o->resolve; r && *r; r++) {
		struct curl_slist *l = curl_slist_append(c->resolve, *r);
		if (!l)
			goto nomem;
		c->resolve = l;
	}
	c->curl = curl_easy_init();
	if (!c->curl)
		goto nomem;
	if (c->use_imds) {
		rc = s3_imds_fetch(c, err);
		if (rc)
			goto fail;
	}
	*out = c;
	return S3_OK;
nomem:
	rc = S3_ENOMEM;
	s3_error_set(err, rc, "out of memory creating the S3 client");
fail:
	s3_client_free(c);
	return rc;
}

void s3_client_free(s3_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->resolve);
	free(c->scheme);
	free(c->host);
	free(c->base_path);
	free(c->region);
	free(c->bucket);
	free(c->creds.access_key);
	wipe_free_str(c->creds.secret_key);
	wipe_free_str(c->creds.session_token);
	free(c->imds_endpoint);
	free(c->ca_file);
	free(c->user_agent);
	sigv4_key_cache_dispose(&c->key_cache);
	free(c);
}

int s3_encode_key(char **out, const char *key)
{
	int rc = sigv4_uri_encode(out, key, false);

	if (rc == SIGV4_ENOMEM)
		return S3_ENOMEM;
	return rc ? S3_EINVAL : S3_OK;
}

/* ---- one attempt ---- */

struct attempt {
	s3_client *c;
	const struct s3_req *r;
	struct s3_resp *resp;
	size_t sent;   /* bytes of the request body sent */
	uint64_t skip; /* bytes of a resumed body already delivered */
};

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct attempt *a = ud;
	size_t want = size * nmemb, left = a->r->body_len - a->sent;

	if (want > left)
		want = left;
	memcpy(buf, (const char *)a->r->body + a->sent, want);
	a->sent += want;
	return want;
}

/* libcurl rewinds when it must resend (a redirect, a dropped keep-alive). */
static int seek_cb(void *ud, curl_off_t offset, int origin)
{
	struct attempt *a = ud;

	if (origin != SEEK_SET || offset < 0 ||
	    (uint64_t)offset > a->r->body_len)
		return CURL_SEEKFUNC_FAIL;
	a->sent = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

static bool is_2xx(long status)
{
	return status >= 200 && status < 300;
}

/* WANT (quoted or not) and GOT (quotes stripped) name one entity tag. */
static bool same_etag(const char *want, const char *got)
{
	size_t n = strlen(want);

	if (got == NULL)
		return false;
	if (n >= 2 && want[0] == '"' && want[n - 1] == '"')
		return strlen(got) == n - 2 &&
		       memcmp(want + 1, got, n - 2) == 0;
	return strcmp(want, got) == 0;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	struct attempt *a = ud;
	struct s3_resp *resp = a->resp;
	size_t n = size * nmemb;

	if (!is_2xx(resp->status)) {
		/* Keep the start of an error answer; drop the rest. */
		size_t room = resp->ebody.max - resp->ebody.len;
		if (n < room)
			room = n;
		if (room && buf_add(&resp->ebody, data, room) != BUF_OK)
			return 0;
		return n;
	}
	if (a->r->sink) {
		/* A server that ignores If-Match still names what it sends:
		 * another object's bytes must not reach the sink. */
		if (a->r->if_match && !same_etag(a->r->if_match, resp->etag)) {
			resp->not_matched = true;
			return 0;
		}
		if (a->r->sink(a->r->sink_ctx, data, n) != 0) {
			resp->sink_stopped = true;
			return 0;
		}
		resp->delivered += n;
		return n;
	}
	if (buf_add(&resp->body, data, n) != BUF_OK) {
		resp->too_big = true;
		return 0;
	}
	return n;
}

/* Trim blanks and the line end from [*v, end). */
static void trim(const char **v, const char **end)
{
	while (*v < *end && (**v == ' ' || **v == '\t'))
		(*v)++;
	while (*end > *v && ((*end)[-1] == '\r' || (*end)[-1] == '\n' ||
			     (*end)[-1] == ' ' || (*end)[-1] == '\t'))
		(*end)--;
}

static char *header_value(const char *line, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *v, *end = line + len;

	if (len <= nlen || strncasecmp(line, name, nlen) != 0 ||
	    line[nlen] != ':')
		return NULL;
	v = line + nlen + 1;
	trim(&v, &end);
	return strndup(v, (size_t)(end - v));
}

static char *strip_quotes(char *s)
{
	size_t n;

	if (!s)
		return s;
	n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
	return s;
}

static int add_meta(struct s3_resp *resp, const char *line, size_t len)
{
	static const char prefix[] = "x-amz-meta-";
	const char *colon = memchr(line, ':', len), *v, *end = line + len;
	char *name, *value, **m;
	char *p;

	if (!colon)
		return 0;
	v = colon + 1;
	trim(&v, &end);
	name = strndup(line + sizeof(prefix) - 1,
		       (size_t)(colon - line) - (sizeof(prefix) - 1));
	value = strndup(v, (size_t)(end - v));
	m = realloc(resp->meta, (resp->nmeta + 1) * 2 * sizeof(*m));
	if (m)
		resp->meta = m;
	if (!name || !value || !m) {
		free(name);
		free(value);
		return -1;
	}
	for (p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	m[resp->nmeta * 2] = name;
	m[resp->nmeta * 2 + 1] = value;
	resp->nmeta++;
	return 0;
}

static size_t header_cb(char *line, size_t size, size_t nmemb, void *ud)
{
	struct attempt *a = ud;
	struct s3_resp *resp = a->resp;
	size_t n = size * nmemb;
	char *v;

	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new answer (after 100 Continue, say): start over. */
		const char *sp = memchr(line, ' ', n);
		resp_reset_headers(resp);
		resp->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return n;
	}
	if ((v = header_value(line, n, "etag"))) {
		free(resp->etag);
		resp->etag = strip_quotes(v);
	} else if ((v = header_value(line, n, "content-type"))) {
		free(resp->content_type);
		resp->content_type = v;
	} else if ((v = header_value(line, n, "x-amz-request-id"))) {
		free(resp->request_id);
		resp->request_id = v;
	} else if ((v = header_value(line, n, "date"))) {
		resp->date = curl_getdate(v, NULL);
		free(v);
	} else if ((v = header_value(line, n, "last-modified"))) {
		resp->last_modified = curl_getdate(v, NULL);
		free(v);
	} else if ((v = header_value(line, n, "content-length"))) {
		char *end;
		errno = 0;
		unsigned long long l = strtoull(v, &end, 10);
		if (errno == 0 && end != v && *end == '\0' && v[0] != '-') {
			resp->content_length = l;
			resp->has_length = true;
		}
		free(v);
	} else if (n > 11 && strncasecmp(line, "x-amz-meta-", 11) == 0) {
		/* S3 allows 2 KB of metadata; a server sending more headers
		 * than we could ever have set gets the rest ignored. */
		if (resp->nmeta < S3_MAX_METADATA && add_meta(resp, line, n))
			return 0;
	}
	return n;
}

/*
 * libcurl's codes, translated in this one place: the message, and whether
 * trying again can help.
 */
static bool curl_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SEND_FAIL_REWIND:
		return true;
	default:
		return false;
	}
}

static const char *curl_hint(CURLcode cc)
{
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return " (the server's certificate was not trusted: check "
		       "ca_file)";
	case CURLE_SSL_CACERT_BADFILE:
		return " (ca_file cannot be read)";
	case CURLE_OPERATION_TIMEDOUT:
		return " (no progress within the stall timeout)";
	default:
		return "";
	}
}

/* S3 answers worth another try (AWS: "Error retries and backoff"). */
static bool status_retryable(long status, const char *code)
{
	if (status == 500 || status == 502 || status == 503 || status == 504 ||
	    status == 429)
		return true;
	return strcmp(code, "RequestTimeout") == 0 ||
	       strcmp(code, "SlowDown") == 0 ||
	       strcmp(code, "InternalError") == 0 ||
	       strcmp(code, "ServiceUnavailable") == 0 ||
	       strcmp(code, "Throttling") == 0;
}

/* The URL and the canonical path of R. */
int s3_build_target(char **url, char **path, char **host, s3_client *c,
		    const char *key, const char *query)
{
	char *ekey = NULL;
	int rc;

	*url = *path = *host = NULL;
	if (key) {
		rc = s3_encode_key(&ekey, key);
		if (rc)
			return rc;
	}
	if (c->virtual_hosted) {
		if (asprintf(host, "%s.%s", c->bucket, c->host) < 0)
			*host = NULL;
		if (asprintf(path, "%s/%s", c->base_path, ekey ? ekey : "") < 0)
			*path = NULL;
	} else {
		*host = strdup(c->host);
		if (asprintf(path, "%s/%s%s%s", c->base_path, c->bucket,
			     ekey ? "/" : "", ekey ? ekey : "") < 0)
			*path = NULL;
	}
	free(ekey);
	if (!*host || !*path)
		goto nomem;
	if (asprintf(url, "%s://%s%s%s%s", c->scheme, *host, *path,
		     query && *query ? "?" : "", query ? query : "") < 0) {
		*url = NULL;
		goto nomem;
	}
	return S3_OK;
nomem:
	free(*host);
	free(*path);
	*host = *path = NULL;
	return S3_ENOMEM;
}

/* The canonical (sorted, encoded) query string, which is also what we send. */
static int build_query(char **out, const struct s3_req *r)
{
	char *creq = NULL, *p, *q;
	struct sigv4_request sr = {
		.method = "GET",
		.path = "/",
		.query = r->query,
		.nquery = r->nquery,
		.headers = &(struct sigv4_kv){"host", "x"},
		.nheaders = 1,
		.payload_hash = SIGV4_UNSIGNED_PAYLOAD,
	};
	int rc;

	*out = NULL;
	if (r->nquery == 0) {
		*out = strdup("");
		return *out ? S3_OK : S3_ENOMEM;
	}
	/* The canonical request's second line is the canonical query. */
	rc = sigv4_canonical_request(&creq, NULL, &sr);
	if (rc)
		return rc == SIGV4_ENOMEM ? S3_ENOMEM : S3_EINVAL;
	p = strchr(creq, '\n');
	p = p ? strchr(p + 1, '\n') : NULL;
	q = p ? strchr(p + 1, '\n') : NULL;
	if (!p || !q) {
		sigv4_str_free(creq);
		return S3_EINVAL;
	}
	*out = strndup(p + 1, (size_t)(q - p - 1));
	sigv4_str_free(creq);
	return *out ? S3_OK : S3_ENOMEM;
}

static int md5_base64(char out[32], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) != 1 ||
	    mdlen != 16)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, md, 16);
	return 0;
}

#define MAX_HEADERS 48

struct signed_headers {
	struct sigv4_kv kv[MAX_HEADERS];
	size_t n;
	struct curl_slist *list;
	char amz_date[17];
	char sha[65];
	char md5[32];
	char range[64];
	char *auth;
};

static int push(struct signed_headers *h, const char *name, const char *value)
{
	char *line;
	struct curl_slist *l;

	if (h->n >= MAX_HEADERS)
		return S3_EINVAL;
	h->kv[h->n].name = name;
	h->kv[h->n].value = value;
	h->n++;
	if (asprintf(&line, "%s: %s", name, value) < 0)
		return S3_ENOMEM;
	l = curl_slist_append(h->list, line);
	wipe_free_str(line);
	if (!l)
		return S3_ENOMEM;
	h->list = l;
	return S3_OK;
}

static void signed_headers_dispose(struct signed_headers *h)
{
	struct curl_slist *l;

	for (l = h->list; l; l = l->next)
		OPENSSL_cleanse(l->data, strlen(l->data));
	curl_slist_free_all(h->list);
	if (h->auth)
		sigv4_str_free(h->auth);
	memset(h, 0, sizeof(*h));
}

void s3_signer(struct sigv4_signer *s, s3_client *c)
{
	s->access_key = c->creds.access_key;
	s->secret_key = c->creds.secret_key;
	s->session_token = c->creds.session_token;
	s->region = c->region;
	s->service = "s3";
	s->cache = &c->key_cache;
}

/* Build and sign the headers of one attempt. */
static int sign_headers(struct signed_headers *h, s3_client *c,
			const struct s3_req *r, const char *host,
			const char *path, uint64_t resume, const char *if_match,
			s3_error *err)
{
	struct sigv4_signer signer;
	struct sigv4_request sr = {0};
	struct curl_slist *l;
	char *line = NULL;
	size_t i;
	int rc;

	memset(h, 0, sizeof(*h));
	s3_signer(&signer, c);
	if (sigv4_format_time(h->amz_date, NULL, s3_now(c))) {
		s3_error_set(err, S3_EINVAL, "the clock is out of range");
		return S3_EINVAL;
	}
	if (sigv4_sha256_hex(h->sha, r->body ? r->body : "", r->body_len)) {
		s3_error_set(err, S3_ENOMEM, "cannot hash the request body");
		return S3_ENOMEM;
	}
	rc = push(h, "Host", host);
	rc = rc ? rc : push(h, "x-amz-date", h->amz_date);
	rc = rc ? rc : push(h, "x-amz-content-sha256", h->sha);
	if (!rc && c->creds.session_token)
		rc = push(h, "x-amz-security-token", c->creds.session_token);
	if (!rc && r->content_md5) {
		if (md5_base64(h->md5, r->body ? r->body : "", r->body_len))
			rc = S3_ENOMEM;
		else
			rc = push(h, "Content-MD5", h->md5);
	}
	if (!rc && (r->ranged || resume)) {
		uint64_t from = r->range_offset + resume;
		if (r->ranged && r->range_length)
			snprintf(h->range, sizeof(h->range), "bytes=%llu-%llu",
				 (unsigned long long)from,
				 (unsigned long long)(r->range_offset +
						      r->range_length - 1));
		else
			snprintf(h->range, sizeof(h->range), "bytes=%llu-",
				 (unsigned long long)from);
		rc = push(h, "Range", h->range);
	}
	if (!rc && if_match)
		rc = push(h, "If-Match", if_match);
	for (i = 0; !rc && i < r->nheaders; i++)
		rc = push(h, r->headers[i].name, r->headers[i].value);
	if (rc) {
		s3_error_set(err, rc, "cannot build the request headers");
		return rc;
	}

	sr.method = r->method;
	sr.path = path;
	sr.query = r->query;
	sr.nquery = r->nquery;
	sr.headers = h->kv;
	sr.nheaders = h->n;
	sr.payload_hash = h->sha;
	rc = sigv4_authorization(&h->auth, NULL, &signer, &sr, h->amz_date);
	if (rc) {
		rc = rc == SIGV4_ENOMEM ? S3_ENOMEM : S3_EINVAL;
		s3_error_set(err, rc, "cannot sign the request: %s",
			     sigv4_strerror(rc));
		return rc;
	}
	if (asprintf(&line, "Authorization: %s", h->auth) < 0)
		return S3_ENOMEM;
	l = curl_slist_append(h->list, line);
	wipe_free_str(line);
	if (!l)
		return S3_ENOMEM;
	h->list = l;
	/* Headers curl would add on its own, which we did not sign. */
	l = curl_slist_append(h->list, "Expect:");
	if (l)
		h->list = l;
	for (i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, "content-type") == 0)
			break;
	if (l && r->body && i == r->nheaders) {
		l = curl_slist_append(h->list, "Content-Type:");
		if (l)
			h->list = l;
	}
	return l ? S3_OK : S3_ENOMEM;
}

static int progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct attempt *a = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (s3_cancelled(a->c)) {
		a->resp->cancelled = true;
		return 1;
	}
	return 0;
}

static void setup_curl(s3_client *c, struct attempt *a, const char *url,
		       struct curl_slist *headers, long timeout_ms)
{
	CURL *h = c->curl;
	const struct s3_req *r = a->r;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* S3 keys may hold "." and ".." segments: send the path as it is. */
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	/* A stalled transfer fails; a long healthy one does not. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->stall_timeout_s);
	if (timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->resolve)
		curl_easy_setopt(h, CURLOPT_RESOLVE, c->resolve);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	if (c->cancelled) {
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, a);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}

	if (r->head) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, a);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, a);
	}
}

/* What is left of the request's time limit; LONG_MAX without one. */
static long time_left_ms(const s3_client *c, const struct timespec *t0)
{
	if (c->request_timeout_ms <= 0)
		return LONG_MAX;
	return c->request_timeout_ms - (long)mono_elapsed_ms(t0);
}

enum backoff_result {
	BACKOFF_DONE,
	BACKOFF_BUDGET,	   /* the retry budget is spent */
	BACKOFF_LATE,	   /* the wait would pass the time limit */
	BACKOFF_CANCELLED, /* the caller asked to stop */
};

/*
 * Wait for a backoff with full jitter, within the retry budget and what
 * is left of the request's time limit (LEFT_MS). The wait is cut into
 * short sleeps so that a cancel ends it at once.
 */
static enum backoff_result backoff(s3_client *c, unsigned attempt,
				   long *spent_ms, long left_ms)
{
	long cap = c->retry_base_ms;
	unsigned i;
	uint32_t rnd = 0;
	long wait;

	for (i = 1; i < attempt && cap < c->retry_max_ms; i++)
		cap *= 2;
	if (cap > c->retry_max_ms)
		cap = c->retry_max_ms;
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = (uint32_t)attempt * 2654435761u;
	wait = (long)(rnd % (uint32_t)(cap + 1));
	if (*spent_ms + wait > c->retry_budget_ms)
		return BACKOFF_BUDGET;
	if (wait >= left_ms)
		return BACKOFF_LATE;
	*spent_ms += wait;
	while (wait > 0) {
		long slice = wait < CANCEL_POLL_MS ? wait : CANCEL_POLL_MS;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = slice * 1000000L};

		if (s3_cancelled(c))
			return BACKOFF_CANCELLED;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		wait -= slice;
	}
	return s3_cancelled(c) ? BACKOFF_CANCELLED : BACKOFF_DONE;
}

/* Learn the server's clock from its Date header. */
static bool note_skew(s3_client *c, time_t server_date)
{
	time_t ours;
	long diff;

	if (server_date <= 0)
		return false;
	ours = c->clock ? c->clock(c->clock_ctx) : time(NULL);
	diff = (long)(server_date - ours);
	if (labs(diff - c->skew) <= SKEW_TOLERANCE)
		return false;
	c->skew = labs(diff) > SKEW_TOLERANCE ? diff : 0;
	if (!c->skew_logged) {
		s3_log(c, S3_LOG_WARN,
		       "the server's clock differs from ours by %ld s; signing "
		       "with its time",
		       diff);
		c->skew_logged = true;
	}
	return true;
}

/* Fill ERR from an error answer. */
static int http_error(s3_error *err, const struct s3_resp *resp,
		      const char *what)
{
	struct s3xml_error e = {0};
	int code = resp->status == 404 ? S3_ENOTFOUND : S3_EHTTP;
	bool parsed = resp->ebody.len > 0 &&
		      s3xml_parse_error(resp->ebody.data, resp->ebody.len,
					&e) == S3XML_OK;

	s3_error_set(err, code, "%s: HTTP %ld%s%s%s%s", what, resp->status,
		     parsed && e.code[0] ? " " : "", parsed ? e.code : "",
		     parsed && e.message[0] ? ": " : "",
		     parsed ? e.message : "");
	err->http_status = resp->status;
	if (parsed) {
		snprintf(err->s3_code, sizeof(err->s3_code), "%s", e.code);
		snprintf(err->request_id, sizeof(err->request_id), "%s",
			 e.request_id);
	} else if (resp->request_id) {
		snprintf(err->request_id, sizeof(err->request_id), "%s",
			 resp->request_id);
	}
	if (err->request_id[0]) {
		size_t n = strlen(err->msg);
		snprintf(err->msg + n, sizeof(err->msg) - n, " (request id %s)",
			 err->request_id);
	}
	return code;
}

static bool creds_expiring(const s3_client *c)
{
	return c->use_imds && c->creds.expire &&
	       s3_now(c) > c->creds.expire - 300;
}

int s3_request(s3_client *c, const struct s3_req *r, struct s3_resp *resp,
	       const char *what, s3_error *err)
{
	char *query = NULL, *if_match = NULL;
	long spent_ms = 0, left_ms;
	struct timespec t0;
	unsigned attempt;
	enum backoff_result waited;
	int rc = S3_OK;

	memset(resp, 0, sizeof(*resp));
	memset(err, 0, sizeof(*err));
	buf_init(&resp->body, r->body_max ? r->body_max : 1024 * 1024, false);
	buf_init(&resp->ebody, c->max_error_body, false);
	rc = build_query(&query, r);
	if (rc) {
		s3_error_set(err, rc, "%s: bad query", what);
		return rc;
	}
	mono_now(&t0);
	if (r->if_match && !(if_match = strdup(r->if_match))) {
		free(query);
		s3_error_set(err, S3_ENOMEM, "out of memory");
		return S3_ENOMEM;
	}

	for (attempt = 1;; attempt++) {
		struct attempt a = {.c = c, .r = r, .resp = resp};
		struct signed_headers h;
		char *url = NULL, *path = NULL, *host = NULL;
		bool retry = false;
		CURLcode cc;

		/* Nothing more goes out once the caller asked to stop. */
		if (s3_cancelled(c)) {
			rc = S3_EABORTED;
			s3_error_set(err, rc, "%s: cancelled", what);
			break;
		}
		if (creds_expiring(c)) {
			rc = s3_imds_fetch(c, err);
			if (rc)
				break;
		}
		rc = s3_build_target(&url, &path, &host, c, r->key, query);
		if (rc) {
			s3_error_set(err, rc, "%s: cannot build the URL", what);
			break;
		}
		/* If-Match: the caller's on every attempt, else ours on a
		 * resumed body. */
		rc = sign_headers(
			&h, c, r, host, path, resp->delivered,
			r->if_match || resp->delivered ? if_match : NULL, err);
		if (rc) {
			free(url);
			free(path);
			free(host);
			signed_headers_dispose(&h);
			break;
		}
		left_ms = time_left_ms(c, &t0);
		setup_curl(c, &a, url, h.list,
			   left_ms == LONG_MAX ? 0
					       : (left_ms > 0 ? left_ms : 1));
		s3_log(c, S3_LOG_DEBUG, "%s %s (attempt %u)", r->method, url,
		       attempt);
		cc = curl_easy_perform(c->curl);
		curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
		signed_headers_dispose(&h);
		free(path);
		free(host);

		if (resp->cancelled || s3_cancelled(c)) {
			rc = S3_EABORTED;
			s3_error_set(err, rc, "%s: cancelled", what);
			free(url);
			break;
		}
		if (resp->not_matched) {
			rc = S3_EHTTP;
			s3_error_set(err, rc,
				     "%s: HTTP %ld with ETag %s, not %s: the "
				     "object changed (If-Match ignored)",
				     what, resp->status,
				     resp->etag ? resp->etag : "(none)",
				     r->if_match);
			err->http_status = 412;
			free(url);
			break;
		}
		if (resp->sink_stopped) {
			rc = S3_EABORTED;
			s3_error_set(err, rc, "%s: stopped by the receiver",
				     what);
			free(url);
			break;
		}
		if (resp->too_big) {
			rc = S3_EPROTO;
			s3_error_set(err, rc,
				     "%s: the answer is larger than %zu bytes",
				     what, resp->body.max);
			free(url);
			break;
		}
		if (cc == CURLE_OPERATION_TIMEDOUT &&
		    time_left_ms(c, &t0) <= 0) {
			rc = S3_ENET;
			s3_error_set(err, rc,
				     "%s: no answer within the time limit "
				     "(%ld ms)",
				     what, c->request_timeout_ms);
			free(url);
			break;
		}
		if (cc != CURLE_OK) {
			rc = S3_ENET;
			s3_error_set(err, rc, "%s: %s%s", what,
				     curl_easy_strerror(cc), curl_hint(cc));
			retry = curl_retryable(cc);
			/* A body already streamed resumes where it broke, and
			 * only from the same object. */
			if (retry && resp->delivered && !if_match) {
				if (resp->etag) {
					if_match = strdup(resp->etag);
					if (!if_match)
						retry = false;
				} else {
					retry = false;
				}
			}
		} else if (is_2xx(resp->status)) {
			note_skew(c, resp->date);
			if (r->sink && resp->etag && !if_match)
				if_match = strdup(resp->etag);
			rc = S3_OK;
			free(url);
			break;
		} else {
			bool skewed = note_skew(c, resp->date);
			rc = http_error(err, resp, what);
			retry = status_retryable(resp->status, err->s3_code) ||
				(skewed &&
				 (strcmp(err->s3_code,
					 "RequestTimeTooSkewed") == 0 ||
				  resp->status == 403));
			if (strcmp(err->s3_code, "ExpiredToken") == 0 &&
			    c->use_imds) {
				c->creds.expire = 1; /* refresh next time */
				retry = true;
			}
		}
		free(url);
		if (!retry || attempt >= c->max_attempts)
			break;
		s3_log(c, S3_LOG_INFO, "retrying: %s", err->msg);
		waited = backoff(c, attempt, &spent_ms, time_left_ms(c, &t0));
		if (waited == BACKOFF_CANCELLED) {
			rc = S3_EABORTED;
			s3_error_set(err, rc, "%s: cancelled", what);
			break;
		}
		if (waited != BACKOFF_DONE) {
			size_t n = strlen(err->msg);
			if (waited == BACKOFF_BUDGET)
				snprintf(err->msg + n, sizeof(err->msg) - n,
					 " (retry budget spent)");
			else
				snprintf(err->msg + n, sizeof(err->msg) - n,
					 " (time limit of %ld ms spent)",
					 c->request_timeout_ms);
			break;
		}
		rc = S3_OK;
	}
	if (rc && rc != S3_EABORTED && attempt > 1 &&
	    !strstr(err->msg, " spent)")) {
		size_t n = strlen(err->msg);
		snprintf(err->msg + n, sizeof(err->msg) - n,
			 " (after %u attempts)", attempt);
	}
	free(query);
	free(if_match);
	return rc;
}
