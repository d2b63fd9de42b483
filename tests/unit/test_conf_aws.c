/* The AWS shared credentials and config files, read as the AWS CLI does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"

static char dir[] = "/tmp/offsite-aws-XXXXXX";
static char cred[256], config[256];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(cred, sizeof(cred), "%s/credentials", dir);
	snprintf(config, sizeof(config), "%s/config", dir);
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
	setenv("AWS_CONFIG_FILE", config, 1);
	unsetenv("AWS_PROFILE");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(cred);
	unlink(config);
	rmdir(dir);
	return 0;
}

static void test_default_profile(void **state)
{
	struct conf_aws_profile p;
	conf_error err = {{0}};
	char token[3000];

	(void)state;
	/* A session token longer than any INI line limit. */
	memset(token, 'T', sizeof(token) - 1);
	token[sizeof(token) - 1] = '\0';
	{
		char text[4096];
		snprintf(text, sizeof(text),
			 "# comment\n[other]\naws_access_key_id = OTHER\n"
			 "aws_secret_access_key = othersecret\n\n"
			 "[default]\r\n  aws_access_key_id=AKIDDEFAULT  \r\n"
			 "aws_secret_access_key = s3cr3t/with+chars=\r\n"
			 "aws_session_token = %s\n",
			 token);
		write_file(cred, text);
	}
	write_file(config, "[default]\nregion = eu-west-3\n"
			   "aws_access_key_id = FROMCONFIG\n");
	assert_int_equal(conf_aws_profile_load(&p, NULL, &err), CONF_OK);
	assert_string_equal(p.access_key, "AKIDDEFAULT");
	assert_string_equal(p.secret_key, "s3cr3t/with+chars=");
	assert_string_equal(p.session_token, token);
	/* The credentials file wins; the config file adds the region. */
	assert_string_equal(p.region, "eu-west-3");
	assert_string_equal(p.source, "default");
	conf_aws_profile_dispose(&p);
	assert_null(p.access_key);
}

static void test_named_profile(void **state)
{
	struct conf_aws_profile p;
	conf_error err = {{0}};

	(void)state;
	write_file(cred, "[default]\naws_access_key_id = D\n"
			 "aws_secret_access_key = d\n");
	write_file(config, "[profile backup]\naws_access_key_id = AKIDBACKUP\n"
			   "aws_secret_access_key = b\nregion = us-west-2\n"
			   "s3 =\n  addressing_style = path\n");
	setenv("AWS_PROFILE", "backup", 1);
	assert_int_equal(conf_aws_profile_load(&p, NULL, &err), CONF_OK);
	assert_string_equal(p.access_key, "AKIDBACKUP");
	assert_string_equal(p.region, "us-west-2");
	conf_aws_profile_dispose(&p);
	unsetenv("AWS_PROFILE");

	/* A profile asked for by name and found nowhere is an error. */
	assert_int_equal(conf_aws_profile_load(&p, "nope", &err),
			 CONF_EMISSING);
	assert_non_null(strstr(err.msg, "AWS profile 'nope' is in neither"));
}

static void test_no_files(void **state)
{
	struct conf_aws_profile p;
	conf_error err = {{0}};

	(void)state;
	unlink(cred);
	unlink(config);
	assert_int_equal(conf_aws_profile_load(&p, NULL, &err), CONF_OK);
	assert_null(p.access_key);
	assert_null(p.source);
}

static void test_key_without_secret(void **state)
{
	struct conf_aws_profile p;
	conf_error err = {{0}};

	(void)state;
	write_file(cred, "[default]\naws_access_key_id = AKIDONLY\n");
	assert_int_equal(conf_aws_profile_load(&p, NULL, &err), CONF_EMISSING);
	assert_null(p.access_key);
	assert_non_null(strstr(err.msg, "no aws_secret_access_key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_profile),
		cmocka_unit_test(test_named_profile),
		cmocka_unit_test(test_no_files),
		cmocka_unit_test(test_key_without_secret),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
