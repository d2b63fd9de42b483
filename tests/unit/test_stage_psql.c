/*
 * The filter in front of psql, at every write size: a pg_dump's own
 * \restrict and \unrestrict lines are dropped and nothing else changes
 * (COPY data that begins with \r, lines that only look alike, other
 * keys); a \unrestrict with a backquote after it is refused before the
 * end of its line passes; the key is learnt in the header only. And the
 * version checks that decide how psql and mysql run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/pipe/stages.h"
#include "agent/pipe/stages_internal.h"
#include "agent/proc/target.h"

/* Run IN through the filter in writes of STEP bytes (0: one write); the
 * output in OUT (a new string), the code of the first failure. */
static int filter(const char *in, size_t step, char **out,
		  struct agent_error *err)
{
	struct memory_options mo = MEMORY_OPTIONS_INIT;
	struct stream *mem = NULL, *f = NULL;
	size_t n = strlen(in), off = 0, len = 0;
	const void *data;
	int rc;

	memset(err, 0, sizeof(*err));
	assert_int_equal(stage_memory_new(&mem, err, &mo), AGENT_OK);
	assert_int_equal(stage_psql_new(&f, mem, err), AGENT_OK);
	rc = AGENT_OK;
	while (rc == AGENT_OK && off < n) {
		size_t k = step == 0 || step > n - off ? n - off : step;

		rc = stream_write(f, in + off, k);
		off += k;
	}
	if (rc == AGENT_OK)
		rc = stream_finish(f);
	data = stage_memory_data(mem, &len);
	*out = calloc(1, len + 1);
	assert_non_null(*out);
	if (len > 0)
		memcpy(*out, data, len);
	stream_free(f);
	stream_free(mem);
	return rc;
}

static const size_t steps[] = {0, 1, 2, 3, 5, 7, 13, 64};

/* IN becomes WANT at every write size. */
static void expect(const char *in, const char *want)
{
	for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
		struct agent_error err;
		char *out;

		assert_int_equal(filter(in, steps[i], &out, &err), AGENT_OK);
		if (strcmp(out, want) != 0)
			fail_msg("step %zu:\n got: [%s]\nwant: [%s]", steps[i],
				 out, want);
		free(out);
	}
}

#define HEAD "--\n-- PostgreSQL database dump\n--\n\n"

static void test_pg_dumps_own_lines_are_dropped(void **state)
{
	(void)state;
	expect(HEAD
	       "\\restrict Ab12\n\nSET x = 1;\n"
	       "\\unrestrict Ab12\n\n-- PostgreSQL database dump complete\n",
	       HEAD "\nSET x = 1;\n\n-- PostgreSQL database dump complete\n");
	/* pg_dump -C reopens it after \connect: both dropped, the
	 * \connect stays (psql refuses it). */
	expect(HEAD "\\restrict K9\nA;\n\\unrestrict K9\n\\connect x\n"
		    "\\restrict K9\nB;\n\\unrestrict K9\n",
	       HEAD "A;\n\\connect x\nB;\n");
	/* A CR before the LF. */
	expect("\\restrict K9\r\nA;\r\n\\unrestrict K9\r\n", "A;\r\n");
}

static void test_everything_else_passes_unchanged(void **state)
{
	const char *same[] = {
		/* no \restrict of its own (pg_dump before 15.14) */
		"SET x = 1;\n\\unrestrict K9\n",
		/* other keys, other shapes */
		"\\restrict A-B\n\\restrict \n\\restrict\n\\restrict K9 \n"
		" \\restrict K9\n\\restrictK9\n\\unrestrict K9\\n\n",
		/* a last line without its end */
		"SELECT 1;\n\\unrestr",
		"\\restrict K9",
		"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(*same); i++)
		expect(same[i], same[i]);
	/* COPY rows that begin with a carriage return. */
	expect(HEAD "\\restrict K9\nCOPY t (a) FROM stdin;\n\\rhello\n"
		    "\\restrict x\t1\n\\restrict K99\n\\restrict K\n"
		    "\\\\restrict K9\n\\.\n",
	       HEAD "COPY t (a) FROM stdin;\n\\rhello\n"
		    "\\restrict x\t1\n\\restrict K99\n\\restrict K\n"
		    "\\\\restrict K9\n\\.\n");
	/* Once learnt, other keys and other shapes still pass. */
	expect(HEAD "\\restrict K9\n\\restrict K8\n\\unrestrict K8\n"
		    "\\unrestrict K9x\n\\unrestrict  K9\n",
	       HEAD "\\restrict K8\n\\unrestrict K8\n\\unrestrict K9x\n"
		    "\\unrestrict  K9\n");
}

static void test_key_is_learnt_in_the_header_only(void **state)
{
	(void)state;
	/* After a statement, a \restrict line is not the dump's own. */
	expect("SET x = 1;\n\\restrict K9\n\\unrestrict K9\n",
	       "SET x = 1;\n\\restrict K9\n\\unrestrict K9\n");
	/* The first one wins. */
	expect("\\restrict K1\n\\restrict K2\n\\unrestrict K1\n",
	       "\\restrict K2\n");
	/* Blank lines and comments keep the header open. */
	expect("\n\r\n-- x\n--\n\\restrict K9\nA;\n\\unrestrict K9\n",
	       "\n\r\n-- x\n--\nA;\n");
	/* A key longer than STAGE_PSQL_KEY_MAX is not one. */
	{
		char in[600], *p = in;

		p += sprintf(p, "\\restrict ");
		memset(p, 'a', 300);
		p[300] = '\0';
		strcat(in, "\n");
		expect(in, in);
	}
}

static void refused(const char *in, const char *must_not_pass)
{
	for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
		struct agent_error err;
		char *out;

		assert_int_equal(filter(in, steps[i], &out, &err), AGENT_EIO);
		assert_non_null(strstr(err.msg, "refused: line "));
		assert_non_null(strstr(err.msg, "backquote"));
		if (strstr(out, must_not_pass) != NULL)
			fail_msg("step %zu: passed on: [%s]", steps[i], out);
		free(out);
	}
}

static void test_unrestrict_with_a_backquote_is_refused(void **state)
{
	struct agent_error err;
	char *out;

	(void)state;
	refused("SELECT 1;\n\\unrestrict `touch M`\n", "`");
	refused("SELECT 1 \\unrestrict `touch M`\n", "\n");
	refused("\\unrestrict x `id`\n", "`");
	refused("\\unrestrict`id`\n", "`");
	/* An odd run of backslashes ends in a \unrestrict. */
	refused("SELECT 1 \\\\\\unrestrict `touch M`\n", "`");
	/* Its line number. */
	assert_int_equal(filter("A;\nB;\n\\unrestrict `x`\n", 0, &out, &err),
			 AGENT_EIO);
	assert_non_null(strstr(err.msg, "line 3 "));
	assert_string_equal(out, "A;\nB;\n");
	free(out);
	/* A backquote on another line, or before it, is fine. */
	expect("\\unrestrict K\nSELECT '`';\n",
	       "\\unrestrict K\nSELECT '`';\n");
	expect("SELECT '`' \\unrestrict K\n", "SELECT '`' \\unrestrict K\n");
	expect("\\unrestric `x`\n", "\\unrestric `x`\n");
	/* An even run is psql's "\\" (refused in restricted mode), or
	 * a backslash in COPY data: a row that holds the text loads. */
	expect("COPY t FROM stdin;\nhi \\\\unrestrict `x`\n\\.\n",
	       "COPY t FROM stdin;\nhi \\\\unrestrict `x`\n\\.\n");
	expect("\\\\\\\\unrestrict `x`\n", "\\\\\\\\unrestrict `x`\n");
}

static void test_psql_versions(void **state)
{
	const char *yes[] = {
		"psql (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)",
		"psql (PostgreSQL) 15.14",
		"psql (PostgreSQL) 13.22",
		"psql (PostgreSQL) 14.19",
		"psql (PostgreSQL) 16.10",
		"psql (PostgreSQL) 17.6",
		"psql (PostgreSQL) 18.0",
		"psql (PostgreSQL) 18beta3",
		"psql (PostgreSQL) 19devel",
	};
	const char *no[] = {
		"psql (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)",
		"psql (PostgreSQL) 13.21",
		"psql (PostgreSQL) 14.18",
		"psql (PostgreSQL) 16.9",
		"psql (PostgreSQL) 17.5",
		"psql (PostgreSQL) 18beta2",
		"psql (PostgreSQL) 12.22",
		"psql (PostgreSQL) 9.6.24",
		"psql 15.18",
		"",
		NULL,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		assert_true(target_psql_can_restrict(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
		assert_false(target_psql_can_restrict(no[i]));
}

static void test_mysql_versions(void **state)
{
	const char *yes[] = {
		"mysql  Ver 15.1 Distrib 10.11.19-MariaDB, for debian-linux-gnu "
		"(x86_64) using  EditLine wrapper",
		"mysql  Ver 15.1 Distrib 10.5.25-MariaDB, for Linux",
		"mysql  Ver 15.1 Distrib 10.6.18-MariaDB, for Linux",
		"mysql  Ver 15.1 Distrib 10.11.8-MariaDB, for Linux",
		"mariadb from 11.4.2-MariaDB, client 15.2 for debian-linux-gnu",
		"mysql from 11.8.3-MariaDB, client 15.2 for Linux",
		"mariadb from 12.0.2-MariaDB, client 15.2 for Linux",
	};
	const char *no[] = {
		"mysql  Ver 15.1 Distrib 10.11.7-MariaDB, for Linux",
		"mysql  Ver 15.1 Distrib 10.5.24-MariaDB, for Linux",
		"mysql  Ver 15.1 Distrib 10.9.8-MariaDB, for Linux",
		"mariadb from 11.3.2-MariaDB, client 15.2 for Linux",
		"mysql  Ver 8.0.40 for Linux on x86_64 (MySQL Community Server)",
		"-MariaDB",
		"10.11-MariaDB",
		"",
		NULL,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		assert_true(target_mysql_has_sandbox(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
		assert_false(target_mysql_has_sandbox(no[i]));
}

static void test_secrets_in_to(void **state)
{
	(void)state;
	assert_string_equal(target_to_secret("host=h password=pw dbname=d"),
			    "a password");
	assert_string_equal(target_to_secret("postgresql://u:pw@h/d"),
			    "a password");
	assert_string_equal(target_to_secret("postgres://u@h/d?password=pw"),
			    "a password");
	assert_string_equal(target_to_secret("mysql://u:pw@h:3306/d"),
			    "a password");
	assert_string_equal(target_to_secret("host=h sslpassword=pw"),
			    "an sslpassword");
	assert_null(target_to_secret("host=h user=u dbname=d"));
	assert_null(target_to_secret("postgresql://u@h/d"));
	assert_null(target_to_secret("mysql://u@h:3306/d"));
	assert_null(target_to_secret("host=h password="));
	assert_null(target_to_secret("not a conninfo"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_dumps_own_lines_are_dropped),
		cmocka_unit_test(test_everything_else_passes_unchanged),
		cmocka_unit_test(test_key_is_learnt_in_the_header_only),
		cmocka_unit_test(test_unrestrict_with_a_backquote_is_refused),
		cmocka_unit_test(test_psql_versions),
		cmocka_unit_test(test_mysql_versions),
		cmocka_unit_test(test_secrets_in_to),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
