/*
 * notify: a JSON POST to [notify] webhook after a backup run that failed
 * (and, with on_success, one that succeeded), for chat or alerting hooks:
 *
 *   {"event": "backup.failed" | "backup.succeeded", "host", "type",
 *    "database", "key", "error" (null on success), "plain_bytes",
 *    "stored_bytes" (null when not known), "duration" (seconds),
 *    "time" ("2026-11-23T09:30:00Z", when the run ended)}
 *
 * No secret goes in: the error passes through redact(), and the URL
 * (which may carry a token) is never logged. One request waits at most
 * NOTIFY_TIMEOUT seconds; a transport error or a 5xx is tried once more;
 * a redirect is not followed (it counts as not delivered); https is
 * verified. A webhook that is not delivered costs one warning, never a
 * failed run or another exit status.
 */
#ifndef OFFSITE_AGENT_NOTIFY_H
#define OFFSITE_AGENT_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "conf/conf.h"

#define NOTIFY_TIMEOUT	    10L
#define NOTIFY_EVENT_FAILED "backup.failed"
#define NOTIFY_EVENT_OK	    "backup.succeeded"
/* An error longer than this is cut. */
#define NOTIFY_ERROR_MAX 1024

struct notify_event {
	bool success;
	const char *host;
	const char *type;
	const char *database;
	const char *key;
	const char *error; /* why it failed; ignored on success */
	bool has_bytes;
	uint64_t plain_bytes;
	uint64_t stored_bytes;
	double duration; /* seconds */
	time_t time;	 /* when the run ended */
};

/* The document for E: a new reference, or NULL when out of memory. */
json_t *notify_json(const struct notify_event *e);

/*
 * POST E's document to URL. Returns 0 when the server answered 2xx, or
 * -1 after logging one warning ("webhook not delivered").
 */
int notify_send(const char *url, const struct notify_event *e);

/* notify_send() to C's webhook if E is to be sent: a failure, or a
 * success with on_success. Returns 0 when nothing was to be sent. */
int notify_run(const conf *c, const struct notify_event *e);

#endif
