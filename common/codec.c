/*
 * codec: hexadecimal and percent encoding.
 */
#include "common/codec.h"

int hex_digit(int c, enum hex_case hcase)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (hcase != HEX_UPPER && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (hcase != HEX_LOWER && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void hex_encode(char *out, const void *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int hex_decode(void *out, size_t len, const char *s, size_t slen,
	       enum hex_case hcase)
{
	uint8_t *b = out;
	size_t i;

	if (len > SIZE_MAX / 2 || slen != 2 * len)
		return -1;
	for (i = 0; i < len; i++) {
		int hi = hex_digit((unsigned char)s[2 * i], hcase);
		int lo = hex_digit((unsigned char)s[2 * i + 1], hcase);

		if (hi < 0 || lo < 0)
			return -1;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void pct_encode_byte(char out[3], unsigned char c)
{
	static const char digits[] = "0123456789ABCDEF";

	out[0] = '%';
	out[1] = digits[c >> 4];
	out[2] = digits[c & 0x0f];
}

int pct_decode(char *out, size_t *out_len, const char *s, size_t len,
	       bool plus_space)
{
	size_t r, w = 0;

	for (r = 0; r < len; r++) {
		if (s[r] == '%') {
			int hi = len - r > 2
					 ? hex_digit((unsigned char)s[r + 1],
						     HEX_ANY)
					 : -1;
			int lo = hi >= 0 ? hex_digit((unsigned char)s[r + 2],
						     HEX_ANY)
					 : -1;

			if (lo < 0 || (hi == 0 && lo == 0)) {
				out[w] = '\0';
				return -1;
			}
			out[w++] = (char)(hi * 16 + lo);
			r += 2;
		} else if (s[r] == '+' && plus_space) {
			out[w++] = ' ';
		} else {
			out[w++] = s[r];
		}
	}
	out[w] = '\0';
	if (out_len != NULL)
		*out_len = w;
	return 0;
}
