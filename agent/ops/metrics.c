/*
 * metrics: the node_exporter textfile, read back, updated, written
 * atomically. Exposition format: https://prometheus.io/docs/instrumenting/
 * exposition_formats/ (text format: "# HELP", "# TYPE", then
 * name{label="value",...} value, one sample per line).
 */
#include "agent/ops/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ops/lock.h"
#include "agent/ops/log.h"
#include "common/buf.h"
#include "conf/conf.h"

enum metric_id {
	M_LAST_RUN,
	M_LAST_SUCCESS,
	M_DURATION,
	M_SUCCESS,
	M_PLAIN,
	M_STORED,
	M_COUNT
};

static const struct {
	const char *name;
	const char *help;
} metric_info[M_COUNT] = {
	[M_LAST_RUN] = {"offsite_last_run_timestamp_seconds",
			"When the last run ended (unix time)."},
	[M_LAST_SUCCESS] = {"offsite_last_success_timestamp_seconds",
			    "When the last successful run ended (unix time); "
			    "0 if none."},
	[M_DURATION] = {"offsite_last_run_duration_seconds",
			"How long the last run took."},
	[M_SUCCESS] = {"offsite_last_run_success",
		       "1 if the last run succeeded, 0 if it failed."},
	[M_PLAIN] = {"offsite_last_plain_bytes",
		     "Dump size of the last successful backup, before "
		     "compression."},
	[M_STORED] = {"offsite_last_stored_bytes",
		      "Stored size of the last successful backup."},
};

/* Label values we write: type and database names, and "*". */
static bool label_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
	       ch == '.' || ch == '*';
}

static bool label_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= METRICS_LABEL_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!label_char(s[i]))
			return false;
	return true;
}

static int series_cmp(const void *a, const void *b)
{
	const struct metrics_series *x = a, *y = b;
	int c = strcmp(x->type, y->type);
	return c ? c : strcmp(x->database, y->database);
}

static struct metrics_series *
find_series(struct metrics_set *set, const char *type, const char *database)
{
	struct metrics_series key = {0};

	if (set->n == 0)
		return NULL;
	snprintf(key.type, sizeof(key.type), "%s", type);
	snprintf(key.database, sizeof(key.database), "%s", database);
	return bsearch(&key, set->series, set->n, sizeof(*set->series),
		       series_cmp);
}

/* Add an empty series (keeping the order); *OUT points to it. */
static int add_series(struct metrics_series **out, struct metrics_set *set,
		      const char *type, const char *database)
{
	struct metrics_series *grown, *s;
	size_t i;

	if (set->n >= METRICS_MAX_SERIES)
		return E2BIG;
	grown = realloc(set->series, (set->n + 1) * sizeof(*grown));
	if (!grown)
		return ENOMEM;
	set->series = grown;
	for (i = set->n; i > 0; i--) {
		s = &set->series[i - 1];
		if (strcmp(s->type, type) < 0 ||
		    (strcmp(s->type, type) == 0 &&
		     strcmp(s->database, database) < 0))
			break;
		set->series[i] = *s;
	}
	s = &set->series[i];
	memset(s, 0, sizeof(*s));
	snprintf(s->type, sizeof(s->type), "%s", type);
	snprintf(s->database, sizeof(s->database), "%s", database);
	set->n++;
	*out = s;
	return 0;
}

/* LABEL="VALUE" at *P, VALUE copied to OUT; advances *P. */
static bool parse_label(const char **p, const char *label, char *out)
{
	const char *s = *p;
	size_t n = strlen(label), len = 0;

	if (strncmp(s, label, n) != 0 || s[n] != '=' || s[n + 1] != '"')
		return false;
	s += n + 2;
	while (label_char(s[len]))
		len++;
	if (s[len] != '"' || len == 0 || len >= METRICS_LABEL_MAX)
		return false;
	memcpy(out, s, len);
	out[len] = '\0';
	*p = s + len + 1;
	return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0')
		return false;
	*out = v;
	return true;
}

static bool parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end != '\0' || !(v >= 0 && v < 1e12))
		return false;
	*out = v;
	return true;
}

/* One sample line (NUL-terminated, no newline); not ours: ignored. */
static int parse_line(struct metrics_set *set, const char *line)
{
	char type[METRICS_LABEL_MAX], database[METRICS_LABEL_MAX];
	struct metrics_series *s;
	const char *p = NULL;
	uint64_t u = 0;
	double d = 0;
	int id, rc;

	for (id = 0; id < M_COUNT; id++) {
		size_t n = strlen(metric_info[id].name);
		if (strncmp(line, metric_info[id].name, n) == 0 &&
		    line[n] == '{') {
			p = line + n + 1;
			break;
		}
	}
	if (!p || !parse_label(&p, "type", type) || *p++ != ',' ||
	    !parse_label(&p, "database", database) || *p++ != '}' ||
	    *p++ != ' ')
		return 0;
	if (id == M_DURATION ? !parse_double(p, &d) : !parse_u64(p, &u))
		return 0;
	if (id == M_SUCCESS && u > 1)
		return 0;
	s = find_series(set, type, database);
	if (!s) {
		rc = add_series(&s, set, type, database);
		if (rc == E2BIG)
			return 0; /* the rest is dropped */
		if (rc)
			return rc;
	}
	switch (id) {
	case M_LAST_RUN:
		s->last_run = (int64_t)(u > INT64_MAX ? INT64_MAX : u);
		break;
	case M_LAST_SUCCESS:
		s->last_success = (int64_t)(u > INT64_MAX ? INT64_MAX : u);
		break;
	case M_DURATION:
		s->duration = d;
		break;
	case M_SUCCESS:
		s->success = u == 1;
		break;
	case M_PLAIN:
		s->plain_bytes = u;
		s->has_bytes = true;
		break;
	default:
		s->stored_bytes = u;
		s->has_bytes = true;
		break;
	}
	return 0;
}

int metrics_parse(struct metrics_set *out, const char *text, size_t len)
{
	char line[512];
	size_t i = 0;
	int rc;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		if (n < sizeof(line) && text[i] != '#') {
			memcpy(line, text + i, n);
			line[n] = '\0';
			if (memchr(line, '\0', n) == NULL) {
				rc = parse_line(out, line);
				if (rc)
					return rc;
			}
		}
		i += n + 1;
	}
	return 0;
}

int metrics_update(struct metrics_set *set, const struct metrics_run *run)
{
	struct metrics_series *s;
	int rc;

	if (!label_valid(run->type) || !label_valid(run->database))
		return EINVAL;
	s = find_series(set, run->type, run->database);
	if (!s) {
		rc = add_series(&s, set, run->type, run->database);
		if (rc)
			return rc;
	}
	s->last_run = (int64_t)run->ended;
	s->duration = run->duration < 0 ? 0 : run->duration;
	s->success = run->success;
	if (run->success)
		s->last_success = (int64_t)run->ended;
	/* A failure keeps the sizes of the last success. */
	if (run->success && run->has_bytes) {
		s->has_bytes = true;
		s->plain_bytes = run->plain_bytes;
		s->stored_bytes = run->stored_bytes;
	}
	return 0;
}

/* The text's cap: room for every series at their longest, and more. */
#define TEXT_MAX (4 * (size_t)METRICS_FILE_MAX - 1)

int metrics_format(char **out, const struct metrics_set *set)
{
	struct buf t;
	size_t i;
	int id;

	*out = NULL;
	buf_init(&t, TEXT_MAX, false);
	buf_add_str(&t, "");
	for (id = 0; id < M_COUNT; id++) {
		buf_addf(&t, "# HELP %s %s\n# TYPE %s gauge\n",
			 metric_info[id].name, metric_info[id].help,
			 metric_info[id].name);
		for (i = 0; i < set->n; i++) {
			const struct metrics_series *s = &set->series[i];
			if ((id == M_PLAIN || id == M_STORED) && !s->has_bytes)
				continue;
			buf_addf(&t, "%s{type=\"%s\",database=\"%s\"} ",
				 metric_info[id].name, s->type, s->database);
			switch (id) {
			case M_LAST_RUN:
				buf_addf(&t, "%" PRId64 "\n", s->last_run);
				break;
			case M_LAST_SUCCESS:
				buf_addf(&t, "%" PRId64 "\n", s->last_success);
				break;
			case M_DURATION:
				buf_addf(&t, "%.3f\n", s->duration);
				break;
			case M_SUCCESS:
				buf_addf(&t, "%d\n", s->success ? 1 : 0);
				break;
			case M_PLAIN:
				buf_addf(&t, "%" PRIu64 "\n", s->plain_bytes);
				break;
			default:
				buf_addf(&t, "%" PRIu64 "\n", s->stored_bytes);
				break;
			}
		}
	}
	/* ENOMEM past the cap too: the caller knows no other code. */
	return buf_take(&t, out, NULL) == BUF_OK ? 0 : ENOMEM;
}

void metrics_set_dispose(struct metrics_set *set)
{
	free(set->series);
	set->series = NULL;
	set->n = 0;
}

/*
 * Read at most METRICS_FILE_MAX bytes of PATH. A missing file is empty; so
 * is one we did not write (another user's, a symbolic link, a FIFO...),
 * with a warning, since its series would be forged: the new file replaces
 * it. Opened without blocking, so a FIFO cannot hang us.
 */
static int read_capped(char **out, size_t *len, const char *path)
{
	char *buf = NULL;
	const char *why = NULL;
	struct stat st;
	size_t n = 0;
	ssize_t got;
	int fd, rc = -1;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP)
		why = "a symbolic link";
	else if (fd < 0)
		return -1;
	else if (fstat(fd, &st) != 0)
		goto out;
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (!conf_owner_trusted(st.st_uid, CONF_TRUST_SECRET))
		why = "another user's file";
	if (why != NULL) {
		log_event(LOG_WARN,
			  "metrics file replaced: its series are not "
			  "ours",
			  "file", path, "why", why, NULL);
		rc = 0;
		goto out;
	}
	buf = malloc(METRICS_FILE_MAX);
	if (!buf)
		goto out;
	while (n < METRICS_FILE_MAX) {
		got = read(fd, buf + n, METRICS_FILE_MAX - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*out = buf;
	*len = n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int metrics_write(const char *path, const struct metrics_run *run)
{
	struct metrics_set set = {0};
	struct agent_error lerr = {0};
	char *old = NULL, *text = NULL, *tmp = NULL;
	char lock[4096];
	const char *why = NULL;
	size_t len = 0;
	bool made = false;
	int fd = -1, lock_fd = -1, rc = -1, err = 0, lrc;

	if (!path)
		return 0;
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		tmp = NULL;
		why = "out of memory";
		goto out;
	}
	/* Runs for other databases may write the same file: one at a time.
	 * The lock lives with the run locks, where no other user can hold
	 * it, and is waited for a few seconds at most. */
	lrc = lock_acquire_file(&lock_fd, lock, sizeof(lock), "metrics.lock",
				METRICS_LOCK_WAIT_MS, &lerr);
	if (lrc == AGENT_ELOCKED) {
		why = "another run held the metrics lock too long";
		goto out;
	}
	if (lrc != AGENT_OK) {
		why = lerr.msg;
		goto out;
	}
	if (read_capped(&old, &len, path)) {
		err = errno;
		why = "cannot read";
		goto out;
	}
	if (metrics_parse(&set, old ? old : "", len) ||
	    metrics_update(&set, run) || metrics_format(&text, &set)) {
		why = "cannot build";
		goto out;
	}
	/* A new name, created here: a file someone put in its place first
	 * is never ours to write. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		why = "cannot create";
		goto out;
	}
	made = true;
	/* node_exporter runs as another user: readable whatever the umask. */
	if (fchmod(fd, 0644) != 0 || write_all(fd, text, strlen(text)) ||
	    fsync(fd) != 0) {
		err = errno;
		why = "cannot write";
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		err = errno;
		why = "cannot write";
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		err = errno;
		why = "cannot rename";
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc && made)
		unlink(tmp);
	lock_release(lock_fd);
	if (rc) {
		char detail[AGENT_ERROR_MAX + 256]; /* WHY, and strerror */
		snprintf(detail, sizeof(detail), "%s%s%s", why, err ? ": " : "",
			 err ? strerror(err) : "");
		log_event(LOG_WARN, "metrics not written", "file", path,
			  "error", detail, NULL);
	}
	metrics_set_dispose(&set);
	free(old);
	free(text);
	free(tmp);
	return rc;
}
