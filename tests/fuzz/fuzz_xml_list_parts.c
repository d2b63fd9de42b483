/*
 * fuzz_xml_list_parts: ListPartsResult (s3xml_parse_list_parts).
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
	struct s3xml_list_parts l;

	if (s3xml_parse_list_parts((const char *)data, size, &l) == S3XML_OK)
		s3xml_list_parts_dispose(&l);
	return 0;
}
