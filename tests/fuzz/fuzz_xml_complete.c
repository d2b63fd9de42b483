/*
 * fuzz_xml_complete: CompleteMultipartUploadResult, and the <Error> a 200 may
 * carry (s3xml_parse_complete_multipart). An <Error> without a Code is
 * still a failure (S3XML_EERRORDOC, with an empty code), so the property
 * checked is that S3XML_EERRORDOC comes from an <Error> document only.
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
	if (rc == S3XML_EERRORDOC &&
	    !s3xml_is_error_doc((const char *)data, size))
		abort();
	/* ERR may be NULL. */
	if (s3xml_parse_complete_multipart((const char *)data, size, NULL) !=
	    rc)
		abort();
	return 0;
}
