/*
 * The source: open (per driver), the reader thread, the pump, cancel and
 * close.
 *
 * The reader thread polls the tool's stdout, its stderr and a wake pipe.
 * It reads stdout into the free slots of a small ring of buffers and
 * hands them to the pump, which writes them into the chain on the
 * caller's thread: reading never waits for compression, and compression
 * never waits for a read (DESIGN: performance notes). The reader is also
 * where stderr lines are logged and where the timeout, a cancel or a
 * failed chain stops the tool.
 */
#include "agent/proc/source_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/ops/log.h"
#include "common/clock.h"
#include "common/redact.h"

/* The pipe from the tool: 64 KiB by default stalls pg_dump. */
#define PIPE_SIZE (1024 * 1024)
/* After SIGKILL, how long to wait for the pipes to close before giving
 * up on them: a process that left the group may still hold them. */
#define GIVE_UP_MS 2000

static struct source *source_new(void)
{
	struct source *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->out_fd = s->err_fd = s->wake[0] = s->wake[1] = -1;
	atomic_init(&s->cancelled, false);
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s);
		return NULL;
	}
	if (pthread_cond_init(&s->cv, NULL) != 0) {
		pthread_mutex_destroy(&s->mu);
		free(s);
		return NULL;
	}
	s->sync_init = true;
	return s;
}

/* ---- drivers without a database ---- */

static int command_prepare(struct source *s, const conf *c,
			   struct agent_error *err)
{
	char *const *cmd = c->database.command;
	const char *base;
	int rc;

	if (cmd == NULL || cmd[0] == NULL || cmd[0][0] == '\0')
		return agent_fail(err, AGENT_EIO,
				  "driver = command needs a command in "
				  "[database]");
	if (c->database.tables != NULL || c->database.dump_options != NULL)
		log_event(LOG_WARN,
			  "tables and dump_options in [database] are "
			  "ignored by driver = command",
			  NULL);
	runner_argv_addv(&s->argv, cmd);
	rc = runner_argv_check(&s->argv, err);
	if (rc == AGENT_OK)
		rc = runner_env_build(&s->env, err);
	if (rc != AGENT_OK)
		return rc;
	base = strrchr(cmd[0], '/');
	snprintf(s->tool, sizeof(s->tool), "%s", base ? base + 1 : cmd[0]);
	s->version = strdup(s->tool);
	if (s->version == NULL)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	s->format = "raw";
	s->allow_empty = true;
	return AGENT_OK;
}

static int stdin_prepare(struct source *s, const struct source_options *o,
			 struct agent_error *err)
{
	if (fcntl(o->stdin_fd, F_GETFL) < 0)
		return agent_fail(err, AGENT_EIO,
				  "cannot read standard input: %s",
				  strerror(errno));
	if (isatty(o->stdin_fd))
		return agent_fail(err, AGENT_EIO,
				  "standard input is a terminal: pipe the "
				  "dump in (e.g. pg_dumpall | offsite backup "
				  "--stdin)");
	(void)fcntl(o->stdin_fd, F_SETPIPE_SZ, PIPE_SIZE);
	s->out_fd = o->stdin_fd;
	s->own_out = false;
	snprintf(s->tool, sizeof(s->tool), "stdin");
	s->version = strdup("stdin");
	if (s->version == NULL)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	s->format = "raw";
	s->allow_empty = true;
	return AGENT_OK;
}

/* ---- open ---- */

static void log_argv(const struct source *s)
{
	char line[2048];
	size_t used = 0;

	if (log_get_level() < LOG_DEBUG)
		return;
	line[0] = '\0';
	for (size_t i = 0; i < s->argv.n && used < sizeof(line); i++) {
		int w = snprintf(line + used, sizeof(line) - used, "%s%s",
				 i ? " " : "", s->argv.v[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	log_event(LOG_DEBUG, "dump command", "argv", line, NULL);
}

static int start_tool(struct source *s, struct agent_error *err)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, rc;
	char pid[32];

	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		rc = agent_fail(err, AGENT_EIO, "cannot run %s: pipe: %s",
				s->tool, strerror(errno));
		goto fail;
	}
	/* Ignore failure: a smaller pipe is slower, not wrong. */
	(void)fcntl(outp[0], F_SETPIPE_SZ, PIPE_SIZE);
	log_argv(s);
	rc = runner_spawn(&s->pid, s->argv.v, s->env.v, outp[1], errp[1],
			  s->tool, err);
	if (rc != AGENT_OK)
		goto fail;
	close(outp[1]);
	close(errp[1]);
	s->out_fd = outp[0];
	s->own_out = true;
	s->err_fd = errp[0];
	s->started_ms = mono_now_ms();
	snprintf(pid, sizeof(pid), "%ld", (long)s->pid);
	log_event(LOG_INFO, "dump started", "tool", s->version, "pid", pid,
		  "database", s->name, NULL);
	return AGENT_OK;
fail:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return rc;
}

int source_open(struct source **out, const conf *c,
		const struct source_options *o, struct agent_error *err)
{
	struct source_options defaults = SOURCE_OPTIONS_INIT;
	struct source *s;
	int rc;

	*out = NULL;
	if (o == NULL)
		o = &defaults;
	s = source_new();
	if (s == NULL)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	s->driver = o->use_stdin ? CONF_DRIVER_STDIN : c->database.driver;
	s->grace_ms = o->kill_grace_ms;
	s->timeout_ms = c->database.timeout * 1000;
	snprintf(s->name, sizeof(s->name), "%s",
		 o->database		    ? o->database
		 : c->database.name != NULL ? c->database.name
					    : "");
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = agent_fail(err, AGENT_EIO, "pipe: %s", strerror(errno));
		goto out;
	}
	switch (s->driver) {
	case CONF_DRIVER_POSTGRES:
		rc = source_pg_prepare(s, c, o, err);
		break;
	case CONF_DRIVER_MYSQL:
		rc = source_mysql_prepare(s, c, o, err);
		break;
	case CONF_DRIVER_COMMAND:
		rc = command_prepare(s, c, err);
		break;
	case CONF_DRIVER_STDIN:
		rc = stdin_prepare(s, o, err);
		break;
	default:
		rc = agent_fail(err, AGENT_EIO, "unknown database driver %d",
				(int)s->driver);
		break;
	}
	if (rc != AGENT_OK)
		goto out;
	if (s->driver == CONF_DRIVER_STDIN)
		s->started_ms = mono_now_ms();
	else
		rc = start_tool(s, err);
	if (rc != AGENT_OK)
		goto out;
	*out = s;
	s = NULL;
out:
	source_close(s);
	return rc;
}

/* ---- the child ---- */

/* True once the child has exited (its status is then in S->status). Does
 * not reap. */
static bool source_child_exited(struct source *s)
{
	siginfo_t si;

	if (s->exited || s->pid <= 0)
		return true;
	memset(&si, 0, sizeof(si));
	/* WNOWAIT: the zombie keeps the PID, and so the process group ID,
	 * from being reused until source_close() reaps it, so a late
	 * source_cancel() cannot signal a stranger. */
	if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    0) {
		if (si.si_pid != s->pid)
			return false;
		s->status = si;
	} else if (errno == EINTR) {
		return false;
	} else {
		/* ECHILD: reaped by someone else (SIGCHLD ignored). */
		memset(&s->status, 0, sizeof(s->status));
	}
	s->exited = true;
	return true;
}

/* Signal the child's process group, unless it was reaped. */
static void source_signal(const struct source *s, int sig)
{
	if (s->pid > 0)
		(void)kill(-s->pid, sig);
}

/* ---- the reader thread ---- */

struct reader {
	int64_t deadline; /* the timeout; 0: none */
	int64_t term_at;  /* SIGTERM sent; 0: not yet */
	int64_t kill_at;  /* SIGKILL sent; 0: not yet */
};

static void close_output(struct source *s)
{
	if (s->out_fd >= 0 && s->own_out)
		close(s->out_fd);
	s->out_fd = -1;
}

/* Stop reading output (the tool gets SIGPIPE if it writes more) and
 * send SIGTERM; SIGKILL follows after the grace. */
static void reader_stop(struct source *s, struct reader *r, int why,
			int64_t now)
{
	if (s->why_stopped == SOURCE_RUNNING)
		s->why_stopped = why;
	close_output(s);
	if (s->pid > 0 && r->term_at == 0) {
		source_signal(s, SIGTERM);
		r->term_at = now;
	}
}

static void log_stderr_line(struct source *s)
{
	char msg[RUNNER_LINE_MAX + 128];
	size_t n = s->stderr_len;

	while (n > 0 && s->stderr_line[n - 1] == '\r')
		n--;
	s->stderr_line[n] = '\0';
	s->stderr_len = 0;
	if (n == 0)
		return;
	snprintf(s->last_stderr, sizeof(s->last_stderr), "%.*s",
		 (int)sizeof(s->last_stderr) - 1, s->stderr_line);
	if (s->stderr_lines < RUNNER_LINES_MAX) {
		snprintf(msg, sizeof(msg), "%s stderr: %s%s", s->tool,
			 s->stderr_line, s->stderr_skip ? "..." : "");
		log_event(LOG_WARN, msg, NULL);
	} else if (s->stderr_lines == RUNNER_LINES_MAX) {
		snprintf(msg, sizeof(msg),
			 "%s stderr: more than %d lines, the rest is not "
			 "logged",
			 s->tool, RUNNER_LINES_MAX);
		log_event(LOG_WARN, msg, NULL);
	}
	s->stderr_lines++;
}

static void read_stderr(struct source *s)
{
	char buf[4096];
	ssize_t n = read(s->err_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(s->err_fd);
		s->err_fd = -1;
		if (s->stderr_len > 0)
			log_stderr_line(s);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (!s->stderr_skip || s->stderr_len > 0)
				log_stderr_line(s);
			s->stderr_skip = false;
			s->stderr_len = 0;
		} else if (s->stderr_skip) {
			continue;
		} else if (s->stderr_len + 1 < RUNNER_LINE_MAX) {
			s->stderr_line[s->stderr_len++] = buf[i];
		} else {
			/* Too long: log what we have, drop the rest. */
			s->stderr_skip = true;
			log_stderr_line(s);
		}
	}
}

static void read_output(struct source *s, struct reader *r, unsigned slot)
{
	ssize_t n = read(s->out_fd, s->buf[slot], SOURCE_CHUNK);

	if (n > 0) {
		pthread_mutex_lock(&s->mu);
		s->len[slot] = (size_t)n;
		s->wr = (s->wr + 1) % SOURCE_QUEUE_LEN;
		s->count++;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
	} else if (n == 0) {
		close_output(s);
	} else if (errno != EINTR && errno != EAGAIN) {
		agent_fail(&s->rerr, AGENT_EIO,
			   "cannot read the output of %s: %s", s->tool,
			   strerror(errno));
		reader_stop(s, r, SOURCE_STOP_ERROR, mono_now_ms());
	}
}

static int64_t earlier(int64_t a, int64_t b)
{
	return a < 0 || b < a ? b : a;
}

static void *reader_main(void *arg)
{
	struct source *s = arg;
	struct reader r = {0};

	if (s->timeout_ms > 0)
		r.deadline = s->started_ms + (int64_t)s->timeout_ms;
	for (;;) {
		int64_t now = mono_now_ms(), next = -1;
		struct pollfd pfd[3];
		int slot = -1, iout = -1, ierr = -1, timeout;
		nfds_t n = 0;
		bool stop;

		if (s->why_stopped == SOURCE_RUNNING) {
			pthread_mutex_lock(&s->mu);
			stop = s->stop;
			pthread_mutex_unlock(&s->mu);
			if (atomic_load(&s->cancelled))
				reader_stop(s, &r, SOURCE_STOP_CANCEL, now);
			else if (stop)
				reader_stop(s, &r, SOURCE_STOP_PUMP, now);
			else if (r.deadline > 0 && now >= r.deadline)
				reader_stop(s, &r, SOURCE_STOP_TIMEOUT, now);
		}
		if (r.term_at > 0 && r.kill_at == 0 &&
		    now >= r.term_at + s->grace_ms) {
			source_signal(s, SIGKILL);
			r.kill_at = now;
		}
		if (r.kill_at > 0 && now >= r.kill_at + GIVE_UP_MS)
			break;
		if (s->out_fd < 0 && s->err_fd < 0 && source_child_exited(s))
			break;

		if (s->why_stopped == SOURCE_RUNNING && r.deadline > 0)
			next = earlier(next, r.deadline);
		if (r.term_at > 0 && r.kill_at == 0)
			next = earlier(next, r.term_at + s->grace_ms);
		if (r.kill_at > 0)
			next = earlier(next, r.kill_at + GIVE_UP_MS);
		/* Both pipes closed: the exit is near; look every 10 ms. */
		if (s->out_fd < 0 && s->err_fd < 0)
			next = earlier(next, now + 10);

		if (s->out_fd >= 0) {
			pthread_mutex_lock(&s->mu);
			if (s->count < SOURCE_QUEUE_LEN)
				slot = (int)s->wr;
			else
				s->reader_waiting = true;
			pthread_mutex_unlock(&s->mu);
			if (slot >= 0) {
				iout = (int)n;
				pfd[n++] =
					(struct pollfd){s->out_fd, POLLIN, 0};
			}
		}
		if (s->err_fd >= 0) {
			ierr = (int)n;
			pfd[n++] = (struct pollfd){s->err_fd, POLLIN, 0};
		}
		pfd[n++] = (struct pollfd){s->wake[0], POLLIN, 0};
		timeout = next < 0		   ? -1
			  : next - now > INT32_MAX ? INT32_MAX
			  : next > now		   ? (int)(next - now)
						   : 0;
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			agent_fail(&s->rerr, AGENT_EIO, "poll: %s",
				   strerror(errno));
			reader_stop(s, &r, SOURCE_STOP_ERROR, now);
			/* Nothing more can be read: end after the kill. */
			if (s->err_fd >= 0) {
				close(s->err_fd);
				s->err_fd = -1;
			}
			continue;
		}
		if (pfd[n - 1].revents != 0) {
			char drain[64];
			while (read(s->wake[0], drain, sizeof(drain)) > 0)
				;
		}
		if (ierr >= 0 && pfd[ierr].revents != 0)
			read_stderr(s);
		if (iout >= 0 && pfd[iout].revents != 0 && s->out_fd >= 0)
			read_output(s, &r, (unsigned)slot);
	}
	close_output(s);
	if (s->err_fd >= 0) {
		close(s->err_fd);
		s->err_fd = -1;
	}
	if (s->stderr_len > 0)
		log_stderr_line(s);
	pthread_mutex_lock(&s->mu);
	s->done = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- the pump ---- */

static void wake_reader(struct source *s)
{
	/* Non-blocking: a full pipe already holds a wake-up. */
	(void)!write(s->wake[1], "w", 1);
}

static void request_stop(struct source *s)
{
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_mutex_unlock(&s->mu);
	wake_reader(s);
}

/* Count bytes and keep the tail for the end-of-dump check. */
static void account(struct source *s, const char *data, size_t len)
{
	s->bytes += len;
	if (len >= SOURCE_TAIL) {
		memcpy(s->tail, data + len - SOURCE_TAIL, SOURCE_TAIL);
		s->tail_len = SOURCE_TAIL;
		return;
	}
	if (s->tail_len + len > SOURCE_TAIL) {
		size_t keep = SOURCE_TAIL - len;
		memmove(s->tail, s->tail + s->tail_len - keep, keep);
		s->tail_len = keep;
	}
	memcpy(s->tail + s->tail_len, data, len);
	s->tail_len += len;
}

/* What the run amounts to, once the reader has finished. */
static int pump_result(struct source *s, int rc, struct agent_error *err)
{
	char status[128], msg[sizeof(err->msg)], bytes[32], secs[32];

	if (rc != AGENT_OK && rc != AGENT_ECANCEL)
		return rc; /* the chain's error, set by its stage */
	if (rc == AGENT_ECANCEL || s->why_stopped == SOURCE_STOP_CANCEL)
		return agent_fail(err, AGENT_ECANCEL, "%s was cancelled",
				  s->tool);
	if (s->why_stopped == SOURCE_STOP_TIMEOUT)
		return agent_fail(err, AGENT_ELIMIT, "%s timed out after %s",
				  s->tool,
				  conf_format_duration(secs, sizeof(secs),
						       s->timeout_ms / 1000));
	if (s->why_stopped == SOURCE_STOP_ERROR)
		return agent_fail(err, s->rerr.code, "%s", s->rerr.msg);
	if (s->pid > 0 &&
	    (s->status.si_code != CLD_EXITED || s->status.si_status != 0)) {
		runner_status_text(status, sizeof(status), &s->status);
		if (s->last_stderr[0] != '\0')
			snprintf(msg, sizeof(msg), "%s %s (last message: %s)",
				 s->tool, status, s->last_stderr);
		else
			snprintf(msg, sizeof(msg), "%s %s", s->tool, status);
		redact(msg, sizeof(msg));
		return agent_fail(err, AGENT_EIO, "%s", msg);
	}
	if (s->check_marker && !source_pg_marker_seen(s->tail, s->tail_len))
		return agent_fail(err, AGENT_EIO,
				  "%s output ended without the end-of-dump "
				  "marker",
				  s->tool);
	if (s->bytes == 0 && !s->allow_empty)
		return agent_fail(err, AGENT_EIO, "%s produced no output",
				  s->tool);
	snprintf(bytes, sizeof(bytes), "%" PRIu64, s->bytes);
	if (s->bytes == 0)
		log_event(LOG_WARN, "the dump is empty", "tool", s->tool, NULL);
	log_event(LOG_INFO, "dump finished", "tool", s->tool, "bytes", bytes,
		  NULL);
	return AGENT_OK;
}

int source_pump(struct source *s, struct stream *head, struct agent_error *err)
{
	pthread_t tid;
	int rc = AGENT_OK;

	if (s->pumped)
		return agent_fail(err, AGENT_EIO, "source: pumped twice");
	s->pumped = true;
	for (unsigned i = 0; i < SOURCE_QUEUE_LEN; i++) {
		s->buf[i] = malloc(SOURCE_CHUNK);
		if (s->buf[i] == NULL)
			return agent_fail(err, AGENT_ENOMEM, "out of memory");
	}
	if (pthread_create(&tid, NULL, reader_main, s) != 0)
		return agent_fail(err, AGENT_ENOMEM,
				  "cannot start the reader thread");
	for (;;) {
		unsigned slot;
		bool wake;

		pthread_mutex_lock(&s->mu);
		while (s->count == 0 && !s->done)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->count == 0) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		slot = s->rd;
		pthread_mutex_unlock(&s->mu);

		/* After a failure, drain what is queued: the reader never
		 * waits on a pump that stopped taking. */
		if (rc == AGENT_OK && atomic_load(&s->cancelled))
			rc = AGENT_ECANCEL;
		if (rc == AGENT_OK) {
			rc = stream_write(head, s->buf[slot], s->len[slot]);
			if (rc == AGENT_OK)
				account(s, s->buf[slot], s->len[slot]);
			else
				request_stop(s);
		}

		pthread_mutex_lock(&s->mu);
		s->rd = (s->rd + 1) % SOURCE_QUEUE_LEN;
		s->count--;
		wake = s->reader_waiting;
		s->reader_waiting = false;
		pthread_mutex_unlock(&s->mu);
		if (wake)
			wake_reader(s);
	}
	pthread_join(tid, NULL);
	return pump_result(s, rc, err);
}

/* ---- cancel, close, accessors ---- */

void source_cancel(struct source *s)
{
	int saved = errno;

	if (s == NULL)
		return;
	atomic_store(&s->cancelled, true);
	source_signal(s, SIGTERM);
	if (s->wake[1] >= 0)
		wake_reader(s);
	errno = saved;
}

/* Stop a tool that still runs: SIGTERM, SIGKILL after the grace. */
static void stop_child(struct source *s)
{
	int64_t deadline;

	if (source_child_exited(s))
		return;
	source_signal(s, SIGTERM);
	deadline = mono_now_ms() + s->grace_ms;
	while (!source_child_exited(s)) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		if (mono_now_ms() >= deadline) {
			source_signal(s, SIGKILL);
			break;
		}
		nanosleep(&ts, NULL);
	}
}

void source_close(struct source *s)
{
	if (s == NULL)
		return;
	/* A tool still writing gets SIGPIPE. */
	close_output(s);
	if (s->pid > 0) {
		stop_child(s);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
		s->pid = 0;
	}
	if (s->err_fd >= 0)
		close(s->err_fd);
	for (int i = 0; i < 2; i++) {
		if (s->wake[i] >= 0)
			close(s->wake[i]);
	}
	if (s->optfile != NULL) {
		(void)unlink(s->optfile);
		free(s->optfile);
	}
	for (unsigned i = 0; i < SOURCE_QUEUE_LEN; i++)
		free(s->buf[i]);
	if (s->sync_init) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
	}
	runner_argv_free(&s->argv);
	runner_argv_free(&s->env);
	free(s->version);
	free(s);
}

const char *source_tool_version(const struct source *s)
{
	return s->version != NULL ? s->version : s->tool;
}

const char *source_driver_name(const struct source *s)
{
	switch (s->driver) {
	case CONF_DRIVER_POSTGRES:
		return "postgres";
	case CONF_DRIVER_MYSQL:
		return "mysql";
	case CONF_DRIVER_COMMAND:
		return "command";
	case CONF_DRIVER_STDIN:
		return "stdin";
	}
	return "unknown";
}

const char *source_format(const struct source *s)
{
	return s->format != NULL ? s->format : "raw";
}

/* ---- checks without a dump ---- */

static bool executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* Where posix_spawnp() would find NAME: its path, in *out. */
static int find_program(char **out, const char *name, struct agent_error *err)
{
	const char *path = getenv("PATH"), *p;
	char full[PATH_MAX];

	*out = NULL;
	if (strchr(name, '/') != NULL) {
		if (!executable_file(name))
			return agent_fail(err, AGENT_EIO, "cannot run %s: %s",
					  name,
					  access(name, F_OK) != 0
						  ? "no such file"
						  : "not an executable file");
		*out = strdup(name);
	} else {
		/* glibc's default when PATH is unset. */
		if (path == NULL)
			path = "/bin:/usr/bin";
		for (p = path;; p += strcspn(p, ":") + 1) {
			int dirlen = (int)strcspn(p, ":");
			int n = snprintf(full, sizeof(full), "%.*s%s%s", dirlen,
					 p, dirlen > 0 ? "/" : "", name);

			if (n > 0 && (size_t)n < sizeof(full) &&
			    executable_file(full)) {
				*out = strdup(full);
				break;
			}
			if (p[dirlen] == '\0')
				return agent_fail(err, AGENT_EIO,
						  "cannot find %s in PATH (is "
						  "it installed?)",
						  name);
		}
	}
	if (*out == NULL)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	return AGENT_OK;
}

int source_check_tool(char **detail, const conf *c,
		      const struct source_options *o, struct agent_error *err)
{
	struct source_options defaults = SOURCE_OPTIONS_INIT;
	char *const *cmd = c->database.command;

	*detail = NULL;
	if (o == NULL)
		o = &defaults;
	switch (o->use_stdin ? CONF_DRIVER_STDIN : c->database.driver) {
	case CONF_DRIVER_POSTGRES:
		return source_pg_check_tool(detail, o, err);
	case CONF_DRIVER_MYSQL:
		return source_mysql_check_tool(detail, o, err);
	case CONF_DRIVER_COMMAND:
		if (cmd == NULL || cmd[0] == NULL || cmd[0][0] == '\0')
			return agent_fail(err, AGENT_EIO,
					  "driver = command needs a command "
					  "in [database]");
		return find_program(detail, cmd[0], err);
	case CONF_DRIVER_STDIN:
		return AGENT_OK;
	}
	return agent_fail(err, AGENT_EIO, "unknown database driver %d",
			  (int)c->database.driver);
}

int source_check_database(char **detail, const conf *c,
			  const char *tool_version, struct agent_error *err)
{
	*detail = NULL;
	switch (c->database.driver) {
	case CONF_DRIVER_POSTGRES:
		return source_pg_check_database(detail, c, tool_version, err);
	case CONF_DRIVER_MYSQL:
		return source_mysql_check_database(detail, c, err);
	case CONF_DRIVER_COMMAND:
	case CONF_DRIVER_STDIN:
		return AGENT_OK;
	}
	return agent_fail(err, AGENT_EIO, "unknown database driver %d",
			  (int)c->database.driver);
}
