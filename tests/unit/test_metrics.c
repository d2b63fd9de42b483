/* The node_exporter textfile: what one run writes, how a second run's
 * series joins it, what a failed run keeps, and that only our own lines
 * are read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/ops/metrics.h"

static const struct metrics_run daily_ok = {
	.type = "daily",
	.database = "app",
	.ended = 1795426200,
	.duration = 12.5,
	.success = true,
	.has_bytes = true,
	.plain_bytes = 1000000,
	.stored_bytes = 250000,
};

static char *format_runs(const struct metrics_run *runs, size_t n,
			 const char *start)
{
	struct metrics_set set = {0};
	char *text = NULL;
	size_t i;

	assert_int_equal(metrics_parse(&set, start, strlen(start)), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(metrics_update(&set, &runs[i]), 0);
	assert_int_equal(metrics_format(&text, &set), 0);
	metrics_set_dispose(&set);
	return text;
}

static void test_one_run(void **state)
{
	char *t = format_runs(&daily_ok, 1, "");

	(void)state;
	assert_non_null(
		strstr(t, "# HELP offsite_last_run_timestamp_seconds "));
	assert_non_null(
		strstr(t, "# TYPE offsite_last_run_timestamp_seconds gauge\n"
			  "offsite_last_run_timestamp_seconds{type=\"daily\","
			  "database=\"app\"} 1795426200\n"));
	assert_non_null(strstr(t, "offsite_last_success_timestamp_seconds{"
				  "type=\"daily\",database=\"app\"} "
				  "1795426200\n"));
	assert_non_null(strstr(t, "offsite_last_run_duration_seconds{type="
				  "\"daily\",database=\"app\"} 12.500\n"));
	assert_non_null(strstr(t, "offsite_last_run_success{type=\"daily\","
				  "database=\"app\"} 1\n"));
	assert_non_null(strstr(t, "offsite_last_plain_bytes{type=\"daily\","
				  "database=\"app\"} 1000000\n"));
	assert_non_null(strstr(t, "offsite_last_stored_bytes{type=\"daily\","
				  "database=\"app\"} 250000\n"));
	free(t);
}

/* The file read back gives the same file: nothing is lost in a round. */
static void test_round_trip(void **state)
{
	struct metrics_run other = daily_ok;
	char *t1, *t2;

	(void)state;
	other.type = "weekly";
	other.database = "db-2.x";
	other.duration = 0.25;
	t1 = format_runs((struct metrics_run[]){daily_ok, other}, 2, "");
	t2 = format_runs(NULL, 0, t1);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
}

/* A second run replaces its own series and keeps the others, sorted. */
static void test_merge(void **state)
{
	struct metrics_run other = daily_ok, again = daily_ok;
	char *t1, *t2;
	const char *a, *b;

	(void)state;
	other.database = "aaa";
	t1 = format_runs(&daily_ok, 1, "");
	again.ended += 86400;
	again.plain_bytes = 7;
	t2 = format_runs((struct metrics_run[]){other, again}, 2, t1);
	assert_non_null(strstr(t2, "offsite_last_plain_bytes{type=\"daily\","
				   "database=\"app\"} 7\n"));
	a = strstr(t2, "offsite_last_run_timestamp_seconds{type=\"daily\","
		       "database=\"aaa\"} 1795426200\n");
	b = strstr(t2, "offsite_last_run_timestamp_seconds{type=\"daily\","
		       "database=\"app\"} 1795512600\n");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b);
	/* Each series once per metric. */
	assert_null(strstr(b + 1, "offsite_last_run_timestamp_seconds{type="
				  "\"daily\",database=\"app\"}"));
	free(t1);
	free(t2);
}

/* A failure keeps the last success time and the sizes of that backup. */
static void test_failure_keeps_success(void **state)
{
	struct metrics_run failed = daily_ok;
	char *t1, *t2;

	(void)state;
	failed.ended += 3600;
	failed.success = false;
	failed.duration = 3;
	failed.has_bytes = false; /* a failed run has no sizes */
	failed.plain_bytes = failed.stored_bytes = 1;
	t1 = format_runs(&daily_ok, 1, "");
	t2 = format_runs(&failed, 1, t1);
	assert_non_null(strstr(t2, "offsite_last_run_timestamp_seconds{type="
				   "\"daily\",database=\"app\"} 1795429800\n"));
	assert_non_null(strstr(t2, "offsite_last_success_timestamp_seconds{"
				   "type=\"daily\",database=\"app\"} "
				   "1795426200\n"));
	assert_non_null(strstr(t2, "offsite_last_run_success{type=\"daily\","
				   "database=\"app\"} 0\n"));
	assert_non_null(strstr(t2, "offsite_last_stored_bytes{type=\"daily\","
				   "database=\"app\"} 250000\n"));
	free(t1);
	/* Never a success: 0. */
	t1 = format_runs(&failed, 1, "");
	assert_non_null(strstr(t1, "offsite_last_success_timestamp_seconds{"
				   "type=\"daily\",database=\"app\"} 0\n"));
	free(t1);
	free(t2);
}

/* Prune has no sizes: no byte lines for its series. */
static void test_prune(void **state)
{
	struct metrics_run prune = {.type = METRICS_PRUNE_TYPE,
				    .database = METRICS_PRUNE_DATABASE,
				    .ended = 1795426200,
				    .success = true};
	char *t = format_runs(&prune, 1, "");

	(void)state;
	assert_non_null(strstr(t, "offsite_last_run_success{type=\"prune\","
				  "database=\"*\"} 1\n"));
	assert_null(strstr(t, "offsite_last_plain_bytes{"));
	free(t);
}

/* Lines not in our format are dropped, never copied or half-read. */
static void test_foreign_lines(void **state)
{
	const char *junk =
		"# HELP something else\n"
		"node_cpu_seconds_total{cpu=\"0\"} 5\n"
		"offsite_last_run_success{type=\"x\",database=\"y\",extra=\"1\"} "
		"1\n"
		"offsite_last_run_success{type=\"a\\\"b\",database=\"y\"} 1\n"
		"offsite_last_run_success{database=\"y\",type=\"x\"} 1\n"
		"offsite_last_run_success{type=\"x\",database=\"y\"} 2\n"
		"offsite_last_run_success{type=\"x\",database=\"y\"} -1\n"
		"offsite_last_run_duration_seconds{type=\"x\",database=\"y\"} "
		"nan\n"
		"offsite_last_plain_bytes{type=\"x\",database=\"y\"} 12abc\n"
		"offsite_last_run_success{type=\"\",database=\"y\"} 1\n"
		"offsite_last_run_success{type=\"k\",database=\"v\"} 1";
	struct metrics_set set = {0};

	(void)state;
	assert_int_equal(metrics_parse(&set, junk, strlen(junk)), 0);
	/* Only the last line, which has no newline, is ours. */
	assert_int_equal(set.n, 1);
	assert_string_equal(set.series[0].type, "k");
	assert_true(set.series[0].success);
	metrics_set_dispose(&set);
	/* Bytes after a NUL are not read as a line of their own. */
	{
		static const char nul[] = "x\0offsite_last_run_success{"
					  "type=\"k\",database=\"v\"} 1\n";
		assert_int_equal(metrics_parse(&set, nul, sizeof(nul) - 1), 0);
	}
	assert_int_equal(set.n, 0);
	metrics_set_dispose(&set);
}

static void test_bad_labels(void **state)
{
	struct metrics_set set = {0};
	struct metrics_run r = daily_ok;

	(void)state;
	r.database = "a\"b";
	assert_int_equal(metrics_update(&set, &r), EINVAL);
	r.database = "";
	assert_int_equal(metrics_update(&set, &r), EINVAL);
	assert_int_equal(set.n, 0);
	metrics_set_dispose(&set);
}

/* A private lock directory for the metrics lock, and a textfile
 * directory beside it. */
struct dirs {
	char run[64];
	char text[64];
	char path[128];
};

static void make_dirs(struct dirs *d)
{
	snprintf(d->run, sizeof(d->run), "/tmp/test_metrics_run.XXXXXX");
	snprintf(d->text, sizeof(d->text), "/tmp/test_metrics.XXXXXX");
	assert_non_null(mkdtemp(d->run));
	assert_non_null(mkdtemp(d->text));
	snprintf(d->path, sizeof(d->path), "%s/offsite.prom", d->text);
	assert_int_equal(setenv("RUNTIME_DIRECTORY", d->run, 1), 0);
}

/* Remove every file of DIR, then DIR. */
static void remove_dir(const char *dir)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void remove_dirs(struct dirs *d)
{
	remove_dir(d->run);
	remove_dir(d->text);
	unsetenv("RUNTIME_DIRECTORY");
}

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Files of DIR whose name starts with PREFIX. */
static int count_files(const char *dir, const char *prefix)
{
	char cmd[256], out[32] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -c '^%s' || true", dir,
		 prefix);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	return atoi(out);
}

/* The file itself: written whole, mode 644, no temporary left, the lock in
 * the lock directory (mode 600) and not beside the file, and a directory
 * that is not there costs a -1, nothing else. */
static void test_write_file(void **state)
{
	char lock[160], path[160];
	struct dirs d;
	struct stat st;
	char *buf;

	(void)state;
	make_dirs(&d);
	assert_int_equal(metrics_write(d.path, &daily_ok), 0);
	assert_int_equal(
		metrics_write(d.path, &(struct metrics_run){.type = "weekly",
							    .database = "app",
							    .ended = 1,
							    .success = true,
							    .has_bytes = true}),
		0);
	assert_int_equal(stat(d.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	buf = slurp(d.path);
	assert_non_null(
		strstr(buf, "{type=\"daily\",database=\"app\"} 250000"));
	assert_non_null(strstr(buf, "{type=\"weekly\",database=\"app\"} 1\n"));
	assert_int_equal(count_files(d.text, "offsite.prom."), 0);
	snprintf(lock, sizeof(lock), "%s/metrics.lock", d.run);
	assert_int_equal(stat(lock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	snprintf(path, sizeof(path), "%s/gone/offsite.prom", d.text);
	assert_int_equal(metrics_write(path, &daily_ok), -1);
	assert_int_equal(metrics_write(NULL, &daily_ok), 0);
	remove_dirs(&d);
}

/* What another user who can write the textfile directory leaves there is
 * never read nor written to: a FIFO in the file's place does not hang the
 * run, a planted file's forged series are dropped, and the files a run
 * makes have names no one can know in advance. */
static void test_planted_files(void **state)
{
	char planted[192];
	struct dirs d;
	struct stat st;
	FILE *f;
	char *buf;

	(void)state;
	make_dirs(&d);
	assert_int_equal(mkfifo(d.path, 0666), 0);
	assert_int_equal(metrics_write(d.path, &daily_ok), 0);
	assert_int_equal(lstat(d.path, &st), 0);
	assert_true(S_ISREG(st.st_mode));

	/* A file at the old temporary name: left alone. */
	snprintf(planted, sizeof(planted), "%s.tmp.%ld", d.path,
		 (long)getpid());
	f = fopen(planted, "w");
	assert_non_null(f);
	fputs("planted\n", f);
	fclose(f);
	assert_int_equal(metrics_write(d.path, &daily_ok), 0);
	assert_string_equal(slurp(planted), "planted\n");
	assert_null(strstr(slurp(d.path), "planted"));

	if (geteuid() == 0) {
		/* Another user's file in its place, in our format. */
		unlink(d.path);
		f = fopen(d.path, "w");
		assert_non_null(f);
		fputs("offsite_last_run_success{type=\"daily\",database="
		      "\"forged\"} 1\n",
		      f);
		fclose(f);
		assert_int_equal(chown(d.path, 65534, 65534), 0);
		assert_int_equal(metrics_write(d.path, &daily_ok), 0);
		buf = slurp(d.path);
		assert_null(strstr(buf, "forged"));
		assert_non_null(strstr(buf, "database=\"app\""));
		assert_int_equal(stat(d.path, &st), 0);
		assert_int_equal(st.st_uid, 0);
	}
	remove_dirs(&d);
}

/* The metrics lock held by someone else: the run waits a few seconds at
 * most, then leaves the file as it was. A lock directory others can write
 * is not used at all. */
static void test_lock_bounded(void **state)
{
	char lock[160];
	struct timespec t0, t1;
	struct dirs d;
	int fd;

	(void)state;
	make_dirs(&d);
	assert_int_equal(metrics_write(d.path, &daily_ok), 0);
	snprintf(lock, sizeof(lock), "%s/metrics.lock", d.run);
	fd = open(lock, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(
		metrics_write(d.path, &(struct metrics_run){.type = "weekly",
							    .database = "app",
							    .ended = 1}),
		-1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec >= METRICS_LOCK_WAIT_MS / 1000 - 1);
	assert_true(t1.tv_sec - t0.tv_sec <= METRICS_LOCK_WAIT_MS / 1000 + 5);
	assert_null(strstr(slurp(d.path), "weekly"));
	close(fd);

	assert_int_equal(chmod(d.run, 0777), 0);
	assert_int_equal(metrics_write(d.path, &daily_ok), -1);
	remove_dirs(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_run),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_failure_keeps_success),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_foreign_lines),
		cmocka_unit_test(test_bad_labels),
		cmocka_unit_test(test_write_file),
		cmocka_unit_test(test_planted_files),
		cmocka_unit_test(test_lock_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
