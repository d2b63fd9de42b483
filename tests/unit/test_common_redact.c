/*
 * redact: every kind of credential, in the shapes it takes in headers,
 * URLs, curl's verbose dumps and our own log lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/redact.h"

/* A SigV4 signature and a session token, as AWS's examples have them. */
#define SIG   "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
#define TOKEN "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+kkk="
#define AUTH                                                                   \
	"AWS4-HMAC-SHA256 "                                                    \
	"Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"               \
	"aws4_request, SignedHeaders=host;range;x-amz-date, Signature="        \
	"fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"

/* Redact IN in a roomy buffer; expect WANT and COUNT values scrubbed. */
static void check(const char *in, const char *want, size_t count)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", in);
	assert_int_equal(redact(buf, sizeof(buf)), count);
	assert_string_equal(buf, want);
	/* A second pass changes nothing. */
	assert_int_equal(redact(buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_authorization_header(void **state)
{
	(void)state;
	check("Authorization: " AUTH, "Authorization: REDACTED", 1);
	check("Authorization: " AUTH "\r\nHost: b.example\r\n",
	      "Authorization: REDACTED\r\nHost: b.example\r\n", 1);
	check("authorization: Basic dXNlcjpwYXNz\n",
	      "authorization: REDACTED\n", 1);
	check("AUTHORIZATION:Bearer abc.def", "AUTHORIZATION:REDACTED", 1);
	check("AuThOrIzAtIoN:   AWS x:y", "AuThOrIzAtIoN:   REDACTED", 1);
	/* Inside a quoted log value, the closing quote survives. */
	check("msg=\"failed\" hdr=\"Authorization: " AUTH "\" part=3",
	      "msg=\"failed\" hdr=\"Authorization: REDACTED\" part=3", 1);
	/* As a JSON key. */
	check("{\"authorization\":\"" AUTH "\",\"n\":1}",
	      "{\"authorization\":\"REDACTED\",\"n\":1}", 1);
}

static void test_signature_query(void **state)
{
	(void)state;
	check("X-Amz-Signature=" SIG, "X-Amz-Signature=REDACTED", 1);
	check("?X-Amz-Signature=" SIG "&X-Amz-Date=20130524T000000Z",
	      "?X-Amz-Signature=REDACTED&X-Amz-Date=20130524T000000Z", 1);
	check("url x-amz-signature=" SIG " next",
	      "url x-amz-signature=REDACTED next", 1);
	check("url=\"https://h/k?X-AMZ-SIGNATURE=" SIG "\"",
	      "url=\"https://h/k?X-AMZ-SIGNATURE=REDACTED\"", 1);
	check("'X-Amz-Signature=" SIG "'", "'X-Amz-Signature=REDACTED'", 1);
	/* SigV2 and a header's Signature= on its own. */
	check("&Signature=abc%2Bdef%3D", "&Signature=REDACTED", 1);
}

static void test_security_token(void **state)
{
	(void)state;
	check("X-Amz-Security-Token=" TOKEN "&X-Amz-Date=x",
	      "X-Amz-Security-Token=REDACTED&X-Amz-Date=x", 1);
	check("x-amz-security-token: " TOKEN "\r\n",
	      "x-amz-security-token: REDACTED\r\n", 1);
	check("X-AMZ-SECURITY-TOKEN:" TOKEN, "X-AMZ-SECURITY-TOKEN:REDACTED",
	      1);
	/* A canonical request lists the header without a blank. */
	check("host:b.example\nx-amz-security-token:" TOKEN "\n",
	      "host:b.example\nx-amz-security-token:REDACTED\n", 1);
	/* Named in SignedHeaders: a name, not a value. */
	check("SignedHeaders=host;x-amz-date;x-amz-security-token",
	      "SignedHeaders=host;x-amz-date;x-amz-security-token", 0);
}

static void test_secret_keys(void **state)
{
	(void)state;
	check("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	      "aws_secret_access_key=REDACTED", 1);
	check("AWS_SECRET_ACCESS_KEY = \"wJalrXUtnFEMI/K7MDENG\"\n",
	      "AWS_SECRET_ACCESS_KEY = \"REDACTED\"\n", 1);
	check("secret_key: abc123 and more", "secret_key: REDACTED and more",
	      1);
	check("Secret_Key='a b c', x", "Secret_Key='REDACTED', x", 1);
	check("aws_session_token=" TOKEN, "aws_session_token=REDACTED", 1);
	check("session_token: " TOKEN ",next", "session_token: REDACTED,next",
	      1);
	check("passphrase=hunter2&x=1", "passphrase=REDACTED&x=1", 1);
	check("PASSPHRASE = hunter2 next", "PASSPHRASE = REDACTED next", 1);
	check("host=db password=pw%1 dbname=app",
	      "host=db password=REDACTED dbname=app", 1);
	/* JSON, with a blank after the colon, and an escaped quote and
	 * backslash inside the value. */
	check("{\"passphrase\": \"a\\\"b c\",\"k\":\"v\"}",
	      "{\"passphrase\": \"REDACTED\",\"k\":\"v\"}", 1);
	check("{\"password\":\"ab\\\\\",\"k\":\"v\"}",
	      "{\"password\":\"REDACTED\",\"k\":\"v\"}", 1);
	/* An escaped quote inside a quoted log value. */
	check("msg=\"login session_token=\\\"a b\\\" failed\"",
	      "msg=\"login session_token=\\\"REDACTED\\\" failed\"", 1);
}

static void test_url_userinfo(void **state)
{
	(void)state;
	check("postgresql://app:s3cr3t@db.example:5432/app",
	      "postgresql://app:REDACTED@db.example:5432/app", 1);
	check("mysql://root:p@ss@h/db", "mysql://root:REDACTED@h/db", 1);
	check("https://user@host/x https://[::1]:8080/y",
	      "https://user@host/x https://[::1]:8080/y", 0);
	check("s3://bucket/daily/app/app-daily.sql.gz",
	      "s3://bucket/daily/app/app-daily.sql.gz", 0);
}

static void test_several(void **state)
{
	(void)state;
	check("secret_key=a session_token=b x-amz-signature=c "
	      "Authorization: d e f",
	      "secret_key=REDACTED session_token=REDACTED "
	      "x-amz-signature=REDACTED Authorization: REDACTED",
	      4);
}

static void test_presigned_url(void **state)
{
	(void)state;
	check("https://examplebucket.s3.amazonaws.com/test.txt"
	      "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	      "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1"
	      "%2Fs3%2Faws4_request"
	      "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
	      "&X-Amz-Security-Token=" TOKEN
	      "&X-Amz-SignedHeaders=host&X-Amz-Signature=" SIG,
	      "https://examplebucket.s3.amazonaws.com/test.txt"
	      "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	      "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1"
	      "%2Fs3%2Faws4_request"
	      "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
	      "&X-Amz-Security-Token=REDACTED"
	      "&X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED",
	      2);
}

static void test_curl_verbose(void **state)
{
	(void)state;
	check("> PUT /bucket/key?partNumber=1&uploadId=2~abc HTTP/1.1\r\n"
	      "> Host: 127.0.0.1:7480\r\n"
	      "> User-Agent: offsite/0.1.0\r\n"
	      "> Accept: */*\r\n"
	      "> x-amz-content-sha256: UNSIGNED-PAYLOAD\r\n"
	      "> x-amz-date: 20261123T093000Z\r\n"
	      "> x-amz-security-token: " TOKEN "\r\n"
	      "> Authorization: " AUTH "\r\n"
	      "> Content-Length: 5242880\r\n"
	      ">\r\n"
	      "< HTTP/1.1 200 OK\r\n"
	      "< ETag: \"0123abcd\"\r\n",
	      "> PUT /bucket/key?partNumber=1&uploadId=2~abc HTTP/1.1\r\n"
	      "> Host: 127.0.0.1:7480\r\n"
	      "> User-Agent: offsite/0.1.0\r\n"
	      "> Accept: */*\r\n"
	      "> x-amz-content-sha256: UNSIGNED-PAYLOAD\r\n"
	      "> x-amz-date: 20261123T093000Z\r\n"
	      "> x-amz-security-token: REDACTED\r\n"
	      "> Authorization: REDACTED\r\n"
	      "> Content-Length: 5242880\r\n"
	      ">\r\n"
	      "< HTTP/1.1 200 OK\r\n"
	      "< ETag: \"0123abcd\"\r\n",
	      2);
}

static void test_end_of_string(void **state)
{
	(void)state;
	check("secret_key=x", "secret_key=REDACTED", 1);
	check("X-Amz-Signature=ab", "X-Amz-Signature=REDACTED", 1);
	check("x passphrase:\"unterminated", "x passphrase:\"REDACTED", 1);
	/* A name with nothing after it, or an empty value. */
	check("secret_key", "secret_key", 0);
	check("secret_key=", "secret_key=", 0);
	check("Authorization:", "Authorization:", 0);
	check("password=\"\"", "password=\"\"", 0);
}

static void test_no_false_positive(void **state)
{
	const char *text =
		"uploaded part 3 of 10 (16 MiB) to "
		"s3://bucket/daily/app/app-daily-20261123T093000Z.sql.gz.enc; "
		"signature check ok; SignedHeaders=host;x-amz-date; "
		"passphrase_file=/etc/offsite/pass key_file: /etc/offsite/key "
		"secret_key_file '/etc/offsite/secret': permissions 0644 are "
		"too open; X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524 "
		"SignatureDoesNotMatch, user@example.com, a=b&c=d";

	(void)state;
	check(text, text, 0);
}

static void test_small_buffer(void **state)
{
	char buf[16];
	char full[8];

	(void)state;
	/* "REDACTED" is longer than the value: the tail is cut. */
	snprintf(buf, sizeof(buf), "%s", "password=ab c");
	assert_int_equal(redact(buf, sizeof(buf)), 1);
	assert_string_equal(buf, "password=REDACT");

	snprintf(buf, sizeof(buf), "%s", "secret_key=a b");
	assert_int_equal(redact(buf, sizeof(buf)), 1);
	assert_string_equal(buf, "secret_key=REDA");

	/* Growth that fits moves the tail. */
	{
		char big[24] = "password=ab c";

		assert_int_equal(redact(big, sizeof(big)), 1);
		assert_string_equal(big, "password=REDACTED c");
	}

	/* No NUL within SIZE: cut to SIZE - 1 first. */
	memset(full, 'a', sizeof(full));
	assert_int_equal(redact(full, sizeof(full)), 0);
	assert_string_equal(full, "aaaaaaa");

	assert_int_equal(redact(NULL, 10), 0);
	assert_int_equal(redact(buf, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_authorization_header),
		cmocka_unit_test(test_signature_query),
		cmocka_unit_test(test_security_token),
		cmocka_unit_test(test_secret_keys),
		cmocka_unit_test(test_url_userinfo),
		cmocka_unit_test(test_several),
		cmocka_unit_test(test_presigned_url),
		cmocka_unit_test(test_curl_verbose),
		cmocka_unit_test(test_end_of_string),
		cmocka_unit_test(test_no_false_positive),
		cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
