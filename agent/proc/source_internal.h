/*
 * source internals, shared by source.c (open, pump, reader thread),
 * source_pg.c and source_mysql.c (the two database drivers), and exposed
 * to tests. The processes themselves are agent/proc/runner.h's.
 */
#ifndef OFFSITE_AGENT_SOURCE_INTERNAL_H
#define OFFSITE_AGENT_SOURCE_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/proc/runner.h"
#include "agent/proc/source.h"
#include "common/buf.h"

struct source {
	enum conf_driver driver;
	char tool[64];	    /* the tool's name in messages: "pg_dump" */
	char *version;	    /* source_tool_version() */
	const char *format; /* source_format() */
	char name[128];	    /* the database name, for log lines */

	struct runner_argv argv; /* the tool's argv; empty for stdin */
	struct runner_argv env;	 /* its environment (may hold PGPASSWORD) */
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
	char stderr_line[RUNNER_LINE_MAX];
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
