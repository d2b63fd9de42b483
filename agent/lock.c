/*
 * The run lock: flock(2) on a file in the runtime directory. A crashed or
 * killed run leaves the file but not the lock.
 */
#include "agent/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *runtime_dir(void)
{
	const char *d = getenv("RUNTIME_DIRECTORY");
	struct stat st;

	if (d && *d) {
		/* systemd may list several, separated by ':'. */
		static char first[4096];
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(d, ":"), d);
		return first;
	}
	if (stat("/run/offsite", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/run/offsite", W_OK) == 0)
		return "/run/offsite";
	d = getenv("XDG_RUNTIME_DIR");
	if (d && *d)
		return d;
	return "/tmp";
}

/* The lock file of NAME: one place, for lock_acquire and lock_probe. */
static void lock_path(char *path, size_t size, const char *name)
{
	snprintf(path, size, "%s/offsite-%s.lock", runtime_dir(), name);
}

int lock_acquire(int *fd, char *path, size_t size, const char *name)
{
	char pid[32];
	int f;

	*fd = -1;
	lock_path(path, size, name);
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f < 0)
		return LOCK_EIO;
	if (flock(f, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(f);
		errno = e;
		return e == EWOULDBLOCK ? LOCK_HELD : LOCK_EIO;
	}
	/* For a person looking at the file: who holds it. */
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(f, 0) == 0 && write(f, pid, strlen(pid)) < 0) {
		/* Only informative: the flock is what counts. */
	}
	*fd = f;
	return LOCK_OK;
}

void lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}

int lock_probe(const char *name, bool *held)
{
	char path[4096];
	struct stat st;
	int f, rc = LOCK_OK;

	*held = false;
	lock_path(path, sizeof(path), name);
	/* Non-blocking: a FIFO put in its place must not stop us. */
	f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (f < 0)
		return errno == ENOENT ? LOCK_OK : LOCK_EIO;
	if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode))
		rc = LOCK_EIO;
	else if (flock(f, LOCK_SH | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			*held = true;
		else
			rc = LOCK_EIO;
	}
	close(f);
	return rc;
}
