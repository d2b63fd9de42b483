/*
 * lock: one backup of a database at a time on this host, and the short
 * locks beside it (the metrics file).
 *
 * A lock is an flock(2) on a file in a directory that no other user can
 * write, so no one else can squat a lock, hold it, or swap the file:
 *
 *   $RUNTIME_DIRECTORY   systemd's RuntimeDirectory= (its first entry)
 *   /run/offsite         made at boot by tmpfiles.d/offsite.conf, when it
 *                        exists and this user can write it
 *   /var/lib/offsite     the state directory (the package makes it), same
 *   $XDG_RUNTIME_DIR     a user's own, for runs outside the service
 *
 * The first that applies is the one; none is an error (a world-writable
 * directory such as /tmp is never used). It must belong to this user or to
 * root (a run as root also takes the service account's, CONF_SERVICE_USER)
 * and be writable by its owner only. A lock file that a run as root
 * creates is given to the directory's owner, so one run by hand as root
 * does not lock out the service's later runs. A crashed or killed run
 * leaves the file but not the lock.
 */
#ifndef OFFSITE_AGENT_LOCK_H
#define OFFSITE_AGENT_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/error.h"

#define LOCK_RUN_DIR   "/run/offsite"
#define LOCK_STATE_DIR "/var/lib/offsite"

/*
 * Take the exclusive lock "offsite-NAME.lock" of database NAME, without
 * waiting. *FD holds the lock until lock_release(). PATH (SIZE bytes)
 * receives the file's name for messages, when the directory was found.
 * Returns AGENT_OK, AGENT_ELOCKED (another run holds it), or AGENT_EIO
 * with the reason (strerror where there is one) in ERR.
 */
int lock_acquire(int *fd, char *path, size_t size, const char *name,
		 struct agent_error *err);

/*
 * The same for the lock file FILE (a name without '/', never starting with
 * "offsite-"), waiting up to WAIT_MS milliseconds for another holder to
 * let go: AGENT_ELOCKED once they are spent.
 */
int lock_acquire_file(int *fd, char *path, size_t size, const char *file,
		      unsigned wait_ms, struct agent_error *err);

void lock_release(int fd);

/*
 * Is NAME's lock held by a run on this host? *HELD says; a missing lock
 * file is not held. AGENT_EIO when it cannot be told. The probe takes a
 * shared lock for an instant, so only call it where a run of NAME that
 * starts in that instant may be refused (exit 3).
 */
int lock_probe(const char *name, bool *held);

#endif
