/*
 * retention's errors: its own codes, and s3's translated here, at the
 * edge, with their message carried over whole.
 */
#include "retention/retention_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int retention_fail(struct retention_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	memset(err, 0, sizeof(*err));
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int retention_from_s3(struct retention_error *err, const s3_error *serr)
{
	int code = RETENTION_ES3;

	if (serr->code == S3_ENOMEM)
		code = RETENTION_ENOMEM;
	else if (serr->http_status == 501 ||
		 strcmp(serr->s3_code, "NotImplemented") == 0)
		code = RETENTION_ENOTSUP;
	return retention_fail(err, code, "%s", serr->msg);
}
