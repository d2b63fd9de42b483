/*
 * fetch: the read-back pipeline shared by restore and verify.
 *
 *   GET -> [sha256 stored] -> [decrypt] -> gunzip -> [sha256 plain] -> sink
 *
 * The object streams through the stages as it arrives (a broken GET
 * resumes where it stopped, from the same object only). No byte past the
 * manifest's stored size is read, and no plain byte past its plain size
 * reaches the sink (a small object that inflates without end is refused
 * as soon as it passes the size, AGENT_ECORRUPT). At the end the
 * sizes and SHA-256 digests of the stored and the plain bytes are
 * compared with the manifest's, and a plain pg_dump must end with its
 * end-of-dump marker. The sink may already hold every byte when a check
 * fails: the caller decides what a failure undoes (a tool killed before
 * its input ends, a temporary file removed).
 *
 * Errors are stream codes with the chain's message: the integrity codes
 * (agent_code_is_integrity: a tag, a CRC, a size or digest that does not
 * match, a missing marker, a missing or unreadable manifest) mean the
 * backup is not intact (exit 4); AGENT_EIO is the network, the bucket or
 * the sink; AGENT_ECANCEL a stop request.
 */
#ifndef OFFSITE_AGENT_FETCH_H
#define OFFSITE_AGENT_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/pipe/crypto.h"
#include "agent/ops/manifest.h"
#include "agent/pipe/stream.h"
#include "agent/ops/trust.h"
#include "conf/conf.h"
#include "s3/s3.h"

/* A backup to read back: its key and its manifest. */
struct fetch_backup {
	char *key;
	bool encrypted; /* the key ends in .enc, and the manifest agrees */
	bool authentic; /* the manifest's MAC verified under the key */
	char *etag;	/* authentic: the object whose header was checked */
	struct manifest m;
	struct manifest_store *store;
};

/*
 * Find the backup: trust_resolve (agent/trust.h, the key forms and the
 * meaning of latest are retention's), its error as the pipeline's.
 * *KEY is a new string; T may be NULL unless TARGET is latest. Errors,
 * all AGENT_EIO but out of memory: no such backup, the listing failed, a
 * key that does not follow the layout, or a manifest's.
 */
int fetch_resolve(char **key, s3_client *s3, const char *prefix,
		  const char *target, const char *type, const char *database,
		  struct trust *t, struct agent_error *err);

/*
 * Read KEY's manifest into B and check it by T (trust_check: it belongs
 * to KEY and agrees with it about encryption; encrypted with a key
 * configured, its MAC verifies; not encrypted, only encrypted backups may
 * be required). An authenticated manifest's header must then be the
 * object's own first bytes (one ranged GET): another file in its place is
 * refused before a byte of it is decrypted. A missing manifest is
 * AGENT_ECORRUPT ("no manifest: not a complete backup") when the backup
 * itself is there, and AGENT_EIO ("no such backup") when it is not; a
 * manifest that is not accepted, or a header that is not the object's,
 * an integrity code (exit 4); an unencrypted backup where only encrypted
 * ones count, AGENT_EIO.
 */
int fetch_open(struct fetch_backup *b, s3_client *s3, const char *key,
	       const struct trust *t, struct agent_error *err);
void fetch_backup_dispose(struct fetch_backup *b);

struct fetch_result {
	uint64_t stored_bytes;
	uint64_t plain_bytes;
	double seconds;
};

/*
 * Stream B through the stages into SINK (not owned; finished here, with
 * the chain) and check everything. KEY decrypts it (may be NULL for an
 * unencrypted backup). RES is filled on success.
 */
int fetch_run(struct fetch_result *res, s3_client *s3,
	      const struct fetch_backup *b, const struct crypto_key *key,
	      struct stream *sink, struct agent_error *err);

/*
 * A check-then-load restore (a tool that cannot be stopped in time, see
 * target_verify_first) reads a backup twice: a check pass that streams it
 * whole through every check into nothing, then a load pass into the tool.
 * The load pass must read the object the check pass checked, not one put
 * under the same key meanwhile. The pin is what the check pass saw:
 *
 *   - the object's ETag (from a HEAD first): both passes GET with
 *     If-Match on it, so a replaced object is refused by the server
 *     (412) before a byte of it is read, or, by a server that ignores
 *     If-Match, named by another ETag and refused here;
 *   - its first stored bytes (an encrypted file's header, and so its file
 *     salt and segment key), which the load pass must find again before
 *     it passes anything on: the key alone then authenticates every
 *     segment as the checked file's, whatever the server does;
 *   - when the server gives no ETag, a private copy of the stored bytes
 *     instead, in an unlinked temporary file ($TMPDIR, else /var/tmp),
 *     which the load pass reads without asking the server again.
 *
 * A load pass that finds another object fails with AGENT_ECORRUPT ("the
 * backup changed after it was checked"), before the sink gets a byte of
 * it.
 */
#define FETCH_PIN_HEAD CRYPTO_HEADER_LEN
struct fetch_pin {
	char *etag; /* NULL: the server gave none (COPY_FD then) */
	unsigned char head[FETCH_PIN_HEAD];
	size_t head_len;
	int copy_fd; /* the private copy, or -1 */
	bool checked;
};
void fetch_pin_init(struct fetch_pin *pin);
void fetch_pin_dispose(struct fetch_pin *pin); /* closes the copy */

/* The check pass: fetch_run into nothing, filling PIN (initialised). */
int fetch_check(struct fetch_pin *pin, struct fetch_result *res, s3_client *s3,
		const struct fetch_backup *b, const struct crypto_key *key,
		struct agent_error *err);

/* The load pass: fetch_run of what PIN's check pass checked. */
int fetch_load(struct fetch_result *res, s3_client *s3,
	       const struct fetch_backup *b, const struct crypto_key *key,
	       const struct fetch_pin *pin, struct stream *sink,
	       struct agent_error *err);

/*
 * The key of [encryption] (key_file, else passphrase_file), whether or
 * not encryption is enabled for new backups: *HAVE is false when neither
 * is set. A key that cannot be loaded is a configuration error: -1 with
 * its message in ERR. Dispose of the key with crypto_key_dispose().
 */
int fetch_load_key(struct crypto_key *key, bool *have, const conf *c,
		   struct agent_error *err);

#endif
