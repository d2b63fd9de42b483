/*
 * codec: hexadecimal and percent (RFC 3986, section 2.1) encoding.
 *
 * Pure functions over caller-owned memory: no allocation, no errno.
 */
#ifndef OFFSITE_COMMON_CODEC_H
#define OFFSITE_COMMON_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Which hex digits a decoder takes. */
enum hex_case {
	HEX_ANY,   /* 0-9 a-f A-F */
	HEX_LOWER, /* 0-9 a-f: what we write, so what we read back */
	HEX_UPPER, /* 0-9 A-F: SigV4's UriEncode() */
};

/* The value of the hex digit C, or -1 when C is not one (of CASE). */
int hex_digit(int c, enum hex_case hcase);

/* LEN bytes at P as 2 * LEN lowercase hex digits and a NUL into OUT
 * (2 * LEN + 1 bytes). */
void hex_encode(char *out, const void *p, size_t len);

/* Exactly 2 * LEN hex digits (of CASE) at S, SLEN bytes, into LEN bytes
 * at OUT. 0, or -1 when SLEN is not 2 * LEN or a digit is bad (OUT may
 * then hold part of the result: wipe it if it is a secret). */
int hex_decode(void *out, size_t len, const char *s, size_t slen,
	       enum hex_case hcase);

/* "%XX" (uppercase hex, RFC 3986 section 2.1) of the byte C into OUT,
 * 3 bytes, no NUL. */
void pct_encode_byte(char out[3], unsigned char c);

/*
 * Percent-decode LEN bytes at S into OUT, which has room for LEN + 1
 * bytes (the result is never longer; OUT may be S: decoding in place),
 * and NUL-terminate it; *OUT_LEN (may be NULL) is its length. A '%' must
 * be followed by two hex digits (either case) within LEN; "%00" is
 * refused too, as it would cut the text short. With PLUS_SPACE, '+' is a
 * space (HTML forms; S3's encoding-type=url). 0, or -1 for a bad escape
 * (OUT then holds part of the result).
 */
int pct_decode(char *out, size_t *out_len, const char *s, size_t len,
	       bool plus_space);

#endif
