/*
 * lock: which directory, what makes one unsafe, and that whatever another
 * user could put in a lock file's place (a link, a FIFO) is refused with
 * a message, never followed nor waited on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ops/lock.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_lock.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	unsetenv("XDG_RUNTIME_DIR");
	return setenv("RUNTIME_DIRECTORY", dir, 1);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	unsetenv("RUNTIME_DIRECTORY");
	return system(cmd) == 0 ? 0 : -1;
}

static void want_error(const char *name, const char *msg)
{
	struct agent_error err = {0};
	char path[256];
	int fd = -2;

	assert_int_equal(lock_acquire(&fd, path, sizeof(path), name, &err),
			 AGENT_EIO);
	assert_int_equal(fd, -1);
	if (strcmp(err.msg, msg) != 0)
		fail_msg("got  \"%s\"\nwant \"%s\"", err.msg, msg);
}

/* The first entry of RUNTIME_DIRECTORY; a second run is told it is held;
 * the file is ours alone. */
static void test_take_and_held(void **state)
{
	struct agent_error err = {0};
	char path[256], want[256], env[160];
	struct stat st;
	int fd, fd2;

	(void)state;
	snprintf(env, sizeof(env), "%s:/nonexistent", dir);
	setenv("RUNTIME_DIRECTORY", env, 1);
	assert_int_equal(lock_acquire(&fd, path, sizeof(path), "app", &err),
			 AGENT_OK);
	snprintf(want, sizeof(want), "%s/offsite-app.lock", dir);
	assert_string_equal(path, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(lock_acquire(&fd2, path, sizeof(path), "app", &err),
			 AGENT_ELOCKED);
	assert_int_equal(fd2, -1);
	assert_int_equal(
		lock_acquire_file(&fd2, path, sizeof(path), "x.lock", 50, &err),
		AGENT_OK);
	lock_release(fd2);
	lock_release(fd);
	assert_int_equal(lock_acquire(&fd, path, sizeof(path), "app", &err),
			 AGENT_OK);
	lock_release(fd);
}

/* A directory others can write, or that is not there: refused, and the
 * message says why (with strerror). */
static void test_bad_directory(void **state)
{
	char msg[512], gone[128];

	(void)state;
	assert_int_equal(chmod(dir, 0777), 0);
	snprintf(msg, sizeof(msg),
		 "lock directory '%s': permissions 0777 let others create "
		 "files in it; it must be writable by its owner only (chmod "
		 "go-w %s)",
		 dir, dir);
	want_error("app", msg);
	assert_int_equal(chmod(dir, 01777), 0); /* sticky like /tmp: no */
	snprintf(msg, sizeof(msg),
		 "lock directory '%s': permissions 1777 let others create "
		 "files in it; it must be writable by its owner only (chmod "
		 "go-w %s)",
		 dir, dir);
	want_error("app", msg);
	assert_int_equal(chmod(dir, 0700), 0);

	snprintf(gone, sizeof(gone), "%s/gone", dir);
	setenv("RUNTIME_DIRECTORY", gone, 1);
	snprintf(msg, sizeof(msg),
		 "cannot open the lock directory %s: No such file or directory",
		 gone);
	want_error("app", msg);

	if (geteuid() == 0) {
		assert_int_equal(mkdir(gone, 0700), 0);
		assert_int_equal(chown(gone, 65534, 65534), 0);
		snprintf(msg, sizeof(msg),
			 "lock directory '%s' is owned by nobody (uid 65534); "
			 "it must belong to root or offsite (chown it)",
			 gone);
		want_error("app", msg);
	}
}

/* No RUNTIME_DIRECTORY, no XDG_RUNTIME_DIR: the fixed directories, and
 * never a shared one. */
static void test_no_directory(void **state)
{
	struct agent_error err = {0};
	struct stat st;
	char path[256];
	int fd;

	(void)state;
	if (stat(LOCK_RUN_DIR, &st) == 0 || stat(LOCK_STATE_DIR, &st) == 0)
		skip(); /* this machine has one */
	unsetenv("RUNTIME_DIRECTORY");
	assert_int_equal(lock_acquire(&fd, path, sizeof(path), "app", &err),
			 AGENT_EIO);
	assert_non_null(strstr(err.msg, "no directory for the lock"));
	assert_non_null(strstr(err.msg, "/tmp is never used"));
	setenv("XDG_RUNTIME_DIR", dir, 1);
	assert_int_equal(lock_acquire(&fd, path, sizeof(path), "app", &err),
			 AGENT_OK);
	assert_int_equal(strncmp(path, dir, strlen(dir)), 0);
	lock_release(fd);
	unsetenv("XDG_RUNTIME_DIR");
}

/* What may stand where the lock file goes: a symbolic link is not
 * followed, a FIFO is not waited on, a second name is refused. */
static void test_planted_file(void **state)
{
	char path[256], target[256], msg[512];

	(void)state;
	snprintf(target, sizeof(target), "%s/target", dir);
	assert_int_equal(close(open(target, O_CREAT | O_WRONLY, 0600)), 0);

	snprintf(path, sizeof(path), "%s/offsite-link.lock", dir);
	assert_int_equal(symlink(target, path), 0);
	snprintf(msg, sizeof(msg),
		 "cannot open the lock %s: Too many levels of symbolic links",
		 path);
	want_error("link", msg);

	snprintf(path, sizeof(path), "%s/offsite-fifo.lock", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(msg, sizeof(msg),
		 "%s is not a lock file offsite made (not a regular file): "
		 "refused",
		 path);
	want_error("fifo", msg);

	snprintf(path, sizeof(path), "%s/offsite-hard.lock", dir);
	assert_int_equal(link(target, path), 0);
	snprintf(msg, sizeof(msg),
		 "%s is not a lock file offsite made (it has other names): "
		 "refused",
		 path);
	want_error("hard", msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_take_and_held, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_directory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_directory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_planted_file, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
