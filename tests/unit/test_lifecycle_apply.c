/*
 * retention_apply against a scripted bucket: the types come from the
 * bucket's folders, the configuration and "manual"; apply writes the
 * rules (a dry run writes nothing), a second apply finds nothing to
 * change, and remove takes ours out (DELETE when none is left).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ops/log.h"
#include "retention/retention.h"
#include "tests/support/fake_server.h"

/* The bucket: its lifecycle XML (NULL: none), and what was done. */
struct bucket {
	pthread_mutex_t mu;
	char *lifecycle;
	unsigned puts, deletes;
};

struct fixture {
	struct bucket b;
	struct fake_server *server;
	s3_client *client;
	conf *c;
};

static void handler(void *ctx, const struct fake_request *req,
		    struct fake_conn *conn)
{
	static const char none[] =
		"<Error><Code>NoSuchLifecycleConfiguration</Code><Message>The "
		"lifecycle configuration does not exist</Message></Error>";
	static const char listing[] =
		"<ListBucketResult><Name>bkt</Name><Prefix>pfx/</Prefix>"
		"<Delimiter>/</Delimiter><IsTruncated>false</IsTruncated>"
		"<CommonPrefixes><Prefix>pfx/daily/</Prefix></CommonPrefixes>"
		"<CommonPrefixes><Prefix>pfx/adhoc/</Prefix></CommonPrefixes>"
		"</ListBucketResult>";
	struct bucket *b = ctx;

	pthread_mutex_lock(&b->mu);
	if (strstr(req->target, "?lifecycle") != NULL) {
		if (strcmp(req->method, "GET") == 0 && b->lifecycle == NULL) {
			fake_reply(conn, 404, NULL, none, strlen(none));
		} else if (strcmp(req->method, "GET") == 0) {
			fake_reply(conn, 200, NULL, b->lifecycle,
				   strlen(b->lifecycle));
		} else if (strcmp(req->method, "PUT") == 0) {
			free(b->lifecycle);
			b->lifecycle = strndup(req->body, req->body_len);
			b->puts++;
			fake_reply(conn, 200, NULL, "", 0);
		} else {
			free(b->lifecycle);
			b->lifecycle = NULL;
			b->deletes++;
			fake_reply(conn, 204, NULL, "", 0);
		}
	} else {
		fake_reply(conn, 200, NULL, listing, strlen(listing));
	}
	pthread_mutex_unlock(&b->mu);
}

static int setup(void **state)
{
	s3_options o;
	struct fixture *f = calloc(1, sizeof(*f));
	conf_error cerr = {{0}};
	char endpoint[64];
	s3_error err;
	int port;

	if (f == NULL)
		return -1;
	log_setup(LOG_ERROR, LOG_FORMAT_TEXT, NULL);
	pthread_mutex_init(&f->b.mu, NULL);
	if (fake_server_start(&f->server, &port, handler, &f->b) != 0)
		return -1;
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
	fake_s3_options(&o, endpoint);
	if (s3_client_new(&f->client, &o, &err) != S3_OK)
		return -1;
	if (conf_parse(&f->c, "t.ini",
		       "[storage]\nbucket = bkt\nprefix = pfx/\n"
		       "[database]\ndriver = stdin\n"
		       "[retention]\ndays = 30\ndays.weekly = 90\n",
		       &cerr) != CONF_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	conf_free(f->c);
	s3_client_free(f->client);
	fake_server_stop(f->server);
	free(f->b.lifecycle);
	pthread_mutex_destroy(&f->b.mu);
	free(f);
	return 0;
}

static void want_rule(const char *xml, const char *prefix)
{
	char want[128];

	snprintf(want, sizeof(want), "<Prefix>%s</Prefix>", prefix);
	if (strstr(xml, want) == NULL)
		fail_msg("no rule for %s in %s", prefix, xml);
}

static void test_apply_then_remove(void **state)
{
	struct fixture *f = *state;
	struct retention_plan p;
	struct retention_error err;

	/* A dry run changes nothing. */
	assert_int_equal(retention_apply(&p, f->client, f->c, "hourly", false,
					 true, &err),
			 RETENTION_OK);
	assert_true(p.changed);
	assert_true(p.nchanges > 0);
	retention_plan_dispose(&p);
	assert_int_equal(f->b.puts, 0);

	/* Every type: the bucket's folders, the configured ones, manual and
	 * the extra one. */
	assert_int_equal(retention_apply(&p, f->client, f->c, "hourly", false,
					 false, &err),
			 RETENTION_OK);
	assert_true(p.changed);
	retention_plan_dispose(&p);
	assert_int_equal(f->b.puts, 1);
	assert_non_null(f->b.lifecycle);
	want_rule(f->b.lifecycle, "pfx/daily/");
	want_rule(f->b.lifecycle, "pfx/adhoc/");
	want_rule(f->b.lifecycle, "pfx/weekly/");
	want_rule(f->b.lifecycle, "pfx/manual/");
	want_rule(f->b.lifecycle, "pfx/hourly/");

	/* Again: the bucket already says so. */
	assert_int_equal(retention_apply(&p, f->client, f->c, "hourly", false,
					 false, &err),
			 RETENTION_OK);
	assert_false(p.changed);
	retention_plan_dispose(&p);
	assert_int_equal(f->b.puts, 1);

	/* Remove: only ours were there, so the configuration goes. */
	assert_int_equal(
		retention_apply(&p, f->client, f->c, NULL, true, false, &err),
		RETENTION_OK);
	assert_true(p.changed);
	assert_int_equal(p.result.nrules, 0);
	retention_plan_dispose(&p);
	assert_int_equal(f->b.deletes, 1);
	assert_null(f->b.lifecycle);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apply_then_remove, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
