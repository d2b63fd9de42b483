/*
 * fuzz_xml_lifecycle: LifecycleConfiguration (s3xml_parse_lifecycle), then
 * the round trip retention makes: a configuration read is written back
 * (s3xml_build_lifecycle) with its rules copied node for node, and what
 * is written must read again with as many rules.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
	struct s3_lifecycle lc = {0}, again = {0};
	char *xml = NULL;

	if (s3xml_parse_lifecycle((const char *)data, size, &lc) != S3XML_OK)
		return 0;
	if (s3xml_build_lifecycle(&lc, &xml) == S3XML_OK) {
		size_t len = strlen(xml);

		if (s3xml_parse_lifecycle(xml, len, &again) != S3XML_OK ||
		    again.nrules != lc.nrules)
			abort();
		s3_lifecycle_dispose(&again);
		free(xml);
	}
	s3_lifecycle_dispose(&lc);
	return 0;
}
