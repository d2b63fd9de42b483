/*
 * common/codec: hex and percent codecs, at their edges: odd lengths, bad
 * digits, the wrong case, escapes cut at the end, %00, empty input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/codec.h"

static void test_hex_digit(void **state)
{
	(void)state;
	assert_int_equal(hex_digit('0', HEX_ANY), 0);
	assert_int_equal(hex_digit('9', HEX_LOWER), 9);
	assert_int_equal(hex_digit('a', HEX_ANY), 10);
	assert_int_equal(hex_digit('F', HEX_ANY), 15);
	assert_int_equal(hex_digit('f', HEX_LOWER), 15);
	assert_int_equal(hex_digit('F', HEX_LOWER), -1);
	assert_int_equal(hex_digit('F', HEX_UPPER), 15);
	assert_int_equal(hex_digit('f', HEX_UPPER), -1);
	assert_int_equal(hex_digit('g', HEX_ANY), -1);
	assert_int_equal(hex_digit('G', HEX_ANY), -1);
	assert_int_equal(hex_digit('/', HEX_ANY), -1);
	assert_int_equal(hex_digit(':', HEX_ANY), -1);
	assert_int_equal(hex_digit('\0', HEX_ANY), -1);
	assert_int_equal(hex_digit(0xff, HEX_ANY), -1);
}

static void test_hex_encode(void **state)
{
	const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char out[2 * sizeof(bytes) + 1];

	(void)state;
	memset(out, 'x', sizeof(out));
	hex_encode(out, bytes, sizeof(bytes));
	assert_string_equal(out, "00017f80abff");
	hex_encode(out, bytes, 0);
	assert_string_equal(out, "");
}

static void test_hex_decode(void **state)
{
	uint8_t out[4];

	(void)state;
	assert_int_equal(hex_decode(out, 4, "00ABff7f", 8, HEX_ANY), 0);
	assert_memory_equal(out, "\x00\xab\xff\x7f", 4);
	assert_int_equal(hex_decode(out, 2, "abff", 4, HEX_LOWER), 0);
	assert_memory_equal(out, "\xab\xff", 2);
	assert_int_equal(hex_decode(out, 2, "ABFF", 4, HEX_UPPER), 0);
	assert_memory_equal(out, "\xab\xff", 2);
	/* Empty input decodes to nothing. */
	assert_int_equal(hex_decode(out, 0, "", 0, HEX_ANY), 0);
	/* Odd length, too short, too long. */
	assert_int_equal(hex_decode(out, 2, "abc", 3, HEX_ANY), -1);
	assert_int_equal(hex_decode(out, 2, "ab", 2, HEX_ANY), -1);
	assert_int_equal(hex_decode(out, 1, "abcd", 4, HEX_ANY), -1);
	/* Bad digits, high and low, and the wrong case. */
	assert_int_equal(hex_decode(out, 2, "zbff", 4, HEX_ANY), -1);
	assert_int_equal(hex_decode(out, 2, "abfz", 4, HEX_ANY), -1);
	assert_int_equal(hex_decode(out, 2, "ABff", 4, HEX_LOWER), -1);
	assert_int_equal(hex_decode(out, 2, "abFF", 4, HEX_UPPER), -1);
	assert_int_equal(hex_decode(out, 2, "ab f", 4, HEX_ANY), -1);
	/* A length whose double overflows. */
	assert_int_equal(hex_decode(out, SIZE_MAX / 2 + 1, "", 0, HEX_ANY), -1);
}

static void test_hex_round_trip(void **state)
{
	uint8_t in[256], back[256];
	char text[513];

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	hex_encode(text, in, sizeof(in));
	assert_int_equal(strlen(text), 512);
	assert_int_equal(hex_decode(back, sizeof(back), text, 512, HEX_LOWER),
			 0);
	assert_memory_equal(in, back, sizeof(in));
}

static void test_pct_encode_byte(void **state)
{
	char out[3];

	(void)state;
	pct_encode_byte(out, ' ');
	assert_memory_equal(out, "%20", 3);
	pct_encode_byte(out, 0xff);
	assert_memory_equal(out, "%FF", 3);
	pct_encode_byte(out, 0x00);
	assert_memory_equal(out, "%00", 3);
	pct_encode_byte(out, 0xab);
	assert_memory_equal(out, "%AB", 3);
}

/* Decode IN (its strlen); expect WANT, or -1 when WANT is NULL. */
static void decode_is(const char *in, bool plus, const char *want)
{
	char out[64];
	size_t n = 99;

	assert_true(strlen(in) < sizeof(out));
	if (want == NULL) {
		assert_int_equal(pct_decode(out, &n, in, strlen(in), plus), -1);
		assert_int_equal(n, 99); /* untouched on failure */
		return;
	}
	assert_int_equal(pct_decode(out, &n, in, strlen(in), plus), 0);
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_pct_decode(void **state)
{
	(void)state;
	decode_is("", false, "");
	decode_is("plain", false, "plain");
	decode_is("a%20b", false, "a b");
	decode_is("%2f%2F", false, "//");
	decode_is("%41%42%43", false, "ABC");
	decode_is("%ff", false, "\xff");
	decode_is("a+b", false, "a+b");
	decode_is("a+b%2B", true, "a b+");
	decode_is("p%40ss", false, "p@ss");
	/* Escapes cut at the end, bad digits, %00. */
	decode_is("%", false, NULL);
	decode_is("abc%", false, NULL);
	decode_is("abc%4", false, NULL);
	decode_is("%4g", false, NULL);
	decode_is("%g4", false, NULL);
	decode_is("%%41", false, NULL);
	decode_is("a%00b", false, NULL);
	decode_is("%00", true, NULL);
}

static void test_pct_decode_bounds(void **state)
{
	char out[8];
	char text[] = "a%41%42+";
	size_t n;

	(void)state;
	/* LEN bounds the input: "%4" at the end of the span is cut even if
	 * the text goes on past it. */
	assert_int_equal(pct_decode(out, &n, "x%41", 3, false), -1);
	assert_int_equal(pct_decode(out, &n, "x%41", 4, false), 0);
	assert_string_equal(out, "xA");
	assert_int_equal(pct_decode(out, NULL, "%41", 3, false), 0);
	assert_string_equal(out, "A");
	/* In place. */
	assert_int_equal(pct_decode(text, &n, text, strlen(text), true), 0);
	assert_string_equal(text, "aAB ");
	assert_int_equal(n, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_digit),
		cmocka_unit_test(test_hex_encode),
		cmocka_unit_test(test_hex_decode),
		cmocka_unit_test(test_hex_round_trip),
		cmocka_unit_test(test_pct_encode_byte),
		cmocka_unit_test(test_pct_decode),
		cmocka_unit_test(test_pct_decode_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
