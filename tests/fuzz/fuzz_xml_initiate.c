/*
 * fuzz_xml_initiate: InitiateMultipartUploadResult
 * (s3xml_parse_initiate_multipart).
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
	char *upload_id = NULL;

	if (s3xml_parse_initiate_multipart((const char *)data, size,
					   &upload_id) == S3XML_OK) {
		if (upload_id == NULL || upload_id[0] == '\0')
			abort();
		free(upload_id);
	}
	return 0;
}
