/*
 * The manifest, as JSON built and read with jansson, and its MAC.
 */
#include "agent/ops/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "common/codec.h"
#include "common/wipe.h"

/* Exactly 2 * LEN lowercase hex digits (as we write them) into OUT; 0 or
 * -1. */
static int hex_lower(uint8_t *out, size_t len, const char *s)
{
	return hex_decode(out, len, s, strlen(s), HEX_LOWER);
}

static void iso8601(char out[32], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The "encryption" object: null, or the algorithm, the key id, and the
 * header and MAC when there are. */
static json_t *encryption_json(const struct manifest *m)
{
	char header[2 * CRYPTO_HEADER_LEN + 1], mac[2 * CRYPTO_MAC_LEN + 1];
	json_t *enc;

	if (!m->encrypted)
		return json_null();
	enc = json_pack("{s:s, s:s}", "algorithm", "aes-256-gcm", "key_id",
			m->key_id);
	if (enc && m->has_header) {
		hex_encode(header, m->header, CRYPTO_HEADER_LEN);
		if (json_object_set_new(enc, "header", json_string(header))) {
			json_decref(enc);
			return NULL;
		}
	}
	if (enc && m->has_mac) {
		hex_encode(mac, m->mac, CRYPTO_MAC_LEN);
		if (json_object_set_new(enc, "mac", json_string(mac))) {
			json_decref(enc);
			return NULL;
		}
	}
	return enc;
}

int manifest_format(char **out, const struct manifest *m)
{
	char started[32];
	json_t *root, *enc;
	int rc = -1;

	*out = NULL;
	iso8601(started, m->started);
	enc = encryption_json(m);
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

/* The "encryption" object ENC (null or an object) into M. 0 or -1. */
static int parse_encryption(struct manifest *m, json_t *enc, char *why,
			    size_t whysize)
{
	const char *key_id = NULL, *header = NULL, *mac = NULL;
	json_error_t jerr;

	if (enc == NULL || json_is_null(enc))
		return 0;
	if (!json_is_object(enc) ||
	    json_unpack_ex(enc, &jerr, 0, "{s?s, s?s, s?s}", "key_id", &key_id,
			   "header", &header, "mac", &mac) != 0) {
		snprintf(why, whysize,
			 "manifest is not valid: \"encryption\" is neither "
			 "null nor an object of strings");
		return -1;
	}
	m->encrypted = true;
	if (key_id != NULL) {
		if (strlen(key_id) != 16 ||
		    strspn(key_id, "0123456789abcdef") != 16) {
			snprintf(why, whysize,
				 "manifest has unexpected values: key_id");
			return -1;
		}
		memcpy(m->key_id, key_id, 17);
	}
	if (header != NULL) {
		if (hex_lower(m->header, CRYPTO_HEADER_LEN, header) != 0) {
			snprintf(why, whysize,
				 "manifest has unexpected values: header");
			return -1;
		}
		m->has_header = true;
	}
	if (mac != NULL) {
		if (hex_lower(m->mac, CRYPTO_MAC_LEN, mac) != 0) {
			snprintf(why, whysize,
				 "manifest has unexpected values: mac");
			return -1;
		}
		m->has_mac = true;
	}
	return 0;
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
	if (parse_encryption(m, enc, why, whysize) != 0) {
		manifest_store_free(st);
		memset(m, 0, sizeof(*m));
		return -1;
	}
	m->duration = manifest_duration(st->root);
	*store = st;
	return 0;
}

/* ---- the MAC (docs/FORMAT.md, "The manifest MAC") ---- */

/* Keys are at most 1024 bytes in S3; anything near this is not ours. */
#define MAC_KEY_MAX (64 * 1024)

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		*p++ = (uint8_t)(v >> (24 - 8 * i));
	return p;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t)(v >> (56 - 8 * i));
	return p;
}

static uint8_t *put_bytes(uint8_t *p, const void *b, size_t n)
{
	memcpy(p, b, n);
	return p + n;
}

int manifest_mac_input(uint8_t **out, size_t *len, const struct manifest *m)
{
	static const char domain[] = CRYPTO_MAC_DOMAIN;
	const char *format = m->format ? m->format : "";
	size_t klen = m->key ? strlen(m->key) : 0, flen = strlen(format), n;
	uint8_t digest[32], *buf, *p;

	*out = NULL;
	*len = 0;
	if (!m->key || !m->has_header || klen > MAC_KEY_MAX ||
	    flen > MAC_KEY_MAX)
		return -1;
	n = sizeof(domain) + 4 + klen + 2 * (8 + 32) + 4 + flen +
	    CRYPTO_HEADER_LEN;
	buf = malloc(n);
	if (!buf)
		return -1;
	/* "offsite manifest mac v1" and its NUL */
	p = put_bytes(buf, domain, sizeof(domain));
	p = put_u32(p, (uint32_t)klen);
	p = put_bytes(p, m->key, klen);
	p = put_u64(p, m->stored_bytes);
	if (hex_lower(digest, 32, m->stored_sha256) != 0)
		goto bad;
	p = put_bytes(p, digest, 32);
	p = put_u64(p, m->plain_bytes);
	if (hex_lower(digest, 32, m->plain_sha256) != 0)
		goto bad;
	p = put_bytes(p, digest, 32);
	p = put_u32(p, (uint32_t)flen);
	p = put_bytes(p, format, flen);
	p = put_bytes(p, m->header, CRYPTO_HEADER_LEN);
	*out = buf;
	*len = (size_t)(p - buf);
	return 0;
bad:
	free(buf);
	return -1;
}

static bool key_says_encrypted(const char *key)
{
	size_t n = strlen(key);

	return n > 4 && strcmp(key + n - 4, ".enc") == 0;
}

int manifest_check(const struct manifest *m, const char *key,
		   const struct crypto_key *ck, bool *authentic,
		   struct agent_error *err)
{
	struct agent_error herr = {0};
	struct crypto_header h;
	char id[CRYPTO_KEY_ID_HEX_SIZE];
	uint8_t mac_key[CRYPTO_KEY_LEN], tag[CRYPTO_MAC_LEN];
	uint8_t *input = NULL;
	size_t len = 0;
	int rc;

	if (authentic)
		*authentic = false;
	if (strcmp(m->key, key) != 0)
		return agent_fail(err, AGENT_ECORRUPT,
				  "the manifest is another backup's (%.200s)",
				  m->key);
	if (m->encrypted != key_says_encrypted(key))
		return agent_fail(err, AGENT_ECORRUPT,
				  "the manifest says the backup is %s, its key "
				  "says it is %s",
				  m->encrypted ? "encrypted" : "not encrypted",
				  m->encrypted ? "not encrypted" : "encrypted");
	if (!m->encrypted || ck == NULL)
		return AGENT_OK;
	if (!m->has_header || !m->has_mac)
		return agent_fail(err, AGENT_EAUTH,
				  "manifest failed authentication: it has no "
				  "MAC");
	if (crypto_header_parse(&h, m->header, CRYPTO_HEADER_LEN, &herr) !=
	    AGENT_OK)
		return agent_fail(err, AGENT_EAUTH,
				  "manifest failed authentication: its header "
				  "copy: %s",
				  herr.msg);
	crypto_key_id_hex(id, h.key_id);
	if (strcmp(id, m->key_id) != 0)
		return agent_fail(err, AGENT_EAUTH,
				  "manifest failed authentication: its key id "
				  "is not its header's");
	rc = crypto_manifest_key(mac_key, &h, ck, err);
	if (rc != AGENT_OK)
		return rc;
	if (manifest_mac_input(&input, &len, m) != 0) {
		rc = agent_fail(err, AGENT_ENOMEM, "out of memory");
		goto out;
	}
	rc = crypto_manifest_mac(tag, mac_key, input, len, err);
	if (rc != AGENT_OK)
		goto out;
	if (!crypto_mac_equal(tag, m->mac)) {
		rc = agent_fail(err, AGENT_EAUTH,
				"manifest failed authentication: tampered, or "
				"another backup's");
		goto out;
	}
	if (authentic)
		*authentic = true;
	rc = AGENT_OK;
out:
	wipe(mac_key, sizeof(mac_key));
	free(input);
	return rc;
}
