/* The webhook: its JSON, and the POST against the scripted server: one
 * request with the document, one retry after a 5xx, no redirect
 * followed, and a closed port that only costs a -1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/ops/notify.h"
#include "tests/support/fake_server.h"

static const struct notify_event failed = {
	.success = false,
	.host = "db01",
	.type = "daily",
	.database = "app",
	.key = "daily/app/app-daily-20261123T093000Z.sql.gz",
	.error = "upload failed: Authorization: AWS4-HMAC-SHA256 "
		 "Credential=AKID/x, Signature=0123456789abcdef",
	.duration = 2.5,
	.time = 1795426200,
};

static void test_json(void **state)
{
	struct notify_event ok = failed;
	json_t *doc;
	char *text;

	(void)state;
	doc = notify_json(&failed);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "event")),
			    "backup.failed");
	assert_string_equal(json_string_value(json_object_get(doc, "time")),
			    "2026-11-23T09:30:00Z");
	assert_true(json_is_null(json_object_get(doc, "stored_bytes")));
	assert_true(json_real_value(json_object_get(doc, "duration")) == 2.5);
	text = json_dumps(doc, JSON_COMPACT);
	/* The error is redacted. */
	assert_non_null(strstr(text, "upload failed"));
	assert_null(strstr(text, "0123456789abcdef"));
	free(text);
	json_decref(doc);

	ok.success = true;
	ok.has_bytes = true;
	ok.plain_bytes = 400;
	ok.stored_bytes = 100;
	doc = notify_json(&ok);
	assert_string_equal(json_string_value(json_object_get(doc, "event")),
			    "backup.succeeded");
	assert_true(json_is_null(json_object_get(doc, "error")));
	assert_int_equal(
		json_integer_value(json_object_get(doc, "plain_bytes")), 400);
	assert_string_equal(json_string_value(json_object_get(doc, "key")),
			    failed.key);
	json_decref(doc);
}

struct script {
	int status;
	const char *extra;
};

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	const struct script *s = ctx;

	(void)req;
	fake_reply(conn, s->status, s->extra, "", 0);
}

static struct fake_server *start(struct script *s, char *url, size_t size)
{
	struct fake_server *srv = NULL;
	int port = 0;

	assert_int_equal(fake_server_start(&srv, &port, handler, s), 0);
	snprintf(url, size, "http://127.0.0.1:%d/hooks/offsite?token=t0k3n",
		 port);
	return srv;
}

static void test_post(void **state)
{
	struct script s = {.status = 204};
	const struct fake_request *req;
	char url[128], ctype[64];
	struct fake_server *srv = start(&s, url, sizeof(url));
	json_t *doc;

	(void)state;
	assert_int_equal(notify_send(url, &failed), 0);
	assert_int_equal(fake_server_count(srv), 1);
	req = fake_server_request(srv, 0);
	assert_string_equal(req->method, "POST");
	assert_string_equal(req->target, "/hooks/offsite?token=t0k3n");
	assert_non_null(fake_header(req, "content-type", ctype, sizeof(ctype)));
	assert_string_equal(ctype, "application/json");
	doc = json_loads(req->body, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "event")),
			    "backup.failed");
	assert_string_equal(json_string_value(json_object_get(doc, "database")),
			    "app");
	json_decref(doc);
	fake_server_stop(srv);
}

/* A 5xx is tried once more, and no more. */
static void test_retry_once(void **state)
{
	struct script s = {.status = 503};
	char url[128];
	struct fake_server *srv = start(&s, url, sizeof(url));

	(void)state;
	assert_int_equal(notify_send(url, &failed), -1);
	assert_int_equal(fake_server_count(srv), 2);
	fake_server_stop(srv);
	/* A 4xx will not change: once. */
	s.status = 400;
	srv = start(&s, url, sizeof(url));
	assert_int_equal(notify_send(url, &failed), -1);
	assert_int_equal(fake_server_count(srv), 1);
	fake_server_stop(srv);
}

/* A redirect is not followed: the document goes nowhere else. */
static void test_no_redirect(void **state)
{
	struct script s = {.status = 302};
	char url[128], extra[160];
	struct fake_server *srv = start(&s, url, sizeof(url));

	(void)state;
	snprintf(extra, sizeof(extra), "Location: %s&again=1\r\n", url);
	s.extra = extra;
	assert_int_equal(notify_send(url, &failed), -1);
	assert_int_equal(fake_server_count(srv), 1);
	fake_server_stop(srv);
}

/* Nobody listening: -1 at once, after the one retry. */
static void test_closed_port(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	char url[64];
	int fd;

	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd); /* bound, never listening: the port refuses */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(sa.sin_port));
	assert_int_equal(notify_send(url, &failed), -1);
	assert_int_equal(notify_send("ftp://127.0.0.1/", &failed), -1);
}

/* Nothing is sent for a success unless on_success says so. */
static void test_run_policy(void **state)
{
	struct script s = {.status = 200};
	struct notify_event ok = failed;
	char url[128];
	struct fake_server *srv = start(&s, url, sizeof(url));
	conf c = {0};

	(void)state;
	ok.success = true;
	assert_int_equal(notify_run(&c, &failed), 0); /* no webhook */
	c.notify.webhook = url;
	assert_int_equal(notify_run(&c, &ok), 0);
	assert_int_equal(fake_server_count(srv), 0);
	assert_int_equal(notify_run(&c, &failed), 0);
	assert_int_equal(fake_server_count(srv), 1);
	c.notify.on_success = true;
	assert_int_equal(notify_run(&c, &ok), 0);
	assert_int_equal(fake_server_count(srv), 2);
	fake_server_stop(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_post),
		cmocka_unit_test(test_retry_once),
		cmocka_unit_test(test_no_redirect),
		cmocka_unit_test(test_closed_port),
		cmocka_unit_test(test_run_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
