/*
 * units: sizes, durations, booleans and whole numbers, read and written.
 *
 * Every parser takes the whole string: no leading blanks, no trailing
 * junk, no sign unless asked for, and overflow is an error, never a wrap.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_internal.h"

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static char lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* Digits at *P into *OUT; false on overflow or when there is no digit. */
static bool read_number(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (!is_digit(*s))
		return false;
	for (; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return true;
}

int conf_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmgt";
	const char *p = s, *u;
	uint64_t v, mult = 1, base = 1024;
	unsigned exp = 0;

	if (s == NULL || out == NULL || !read_number(&p, &v))
		return CONF_ESYNTAX;
	u = p;
	while (is_blank(*u))
		u++;
	if (*u == '\0') {
		if (u != p)
			return CONF_ESYNTAX; /* trailing blanks */
		*out = v;
		return CONF_OK;
	}
	if (lower(*u) == 'b') {
		if (u[1] != '\0')
			return CONF_ESYNTAX;
		*out = v;
		return CONF_OK;
	}
	if (strchr(units, lower(*u)) == NULL)
		return CONF_ESYNTAX;
	exp = (unsigned)(strchr(units, lower(*u)) - units) + 1;
	u++;
	/* K, KiB: binary; kB, KB: decimal. */
	if (lower(u[0]) == 'i' && lower(u[1]) == 'b' && u[2] == '\0')
		base = 1024;
	else if (lower(u[0]) == 'b' && u[1] == '\0')
		base = 1000;
	else if (u[0] != '\0')
		return CONF_ESYNTAX;
	while (exp-- > 0)
		mult *= base;
	if (v > UINT64_MAX / mult)
		return CONF_ESYNTAX;
	*out = v * mult;
	return CONF_OK;
}

static uint64_t duration_unit(char ch)
{
	switch (ch) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	case 'w':
		return 7 * 86400;
	default:
		return 0;
	}
}

int conf_parse_duration(const char *s, uint64_t *out)
{
	const char *p = s;
	uint64_t total = 0, v, unit;
	unsigned parts = 0;

	if (s == NULL || out == NULL || *s == '\0')
		return CONF_ESYNTAX;
	while (*p != '\0') {
		if (!read_number(&p, &v))
			return CONF_ESYNTAX;
		if (*p == '\0' && parts == 0) {
			total = v; /* plain seconds */
			break;
		}
		unit = duration_unit(*p++);
		if (unit == 0 || v > UINT64_MAX / unit)
			return CONF_ESYNTAX;
		v *= unit;
		if (total > UINT64_MAX - v)
			return CONF_ESYNTAX;
		total += v;
		parts++;
	}
	*out = total;
	return CONF_OK;
}

int conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	if (s == NULL || out == NULL)
		return CONF_ESYNTAX;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return CONF_OK;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return CONF_OK;
		}
	}
	return CONF_ESYNTAX;
}

int conf_parse_integer(const char *s, int64_t *out)
{
	const char *p = s;
	bool neg = false;
	uint64_t v = 0;

	if (s == NULL || out == NULL)
		return CONF_ESYNTAX;
	if (*p == '-') {
		neg = true;
		p++;
	}
	if (!is_digit(*p))
		return CONF_ESYNTAX;
	/* Saturate past INT64_MAX: the caller's range check reports it. */
	for (; is_digit(*p); p++) {
		if (v > (uint64_t)INT64_MAX / 10 + 1)
			v = (uint64_t)INT64_MAX + 1;
		else
			v = v * 10 + (unsigned)(*p - '0');
	}
	if (*p != '\0')
		return CONF_ESYNTAX;
	if (v > (uint64_t)INT64_MAX)
		*out = neg ? INT64_MIN : INT64_MAX;
	else
		*out = neg ? -(int64_t)v : (int64_t)v;
	return CONF_OK;
}

const char *conf_format_size(char *buf, size_t size, uint64_t bytes)
{
	static const char *const bin[] = {"KiB", "MiB", "GiB", "TiB"};
	static const char *const dec[] = {"kB", "MB", "GB", "TB"};

	if (buf == NULL || size == 0)
		return buf;
	if (bytes == 0) {
		snprintf(buf, size, "0");
		return buf;
	}
	/* The largest unit that says it exactly; binary first. */
	for (int i = 3; i >= 0; i--) {
		uint64_t m = (uint64_t)1 << (10 * (i + 1));

		if (bytes % m == 0) {
			snprintf(buf, size, "%" PRIu64 "%s", bytes / m, bin[i]);
			return buf;
		}
	}
	for (int i = 3; i >= 0; i--) {
		uint64_t m = 1;

		for (int j = 0; j <= i; j++)
			m *= 1000;
		if (bytes % m == 0) {
			snprintf(buf, size, "%" PRIu64 "%s", bytes / m, dec[i]);
			return buf;
		}
	}
	snprintf(buf, size, "%" PRIu64, bytes);
	return buf;
}

const char *conf_format_duration(char *buf, size_t size, uint64_t seconds)
{
	static const struct {
		char unit;
		uint64_t secs;
	} parts[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	size_t used = 0;

	if (buf == NULL || size == 0)
		return buf;
	buf[0] = '\0';
	if (seconds == 0) {
		snprintf(buf, size, "0");
		return buf;
	}
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		uint64_t n = seconds / parts[i].secs;
		int w;

		if (n == 0)
			continue;
		seconds -= n * parts[i].secs;
		w = snprintf(buf + used, size - used, "%" PRIu64 "%c", n,
			     parts[i].unit);
		if (w < 0 || (size_t)w >= size - used)
			break; /* truncated: BUF was smaller than documented */
		used += (size_t)w;
	}
	return buf;
}
