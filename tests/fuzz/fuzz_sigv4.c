/*
 * fuzz_sigv4: URI encoding and the canonical request of SigV4 (path,
 * query and headers as given by a caller: the object key comes from the
 * command line, the listing or the bucket), then the whole header
 * signature and a presigned query at a fixed time, with fixed test
 * credentials.
 *
 * The input is lines: the method, the path, then "?NAME=VALUE" for a
 * query parameter and "NAME:VALUE" for a header. The whole input is also
 * URI-encoded both ways, and the encoding checked: only unreserved
 * characters, '/' when kept, and %XX with uppercase hex.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3/sigv4.h"
#include "tests/fuzz/fuzz.h"

#define MAX_ITEMS 64

static bool unreserved(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

static bool hexup(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static void check_encoding(const char *s, bool encode_slash)
{
	char *enc = NULL;

	if (sigv4_uri_encode(&enc, s, encode_slash) != SIGV4_OK)
		return;
	for (const char *p = enc; *p; p++) {
		if (unreserved(*p) || (*p == '/' && !encode_slash))
			continue;
		if (p[0] != '%' || !hexup(p[1]) || !hexup(p[2]))
			abort();
		p += 2;
	}
	sigv4_str_free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigv4_kv query[MAX_ITEMS], headers[MAX_ITEMS];
	struct sigv4_request r = {0};
	struct sigv4_signer signer = {
		.access_key = "AKIDEXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		.session_token = "session-token-example",
		.region = "us-east-1",
		.service = "s3",
	};
	char *lines[2 + 2 * MAX_ITEMS];
	size_t nlines = 0;
	char *text, *p, *out = NULL, *signed_headers = NULL;

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_encoding(text, true);
	check_encoding(text, false);

	for (p = text; p != NULL && nlines < sizeof(lines) / sizeof(*lines);) {
		char *nl = strchr(p, '\n');

		if (nl != NULL)
			*nl++ = '\0';
		lines[nlines++] = p;
		p = nl;
	}
	if (nlines < 2)
		goto out;
	r.method = lines[0];
	r.path = lines[1];
	r.query = query;
	r.headers = headers;
	r.payload_hash = SIGV4_EMPTY_SHA256;
	for (size_t i = 2; i < nlines; i++) {
		char *line = lines[i];
		char *sep;

		if (line[0] == '?' && r.nquery < MAX_ITEMS) {
			sep = strchr(line + 1, '=');
			if (sep != NULL)
				*sep++ = '\0';
			query[r.nquery].name = line + 1;
			query[r.nquery++].value = sep;
		} else if ((sep = strchr(line, ':')) &&
			   r.nheaders < MAX_ITEMS) {
			*sep++ = '\0';
			headers[r.nheaders].name = line;
			headers[r.nheaders++].value = sep;
		}
	}

	if (sigv4_canonical_request(&out, &signed_headers, &r) == SIGV4_OK) {
		if (out == NULL || signed_headers == NULL)
			abort();
	} else if (out != NULL || signed_headers != NULL) {
		abort();
	}
	sigv4_str_free(out);
	sigv4_str_free(signed_headers);
	out = NULL;

	if (sigv4_presign(&out, NULL, &signer, &r, "20130524T000000Z", 3600) ==
	    SIGV4_OK) {
		if (out == NULL || strstr(out, "X-Amz-Signature=") == NULL)
			abort();
	}
	sigv4_str_free(out);
	out = NULL;
	if (sigv4_authorization(&out, NULL, &signer, &r, "20130524T000000Z") ==
	    SIGV4_OK) {
		if (out == NULL)
			abort();
	}
	sigv4_str_free(out);
out:
	free(text);
	return 0;
}
