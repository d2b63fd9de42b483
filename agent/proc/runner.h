/*
 * runner: the child processes of the agent, for the dump tools of the
 * sources (agent/proc/source.h) and the restore tools of the targets
 * (agent/proc/target.h). It builds argv and environments, spawns a tool
 * without a shell in a process group of its own, runs short commands
 * (`TOOL --version`) with a deadline, and says what a status means.
 */
#ifndef OFFSITE_AGENT_PROC_RUNNER_H
#define OFFSITE_AGENT_PROC_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/error.h"
#include "common/buf.h"

/* Longest stderr line of a tool logged whole, and most lines logged per
 * run. */
#define RUNNER_LINE_MAX	 1024
#define RUNNER_LINES_MAX 1000

/*
 * A NULL-terminated argv or envp under construction: the strings one
 * after the other in TEXT, each with its NUL; runner_argv_check() points
 * V at them. Capped, and wiped (an environment may hold a password).
 * The first failure (no memory, too big) sticks: the adds after it do
 * nothing, and runner_argv_check() reports it once. {0} is empty.
 */
#define RUNNER_ARGV_MAX (4u * 1024 * 1024)
struct runner_argv {
	struct buf text;
	size_t n; /* strings in TEXT */
	char **v; /* set by runner_argv_check() */
};

/* Append a copy of S, or of the printf result. */
void runner_argv_add(struct runner_argv *a, const char *s);
void runner_argv_addf(struct runner_argv *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append every string of a NULL-terminated LIST (NULL: none). */
void runner_argv_addv(struct runner_argv *a, char *const *list);
/* AGENT_ENOMEM if an add failed; else builds V and returns AGENT_OK.
 * Call it after the last add, before reading V. */
int runner_argv_check(struct runner_argv *a, struct agent_error *err);
/* Wipes the strings (an environment may hold a password), frees. */
void runner_argv_free(struct runner_argv *a);

/* The environment for tools: ours without offsite's S3 secrets. */
int runner_env_build(struct runner_argv *env, struct agent_error *err);
/* Set NAME=VALUE in ENV, replacing NAME if it is there. */
void runner_env_set(struct runner_argv *env, const char *name,
		    const char *value);

/*
 * Start ARGV with ENV: stdin /dev/null, stdout to OUT, stderr to ERR, no
 * other descriptor, its own process group, default signals and an empty
 * mask. TOOL names it in messages ("cannot run pg_dump: ...").
 */
int runner_spawn(pid_t *pid, char *const *argv, char *const *env, int out,
		 int err_fd, const char *tool, struct agent_error *err);

/* The same with standard input from IN; IN or OUT -1: /dev/null. For the
 * tools restore feeds through a pipe. */
int runner_spawn_io(pid_t *pid, char *const *argv, char *const *env, int in,
		    int out, int err_fd, const char *tool,
		    struct agent_error *err);

/* Run ARGV = TOOL --version to its end, at most 10 s, and return the
 * first line of its output (stdout and stderr), blanks collapsed, in
 * *out (malloc'd). */
int runner_capture_version(char **out, char *const *argv, char *const *env,
			   const char *tool, struct agent_error *err);

/*
 * The same for any short run, whose output is its stdout: WHAT says
 * what it does in messages ("TOOL WHAT did not answer within 10 s",
 * "TOOL WHAT exited with status 1: the first line of its stderr",
 * redacted).
 */
int runner_capture_line(char **out, char *const *argv, char *const *env,
			const char *tool, const char *what,
			struct agent_error *err);

/* Describe a waitid() status: "exited with status 1", "was killed by
 * signal 9 (KILL)". */
void runner_status_text(char *buf, size_t size, const siginfo_t *si);

#endif
