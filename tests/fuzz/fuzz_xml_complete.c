/*
 * fuzz_xml_complete: CompleteMultipartUploadResult, and the <Error> a 200 may
 * carry (s3xml_parse_complete_multipart).
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
	int rc;

	rc = s3xml_parse_complete_multipart((const char *)data, size, &e);
	if (rc == S3XML_EERRORDOC && e.code[0] == '\0')
		abort();
	/* ERR may be NULL. */
	if (s3xml_parse_complete_multipart((const char *)data, size, NULL) !=
	    rc)
		abort();
	return 0;
}
