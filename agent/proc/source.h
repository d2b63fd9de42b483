/*
 * source: where a backup's bytes come from, the first link of the chain.
 *
 *   postgres  pg_dump, after a libpq pre-flight (server version, size)
 *   mysql     mysqldump --single-transaction, credentials in an option file
 *   command   any argv from the config
 *   stdin     whatever is piped in (offsite backup --stdin)
 *
 * Dump tools run without a shell, in a process group of their own (a
 * terminal's ^C reaches offsite, which decides), with standard input from
 * /dev/null, no other descriptor of ours, every signal at its default
 * (SIGPIPE included: a tool whose reader is gone dies of it) and an empty
 * signal mask, and without offsite's S3 secrets in their environment.
 * Each line a tool writes on stderr becomes one log line, "TOOL stderr:
 * LINE" at level warn.
 *
 * Passwords never reach a command line (visible in ps): pg_dump gets the
 * conninfo's password as PGPASSWORD in its environment, mysqldump reads
 * user, password, host and port from a private option file (mode 0600,
 * in $TMPDIR or /tmp) named by --defaults-extra-file=, its first argument.
 *
 * pg_dump's custom format (-Fc) is compressed by pg_dump itself unless told
 * otherwise: offsite then passes -Z0, so the dump is compressed once, by
 * offsite. An explicit -Z/--compress in dump_options is kept as it is (and
 * the dump is compressed twice). -f/--file and the directory format are
 * refused: they write files, not a stream.
 *
 * A dump is good when every byte was delivered, the tool exited with
 * status 0 and, for pg_dump's plain format, the output ends with pg_dump's
 * end-of-dump marker ("-- PostgreSQL database dump complete", then at most
 * "--", blank and "\unrestrict KEY" lines). Empty output is an error for
 * pg_dump and mysqldump and allowed, with a warning, for command and stdin.
 *
 * Threads: source_pump() reads the tool's output on a reader thread of its
 * own and writes it into the chain on the caller's thread, through a
 * bounded queue (SOURCE_QUEUE_LEN buffers of SOURCE_CHUNK bytes); the pipe
 * from the tool is enlarged to 1 MiB where the system allows. The reader
 * also logs stderr and enforces [database] timeout.
 *
 * Errors: every function that can fail sets the agent_error (first error
 * wins) and returns its code: AGENT_EIO for the tool or the database
 * (messages such as "pg_dump exited with status 1", "pg_dump was killed
 * by signal 9 (KILL)", "pg_dump output ended without the end-of-dump
 * marker", "cannot connect to the database: ..."), AGENT_ELIMIT for the
 * timeout ("pg_dump timed out after 30s"), AGENT_ECANCEL after
 * source_cancel(), AGENT_ENOMEM. Messages are redacted: no password.
 */
#ifndef OFFSITE_AGENT_SOURCE_H
#define OFFSITE_AGENT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/pipe/stream.h"
#include "conf/conf.h"

#define SOURCE_QUEUE_LEN 8
#define SOURCE_CHUNK	 (256 * 1024)

struct source;

struct source_options {
	/* --stdin: read STDIN_FD, whatever the configured driver. */
	bool use_stdin;
	/* The database name for log lines; NULL: the config's name. */
	const char *database;
	/* driver stdin: the descriptor to read (not closed). */
	int stdin_fd;
	/* postgres, mysql: the dump tool to run; NULL: "pg_dump" or
	 * "mysqldump", looked up in PATH. */
	const char *tool;
	/* From SIGTERM to SIGKILL when a tool is stopped, in milliseconds. */
	unsigned kill_grace_ms;
};

#define SOURCE_OPTIONS_INIT                                                    \
	{                                                                      \
		.use_stdin = false, .database = NULL, .stdin_fd = 0,           \
		.tool = NULL, .kill_grace_ms = 5000                            \
	}

/*
 * Check the configuration, find the tool and its version, run the
 * pre-flight (postgres), write the option file (mysql) and start the
 * tool, whose output waits in its pipe until source_pump(). On success
 * *out owns a new source; free it with source_close(). The config is not
 * kept: it may be freed once this returns. [database] timeout counts from
 * here.
 */
int source_open(struct source **out, const conf *c,
		const struct source_options *o, struct agent_error *err);

/*
 * Write everything the source produces into the chain at HEAD with
 * stream_write(); never calls stream_finish(), which stays the caller's.
 * Returns AGENT_OK only when every byte was delivered, the tool exited
 * with status 0 and (plain pg_dump) the end-of-dump marker was seen. When
 * a write into the chain fails, the tool is stopped and that error is
 * returned as the chain set it. Call it at most once.
 */
int source_pump(struct source *s, struct stream *head, struct agent_error *err);

/*
 * Stop the source: the pump returns AGENT_ECANCEL as soon as it can. The
 * tool's process group gets SIGTERM now and SIGKILL kill_grace_ms later
 * (sent by the pump, or by source_close()). Takes no lock and allocates
 * nothing (kill and write only), so a signal-handling thread, or a
 * handler, may call it any number of times while the source is open; it
 * must not race with source_close(): stop calling it first. NULL is fine.
 */
void source_cancel(struct source *s);

/*
 * Stop the tool if it still runs (SIGTERM, SIGKILL after the grace), reap
 * it, remove the option file, free everything. Accepts NULL.
 */
void source_close(struct source *s);

/*
 * The dump tool and its version for the manifest: "pg_dump (PostgreSQL)
 * 15.18", "mysqldump Ver 10.19 Distrib 10.11.19-MariaDB, for
 * debian-linux-gnu (x86_64)"; for command, the program's name ("sh");
 * for stdin, "stdin". Never NULL; valid until source_close().
 */
const char *source_tool_version(const struct source *s);

/* The driver that runs: "postgres", "mysql", "command" or "stdin". */
const char *source_driver_name(const struct source *s);

/*
 * What the bytes are, for the manifest and for restore: pg_dump's format
 * ("plain", "custom" or "tar"), "sql" for mysqldump, "raw" for command
 * and stdin. Never NULL.
 */
const char *source_format(const struct source *s);

/*
 * For `offsite check`: what source_open() would find out, without starting
 * a dump. Each returns AGENT_OK with a one-line description in *detail
 * (malloc'd; NULL when the check does not apply to the driver), or an
 * error code with ERR set as source_open() would set it.
 *
 * source_check_tool: the dump tool runs. postgres, mysql: its version,
 * as source_tool_version() says it; command: the program is found (in
 * PATH, unless its name holds a '/') and may be executed, and the detail
 * is its path; stdin: does not apply.
 *
 * source_check_database: the database answers. postgres: the libpq
 * pre-flight (connect as pg_dump will, the server's version, the
 * database's size), and the major version of the pg_dump whose version
 * TOOL_VERSION is (NULL: unknown) is not older than the server's; the
 * detail names the server's version, the database and its size. mysql:
 * the mysql client connects with the credentials mysqldump would get
 * (through the same kind of private option file, removed at once) and
 * asks for the server's version. command, stdin: do not apply.
 */
int source_check_tool(char **detail, const conf *c,
		      const struct source_options *o, struct agent_error *err);
int source_check_database(char **detail, const conf *c,
			  const char *tool_version, struct agent_error *err);

/*
 * The end-of-dump marker of a plain pg_dump, which a dump cut short
 * lacks: backup checks it on the tool's output, restore on what it reads
 * back. SOURCE_TAIL bytes of the end are enough to find it.
 */
#define SOURCE_TAIL 4096
/* TAIL (the last LEN bytes of a plain dump) ends with the marker. */
bool source_pg_marker_seen(const char *tail, size_t len);

#endif
