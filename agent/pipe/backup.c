/*
 * The write pipeline: build the backup's chain, pump the source through
 * it, finish it, and gather what it did into one result.
 */
#include "agent/pipe/backup.h"

#include <stdlib.h>
#include <string.h>

#include "agent/ops/log.h"
#include "agent/ops/manifest.h"
#include "agent/ops/stop.h"
#include "agent/pipe/stages.h"
#include "common/clock.h"

/* The stages, from the source's end; the taps only with a progress. */
struct chain {
	struct stream *head;
	struct stream *tap_read, *hash_plain, *gzip, *encrypt, *hash_stored,
		*tap_stored, *sink;
	struct gzip_options gz;
	const char *meta[12];
	struct s3_put_options put;
};

static void chain_free(struct chain *ch)
{
	stream_free(ch->tap_read);
	stream_free(ch->tap_stored);
	stream_free(ch->hash_plain);
	stream_free(ch->gzip);
	stream_free(ch->encrypt);
	stream_free(ch->hash_stored);
	stream_free(ch->sink); /* aborts an unfinished upload */
}

static int open_sink(struct chain *ch, const struct backup_options *o,
		     struct agent_error *err)
{
	const conf *c = o->c;
	const char **meta = ch->meta;
	struct upload_options uo = {
		.key = o->key,
		.part_size = c->storage.part_size,
		.max_parts = c->storage.max_parts,
		.concurrency = c->storage.concurrency,
		.max_size = c->storage.max_size,
		.put = &ch->put,
		.client_new = o->client_new,
		.client_ctx = o->client_ctx,
		.cancelled = stop_cancelled,
	};

	if (o->dry_run)
		return stage_null_new(&ch->sink, err);
	meta[0] = "type";
	meta[1] = o->type;
	meta[2] = "database";
	meta[3] = o->database;
	meta[4] = "format";
	meta[5] = "1";
	meta[6] = "compression";
	meta[7] = "gzip";
	meta[8] = "encryption";
	meta[9] = o->crypto_key ? "aes-256-gcm" : "none";
	meta[10] = "host";
	meta[11] = o->host;
	ch->put.content_type =
		o->crypto_key ? "application/octet-stream" : "application/gzip";
	ch->put.metadata = meta;
	ch->put.nmetadata = 6;
	return upload_new(&ch->sink, err, &uo);
}

/* Build sink <- hash(stored) <- [encrypt] <- gzip <- hash(plain), with a
 * progress tap at either end. */
static int chain_build(struct chain *ch, const struct backup_options *o,
		       struct agent_error *err)
{
	struct gzip_options gz = GZIP_OPTIONS_INIT;
	int rc = open_sink(ch, o, err);

	if (rc == AGENT_OK && o->progress)
		rc = progress_tap_new(&ch->tap_stored, ch->sink, err,
				      o->progress, PROGRESS_STORED);
	if (rc == AGENT_OK)
		rc = stage_hash_new(&ch->hash_stored,
				    ch->tap_stored ? ch->tap_stored : ch->sink,
				    err);
	ch->head = ch->hash_stored;
	if (rc == AGENT_OK && o->crypto_key) {
		struct encrypt_options eo = ENCRYPT_OPTIONS_INIT;
		eo.key = o->crypto_key;
		rc = stage_encrypt_new(&ch->encrypt, ch->head, err, &eo);
		ch->head = ch->encrypt;
	}
	gz.level = o->c->compression.level;
	ch->gz = gz;
	if (rc == AGENT_OK)
		rc = stage_gzip_new(&ch->gzip, ch->head, err, &gz);
	ch->head = ch->gzip;
	if (rc == AGENT_OK)
		rc = stage_hash_new(&ch->hash_plain, ch->head, err);
	ch->head = ch->hash_plain;
	if (rc == AGENT_OK && o->progress) {
		rc = progress_tap_new(&ch->tap_read, ch->head, err, o->progress,
				      PROGRESS_READ);
		ch->head = ch->tap_read;
	}
	return rc;
}

/* For the progress line: the part writer's parts. */
static void sink_parts(void *ctx, unsigned *in_flight, unsigned *done)
{
	upload_parts(ctx, in_flight, done);
}

/* Run on the stop thread: kill and write only (source_cancel). */
static void cancel_source(void *ctx)
{
	source_cancel(ctx);
}

/* The manifest MAC of what RES describes (docs/FORMAT.md, "The manifest
 * MAC"), under the file's own MAC key. */
static int sign(struct backup_result *res, const struct chain *ch,
		const char *key, const char *format, struct agent_error *err)
{
	struct manifest m = {0};
	uint8_t *input = NULL;
	size_t len = 0;
	int rc;

	m.key = key;
	m.plain_bytes = res->plain_bytes;
	memcpy(m.plain_sha256, res->plain_sha256, sizeof(m.plain_sha256));
	m.stored_bytes = res->stored_bytes;
	memcpy(m.stored_sha256, res->stored_sha256, sizeof(m.stored_sha256));
	m.format = format;
	memcpy(m.header, res->header, sizeof(m.header));
	m.has_header = true;
	if (manifest_mac_input(&input, &len, &m) != 0)
		rc = agent_fail(err, AGENT_ENOMEM, "out of memory");
	else
		rc = stage_encrypt_manifest_mac(ch->encrypt, input, len,
						res->mac, err);
	free(input);
	return rc;
}

/* What the finished chain did: every figure read once. */
static int gather(struct backup_result *res, const struct chain *ch,
		  const struct backup_options *o)
{
	struct upload_result ur = {0};
	int rc;

	rc = stage_hash_result(ch->hash_plain, res->plain_sha256,
			       &res->plain_bytes);
	if (rc == AGENT_OK)
		rc = stage_hash_result(ch->hash_stored, res->stored_sha256,
				       &res->stored_bytes);
	if (rc != AGENT_OK)
		return rc;
	if (!o->dry_run)
		upload_result(ch->sink, &ur);
	res->parts = ur.parts;
	res->largest_part = ur.largest_part;
	res->compression_engine =
		stage_gzip_engine_name(&ch->gz, &res->compression_level);
	res->encrypted = ch->encrypt != NULL;
	if (res->encrypted) {
		uint8_t id[CRYPTO_KEY_ID_LEN];
		stage_encrypt_key_id(ch->encrypt, id);
		crypto_key_id_hex(res->key_id, id);
		stage_encrypt_header(ch->encrypt, res->header);
	}
	res->seconds = mono_elapsed_s(&o->since);
	return AGENT_OK;
}

void backup_log_failure(const char *key, const struct agent_error *err)
{
	if (stop_requested() != 0 && err->code != AGENT_ECANCEL)
		log_event(LOG_ERROR, "backup stopped", "signal",
			  strsignal(stop_requested()), "cause", err->msg, NULL);
	else
		log_event(LOG_ERROR, "backup failed", "key", key, "error",
			  err->msg, NULL);
}

int backup_run(struct backup_result *res, struct source *src,
	       const struct backup_options *o, struct agent_error *err)
{
	struct chain ch = {0};
	int rc;

	memset(res, 0, sizeof(*res));
	rc = chain_build(&ch, o, err);
	if (rc != AGENT_OK) {
		log_event(LOG_ERROR, "backup failed", "error", err->msg, NULL);
		goto out;
	}
	if (progress_start(o->progress, o->dry_run ? NULL : sink_parts,
			   ch.sink))
		log_event(LOG_WARN, "no progress line: cannot start its thread",
			  NULL);

	stop_set_hook(cancel_source, src);
	log_event(LOG_INFO, "backup started", "key", o->key, "type", o->type,
		  "database", o->database, NULL);
	rc = source_pump(src, ch.head, err);
	stop_set_hook(NULL, NULL);
	if (rc == AGENT_OK && stop_requested() != 0)
		rc = agent_fail(err, AGENT_ECANCEL, "stopped by %s",
				strsignal(stop_requested()));
	if (rc == AGENT_OK)
		rc = stream_finish(ch.head);
	progress_stop(o->progress); /* the log has the terminal again */
	/* Once the chain has finished, the object is stored whole: any
	 * failure after this leaves it to the caller to delete. */
	res->stored = rc == AGENT_OK && !o->dry_run;
	if (rc == AGENT_OK)
		rc = gather(res, &ch, o);
	if (rc != AGENT_OK) {
		backup_log_failure(o->key, err);
		if (!o->dry_run)
			upload_abort(ch.sink);
		goto out;
	}
	if (res->stored && res->encrypted) {
		struct agent_error serr = {0};
		rc = sign(res, &ch, o->key, source_format(src), &serr);
		if (rc != AGENT_OK) {
			log_event(LOG_ERROR, "cannot sign the manifest",
				  "error", serr.msg, NULL);
			agent_fail(err, rc, "cannot sign the manifest: %s",
				   serr.msg);
		}
	}
out:
	chain_free(&ch);
	return rc;
}
