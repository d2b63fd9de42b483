/*
 * catalog: one connection per row, a table created when missing, and
 * every failure turned into one warning.
 */
#include "agent/ops/catalog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ops/log.h"
#include "agent/proc/pq.h"

/* The columns, for CREATE TABLE. */
#define CATALOG_COLUMNS                                                        \
	"id bigserial PRIMARY KEY, key text NOT NULL, type text, "             \
	"database text, size bigint, sha256 text, created_at timestamptz, "    \
	"duration double precision, host text, status text NOT NULL, "         \
	"detail text"

/* A connection to the catalog, with the table's name quoted for SQL. */
struct cat {
	PGconn *conn;
	char *table; /* quoted, from PQescapeIdentifier */
	char msg[PQ_MESSAGE_MAX];
};

static void cat_close(struct cat *k)
{
	PQfreemem(k->table);
	PQfinish(k->conn);
	k->table = NULL;
	k->conn = NULL;
}

/* Run SQL (no rows expected) with NPARAMS text parameters; 0 or -1 with
 * K->msg set. */
static int cat_exec(struct cat *k, const char *sql, int nparams,
		    const char *const *params)
{
	PGresult *res = PQexecParams(k->conn, sql, nparams, NULL, params, NULL,
				     NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		pq_message(k->msg, sizeof(k->msg), k->conn, res);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

static int cat_open(struct cat *k, const conf *c)
{
	const char *table =
		c->catalog.table ? c->catalog.table : "offsite_backups";

	memset(k, 0, sizeof(*k));
	if (pq_connect(&k->conn, c->catalog.conninfo, CATALOG_CONNECT_TIMEOUT,
		       k->msg, sizeof(k->msg)) != 0)
		return -1;
	k->table = PQescapeIdentifier(k->conn, table, strlen(table));
	if (k->table == NULL) {
		pq_message(k->msg, sizeof(k->msg), k->conn, NULL);
		cat_close(k);
		return -1;
	}
	/* A catalog that hangs must not hold a backup's exit. SET takes no
	 * parameters; the value is ours. */
	if (cat_exec(k,
		     "SET statement_timeout = '" CATALOG_STATEMENT_TIMEOUT "'",
		     0, NULL) != 0) {
		cat_close(k);
		return -1;
	}
	return 0;
}

/*
 * Does the table exist (in the search path), and may we insert into it
 * (the table, and its id sequence when it has one)?
 */
static int cat_probe(struct cat *k, bool *exists, bool *writable)
{
	const char *params[1] = {k->table};
	PGresult *res;
	int rc = 0;

	*exists = *writable = false;
	res = PQexecParams(
		k->conn,
		/* CASE: the sequence is looked up only when the table is
		 * there (pg_get_serial_sequence fails on a missing one). */
		"SELECT t IS NOT NULL, CASE WHEN t IS NULL THEN false ELSE "
		"pg_catalog.has_table_privilege(t, 'INSERT') AND "
		"coalesce(pg_catalog.has_sequence_privilege("
		"pg_catalog.pg_get_serial_sequence($1, 'id'), 'USAGE'), true) "
		"END FROM (SELECT pg_catalog.to_regclass($1) AS t) AS r",
		1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    PQnfields(res) != 2) {
		pq_message(k->msg, sizeof(k->msg), k->conn, res);
		rc = -1;
	} else {
		*exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		*writable = *exists && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	}
	PQclear(res);
	return rc;
}

static int cat_create(struct cat *k)
{
	char *sql = NULL;
	int rc;

	if (asprintf(&sql,
		     "CREATE TABLE IF NOT EXISTS %s (" CATALOG_COLUMNS ")",
		     k->table) < 0) {
		snprintf(k->msg, sizeof(k->msg), "out of memory");
		return -1;
	}
	rc = cat_exec(k, sql, 0, NULL);
	free(sql);
	return rc;
}

/* The table exists, creating it if need be. Only a missing table is
 * created: CREATE TABLE needs a privilege a role that only inserts
 * lacks, even when the table is there. */
static int cat_ensure_table(struct cat *k)
{
	bool exists, writable;
	char why[PQ_MESSAGE_MAX];

	if (cat_probe(k, &exists, &writable) != 0)
		return -1;
	if (exists)
		return 0;
	if (cat_create(k) == 0)
		return 0;
	/* Another run may have created it in the meantime. */
	memcpy(why, k->msg, sizeof(why));
	if (cat_probe(k, &exists, &writable) == 0 && exists)
		return 0;
	memcpy(k->msg, why, sizeof(k->msg));
	return -1;
}

static int cat_insert(struct cat *k, const struct catalog_entry *e)
{
	char size[24], created[32], duration[32], *sql = NULL;
	const char *params[10];
	struct tm tm;
	int rc;

	snprintf(size, sizeof(size), "%" PRIu64, e->size);
	if (e->created_at != 0 && gmtime_r(&e->created_at, &tm) != NULL)
		strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		created[0] = '\0';
	snprintf(duration, sizeof(duration), "%.3f", e->duration);
	params[0] = e->key;
	params[1] = e->type;
	params[2] = e->database;
	params[3] = e->has_size ? size : NULL;
	params[4] = e->sha256;
	params[5] = created[0] ? created : NULL;
	params[6] = e->duration >= 0 ? duration : NULL;
	params[7] = e->host;
	params[8] = e->status;
	params[9] = e->detail;
	if (asprintf(&sql,
		     "INSERT INTO %s (key, type, database, size, sha256, "
		     "created_at, duration, host, status, detail) VALUES ($1, "
		     "$2, $3, $4::bigint, $5, $6::timestamptz, "
		     "$7::double precision, $8, $9, $10)",
		     k->table) < 0) {
		snprintf(k->msg, sizeof(k->msg), "out of memory");
		return -1;
	}
	rc = cat_exec(k, sql, 10, params);
	free(sql);
	return rc;
}

int catalog_record(const conf *c, const struct catalog_entry *e)
{
	struct cat k;
	int rc;

	if (c->catalog.conninfo == NULL || c->catalog.conninfo[0] == '\0')
		return 0;
	rc = cat_open(&k, c);
	if (rc == 0)
		rc = cat_ensure_table(&k);
	if (rc == 0)
		rc = cat_insert(&k, e);
	if (rc != 0)
		log_event(LOG_WARN, "catalog not updated", "key", e->key,
			  "status", e->status, "error", k.msg, NULL);
	else
		log_event(LOG_DEBUG, "catalog updated", "key", e->key, "status",
			  e->status, NULL);
	cat_close(&k);
	return rc;
}

int catalog_check(const conf *c, char *detail, size_t size)
{
	const char *table =
		c->catalog.table ? c->catalog.table : "offsite_backups";
	const char *version, *db, *user;
	bool exists, writable;
	struct cat k;
	int rc = -1;

	if (cat_open(&k, c) != 0) {
		snprintf(detail, size, "cannot connect: %s", k.msg);
		return -1;
	}
	version = PQparameterStatus(k.conn, "server_version");
	db = PQdb(k.conn);
	user = PQuser(k.conn) ? PQuser(k.conn) : "?";
	if (cat_probe(&k, &exists, &writable) != 0) {
		snprintf(detail, size, "cannot look for table %s: %s", table,
			 k.msg);
	} else if (exists && writable) {
		snprintf(detail, size,
			 "table %s in database %s (PostgreSQL %.*s)", table, db,
			 (int)strcspn(version ? version : "", " "),
			 version ? version : "");
		rc = 0;
	} else if (exists) {
		snprintf(detail, size,
			 "role %s may not insert into table %s: GRANT INSERT "
			 "ON %s (and USAGE on its id sequence) TO %s",
			 user, table, table, user);
	} else if (cat_exec(&k, "BEGIN", 0, NULL) != 0 || cat_create(&k) != 0) {
		snprintf(detail, size,
			 "table %s does not exist and cannot be created: %s",
			 table, k.msg);
	} else {
		snprintf(detail, size,
			 "database %s; table %s does not exist yet: the first "
			 "backup creates it",
			 db, table);
		rc = 0;
	}
	/* Whatever was tried in the transaction is undone. */
	if (PQtransactionStatus(k.conn) != PQTRANS_IDLE)
		(void)cat_exec(&k, "ROLLBACK", 0, NULL);
	cat_close(&k);
	return rc;
}
