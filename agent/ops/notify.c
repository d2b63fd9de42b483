/* notify: the webhook POST (libcurl), its JSON (jansson). */
#include "agent/ops/notify.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ops/log.h"
#include "agent/ops/report.h"
#include "common/redact.h"

/* Most of an answer we keep: only for the log, never parsed. */
#define NOTIFY_ANSWER_MAX 256

static int set_bytes(json_t *o, const char *name, bool known, uint64_t v)
{
	return json_object_set_new(
		o, name, known ? json_integer((json_int_t)v) : json_null());
}

static int set_str(json_t *o, const char *name, const char *v)
{
	return json_object_set_new(o, name, v ? json_string(v) : json_null());
}

json_t *notify_json(const struct notify_event *e)
{
	char ts[REPORT_TIME_MAX], error[NOTIFY_ERROR_MAX];
	json_t *o = json_object();
	int bad = 0;

	if (!o)
		return NULL;
	error[0] = '\0';
	if (!e->success) {
		snprintf(error, sizeof(error), "%s",
			 e->error && e->error[0] ? e->error : "failed");
		redact(error, sizeof(error));
	}
	bad |= set_str(o, "event",
		       e->success ? NOTIFY_EVENT_OK : NOTIFY_EVENT_FAILED);
	bad |= set_str(o, "host", e->host);
	bad |= set_str(o, "type", e->type);
	bad |= set_str(o, "database", e->database);
	bad |= set_str(o, "key", e->key);
	bad |= set_str(o, "error", e->success ? NULL : error);
	bad |= set_bytes(o, "plain_bytes", e->has_bytes, e->plain_bytes);
	bad |= set_bytes(o, "stored_bytes", e->has_bytes, e->stored_bytes);
	bad |= json_object_set_new(
		o, "duration", json_real(e->duration < 0 ? 0 : e->duration));
	bad |= set_str(o, "time", report_time(ts, e->time));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The answer is read and dropped, up to a cap. */
static size_t drop_answer(char *data, size_t size, size_t n, void *ctx)
{
	size_t *seen = ctx;

	(void)data;
	*seen += size * n;
	return *seen > 1024 * 1024 ? 0 : size * n;
}

/* One attempt: 0 for a 2xx; else -1 with WHY, and *RETRY when another
 * attempt could help (transport error, 5xx). */
static int post_once(const char *url, const char *body, char *why, size_t size,
		     bool *retry)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	size_t seen = 0;
	long status = 0;
	CURLcode cc;
	CURL *h;
	int rc = -1;

	*retry = false;
	h = curl_easy_init();
	hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (!h || !hdrs) {
		snprintf(why, size, "out of memory");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, NOTIFY_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, NOTIFY_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_USERAGENT, "offsite/" OFFSITE_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, drop_answer);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &seen);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		snprintf(why, size, "%s",
			 errbuf[0] ? errbuf : curl_easy_strerror(cc));
		*retry = cc != CURLE_URL_MALFORMAT &&
			 cc != CURLE_UNSUPPORTED_PROTOCOL;
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(why, size, "the server answered HTTP %ld%s", status,
			 status >= 300 && status < 400
				 ? " (redirects are not followed)"
				 : "");
		*retry = status >= 500;
		goto out;
	}
	rc = 0;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return rc;
}

int notify_send(const char *url, const struct notify_event *e)
{
	char why[CURL_ERROR_SIZE + 64] = "";
	char *body = NULL;
	json_t *doc = notify_json(e);
	bool retry = false;
	int rc = -1;

	if (doc)
		body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!body) {
		snprintf(why, sizeof(why), "out of memory");
		goto out;
	}
	rc = post_once(url, body, why, sizeof(why), &retry);
	/* Once more, for a blip; not for an answer that will not change. */
	if (rc && retry)
		rc = post_once(url, body, why, sizeof(why), &retry);
out:
	if (rc)
		log_event(LOG_WARN, "webhook not delivered", "event",
			  e->success ? NOTIFY_EVENT_OK : NOTIFY_EVENT_FAILED,
			  "error", why, NULL);
	free(body);
	return rc;
}

int notify_run(const conf *c, const struct notify_event *e)
{
	if (!c->notify.webhook || (e->success && !c->notify.on_success))
		return 0;
	return notify_send(c->notify.webhook, e);
}
