/*
 * target: where `offsite restore --to` loads a backup: a database, through
 * its own client tool fed on a pipe, chosen by the dump's format (the
 * manifest's dump.format):
 *
 *   plain         psql -X -q -v ON_ERROR_STOP=1 --single-transaction -f -
 *   custom, tar   pg_restore --single-transaction --exit-on-error -d ...
 *   sql           mysql --binary-mode DB (MariaDB and MySQL)
 *   raw           refused: a command's or stdin's bytes have no tool
 *
 * The tools run like the dump tools of agent/source.h: no shell, a process
 * group of their own, offsite's S3 secrets out of their environment, the
 * password never on their command line (PostgreSQL: PGPASSWORD in their
 * environment; MySQL: a private option file), each stderr line logged as
 * "TOOL stderr: LINE". Their stdout is dropped (psql prints the results of
 * the dump's SELECTs).
 *
 * A restore must leave the target as it was when it fails. PostgreSQL
 * restores run in one transaction, which commits only once the tool has
 * read its whole input; the tool sink holds back the last bytes until
 * stage_tool_commit(), so the tool never sees the end of a stream that
 * has not passed every check, and on any failure the tool is killed
 * (SIGTERM to its process group, SIGKILL after a grace, reaped) before
 * its input is closed: the transaction never commits. Two cases need
 * the whole backup checked before the tool starts (target_verify_first):
 * MySQL, which cannot roll a restore back (DDL commits implicitly), and
 * pg_restore on a tar archive, which commits once it has read the last
 * table's data and never reads the rest (restore.sql, of any size), so
 * no held-back tail can stop it.
 */
#ifndef OFFSITE_AGENT_TARGET_H
#define OFFSITE_AGENT_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/pipe/stream.h"
#include "conf/conf.h"

/* ==== the tool sink (agent/stage_tool.c) ==== */

/*
 * A stream that feeds a program's standard input. write() passes the
 * bytes on, all but the last HOLD, which stay here until
 * stage_tool_commit(); finish() does nothing (the checks after it decide
 * between commit and abort). A tool that ends with status 0 before the
 * end of its input is done: the rest is dropped. Errors: AGENT_EIO when the tool cannot be
 * started or stops reading ("psql exited with status 3 (last message:
 * ...)"), AGENT_ENOMEM.
 */
struct tool_options {
	char *const *argv;	/* argv[0] is looked up in PATH */
	char *const *env;	/* the tool's environment */
	const char *name;	/* "psql": messages and log lines */
	int out_fd;		/* the tool's stdout; -1: /dev/null */
	size_t hold;		/* bytes held back until commit */
	unsigned kill_grace_ms; /* SIGTERM to SIGKILL */
	/* When the tool fails, keep taking (and dropping) the input, so
	 * that the stages before can still find it damaged: a tampered
	 * unencrypted backup may be what made the tool fail, and it should
	 * be reported as such (exit 4). The tool's failure is logged at
	 * once and returned by stage_tool_commit(). Without DRAIN, the
	 * write that finds the tool gone fails. */
	bool drain;
	/* Sent first, before any input, and last, after the held bytes
	 * at commit only (NULL: nothing). psql's \restrict and
	 * \unrestrict lines: copied, and wiped when freed. */
	const char *prologue;
	const char *epilogue;
};
#define TOOL_OPTIONS_INIT                                                      \
	{                                                                      \
		.argv = NULL, .env = NULL, .name = "tool", .out_fd = -1,       \
		.hold = 64 * 1024, .kill_grace_ms = 5000, .drain = false,      \
		.prologue = NULL, .epilogue = NULL                             \
	}

/* Start the tool now; the options are copied where kept. Ignores
 * SIGPIPE in the process: a tool that dies is an error to report (EPIPE),
 * not a signal to die of. */
int stage_tool_new(struct stream **out, struct agent_error *err,
		   const struct tool_options *o);

/* Send the held bytes and the epilogue, close the tool's input, wait for
 * it to end; its exit status must be 0. After a successful finish()
 * only. */
int stage_tool_commit(struct stream *s);

/* Kill the tool (SIGTERM to its group, SIGKILL after the grace), reap it,
 * then close its input. Nothing once committed; free() calls it. */
void stage_tool_abort(struct stream *s);

/* From another thread (a signal thread): SIGTERM to the tool's group,
 * unless it was reaped. Kill only: nothing is closed or freed. */
void stage_tool_cancel(struct stream *s);

/* ==== psql's input filter (agent/stage_psql.c) ==== */

/*
 * psql runs restricted under a key only offsite knows (target_start):
 * its input opens with offsite's `\restrict KEY` and, at commit only,
 * ends with `\unrestrict KEY`; in between, psql refuses every
 * meta-command (`\!`, `\o |cmd`, `\i`, `\connect`...) and ON_ERROR_STOP
 * ends the restore. This stage stands between the checks and the tool:
 *
 *   - A plain pg_dump 15.14 or later opens with its own `\restrict K`
 *     and closes with `\unrestrict K`, which psql, restricted, would
 *     refuse. K (alphanumeric) is learnt from a `\restrict K` line before
 *     anything but blank lines and `--` comments; from then on, every line
 *     that is exactly `\restrict K` or `\unrestrict K` (a CR before the
 *     LF allowed) is dropped. Nothing else changes: a line of COPY data
 *     passes unless it is exactly one of those (a row that begins with a
 *     carriage return, then "estrict " and the dump's own random key).
 *     Dropping them lets nothing out of restricted mode: psql stays
 *     under offsite's key, which no byte of the dump ever sees.
 *   - psql evaluates a backquoted argument of \unrestrict before it
 *     compares the key: "\unrestrict `cmd`" runs cmd while restricted
 *     (psql 15.18). A line that holds `\unrestrict` and, after it, a
 *     backquote is refused (AGENT_EIO, "refused: line N of the dump
 *     holds a psql \unrestrict with a backquote ...") before its end
 *     reaches psql, which runs only whole lines. Conservative: the line
 *     may be data, or inside a string; such a dump is not restored.
 */
#define STAGE_PSQL_KEY_MAX 256
int stage_psql_new(struct stream **out, struct stream *next,
		   struct agent_error *err);

/* ==== restore targets (agent/target.c) ==== */

struct target;

struct target_options {
	const conf *c;
	const char *format; /* the manifest's dump format; NULL: unknown */
	const char *to;	    /* conninfo or mysql:// DSN; NULL: configured */
	/* A psql too old for \restrict may load a plain dump unrestricted
	 * (--trust-backup): the dump could then run shell commands. */
	bool trust_backup;
};

/*
 * Choose the tool for the format, and build its arguments, environment
 * and option file. Fails with AGENT_EIO and a message that says what to
 * do ("... use -o FILE") for a format no tool restores, or a target that
 * cannot be reached without a password on a command line.
 *
 * What the dump may do to this host: psql (plain) runs restricted under
 * a fresh key (see stage_psql_new), which needs psql 13.22, 14.19,
 * 15.14, 16.10, 17.6, 18 or later (asked with `psql --version`); an
 * older psql is refused unless TRUST_BACKUP, saying why. pg_restore
 * (custom, tar) sends the archive's SQL to the server over libpq and
 * runs no meta-command. mysql runs with --binary-mode (no client command
 * but DELIMITER) and, where the client has it (MariaDB 10.5.25, 10.6.18,
 * 10.11.8, 11.0.6, 11.1.5, 11.2.4, 11.4.2 and later, from `mysql
 * --version`), --sandbox.
 */
int target_prepare(struct target **out, const struct target_options *o,
		   struct agent_error *err);

/* The tool's name ("psql") and the target without any password, for the
 * log. */
const char *target_tool(const struct target *t);
const char *target_describe(const struct target *t);

/* Why the backup must be checked whole before the tool starts (a
 * sentence for the log), or NULL when streaming it is safe. */
const char *target_verify_first(const struct target *t);

/* False when a failed restore may have changed the target (mysql). */
bool target_rolls_back(const struct target *t);

/* The relations (postgres, libpq) or tables (mysql, through the mysql
 * client) already in the target database; WHAT names them. */
int target_count_objects(struct target *t, long long *count, const char **what,
			 struct agent_error *err);

/* Start the tool; *SINK is where the dump goes (the tool sink, or for
 * psql the filter before it), owned by T. DRAIN as in struct
 * tool_options. */
int target_start(struct target *t, bool drain, struct stream **sink,
		 struct agent_error *err);

/* stage_tool_commit() and stage_tool_cancel() of the tool sink. */
int target_commit(struct target *t);
void target_cancel(struct target *t);

/*
 * What kind of secret --to would show on offsite's own command line (and
 * in /proc/PID/cmdline) to every user of the host: "a password" (libpq's
 * password=, postgresql://user:PW@, mysql://user:PW@), "an sslpassword"
 * (libpq's other secret keywords), or NULL when it holds none (or cannot
 * be parsed: target_prepare says why later).
 */
const char *target_to_secret(const char *to);

/* From `psql --version`: whether this psql has \restrict. */
bool target_psql_can_restrict(const char *version);
/* From `mysql --version`: whether this client has --sandbox. */
bool target_mysql_has_sandbox(const char *version);

/* Kills a tool that was not committed, removes the option file. NULL is
 * fine. */
void target_free(struct target *t);

#endif
