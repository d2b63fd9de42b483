/*
 * pq: what the agent's libpq connections share: a connection that waits a
 * bounded time, and the one place libpq's errors become our messages.
 */
#ifndef OFFSITE_AGENT_PQ_H
#define OFFSITE_AGENT_PQ_H

#include <stddef.h>

#include <libpq-fe.h>

/* Room for a message from pq_message(). */
#define PQ_MESSAGE_MAX 400

/*
 * The first line of RES's error or else CONN's, redacted (redact), in
 * BUF. libpq's messages name the host and port but never the password.
 * Either may be NULL: a NULL CONN means libpq ran out of memory.
 */
void pq_message(char *buf, size_t size, const PGconn *conn,
		const PGresult *res);

/*
 * Connect with CONNINFO (key=value or URI; NULL or "" for libpq's
 * defaults and PG* variables), waiting at most TIMEOUT seconds unless
 * PGCONNECT_TIMEOUT or the conninfo's own connect_timeout says otherwise.
 * Returns 0 with *out connected (PQfinish it), or -1 with the reason in
 * MSG (PQ_MESSAGE_MAX bytes is enough) and *out NULL.
 */
int pq_connect(PGconn **out, const char *conninfo, const char *timeout,
	       char *msg, size_t size);

#endif
