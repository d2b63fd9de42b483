/*
 * upload: the last stage of a backup, the part writer.
 *
 * It fills parts and uploads up to CONCURRENCY of them at once, each on
 * its own connection (an s3 client per worker thread), so memory stays at
 * about part_size x (concurrency + 1). A stream that ends within the first
 * part becomes a single PutObject. The part size grows with the part
 * count so that max_parts parts reach at least 5 TiB, or come as close as
 * 5 GiB parts allow (S3 allows parts of different sizes; each but the
 * last is at least 5 MiB).
 *
 * Nothing incomplete is ever left behind: the multipart upload is
 * completed only by stream_finish() after every part succeeded, and
 * aborted by upload_abort() or, as a safety net, when the stage is freed
 * without having completed.
 */
#ifndef OFFSITE_AGENT_UPLOAD_H
#define OFFSITE_AGENT_UPLOAD_H

#include "agent/pipe/stream.h"
#include "s3/s3.h"

#define UPLOAD_MIN_PART (5ULL * 1024 * 1024)
#define UPLOAD_MAX_PART (5ULL * 1024 * 1024 * 1024)
#define UPLOAD_TARGET	(5ULL * 1024 * 1024 * 1024 * 1024)

/* What cleanup after a stop may take: the AbortMultipartUpload (and the
 * delete of an upload that may have completed) end within this. */
#define UPLOAD_CLEANUP_TIMEOUT_MS 5000

/*
 * Makes one s3 client: one per worker, and one control connection (create,
 * the single PutObject, complete, abort). CANCELLED, to be set as
 * s3_options.cancelled, is the workers' own (so an abort does not wait out
 * slow parts) or, for the control connection, upload_options.cancelled.
 */
typedef int (*upload_client_fn)(s3_client **out, void *ctx,
				bool (*cancelled)(void *ctx),
				void *cancelled_ctx, s3_error *err);

struct upload_options {
	const char *key;
	uint64_t part_size;   /* the first parts' size */
	unsigned max_parts;   /* 1..10000 */
	unsigned concurrency; /* parts in flight, 1..64 */
	uint64_t max_size;    /* stored bytes allowed; 0: no limit */
	const struct s3_put_options *put; /* content type, metadata */
	upload_client_fn client_new;
	void *client_ctx;
	/* The run's stop request (NULL: none). Every connection of the
	 * upload polls it, so a stop ends a part, the single PutObject or
	 * the Complete at once; the abort that follows still goes out,
	 * within UPLOAD_CLEANUP_TIMEOUT_MS. */
	bool (*cancelled)(void *ctx);
	void *cancelled_ctx;
};

struct upload_result {
	uint64_t bytes; /* stored bytes uploaded */
	unsigned parts; /* 0 for a single PutObject */
	uint64_t largest_part;
};

int upload_new(struct stream **out, struct agent_error *err,
	       const struct upload_options *o);

/* After a successful finish: what was stored. */
void upload_result(const struct stream *s, struct upload_result *r);

/* While it runs, from any thread: parts queued or uploading, and parts
 * stored so far. */
void upload_parts(struct stream *s, unsigned *in_flight, unsigned *done);

/*
 * Abort the multipart upload if one was started and not completed; waits
 * for the workers. The abort is sent even after a stop, and ends within
 * UPLOAD_CLEANUP_TIMEOUT_MS; an upload the server no longer knows (its
 * Complete may have gone through unanswered) has its object deleted.
 * Idempotent. Returns 0, or -1 if the abort itself failed (logged; the
 * bucket's lifecycle rule cleans up after abort_incomplete_days, and so
 * does the next run: agent/stale.h).
 */
int upload_abort(struct stream *s);

#endif
