/*
 * log: both formats, quoting and escaping, redaction, long lines, and the
 * level filter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ops/log.h"

#define TS "2026-11-23T09:30:00Z"
#define AUTH                                                                   \
	"Authorization: AWS4-HMAC-SHA256 "                                     \
	"Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/s3/"               \
	"aws4_request, SignedHeaders=host, Signature=fe5f80f77d5fa3beca038a2"

/* Format with a roomy buffer; expect WANT. */
static void check(enum log_format format, enum log_level level, const char *msg,
		  const char *const *kv, size_t nkv, const char *want)
{
	char buf[LOG_LINE_MAX];
	size_t n;

	n = log_format_line(buf, sizeof(buf), format, TS, level, msg, kv, nkv);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_text(void **state)
{
	const char *kv[] = {"type", "daily", "db", "app"};

	(void)state;
	check(LOG_FORMAT_TEXT, LOG_INFO, "backup started", kv, 2,
	      TS " level=info msg=\"backup started\" type=daily db=app");
	check(LOG_FORMAT_TEXT, LOG_ERROR, "failed", NULL, 0,
	      TS " level=error msg=failed");
	check(LOG_FORMAT_TEXT, LOG_WARN, "x", NULL, 0, TS " level=warn msg=x");
	check(LOG_FORMAT_TEXT, LOG_DEBUG, "x", NULL, 0,
	      TS " level=debug msg=x");
}

static void test_text_quoting(void **state)
{
	const char *kv[] = {
		"empty",    "",		"null",	      NULL,    "eq",
		"a=b",	    "quote",	"say \"hi\"", "bs",    "C:\\dir",
		"nl",	    "one\ntwo", "tab",	      "a\tb",  "ctl",
		"\x01\x7f", "utf8",	"café→",      "comma", "a,b",
		"bad key!", "v",
	};

	(void)state;
	check(LOG_FORMAT_TEXT, LOG_INFO, "", kv, sizeof(kv) / sizeof(kv[0]) / 2,
	      TS " level=info msg=\"\" empty=\"\" null=\"\" eq=\"a=b\" "
		 "quote=\"say \\\"hi\\\"\" bs=\"C:\\\\dir\" "
		 "nl=\"one\\ntwo\" tab=\"a\\tb\" ctl=\"\\x01\\x7f\" "
		 "utf8=café→ comma=\"a,b\" bad_key_=v");
}

static void test_json(void **state)
{
	const char *kv[] = {"type",	  "daily", "quote", "a\"b\\c", "ctl",
			    "\x01\n\r\t", "utf8",  "café→", "null",    NULL};

	(void)state;
	check(LOG_FORMAT_JSON, LOG_INFO, "backup started", kv, 1,
	      "{\"ts\":\"" TS "\",\"level\":\"info\","
	      "\"msg\":\"backup started\",\"type\":\"daily\"}");
	check(LOG_FORMAT_JSON, LOG_WARN, "m", kv, 5,
	      "{\"ts\":\"" TS "\",\"level\":\"warn\",\"msg\":\"m\","
	      "\"type\":\"daily\",\"quote\":\"a\\\"b\\\\c\","
	      "\"ctl\":\"\\u0001\\n\\r\\t\",\"utf8\":\"café→\","
	      "\"null\":\"\"}");
}

static void test_redaction(void **state)
{
	const char *hdr[] = {"header", AUTH};
	const char *secret[] = {"secret_key", "hunter2", "passphrase",
				"correct horse, battery"};
	const char *url[] = {"url",
			     "https://b.example/k?X-Amz-Credential=AKIDEXAMPLE"
			     "&X-Amz-Signature=0123456789abcdef&x=1"};

	(void)state;
	/* An Authorization value passed as a value. */
	check(LOG_FORMAT_TEXT, LOG_ERROR, "request failed", hdr, 1,
	      TS " level=error msg=\"request failed\" "
		 "header=\"Authorization: REDACTED\"");
	check(LOG_FORMAT_JSON, LOG_ERROR, "request failed", hdr, 1,
	      "{\"ts\":\"" TS "\",\"level\":\"error\","
	      "\"msg\":\"request failed\","
	      "\"header\":\"Authorization: REDACTED\"}");
	/* ... and in the message. */
	check(LOG_FORMAT_TEXT, LOG_DEBUG, "sent " AUTH "\r\nHost: b", NULL, 0,
	      TS " level=debug msg=\"sent Authorization: REDACTED\\r\\n"
		 "Host: b\"");
	check(LOG_FORMAT_JSON, LOG_DEBUG, "sent " AUTH, NULL, 0,
	      "{\"ts\":\"" TS "\",\"level\":\"debug\","
	      "\"msg\":\"sent Authorization: REDACTED\"}");
	/* A secret's name as the key: only the whole line shows it. */
	check(LOG_FORMAT_TEXT, LOG_INFO, "x", secret, 2,
	      TS " level=info msg=x secret_key=REDACTED "
		 "passphrase=\"REDACTED\"");
	check(LOG_FORMAT_JSON, LOG_INFO, "x", secret, 2,
	      "{\"ts\":\"" TS "\",\"level\":\"info\",\"msg\":\"x\","
	      "\"secret_key\":\"REDACTED\",\"passphrase\":\"REDACTED\"}");
	check(LOG_FORMAT_TEXT, LOG_INFO, "presigned", url, 1,
	      TS " level=info msg=presigned "
		 "url=\"https://b.example/k?X-Amz-Credential=AKIDEXAMPLE"
		 "&X-Amz-Signature=REDACTED&x=1\"");
}

/* A value far longer than a line: cut, marked, and (JSON) still closed. */
static void test_long_line(void **state)
{
	char *big = malloc(20000);
	const char *kv[] = {"big", big, "after", "lost"};
	char buf[LOG_LINE_MAX];
	size_t n;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', 19999);
	big[19999] = '\0';

	n = log_format_line(buf, sizeof(buf), LOG_FORMAT_TEXT, TS, LOG_INFO,
			    "m", kv, 2);
	assert_int_equal(n, strlen(buf));
	assert_true(n < LOG_LINE_MAX);
	assert_true(n > LOG_LINE_MAX / 2);
	assert_memory_equal(buf + n - 4, "a...", 4);
	assert_null(strstr(buf, "after"));

	n = log_format_line(buf, sizeof(buf), LOG_FORMAT_JSON, TS, LOG_INFO,
			    "m", kv, 2);
	assert_true(n < LOG_LINE_MAX);
	assert_memory_equal(buf + n - 6, "a...\"}", 6);

	/* A small buffer: cut to fit it. */
	n = log_format_line(buf, 48, LOG_FORMAT_TEXT, TS, LOG_INFO, "m", kv, 2);
	assert_int_equal(n, strlen(buf));
	assert_true(n <= 47);
	assert_memory_equal(buf + n - 3, "...", 3);

	/* Cut inside a key: the field goes, the object stays valid. */
	n = log_format_line(buf, 64, LOG_FORMAT_JSON, TS, LOG_INFO, "m",
			    (const char *const[]){"a_long_key_name", "v"}, 1);
	assert_string_equal(buf, "{\"ts\":\"" TS "\",\"level\":\"info\","
				 "\"msg\":\"m\"}");
	free(big);
}

/* A cut never splits a UTF-8 character. */
static void test_cut_utf8(void **state)
{
	char value[64];
	char buf[64];
	size_t i, n, size;

	(void)state;
	for (i = 0; i + 2 < sizeof(value); i += 2)
		memcpy(value + i, "\xc3\xa9", 2); /* é */
	value[i] = '\0';
	for (size = 46; size < 60; size++) {
		n = log_format_line(buf, size, LOG_FORMAT_TEXT, TS, LOG_INFO,
				    value, NULL, 0);
		assert_true(n < size);
		assert_memory_equal(buf + n - 3, "...", 3);
		/* Before the mark: whole characters only. */
		assert_true((n - 3 - strlen(TS " level=info msg=")) % 2 == 0);
	}
}

/* What a terminal acts on never reaches it: C0, DEL, C1 (U+009B is CSI,
 * in UTF-8 and as the lone byte 0x9b), malformed UTF-8 (an overlong
 * U+009B, a surrogate, a cut sequence). Other UTF-8 is kept. */
static void test_terminal_controls(void **state)
{
	const char *kv[] = {
		"esc",
		"\x1b[2J",
		"c1",
		"\xc2\x9b"
		"1m",
		"lone",
		"\x9b"
		"1m",
		"overlong",
		"\xe0\x82\x9b",
		"sur",
		"\xed\xa0\x80",
		"cut",
		"\xe2\x86",
		"nbsp",
		"\xc2\xa0",
		"del",
		"\x7f",
	};
	char out[64];
	size_t n;

	(void)state;
	check(LOG_FORMAT_TEXT, LOG_INFO, "m", kv,
	      sizeof(kv) / sizeof(kv[0]) / 2,
	      TS " level=info msg=m esc=\"\\x1b[2J\" c1=\"\\xc2\\x9b1m\" "
		 "lone=\"\\x9b1m\" overlong=\"\\xe0\\x82\\x9b\" "
		 "sur=\"\\xed\\xa0\\x80\" cut=\"\\xe2\\x86\" nbsp=\xc2\xa0 "
		 "del=\"\\x7f\"");
	check(LOG_FORMAT_JSON, LOG_INFO, "m", kv, 3,
	      "{\"ts\":\"" TS "\",\"level\":\"info\",\"msg\":\"m\","
	      "\"esc\":\"\\u001b[2J\",\"c1\":\"\\u009b1m\","
	      "\"lone\":\"\\u009b1m\"}");

	/* log_escape: the same characters, for a terminal. */
	n = log_escape(out, sizeof(out),
		       "ok\x1b]0;x\x07 \xc2\x9b\x9b\\x1b\n\"é\"");
	assert_int_equal(n, strlen(out));
	assert_string_equal(out, "ok\\x1b]0;x\\x07 \\xc2\\x9b\\x9b\\x1b"
				 "\\n\"é\"");
	/* Too small: cut before a whole escape, never inside one. */
	assert_int_equal(log_escape(out, 6, "ab\x1b"), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(log_escape(out, 4, "\xc3\xa9\xc3\xa9"), 2);
	assert_string_equal(out, "\xc3\xa9");
	assert_int_equal(log_escape(out, 1, "x"), 0);
	assert_string_equal(out, "");
}

static char *read_all(FILE *fp)
{
	static char text[4 * LOG_LINE_MAX];
	size_t n;

	rewind(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	return text;
}

static void test_filter_and_write(void **state)
{
	FILE *fp = tmpfile();
	char *text;

	(void)state;
	assert_non_null(fp);
	log_setup(LOG_WARN, LOG_FORMAT_TEXT, fp);
	assert_int_equal(log_get_level(), LOG_WARN);
	log_event(LOG_DEBUG, "dropped debug", NULL);
	log_event(LOG_INFO, "dropped info", "k", "v", NULL);
	log_event(LOG_WARN, "kept warn", "part", "3", NULL);
	log_msgf(LOG_ERROR, "kept error %d: %s", 42, AUTH);
	log_msgf(LOG_INFO, "dropped %s", "msgf");
	text = read_all(fp);
	assert_null(strstr(text, "dropped"));
	assert_non_null(strstr(text, " level=warn msg=\"kept warn\" part=3\n"));
	assert_non_null(strstr(
		text,
		" level=error msg=\"kept error 42: Authorization: REDACTED\"\n"));
	assert_null(strstr(text, "fe5f80"));
	/* Each line starts with a UTC timestamp. */
	assert_int_equal(strlen(TS), strcspn(text, " "));
	assert_int_equal(text[19], 'Z');
	fclose(fp);

	fp = tmpfile();
	assert_non_null(fp);
	log_setup(LOG_DEBUG, LOG_FORMAT_JSON, fp);
	log_event(LOG_DEBUG, "json", "odd key", NULL);
	text = read_all(fp);
	assert_non_null(strstr(text, "\"level\":\"debug\",\"msg\":\"json\","
				     "\"odd key\":\"\"}\n"));
	assert_int_equal(text[0], '{');
	fclose(fp);

	log_setup(LOG_INFO, LOG_FORMAT_TEXT, NULL);
	assert_int_equal(log_get_level(), LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_quoting),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_redaction),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_cut_utf8),
		cmocka_unit_test(test_terminal_controls),
		cmocka_unit_test(test_filter_and_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
