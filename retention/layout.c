/*
 * The layout of backups in the bucket: building and parsing keys.
 */
#include "retention/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool all_of(const char *s, const char *allowed, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, allowed) == n;
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"
#define UPPER	     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

bool retention_type_valid(const char *type)
{
	/* The abort rule's ID takes the place of a type's: reserved. */
	return all_of(type, LOWER_DIGITS "_-", 31) &&
	       strcmp(type, RETENTION_ABORT_RULE) != 0;
}

bool retention_database_valid(const char *database)
{
	return all_of(database, LOWER_DIGITS UPPER "_.-",
		      RETENTION_NAME_MAX - 1) &&
	       strcmp(database, ".") != 0 && strcmp(database, "..") != 0;
}

static bool suffix_valid(const char *suffix)
{
	return strcmp(suffix, "sql.gz") == 0 ||
	       strcmp(suffix, "sql.gz.enc") == 0;
}

void retention_format_time(time_t t, char out[17])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int retention_parse_time(const char *s, time_t *out)
{
	struct tm tm = {0};
	int n = 0;

	*out = 0;
	if (strlen(s) != 16 || strspn(s, "0123456789") != 8 || s[8] != 'T' ||
	    strspn(s + 9, "0123456789") != 6 || s[15] != 'Z')
		return RETENTION_EINVAL;
	if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 16)
		return RETENTION_EINVAL;
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return RETENTION_EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	/* timegm normalises 31 February into March: refuse it instead. */
	char again[17];
	retention_format_time(*out, again);
	if (strcmp(again, s) != 0) {
		*out = 0;
		return RETENTION_EINVAL;
	}
	return RETENTION_OK;
}

int retention_key_format(char **out, const char *prefix, const char *type,
			 const char *database, time_t created,
			 const char *suffix)
{
	char ts[17];
	char *key;
	int n;

	*out = NULL;
	if (!retention_type_valid(type) ||
	    !retention_database_valid(database) || !suffix_valid(suffix))
		return RETENTION_EINVAL;
	retention_format_time(created, ts);
	n = asprintf(&key, "%s%s/%s/%s-%s-%s.%s", prefix, type, database,
		     database, type, ts, suffix);
	if (n < 0)
		return RETENTION_ENOMEM;
	*out = key;
	return RETENTION_OK;
}

/* Copy the path element at *p up to the next '/' into OUT; advance *p. */
static int take_element(const char **p, char *out, size_t size)
{
	const char *slash = strchr(*p, '/');
	size_t n;

	if (!slash)
		return RETENTION_EINVAL;
	n = (size_t)(slash - *p);
	if (n == 0 || n >= size)
		return RETENTION_EINVAL;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p = slash + 1;
	return RETENTION_OK;
}

int retention_key_parse(struct retention_key *out, const char *prefix,
			const char *key)
{
	struct retention_key k = {0};
	size_t plen = strlen(prefix), n;
	const char *p = key, *ts_start;
	char ts[17];
	char *suffix;

	memset(out, 0, sizeof(*out));
	if (strncmp(key, prefix, plen) != 0)
		return RETENTION_EINVAL;
	p += plen;
	if (take_element(&p, k.type, sizeof(k.type)) ||
	    take_element(&p, k.database, sizeof(k.database)) ||
	    !retention_type_valid(k.type) ||
	    !retention_database_valid(k.database))
		return RETENTION_EINVAL;

	/* The file name: <database>-<type>-<timestamp>.<suffix> */
	n = strlen(k.database);
	if (strncmp(p, k.database, n) != 0 || p[n] != '-')
		return RETENTION_EINVAL;
	p += n + 1;
	n = strlen(k.type);
	if (strncmp(p, k.type, n) != 0 || p[n] != '-')
		return RETENTION_EINVAL;
	ts_start = p + n + 1;
	if (strlen(ts_start) < 18 || ts_start[16] != '.')
		return RETENTION_EINVAL;
	memcpy(ts, ts_start, 16);
	ts[16] = '\0';
	if (retention_parse_time(ts, &k.created))
		return RETENTION_EINVAL;

	p = ts_start + 17;
	n = strlen(p);
	if (n >= sizeof(k.suffix))
		return RETENTION_EINVAL;
	memcpy(k.suffix, p, n + 1);
	suffix = k.suffix;
	if (n > strlen(RETENTION_MANIFEST_SUFFIX) &&
	    strcmp(suffix + n - strlen(RETENTION_MANIFEST_SUFFIX),
		   RETENTION_MANIFEST_SUFFIX) == 0) {
		k.manifest = true;
		suffix[n - strlen(RETENTION_MANIFEST_SUFFIX)] = '\0';
	}
	if (!suffix_valid(suffix))
		return RETENTION_EINVAL;
	k.encrypted = strcmp(suffix, "sql.gz.enc") == 0;
	*out = k;
	return RETENTION_OK;
}
