/*
 * The part writer against a scripted fake S3: parts in parallel and in
 * order, a part that fails for good aborts the upload (and never completes
 * it), a small stream is one PutObject, and the part size grows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/pipe/upload.h"
#include "agent/pipe/upload_internal.h"
#include "tests/support/fake_server.h"

#define MiB (1024u * 1024)

struct fake_s3 {
	unsigned fail_part;  /* 0: none */
	const char *message; /* the failed part's <Message>, or none */
	char endpoint[64];
};

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	struct fake_s3 *f = ctx;
	const char *body;
	unsigned part = 0;
	char etag[64], error[1024];
	const char *pn = strstr(req->target, "partNumber=");

	if (strcmp(req->method, "POST") == 0 &&
	    strstr(req->target, "?uploads")) {
		body = "<InitiateMultipartUploadResult><Bucket>bkt</Bucket>"
		       "<Key>k</Key><UploadId>UP1</UploadId>"
		       "</InitiateMultipartUploadResult>";
		fake_reply(conn, 200, NULL, body, strlen(body));
		return;
	}
	if (strcmp(req->method, "PUT") == 0 && pn) {
		part = (unsigned)atoi(pn + strlen("partNumber="));
		if (part == f->fail_part) {
			snprintf(error, sizeof(error),
				 "<Error><Code>InternalError</Code>"
				 "<Message>%s</Message></Error>",
				 f->message ? f->message : "");
			body = f->message ? error
					  : "<Error><Code>InternalError</Code>"
					    "</Error>";
			fake_reply(conn, 500, NULL, body, strlen(body));
			return;
		}
		snprintf(etag, sizeof(etag), "ETag: \"etag-%u\"\r\n", part);
		fake_reply(conn, 200, etag, "", 0);
		return;
	}
	if (strcmp(req->method, "POST") == 0 &&
	    strstr(req->target, "uploadId")) {
		body = "<CompleteMultipartUploadResult><Key>k</Key><ETag>\"x-3\""
		       "</ETag></CompleteMultipartUploadResult>";
		fake_reply(conn, 200, NULL, body, strlen(body));
		return;
	}
	if (strcmp(req->method, "DELETE") == 0) {
		fake_reply(conn, 204, NULL, "", 0);
		return;
	}
	fake_reply(conn, 200, "ETag: \"single\"\r\n", "", 0);
}

static int client_new(s3_client **out, void *ctx, bool (*cancelled)(void *),
		      void *cancelled_ctx, s3_error *err)
{
	struct fake_s3 *f = ctx;
	s3_options o;

	fake_s3_options(&o, f->endpoint);
	o.max_attempts = 2;
	o.cancelled = cancelled;
	o.cancelled_ctx = cancelled_ctx;
	return s3_client_new(out, &o, err);
}

static unsigned count(struct fake_server *s, const char *method,
		      const char *needle)
{
	unsigned i, n = 0;

	for (i = 0; i < fake_server_count(s); i++) {
		const struct fake_request *r = fake_server_request(s, i);
		if (strcmp(r->method, method) == 0 &&
		    (!needle || strstr(r->target, needle)))
			n++;
	}
	return n;
}

static void run(struct fake_s3 *f, struct fake_server **server, size_t total,
		size_t chunk, int *write_rc, int *finish_rc,
		struct agent_error *err, struct upload_result *res)
{
	struct upload_options o = {
		.key = "k",
		.part_size = 5 * MiB,
		.max_parts = 10000,
		.concurrency = 3,
		.client_new = client_new,
		.client_ctx = f,
	};
	struct stream *s;
	char *buf = malloc(chunk);
	size_t done = 0;
	int port;

	assert_non_null(buf);
	memset(buf, 'x', chunk);
	assert_int_equal(fake_server_start(server, &port, handler, f), 0);
	snprintf(f->endpoint, sizeof(f->endpoint), "http://127.0.0.1:%d", port);
	memset(err, 0, sizeof(*err));
	assert_int_equal(upload_new(&s, err, &o), AGENT_OK);
	*write_rc = AGENT_OK;
	*finish_rc = -1;
	while (done < total && *write_rc == AGENT_OK) {
		size_t n = total - done < chunk ? total - done : chunk;
		*write_rc = stream_write(s, buf, n);
		done += n;
	}
	if (*write_rc == AGENT_OK)
		*finish_rc = stream_finish(s);
	if (*write_rc != AGENT_OK || *finish_rc != AGENT_OK)
		upload_abort(s);
	else
		upload_result(s, res);
	stream_free(s);
	free(buf);
}

static void test_parts_in_parallel(void **state)
{
	struct fake_s3 f = {0};
	struct fake_server *server;
	struct agent_error err;
	struct upload_result res = {0};
	int wrc, frc;
	const struct fake_request *complete = NULL;
	unsigned i;

	(void)state;
	run(&f, &server, 23 * MiB, 1000 * 1000, &wrc, &frc, &err, &res);
	assert_int_equal(wrc, AGENT_OK);
	assert_int_equal(frc, AGENT_OK);
	assert_int_equal(count(server, "PUT", "partNumber="), 5);
	assert_int_equal(count(server, "DELETE", NULL), 0);
	assert_int_equal(res.parts, 5);
	assert_int_equal(res.bytes, 23 * MiB);
	for (i = 0; i < fake_server_count(server); i++) {
		const struct fake_request *r = fake_server_request(server, i);
		if (strcmp(r->method, "POST") == 0 &&
		    strstr(r->target, "uploadId"))
			complete = r;
	}
	/* Complete lists every part, in order, with its own ETag. */
	assert_non_null(complete);
	assert_non_null(
		strstr(complete->body,
		       "<PartNumber>1</PartNumber><ETag>\"etag-1\"</ETag>"));
	assert_non_null(
		strstr(complete->body,
		       "<PartNumber>5</PartNumber><ETag>\"etag-5\"</ETag>"));
	fake_server_stop(server);
}

static void test_failed_part_aborts(void **state)
{
	struct fake_s3 f = {.fail_part = 3};
	struct fake_server *server;
	struct agent_error err;
	struct upload_result res;
	int wrc, frc;

	(void)state;
	run(&f, &server, 30 * MiB, 64 * 1024, &wrc, &frc, &err, &res);
	assert_true(wrc != AGENT_OK || frc != AGENT_OK);
	assert_int_equal(err.code, AGENT_EIO);
	assert_non_null(strstr(err.msg, "part 3"));
	assert_non_null(strstr(err.msg, "InternalError"));
	/* Retried, then given up: aborted, never completed. */
	assert_true(count(server, "PUT", "partNumber=3") >= 2);
	assert_int_equal(count(server, "DELETE", "uploadId=UP1"), 1);
	assert_int_equal(count(server, "POST", "uploadId"), 0);
	fake_server_stop(server);
}

/* A long S3 message reaches the agent's error whole: the server's own
 * words, and what the client put after them, with nothing cut. */
static void test_long_message_whole(void **state)
{
	char message[501];
	struct fake_s3 f = {.fail_part = 2, .message = message};
	struct fake_server *server;
	struct agent_error err;
	struct upload_result res;
	const char *at;
	int wrc, frc;

	(void)state;
	memset(message, 'm', sizeof(message) - 1);
	message[sizeof(message) - 1] = '\0';
	run(&f, &server, 30 * MiB, 64 * 1024, &wrc, &frc, &err, &res);
	assert_true(wrc != AGENT_OK || frc != AGENT_OK);
	assert_int_equal(err.code, AGENT_EIO);
	at = strstr(err.msg, message);
	assert_non_null(at);
	assert_string_equal(at + strlen(message), " (after 2 attempts)");
	assert_true(strlen(err.msg) > 512);
	fake_server_stop(server);
}

static void test_small_is_one_put(void **state)
{
	struct fake_s3 f = {0};
	struct fake_server *server;
	struct agent_error err;
	struct upload_result res = {0};
	int wrc, frc;

	(void)state;
	run(&f, &server, 5 * MiB, 1, &wrc, &frc, &err, &res);
	assert_int_equal(frc, AGENT_OK);
	/* Exactly one part's worth: a single PutObject, no multipart. */
	assert_int_equal(fake_server_count(server), 1);
	assert_string_equal(fake_server_request(server, 0)->method, "PUT");
	assert_int_equal(fake_server_request(server, 0)->body_len, 5 * MiB);
	assert_int_equal(res.parts, 0);
	fake_server_stop(server);
}

static void test_empty_is_one_put(void **state)
{
	struct fake_s3 f = {0};
	struct fake_server *server;
	struct agent_error err;
	struct upload_result res = {0};
	int wrc, frc;

	(void)state;
	run(&f, &server, 0, 1, &wrc, &frc, &err, &res);
	assert_int_equal(frc, AGENT_OK);
	assert_int_equal(fake_server_count(server), 1);
	assert_int_equal(fake_server_request(server, 0)->body_len, 0);
	fake_server_stop(server);
}

/* The size of part NUMBER of the schedule for FIRST and MAX_PARTS. */
static uint64_t part_size(uint64_t first, unsigned max_parts, unsigned number)
{
	return upload_part_size_at(first, upload_part_step(first, max_parts),
				   number);
}

static void test_part_sizes(void **state)
{
	uint64_t total = 0;
	unsigned i, step;

	(void)state;
	/* Defaults: 8 MiB parts for the first 8 GiB and more (1,000
	 * parts), then growing, and 10,000 parts reach 5 TiB. */
	assert_int_equal(part_size(8 * MiB, 10000, 1), 8 * MiB);
	assert_int_equal(part_size(8 * MiB, 10000, 1000), 8 * MiB);
	assert_true(part_size(8 * MiB, 10000, 2000) > 8 * MiB);
	step = upload_part_step(8 * MiB, 10000);
	for (i = 1; i <= 10000; i++) {
		uint64_t p = upload_part_size_at(8 * MiB, step, i);
		assert_true(p >= 8 * MiB && p <= UPLOAD_MAX_PART);
		assert_true(i == 1 ||
			    p >= upload_part_size_at(8 * MiB, step, i - 1));
		total += p;
	}
	assert_true(total >= UPLOAD_TARGET);
	/* The same from 16 MiB parts. */
	step = upload_part_step(16 * MiB, 10000);
	for (total = 0, i = 1; i <= 10000; i++)
		total += upload_part_size_at(16 * MiB, step, i);
	assert_true(total >= UPLOAD_TARGET);
	/* A store that allows 1,000 parts cannot reach 5 TiB (1,000 parts
	 * of 5 GiB are 4.9 TiB): the parts grow fast enough to come close. */
	step = upload_part_step(8 * MiB, 1000);
	for (total = 0, i = 1; i <= 1000; i++)
		total += upload_part_size_at(8 * MiB, step, i);
	assert_true(total >= UPLOAD_TARGET / 10 * 9);
	/* Too few parts to reach it: grow as fast as allowed. */
	assert_int_equal(upload_part_step(5 * MiB, 4), 1);
	assert_int_equal(part_size(5 * MiB, 4, 1), 5 * MiB);
	assert_int_equal(part_size(5 * MiB, 4, 2), 10 * MiB);
	assert_int_equal(part_size(5 * MiB, 4, 4), 40 * MiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parts_in_parallel),
		cmocka_unit_test(test_failed_part_aborts),
		cmocka_unit_test(test_long_message_whole),
		cmocka_unit_test(test_small_is_one_put),
		cmocka_unit_test(test_empty_is_one_put),
		cmocka_unit_test(test_part_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
