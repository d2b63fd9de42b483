/*
 * secret: private files named by the config (secret keys, session tokens,
 * passwords, encryption keys). The checks run on the open descriptor, so
 * what is checked is what is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf/conf_internal.h"

#define SECRET_MAX (64 * 1024)

void conf_wipe_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
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
