/*
 * storage: the configuration turned into s3 options. Plain http to a
 * host that is not loopback is refused unless allowed; credentials come
 * from the configuration and environment, then an AWS profile, then the
 * instance metadata service, unless that is disabled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ops/log.h"
#include "agent/ops/stop.h"
#include "agent/repo/storage.h"

static char home[64], cred[96];

static const char *const aws_env[] = {
	"AWS_ACCESS_KEY_ID",
	"AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN",
	"AWS_ENDPOINT_URL",
	"AWS_REGION",
	"AWS_DEFAULT_REGION",
	"AWS_PROFILE",
	"AWS_CONFIG_FILE",
	"AWS_SHARED_CREDENTIALS_FILE",
	"AWS_EC2_METADATA_DISABLED",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT",
};

static int setup(void **state)
{
	(void)state;
	log_setup(LOG_ERROR, LOG_FORMAT_TEXT, NULL);
	for (size_t i = 0; i < sizeof(aws_env) / sizeof(aws_env[0]); i++)
		unsetenv(aws_env[i]);
	snprintf(home, sizeof(home), "/tmp/test_storage.XXXXXX");
	if (mkdtemp(home) == NULL)
		return -1;
	snprintf(cred, sizeof(cred), "%s/credentials", home);
	return setenv("HOME", home, 1);
}

static int teardown(void **state)
{
	(void)state;
	unlink(cred);
	return rmdir(home);
}

static conf *parse(const char *storage)
{
	char text[512];
	conf_error err = {{0}};
	conf *c = NULL;

	snprintf(text, sizeof(text),
		 "[storage]\nbucket = bkt\n%s[database]\nname = app\n",
		 storage);
	if (conf_parse(&c, "t.ini", text, &err) != CONF_OK)
		fail_msg("%s", err.msg);
	return c;
}

/* The code is CODE and the message holds WANT. */
static void want_error(const s3_error *err, int rc, int code, const char *want)
{
	if (rc != code || err->code != code || strstr(err->msg, want) == NULL)
		fail_msg("got %d \"%s\"\nwant %d \"...%s...\"", rc, err->msg,
			 code, want);
}

static void test_plain_http_refused_unless_allowed(void **state)
{
	struct storage st;
	s3_error err;
	conf *c;
	int rc;

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "fakesecret", 1);
	c = parse("endpoint = http://s3.example.com\n");
	assert_true(storage_in_clear(c));
	rc = storage_init(&st, c, &err);
	want_error(&err, rc, S3_EINVAL,
		   "endpoint http://s3.example.com is plain http to a host "
		   "that is not loopback");
	storage_dispose(&st);
	conf_free(c);

	c = parse("endpoint = http://s3.example.com\nallow_http = true\n");
	assert_int_equal(storage_init(&st, c, &err), S3_OK);
	assert_true(st.o.allow_http);
	assert_string_equal(st.o.access_key, "AKIDFAKE");
	assert_string_equal(st.o.bucket, "bkt");
	assert_false(st.o.use_imds);
	storage_dispose(&st);
	conf_free(c);

	c = parse("endpoint = http://127.0.0.1:9000\n");
	assert_false(storage_in_clear(c));
	assert_int_equal(storage_init(&st, c, &err), S3_OK);
	storage_dispose(&st);
	conf_free(c);
}

/* No keys anywhere: the instance metadata service, unless disabled. */
static void test_no_keys_metadata_or_nothing(void **state)
{
	struct storage st;
	s3_error err;
	conf *c;
	int rc;

	(void)state;
	c = parse("");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
	assert_int_equal(storage_init(&st, c, &err), S3_OK);
	assert_true(st.o.use_imds);
	assert_string_equal(st.o.imds_endpoint, "http://127.0.0.1:1");
	assert_null(st.o.access_key);
	storage_dispose(&st);

	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	rc = storage_init(&st, c, &err);
	want_error(&err, rc, S3_ECRED, "no credentials: set access_key");
	storage_dispose(&st);
	conf_free(c);
}

/* The keys of an AWS profile, when the configuration has none. */
static void test_keys_from_profile(void **state)
{
	struct storage st;
	s3_error err;
	s3_client *client = NULL;
	conf *c;
	FILE *fp;

	(void)state;
	fp = fopen(cred, "w");
	assert_non_null(fp);
	fprintf(fp, "[default]\naws_access_key_id = AKIDPROFILE\n"
		    "aws_secret_access_key = profilesecret\n");
	fclose(fp);
	assert_int_equal(chmod(cred, 0600), 0);
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	c = parse("endpoint = http://127.0.0.1:9000\n");
	if (storage_init(&st, c, &err) != S3_OK)
		fail_msg("%s", err.msg);
	assert_string_equal(st.o.access_key, "AKIDPROFILE");
	assert_string_equal(st.o.secret_key, "profilesecret");
	assert_false(st.o.use_imds);
	if (storage_client(&client, &st, NULL, NULL, &err) != S3_OK)
		fail_msg("%s", err.msg);
	assert_non_null(client);
	s3_client_free(client);
	storage_dispose(&st);

	client = NULL;
	assert_int_equal(storage_open(&client, c, &err), S3_OK);
	assert_non_null(client);
	s3_client_free(client);
	conf_free(c);
}

/* A profile file that cannot be read is a credentials error. */
static void test_unreadable_profile(void **state)
{
	struct storage st;
	s3_client *client = (s3_client *)&st;
	s3_error err;
	conf *c;
	int rc;

	(void)state;
	setenv("AWS_SHARED_CREDENTIALS_FILE", home, 1); /* a directory */
	c = parse("endpoint = http://127.0.0.1:9000\n");
	rc = storage_open(&client, c, &err);
	assert_null(client);
	want_error(&err, rc, S3_ECRED, "");
	assert_true(err.msg[0] != '\0');
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_plain_http_refused_unless_allowed, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_no_keys_metadata_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_from_profile, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_profile, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
