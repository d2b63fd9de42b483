/*
 * The processes behind sources and targets: argv and environment
 * building, spawning without a shell, `TOOL --version`, and what a status
 * means.
 */
#include "agent/proc/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/redact.h"
#include "common/wipe.h"

extern char **environ;

/* How long `TOOL --version` may take. */
#define VERSION_TIMEOUT_MS 10000
/* Longest `TOOL --version` output read. */
#define RUNNER_VERSION_MAX 512

/* ---- argv ---- */

/* A's text, set up on first use: {0} is an empty argv. */
static struct buf *argv_text(struct runner_argv *a)
{
	if (a->text.max == 0)
		buf_init(&a->text, RUNNER_ARGV_MAX, true);
	return &a->text;
}

void runner_argv_add(struct runner_argv *a, const char *s)
{
	if (buf_add(argv_text(a), s, strlen(s) + 1) == BUF_OK)
		a->n++;
}

void runner_argv_addf(struct runner_argv *a, const char *fmt, ...)
{
	struct buf *t = argv_text(a);
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(t, fmt, ap);
	va_end(ap);
	if (buf_add(t, "", 1) == BUF_OK) /* the string's NUL */
		a->n++;
}

void runner_argv_addv(struct runner_argv *a, char *const *list)
{
	for (; list != NULL && *list != NULL; list++)
		runner_argv_add(a, *list);
}

int runner_argv_check(struct runner_argv *a, struct agent_error *err)
{
	char *p;

	free(a->v);
	a->v = NULL;
	if (argv_text(a)->err == BUF_OK)
		a->v = malloc((a->n + 1) * sizeof(*a->v));
	if (a->v == NULL)
		return agent_fail(err, AGENT_ENOMEM,
				  "out of memory building the dump tool's "
				  "arguments");
	p = a->text.data;
	for (size_t i = 0; i < a->n; i++) {
		a->v[i] = p;
		p += strlen(p) + 1;
	}
	a->v[a->n] = NULL;
	return AGENT_OK;
}

void runner_argv_free(struct runner_argv *a)
{
	buf_dispose(&a->text);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* ---- environment ---- */

/* S is "NAME=..." */
static bool env_is(const char *s, const char *name)
{
	size_t n = strlen(name);

	return strncmp(s, name, n) == 0 && s[n] == '=';
}

/* Offsite's own secrets, which no dump tool needs. */
static const char *const env_secrets[] = {
	"AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN",
};

int runner_env_build(struct runner_argv *env, struct agent_error *err)
{
	for (char **e = environ; e != NULL && *e != NULL; e++) {
		bool secret = false;

		for (size_t i = 0;
		     i < sizeof(env_secrets) / sizeof(*env_secrets); i++)
			secret = secret || env_is(*e, env_secrets[i]);
		if (!secret)
			runner_argv_add(env, *e);
	}
	return runner_argv_check(env, err);
}

void runner_env_set(struct runner_argv *env, const char *name,
		    const char *value)
{
	struct buf *t = &env->text;
	char *p = t->data, *end = t->data + t->len, *d = t->data;

	/* Drop NAME=... where it is, closing the gap. */
	while (p != NULL && p < end) {
		size_t len = strlen(p) + 1;

		if (env_is(p, name)) {
			env->n--;
		} else {
			memmove(d, p, len);
			d += len;
		}
		p += len;
	}
	if (t->data != NULL) {
		wipe(d, (size_t)(end - d));
		t->len = (size_t)(d - t->data);
	}
	runner_argv_addf(env, "%s=%s", name, value);
}

/* ---- processes ---- */

int runner_spawn(pid_t *pid, char *const *argv, char *const *env, int out,
		 int err_fd, const char *tool, struct agent_error *err)
{
	return runner_spawn_io(pid, argv, env, -1, out, err_fd, tool, err);
}

int runner_spawn_io(pid_t *pid, char *const *argv, char *const *env, int in,
		    int out, int err_fd, const char *tool,
		    struct agent_error *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int rc;

	*pid = 0;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	if (posix_spawnattr_init(&at) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	}
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	/* Our descriptors are close-on-exec; closefrom catches the ones a
	 * library opened without it. */
	if (in >= 0)
		rc = posix_spawn_file_actions_adddup2(&fa, in, 0);
	else
		rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
						      O_RDONLY, 0);
	if (rc == 0 && out >= 0)
		rc = posix_spawn_file_actions_adddup2(&fa, out, 1);
	else if (rc == 0)
		rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
						      O_WRONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	/* Its own process group: a terminal's ^C reaches us, not the tool,
	 * and a stop signals everything the tool started. The mask may have
	 * SIGTERM blocked for a signal-handling thread; SIGPIPE may be
	 * ignored for libcurl: the tool gets neither. */
	if (rc == 0)
		rc = posix_spawnattr_setpgroup(&at, 0);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&at, &all);
	if (rc == 0)
		rc = posix_spawnattr_setflags(
			&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				     POSIX_SPAWN_SETSIGDEF);
	if (rc == 0)
		rc = posix_spawnp(pid, argv[0], &fa, &at, argv, env);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		*pid = 0;
		return agent_fail(err, AGENT_EIO, "cannot run %s: %s%s", tool,
				  strerror(rc),
				  rc == ENOENT ? " (is it installed and in "
						 "PATH?)"
					       : "");
	}
	return AGENT_OK;
}

void runner_status_text(char *buf, size_t size, const siginfo_t *si)
{
	const char *abbrev;

	switch (si->si_code) {
	case CLD_EXITED:
		snprintf(buf, size, "exited with status %d", si->si_status);
		break;
	case CLD_KILLED:
	case CLD_DUMPED:
		abbrev = sigabbrev_np(si->si_status);
		snprintf(buf, size, "was killed by signal %d (%s)",
			 si->si_status, abbrev ? abbrev : "?");
		break;
	default:
		snprintf(buf, size,
			 "ended with an unknown status (is SIGCHLD ignored?)");
		break;
	}
}

static bool status_ok(const siginfo_t *si)
{
	return si->si_code == CLD_EXITED && si->si_status == 0;
}

/* First line of BUF, blanks collapsed, in a new string. */
static char *first_line(const char *buf, size_t len)
{
	char *out = malloc(len + 1);
	size_t n = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len && buf[i] != '\n' && buf[i] != '\r'; i++) {
		char ch = buf[i];

		if (ch == ' ' || ch == '\t') {
			if (n > 0 && out[n - 1] != ' ')
				out[n++] = ' ';
		} else if ((unsigned char)ch >= 0x20) {
			out[n++] = ch;
		}
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return out;
}

/* Output of a short run: the first bytes of one descriptor. */
struct capture_fd {
	int fd;
	char buf[RUNNER_VERSION_MAX];
	size_t len;
};

/* Read what is there; false at the end (or an error). */
static bool capture_read(struct capture_fd *c)
{
	char scratch[256];
	ssize_t n;

	/* Keep the first bytes; read and drop the rest. */
	if (c->len < sizeof(c->buf))
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	else
		n = read(c->fd, scratch, sizeof(scratch));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (c->len < sizeof(c->buf))
		c->len += (size_t)n;
	return true;
}

/*
 * Run ARGV to its end within VERSION_TIMEOUT_MS; its output in OUT. With
 * MERGE, stderr is part of the output; else it goes to ERRS, for the
 * message when the run fails.
 */
static int capture(char **out, char *const *argv, char *const *env,
		   const char *tool, const char *what, bool merge,
		   struct agent_error *err)
{
	struct capture_fd cap[2] = {{.fd = -1}, {.fd = -1}};
	char status[128], *msg = NULL;
	int p[2] = {-1, -1}, e[2] = {-1, -1}, rc, wst = 0;
	int64_t deadline = mono_now_ms() + VERSION_TIMEOUT_MS;
	pid_t pid = 0;
	siginfo_t si;

	*out = NULL;
	if (pipe2(p, O_CLOEXEC) != 0 || (!merge && pipe2(e, O_CLOEXEC) != 0)) {
		rc = agent_fail(err, AGENT_EIO, "cannot run %s: pipe: %s", tool,
				strerror(errno));
		goto out;
	}
	rc = runner_spawn(&pid, argv, env, p[1], merge ? p[1] : e[1], tool,
			  err);
	close(p[1]);
	p[1] = -1;
	if (!merge) {
		close(e[1]);
		e[1] = -1;
	}
	if (rc != AGENT_OK)
		goto out;
	cap[0].fd = p[0];
	cap[1].fd = e[0];
	while (cap[0].fd >= 0 || cap[1].fd >= 0) {
		struct pollfd pfd[2];
		int64_t left = deadline - mono_now_ms();

		if (left <= 0) {
			(void)kill(-pid, SIGKILL);
			rc = agent_fail(err, AGENT_EIO,
					"%s %s did not answer within %d s",
					tool, what, VERSION_TIMEOUT_MS / 1000);
			break;
		}
		for (int i = 0; i < 2; i++)
			pfd[i] = (struct pollfd){cap[i].fd, POLLIN, 0};
		if (poll(pfd, 2, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			rc = agent_fail(err, AGENT_EIO, "cannot run %s: %s",
					tool, strerror(errno));
			(void)kill(-pid, SIGKILL);
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (cap[i].fd >= 0 && pfd[i].revents != 0 &&
			    !capture_read(&cap[i]))
				cap[i].fd = -1; /* closed below */
		}
	}
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	if (rc != AGENT_OK)
		goto out;
	memset(&si, 0, sizeof(si));
	if (WIFEXITED(wst)) {
		si.si_code = CLD_EXITED;
		si.si_status = WEXITSTATUS(wst);
	} else if (WIFSIGNALED(wst)) {
		si.si_code = CLD_KILLED;
		si.si_status = WTERMSIG(wst);
	}
	if (!status_ok(&si)) {
		char why[RUNNER_VERSION_MAX + 8] = "";

		runner_status_text(status, sizeof(status), &si);
		msg = first_line(merge ? cap[0].buf : cap[1].buf,
				 merge ? cap[0].len : cap[1].len);
		if (msg != NULL && *msg != '\0') {
			snprintf(why, sizeof(why), ": %s", msg);
			redact(why, sizeof(why));
		}
		rc = agent_fail(err, AGENT_EIO, "%s %s %s%s", tool, what,
				status, why);
		goto out;
	}
	*out = first_line(cap[0].buf, cap[0].len);
	if (*out == NULL)
		rc = agent_fail(err, AGENT_ENOMEM, "out of memory");
	else if (**out == '\0')
		rc = agent_fail(err, AGENT_EIO, "%s %s printed nothing", tool,
				what);
	if (rc != AGENT_OK) {
		free(*out);
		*out = NULL;
	}
out:
	free(msg);
	for (int i = 0; i < 2; i++) {
		if (p[i] >= 0)
			close(p[i]);
		if (e[i] >= 0)
			close(e[i]);
	}
	return rc;
}

int runner_capture_version(char **out, char *const *argv, char *const *env,
			   const char *tool, struct agent_error *err)
{
	return capture(out, argv, env, tool, "--version", true, err);
}

int runner_capture_line(char **out, char *const *argv, char *const *env,
			const char *tool, const char *what,
			struct agent_error *err)
{
	return capture(out, argv, env, tool, what, false, err);
}
