/*
 * The gzip stage: standard gzip, as independent members of BLOCK_SIZE
 * input bytes each, compressed by zlib, ISA-L or libdeflate, on worker
 * threads.
 *
 * Why members: a block compressed alone needs nothing from the blocks
 * before it, so N threads compress N blocks at once, and the result is
 * still one standard gzip file (RFC 1952 2.2). 1 MiB blocks cost < 0.3 %
 * of ratio (DESIGN.md, "Performance notes").
 *
 * The ring: 2 x THREADS slots, each an input and an output buffer. The
 * caller's thread fills the slot at FILL and queues it when full; workers
 * take queued slots in ring order; the caller emits finished slots in
 * ring order from HEAD, so output keeps the input's order. It waits only
 * when every slot is in flight. With one thread there is one slot and no
 * worker: a full block is compressed and emitted at once.
 */
#include "agent/pipe/stages.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZLIB_CONST
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <zlib.h>

/* libdeflate's own levels: 0 (stored) .. 12 (its slowest). */
#define LIBDEFLATE_MIN_LEVEL 0
#define LIBDEFLATE_MAX_LEVEL 12

/* ---- error translation: zlib, ISA-L, libdeflate (one function each) ---- */

int stage_zlib_fail(struct agent_error *err, int rc, const char *zmsg,
		    const char *what)
{
	const char *detail = zmsg ? zmsg : "no detail";

	switch (rc) {
	case Z_MEM_ERROR:
		return agent_fail(err, AGENT_ENOMEM, "%s: out of memory", what);
	case Z_DATA_ERROR:
		return agent_fail(err, AGENT_ECORRUPT, "%s is corrupt: %s",
				  what, detail);
	case Z_NEED_DICT:
		return agent_fail(err, AGENT_ECORRUPT,
				  "%s needs a preset dictionary", what);
	case Z_BUF_ERROR:
		return agent_fail(err, AGENT_EIO, "%s: no room to progress",
				  what);
	case Z_STREAM_ERROR:
		return agent_fail(err, AGENT_EIO, "%s: bad stream state", what);
	case Z_VERSION_ERROR:
		return agent_fail(err, AGENT_EIO,
				  "%s: zlib version %s does not match %s", what,
				  zlibVersion(), ZLIB_VERSION);
	default:
		return agent_fail(err, AGENT_EIO, "%s: zlib error %d (%s)",
				  what, rc, detail);
	}
}

static int isal_fail(struct agent_error *err, int rc)
{
	switch (rc) {
	case STATELESS_OVERFLOW:
		return agent_fail(err, AGENT_EIO,
				  "gzip: isa-l: output larger than its bound");
	case ISAL_INVALID_LEVEL:
		return agent_fail(err, AGENT_EIO, "gzip: isa-l: bad level");
	case ISAL_INVALID_LEVEL_BUF:
		return agent_fail(err, AGENT_EIO,
				  "gzip: isa-l: level buffer too small");
	case INVALID_FLUSH:
	case INVALID_PARAM:
	case ISAL_INVALID_STATE:
	case ISAL_INVALID_OPERATION:
		return agent_fail(err, AGENT_EIO,
				  "gzip: isa-l: bad parameters (%d)", rc);
	default:
		return agent_fail(err, AGENT_EIO, "gzip: isa-l: error %d", rc);
	}
}

/* libdeflate reports two failures only: no compressor (NULL from the
 * allocator: memory, as the level was checked before) and no room (0
 * bytes written, which its own bound rules out). */
enum ld_failure {
	LD_NO_MEMORY,
	LD_NO_ROOM,
};

static int ld_fail(struct agent_error *err, enum ld_failure what)
{
	if (what == LD_NO_MEMORY)
		return agent_fail(err, AGENT_ENOMEM,
				  "gzip: libdeflate: out of memory");
	return agent_fail(err, AGENT_EIO,
			  "gzip: libdeflate: output larger than its bound");
}

/* ---- options ---- */

/* The engine and its own level for O, or -1 when out of range. */
static int resolve(const struct gzip_options *o, enum gzip_engine *engine,
		   int *level)
{
	int min, max;

	switch (o->engine) {
	case GZIP_ENGINE_AUTO:
		if (o->level < 0 || o->level > 9)
			return -1;
		if (o->level == 0)
			*engine = GZIP_ENGINE_ZLIB; /* stored */
		else if (o->level == 1)
			*engine = GZIP_ENGINE_ISAL;
		else
			*engine = GZIP_ENGINE_LIBDEFLATE;
		*level = o->level;
		return 0;
	case GZIP_ENGINE_ZLIB:
		min = 0;
		max = 9;
		break;
	case GZIP_ENGINE_ISAL:
		min = ISAL_DEF_MIN_LEVEL;
		max = ISAL_DEF_MAX_LEVEL;
		break;
	case GZIP_ENGINE_LIBDEFLATE:
		min = LIBDEFLATE_MIN_LEVEL;
		max = LIBDEFLATE_MAX_LEVEL;
		break;
	default:
		return -1;
	}
	if (o->level < min || o->level > max)
		return -1;
	*engine = o->engine;
	*level = o->level;
	return 0;
}

const char *stage_gzip_engine_name(const struct gzip_options *o,
				   int *engine_level)
{
	enum gzip_engine engine;

	if (resolve(o, &engine, engine_level) != 0)
		return NULL;
	switch (engine) {
	case GZIP_ENGINE_ISAL:
		return "isal";
	case GZIP_ENGINE_LIBDEFLATE:
		return "libdeflate";
	default:
		return "zlib";
	}
}

/* ---- one compressor: a block in, one gzip member out ---- */

struct deflater {
	enum gzip_engine engine;
	int level;
	z_stream z;
	bool z_ready;
	uint8_t *level_buf; /* ISA-L's work memory for levels 1..3 */
	uint32_t level_buf_size;
	struct libdeflate_compressor *ld;
};

static uint32_t isal_level_buf_size(int level)
{
	switch (level) {
	case 1:
		return ISAL_DEF_LVL1_DEFAULT;
	case 2:
		return ISAL_DEF_LVL2_DEFAULT;
	case 3:
		return ISAL_DEF_LVL3_DEFAULT;
	default:
		return 0;
	}
}

static int deflater_init(struct deflater *d, enum gzip_engine engine, int level,
			 struct agent_error *err)
{
	int rc;

	d->engine = engine;
	d->level = level;
	if (engine == GZIP_ENGINE_ZLIB) {
		/* 16 + 15: a gzip wrapper around a 32 KiB window. */
		rc = deflateInit2(&d->z, level, Z_DEFLATED, 16 + MAX_WBITS, 8,
				  Z_DEFAULT_STRATEGY);
		if (rc != Z_OK)
			return stage_zlib_fail(err, rc, d->z.msg,
					       "gzip: deflate init");
		d->z_ready = true;
		return AGENT_OK;
	}
	if (engine == GZIP_ENGINE_LIBDEFLATE) {
		d->ld = libdeflate_alloc_compressor(level);
		if (!d->ld)
			return ld_fail(err, LD_NO_MEMORY);
		return AGENT_OK;
	}
	d->level_buf_size = isal_level_buf_size(level);
	if (d->level_buf_size > 0) {
		d->level_buf = calloc(1, d->level_buf_size);
		if (!d->level_buf)
			return agent_fail(err, AGENT_ENOMEM,
					  "gzip: out of memory");
	}
	return AGENT_OK;
}

static void deflater_dispose(struct deflater *d)
{
	if (d->z_ready)
		deflateEnd(&d->z);
	d->z_ready = false;
	free(d->level_buf);
	d->level_buf = NULL;
	libdeflate_free_compressor(d->ld);
	d->ld = NULL;
}

/* Compress IN[0..LEN) into one gzip member in OUT (CAP bytes, at least
 * out_bound(ENGINE, LEN)); *OUT_LEN is its size. Errors go to ERR. */
static int deflater_run(struct deflater *d, uint8_t *in, size_t len,
			uint8_t *out, size_t cap, size_t *out_len,
			struct agent_error *err)
{
	struct isal_zstream zs;
	int rc;

	if (d->engine == GZIP_ENGINE_ZLIB) {
		rc = deflateReset(&d->z);
		if (rc != Z_OK)
			return stage_zlib_fail(err, rc, d->z.msg,
					       "gzip: deflate reset");
		d->z.next_in = in;
		d->z.avail_in = (uInt)len;
		d->z.next_out = out;
		d->z.avail_out = (uInt)cap;
		rc = deflate(&d->z, Z_FINISH);
		if (rc != Z_STREAM_END)
			return stage_zlib_fail(err,
					       rc == Z_OK ? Z_BUF_ERROR : rc,
					       d->z.msg, "gzip: deflate");
		*out_len = cap - d->z.avail_out;
		return AGENT_OK;
	}
	if (d->engine == GZIP_ENGINE_LIBDEFLATE) {
		/* A whole buffer in, one whole gzip member out: what a
		 * block is here. */
		*out_len = libdeflate_gzip_compress(d->ld, in, len, out, cap);
		if (*out_len == 0)
			return ld_fail(err, LD_NO_ROOM);
		return AGENT_OK;
	}
	memset(&zs, 0, sizeof(zs));
	isal_deflate_stateless_init(&zs);
	zs.level = (uint32_t)d->level;
	zs.level_buf = d->level_buf;
	zs.level_buf_size = d->level_buf_size;
	zs.gzip_flag = IGZIP_GZIP;
	zs.end_of_stream = 1;
	zs.flush = NO_FLUSH;
	zs.next_in = in;
	zs.avail_in = (uint32_t)len;
	zs.next_out = out;
	zs.avail_out = (uint32_t)cap;
	rc = isal_deflate_stateless(&zs);
	if (rc != COMP_OK)
		return isal_fail(err, rc);
	*out_len = cap - zs.avail_out;
	return AGENT_OK;
}

/*
 * Room for one member of LEN input bytes, whatever the level. libdeflate
 * states its bound (for any of its compressors: NULL). zlib and ISA-L:
 * stored blocks cost 5 bytes per 64 KiB, the gzip wrapper 18, and both
 * fall back to stored blocks rather than expand further; the margin
 * (1/8 + 1 KiB) is far above both.
 */
static size_t out_bound(enum gzip_engine engine, size_t len)
{
	if (engine == GZIP_ENGINE_LIBDEFLATE)
		return libdeflate_gzip_compress_bound(NULL, len);
	return len + len / 8 + 1024;
}

/* ---- the stage ---- */

enum slot_state {
	SLOT_FREE,   /* the caller's: being filled, or empty */
	SLOT_QUEUED, /* waiting for a worker */
	SLOT_BUSY,   /* a worker compresses it */
	SLOT_DONE,   /* compressed (or failed): waiting to be emitted */
};

struct slot {
	uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_len;
	enum slot_state state;
	struct agent_error err; /* a worker's failure, passed on in order */
};

struct gzip;

struct worker {
	struct gzip *g;
	struct deflater d;
	pthread_t thread;
	bool started;
};

struct gzip {
	struct stream base;
	size_t block, out_cap;
	unsigned nworkers; /* 0: compress on the caller's thread */
	unsigned nslots;
	struct slot *slots;
	unsigned fill;	   /* the slot being filled */
	unsigned head;	   /* the oldest slot in flight */
	unsigned take;	   /* the next slot a worker takes */
	unsigned inflight; /* queued and not yet emitted */
	uint64_t members;  /* blocks submitted so far */
	struct deflater inline_d;
	struct worker *workers;
	pthread_mutex_t lock;
	pthread_cond_t work; /* a slot was queued, or stop */
	pthread_cond_t done; /* a slot is done */
	bool sync_ready;
	bool stop;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct gzip *g = w->g;
	struct slot *slot;

	pthread_mutex_lock(&g->lock);
	for (;;) {
		while (!g->stop && g->slots[g->take].state != SLOT_QUEUED)
			pthread_cond_wait(&g->work, &g->lock);
		if (g->stop)
			break;
		slot = &g->slots[g->take];
		g->take = (g->take + 1) % g->nslots;
		slot->state = SLOT_BUSY;
		pthread_mutex_unlock(&g->lock);

		/* A failure lands in the slot; the caller passes it on when
		 * the slot's turn comes, so errors keep the output's order. */
		deflater_run(&w->d, slot->in, slot->in_len, slot->out,
			     g->out_cap, &slot->out_len, &slot->err);

		pthread_mutex_lock(&g->lock);
		slot->state = SLOT_DONE;
		pthread_cond_signal(&g->done);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

/* Pass one compressed slot on, from the caller's thread; empty it. */
static int emit_slot(struct gzip *g, struct slot *slot)
{
	int rc;

	if (slot->err.code != AGENT_OK)
		return agent_fail(g->base.err, slot->err.code, "%s",
				  slot->err.msg);
	rc = stream_emit(&g->base, slot->out, slot->out_len);
	slot->in_len = 0;
	slot->out_len = 0;
	return rc;
}

/* Emit the oldest slot in flight; if WAIT, wait until it is done, else
 * only if it already is (*EMITTED tells). */
static int emit_head(struct gzip *g, bool wait, bool *emitted)
{
	struct slot *slot = &g->slots[g->head];
	bool done;
	int rc;

	*emitted = false;
	pthread_mutex_lock(&g->lock);
	while (slot->state != SLOT_DONE && wait)
		pthread_cond_wait(&g->done, &g->lock);
	done = slot->state == SLOT_DONE;
	pthread_mutex_unlock(&g->lock);
	if (!done)
		return AGENT_OK;

	rc = emit_slot(g, slot);
	pthread_mutex_lock(&g->lock);
	slot->state = SLOT_FREE;
	pthread_mutex_unlock(&g->lock);
	g->head = (g->head + 1) % g->nslots;
	g->inflight--;
	*emitted = true;
	return rc;
}

/* The slot at FILL is complete (full, or the last one): compress it. */
static int submit(struct gzip *g)
{
	struct slot *slot = &g->slots[g->fill];
	bool emitted = true;
	int rc;

	g->members++;
	if (g->nworkers == 0) {
		rc = deflater_run(&g->inline_d, slot->in, slot->in_len,
				  slot->out, g->out_cap, &slot->out_len,
				  g->base.err);
		if (rc != AGENT_OK)
			return rc;
		return emit_slot(g, slot);
	}

	pthread_mutex_lock(&g->lock);
	slot->state = SLOT_QUEUED;
	pthread_cond_signal(&g->work);
	pthread_mutex_unlock(&g->lock);
	g->fill = (g->fill + 1) % g->nslots;
	g->inflight++;

	/* Pass on what is already done, so output flows while we fill. */
	rc = AGENT_OK;
	while (rc == AGENT_OK && emitted && g->inflight > 0)
		rc = emit_head(g, false, &emitted);
	return rc;
}

static int gzip_write(struct stream *s, const void *data, size_t len)
{
	struct gzip *g = (struct gzip *)s;
	const uint8_t *p = data;
	struct slot *slot;
	bool emitted;
	size_t n;
	int rc;

	while (len > 0) {
		/* Every slot in flight: the one to fill is the oldest. */
		if (g->inflight == g->nslots) {
			rc = emit_head(g, true, &emitted);
			if (rc != AGENT_OK)
				return rc;
		}
		slot = &g->slots[g->fill];
		n = g->block - slot->in_len;
		if (n > len)
			n = len;
		memcpy(slot->in + slot->in_len, p, n);
		slot->in_len += n;
		p += n;
		len -= n;
		if (slot->in_len == g->block) {
			rc = submit(g);
			if (rc != AGENT_OK)
				return rc;
		}
	}
	return AGENT_OK;
}

static int gzip_finish(struct stream *s)
{
	struct gzip *g = (struct gzip *)s;
	bool emitted;
	int rc;

	if (g->inflight == g->nslots) {
		rc = emit_head(g, true, &emitted);
		if (rc != AGENT_OK)
			return rc;
	}
	/* The last, partial block; or one empty member for empty input, so
	 * that the output is still a gzip file. */
	if (g->slots[g->fill].in_len > 0 || g->members == 0) {
		rc = submit(g);
		if (rc != AGENT_OK)
			return rc;
	}
	while (g->inflight > 0) {
		rc = emit_head(g, true, &emitted);
		if (rc != AGENT_OK)
			return rc;
	}
	return stream_finish(s->next);
}

static void gzip_free(struct stream *s)
{
	struct gzip *g = (struct gzip *)s;
	unsigned i;

	if (g->sync_ready) {
		pthread_mutex_lock(&g->lock);
		g->stop = true;
		pthread_cond_broadcast(&g->work);
		pthread_mutex_unlock(&g->lock);
	}
	for (i = 0; g->workers && i < g->nworkers; i++) {
		if (g->workers[i].started)
			pthread_join(g->workers[i].thread, NULL);
		deflater_dispose(&g->workers[i].d);
	}
	free(g->workers);
	deflater_dispose(&g->inline_d);
	for (i = 0; g->slots && i < g->nslots; i++) {
		free(g->slots[i].in);
		free(g->slots[i].out);
	}
	free(g->slots);
	if (g->sync_ready) {
		pthread_cond_destroy(&g->done);
		pthread_cond_destroy(&g->work);
		pthread_mutex_destroy(&g->lock);
	}
	free(g);
}

static const struct stream_ops gzip_ops = {
	.name = "gzip",
	.write = gzip_write,
	.finish = gzip_finish,
	.free = gzip_free,
};

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > GZIP_THREADS_MAX ? GZIP_THREADS_MAX : (unsigned)n;
}

/* The pool: one engine per worker, the lock, and the workers, started
 * with every signal blocked (signals belong to the main thread, whose
 * blocking calls they must interrupt). On failure gzip_free() undoes
 * what was done. */
static int start_pool(struct gzip *g, enum gzip_engine engine, int level,
		      struct agent_error *err)
{
	sigset_t all, old;
	unsigned i;
	int rc, e;

	g->workers = calloc(g->nworkers, sizeof(*g->workers));
	if (!g->workers)
		return agent_fail(err, AGENT_ENOMEM, "gzip: out of memory");
	for (i = 0; i < g->nworkers; i++) {
		g->workers[i].g = g;
		rc = deflater_init(&g->workers[i].d, engine, level, err);
		if (rc != AGENT_OK)
			return rc;
	}
	if (pthread_mutex_init(&g->lock, NULL) != 0)
		return agent_fail(err, AGENT_ENOMEM, "gzip: out of memory");
	if (pthread_cond_init(&g->work, NULL) != 0) {
		pthread_mutex_destroy(&g->lock);
		return agent_fail(err, AGENT_ENOMEM, "gzip: out of memory");
	}
	if (pthread_cond_init(&g->done, NULL) != 0) {
		pthread_cond_destroy(&g->work);
		pthread_mutex_destroy(&g->lock);
		return agent_fail(err, AGENT_ENOMEM, "gzip: out of memory");
	}
	g->sync_ready = true;

	rc = AGENT_OK;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < g->nworkers; i++) {
		e = pthread_create(&g->workers[i].thread, NULL, worker_main,
				   &g->workers[i]);
		if (e != 0) {
			rc = agent_fail(err, AGENT_ENOMEM,
					"gzip: cannot start a thread: %s",
					strerror(e));
			break;
		}
		g->workers[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int stage_gzip_new(struct stream **out, struct stream *next,
		   struct agent_error *err, const struct gzip_options *o)
{
	struct gzip *g = NULL;
	enum gzip_engine engine;
	unsigned threads, i;
	int level, rc;

	*out = NULL;
	if (resolve(o, &engine, &level) != 0)
		return agent_fail(err, AGENT_EIO, "gzip: bad options: level %d",
				  o->level);
	if (o->block_size < GZIP_BLOCK_MIN || o->block_size > GZIP_BLOCK_MAX)
		return agent_fail(err, AGENT_EIO,
				  "gzip: bad options: block size %zu",
				  o->block_size);
	if (o->threads > GZIP_THREADS_MAX)
		return agent_fail(err, AGENT_EIO,
				  "gzip: bad options: %u threads", o->threads);
	threads = o->threads ? o->threads : online_cpus();

	g = calloc(1, sizeof(*g));
	if (!g)
		return agent_fail(err, AGENT_ENOMEM, "gzip: out of memory");
	g->base.ops = &gzip_ops;
	g->base.next = next;
	g->base.err = err;
	g->block = o->block_size;
	g->out_cap = out_bound(engine, o->block_size);
	g->nworkers = threads > 1 ? threads : 0;
	g->nslots = threads > 1 ? 2 * threads : 1;

	g->slots = calloc(g->nslots, sizeof(*g->slots));
	if (!g->slots) {
		rc = agent_fail(err, AGENT_ENOMEM, "gzip: out of memory");
		goto out;
	}
	for (i = 0; i < g->nslots; i++) {
		g->slots[i].in = malloc(g->block);
		g->slots[i].out = malloc(g->out_cap);
		if (!g->slots[i].in || !g->slots[i].out) {
			rc = agent_fail(err, AGENT_ENOMEM,
					"gzip: out of memory");
			goto out;
		}
	}
	if (g->nworkers == 0)
		rc = deflater_init(&g->inline_d, engine, level, err);
	else
		rc = start_pool(g, engine, level, err);
	if (rc != AGENT_OK)
		goto out;
	/* The cast, not &g->base: the same pointer (base comes first), but
	 * gcc 12's -fanalyzer loses the allocation through a member's
	 * address and reports a leak. */
	*out = (struct stream *)g;
	g = NULL;
out:
	if (g)
		gzip_free((struct stream *)g);
	return rc;
}
