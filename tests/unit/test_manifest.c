/*
 * manifest: the MAC of docs/FORMAT.md ("The manifest MAC") and its test
 * vector; every covered field changes it; the checks a manifest read from
 * the bucket must pass (another backup's, edited, without a MAC, under
 * another key); what backup writes, read back; and the parser's new
 * fields.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/pipe/crypto.h"
#include "agent/ops/manifest.h"
#include "agent/pipe/stages.h"

/* ---- docs/FORMAT.md, "The manifest MAC", test vector ---- */

static const char vkey[] =
	"db01/daily/app/app-daily-20261123T093000Z.sql.gz.enc";
/* The header of vector 1 (tests/fixtures/vector.enc). */
static const char vheader[] =
	"4f464653454e431a01010000000000001000000000000000000000000000000000"
	"99947994292aeaf4202122232425262728292a2b2c2d2e2f303132333435363738"
	"393a3b3c3d3e3f51df2ac7d5aa0b727b7d87122b60e1a5";
/* SHA-256 of vector 1's 190 bytes, and of its 41 bytes of plaintext. */
static const char vstored[] =
	"d80564d5bf213c559e28f8878b06f73dc23fb5ac3e52f3de72335cbb82d12bde";
static const char vplain[] =
	"abcd17f4bdadb90f4faebb722529882aefea281c0672f1b2308943ef8844959a";
static const char vmac_key[] =
	"b4ef8d0943e24916a496755f7563b9c2afb5a1e4f06cd28d0e428f0dd7e6e0cd";
static const char vmac[] =
	"e3345df9846c1b571abf76a444b15ea4eab37a9da224e2998b3f67b929591154";
/* The first bytes of the canonical input, up to the key's end. */
static const char vinput_start[] =
	"6f666673697465206d616e6966657374206d6163207631000000003464623031"
	"2f6461696c792f6170702f6170702d6461696c792d3230323631313233543039"
	"333030305a2e73716c2e677a2e656e63";

static void unhex(uint8_t *out, size_t len, const char *hex)
{
	assert_int_equal(strlen(hex), 2 * len);
	for (size_t i = 0; i < len; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void tohex(char *out, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void vector_key(struct crypto_key *k)
{
	uint8_t raw[CRYPTO_KEY_LEN];
	struct agent_error cerr = {0};

	for (int i = 0; i < CRYPTO_KEY_LEN; i++)
		raw[i] = (uint8_t)i;
	assert_int_equal(crypto_key_from_bytes(k, raw, &cerr), AGENT_OK);
}

/* The vector's manifest, without its MAC. */
static void vector_manifest(struct manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->key = vkey;
	m->type = "daily";
	m->database = "app";
	m->stored_bytes = 190;
	memcpy(m->stored_sha256, vstored, 65);
	m->plain_bytes = 41;
	memcpy(m->plain_sha256, vplain, 65);
	m->format = "plain";
	m->encrypted = true;
	memcpy(m->key_id, "99947994292aeaf4", 17);
	unhex(m->header, CRYPTO_HEADER_LEN, vheader);
	m->has_header = true;
}

static void test_vector(void **state)
{
	struct agent_error err = {0};
	struct crypto_header h;
	struct crypto_key k;
	struct manifest m;
	uint8_t mac_key[CRYPTO_KEY_LEN], tag[CRYPTO_MAC_LEN], *input;
	char hex[2 * 300 + 1];
	size_t len;
	bool authentic = false;

	(void)state;
	vector_key(&k);
	vector_manifest(&m);
	assert_int_equal(manifest_mac_input(&input, &len, &m), 0);
	assert_int_equal(len, 258);
	tohex(hex, input, len);
	assert_memory_equal(hex, vinput_start, strlen(vinput_start));

	assert_int_equal(
		crypto_header_parse(&h, m.header, sizeof(m.header), &err),
		AGENT_OK);
	assert_int_equal(crypto_manifest_key(mac_key, &h, &k, &err), AGENT_OK);
	tohex(hex, mac_key, sizeof(mac_key));
	assert_string_equal(hex, vmac_key);
	assert_int_equal(crypto_manifest_mac(tag, mac_key, input, len, &err),
			 AGENT_OK);
	tohex(hex, tag, sizeof(tag));
	assert_string_equal(hex, vmac);
	free(input);

	memcpy(m.mac, tag, sizeof(tag));
	m.has_mac = true;
	assert_int_equal(manifest_check(&m, vkey, &k, &authentic, &err),
			 AGENT_OK);
	assert_true(authentic);
	crypto_key_dispose(&k);
}

/* Each field the MAC covers, changed by one bit or byte, fails it. */
static void test_every_field_counts(void **state)
{
	static const char other_key[] =
		"db01/daily/app/app-daily-20261123T093001Z.sql.gz.enc";
	struct crypto_key k;
	struct manifest base, m;
	char edited[65];
	int field;

	(void)state;
	vector_key(&k);
	vector_manifest(&base);
	unhex(base.mac, CRYPTO_MAC_LEN, vmac);
	base.has_mac = true;
	for (field = 0; field < 9; field++) {
		struct agent_error err = {0};
		const char *key = vkey;

		m = base;
		switch (field) {
		case 0: /* the key (another backup's, its manifest copied) */
			m.key = other_key;
			key = other_key;
			break;
		case 1:
			m.stored_bytes++;
			break;
		case 2:
			memcpy(edited, vstored, 65);
			edited[63] = edited[63] == '0' ? '1' : '0';
			memcpy(m.stored_sha256, edited, 65);
			break;
		case 3:
			m.plain_bytes--;
			break;
		case 4:
			memcpy(edited, vplain, 65);
			edited[0] = edited[0] == '0' ? '1' : '0';
			memcpy(m.plain_sha256, edited, 65);
			break;
		case 5:
			m.format = "custom";
			break;
		case 6: /* the file_salt of the header */
			m.header[41] ^= 1;
			break;
		case 7: /* the header tag */
			m.header[88] ^= 0x80;
			break;
		case 8: /* the MAC itself */
			m.mac[31] ^= 1;
			break;
		}
		assert_int_equal(manifest_check(&m, key, &k, NULL, &err),
				 AGENT_EAUTH);
		assert_string_equal(err.msg, "manifest failed authentication: "
					     "tampered, or another backup's");
	}
	/* What the MAC does not cover does not change it. */
	m = base;
	m.host = "elsewhere";
	m.parts = 7;
	m.type = "weekly";
	assert_int_equal(manifest_check(&m, vkey, &k, NULL, NULL), AGENT_OK);
	crypto_key_dispose(&k);
}

static void test_refusals(void **state)
{
	struct crypto_key k, other;
	struct manifest base, m;
	uint8_t raw[CRYPTO_KEY_LEN] = {0};
	struct agent_error cerr = {0};
	struct agent_error err;
	bool authentic = true;

	(void)state;
	vector_key(&k);
	assert_int_equal(crypto_key_from_bytes(&other, raw, &cerr), AGENT_OK);
	vector_manifest(&base);
	unhex(base.mac, CRYPTO_MAC_LEN, vmac);
	base.has_mac = true;

	/* No MAC, or no header: not authentic. */
	m = base;
	m.has_mac = false;
	memset(&err, 0, sizeof(err));
	assert_int_equal(manifest_check(&m, vkey, &k, NULL, &err), AGENT_EAUTH);
	assert_string_equal(err.msg,
			    "manifest failed authentication: it has no MAC");
	m = base;
	m.has_header = false;
	assert_int_equal(manifest_check(&m, vkey, &k, NULL, NULL), AGENT_EAUTH);

	/* Another backup's manifest, under this backup's key. */
	m = base;
	memset(&err, 0, sizeof(err));
	assert_int_equal(
		manifest_check(&m,
			       "db01/daily/app/app-daily-20261124T093000Z.sql."
			       "gz.enc",
			       &k, NULL, &err),
		AGENT_ECORRUPT);
	assert_non_null(strstr(err.msg, "another backup's"));

	/* The key says encrypted, the manifest not (or the reverse). */
	m = base;
	m.encrypted = false;
	memset(&err, 0, sizeof(err));
	assert_int_equal(manifest_check(&m, vkey, &k, NULL, &err),
			 AGENT_ECORRUPT);
	assert_string_equal(err.msg, "the manifest says the backup is not "
				     "encrypted, its key says it is encrypted");

	/* Another key: the header's key id says so. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(manifest_check(&base, vkey, &other, NULL, &err),
			 AGENT_EAUTH);
	assert_non_null(strstr(err.msg, "wrong key"));

	/* A key id that is not the header's. */
	m = base;
	memcpy(m.key_id, "0000000000000000", 17);
	assert_int_equal(manifest_check(&m, vkey, &k, NULL, NULL), AGENT_EAUTH);

	/* A header copy that does not parse. */
	m = base;
	m.header[0] = 'X';
	memset(&err, 0, sizeof(err));
	assert_int_equal(manifest_check(&m, vkey, &k, NULL, &err), AGENT_EAUTH);
	assert_non_null(strstr(err.msg, "not an offsite encrypted file"));

	/* Without a key nothing can be authenticated: taken as it reads. */
	m = base;
	m.has_mac = false;
	assert_int_equal(manifest_check(&m, vkey, NULL, &authentic, NULL),
			 AGENT_OK);
	assert_false(authentic);
	crypto_key_dispose(&k);
	crypto_key_dispose(&other);
}

/* What backup does (cmd_backup.c): header and MAC from the encrypt
 * stage, written as JSON; read back and checked. */
static void sign_and_check(const struct crypto_key *k)
{
	struct encrypt_options eo = ENCRYPT_OPTIONS_INIT;
	struct agent_error err = {0};
	struct stream *null = NULL, *enc = NULL;
	struct manifest m = {0}, back;
	struct manifest_store *store = NULL;
	uint8_t id[CRYPTO_KEY_ID_LEN], *input;
	char *text = NULL, why[256];
	size_t len;
	bool authentic = false;

	assert_int_equal(stage_null_new(&null, &err), AGENT_OK);
	eo.key = k;
	assert_int_equal(stage_encrypt_new(&enc, null, &err, &eo), AGENT_OK);
	m.key = vkey;
	m.type = "daily";
	m.database = "app";
	m.host = "db1";
	m.compression_engine = "libdeflate";
	m.driver = "postgres";
	m.tool = "";
	m.format = "plain";
	m.stored_bytes = 1234;
	memcpy(m.stored_sha256, vstored, 65);
	m.plain_bytes = 5678;
	memcpy(m.plain_sha256, vplain, 65);
	m.encrypted = true;
	stage_encrypt_key_id(enc, id);
	crypto_key_id_hex(m.key_id, id);
	stage_encrypt_header(enc, m.header);
	m.has_header = true;
	assert_int_equal(manifest_mac_input(&input, &len, &m), 0);
	assert_int_equal(
		stage_encrypt_manifest_mac(enc, input, len, m.mac, &err),
		AGENT_OK);
	m.has_mac = true;
	free(input);
	assert_int_equal(manifest_format(&text, &m), 0);
	assert_non_null(strstr(text, "\"mac\": \""));
	assert_non_null(strstr(text, "\"header\": \"4f464653454e431a01"));

	assert_int_equal(manifest_parse(&back, &store, text, strlen(text), why,
					sizeof(why)),
			 0);
	assert_true(back.has_header && back.has_mac && back.encrypted);
	assert_int_equal(manifest_check(&back, vkey, k, &authentic, &err),
			 AGENT_OK);
	assert_true(authentic);
	manifest_store_free(store);
	free(text);
	stream_free(enc);
	stream_free(null);
}

static void test_backup_signs(void **state)
{
	static const struct crypto_scrypt cost = {10, 8, 1};
	struct crypto_key k;
	struct agent_error cerr = {0};

	(void)state;
	vector_key(&k);
	sign_and_check(&k);
	crypto_key_dispose(&k);
	/* A passphrase: the MAC key comes from the file's own scrypt. */
	assert_int_equal(
		crypto_key_from_passphrase(&k, "hunter2", 7, &cost, &cerr),
		AGENT_OK);
	sign_and_check(&k);
	crypto_key_dispose(&k);
}

static void test_parse_fields(void **state)
{
	static const char head[] =
		"{\"format\": 1, \"key\": \"k.sql.gz.enc\", \"type\": \"daily\","
		" \"database\": \"app\", \"plain\": {\"bytes\": 1, \"sha256\": "
		"\"abcd17f4bdadb90f4faebb722529882aefea281c0672f1b2308943ef8844"
		"959a\"}, \"stored\": {\"bytes\": 2, \"sha256\": \"abcd17f4bdad"
		"b90f4faebb722529882aefea281c0672f1b2308943ef8844959a\"}, "
		"\"encryption\": ";
	static const char *const bad[] = {
		"true}",
		"\"aes\"}",
		"{\"key_id\": 5}}",
		"{\"key_id\": \"XYZ\"}}",
		"{\"header\": \"00\"}}",
		"{\"mac\": \"E3345DF9846C1B571ABF76A444B15EA4EAB37A9DA224E2998B"
		"3F67B929591154\"}}",
	};
	struct manifest m;
	struct manifest_store *store = NULL;
	char text[1024], why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", head, bad[i]);
		assert_int_equal(manifest_parse(&m, &store, text, strlen(text),
						why, sizeof(why)),
				 -1);
		assert_null(store);
	}
	snprintf(text, sizeof(text), "%snull}", head);
	assert_int_equal(manifest_parse(&m, &store, text, strlen(text), why,
					sizeof(why)),
			 0);
	assert_false(m.encrypted);
	manifest_store_free(store);
	snprintf(text, sizeof(text), "%s{\"algorithm\": \"aes-256-gcm\"}}",
		 head);
	assert_int_equal(manifest_parse(&m, &store, text, strlen(text), why,
					sizeof(why)),
			 0);
	assert_true(m.encrypted);
	assert_false(m.has_header || m.has_mac);
	manifest_store_free(store);
	/* An empty document, or an empty object, is no manifest. */
	assert_int_equal(manifest_parse(&m, &store, "", 0, why, sizeof(why)),
			 -1);
	assert_int_equal(manifest_parse(&m, &store, "{}", 2, why, sizeof(why)),
			 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_every_field_counts),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_backup_signs),
		cmocka_unit_test(test_parse_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
