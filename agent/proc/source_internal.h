/*
 * source internals, shared by source.c (open, pump, reader thread),
 * source_proc.c (processes), source_pg.c and source_mysql.c (the two
 * database drivers), and exposed to tests.
 */
#ifndef OFFSITE_AGENT_SOURCE_INTERNAL_H
#define OFFSITE_AGENT_SOURCE_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/proc/source.h"
#include "common/buf.h"

/* Bytes of output kept for the end-of-dump check. */
#define SOURCE_TAIL 4096
/* Longest stderr line logged whole, and most lines logged per run. */
#define SOURCE_LINE_MAX	 1024
#define SOURCE_LINES_MAX 1000
/* Longest `TOOL --version` output read. */
#define SOURCE_VERSION_MAX 512

/*
 * A NULL-terminated argv or envp under construction: the strings one
 * after the other in TEXT, each with its NUL; source_argv_check() points
 * V at them. Capped, and wiped (an environment may hold a password). The
 * first failure (no memory, too big) sticks: the adds after it do
 * nothing, and source_argv_check() reports it once. {0} is empty.
 */
#define SOURCE_ARGV_MAX (4u * 1024 * 1024)
struct source_argv {
	struct buf text;
	size_t n; /* strings in TEXT */
	char **v; /* set by source_argv_check() */
};

struct source {
	enum conf_driver driver;
	char tool[64];	    /* the tool's name in messages: "pg_dump" */
	char *version;	    /* source_tool_version() */
	const char *format; /* source_format() */
	char name[128];	    /* the database name, for log lines */

	struct source_argv argv; /* the tool's argv; empty for stdin */
	struct source_argv env;	 /* its environment (may hold PGPASSWORD) */
	char *optfile;		 /* mysql: the option file; removed */

	bool check_marker; /* plain pg_dump: the end-of-dump marker */
	bool allow_empty;  /* command, stdin: zero bytes is fine */

	pid_t pid;	  /* 0: no child (stdin) */
	bool exited;	  /* the child's status is in STATUS */
	siginfo_t status; /* from waitid(WNOWAIT): reaped by close */
	int out_fd;	  /* the tool's stdout, or the input fd */
	bool own_out;	  /* OUT_FD is ours to close */
	int err_fd;	  /* the tool's stderr, or -1 */
	int wake[2];	  /* wakes the reader: cancel, stop, a free slot */

	uint64_t timeout_ms; /* 0: none */
	unsigned grace_ms;
	int64_t started_ms; /* CLOCK_MONOTONIC, when the tool started */
	atomic_bool cancelled;
	bool pumped;

	/* The queue from the reader thread to the pump. */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* the pump waits here for data */
	bool sync_init;
	char *buf[SOURCE_QUEUE_LEN];
	size_t len[SOURCE_QUEUE_LEN];
	unsigned rd, wr, count;
	bool done;	     /* the reader has finished */
	bool stop;	     /* the pump asks the reader to stop */
	bool reader_waiting; /* the reader waits for a free slot */

	/* Written by the reader, read by the pump after the join. */
	int why_stopped; /* enum source_stop */
	struct agent_error rerr;
	char stderr_line[SOURCE_LINE_MAX];
	size_t stderr_len;
	bool stderr_skip; /* the rest of a too-long line */
	unsigned stderr_lines;
	char last_stderr[256];

	/* The pump's. */
	uint64_t bytes;
	char tail[SOURCE_TAIL];
	size_t tail_len;
};

enum source_stop {
	SOURCE_RUNNING = 0,
	SOURCE_STOP_CANCEL,  /* source_cancel() */
	SOURCE_STOP_TIMEOUT, /* [database] timeout */
	SOURCE_STOP_PUMP,    /* the chain failed */
	SOURCE_STOP_ERROR,   /* reading failed (RERR) */
};

/* ---- argv (source_proc.c) ---- */

/* Append a copy of S, or of the printf result. */
void source_argv_add(struct source_argv *a, const char *s);
void source_argv_addf(struct source_argv *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append every string of a NULL-terminated LIST (NULL: none). */
void source_argv_addv(struct source_argv *a, char *const *list);
/* AGENT_ENOMEM if an add failed; else builds V and returns AGENT_OK.
 * Call it after the last add, before reading V. */
int source_argv_check(struct source_argv *a, struct agent_error *err);
/* Wipes the strings (an environment may hold a password), frees. */
void source_argv_free(struct source_argv *a);

/* ---- processes (source_proc.c) ---- */

/* The environment for tools: ours without offsite's S3 secrets. */
int source_env_build(struct source_argv *env, struct agent_error *err);
/* Set NAME=VALUE in ENV, replacing NAME if it is there. */
void source_env_set(struct source_argv *env, const char *name,
		    const char *value);

/*
 * Start ARGV with ENV: stdin /dev/null, stdout to OUT, stderr to ERR, no
 * other descriptor, its own process group, default signals and an empty
 * mask. TOOL names it in messages ("cannot run pg_dump: ...").
 */
int source_spawn(pid_t *pid, char *const *argv, char *const *env, int out,
		 int err_fd, const char *tool, struct agent_error *err);

/* The same with standard input from IN; IN or OUT -1: /dev/null. For the
 * tools restore feeds through a pipe. */
int source_spawn_io(pid_t *pid, char *const *argv, char *const *env, int in,
		    int out, int err_fd, const char *tool,
		    struct agent_error *err);

/* Run ARGV = TOOL --version to its end, at most 10 s, and return the
 * first line of its output (stdout and stderr), blanks collapsed, in
 * *out (malloc'd). */
int source_capture_version(char **out, char *const *argv, char *const *env,
			   const char *tool, struct agent_error *err);

/*
 * The same for any short run, whose output is its stdout: WHAT says
 * what it does in messages ("TOOL WHAT did not answer within 10 s",
 * "TOOL WHAT exited with status 1: the first line of its stderr",
 * redacted).
 */
int source_capture_line(char **out, char *const *argv, char *const *env,
			const char *tool, const char *what,
			struct agent_error *err);

/* Describe a waitid() status: "exited with status 1", "was killed by
 * signal 9 (KILL)". */
void source_status_text(char *buf, size_t size, const siginfo_t *si);

/* True once the child has exited (its status is then in S->status). Does
 * not reap. */
bool source_child_exited(struct source *s);

/* Signal the child's process group, unless it was reaped. */
void source_signal(const struct source *s, int sig);

/* ---- drivers ---- */

int source_pg_prepare(struct source *s, const conf *c,
		      const struct source_options *o, struct agent_error *err);
int source_mysql_prepare(struct source *s, const conf *c,
			 const struct source_options *o,
			 struct agent_error *err);

/* The drivers' parts of source_check_tool() and source_check_database(). */
int source_pg_check_tool(char **version, const struct source_options *o,
			 struct agent_error *err);
int source_pg_check_database(char **detail, const conf *c,
			     const char *tool_version, struct agent_error *err);
int source_mysql_check_tool(char **version, const struct source_options *o,
			    struct agent_error *err);
int source_mysql_check_database(char **detail, const conf *c,
				struct agent_error *err);

/* pg_dump's options that matter to offsite, from dump_options. */
struct source_pg_opts {
	char format;	  /* 'p', 'c', 't' or 'd' */
	bool compress;	  /* -Z/--compress given */
	bool compressed;  /* ... with something else than 0 or none */
	bool file;	  /* -f/--file given */
	bool bad_format;  /* -F with an unknown format */
	const char *fval; /* that format */
};
void source_pg_scan_options(struct source_pg_opts *out, char *const *opts);

/* TAIL (the last LEN bytes of a plain dump) ends with the marker. */
bool source_pg_marker_seen(const char *tail, size_t len);

/*
 * CONNINFO for a PostgreSQL tool's command line (TOOL names it in
 * messages): every parameter but the password, which goes to *PASSWORD
 * (NULL when there is none) for the child's PGPASSWORD. Another secret
 * parameter (sslpassword) has no environment variable: refused. Both
 * outputs are malloc'd; wipe *PASSWORD before freeing it.
 */
int source_pg_child_conninfo(char **out, char **password, const char *conninfo,
			     const char *tool, struct agent_error *err);

/* Connect to CONNINFO with libpq and count the relations (tables, views,
 * sequences...) outside the system schemas: 0 for an empty database. */
int source_pg_user_relations(const char *conninfo, long long *count,
			     struct agent_error *err);

/* "pg_dump (PostgreSQL) 15.18 (Debian ...)": 1500; 9.6: 906; -1. */
int source_pg_tool_major(const char *version);

/* conf_mysql_dsn_parse(), its message as the agent says it. Dispose with
 * conf_mysql_dsn_dispose(). */
int source_mysql_parse_dsn(struct conf_mysql_dsn *out, const char *dsn,
			   struct agent_error *err);
/* One option file value, double-quoted and escaped; malloc'd. */
char *source_mysql_quote(const char *value);

/*
 * A private option file (mode 0600, in $TMPDIR or /tmp) with the [client]
 * options of D, PASSWORD instead of D's: *PATH (malloc'd) names it; the
 * caller removes it. TOOL names its user in messages.
 */
int source_mysql_write_optfile(char **path, const struct conf_mysql_dsn *d,
			       const char *password, const char *tool,
			       struct agent_error *err);

#endif
