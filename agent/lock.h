/*
 * lock: one backup of a database at a time on this host.
 */
#ifndef OFFSITE_AGENT_LOCK_H
#define OFFSITE_AGENT_LOCK_H

#include <stdbool.h>
#include <stddef.h>

enum lock_code { LOCK_OK = 0, LOCK_HELD, LOCK_EIO };

/*
 * Take an exclusive flock on "offsite-NAME.lock" in the runtime directory:
 * $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=), else /run/offsite if
 * it exists, else $XDG_RUNTIME_DIR, else /tmp. *FD holds the lock until
 * lock_release(); the kernel drops it if we die. PATH receives the file's
 * name for messages.
 */
int lock_acquire(int *fd, char *path, size_t size, const char *name);
void lock_release(int fd);

/*
 * Is NAME's lock held by a run on this host? *HELD says; a missing lock
 * file is not held. LOCK_EIO when it cannot be told. The probe takes a
 * shared lock for an instant, so only call it where a run of NAME that
 * starts in that instant may be refused (exit 3).
 */
int lock_probe(const char *name, bool *held);

#endif
