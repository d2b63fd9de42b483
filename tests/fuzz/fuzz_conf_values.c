/*
 * fuzz_conf_values: the value parsers shared by the configuration and the
 * command line: sizes, durations, booleans, and the command-line
 * splitter of the command driver. A size or duration read and formatted
 * (conf_format_*) must read back to the same number.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[CONF_FORMAT_MAX];
	char *s;
	char **argv = NULL;
	uint64_t v, back;
	bool b;

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (conf_parse_size(s, &v) == 0 &&
	    (conf_parse_size(conf_format_size(buf, sizeof(buf), v), &back) !=
		     0 ||
	     back != v))
		abort();
	if (conf_parse_duration(s, &v) == 0 &&
	    (conf_parse_duration(conf_format_duration(buf, sizeof(buf), v),
				 &back) != 0 ||
	     back != v))
		abort();
	(void)conf_parse_bool(s, &b);
	if (conf_split_argv(s, &argv) == 0) {
		if (argv == NULL)
			abort();
		conf_argv_free(argv);
	} else if (argv != NULL) {
		abort();
	}
	free(s);
	return 0;
}
