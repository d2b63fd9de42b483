/*
 * crypto: the keys and the primitives of the encrypted format.
 *
 * docs/FORMAT.md is the format, byte by byte; this is its one
 * implementation. Every OpenSSL call of the program's encryption is in
 * agent/crypto.c, and OpenSSL's errors are translated there, in one
 * function. The stages (agent/stage_encrypt.c, agent/stage_decrypt.c)
 * only frame: they buffer segments and call crypto_file_seal() and
 * crypto_file_open().
 *
 * Keys come from a key file (64 hex digits, as `offsite keygen` writes
 * it) or a passphrase file (run through scrypt with a salt per file).
 * Both files must be readable by their owner only (mode & 077 == 0).
 *
 * Secrets: a struct crypto_key holds key material or a passphrase; whoever
 * fills one calls crypto_key_dispose() on it, which wipes it. Derived keys
 * live inside struct crypto_file and are wiped by crypto_file_free().
 * Nothing here logs, and no message holds a key: a key id is a one-way
 * hash and may be shown.
 */
#ifndef OFFSITE_AGENT_CRYPTO_H
#define OFFSITE_AGENT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/pipe/stream.h"

#define CRYPTO_KEY_LEN	       32 /* AES-256 */
#define CRYPTO_KEY_ID_LEN      8
#define CRYPTO_KEY_ID_HEX_SIZE (2 * CRYPTO_KEY_ID_LEN + 1)
#define CRYPTO_TAG_LEN	       16
#define CRYPTO_SCRYPT_SALT_LEN 16
#define CRYPTO_FILE_SALT_LEN   32
#define CRYPTO_PASSPHRASE_MAX  1024 /* bytes, after the newline is cut */

/* Segment sizes: plaintext bytes in every segment but the last. */
#define CRYPTO_SEGMENT_DEFAULT (64 * 1024)
#define CRYPTO_SEGMENT_MAX     (16 * 1024 * 1024)

/* The header (docs/FORMAT.md): its length, and how much of it the header
 * tag authenticates (all but the tag). */
#define CRYPTO_HEADER_LEN      89
#define CRYPTO_HEADER_AUTH_LEN (CRYPTO_HEADER_LEN - CRYPTO_TAG_LEN)
#define CRYPTO_MAGIC	       "OFFSENC\x1a"
#define CRYPTO_MAGIC_LEN       8
#define CRYPTO_VERSION	       1

/* Before every segment: its plaintext length, u32 big-endian. */
#define CRYPTO_SEGMENT_LEN_SIZE 4

/* Where a key comes from; the values are the header's key source byte. */
enum crypto_source {
	CRYPTO_SOURCE_KEY = 1,	      /* a 256-bit key (key file) */
	CRYPTO_SOURCE_PASSPHRASE = 2, /* a passphrase through scrypt */
};

/*
 * scrypt's cost: N = 2^log2_n, r, p. The default is OWASP's minimum for
 * scrypt (128 MiB, a fraction of a second once per backup). Whatever a
 * header asks for must stay within CRYPTO_SCRYPT_MAX_MEM (128 * r * N
 * bytes) and CRYPTO_SCRYPT_MAX_WORK (128 * r * N * p), so a hostile file
 * cannot make a reader allocate gigabytes or spin for minutes; the writer
 * keeps to the same limits, so every file we write can be read.
 */
struct crypto_scrypt {
	uint8_t log2_n; /* 1..63 in the header; limited by the memory cap */
	uint8_t r;	/* 1..255 */
	uint8_t p;	/* 1..255 */
};

#define CRYPTO_SCRYPT_DEFAULT_LOG2_N 17
#define CRYPTO_SCRYPT_DEFAULT_R	     8
#define CRYPTO_SCRYPT_DEFAULT_P	     1
#define CRYPTO_SCRYPT_MAX_MEM	     (256ULL * 1024 * 1024)
#define CRYPTO_SCRYPT_MAX_WORK	     (1024ULL * 1024 * 1024)

/*
 * Key material, filled by one of the crypto_key_* functions below and
 * wiped by crypto_key_dispose(). Copy it by value if you must; wipe every
 * copy.
 */
struct crypto_key {
	enum crypto_source source;
	/* CRYPTO_SOURCE_KEY: the key and its id (FORMAT.md, "Key id"). */
	uint8_t key[CRYPTO_KEY_LEN];
	uint8_t id[CRYPTO_KEY_ID_LEN];
	/* CRYPTO_SOURCE_PASSPHRASE: the passphrase, and the scrypt cost of
	 * files encrypted with it (a reader takes the cost from the file). */
	uint8_t passphrase[CRYPTO_PASSPHRASE_MAX];
	size_t passphrase_len;
	struct crypto_scrypt scrypt;
};

/*
 * Errors of the key functions (struct agent_error): AGENT_EKEY, a key or
 * passphrase file that is unusable (missing, unreadable, its mode, owner,
 * type or contents) or bad scrypt costs; AGENT_EEXIST, keygen's file
 * exists and is left alone; AGENT_EIO, keygen cannot write its file, or
 * OpenSSL failed (its reason is in the message).
 */

/*
 * Load the key file PATH: exactly 64 hexadecimal digits (either case),
 * optionally followed by one "\n" or "\r\n". The file must be a regular
 * file with mode & 077 == 0 (AGENT_EKEY with a `chmod 600` hint). Sets
 * OUT's source, key and id. OUT is wiped first and on failure.
 */
int crypto_key_load_file(struct crypto_key *out, const char *path,
			 struct agent_error *err);

/*
 * Load the passphrase file PATH: its bytes, less one trailing "\n" or
 * "\r\n"; 1..CRYPTO_PASSPHRASE_MAX bytes. Same mode rule as a key file.
 * SCRYPT is the cost of files encrypted with it (NULL: the default); it
 * must be within the limits (AGENT_EKEY). OUT is wiped first and on
 * failure.
 */
int crypto_key_load_passphrase(struct crypto_key *out, const char *path,
			       const struct crypto_scrypt *scrypt,
			       struct agent_error *err);

/* A key from its 32 bytes (tests, and the loaders): computes its id. */
int crypto_key_from_bytes(struct crypto_key *out,
			  const uint8_t key[CRYPTO_KEY_LEN],
			  struct agent_error *err);

/* A passphrase from its bytes (tests, and the loader); SCRYPT as above. */
int crypto_key_from_passphrase(struct crypto_key *out, const void *passphrase,
			       size_t len, const struct crypto_scrypt *scrypt,
			       struct agent_error *err);

/* Wipe K (OPENSSL_cleanse of the whole struct). NULL is fine. */
void crypto_key_dispose(struct crypto_key *k);

/*
 * Generate a random key (RAND_bytes) and write it to PATH as 64 lowercase
 * hex digits and a newline, in a file created with O_EXCL and mode 0600,
 * then fsync'd. An existing PATH (a symlink included) is never touched:
 * AGENT_EEXIST. On any other failure the half-written file is removed.
 * ID receives the new key's id.
 */
int crypto_keygen(uint8_t id[CRYPTO_KEY_ID_LEN], const char *path,
		  struct agent_error *err);

/* ID as 16 lowercase hex digits, NUL-terminated. */
void crypto_key_id_hex(char out[CRYPTO_KEY_ID_HEX_SIZE],
		       const uint8_t id[CRYPTO_KEY_ID_LEN]);

/*
 * The limits on scrypt costs. Returns true when S is acceptable; else
 * false, with the reason (e.g. "N=2^30, r=8 needs 128 GiB; at most 256
 * MiB") in WHY.
 */
bool crypto_scrypt_check(const struct crypto_scrypt *s, char *why, size_t size);

/* ---- The format (docs/FORMAT.md) ---- */

/* The header's fields. */
struct crypto_header {
	uint8_t version;
	enum crypto_source source;
	struct crypto_scrypt scrypt; /* all 0 for CRYPTO_SOURCE_KEY */
	uint32_t segment_size;
	uint8_t scrypt_salt[CRYPTO_SCRYPT_SALT_LEN]; /* 0s for a key */
	uint8_t key_id[CRYPTO_KEY_ID_LEN];
	uint8_t file_salt[CRYPTO_FILE_SALT_LEN];
	uint8_t tag[CRYPTO_TAG_LEN];
};

/*
 * Parse and check the header at the start of BUF (LEN bytes; bytes past
 * CRYPTO_HEADER_LEN are ignored). Everything that can be checked without
 * a key is: magic, version, key source, segment size, scrypt costs within
 * the limits, the zero fields of a key-file header. The tag is not: see
 * crypto_file_new_decrypt(). Untrusted input: never asserts, never
 * allocates.
 *
 * Returns AGENT_OK and fills OUT; or, with ERR set:
 *   AGENT_ETRUNC  BUF is shorter than a header and all of it could be
 *                  the start of one ("encrypted data ends inside its
 *                  header"; "no encrypted data: the input is empty");
 *   AGENT_EFORMAT "not an offsite encrypted file" (magic),
 *                  "unsupported format version N", or "corrupt header:
 *                  ..." (key source, segment size, scrypt costs).
 */
int crypto_header_parse(struct crypto_header *out, const uint8_t *buf,
			size_t len, struct agent_error *err);

/* The CRYPTO_HEADER_LEN bytes of H. */
void crypto_header_encode(uint8_t out[CRYPTO_HEADER_LEN],
			  const struct crypto_header *h);

/* One file's segment key and cipher context, for one direction. */
struct crypto_file;

/*
 * Start a file to encrypt with KEY: draws the file salt (and for a
 * passphrase the scrypt salt, and runs scrypt), derives the segment key,
 * and writes the whole header, tag included, to HEADER. TEST_FILE_SALT
 * and TEST_SCRYPT_SALT replace the random salts when not NULL: for test
 * vectors only, never from the configuration. Errors: AGENT_EIO (OpenSSL,
 * RAND_bytes included; a segment size or scrypt cost out of range),
 * AGENT_ENOMEM.
 */
int crypto_file_new_encrypt(struct crypto_file **out,
			    uint8_t header[CRYPTO_HEADER_LEN],
			    const struct crypto_key *key, uint32_t segment_size,
			    const uint8_t *test_file_salt,
			    const uint8_t *test_scrypt_salt,
			    struct agent_error *err);

/*
 * Start a file to decrypt: H is RAW parsed (crypto_header_parse). Checks
 * that KEY is of the header's source, derives the key (scrypt with the
 * header's costs for a passphrase), compares key ids, derives the segment
 * key and verifies the header tag. Errors: AGENT_EAUTH "wrong key ...",
 * "wrong passphrase ...", "the file is encrypted with a passphrase, not a
 * key file" (and the reverse), "header failed authentication: tampered";
 * AGENT_EIO, AGENT_ENOMEM.
 */
int crypto_file_new_decrypt(struct crypto_file **out,
			    const struct crypto_header *h,
			    const uint8_t raw[CRYPTO_HEADER_LEN],
			    const struct crypto_key *key,
			    struct agent_error *err);

/*
 * Encrypt segment INDEX (LAST: the last segment) of LEN bytes in place
 * in BUF and write its tag to TAG. LEN is at most the segment size.
 */
int crypto_file_seal(struct crypto_file *f, uint64_t index, bool last,
		     uint8_t *buf, size_t len, uint8_t tag[CRYPTO_TAG_LEN],
		     struct agent_error *err);

/*
 * Decrypt segment INDEX of LEN bytes in place in BUF and verify TAG. On
 * AGENT_OK, BUF holds authentic plaintext. On AGENT_EAUTH ("segment N
 * failed authentication: tampered or reordered") BUF holds garbage that
 * must not be used. LEN above the segment size: AGENT_ECORRUPT.
 */
int crypto_file_open(struct crypto_file *f, uint64_t index, bool last,
		     uint8_t *buf, size_t len,
		     const uint8_t tag[CRYPTO_TAG_LEN],
		     struct agent_error *err);

/* Wipe and free F. NULL is fine. */
void crypto_file_free(struct crypto_file *f);

/* ---- The manifest MAC (docs/FORMAT.md, "The manifest MAC") ----
 *
 * An encrypted backup's manifest is authenticated with
 *
 *   mac_key = HKDF-SHA256(IKM master, salt file_salt,
 *                         info CRYPTO_MAC_DOMAIN, 32 bytes)
 *   mac     = HMAC-SHA256(mac_key, the manifest's canonical bytes)
 *
 * where master and file_salt are those of the file the manifest describes
 * (for a passphrase, master is scrypt with the file's own salt and cost).
 * agent/manifest.c builds the canonical bytes.
 */
#define CRYPTO_MAC_LEN	  32
#define CRYPTO_MAC_DOMAIN "offsite manifest mac v1"

/*
 * The MAC key of the file whose header is H (parsed), from KEY. For a
 * passphrase this runs scrypt at the header's cost (within the limits).
 * Errors: AGENT_EAUTH "wrong key ...", "wrong passphrase", the key of the
 * wrong source; AGENT_EFORMAT scrypt costs beyond the limits; AGENT_EIO
 * (OpenSSL). OUT is wiped on failure; the caller wipes it after use.
 */
int crypto_manifest_key(uint8_t out[CRYPTO_KEY_LEN],
			const struct crypto_header *h,
			const struct crypto_key *key, struct agent_error *err);

/* TAG = HMAC-SHA256(MAC_KEY, MSG). AGENT_EIO when OpenSSL fails. */
int crypto_manifest_mac(uint8_t tag[CRYPTO_MAC_LEN],
			const uint8_t mac_key[CRYPTO_KEY_LEN], const void *msg,
			size_t len, struct agent_error *err);

/* The same with the MAC key of F, a file being encrypted (derived when it
 * was started: no second scrypt run). */
int crypto_file_manifest_mac(const struct crypto_file *f, const void *msg,
			     size_t len, uint8_t tag[CRYPTO_MAC_LEN],
			     struct agent_error *err);

/* A and B are equal, compared in constant time. */
bool crypto_mac_equal(const uint8_t a[CRYPTO_MAC_LEN],
		      const uint8_t b[CRYPTO_MAC_LEN]);

#endif
