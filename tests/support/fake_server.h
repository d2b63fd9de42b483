/*
 * A scripted HTTP/1.1 server on 127.0.0.1 for fault injection: a 503 on
 * part 3, a connection dropped mid-body, a "200 OK" carrying an <Error>,
 * a skewed Date. It stands beside the real servers, never instead of them.
 *
 * It runs in a thread of the test process, on a port the kernel picks.
 * The test's handler is called for every request (concurrently when the
 * client opens several connections), and answers
 * with fake_reply() (or fake_reply_partial(), or fake_drop()). Every
 * request is recorded for the test to inspect afterwards.
 */
#ifndef OFFSITE_TESTS_FAKE_SERVER_H
#define OFFSITE_TESTS_FAKE_SERVER_H

#include <stddef.h>

#include "s3/s3.h"

#define FAKE_MAX_REQUESTS 256

struct fake_request {
	unsigned index; /* 0 for the first request the server saw */
	char method[16];
	char target[2048];  /* path and query, as sent */
	char headers[8192]; /* the raw header lines */
	char *body;	    /* NUL-terminated; freed by the server */
	size_t body_len;
};

struct fake_conn;

/* Answer the request; called on the server's thread. */
typedef void (*fake_handler)(void *ctx, const struct fake_request *req,
			     struct fake_conn *conn);

struct fake_server;

/* Start; *PORT receives the port. Returns 0 or -1. */
int fake_server_start(struct fake_server **out, int *port, fake_handler h,
		      void *ctx);
/* Stop the thread, close everything, free. NULL is fine. */
void fake_server_stop(struct fake_server *s);

/* Requests seen so far, and one of them (NULL past the end). */
unsigned fake_server_count(struct fake_server *s);
const struct fake_request *fake_server_request(struct fake_server *s,
					       unsigned i);

/* The value of header NAME (any case) in REQ, copied into OUT; or NULL. */
const char *fake_header(const struct fake_request *req, const char *name,
			char *out, size_t size);

/*
 * A whole answer: status line, Content-Length, EXTRA header lines (each
 * ending in "\r\n", may be NULL), then BODY. A Date header is added
 * unless EXTRA has one.
 */
void fake_reply(struct fake_conn *conn, int status, const char *extra,
		const void *body, size_t len);

/* Headers announcing LEN bytes, then only the first SENT, then close. */
void fake_reply_partial(struct fake_conn *conn, int status, const char *extra,
			const void *body, size_t len, size_t sent);

/* Close the connection without an answer. */
void fake_drop(struct fake_conn *conn);

/*
 * Answer nothing: hold the request until the client closes the
 * connection, the server is stopped, or MAX_MS pass (a bound for a test
 * that goes wrong); then close. A server that stalls.
 */
void fake_stall(struct fake_conn *conn, int max_ms);

/* An HTTP date for time T, for a skewed Date header. */
void fake_http_date(char out[64], long t);

/* The options of a client of the fake server at ENDPOINT: bucket "bkt",
 * test credentials (no secret of anyone's), retries after 1 to 5 ms. A
 * test sets what else it needs after this. */
void fake_s3_options(s3_options *o, const char *endpoint);

#endif
