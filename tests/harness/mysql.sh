# A throwaway MariaDB server on 127.0.0.1, in a directory of its own.
# Source this file, then:
#
#   mysql_start DIR FREEPORT   mariadb-install-db + start; writes DIR/env
#   mysql_stop DIR             stop the server, by PID
#   mysql_load_fixture DBNAME  create DBNAME and load tests/fixtures/mysql.sql
#
# DIR/env sets MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD (a root
# password for this run only), MYSQL_SOCKET and MYSQL_DIR. The grant
# tables are on: root needs the password over TCP and over the socket
# alike, so tests exercise real authentication.
#
# MariaDB refuses to run as root without --user; when the harness is
# root, the server runs as the unprivileged "nobody", like PostgreSQL.
# --no-defaults everywhere: the host's /etc/mysql is never read.
# Every step is bounded in time.

source "$(dirname "${BASH_SOURCE[0]}")/procs.sh"

mysql_log() {
	echo "mysql: $*" >&2
}

# The words that run a command as the server's owner, like pg.sh's
# pg_as_owner. setpriv execs the command, so a background job's $! is the
# server's own PID.
mysql_owner=()
if [ "$(id -u)" -eq 0 ]; then
	mysql_owner=(setpriv --reuid=nobody --regid=nogroup --clear-groups
		--reset-env --)
fi

mysql_start() {
	local dir=$1 freeport=$2 server password port pid try

	# /usr/sbin is not in every user's PATH.
	server=$(command -v mariadbd || echo /usr/sbin/mariadbd)
	[ -x "$server" ] || {
		mysql_log "no MariaDB server found (make deps)"
		return 1
	}
	mkdir -p "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown nobody:nogroup "$dir"
		chmod o+x "$(dirname "$dir")"
	fi
	password=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24)
	# Run once by mariadb-install-db, then removed: root gets a password,
	# for the socket and for TCP from 127.0.0.1 (skip-name-resolve), and
	# the password-less root accounts for other hosts are dropped.
	(
		umask 077
		# Bootstrap runs without grant tables; FLUSH loads them.
		cat >"$dir/init.sql" <<-EOF
		FLUSH PRIVILEGES;
		ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('$password');
		CREATE OR REPLACE USER 'root'@'127.0.0.1' IDENTIFIED BY '$password';
		GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
		DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost', '127.0.0.1'));
		FLUSH PRIVILEGES;
		EOF
	)
	[ "$(id -u)" -eq 0 ] && chown nobody:nogroup "$dir/init.sql"

	"${mysql_owner[@]}" timeout 300 mariadb-install-db --no-defaults \
		--datadir="$dir/data" \
		--auth-root-authentication-method=normal --skip-test-db \
		--skip-name-resolve --extra-file="$dir/init.sql" \
		>"$dir/install.log" 2>&1 || {
		mysql_log "mariadb-install-db failed"
		tail -n 5 "$dir/install.log" >&2
		rm -f "$dir/init.sql"
		return 1
	}
	rm -f "$dir/init.sql"

	# The port may be taken between freeport and bind: try a few.
	for try in 1 2 3; do
		port=$("$freeport" 1) || return 1
		"${mysql_owner[@]}" "$server" --no-defaults \
			--datadir="$dir/data" --socket="$dir/mysqld.sock" \
			--pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" \
			--bind-address=127.0.0.1 --port="$port" \
			--skip-name-resolve --innodb-flush-log-at-trx-commit=0 \
			--innodb-doublewrite=0 --innodb-buffer-pool-size=64M \
			--innodb-log-file-size=16M --skip-log-bin \
			>>"$dir/server.out" 2>&1 &
		pid=$!
		echo "$pid" >"$dir/pid"
		if harness_wait 60 mysql_poll "$pid" "$port" "$password" &&
			! harness_gone "$pid"; then
			break
		fi
		mysql_stop "$dir"
		port=
	done
	if [ -z "$port" ]; then
		mysql_log "server did not start"
		tail -n 5 "$dir/error.log" >&2
		return 1
	fi

	(
		umask 077
		cat >"$dir/env" <<-EOF2
		MYSQL_HOST=127.0.0.1
		MYSQL_PORT=$port
		MYSQL_USER=root
		MYSQL_PASSWORD=$password
		MYSQL_SOCKET=$dir/mysqld.sock
		MYSQL_DIR=$dir
		EOF2
	)
}

# For harness_wait: done when the server answers, or when it has died.
mysql_poll() {
	harness_gone "$1" || mysql_ping "$2" "$3"
}

# The server answers over TCP, with the password.
mysql_ping() {
	local port=$1 password=$2
	MYSQL_PWD=$password timeout 10 mariadb-admin --no-defaults --protocol=tcp \
		-h 127.0.0.1 -P "$port" -u root --connect-timeout=2 ping \
		>/dev/null 2>&1
}

mysql_stop() {
	harness_stop_pids "$1/pid" 10
}

# Needs MYSQL_* from DIR/env in the environment. The password goes
# through MYSQL_PWD, never the command line.
mysql_load_fixture() {
	local db=$1 here
	here=$(dirname "${BASH_SOURCE[0]}")
	MYSQL_PWD=$MYSQL_PASSWORD timeout 120 mariadb --no-defaults --protocol=tcp \
		-h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" \
		-e "CREATE DATABASE \`$db\` CHARACTER SET utf8mb4" &&
		MYSQL_PWD=$MYSQL_PASSWORD timeout 300 mariadb --no-defaults \
			--protocol=tcp -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" \
			--default-character-set=utf8mb4 "$db" \
			<"$here/../fixtures/mysql.sql"
}
