/*
 * backup: the write pipeline, the one `offsite backup` runs.
 *
 *   source -> [sha256 plain] -> gzip -> [encrypt] -> [sha256 stored]
 *          -> part writer (or nothing, for a dry run)
 *
 * backup_run() builds the chain, pumps the source through it and
 * finishes it: the multipart upload is completed only if every stage
 * succeeded (the dump tool exited 0, the gzip trailer and the last
 * encrypted segment were written, every part was stored). It returns one
 * result, read by everything that reports the run: the manifest, the log
 * line, metrics, the webhook and the catalog.
 *
 * A stop request (agent/ops/stop.h) cancels the source while it pumps
 * and every S3 connection of the upload; a run that ends after one fails
 * with AGENT_ECANCEL ("stopped by SIGNAL").
 */
#ifndef OFFSITE_AGENT_BACKUP_H
#define OFFSITE_AGENT_BACKUP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "agent/error.h"
#include "agent/ops/progress.h"
#include "agent/pipe/crypto.h"
#include "agent/pipe/upload.h"
#include "agent/proc/source.h"
#include "conf/conf.h"

struct backup_options {
	const conf *c; /* [storage] part sizes and limits, [compression] */
	const char *key;
	/* The object's metadata (x-amz-meta-*). */
	const char *type;
	const char *database;
	const char *host;
	/* Encrypt under this key (NULL: not encrypted). */
	const struct crypto_key *crypto_key;
	/* Into nothing: no upload, no client. */
	bool dry_run;
	/* The part writer's connections (not for a dry run). */
	upload_client_fn client_new;
	void *client_ctx;
	/* A live line, started and stopped here (NULL: none). */
	struct progress *progress;
	/* When the run began (CLOCK_MONOTONIC): the duration counts from
	 * it. */
	struct timespec since;
};

struct backup_result {
	uint64_t plain_bytes; /* what the source produced */
	char plain_sha256[65];
	uint64_t stored_bytes; /* what the part writer stored */
	char stored_sha256[65];
	unsigned parts; /* 0: a single PutObject (or a dry run) */
	uint64_t largest_part;
	double seconds;			/* from options.since to the finish */
	const char *compression_engine; /* "zlib", "isal", "libdeflate" */
	int compression_level;
	/* Encrypted: the key id (hex), the file's header and (not for a
	 * dry run) the manifest MAC (docs/FORMAT.md) over the key, these
	 * sizes and digests, the dump format and the header. */
	bool encrypted;
	char key_id[17];
	uint8_t header[CRYPTO_HEADER_LEN];
	uint8_t mac[CRYPTO_MAC_LEN];
	/* The object is stored whole. True after a failure too when it
	 * came after the upload completed (the figures, the MAC): the
	 * caller must delete the object then. */
	bool stored;
};

/*
 * Run the backup of SRC (open; not closed here) as O says and fill RES.
 * Logs "backup started" and, on failure, why ("backup failed", "backup
 * stopped", "cannot sign the manifest"); a failed upload is aborted
 * before this returns. The stage's error, or AGENT_ECANCEL on a stop,
 * is in ERR.
 */
int backup_run(struct backup_result *res, struct source *src,
	       const struct backup_options *o, struct agent_error *err);

/* The line that says why a run failed (ERR): "backup stopped" when a
 * stop request caused it, else "backup failed" with KEY. For a failure
 * before backup_run() (the source would not open) too. */
void backup_log_failure(const char *key, const struct agent_error *err);

#endif
