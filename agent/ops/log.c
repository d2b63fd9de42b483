/*
 * log: format one event as a line, redact it, write it in one go.
 */
#include "agent/ops/log.h"

#include "common/redact.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

/* Kept free at the end of a line for the cut mark and what closes the
 * line: `..."}` at most. */
#define CLOSE_ROOM 8
/* Kept free in log_event's line for redaction of the whole line to grow it
 * (each value it scrubs may grow by up to 7 bytes). */
#define REDACT_ROOM 256

static enum log_level log_level = LOG_INFO;
static enum log_format log_format = LOG_FORMAT_TEXT;
static FILE *log_fp; /* NULL: stderr */

/* The hook and its context, swapped together under HOOK_LOCK. */
static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*hook_fn)(void *ctx, bool before);
static void *hook_ctx;

void log_set_hook(void (*hook)(void *ctx, bool before), void *ctx)
{
	pthread_mutex_lock(&hook_lock);
	hook_fn = hook;
	hook_ctx = ctx;
	pthread_mutex_unlock(&hook_lock);
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* A line being built. Once something does not fit, the line is "cut":
 * nothing more is added and finish() closes it. */
struct line {
	char *buf;
	size_t limit; /* most bytes of text, CLOSE_ROOM included */
	size_t len;
	size_t mark;   /* where the current field began */
	bool cut;      /* out of room */
	bool in_value; /* inside the current field's value */
	bool quoted;   /* that value is quoted */
	enum log_format format;
};

void log_setup(enum log_level level, enum log_format format, FILE *fp)
{
	log_level = level;
	log_format = format;
	log_fp = fp;
}

enum log_level log_get_level(void)
{
	return log_level;
}

/* Append N bytes whole, or cut the line. */
static bool put(struct line *l, const char *s, size_t n)
{
	if (l->cut || l->limit < CLOSE_ROOM ||
	    n > l->limit - CLOSE_ROOM - l->len) {
		l->cut = true;
		return false;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	return true;
}

static bool put_str(struct line *l, const char *s)
{
	return put(l, s, strlen(s));
}

/* Append what fits of S, into the closing room too. */
static void put_close(struct line *l, const char *s)
{
	size_t n = strlen(s);

	if (n > l->limit - l->len)
		n = l->limit - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* How a character that may not be shown as it is gets written: in a
 * quoted text value of the log, in a JSON string, on a terminal. */
enum esc_style { ESC_TEXT, ESC_JSON, ESC_TERM };

/* The longest escaped character: a C1 control as two \xNN. */
#define ESC_MAX 8

/* The length of the character at S: a whole, well-formed UTF-8 sequence
 * (RFC 3629: no overlong form, no surrogate, nothing past U+10FFFF), or
 * one byte (ASCII, or a byte that does not start such a sequence). */
static size_t char_len(const unsigned char *s, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 1;
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	if (n > avail)
		return 1;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 1;
	for (i = 2; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	}
	return n;
}

/* The character at S (AVAIL > 0 bytes), its length in *LEN: may it be
 * shown as it is? Not a C0 control, DEL, a C1 control (U+0080 to U+009F,
 * which terminals take as CSI and the like) or a byte that is not UTF-8
 * (a terminal in a single-byte locale reads 0x9b as CSI). */
static bool char_plain(const unsigned char *s, size_t avail, size_t *len)
{
	*len = char_len(s, avail);
	if (*len == 1)
		return s[0] >= 0x20 && s[0] < 0x7f;
	return !(s[0] == 0xc2 && s[1] < 0xa0);
}

static size_t hex_escape(char *out, const char *lead, unsigned char ch)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(lead);

	memcpy(out, lead, n);
	out[n] = hex[ch >> 4];
	out[n + 1] = hex[ch & 0xf];
	return n + 2;
}

/*
 * The character at S (AVAIL > 0 bytes) as STYLE writes it, into OUT
 * (ESC_MAX bytes); *USED is how many bytes of S it took. Returns the
 * length written. What may be shown is copied (quote and backslash
 * escaped but on a terminal); \n, \r and \t are written so; any other
 * byte of a character that may not be shown as \xNN (JSON: \u00NN, a
 * C1 control as one \u0080 to \u009f).
 */
static size_t escape_char(char *out, const unsigned char *s, size_t avail,
			  size_t *used, enum esc_style style)
{
	size_t n, i, len = 0;

	if (char_plain(s, avail, &n)) {
		*used = n;
		if (n == 1 && style != ESC_TERM && (*s == '"' || *s == '\\')) {
			out[0] = '\\';
			out[1] = (char)*s;
			return 2;
		}
		memcpy(out, s, n);
		return n;
	}
	*used = n;
	if (n == 1 && (*s == '\n' || *s == '\r' || *s == '\t')) {
		out[0] = '\\';
		out[1] = *s == '\n' ? 'n' : *s == '\r' ? 'r' : 't';
		return 2;
	}
	if (style == ESC_JSON)
		return hex_escape(out, "\\u00", n == 2 ? s[1] : s[0]);
	for (i = 0; i < n; i++)
		len += hex_escape(out + len, "\\x", s[i]);
	return len;
}

/* Text format: does VALUE need quotes? */
static bool needs_quotes(const char *value)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t avail = strlen(value), n;

	if (avail == 0)
		return true;
	for (; avail > 0; p += n, avail -= n) {
		if (!char_plain(p, avail, &n) ||
		    (n == 1 && strchr(" =\"'\\,&", *p) != NULL))
			return true;
	}
	return false;
}

size_t log_escape(char *out, size_t size, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t avail = strlen(s), len = 0;

	if (size == 0)
		return 0;
	while (avail > 0) {
		char esc[ESC_MAX];
		size_t used, n = escape_char(esc, p, avail, &used, ESC_TERM);

		if (n > size - 1 - len)
			break;
		memcpy(out + len, esc, n);
		len += n;
		p += used;
		avail -= used;
	}
	out[len] = '\0';
	return len;
}

/*
 * Append VALUE as a field's value: a JSON string, or a text value quoted
 * when it needs to be. It is redacted first, on its own, so a secret is
 * found in the raw text before escaping can hide its shape; the whole line
 * is redacted again at the end for secrets that span fields.
 */
static void put_value(struct line *l, const char *value)
{
	char raw[LOG_LINE_MAX];
	const unsigned char *p = (const unsigned char *)raw;
	size_t n, avail;

	if (l->cut)
		return;
	snprintf(raw, sizeof(raw), "%s", value != NULL ? value : "");
	redact(raw, sizeof(raw));
	l->quoted = l->format == LOG_FORMAT_JSON || needs_quotes(raw);
	if (l->quoted && !put(l, "\"", 1))
		return;
	l->in_value = true;
	avail = strlen(raw);
	while (avail > 0) {
		char esc[ESC_MAX];
		size_t used;

		/* Unquoted, every character is plain: copied as it is. */
		n = escape_char(esc, p, avail, &used,
				l->format == LOG_FORMAT_JSON ? ESC_JSON
							     : ESC_TEXT);
		if (!put(l, esc, n))
			return;
		p += used;
		avail -= used;
	}
	if (l->quoted && !put(l, "\"", 1))
		return;
	l->in_value = false;
}

/* Start a field: " KEY=" in text, ",\"KEY\":" in JSON. */
static void put_key(struct line *l, const char *key)
{
	if (l->cut)
		return;
	l->mark = l->len;
	l->in_value = false;
	if (l->format == LOG_FORMAT_JSON) {
		put(l, ",", 1);
		put_value(l, key);
		l->in_value = false;
		put(l, ":", 1);
		return;
	}
	put(l, " ", 1);
	for (; *key != '\0'; key++) {
		char ch = *key;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		      ch == '-'))
			ch = '_';
		put(l, &ch, 1);
	}
	put(l, "=", 1);
}

/* Close the line; a cut line gets its "..." mark. */
static void finish(struct line *l)
{
	if (l->cut) {
		if (l->in_value) {
			put_close(l, "...");
			if (l->quoted)
				put_close(l, "\"");
		} else {
			/* Cut in a key: drop the whole field. */
			l->len = l->mark;
			if (l->format == LOG_FORMAT_TEXT)
				put_close(l, " ...");
		}
	}
	if (l->format == LOG_FORMAT_JSON)
		put_close(l, "}");
}

size_t log_format_line(char *buf, size_t size, enum log_format format,
		       const char *ts, enum log_level level, const char *msg,
		       const char *const *kv, size_t nkv)
{
	struct line l = {.buf = buf, .format = format};
	size_t cap, i;
	const char *name = level_names[level <= LOG_DEBUG ? level : LOG_DEBUG];

	if (size == 0)
		return 0;
	cap = size - 1 < LOG_LINE_MAX - 1 ? size - 1 : LOG_LINE_MAX - 1;
	l.limit = cap < LOG_LINE_MAX - 1 - REDACT_ROOM
			  ? cap
			  : LOG_LINE_MAX - 1 - REDACT_ROOM;

	if (format == LOG_FORMAT_JSON) {
		put(&l, "{\"ts\":", 6);
		put_value(&l, ts);
		put_key(&l, "level");
		put_value(&l, name);
	} else {
		put_str(&l, ts);
		put_str(&l, " level=");
		put_str(&l, name);
	}
	put_key(&l, "msg");
	put_value(&l, msg);
	for (i = 0; i < nkv; i++) {
		put_key(&l, kv[2 * i]);
		put_value(&l, kv[2 * i + 1]);
	}
	finish(&l);
	buf[l.len] = '\0';
	redact(buf, cap + 1);
	return strlen(buf);
}

static void timestamp(char *out, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "%s", "0000-00-00T00:00:00Z");
}

static void write_line(enum log_level level, const char *msg,
		       const char *const *kv, size_t npairs)
{
	char ts[32];
	char line[LOG_LINE_MAX + 1];
	FILE *fp = log_fp != NULL ? log_fp : stderr;
	size_t n;

	timestamp(ts, sizeof(ts));
	n = log_format_line(line, LOG_LINE_MAX, log_format, ts, level, msg, kv,
			    npairs);
	line[n++] = '\n';
	pthread_mutex_lock(&hook_lock);
	if (hook_fn)
		hook_fn(hook_ctx, true);
	/* One fwrite of the whole line: stdio locks the stream around it. */
	if (fwrite(line, 1, n, fp) != n || fflush(fp) != 0) {
		/* Nowhere left to report a failing log. */
	}
	if (hook_fn)
		hook_fn(hook_ctx, false);
	pthread_mutex_unlock(&hook_lock);
}

void log_event(enum log_level level, const char *msg, ...)
{
	const char *kv[2 * LOG_MAX_PAIRS];
	const char *s;
	size_t n = 0;
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, msg);
	while ((s = va_arg(ap, const char *)) != NULL) {
		if (n < 2 * LOG_MAX_PAIRS)
			kv[n++] = s;
	}
	va_end(ap);
	if (n % 2 != 0)
		kv[n++] = NULL; /* a key without a value */
	write_line(level, msg, kv, n / 2);
}

void log_msgf(enum log_level level, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;
	int n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "%s", fmt);
	write_line(level, msg, NULL, 0);
}
