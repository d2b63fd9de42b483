/*
 * The run lock and its siblings: flock(2) on a file in a directory that
 * only we (or root) can write. Everything is opened relative to the
 * directory's descriptor, checked after it is opened, so what is checked
 * is what is used.
 */
#include "agent/ops/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "conf/conf.h"

/* How often a bounded wait tries the lock again. */
#define LOCK_RETRY_MS 20

/* A fixed directory counts when it is there and this user may write it. */
static bool usable(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	       faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == 0;
}

/* The lock directory's name into OUT (lock.h says which). */
static int choose_dir(char *out, size_t size, struct agent_error *err)
{
	const char *d = getenv("RUNTIME_DIRECTORY");

	if (d != NULL && *d != '\0') {
		/* systemd may list several, separated by ':'. */
		snprintf(out, size, "%.*s", (int)strcspn(d, ":"), d);
		return AGENT_OK;
	}
	if (usable(LOCK_RUN_DIR)) {
		snprintf(out, size, "%s", LOCK_RUN_DIR);
		return AGENT_OK;
	}
	if (usable(LOCK_STATE_DIR)) {
		snprintf(out, size, "%s", LOCK_STATE_DIR);
		return AGENT_OK;
	}
	d = getenv("XDG_RUNTIME_DIR");
	if (d != NULL && *d != '\0') {
		snprintf(out, size, "%s", d);
		return AGENT_OK;
	}
	agent_fail(err, AGENT_EIO,
		   "no directory for the lock: " LOCK_RUN_DIR
		   " and " LOCK_STATE_DIR " are missing or not writable by "
		   "this user, and neither RUNTIME_DIRECTORY nor "
		   "XDG_RUNTIME_DIR is set (the package's tmpfiles.d entry "
		   "makes " LOCK_RUN_DIR "; a shared directory such as /tmp "
		   "is never used)");
	return AGENT_EIO;
}

/* Open the directory DIR and check who can write it. */
static int open_dir(int *dfd, struct stat *st, const char *dir,
		    struct agent_error *err)
{
	conf_error cerr;
	int fd;

	*dfd = -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, st) != 0) {
		agent_fail(err, AGENT_EIO,
			   "cannot open the lock directory %s: %s", dir,
			   strerror(errno));
		if (fd >= 0)
			close(fd);
		return AGENT_EIO;
	}
	if (conf_check_owner(st, CONF_TRUST_SECRET, "lock directory", dir,
			     &cerr) != CONF_OK) {
		agent_fail(err, AGENT_EIO, "%s", cerr.msg);
		close(fd);
		return AGENT_EIO;
	}
	if ((st->st_mode & 022) != 0) {
		agent_fail(err, AGENT_EIO,
			   "lock directory '%s': permissions %04o let others "
			   "create files in it; it must be writable by its "
			   "owner only (chmod go-w %s)",
			   dir, (unsigned)(st->st_mode & 07777), dir);
		close(fd);
		return AGENT_EIO;
	}
	*dfd = fd;
	return AGENT_OK;
}

/*
 * Open (or create) FILE in the directory DFD (DST its status): a regular
 * file with one name, owned as a secret file may be. One we create as root
 * goes to the directory's owner.
 */
static int open_file(int *out, int dfd, const struct stat *dst,
		     const char *path, const char *file,
		     struct agent_error *err)
{
	const int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
	struct stat st;
	conf_error cerr;
	bool created = false, existed = false;
	int f = -1, tries;

	*out = -1;
	for (tries = 0; tries < 3 && f < 0; tries++) {
		f = openat(dfd, file, flags | O_CREAT | O_EXCL, 0600);
		created = f >= 0;
		existed = f < 0 && errno == EEXIST;
		/* Non-blocking: a FIFO put in its place must not hang us. */
		if (existed)
			f = openat(dfd, file, flags | O_NONBLOCK);
		if (f < 0 && errno != ENOENT)
			break;
	}
	if (f < 0) {
		int e = errno;

		agent_fail(err, AGENT_EIO, "cannot open the lock %s: %s%s",
			   path, strerror(e),
			   existed && e == EACCES
				   ? " (a lock file left by a run as another "
				     "user? remove it while no run is going)"
				   : "");
		return AGENT_EIO;
	}
	if (fstat(f, &st) != 0) {
		agent_fail(err, AGENT_EIO, "cannot open the lock %s: %s", path,
			   strerror(errno));
		close(f);
		return AGENT_EIO;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		agent_fail(err, AGENT_EIO,
			   "%s is not a lock file offsite made (%s): refused",
			   path,
			   !S_ISREG(st.st_mode) ? "not a regular file"
						: "it has other names");
		close(f);
		return AGENT_EIO;
	}
	if (conf_check_owner(&st, CONF_TRUST_SECRET, "lock", path, &cerr) !=
	    CONF_OK) {
		agent_fail(err, AGENT_EIO, "%s", cerr.msg);
		close(f);
		return AGENT_EIO;
	}
	if (created && geteuid() == 0 && dst->st_uid != 0 &&
	    fchown(f, dst->st_uid, dst->st_gid) != 0) {
		agent_fail(err, AGENT_EIO,
			   "cannot give the lock %s to the owner of its "
			   "directory: %s",
			   path, strerror(errno));
		close(f);
		unlinkat(dfd, file, 0);
		return AGENT_EIO;
	}
	*out = f;
	return AGENT_OK;
}

/* flock F, trying again for up to WAIT_MS while another holds it. */
static int take(int f, unsigned wait_ms, const char *path,
		struct agent_error *err)
{
	const struct timespec pause = {0, LOCK_RETRY_MS * 1000000L};
	struct timespec t0;

	mono_now(&t0);
	for (;;) {
		if (flock(f, LOCK_EX | LOCK_NB) == 0)
			return AGENT_OK;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			agent_fail(err, AGENT_EIO, "cannot lock %s: %s", path,
				   strerror(errno));
			return AGENT_EIO;
		}
		if (errno == EWOULDBLOCK &&
		    mono_elapsed_ms(&t0) >= (int64_t)wait_ms)
			return agent_fail(err, AGENT_ELOCKED,
					  "%s is held by another run", path);
		nanosleep(&pause, NULL);
	}
}

int lock_acquire_file(int *fd, char *path, size_t size, const char *file,
		      unsigned wait_ms, struct agent_error *err)
{
	char dir[4096], pid[32];
	struct stat dst;
	int dfd = -1, f = -1, rc;

	*fd = -1;
	if (size > 0)
		path[0] = '\0';
	rc = choose_dir(dir, sizeof(dir), err);
	if (rc != AGENT_OK)
		return rc;
	snprintf(path, size, "%s/%s", dir, file);
	rc = open_dir(&dfd, &dst, dir, err);
	if (rc == AGENT_OK)
		rc = open_file(&f, dfd, &dst, path, file, err);
	if (rc == AGENT_OK)
		rc = take(f, wait_ms, path, err);
	if (dfd >= 0)
		close(dfd);
	if (rc != AGENT_OK) {
		if (f >= 0)
			close(f);
		return rc;
	}
	/* For a person looking at the file: who holds it. */
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(f, 0) == 0 && write(f, pid, strlen(pid)) < 0) {
		/* Only informative: the flock is what counts. */
	}
	*fd = f;
	return AGENT_OK;
}

int lock_acquire(int *fd, char *path, size_t size, const char *name,
		 struct agent_error *err)
{
	char file[256];

	snprintf(file, sizeof(file), "offsite-%s.lock", name);
	return lock_acquire_file(fd, path, size, file, 0, err);
}

void lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}

int lock_probe(const char *name, bool *held)
{
	char dir[4096], path[4096 + 256];
	struct agent_error err = {0};
	struct stat st;
	int f, rc = AGENT_OK;

	*held = false;
	if (choose_dir(dir, sizeof(dir), &err) != AGENT_OK)
		return AGENT_EIO;
	snprintf(path, sizeof(path), "%s/offsite-%s.lock", dir, name);
	/* Non-blocking: a FIFO put in its place must not stop us. */
	f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (f < 0)
		return errno == ENOENT ? AGENT_OK : AGENT_EIO;
	if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode))
		rc = AGENT_EIO;
	else if (flock(f, LOCK_SH | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			*held = true;
		else
			rc = AGENT_EIO;
	}
	close(f);
	return rc;
}
