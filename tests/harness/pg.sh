# A throwaway PostgreSQL 15 cluster on 127.0.0.1, in a directory of its
# own. Source this file, then:
#
#   pg_start DIR FREEPORT    initdb + start; writes DIR/env
#   pg_stop DIR              stop the postmaster, by PID
#   pg_load_fixture DBNAME   create DBNAME and load tests/fixtures/pg.sql
#
# DIR/env sets PGHOST, PGPORT, PGUSER, PGPASSWORD (a password for this run
# only), PGDATABASE=postgres and PG_BIN. Connections over TCP need the
# password (scram-sha-256), so tests exercise real authentication.
#
# PostgreSQL refuses to run as root; when the harness is root, the cluster
# runs as the unprivileged "nobody". Every step is bounded in time.

source "$(dirname "${BASH_SOURCE[0]}")/procs.sh"

pg_bindir() {
	local d
	for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# Run a command as the cluster's owner.
pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
			--reset-env -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	local dir=$1 freeport=$2 bin port password

	bin=$(pg_bindir) || {
		echo "pg: no PostgreSQL server found (make deps)" >&2
		return 1
	}
	mkdir -p "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown nobody:nogroup "$dir"
		# nobody must be able to reach DIR through its parents.
		chmod o+x "$(dirname "$dir")"
	fi
	password=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24)
	(umask 077; echo "$password" >"$dir/pwfile")
	[ "$(id -u)" -eq 0 ] && chown nobody:nogroup "$dir/pwfile"

	pg_as_owner timeout 300 "$bin/initdb" -D "$dir/data" -U postgres \
		--pwfile="$dir/pwfile" --auth-local=trust \
		--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
		>"$dir/initdb.log" 2>&1 || {
		echo "pg: initdb failed" >&2
		tail -n 5 "$dir/initdb.log" >&2
		return 1
	}
	rm -f "$dir/pwfile"

	# The port may be taken between freeport and bind: try a few.
	local try
	for try in 1 2 3; do
		port=$("$freeport" 1) || return 1
		if pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
			-w -t 60 -o "-c listen_addresses=127.0.0.1 -p $port \
			-c unix_socket_directories=$dir -c fsync=off \
			-c full_page_writes=off -c synchronous_commit=off" \
			start >/dev/null 2>&1; then
			break
		fi
		# Not up within pg_ctl's 60 s, or the port was taken: stop
		# whatever started before trying again.
		pg_stop "$dir"
		port=
	done
	if [ -z "$port" ]; then
		echo "pg: server did not start" >&2
		tail -n 5 "$dir/server.log" >&2
		return 1
	fi

	umask 077
	cat >"$dir/env" <<-EOF2
	PGHOST=127.0.0.1
	PGPORT=$port
	PGUSER=postgres
	PGPASSWORD=$password
	PGDATABASE=postgres
	PG_BIN=$bin
	PG_DIR=$dir
	EOF2
}

pg_stop() {
	local dir=$1 pid
	[ -f "$dir/data/postmaster.pid" ] || return 0
	pid=$(head -n 1 "$dir/data/postmaster.pid")
	# A stale pid file may name someone else's process by now.
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] || return 0
	# Fast shutdown: the cluster is thrown away anyway.
	kill -INT "$pid" 2>/dev/null || return 0
	if ! harness_wait 10 harness_gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		harness_wait 5 harness_gone "$pid"
	fi
}

pg_load_fixture() {
	local db=$1 here
	here=$(dirname "${BASH_SOURCE[0]}")
	timeout 120 "$PG_BIN/createdb" "$db" &&
		timeout 300 "$PG_BIN/psql" -q -v ON_ERROR_STOP=1 -d "$db" \
			-f "$here/../fixtures/pg.sql" >/dev/null
}
