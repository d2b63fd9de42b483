/*
 * error: setting the agent's error once.
 */
#include "agent/error.h"

#include <stdarg.h>
#include <stdio.h>

int agent_fail(struct agent_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && err->code == AGENT_OK) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

bool agent_code_is_integrity(int code)
{
	return code == AGENT_EFORMAT || code == AGENT_ETRUNC ||
	       code == AGENT_EAUTH || code == AGENT_ECORRUPT;
}
