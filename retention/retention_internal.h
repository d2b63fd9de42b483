/*
 * Shared inside retention/ only: setting a struct retention_error, and
 * the one place s3 codes become retention codes.
 */
#ifndef OFFSITE_RETENTION_INTERNAL_H
#define OFFSITE_RETENTION_INTERNAL_H

#include "retention/retention.h"
#include "s3/s3.h"

/* Set ERR to CODE and a printf-style message; returns CODE. */
int retention_fail(struct retention_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * An s3 call failed with SERR: RETENTION_ENOMEM for S3_ENOMEM,
 * RETENTION_ENOTSUP for a request the store does not implement, else
 * RETENTION_ES3; the s3 message whole in ERR. Returns the code.
 */
int retention_from_s3(struct retention_error *err, const s3_error *serr);

#endif
