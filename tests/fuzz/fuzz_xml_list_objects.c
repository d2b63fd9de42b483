/*
 * fuzz_xml_list_objects: ListObjectsV2 result pages (s3xml_parse_list_objects_v2),
 * URL-encoded keys included.
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
	struct s3xml_list_objects l;

	if (s3xml_parse_list_objects_v2((const char *)data, size, &l) ==
	    S3XML_OK) {
		/* Every key it gives is non-empty (the header's promise). */
		for (size_t i = 0; i < l.nobjects; i++)
			if (l.objects[i].key == NULL ||
			    l.objects[i].key[0] == '\0')
				abort();
		s3xml_list_objects_dispose(&l);
	}
	return 0;
}
