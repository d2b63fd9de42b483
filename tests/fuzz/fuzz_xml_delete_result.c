/*
 * fuzz_xml_delete_result: DeleteResult of DeleteObjects
 * (s3xml_parse_delete_result).
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
	struct s3xml_delete_result r;

	if (s3xml_parse_delete_result((const char *)data, size, &r) == S3XML_OK)
		s3xml_delete_result_dispose(&r);
	return 0;
}
