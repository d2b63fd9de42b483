/*
 * stages: the constructors and results of the pipeline's stages.
 *
 * Each stage keeps the buffer contract of agent/stream.h. Constructors
 * set *out to NULL on entry and, on failure, set ERR and return its code
 * (AGENT_ENOMEM; AGENT_EIO for options out of range). A stage does not
 * own its next stage: free the chain from the head (stream_free_chain).
 */
#ifndef OFFSITE_AGENT_STAGES_H
#define OFFSITE_AGENT_STAGES_H

#include <stddef.h>
#include <stdint.h>

#include "agent/pipe/stream.h"

/* ==== hash, sinks, gzip, gunzip (stage_hash.c, stage_gzip.c,
 *      stage_gunzip.c) ==== */

/*
 * hash: a pass-through SHA-256 (OpenSSL EVP) of every byte written, which
 * it passes on unchanged to NEXT. NEXT may be NULL: the stage is then a
 * sink that only hashes.
 */
int stage_hash_new(struct stream **out, struct stream *next,
		   struct agent_error *err);

/*
 * After a successful stream_finish(): the digest as 64 lowercase hex
 * digits and a NUL, and the number of bytes hashed. Before that (or after
 * a failed finish) it fails with AGENT_EIO.
 */
int stage_hash_result(struct stream *s, char hex[65], uint64_t *bytes);

/* null sink: accepts and drops everything. */
int stage_null_new(struct stream **out, struct agent_error *err);

/*
 * fd sink: writes everything to FD (a file, a pipe, stdout), retrying
 * partial writes, EINTR, and EAGAIN (by waiting in poll()). The caller
 * owns FD: the stage never closes it. NAME ("stdout", a path) is used in
 * messages and must outlive the stage. Errors: AGENT_EIO.
 */
struct fd_options {
	int fd;
	const char *name;
};
#define FD_OPTIONS_INIT                                                        \
	{                                                                      \
		.fd = -1, .name = "output"                                     \
	}

int stage_fd_new(struct stream **out, struct agent_error *err,
		 const struct fd_options *o);

/*
 * gzip: compresses to standard gzip, as a series of independent gzip
 * members, one per BLOCK_SIZE bytes of input (RFC 1952 section 2.2: a
 * gzip file is a series of members; `gzip -d` reads them all). Empty
 * input still gives one (empty) member, a valid gzip file.
 *
 * LEVEL is the configuration's [compression] level, 0..9. With the AUTO
 * engine it picks the engine:
 *   0     stored (zlib level 0: no compression, a valid gzip file);
 *   1     ISA-L level 1, the fastest;
 *   2..9  libdeflate levels 2..9.
 * Level 2, the default, is the lowest that stores less than `gzip -6`
 * on both benchmark data sets (tests/bench; CPU-ms per input MB on one
 * thread / ratio; CPU on a shared 2-core machine, +-15 %):
 *                  e2e pg_dump, 196 MB   mkdata.sh, 200 MB
 *   gzip -6        25.6 / 4.231          22.1 / 4.184
 *   zlib 6         20.4 / 4.223          18.1 / 4.175
 *   ISA-L 1         2.5 / 4.162           2.4 / 4.257
 *   libdeflate 2    7.3 / 4.397           7.5 / 4.483
 *   libdeflate 6   10.3 / 4.544           8.5 / 4.571
 *   libdeflate 9   36.5 / 4.701          26.4 / 4.682
 * ISA-L 1 is the choice when CPU matters more than bytes; levels above 2
 * buy a few % of ratio for more CPU, 8 and 9 for as much as gzip -6's.
 * A fixed engine takes the level as that engine's own: zlib 0..9, ISA-L
 * 0..3 (ISA-L's 0 is its fastest compression, not stored), libdeflate
 * 0..12 (0 stores; 10..12 take 8.6 MiB per thread).
 *
 * THREADS: 0 means the number of online CPUs; 1 compresses on the
 * caller's thread, without any threads. With N > 1, N worker threads
 * compress blocks while the caller fills the next ones; output stays in
 * input order and is always pushed to the next stage from the caller's
 * thread (inside write() and finish()), so the next stage needs no
 * locking. At most 2 x N blocks are in flight: memory is about
 * 2 x N x 2.1 x BLOCK_SIZE plus each engine's state (ISA-L: up to
 * 0.4 MiB; zlib: 0.3 MiB; libdeflate 2..9: 0.65 MiB); at the defaults
 * on 2 CPUs, ~10 MiB (on 64, ~310 MiB: cap THREADS on large hosts).
 * Every write() may block waiting for the oldest block when all are in
 * flight. The workers block every signal; they are joined by
 * stream_free() (at most one block's work). With zlib and libdeflate the
 * output bytes depend only on the input and the options (not on THREADS
 * or the write sizes). With ISA-L they were seen to differ, rarely,
 * between runs on the same input: a different but valid match choice,
 * the same data once decompressed. Do not expect two backups of the same
 * data to have the same stored SHA-256.
 */
enum gzip_engine {
	GZIP_ENGINE_AUTO = 0,
	GZIP_ENGINE_ZLIB,
	GZIP_ENGINE_ISAL,
	GZIP_ENGINE_LIBDEFLATE,
};

#define GZIP_BLOCK_MIN	 1u
#define GZIP_BLOCK_MAX	 (64u * 1024 * 1024)
#define GZIP_THREADS_MAX 64

struct gzip_options {
	int level; /* AUTO, ZLIB 0..9; ISAL 0..3; LIBDEFLATE 0..12 */
	enum gzip_engine engine; /* AUTO: from the level, see above */
	unsigned threads;	 /* 0: online CPUs; 1: no threads; max 64 */
	size_t block_size;	 /* input bytes per member, 1 B..64 MiB */
};
#define GZIP_OPTIONS_INIT                                                      \
	{                                                                      \
		.level = 2, .engine = GZIP_ENGINE_AUTO, .threads = 0,          \
		.block_size = 1024u * 1024                                     \
	}

int stage_gzip_new(struct stream **out, struct stream *next,
		   struct agent_error *err, const struct gzip_options *o);

/* The engine and the engine's level that OPTIONS resolve to, for logs
 * and the backup's metadata ("zlib", "isal", "libdeflate"); NULL when
 * OPTIONS are out of range. */
const char *stage_gzip_engine_name(const struct gzip_options *o,
				   int *engine_level);

/*
 * gunzip: decompresses a gzip file of one or more members, checking each
 * member's header, CRC-32 and ISIZE. Errors:
 *   AGENT_EFORMAT   not gzip (bad magic, method, flags), or bytes after
 *                    the last member that do not start a member;
 *   AGENT_ECORRUPT  invalid deflate data, a CRC-32, ISIZE or header CRC
 *                    that does not match;
 *   AGENT_ETRUNC    the input ends inside a member ("gzip data ends
 *                    early"), empty input included.
 * Input cut exactly between two members is a valid, shorter gzip file:
 * gzip cannot tell; the encrypted format and the manifest's sizes do.
 * Output goes to NEXT in chunks of at most 64 KiB, however large a write.
 */
int stage_gunzip_new(struct stream **out, struct stream *next,
		     struct agent_error *err);

/* For stage_gzip.c and stage_gunzip.c only: the one translation of a
 * zlib return code RC (with the stream's message ZMSG, may be NULL) into
 * ERR; WHAT says what failed ("gzip: deflate"). Returns the code set. */
int stage_zlib_fail(struct agent_error *err, int rc, const char *zmsg,
		    const char *what);

/* ==== end of hash, sinks, gzip, gunzip ==== */

/* ==== encrypt, decrypt (stage_encrypt.c, stage_decrypt.c) ==== */

#include "agent/pipe/crypto.h"

/*
 * encrypt: plaintext in, the encrypted format of docs/FORMAT.md out: the
 * header (with the first write, or at finish for empty input), then one
 * segment per SEGMENT_SIZE bytes, sent as soon as it is full; finish()
 * sends the last segment (0..SEGMENT_SIZE - 1 bytes of plaintext) and
 * finishes NEXT. Holds one segment: about SEGMENT_SIZE bytes.
 *
 * KEY is used by the constructor only (it may be disposed of after): a
 * key file's key, or a passphrase, run through scrypt here, with a fresh
 * salt and KEY's scrypt cost. The constructor draws the salts with
 * RAND_bytes. TEST_FILE_SALT (CRYPTO_FILE_SALT_LEN bytes) and
 * TEST_SCRYPT_SALT (CRYPTO_SCRYPT_SALT_LEN) replace them for test vectors
 * only: nothing but a test sets them, never the configuration.
 * Errors: AGENT_EIO (OpenSSL; options out of range), AGENT_ENOMEM.
 */
struct encrypt_options {
	const struct crypto_key *key;
	uint32_t segment_size; /* 1..CRYPTO_SEGMENT_MAX */
	const uint8_t *test_file_salt;
	const uint8_t *test_scrypt_salt;
};
#define ENCRYPT_OPTIONS_INIT                                                   \
	{                                                                      \
		.key = NULL, .segment_size = CRYPTO_SEGMENT_DEFAULT,           \
		.test_file_salt = NULL, .test_scrypt_salt = NULL               \
	}

int stage_encrypt_new(struct stream **out, struct stream *next,
		      struct agent_error *err, const struct encrypt_options *o);

/* The key id in the header of S (an encrypt stage), for the manifest. For
 * a passphrase it differs from file to file (the key is derived with a
 * salt per file), and struct crypto_key has none. */
void stage_encrypt_key_id(const struct stream *s,
			  uint8_t id[CRYPTO_KEY_ID_LEN]);

/* The header S (an encrypt stage) writes, for the manifest's MAC. */
void stage_encrypt_header(const struct stream *s,
			  uint8_t out[CRYPTO_HEADER_LEN]);

/* TAG = the manifest MAC of MSG under S's file (crypto_file_manifest_mac):
 * no second scrypt run for a passphrase. AGENT_EIO when OpenSSL fails. */
int stage_encrypt_manifest_mac(const struct stream *s, const void *msg,
			       size_t len, uint8_t tag[CRYPTO_MAC_LEN],
			       struct agent_error *err);

/*
 * decrypt: the encrypted format in, plaintext out. Reads the header,
 * derives the key (with a passphrase: scrypt at the header's cost, within
 * CRYPTO_SCRYPT_MAX_MEM), checks the key id and the header tag, then
 * passes on each segment's plaintext only after its tag verified. KEY is
 * copied (and the copy wiped on free). Holds one segment.
 *
 * Errors, each with its message:
 *   AGENT_EFORMAT  "not an offsite encrypted file", "unsupported format
 *                   version N", "corrupt header: ...", "data after the
 *                   last segment";
 *   AGENT_EAUTH    "wrong key (key id X; the file was encrypted with key
 *                   id Y)", "wrong passphrase", "wrong key: the file is
 *                   encrypted with a passphrase, not a key file" (and the
 *                   reverse), "header failed authentication: tampered",
 *                   "segment N failed authentication: tampered or
 *                   reordered";
 *   AGENT_ECORRUPT "segment N: length L is larger than the segment size
 *                   S";
 *   AGENT_ETRUNC   "encrypted data ends before its last segment",
 *                   "encrypted data ends inside its header", "no
 *                   encrypted data: the input is empty";
 *   AGENT_EIO, AGENT_ENOMEM.
 */
int stage_decrypt_new(struct stream **out, struct stream *next,
		      struct agent_error *err, const struct crypto_key *key);

/* ==== end of encrypt, decrypt ==== */

#endif
