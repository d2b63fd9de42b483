/*
 * The manifest, as JSON built and read with jansson.
 */
#include "agent/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static void iso8601(char out[32], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int manifest_format(char **out, const struct manifest *m)
{
	char started[32];
	json_t *root, *enc;
	int rc = -1;

	*out = NULL;
	iso8601(started, m->started);
	enc = m->encrypted ? json_pack("{s:s, s:s}", "algorithm", "aes-256-gcm",
				       "key_id", m->key_id)
			   : json_null();
	root = json_pack(
		"{s:i, s:s, s:s, s:s, s:s, s:s, s:f,"
		" s:{s:I, s:s}, s:{s:I, s:s}, s:i, s:I,"
		" s:{s:s, s:s, s:i}, s:o, s:{s:s, s:s, s:s}}",
		"format", MANIFEST_FORMAT, "key", m->key, "type", m->type,
		"database", m->database, "host", m->host, "started", started,
		"duration_seconds", m->duration, "plain", "bytes",
		(json_int_t)m->plain_bytes, "sha256", m->plain_sha256, "stored",
		"bytes", (json_int_t)m->stored_bytes, "sha256",
		m->stored_sha256, "parts", (int)m->parts, "largest_part",
		(json_int_t)m->largest_part, "compression", "format", "gzip",
		"engine", m->compression_engine, "level", m->compression_level,
		"encryption", enc, "dump", "driver", m->driver, "tool",
		m->tool ? m->tool : "", "format",
		m->format ? m->format : "raw");
	if (root) {
		*out = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
		rc = *out ? 0 : -1;
		json_decref(root);
	}
	return rc;
}

struct manifest_store {
	json_t *root;
};

void manifest_store_free(struct manifest_store *store)
{
	if (store) {
		json_decref(store->root);
		free(store);
	}
}

static int hex64(const char *s)
{
	return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* "duration_seconds": a number of seconds, up to ten years; -1 when
 * missing or anything else (it only informs). */
static double manifest_duration(const json_t *root)
{
	const json_t *d = json_object_get(root, "duration_seconds");
	double v = json_is_number(d) ? json_number_value(d) : -1;

	return v >= 0 && v <= 3650.0 * 86400 ? v : -1;
}

int manifest_parse(struct manifest *m, struct manifest_store **store,
		   const char *text, size_t len, char *why, size_t whysize)
{
	struct manifest_store *st;
	json_error_t jerr;
	json_int_t format = 0, pbytes = -1, sbytes = -1, parts = 0;
	const char *psha = NULL, *ssha = NULL;
	json_t *enc = NULL;

	memset(m, 0, sizeof(*m));
	*store = NULL;
	if (len > MANIFEST_MAX) {
		snprintf(why, whysize, "manifest larger than %d bytes",
			 MANIFEST_MAX);
		return -1;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(why, whysize, "out of memory");
		return -1;
	}
	st->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!st->root ||
	    json_unpack_ex(st->root, &jerr, 0,
			   "{s:I, s:s, s:s, s:s, s:{s:I, s:s}, s:{s:I, s:s},"
			   " s?I, s?o, s?{s?s}}",
			   "format", &format, "key", &m->key, "type", &m->type,
			   "database", &m->database, "plain", "bytes", &pbytes,
			   "sha256", &psha, "stored", "bytes", &sbytes,
			   "sha256", &ssha, "parts", &parts, "encryption", &enc,
			   "dump", "format", &m->format) != 0) {
		snprintf(why, whysize, "manifest is not valid: %s", jerr.text);
		manifest_store_free(st);
		return -1;
	}
	if (format != MANIFEST_FORMAT || pbytes < 0 || sbytes < 0 ||
	    parts < 0 || parts > 10000 || !hex64(psha) || !hex64(ssha)) {
		snprintf(why, whysize, "manifest has unexpected values");
		manifest_store_free(st);
		return -1;
	}
	m->plain_bytes = (uint64_t)pbytes;
	m->stored_bytes = (uint64_t)sbytes;
	m->parts = (unsigned)parts;
	memcpy(m->plain_sha256, psha, 65);
	memcpy(m->stored_sha256, ssha, 65);
	m->encrypted = enc && json_is_object(enc);
	m->duration = manifest_duration(st->root);
	*store = st;
	return 0;
}
