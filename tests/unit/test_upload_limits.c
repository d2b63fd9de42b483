/*
 * The upload stage's limits: max_size stops a backup before anything is
 * stored, max_parts before a part past it is sent (the begun multipart
 * upload is aborted), and the progress counters say what is under way.
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
#include "tests/support/fake_server.h"

#define MiB (1024 * 1024)

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	static const char created[] =
		"<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>k"
		"</Key><UploadId>up1</UploadId>"
		"</InitiateMultipartUploadResult>";

	(void)ctx;
	if (strcmp(req->method, "POST") == 0)
		fake_reply(conn, 200, NULL, created, strlen(created));
	else if (strcmp(req->method, "DELETE") == 0)
		fake_reply(conn, 204, NULL, "", 0);
	else
		fake_reply(conn, 200, "ETag: \"p\"\r\n", "", 0);
}

struct fixture {
	struct fake_server *server;
	char endpoint[64];
	unsigned clients;     /* made so far */
	unsigned clients_max; /* 0: any number; else the next one fails */
};

static int client_new(s3_client **out, void *ctx, bool (*cancelled)(void *),
		      void *cancelled_ctx, s3_error *err)
{
	struct fixture *f = ctx;
	s3_options o;

	if (f->clients_max != 0 && f->clients == f->clients_max) {
		memset(err, 0, sizeof(*err));
		err->code = S3_EINVAL;
		snprintf(err->msg, sizeof(err->msg), "no client for a worker");
		return S3_EINVAL;
	}
	f->clients++;
	fake_s3_options(&o, f->endpoint);
	o.max_attempts = 1;
	o.cancelled = cancelled;
	o.cancelled_ctx = cancelled_ctx;
	return s3_client_new(out, &o, err);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int port;

	if (!f || fake_server_start(&f->server, &port, handler, f) != 0)
		return -1;
	snprintf(f->endpoint, sizeof(f->endpoint), "http://127.0.0.1:%d", port);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fake_server_stop(f->server);
	free(f);
	return 0;
}

static unsigned count(struct fake_server *s, const char *method)
{
	unsigned i, n = 0;

	for (i = 0; i < fake_server_count(s); i++)
		if (strcmp(fake_server_request(s, i)->method, method) == 0)
			n++;
	return n;
}

static void test_max_size(void **state)
{
	struct fixture *f = *state;
	struct upload_options o = {.key = "k",
				   .part_size = 5 * MiB,
				   .max_parts = 10000,
				   .concurrency = 2,
				   .max_size = 5,
				   .client_new = client_new,
				   .client_ctx = f};
	struct agent_error err = {0};
	struct stream *s = NULL;
	unsigned in_flight = 9, done = 9;

	assert_int_equal(upload_new(&s, &err, &o), AGENT_OK);
	assert_int_equal(stream_write(s, "12345", 5), AGENT_OK);
	assert_int_equal(stream_write(s, "6", 1), AGENT_ELIMIT);
	assert_string_equal(err.msg, "the backup is larger than max_size (5 "
				     "bytes): stopped, nothing stored");
	upload_parts(s, &in_flight, &done);
	assert_int_equal(in_flight, 0);
	assert_int_equal(done, 0);
	assert_int_equal(upload_abort(s), 0);
	stream_free(s);
	/* Nothing was begun, so nothing is aborted. */
	assert_int_equal(fake_server_count(f->server), 0);
}

static void test_max_parts(void **state)
{
	struct fixture *f = *state;
	struct upload_options o = {.key = "k",
				   .part_size = 5 * MiB,
				   .max_parts = 1,
				   .concurrency = 1,
				   .client_new = client_new,
				   .client_ctx = f};
	struct agent_error err = {0};
	struct stream *s = NULL;
	unsigned in_flight = 9, done = 9;
	char *buf = calloc(1, 5 * MiB + 1);

	assert_non_null(buf);
	assert_int_equal(upload_new(&s, &err, &o), AGENT_OK);
	/* The first part fills and goes; the byte after it needs a second
	 * part, which max_parts refuses when the upload finishes. */
	assert_int_equal(stream_write(s, buf, 5 * MiB + 1), AGENT_OK);
	upload_parts(s, &in_flight, &done);
	assert_int_equal(in_flight + done, 1);
	assert_int_equal(stream_finish(s), AGENT_ELIMIT);
	assert_string_equal(err.msg, "the backup needs more than 1 parts "
				     "(max_parts); raise part_size or "
				     "max_parts");
	assert_int_equal(upload_abort(s), 0);
	stream_free(s);
	assert_int_equal(count(f->server, "POST"), 1);
	assert_int_equal(count(f->server, "DELETE"), 1);
	free(buf);
}

/* A worker cannot get its connection: the part is not sent, the write
 * fails with the S3 message, and the begun upload is aborted. */
static void test_worker_without_a_client(void **state)
{
	struct fixture *f = *state;
	struct upload_options o = {.key = "k",
				   .part_size = 5 * MiB,
				   .max_parts = 10000,
				   .concurrency = 2,
				   .client_new = client_new,
				   .client_ctx = f};
	struct agent_error err = {0};
	struct stream *s = NULL;
	char *buf = calloc(1, 5 * MiB + 1);

	assert_non_null(buf);
	f->clients_max = 2; /* the control connection and one worker's */
	assert_int_equal(upload_new(&s, &err, &o), AGENT_OK);
	assert_int_equal(stream_write(s, buf, 5 * MiB + 1), AGENT_EIO);
	assert_string_equal(err.msg, "no client for a worker");
	assert_int_equal(upload_abort(s), 0);
	stream_free(s);
	assert_int_equal(count(f->server, "POST"), 1);
	assert_int_equal(count(f->server, "PUT"), 0);
	assert_int_equal(count(f->server, "DELETE"), 1);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_max_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_parts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_worker_without_a_client,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
