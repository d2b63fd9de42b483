/*
 * manifest: the small JSON document written beside a backup once it is
 * complete. A backup without its manifest is not a backup.
 *
 * An encrypted backup's manifest carries a copy of the encrypted file's
 * header and a MAC (docs/FORMAT.md, "The manifest MAC") over its key,
 * sizes, digests, dump format and that header, under a key derived from
 * the master key: without the key, nobody can write a manifest that
 * manifest_check() accepts, or move one to another backup.
 */
#ifndef OFFSITE_AGENT_MANIFEST_H
#define OFFSITE_AGENT_MANIFEST_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "agent/pipe/crypto.h"

#define MANIFEST_FORMAT 1
#define MANIFEST_MAX	(64 * 1024)

struct manifest {
	const char *key;
	const char *type;
	const char *database;
	const char *host;
	time_t started;
	double duration; /* seconds; read back: -1 when not known */
	uint64_t plain_bytes;
	char plain_sha256[65];
	uint64_t stored_bytes;
	char stored_sha256[65];
	unsigned parts; /* 0: a single PutObject */
	uint64_t largest_part;
	const char *compression_engine; /* "zlib", "isal", "libdeflate" */
	int compression_level;
	bool encrypted;
	char key_id[17]; /* hex, when encrypted */
	/* Encrypted: the file's header (so its file_salt) and the MAC. */
	bool has_header;
	uint8_t header[CRYPTO_HEADER_LEN];
	bool has_mac;
	uint8_t mac[CRYPTO_MAC_LEN];
	const char *driver; /* "postgres", "mysql", "command", "stdin" */
	const char *tool;   /* "pg_dump (PostgreSQL) 15.18", or "" */
	const char *format; /* plain, custom, tar, sql, raw: how to restore */
};

/* The JSON text (a new string, the caller frees it). 0 or -1. */
int manifest_format(char **out, const struct manifest *m);

/*
 * Parse TEXT into M; strings point into *STORE, which the caller frees
 * with manifest_store_free. 0, or -1 with WHY set.
 */
struct manifest_store;
int manifest_parse(struct manifest *m, struct manifest_store **store,
		   const char *text, size_t len, char *why, size_t whysize);
void manifest_store_free(struct manifest_store *store);

/*
 * The canonical bytes the MAC covers (docs/FORMAT.md, "The manifest
 * MAC"): M's key, stored and plain sizes and digests, dump format ("" when
 * absent) and header, which M must have. *OUT is a new buffer of *LEN
 * bytes. 0, or -1 (out of memory, a key longer than 64 KiB, no header).
 */
int manifest_mac_input(uint8_t **out, size_t *len, const struct manifest *m);

/*
 * Whether M may be taken as the manifest of the backup KEY:
 *   - it names KEY, and says it is encrypted exactly when KEY ends in
 *     ".enc" (AGENT_ECORRUPT otherwise);
 *   - encrypted and CK given (the configured key): it has a header and a
 *     MAC, the header parses and carries M's key id, CK opens it, and the
 *     MAC is right (AGENT_EAUTH "manifest failed authentication: ...",
 *     or the header's own errors: wrong key, wrong passphrase, corrupt).
 * Without CK an encrypted backup's manifest cannot be authenticated and
 * is taken as it reads; *AUTHENTIC says whether it was (it may be NULL).
 * AGENT_EIO and AGENT_ENOMEM are failures to check, not verdicts. For a
 * passphrase this costs one scrypt run, at the file's cost.
 */
int manifest_check(const struct manifest *m, const char *key,
		   const struct crypto_key *ck, bool *authentic,
		   struct agent_error *err);

#endif
