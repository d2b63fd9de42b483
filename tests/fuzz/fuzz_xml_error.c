/*
 * fuzz_xml_error: S3 <Error> bodies (s3xml_parse_error, s3xml_is_error_doc):
 * what any failed request answers, and what a 200 may carry.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <libxml/parser.h>

#include "s3/xml.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3xml_error e;
	int rc = s3xml_parse_error((const char *)data, size, &e);
	bool is_error = s3xml_is_error_doc((const char *)data, size);

	/* A parsed <Error> is an error document, and has a code. */
	if (rc == S3XML_OK && (!is_error || e.code[0] == '\0'))
		abort();
	return 0;
}
