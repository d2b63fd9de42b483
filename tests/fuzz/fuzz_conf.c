/*
 * fuzz_conf: the INI configuration (conf_parse: inih, then every key's
 * value parser and the cross checks), then conf_print of what was
 * accepted. The environment is emptied once, so that the same bytes give
 * the same result wherever the target runs (conf_parse applies the
 * environment, and looks for the AWS shared files under HOME).
 * Inputs that name a device or a kernel file are skipped: reading
 * /dev/stdin or a FIFO would block, and that says nothing of the parser.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (clearenv() != 0 || setenv("HOME", "/nonexistent", 1) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	conf *c = NULL;
	conf_error err = {{0}};
	char *text;
	int rc;

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (strstr(text, "/dev") || strstr(text, "/proc") ||
	    strstr(text, "/sys")) {
		free(text);
		return 0;
	}
	rc = conf_parse(&c, "/nonexistent/offsite.ini", text, &err);
	if (rc == 0) {
		FILE *fp = fopen("/dev/null", "w");

		if (c == NULL || fp == NULL)
			abort();
		conf_print(c, fp);
		fclose(fp);
	} else if (c != NULL || err.msg[0] == '\0') {
		abort();
	}
	conf_free(c);
	free(text);
	return 0;
}
