/*
 * The tool sink with sh and cat for tools: every byte arrives at any
 * write size, the held-back tail reaches the tool only on commit, an abort
 * kills the tool before its input ends (so it never sees an end), and a
 * tool that fails is reported with its status and last message, at once
 * or, draining, at commit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ops/log.h"
#include "agent/proc/target.h"

extern char **environ;

#define HOLD (64u * 1024)

static char dir[] = "/tmp/offsite-test-tool-XXXXXX";
static char out_path[64], done_path[64];

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(out_path, sizeof(out_path), "%s/out", dir);
	snprintf(done_path, sizeof(done_path), "%s/done", dir);
	log_setup(LOG_ERROR, LOG_FORMAT_TEXT, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(out_path);
	unlink(done_path);
	rmdir(dir);
	return 0;
}

/* A tool running sh -c SCRIPT, with $1 and $2 the two paths. */
static int start(struct stream **s, struct agent_error *err, const char *script,
		 bool drain)
{
	struct tool_options o = TOOL_OPTIONS_INIT;
	char sh[] = "sh", c[] = "-c", text[256];
	char *argv[] = {sh, c, text, sh, out_path, done_path, NULL};

	snprintf(text, sizeof(text), "%s", script);

	unlink(out_path);
	unlink(done_path);
	o.argv = argv;
	o.env = environ;
	o.name = "tool";
	o.hold = HOLD;
	o.drain = drain;
	o.kill_grace_ms = 2000;
	return stage_tool_new(s, err, &o);
}

static unsigned char *pattern(size_t n)
{
	unsigned char *p = malloc(n);

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 31 + i / 977);
	return p;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_every_byte_at_any_write_size(void **state)
{
	size_t sizes[] = {1, 7, 4096, 65536, 200000};
	size_t n = 300000, off = 0, k = 0;
	unsigned char *data = pattern(n), *got = malloc(n + 1);
	struct agent_error err = {0};
	struct stream *s;
	FILE *f;

	(void)state;
	assert_int_equal(start(&s, &err, "cat >\"$1\"", false), AGENT_OK);
	while (off < n) {
		size_t len = sizes[k++ % 5];

		if (len > n - off)
			len = n - off;
		assert_int_equal(stream_write(s, data + off, len), AGENT_OK);
		off += len;
	}
	assert_int_equal(stream_finish(s), AGENT_OK);
	assert_int_equal(stage_tool_commit(s), AGENT_OK);
	stream_free(s);
	f = fopen(out_path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, n + 1, f), n);
	fclose(f);
	assert_memory_equal(got, data, n);
	free(got);
	free(data);
}

static void test_abort_kills_before_the_end(void **state)
{
	size_t n = 1000000;
	unsigned char *data = pattern(n);
	struct agent_error err = {0};
	struct stream *s;

	(void)state;
	/* "done" appears only if cat saw the end of its input. */
	assert_int_equal(start(&s, &err, "cat >\"$1\" && echo >\"$2\"", false),
			 AGENT_OK);
	assert_int_equal(stream_write(s, data, n), AGENT_OK);
	assert_int_equal(stream_finish(s), AGENT_OK);
	stage_tool_abort(s);
	stream_free(s);
	assert_int_equal(file_size(done_path), -1);
	/* The tail never left: at most N - HOLD bytes reached the tool. */
	assert_true(file_size(out_path) <= (off_t)(n - HOLD));
	free(data);
}

static void test_free_without_commit_aborts(void **state)
{
	unsigned char *data = pattern(1000);
	struct agent_error err = {0};
	struct stream *s;

	(void)state;
	assert_int_equal(start(&s, &err, "cat >\"$1\" && echo >\"$2\"", false),
			 AGENT_OK);
	assert_int_equal(stream_write(s, data, 1000), AGENT_OK);
	stream_free(s);
	assert_int_equal(file_size(done_path), -1);
	/* Less than HOLD was written: the tool got nothing at all (and
	 * may have died before its shell created the file). */
	assert_true(file_size(out_path) <= 0);
	free(data);
}

static void test_failing_tool_fails_the_write(void **state)
{
	size_t n = 4 * 1024 * 1024, off;
	unsigned char *data = pattern(65536);
	struct agent_error err = {0};
	struct stream *s;
	int rc = AGENT_OK;

	(void)state;
	assert_int_equal(start(&s, &err,
			       "echo 'ERROR: no such table' >&2; "
			       "exit 3",
			       false),
			 AGENT_OK);
	for (off = 0; off < n && rc == AGENT_OK; off += 65536)
		rc = stream_write(s, data, 65536);
	assert_int_equal(rc, AGENT_EIO);
	assert_non_null(strstr(err.msg, "tool stopped reading its input: it "
					"exited with status 3"));
	assert_non_null(strstr(err.msg, "(last message: ERROR: no such "
					"table)"));
	stream_free(s);
	free(data);
}

static void test_draining_reports_at_commit(void **state)
{
	size_t n = 4 * 1024 * 1024, off;
	unsigned char *data = pattern(65536);
	struct agent_error err = {0};
	struct stream *s;

	(void)state;
	assert_int_equal(start(&s, &err, "exit 3", true), AGENT_OK);
	for (off = 0; off < n; off += 65536)
		assert_int_equal(stream_write(s, data, 65536), AGENT_OK);
	assert_int_equal(stream_finish(s), AGENT_OK);
	assert_int_equal(err.code, AGENT_OK);
	assert_int_equal(stage_tool_commit(s), AGENT_EIO);
	assert_non_null(strstr(err.msg, "exited with status 3"));
	stream_free(s);
	free(data);
}

/* The whole input was held back: the tool fails only once commit sends
 * it. Draining or not, that is the restore's failure. */
static void test_failing_at_commit_fails_the_commit(void **state)
{
	for (int drain = 0; drain < 2; drain++) {
		struct agent_error err = {0};
		struct stream *s;

		(void)state;
		assert_int_equal(start(&s, &err,
				       "cat >/dev/null; echo 'ERROR: at "
				       "the end' >&2; exit 3",
				       drain),
				 AGENT_OK);
		assert_int_equal(stream_write(s, "SELECT 1;\n", 10), AGENT_OK);
		assert_int_equal(stream_finish(s), AGENT_OK);
		assert_int_equal(stage_tool_commit(s), AGENT_EIO);
		assert_non_null(strstr(err.msg, "exited with status 3"));
		assert_non_null(strstr(err.msg, "ERROR: at the end"));
		stream_free(s);
	}
}

/* The prologue comes first, the epilogue last and at commit only. */
static void test_prologue_and_epilogue(void **state)
{
	struct tool_options o = TOOL_OPTIONS_INIT;
	char sh[] = "sh", c[] = "-c", text[] = "cat >\"$1\"";
	char *argv[] = {sh, c, text, sh, out_path, NULL};
	struct agent_error err = {0};
	char got[64] = "";
	struct stream *s;
	FILE *f;

	(void)state;
	o.argv = argv;
	o.env = environ;
	o.hold = HOLD;
	o.kill_grace_ms = 2000;
	o.prologue = "BEGIN\n";
	o.epilogue = "END\n";
	/* Aborted: the tool never sees the epilogue. */
	assert_int_equal(stage_tool_new(&s, &err, &o), AGENT_OK);
	assert_int_equal(stream_write(s, "data\n", 5), AGENT_OK);
	assert_int_equal(stream_finish(s), AGENT_OK);
	stream_free(s);
	f = fopen(out_path, "rb");
	if (f != NULL) { /* the tool may die before its shell opens it */
		assert_true(fread(got, 1, sizeof(got) - 1, f) <= 6);
		fclose(f);
		assert_null(strstr(got, "END"));
	}
	/* Committed: first, the data, last. */
	assert_int_equal(stage_tool_new(&s, &err, &o), AGENT_OK);
	assert_int_equal(stream_write(s, "data\n", 5), AGENT_OK);
	assert_int_equal(stream_finish(s), AGENT_OK);
	assert_int_equal(stage_tool_commit(s), AGENT_OK);
	stream_free(s);
	f = fopen(out_path, "rb");
	assert_non_null(f);
	memset(got, 0, sizeof(got));
	assert_int_equal(fread(got, 1, sizeof(got) - 1, f), 15);
	fclose(f);
	assert_string_equal(got, "BEGIN\ndata\nEND\n");
}

static void test_a_tool_done_early_is_fine(void **state)
{
	size_t n = 4 * 1024 * 1024, off;
	unsigned char *data = pattern(65536);
	struct agent_error err = {0};
	struct stream *s;

	(void)state;
	assert_int_equal(start(&s, &err, "head -c 10 >\"$1\"", false),
			 AGENT_OK);
	for (off = 0; off < n; off += 65536)
		assert_int_equal(stream_write(s, data, 65536), AGENT_OK);
	assert_int_equal(stream_finish(s), AGENT_OK);
	assert_int_equal(stage_tool_commit(s), AGENT_OK);
	assert_int_equal(file_size(out_path), 10);
	stream_free(s);
	free(data);
}

static void test_commit_checks_the_status(void **state)
{
	struct agent_error err = {0};
	struct stream *s;

	(void)state;
	assert_int_equal(start(&s, &err,
			       "cat >/dev/null; echo boom >&2; "
			       "exit 2",
			       false),
			 AGENT_OK);
	assert_int_equal(stream_write(s, "x", 1), AGENT_OK);
	assert_int_equal(stream_finish(s), AGENT_OK);
	assert_int_equal(stage_tool_commit(s), AGENT_EIO);
	assert_string_equal(err.msg,
			    "tool exited with status 2 (last message: boom)");
	stream_free(s);
}

static void test_cancel(void **state)
{
	struct agent_error err = {0};
	struct stream *s;

	(void)state;
	assert_int_equal(start(&s, &err, "cat >\"$1\" && echo >\"$2\"", true),
			 AGENT_OK);
	assert_int_equal(stream_write(s, "abc", 3), AGENT_OK);
	stage_tool_cancel(s);
	assert_int_equal(stream_finish(s), AGENT_OK);
	assert_int_equal(stage_tool_commit(s), AGENT_ECANCEL);
	assert_string_equal(err.msg, "tool was stopped");
	stream_free(s);
	assert_int_equal(file_size(done_path), -1);
}

static void test_a_tool_that_does_not_exist(void **state)
{
	struct tool_options o = TOOL_OPTIONS_INIT;
	char name[] = "offsite-no-such-tool";
	char *argv[] = {name, NULL};
	struct agent_error err = {0};
	struct stream *s = NULL;

	(void)state;
	o.argv = argv;
	o.env = environ;
	o.name = "offsite-no-such-tool";
	if (stage_tool_new(&s, &err, &o) == AGENT_EIO) {
		assert_null(s);
		assert_non_null(
			strstr(err.msg, "cannot run offsite-no-such-tool"));
		return;
	}
	/* Under valgrind, posix_spawn's vfork-like clone becomes a fork and
	 * cannot report the failed exec: the child exits 127 instead, and
	 * the restore must still fail. */
	assert_non_null(s);
	assert_int_equal(stream_finish(s), AGENT_OK);
	assert_int_not_equal(stage_tool_commit(s), AGENT_OK);
	stream_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte_at_any_write_size),
		cmocka_unit_test(test_abort_kills_before_the_end),
		cmocka_unit_test(test_free_without_commit_aborts),
		cmocka_unit_test(test_failing_tool_fails_the_write),
		cmocka_unit_test(test_draining_reports_at_commit),
		cmocka_unit_test(test_failing_at_commit_fails_the_commit),
		cmocka_unit_test(test_prologue_and_epilogue),
		cmocka_unit_test(test_a_tool_done_early_is_fine),
		cmocka_unit_test(test_commit_checks_the_status),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_a_tool_that_does_not_exist),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
