/*
 * common/buf: the cap is exact, the first error sticks, text and binary
 * both survive growth, and take hands over an empty string too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "common/buf.h"

static void test_grow(void **state)
{
	struct buf b;
	char *out;
	size_t len, i;

	(void)state;
	buf_init(&b, 100000, false);
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_addf(&b, "%03zu,", i), BUF_OK);
	assert_int_equal(b.len, 4000);
	assert_true(b.alloc > b.len);
	assert_int_equal(buf_add_str(&b, "end"), BUF_OK);
	assert_int_equal(buf_add_char(&b, '!'), BUF_OK);
	assert_int_equal(buf_take(&b, &out, &len), BUF_OK);
	assert_int_equal(len, 4004);
	assert_int_equal(strlen(out), 4004);
	assert_memory_equal(out, "000,001,", 8);
	assert_string_equal(out + 3996, "999,end!");
	free(out);
	/* Taken: the buffer is empty again and usable. */
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 100000);
	assert_int_equal(buf_add_str(&b, "again"), BUF_OK);
	assert_string_equal(b.data, "again");
	buf_dispose(&b);
	assert_null(b.data);
}

static void test_cap(void **state)
{
	struct buf b;
	char dummy = 'x', *out = &dummy;
	size_t len = 7;

	(void)state;
	buf_init(&b, 10, false);
	assert_int_equal(buf_add(&b, "0123456789", 10), BUF_OK);
	assert_string_equal(b.data, "0123456789");
	assert_int_equal(b.alloc, 11); /* never more than the cap and a NUL */
	assert_int_equal(buf_add(&b, "", 0), BUF_OK);
	/* One byte more: too big, and it sticks. */
	assert_int_equal(buf_add_char(&b, 'x'), BUF_ETOOBIG);
	assert_int_equal(buf_add(&b, "", 0), BUF_ETOOBIG);
	assert_int_equal(buf_add_str(&b, ""), BUF_ETOOBIG);
	assert_int_equal(buf_addf(&b, "%s", ""), BUF_ETOOBIG);
	assert_int_equal(buf_reserve(&b, 0), BUF_ETOOBIG);
	assert_int_equal(b.len, 10);
	assert_int_equal(buf_take(&b, &out, &len), BUF_ETOOBIG);
	assert_null(out);
	assert_int_equal(len, 0);
	assert_null(b.data);
	assert_int_equal(b.err, BUF_OK); /* disposed */

	/* A single append larger than the cap changes nothing. */
	buf_init(&b, 4, false);
	assert_int_equal(buf_add_str(&b, "ab"), BUF_OK);
	assert_int_equal(buf_addf(&b, "%s", "cde"), BUF_ETOOBIG);
	assert_string_equal(b.data, "ab");
	buf_dispose(&b);

	/* A cap of zero: only the empty string. */
	buf_init(&b, 0, true);
	assert_int_equal(buf_take(&b, &out, NULL), BUF_OK);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(buf_add_char(&b, 'a'), BUF_ETOOBIG);
	buf_dispose(&b);

	/* The largest cap is clamped so that the NUL still fits. */
	buf_init(&b, SIZE_MAX, false);
	assert_int_equal(b.max, SIZE_MAX - 1);
	assert_int_equal(buf_reserve(&b, SIZE_MAX), BUF_ETOOBIG);
	buf_dispose(&b);
}

static void test_binary_and_wipe(void **state)
{
	struct buf b;
	unsigned char chunk[300];
	char *out;
	size_t len, i;

	(void)state;
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (unsigned char)i;
	buf_init(&b, 3 * sizeof(chunk), true);
	for (i = 0; i < 3; i++)
		assert_int_equal(buf_add(&b, chunk, sizeof(chunk)), BUF_OK);
	assert_int_equal(b.len, 900);
	assert_memory_equal(b.data + 600, chunk, sizeof(chunk));
	assert_int_equal(buf_take(&b, &out, &len), BUF_OK);
	assert_int_equal(len, 900);
	assert_memory_equal(out + 300, chunk, sizeof(chunk));
	assert_true(b.wipe);
	free(out);
	/* Full, then one byte too many: disposed (and wiped) on take. */
	for (i = 0; i < 3; i++)
		assert_int_equal(buf_add(&b, chunk, sizeof(chunk)), BUF_OK);
	assert_int_equal(buf_add(&b, chunk, 1), BUF_ETOOBIG);
	assert_int_equal(buf_take(&b, &out, &len), BUF_ETOOBIG);
	assert_null(out);
	/* Empty take, no length wanted. */
	assert_int_equal(buf_take(&b, &out, NULL), BUF_OK);
	assert_string_equal(out, "");
	free(out);
	/* Dispose of an unused buffer, twice. */
	buf_dispose(&b);
	buf_dispose(&b);
}

static void test_reserve(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20, false);
	assert_int_equal(buf_reserve(&b, 0), BUF_OK);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_reserve(&b, 5000), BUF_OK);
	assert_true(b.alloc >= 5001);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_dispose(&b);
}

/* A format vsnprintf cannot render (a wide character the C locale has
 * no byte for) is an error, and it sticks. */
static void test_bad_format(void **state)
{
	static const wchar_t wide[] = {0x263a, 0};
	struct buf b;

	(void)state;
	buf_init(&b, 100, false);
	assert_int_equal(buf_add_str(&b, "ok"), BUF_OK);
	assert_int_equal(buf_addf(&b, "%ls", wide), BUF_ENOMEM);
	assert_int_equal(buf_add_str(&b, "more"), BUF_ENOMEM);
	assert_string_equal(b.data, "ok");
	buf_dispose(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_binary_and_wipe),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_bad_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
