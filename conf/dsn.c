/*
 * dsn: the one parser of a MySQL DSN,
 * mysql://user:password@host:port/db?socket=/path.
 */
#include <stdlib.h>
#include <string.h>

#include "common/wipe.h"
#include "conf/conf_internal.h"

void conf_mysql_dsn_dispose(struct conf_mysql_dsn *d)
{
	wipe_free_str(d->password);
	free(d->user);
	free(d->host);
	free(d->db);
	free(d->socket);
	memset(d, 0, sizeof(*d));
}

/* Percent-decode [FROM, TO) into *OUT, NULL when empty. */
static int decode(char **out, const char *from, const char *to)
{
	*out = NULL;
	if (from >= to)
		return CONF_OK;
	return conf_pct_decode(out, from, to);
}

static int bad(struct conf_mysql_dsn *d, int rc, const char **why,
	       const char *what)
{
	conf_mysql_dsn_dispose(d);
	*why = rc == CONF_ENOMEM ? "out of memory" : what;
	return rc;
}

/* The host, [v6] or name, and the port after it, in [HOST, END). */
static int host_port(struct conf_mysql_dsn *d, const char *host,
		     const char *end, const char **why)
{
	const char *port = NULL, *p;
	unsigned long v = 0;
	int rc;

	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));

		if (close == NULL)
			return bad(d, CONF_ESYNTAX, why,
				   "unclosed [ in the host");
		rc = decode(&d->host, host + 1, close);
		if (close + 1 < end) {
			if (close[1] != ':')
				return bad(d, CONF_ESYNTAX, why, "bad host");
			port = close + 2;
		}
	} else {
		const char *colon = memchr(host, ':', (size_t)(end - host));

		rc = decode(&d->host, host, colon ? colon : end);
		if (colon != NULL)
			port = colon + 1;
	}
	if (rc != CONF_OK)
		return bad(d, rc, why, "bad %-escape in the host");
	if (port == NULL)
		return CONF_OK;
	if (port == end)
		return bad(d, CONF_ESYNTAX, why, "empty port");
	for (p = port; p < end; p++) {
		if (*p < '0' || *p > '9' || v > 65535)
			return bad(d, CONF_ESYNTAX, why, "bad port");
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return bad(d, CONF_ESYNTAX, why, "bad port");
	d->port = (unsigned)v;
	return CONF_OK;
}

/* The query: socket= only. */
static int query(struct conf_mysql_dsn *d, const char *q, const char **why)
{
	const char *end = q + strcspn(q, "#");
	int rc;

	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *e = amp ? amp : end;

		if ((size_t)(e - q) >= 7 && strncmp(q, "socket=", 7) == 0) {
			free(d->socket);
			rc = decode(&d->socket, q + 7, e);
			if (rc != CONF_OK)
				return bad(d, rc, why,
					   "bad %-escape in socket");
		} else if (e > q) {
			return bad(d, CONF_ESYNTAX, why,
				   "unknown parameter (only socket= is known)");
		}
		q = amp ? amp + 1 : end;
	}
	return CONF_OK;
}

int conf_mysql_dsn_parse(struct conf_mysql_dsn *d, const char *dsn,
			 const char **why)
{
	const char *auth, *auth_end, *at = NULL, *p;
	int rc;

	memset(d, 0, sizeof(*d));
	*why = NULL;
	if (strncmp(dsn, "mysql://", 8) != 0)
		return bad(d, CONF_ESYNTAX, why, "not a mysql:// URL");
	auth = dsn + 8;
	auth_end = auth + strcspn(auth, "/?#");
	for (p = auth; p < auth_end; p++) {
		if (*p == '@')
			at = p;
	}
	if (at != NULL) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));

		rc = decode(&d->user, auth, colon ? colon : at);
		if (rc == CONF_OK && colon != NULL)
			rc = decode(&d->password, colon + 1, at);
		if (rc != CONF_OK)
			return bad(d, rc, why, "bad %-escape in the user");
	}
	rc = host_port(d, at ? at + 1 : auth, auth_end, why);
	if (rc != CONF_OK)
		return rc;
	p = auth_end;
	if (*p == '/') {
		const char *end = p + 1 + strcspn(p + 1, "?#");

		rc = decode(&d->db, p + 1, end);
		if (rc != CONF_OK)
			return bad(d, rc, why, "bad %-escape in the database");
		p = end;
	}
	if (*p == '?')
		return query(d, p + 1, why);
	return CONF_OK;
}
