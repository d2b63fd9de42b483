/* The node_exporter textfile: what one run writes, how a second run's
 * series joins it, what a failed run keeps, and that only our own lines
 * are read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/metrics.h"

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

/* The file itself: written whole, mode 644, no temporary left, and a
 * directory that is not there costs a -1, nothing else. */
static void test_write_file(void **state)
{
	char dir[] = "/tmp/test_metrics.XXXXXX", path[64], tmp[96];
	char buf[8192];
	struct stat st;
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/offsite.prom", dir);
	assert_int_equal(metrics_write(path, &daily_ok), 0);
	assert_int_equal(
		metrics_write(path, &(struct metrics_run){.type = "weekly",
							  .database = "app",
							  .ended = 1,
							  .success = true,
							  .has_bytes = true}),
		0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(
		strstr(buf, "{type=\"daily\",database=\"app\"} 250000"));
	assert_non_null(strstr(buf, "{type=\"weekly\",database=\"app\"} 1\n"));
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	assert_int_not_equal(access(tmp, F_OK), 0);
	unlink(path);
	snprintf(tmp, sizeof(tmp), "%s.lock", path);
	unlink(tmp);
	rmdir(dir);
	snprintf(path, sizeof(path), "%s/gone/offsite.prom", dir);
	assert_int_equal(metrics_write(path, &daily_ok), -1);
	assert_int_equal(metrics_write(NULL, &daily_ok), 0);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
