/*
 * log: one line per event on stderr.
 *
 *   2026-11-23T09:30:00Z level=info msg="backup started" type=daily db=app
 *   {"ts":"2026-11-23T09:30:00Z","level":"info","msg":"backup started",...}
 *
 * Timestamps are UTC. Every line passes through redact() before it is
 * written, so a credential that slips into a message never reaches the log.
 *
 * A character that a terminal may act on is never written as it is: a C0
 * control, DEL, a C1 control (U+0080 to U+009F) or a byte that is not
 * part of well-formed UTF-8. log_escape() below writes strings the same
 * way for the rest of standard output and error.
 *
 * Text format: a value is written as is unless it is empty or holds a
 * blank, '=', a quote, a backslash, ',', '&' or such a character; then it
 * is quoted, with quote and backslash escaped and those characters
 * written as \n, \r, \t or \xNN (each byte). Keys are written with every
 * character outside [A-Za-z0-9_.-] replaced by '_'.
 *
 * JSON format: standard string escaping, those characters as \n, \r, \t
 * or \u00XX (a byte that is not UTF-8 as \u00XX of its value); other
 * UTF-8 as it is.
 *
 * A line is at most LOG_LINE_MAX bytes, its newline included; a longer one
 * is cut at a character boundary and marked with "..." (in JSON, inside the
 * string that was cut, and the object is still closed). Each line goes out
 * in one write, so lines from several threads do not interleave.
 */
#ifndef OFFSITE_AGENT_LOG_H
#define OFFSITE_AGENT_LOG_H

#include <stdbool.h>
#include <stdio.h>

#define LOG_LINE_MAX 8192
/* Key/value pairs beyond this many in one event are dropped. */
#define LOG_MAX_PAIRS 32

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Defaults: LOG_INFO, text, stderr. A NULL FP means stderr. Call it before
 * any thread that logs is started. */
void log_setup(enum log_level level, enum log_format format, FILE *fp);
enum log_level log_get_level(void);

/*
 * Log MSG with key/value pairs: a NULL-terminated list of const char *
 * alternating key and value, e.g.
 *   log_event(LOG_INFO, "backup started", "type", "daily", NULL);
 * The first NULL ends the list: a key followed by NULL is written with an
 * empty value, and pairs after it are lost, so pass "" for a value that may
 * be missing. Events above the level set by log_setup are dropped.
 */
void log_event(enum log_level level, const char *msg, ...)
	__attribute__((sentinel));

/* printf-style message with no key/value pairs. */
void log_msgf(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * S as it may be shown on a terminal, into OUT (SIZE bytes, always
 * NUL-terminated): the characters above written as \n, \r, \t or \xNN
 * (each byte), everything else as it is, backslashes too. What does not
 * fit is cut at a character boundary; 4 * strlen(S) + 1 bytes always fit.
 * Returns the length written. Every string from outside (the bucket, a
 * server, the config, the command line) that reaches standard output or
 * error passes through it or through the log.
 */
size_t log_escape(char *out, size_t size, const char *s);

/*
 * HOOK (NULL: none) is called around each line written: with BEFORE true
 * just before, with BEFORE false just after, from the thread that logs.
 * The progress line uses it to step aside on the terminal. It must not
 * log, and CTX must outlive it: set NULL before freeing CTX.
 */
void log_set_hook(void (*hook)(void *ctx, bool before), void *ctx);

/*
 * Format one line into BUF (for tests): same output as log_event without
 * the trailing newline; TS is the timestamp to print. KV holds NKV pairs:
 * key KV[2i], value KV[2i + 1] (NULL: empty). The line is cut to fit SIZE
 * and LOG_LINE_MAX - 1 bytes, then redacted; returns its length. With SIZE
 * below LOG_LINE_MAX, redaction that lengthens the line may cut its end.
 */
size_t log_format_line(char *buf, size_t size, enum log_format format,
		       const char *ts, enum log_level level, const char *msg,
		       const char *const *kv, size_t nkv);

#endif
