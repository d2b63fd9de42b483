/* progress: the taps, the timer thread and the line. */
#include "agent/ops/progress.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/ops/log.h"
#include "agent/ops/report.h"
#include "common/clock.h"

struct progress {
	int fd;
	_Atomic uint64_t counters[2]; /* PROGRESS_READ, PROGRESS_STORED */
	progress_parts_fn parts;
	void *parts_ctx;
	struct timespec t0;

	pthread_mutex_t lock; /* STOP and WAKE */
	pthread_cond_t wake;
	pthread_t thread;
	bool running; /* the thread was started and not joined */
	bool stop;

	/* The terminal: the line and log lines take turns. Nothing else is
	 * locked while it is held. */
	pthread_mutex_t screen;
	size_t drawn; /* length of the line on screen; 0: none */
};

bool progress_wanted(enum progress_mode mode, int fd)
{
	if (mode == PROGRESS_ON)
		return true;
	if (mode == PROGRESS_OFF)
		return false;
	return isatty(fd) && log_get_level() >= LOG_INFO;
}

int progress_new(struct progress **out, enum progress_mode mode, int fd)
{
	struct progress *p;

	*out = NULL;
	if (!progress_wanted(mode, fd))
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->fd = fd;
	atomic_init(&p->counters[PROGRESS_READ], 0);
	atomic_init(&p->counters[PROGRESS_STORED], 0);
	mono_now(&p->t0);
	*out = p;
	return 0;
}

/* ---- the tap ---- */

struct tap {
	struct stream base;
	_Atomic uint64_t *counter;
};

static int tap_write(struct stream *s, const void *data, size_t len)
{
	struct tap *t = (struct tap *)s;
	int rc = stream_emit(s, data, len);

	if (rc == AGENT_OK)
		atomic_fetch_add_explicit(t->counter, len,
					  memory_order_relaxed);
	return rc;
}

static int tap_finish(struct stream *s)
{
	return stream_finish(s->next);
}

static void tap_free(struct stream *s)
{
	free(s);
}

static const struct stream_ops tap_ops = {
	.name = "progress",
	.write = tap_write,
	.finish = tap_finish,
	.free = tap_free,
};

int progress_tap_new(struct stream **out, struct stream *next,
		     struct agent_error *err, struct progress *p,
		     enum progress_counter which)
{
	struct tap *t;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return agent_fail(err, AGENT_ENOMEM, "progress: out of memory");
	t->base.ops = &tap_ops;
	t->base.next = next;
	t->base.err = err;
	t->counter = &p->counters[which];
	*out = (struct stream *)t;
	return AGENT_OK;
}

/* ---- the line ---- */

size_t progress_format(char *buf, size_t size, const struct progress_sample *s,
		       double secs)
{
	char read[REPORT_SIZE_MAX], stored[REPORT_SIZE_MAX];
	char rate[REPORT_SIZE_MAX], ratio[16], parts[64] = "";
	unsigned long t = secs > 0 ? (unsigned long)secs : 0;
	int n;

	if (size == 0)
		return 0;
	report_size(read, s->read);
	report_size(stored, s->stored);
	report_size(rate, secs > 0 ? (uint64_t)((double)s->read / secs) : 0);
	if (s->stored)
		snprintf(ratio, sizeof(ratio), "%.2f",
			 (double)s->read / (double)s->stored);
	else
		snprintf(ratio, sizeof(ratio), "-");
	if (s->has_parts)
		snprintf(parts, sizeof(parts), "  parts %u in flight, %u done",
			 s->in_flight, s->done);
	n = snprintf(buf, size,
		     "read %s  stored %s  ratio %s  %s/s%s  %lu:%02lu:%02lu",
		     read, stored, ratio, rate, parts, t / 3600, t / 60 % 60,
		     t % 60);
	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n < size ? (size_t)n : size - 1;
}

static double elapsed(const struct progress *p)
{
	return mono_elapsed_s(&p->t0);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a terminal gone is no reason to stop */
		buf += w;
		len -= (size_t)w;
	}
}

/* "\r", the line, blanks over what is left of a longer one; END adds
 * the newline and leaves the line behind. */
static void draw(struct progress *p, bool end)
{
	struct progress_sample s = {0};
	char line[PROGRESS_LINE_MAX], out[2 * PROGRESS_LINE_MAX + 4];
	size_t n;
	int len;

	s.read = atomic_load_explicit(&p->counters[PROGRESS_READ],
				      memory_order_relaxed);
	s.stored = atomic_load_explicit(&p->counters[PROGRESS_STORED],
					memory_order_relaxed);
	if (p->parts) {
		s.has_parts = true;
		p->parts(p->parts_ctx, &s.in_flight, &s.done);
	}
	n = progress_format(line, sizeof(line), &s, elapsed(p));
	pthread_mutex_lock(&p->screen);
	len = snprintf(out, sizeof(out), "\r%s%*s%s", line,
		       p->drawn > n ? (int)(p->drawn - n) : 0, "",
		       end ? "\n" : "");
	if (len > 0)
		write_all(p->fd, out,
			  (size_t)len < sizeof(out) ? (size_t)len
						    : sizeof(out) - 1);
	p->drawn = end ? 0 : n;
	pthread_mutex_unlock(&p->screen);
}

/* The log's hook: blank the line before a log line, keep the terminal
 * until it is written. The next tick draws the line again. */
static void step_aside(void *ctx, bool before)
{
	struct progress *p = ctx;
	char out[PROGRESS_LINE_MAX + 2];
	int len;

	if (!before) {
		pthread_mutex_unlock(&p->screen);
		return;
	}
	pthread_mutex_lock(&p->screen);
	if (p->drawn > 0) {
		len = snprintf(out, sizeof(out), "\r%*s\r", (int)p->drawn, "");
		if (len > 0)
			write_all(p->fd, out,
				  (size_t)len < sizeof(out) ? (size_t)len
							    : sizeof(out) - 1);
		p->drawn = 0;
	}
}

static void *progress_thread(void *arg)
{
	struct progress *p = arg;
	struct timespec when;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		clock_gettime(CLOCK_MONOTONIC, &when);
		when.tv_nsec += PROGRESS_INTERVAL_MS * 1000000L;
		when.tv_sec += when.tv_nsec / 1000000000L;
		when.tv_nsec %= 1000000000L;
		while (!p->stop &&
		       pthread_cond_timedwait(&p->wake, &p->lock, &when) == 0)
			;
		if (p->stop)
			break;
		pthread_mutex_unlock(&p->lock);
		draw(p, false);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int progress_start(struct progress *p, progress_parts_fn parts, void *ctx)
{
	pthread_condattr_t attr;
	bool cond = false;

	if (!p)
		return 0;
	p->parts = parts;
	p->parts_ctx = ctx;
	mono_now(&p->t0);
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		return -1;
	if (pthread_mutex_init(&p->screen, NULL) != 0) {
		pthread_mutex_destroy(&p->lock);
		return -1;
	}
	/* Timed waits on the monotonic clock: a clock step does not stall
	 * or hurry the line. */
	if (pthread_condattr_init(&attr) == 0) {
		cond = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
		       pthread_cond_init(&p->wake, &attr) == 0;
		pthread_condattr_destroy(&attr);
	}
	if (!cond) {
		pthread_mutex_destroy(&p->screen);
		pthread_mutex_destroy(&p->lock);
		return -1;
	}
	if (pthread_create(&p->thread, NULL, progress_thread, p) != 0) {
		pthread_cond_destroy(&p->wake);
		pthread_mutex_destroy(&p->screen);
		pthread_mutex_destroy(&p->lock);
		return -1;
	}
	p->running = true;
	log_set_hook(step_aside, p);
	return 0;
}

void progress_stop(struct progress *p)
{
	if (!p || !p->running)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	p->running = false;
	draw(p, true);
	log_set_hook(NULL, NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->screen);
	pthread_mutex_destroy(&p->lock);
}

void progress_free(struct progress *p)
{
	progress_stop(p);
	free(p);
}
