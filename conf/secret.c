/*
 * secret: private files named by the config (secret keys, session tokens,
 * passwords, encryption keys), and who may own the files offsite trusts.
 * The checks run on the open descriptor, so what is checked is what is
 * read.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf/conf_internal.h"

#define SECRET_MAX (64 * 1024)

/* "NAME (uid N)", or "uid N" for a uid with no name. */
static const char *user_name(char *buf, size_t size, uid_t uid)
{
	const struct passwd *pw = getpwuid(uid);

	if (pw != NULL && pw->pw_name != NULL)
		snprintf(buf, size, "%.64s (uid %u)", pw->pw_name,
			 (unsigned)uid);
	else
		snprintf(buf, size, "uid %u", (unsigned)uid);
	return buf;
}

bool conf_owner_trusted(uid_t owner, enum conf_trust trust)
{
	const struct passwd *pw;
	uid_t me = geteuid();

	if (owner == me || owner == 0)
		return true;
	if (trust != CONF_TRUST_SECRET || me != 0)
		return false;
	pw = getpwnam(CONF_SERVICE_USER);
	return pw != NULL && pw->pw_uid == owner;
}

int conf_check_owner(const struct stat *st, enum conf_trust trust,
		     const char *what, const char *path, conf_error *err)
{
	char owner[96], me[96], allowed[128];

	if (conf_owner_trusted(st->st_uid, trust))
		return CONF_OK;
	if (geteuid() != 0)
		snprintf(allowed, sizeof(allowed), "%s or root",
			 user_name(me, sizeof(me), geteuid()));
	else if (trust == CONF_TRUST_SECRET)
		snprintf(allowed, sizeof(allowed),
			 "root or " CONF_SERVICE_USER);
	else
		snprintf(allowed, sizeof(allowed), "root");
	conf_seterr(err,
		    "%s '%s' is owned by %s; it must belong to %s (chown it)",
		    what, path, user_name(owner, sizeof(owner), st->st_uid),
		    allowed);
	return CONF_EPERM;
}

/* Read all of FD into BUF (SIZE bytes); *LEN is how much was there, up to
 * SIZE. Returns 0 or an errno. */
static int read_all(int fd, char *buf, size_t size, size_t *len)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	return 0;
}

int conf_secret_file(char **out, const char *path, const char *where,
		     const char *key, conf_error *err)
{
	char *buf = NULL, *copy = NULL;
	struct stat st;
	size_t len = 0;
	int fd = -1, rc, e;

	if (out != NULL)
		*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		conf_seterr(err, "%s: cannot read %s '%s': %s", where, key,
			    path, strerror(errno));
		rc = CONF_EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_seterr(err, "%s: %s '%s' is not a regular file", where,
			    key, path);
		rc = CONF_EIO;
		goto out;
	}
	/* Mode bits, not access(): the agent often runs as root. */
	if ((st.st_mode & 077) != 0) {
		conf_seterr(err,
			    "%s: %s '%s': permissions %04o are too open; it "
			    "must be readable by its owner only (chmod 600 %s)",
			    where, key, path, (unsigned)(st.st_mode & 07777),
			    path);
		rc = CONF_EPERM;
		goto out;
	}
	/* Another user's file: anyone who can write where it is could have
	 * put their own key or password there for us to use. */
	{
		char what[256];

		snprintf(what, sizeof(what), "%s: %s", where, key);
		rc = conf_check_owner(&st, CONF_TRUST_SECRET, what, path, err);
		if (rc != CONF_OK)
			goto out;
	}
	if (out == NULL) {
		rc = CONF_OK;
		goto out;
	}

	buf = malloc(SECRET_MAX + 1);
	if (buf == NULL) {
		rc = CONF_ENOMEM;
		goto out;
	}
	e = read_all(fd, buf, SECRET_MAX + 1, &len);
	if (e != 0) {
		conf_seterr(err, "%s: cannot read %s '%s': %s", where, key,
			    path, strerror(e));
		rc = CONF_EIO;
		goto out;
	}
	if (len > SECRET_MAX) {
		conf_seterr(err, "%s: %s '%s' is larger than 64 KiB", where,
			    key, path);
		rc = CONF_ESYNTAX;
		goto out;
	}
	while (len > 0 && strchr(" \t\r\n", buf[len - 1]) != NULL)
		len--;
	if (len == 0) {
		conf_seterr(err, "%s: %s '%s' is empty", where, key, path);
		rc = CONF_ESYNTAX;
		goto out;
	}
	/* One line: a credential goes into a header or a tool's option. */
	if (memchr(buf, '\0', len) != NULL || memchr(buf, '\n', len) != NULL ||
	    memchr(buf, '\r', len) != NULL) {
		conf_seterr(err, "%s: %s '%s' must hold a single line", where,
			    key, path);
		rc = CONF_ESYNTAX;
		goto out;
	}
	copy = malloc(len + 1);
	if (copy == NULL) {
		rc = CONF_ENOMEM;
		goto out;
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	*out = copy;
	rc = CONF_OK;
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, SECRET_MAX + 1);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}
