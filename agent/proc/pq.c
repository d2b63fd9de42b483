/*
 * pq: connecting with a bounded wait, and libpq's messages in our words.
 */
#include "agent/proc/pq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/redact.h"

void pq_message(char *buf, size_t size, const PGconn *conn, const PGresult *res)
{
	const char *m = NULL;

	if (res != NULL)
		m = PQresultErrorMessage(res);
	if ((m == NULL || *m == '\0') && conn != NULL)
		m = PQerrorMessage(conn);
	if (m == NULL || *m == '\0')
		m = conn == NULL ? "out of memory" : "unknown error";
	snprintf(buf, size, "%.*s", (int)strcspn(m, "\n"), m);
	redact(buf, size);
}

int pq_connect(PGconn **out, const char *conninfo, const char *timeout,
	       char *msg, size_t size)
{
	const char *kw[3], *val[3];
	PGconn *conn;
	int n = 0;

	*out = NULL;
	/* Before dbname, which expands the conninfo: a connect_timeout
	 * there wins over this one. */
	if (getenv("PGCONNECT_TIMEOUT") == NULL) {
		kw[n] = "connect_timeout";
		val[n++] = timeout;
	}
	kw[n] = "dbname";
	val[n++] = conninfo ? conninfo : "";
	kw[n] = NULL;
	val[n] = NULL;
	conn = PQconnectdbParams(kw, val, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		pq_message(msg, size, conn, NULL);
		PQfinish(conn);
		return -1;
	}
	*out = conn;
	return 0;
}
