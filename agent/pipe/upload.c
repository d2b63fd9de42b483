/*
 * The part writer: a sink stage that turns a stream into an S3 object.
 *
 * The caller's thread fills one part buffer at a time. A full buffer goes
 * to a queue; worker threads, each with its own connection, upload parts
 * from it. The caller waits only when CONCURRENCY parts are already in
 * flight. The first failure of any part stops the whole upload.
 */
#include "agent/pipe/upload.h"
#include "agent/pipe/upload_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ops/log.h"
#include "agent/repo/storage.h"

/* ---- part sizes ---- */

static uint64_t total_for_step(uint64_t first, unsigned n, unsigned step)
{
	uint64_t total = 0, size = first;
	unsigned i;

	for (i = 1; i <= n; i++) {
		total += size;
		if (total >= UPLOAD_TARGET)
			return total;
		if (i % step == 0 && size < UPLOAD_MAX_PART)
			size = size * 2 > UPLOAD_MAX_PART ? UPLOAD_MAX_PART
							  : size * 2;
	}
	return total;
}

/* The largest doubling period that still reaches the target. */
unsigned upload_part_step(uint64_t first, unsigned max_parts)
{
	unsigned lo = 1, hi = max_parts;

	if (total_for_step(first, max_parts, max_parts) >= UPLOAD_TARGET)
		return max_parts; /* no growth needed */
	if (total_for_step(first, max_parts, 1) < UPLOAD_TARGET)
		return 1; /* cannot reach it: grow as fast as allowed */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo + 1) / 2;
		if (total_for_step(first, max_parts, mid) >= UPLOAD_TARGET)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

uint64_t upload_part_size_at(uint64_t first, unsigned step, unsigned number)
{
	uint64_t size = first;
	unsigned doublings = (number - 1) / step;

	while (doublings-- > 0 && size < UPLOAD_MAX_PART)
		size *= 2;
	return size > UPLOAD_MAX_PART ? UPLOAD_MAX_PART : size;
}

/* ---- the stage ---- */

struct part {
	unsigned number;
	char *data;
	size_t len;
	struct part *next;
};

struct upload {
	struct stream base;
	struct upload_options o;
	char *key;
	unsigned step;

	s3_client *control;
	char *upload_id;
	bool completed;
	bool aborted;

	/* The part being filled. */
	char *buf;
	size_t len;
	size_t cap;
	unsigned next_number;

	/* Shared with the workers, under LOCK. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct part *queue_head;
	struct part *queue_tail;
	unsigned in_flight; /* queued or uploading */
	bool stop;	    /* no more parts: workers exit when idle */
	bool failed;
	struct s3_part *done; /* [number - 1] */
	unsigned ndone;
	uint64_t largest;
	pthread_t *threads;
	unsigned nthreads;
	bool cancel;

	uint64_t stored;
};

static bool run_cancelled(const struct upload *u)
{
	return u->o.cancelled && u->o.cancelled(u->o.cancelled_ctx);
}

static bool worker_cancelled(void *ctx)
{
	struct upload *u = ctx;
	bool c;

	pthread_mutex_lock(&u->lock);
	c = u->cancel || u->failed;
	pthread_mutex_unlock(&u->lock);
	return c || run_cancelled(u);
}

struct worker_ctx {
	struct upload *u;
	s3_client *client;
};

static void *worker(void *arg)
{
	struct worker_ctx *w = arg;
	struct upload *u = w->u;

	for (;;) {
		struct part *p;
		char *etag = NULL;
		s3_error err;
		int rc;

		pthread_mutex_lock(&u->lock);
		while (!u->queue_head && !u->stop && !u->failed)
			pthread_cond_wait(&u->cond, &u->lock);
		/* Stop on a failure, or when stopping and nothing is left. */
		p = u->failed ? NULL : u->queue_head;
		if (!p) {
			pthread_mutex_unlock(&u->lock);
			break;
		}
		u->queue_head = p->next;
		if (!u->queue_head)
			u->queue_tail = NULL;
		pthread_mutex_unlock(&u->lock);

		rc = s3_multipart_upload_part(&etag, w->client, u->key,
					      u->upload_id, p->number, p->data,
					      p->len, &err);

		pthread_mutex_lock(&u->lock);
		if (rc == S3_OK) {
			u->done[p->number - 1].number = p->number;
			u->done[p->number - 1].etag = etag;
			u->done[p->number - 1].size = p->len;
			u->ndone++;
			if (p->len > u->largest)
				u->largest = p->len;
			log_msgf(LOG_DEBUG, "part %u uploaded (%zu bytes)",
				 p->number, p->len);
		} else if (!u->failed) {
			u->failed = true;
			storage_error(u->base.err, &err, NULL);
		}
		u->in_flight--;
		pthread_cond_broadcast(&u->cond);
		pthread_mutex_unlock(&u->lock);
		free(p->data);
		free(p);
	}
	s3_client_free(w->client);
	free(w);
	return NULL;
}

static int fail_s3(struct upload *u, const s3_error *err)
{
	return storage_error(u->base.err, err, NULL);
}

/* Create the multipart upload and start the workers. */
static int start_multipart(struct upload *u)
{
	s3_error err;
	unsigned i;
	int rc;

	rc = s3_multipart_create(&u->upload_id, u->control, u->key, u->o.put,
				 &err);
	if (rc)
		return fail_s3(u, &err);
	log_event(LOG_DEBUG, "multipart upload started", "key", u->key, NULL);
	u->done = calloc(u->o.max_parts, sizeof(*u->done));
	u->threads = calloc(u->o.concurrency, sizeof(*u->threads));
	if (!u->done || !u->threads)
		return agent_fail(u->base.err, AGENT_ENOMEM, "out of memory");
	for (i = 0; i < u->o.concurrency; i++) {
		struct worker_ctx *w = calloc(1, sizeof(*w));
		if (!w)
			return agent_fail(u->base.err, AGENT_ENOMEM,
					  "out of memory");
		w->u = u;
		rc = u->o.client_new(&w->client, u->o.client_ctx,
				     worker_cancelled, u, &err);
		if (rc) {
			free(w);
			return fail_s3(u, &err);
		}
		if (pthread_create(&u->threads[i], NULL, worker, w) != 0) {
			s3_client_free(w->client);
			free(w);
			return agent_fail(u->base.err, AGENT_ENOMEM,
					  "cannot start an upload thread");
		}
		u->nthreads++;
	}
	return AGENT_OK;
}

/* Hand the full buffer to the workers; wait while too many are queued. */
static int ship(struct upload *u)
{
	struct part *p;
	int rc;

	if (!u->upload_id) {
		rc = start_multipart(u);
		if (rc)
			return rc;
	}
	if (u->next_number > u->o.max_parts)
		return agent_fail(u->base.err, AGENT_ELIMIT,
				  "the backup needs more than %u parts "
				  "(max_parts); raise part_size or max_parts",
				  u->o.max_parts);
	p = calloc(1, sizeof(*p));
	if (!p)
		return agent_fail(u->base.err, AGENT_ENOMEM, "out of memory");
	p->number = u->next_number++;
	p->data = u->buf;
	p->len = u->len;
	u->buf = NULL;
	u->len = u->cap = 0;

	pthread_mutex_lock(&u->lock);
	/* Memory bound: at most CONCURRENCY parts queued or uploading. */
	while (u->in_flight >= u->o.concurrency && !u->failed)
		pthread_cond_wait(&u->cond, &u->lock);
	if (u->failed) {
		pthread_mutex_unlock(&u->lock);
		free(p->data);
		free(p);
		return u->base.err->code ? u->base.err->code : AGENT_EIO;
	}
	if (u->queue_tail)
		u->queue_tail->next = p;
	else
		u->queue_head = p;
	u->queue_tail = p;
	u->in_flight++;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
	return AGENT_OK;
}

static int upload_write(struct stream *s, const void *data, size_t len)
{
	struct upload *u = (struct upload *)s;
	const char *p = data;
	int rc;

	if (u->o.max_size && u->stored + len > u->o.max_size)
		return agent_fail(s->err, AGENT_ELIMIT,
				  "the backup is larger than max_size (%llu "
				  "bytes): stopped, nothing stored",
				  (unsigned long long)u->o.max_size);
	while (len > 0) {
		size_t room, n;

		if (!u->buf) {
			u->cap = (size_t)upload_part_size_at(
				u->o.part_size, u->step, u->next_number);
			u->buf = malloc(u->cap);
			if (!u->buf)
				return agent_fail(s->err, AGENT_ENOMEM,
						  "out of memory for a part "
						  "of %zu bytes",
						  u->cap);
		}
		if (u->len == u->cap) {
			/* Full, and more is coming: it is a multipart. */
			rc = ship(u);
			if (rc)
				return rc;
			continue;
		}
		room = u->cap - u->len;
		n = len < room ? len : room;
		memcpy(u->buf + u->len, p, n);
		u->len += n;
		u->stored += n;
		p += n;
		len -= n;
	}
	pthread_mutex_lock(&u->lock);
	rc = u->failed ? (u->base.err->code ? u->base.err->code : AGENT_EIO)
		       : AGENT_OK;
	pthread_mutex_unlock(&u->lock);
	return rc;
}

static void join_workers(struct upload *u)
{
	unsigned i;

	pthread_mutex_lock(&u->lock);
	u->stop = true;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
	for (i = 0; i < u->nthreads; i++)
		pthread_join(u->threads[i], NULL);
	u->nthreads = 0;
}

static int upload_finish(struct stream *s)
{
	struct upload *u = (struct upload *)s;
	s3_error err;
	int rc;

	if (!u->upload_id) {
		/* It all fit in one part: a single PutObject. */
		rc = s3_put_object(u->control, u->key, u->buf ? u->buf : "",
				   u->len, u->o.put, &err);
		if (rc)
			return fail_s3(u, &err);
		u->completed = true;
		u->largest = u->len;
		return AGENT_OK;
	}
	if (u->len > 0) {
		rc = ship(u);
		if (rc)
			return rc;
	}
	join_workers(u);
	if (u->failed)
		return u->base.err->code ? u->base.err->code : AGENT_EIO;
	if (u->ndone != u->next_number - 1)
		return agent_fail(s->err, AGENT_EIO, "%u of %u parts uploaded",
				  u->ndone, u->next_number - 1);
	rc = s3_multipart_complete(u->control, u->key, u->upload_id, u->done,
				   u->ndone, &err);
	if (rc)
		return fail_s3(u, &err);
	u->completed = true;
	return AGENT_OK;
}

int upload_abort(struct stream *s)
{
	struct upload *u = (struct upload *)s;
	s3_error err;
	int rc;

	if (!u || u->completed || u->aborted || !u->upload_id)
		return 0;
	pthread_mutex_lock(&u->lock);
	u->cancel = true;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
	join_workers(u);
	u->aborted = true;
	/* Sent even when the run was stopped, but not waited on for long. */
	s3_client_set_cleanup(u->control, UPLOAD_CLEANUP_TIMEOUT_MS);
	rc = s3_multipart_abort(u->control, u->key, u->upload_id, &err);
	if (rc == S3_ENOTFOUND) {
		/* The Complete may have gone through, its answer lost: the
		 * key is this run's own, and is not a backup. */
		rc = s3_delete_object(u->control, u->key, &err);
		if (rc == S3_OK || rc == S3_ENOTFOUND) {
			log_event(LOG_INFO,
				  "multipart upload gone; its object deleted: "
				  "nothing stored",
				  "key", u->key, NULL);
			return 0;
		}
	}
	if (rc != S3_OK) {
		log_event(LOG_ERROR, "cannot abort the multipart upload", "key",
			  u->key, "error", err.msg, NULL);
		return -1;
	}
	log_event(LOG_INFO, "multipart upload aborted: nothing stored", "key",
		  u->key, NULL);
	return 0;
}

void upload_result(const struct stream *s, struct upload_result *r)
{
	const struct upload *u = (const struct upload *)s;

	r->bytes = u->stored;
	r->parts = u->upload_id ? u->ndone : 0;
	r->largest_part = u->largest;
}

void upload_parts(struct stream *s, unsigned *in_flight, unsigned *done)
{
	struct upload *u = (struct upload *)s;

	pthread_mutex_lock(&u->lock);
	*in_flight = u->in_flight;
	*done = u->ndone;
	pthread_mutex_unlock(&u->lock);
}

static void upload_free(struct stream *s)
{
	struct upload *u = (struct upload *)s;
	struct part *p;
	unsigned i;

	upload_abort(s);
	join_workers(u);
	while ((p = u->queue_head)) {
		u->queue_head = p->next;
		free(p->data);
		free(p);
	}
	for (i = 0; u->done && i < u->o.max_parts; i++)
		free(u->done[i].etag);
	free(u->done);
	free(u->threads);
	free(u->buf);
	free(u->upload_id);
	free(u->key);
	s3_client_free(u->control);
	pthread_cond_destroy(&u->cond);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static const struct stream_ops upload_ops = {
	.name = "upload",
	.write = upload_write,
	.finish = upload_finish,
	.free = upload_free,
};

int upload_new(struct stream **out, struct agent_error *err,
	       const struct upload_options *o)
{
	struct upload *u;
	s3_error serr;

	*out = NULL;
	if (o->part_size < UPLOAD_MIN_PART || o->part_size > UPLOAD_MAX_PART ||
	    o->max_parts < 1 || o->max_parts > 10000 || o->concurrency < 1 ||
	    o->concurrency > 64 || !o->client_new || !o->key)
		return agent_fail(err, AGENT_EIO, "bad upload options");
	u = calloc(1, sizeof(*u));
	if (!u)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	u->base.ops = &upload_ops;
	u->base.err = err;
	u->o = *o;
	u->next_number = 1;
	u->step = upload_part_step(o->part_size, o->max_parts);
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->cond, NULL);
	u->key = strdup(o->key);
	if (!u->key) {
		upload_free(&u->base);
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	}
	if (o->client_new(&u->control, o->client_ctx, o->cancelled,
			  o->cancelled_ctx, &serr) != S3_OK) {
		upload_free(&u->base);
		return storage_error(err, &serr, NULL);
	}
	*out = &u->base;
	return AGENT_OK;
}
