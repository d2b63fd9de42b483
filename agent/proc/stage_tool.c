/*
 * The tool sink: a stream into a program's standard input, with the end
 * of the stream held back until the caller has checked it, and a kill
 * that always comes before the input is closed.
 */
#include "agent/proc/target.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/ops/log.h"
#include "agent/proc/runner.h"
#include "common/clock.h"
#include "common/redact.h"
#include "common/wipe.h"

/* After the tool is reaped, how long its stderr may stay open (a process
 * it left behind) before we stop reading it. */
#define STDERR_GIVE_UP_MS 2000

struct tool {
	struct stream base;
	char name[64];
	unsigned grace_ms;

	pid_t pid;	    /* 0: none */
	int in_fd;	    /* the tool's stdin, our end; -1 once closed */
	pthread_mutex_t mu; /* PID against reaping, for cancel */
	bool reaped;
	siginfo_t status; /* once reaped */
	bool committed;
	bool aborted;
	atomic_bool cancelled; /* stage_tool_cancel() was called */
	bool done;	       /* it ended, status 0, before the end */
	bool drain;	       /* on a failure, keep taking input */
	int failed;	       /* the tool failed: its code ... */
	char failed_msg[512];  /* ... and message, for commit */

	unsigned char *held;
	size_t held_len, hold;
	char *epilogue; /* sent at commit; may hold a key: wiped */

	/* The stderr reader. */
	int err_fd;
	pthread_t thread;
	bool thread_started;
	int64_t give_up_at; /* set once reaped (under MU) */
	char last_stderr[256];
	unsigned stderr_lines;
};

/* ---- stderr ---- */

static void log_line(struct tool *t, const char *line, size_t len, bool cut)
{
	char msg[RUNNER_LINE_MAX + 128];

	while (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	pthread_mutex_lock(&t->mu);
	snprintf(t->last_stderr, sizeof(t->last_stderr), "%.*s",
		 (int)(len < sizeof(t->last_stderr)
			       ? len
			       : sizeof(t->last_stderr) - 1),
		 line);
	pthread_mutex_unlock(&t->mu);
	if (t->stderr_lines < RUNNER_LINES_MAX) {
		snprintf(msg, sizeof(msg), "%s stderr: %.*s%s", t->name,
			 (int)len, line, cut ? "..." : "");
		log_event(LOG_WARN, msg, NULL);
	} else if (t->stderr_lines == RUNNER_LINES_MAX) {
		snprintf(msg, sizeof(msg),
			 "%s stderr: more than %d lines, the rest is not "
			 "logged",
			 t->name, RUNNER_LINES_MAX);
		log_event(LOG_WARN, msg, NULL);
	}
	t->stderr_lines++;
}

static void *stderr_main(void *arg)
{
	struct tool *t = arg;
	char line[RUNNER_LINE_MAX], buf[4096];
	size_t len = 0;
	bool skip = false;

	for (;;) {
		struct pollfd pfd = {.fd = t->err_fd, .events = POLLIN};
		int64_t give_up;
		ssize_t n;
		int r;

		pthread_mutex_lock(&t->mu);
		give_up = t->give_up_at;
		pthread_mutex_unlock(&t->mu);
		if (give_up > 0 && mono_now_ms() >= give_up)
			break;
		r = poll(&pfd, 1, 100);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		n = read(t->err_fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				if (!skip)
					log_line(t, line, len, false);
				skip = false;
				len = 0;
			} else if (skip) {
				continue;
			} else if (len + 1 < sizeof(line)) {
				line[len++] = buf[i];
			} else {
				/* Too long: log what we have, drop the rest. */
				log_line(t, line, len, true);
				skip = true;
				len = 0;
			}
		}
	}
	if (len > 0 && !skip)
		log_line(t, line, len, false);
	return NULL;
}

/* ---- the process ---- */

/* Wait for the tool to end and reap it; with a deadline (ms, 0: none),
 * false if it still runs then. */
static bool reap(struct tool *t, int64_t deadline)
{
	siginfo_t si;

	if (t->reaped || t->pid <= 0)
		return true;
	for (;;) {
		int flags = WEXITED | WNOWAIT | (deadline > 0 ? WNOHANG : 0);

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)t->pid, &si, flags) == 0) {
			if (si.si_pid == t->pid)
				break;
		} else if (errno != EINTR) {
			memset(&si, 0, sizeof(si)); /* ECHILD */
			break;
		}
		if (deadline > 0) {
			struct timespec ts = {0, 10 * 1000 * 1000};

			if (mono_now_ms() >= deadline)
				return false;
			nanosleep(&ts, NULL);
		}
	}
	/* Exited: reap it under the lock, so cancel never signals a PID (a
	 * process group) that could be someone else's. */
	pthread_mutex_lock(&t->mu);
	while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
		;
	t->status = si;
	t->reaped = true;
	t->give_up_at = mono_now_ms() + STDERR_GIVE_UP_MS;
	pthread_mutex_unlock(&t->mu);
	return true;
}

static void signal_group(struct tool *t, int sig)
{
	pthread_mutex_lock(&t->mu);
	if (t->pid > 0 && !t->reaped)
		(void)kill(-t->pid, sig);
	pthread_mutex_unlock(&t->mu);
}

static void join_stderr(struct tool *t)
{
	if (t->thread_started) {
		pthread_join(t->thread, NULL);
		t->thread_started = false;
	}
}

static void close_input(struct tool *t)
{
	if (t->in_fd >= 0)
		close(t->in_fd);
	t->in_fd = -1;
}

/* The tool ended: what its status says, as the chain's error. WHEN says
 * what we were doing ("stopped reading its input"). */
static int tool_failed(struct tool *t, const char *when)
{
	char status[128], msg[sizeof(t->failed_msg)];

	reap(t, 0);
	join_stderr(t);
	if (atomic_load(&t->cancelled))
		return agent_fail(t->base.err, AGENT_ECANCEL, "%s was stopped",
				  t->name);
	runner_status_text(status, sizeof(status), &t->status);
	if (t->last_stderr[0] != '\0')
		snprintf(msg, sizeof(msg), "%s %s%s (last message: %s)",
			 t->name, when, status, t->last_stderr);
	else
		snprintf(msg, sizeof(msg), "%s %s%s", t->name, when, status);
	redact(msg, sizeof(msg));
	if (t->drain) {
		/* The input may be what made it fail: let the stages before
		 * finish their checks; commit reports this if they pass. */
		t->failed = AGENT_EIO;
		memcpy(t->failed_msg, msg, sizeof(msg));
		log_event(LOG_WARN, msg, "then",
			  "reading the rest of the backup to check it", NULL);
		return AGENT_OK;
	}
	return agent_fail(t->base.err, AGENT_EIO, "%s", msg);
}

/* The tool closed its input: done (pg_restore stops reading a tar archive
 * once it has every table), or failed. */
static int stopped_reading(struct tool *t)
{
	reap(t, 0);
	if (!atomic_load(&t->cancelled) && t->status.si_code == CLD_EXITED &&
	    t->status.si_status == 0) {
		t->done = true;
		log_event(LOG_DEBUG,
			  "the tool ended before the end of its input", "tool",
			  t->name, NULL);
		return AGENT_OK;
	}
	return tool_failed(t, "stopped reading its input: it ");
}

static int send_all(struct tool *t, const unsigned char *p, size_t len)
{
	while (len > 0 && t->failed == AGENT_OK && !t->done) {
		ssize_t n = write(t->in_fd, p, len);

		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE)
			return stopped_reading(t);
		return agent_fail(t->base.err, AGENT_EIO,
				  "cannot write to %s: %s", t->name,
				  strerror(errno));
	}
	return AGENT_OK;
}

/* ---- the stream ---- */

static int tool_write(struct stream *s, const void *data, size_t len)
{
	struct tool *t = (struct tool *)s;
	const unsigned char *p = data;
	size_t excess;
	int rc;

	if (t->aborted || t->in_fd < 0)
		return agent_fail(s->err, AGENT_EIO, "%s: write after stop",
				  t->name);
	/* Everything but the last HOLD bytes of held + data goes out. */
	if (len >= t->hold) {
		rc = send_all(t, t->held, t->held_len);
		if (rc == AGENT_OK)
			rc = send_all(t, p, len - t->hold);
		if (rc != AGENT_OK)
			return rc;
		if (t->hold > 0)
			memcpy(t->held, p + len - t->hold, t->hold);
		t->held_len = t->hold;
		return AGENT_OK;
	}
	excess = t->held_len + len > t->hold ? t->held_len + len - t->hold : 0;
	if (excess > 0) {
		rc = send_all(t, t->held, excess);
		if (rc != AGENT_OK)
			return rc;
		memmove(t->held, t->held + excess, t->held_len - excess);
		t->held_len -= excess;
	}
	memcpy(t->held + t->held_len, p, len);
	t->held_len += len;
	return AGENT_OK;
}

static int tool_finish(struct stream *s)
{
	(void)s;
	return AGENT_OK;
}

void stage_tool_abort(struct stream *s)
{
	struct tool *t = (struct tool *)s;

	if (t == NULL || t->committed || t->aborted)
		return;
	t->aborted = true;
	if (t->pid > 0 && !t->reaped) {
		signal_group(t, SIGTERM);
		if (!reap(t, mono_now_ms() + t->grace_ms)) {
			signal_group(t, SIGKILL);
			reap(t, 0);
		}
	}
	/* Only now: the tool is gone and cannot take EOF for the end. */
	close_input(t);
	join_stderr(t);
}

void stage_tool_cancel(struct stream *s)
{
	int saved = errno;

	if (s != NULL) {
		atomic_store(&((struct tool *)s)->cancelled, true);
		signal_group((struct tool *)s, SIGTERM);
	}
	errno = saved;
}

int stage_tool_commit(struct stream *s)
{
	struct tool *t = (struct tool *)s;
	int rc;

	if (t->failed != AGENT_OK)
		return agent_fail(s->err, t->failed, "%s", t->failed_msg);
	if (!s->finished || t->aborted || t->committed || t->in_fd < 0)
		return agent_fail(s->err, AGENT_EIO, "%s: commit out of order",
				  t->name);
	/* Every check has passed: nothing is left to read on for, and a
	 * tool that fails from here on fails the restore. */
	t->drain = false;
	rc = send_all(t, t->held, t->held_len);
	if (rc == AGENT_OK && t->epilogue != NULL)
		rc = send_all(t, (const unsigned char *)t->epilogue,
			      strlen(t->epilogue));
	if (rc != AGENT_OK)
		return rc;
	t->held_len = 0;
	close_input(t);
	t->committed = true;
	reap(t, 0);
	join_stderr(t);
	if (t->status.si_code != CLD_EXITED || t->status.si_status != 0)
		return tool_failed(t, "");
	return AGENT_OK;
}

static void tool_free(struct stream *s)
{
	struct tool *t = (struct tool *)s;

	stage_tool_abort(s);
	close_input(t);
	if (t->pid > 0)
		reap(t, 0);
	join_stderr(t);
	if (t->err_fd >= 0)
		close(t->err_fd);
	pthread_mutex_destroy(&t->mu);
	free(t->held);
	wipe_free_str(t->epilogue);
	free(t);
}

static const struct stream_ops tool_ops = {
	.name = "tool",
	.write = tool_write,
	.finish = tool_finish,
	.free = tool_free,
};

int stage_tool_new(struct stream **out, struct agent_error *err,
		   const struct tool_options *o)
{
	int inp[2] = {-1, -1}, errp[2] = {-1, -1}, rc;
	struct tool *t;

	*out = NULL;
	/* A tool that dies makes our next write fail with EPIPE: an error
	 * to report, not a signal to die of. The tools get the default. */
	(void)signal(SIGPIPE, SIG_IGN);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	t->base.ops = &tool_ops;
	atomic_init(&t->cancelled, false);
	t->base.err = err;
	t->in_fd = t->err_fd = -1;
	t->hold = o->hold;
	t->grace_ms = o->kill_grace_ms;
	t->drain = o->drain;
	snprintf(t->name, sizeof(t->name), "%s", o->name);
	if (pthread_mutex_init(&t->mu, NULL) != 0) {
		free(t);
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	}
	if ((t->hold > 0 && (t->held = malloc(t->hold)) == NULL) ||
	    (o->epilogue != NULL &&
	     (t->epilogue = strdup(o->epilogue)) == NULL)) {
		rc = agent_fail(err, AGENT_ENOMEM, "out of memory");
		goto fail;
	}
	if (pipe2(inp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		rc = agent_fail(err, AGENT_EIO, "cannot run %s: pipe: %s",
				t->name, strerror(errno));
		goto fail;
	}
	rc = runner_spawn_io(&t->pid, o->argv, o->env, inp[0], o->out_fd,
			     errp[1], t->name, err);
	if (rc != AGENT_OK)
		goto fail;
	close(inp[0]);
	close(errp[1]);
	inp[0] = errp[1] = -1;
	t->in_fd = inp[1];
	t->err_fd = errp[0];
	if (pthread_create(&t->thread, NULL, stderr_main, t) != 0) {
		rc = agent_fail(err, AGENT_ENOMEM,
				"cannot start a thread for %s", t->name);
		goto fail;
	}
	t->thread_started = true;
	/* Into an empty pipe: a short prologue never blocks. */
	if (o->prologue != NULL) {
		rc = send_all(t, (const unsigned char *)o->prologue,
			      strlen(o->prologue));
		if (rc != AGENT_OK)
			goto fail;
	}
	*out = &t->base;
	return AGENT_OK;
fail:
	for (int i = 0; i < 2; i++) {
		if (inp[i] >= 0 && inp[i] != t->in_fd)
			close(inp[i]);
		if (errp[i] >= 0 && errp[i] != t->err_fd)
			close(errp[i]);
	}
	tool_free(&t->base);
	return rc;
}
