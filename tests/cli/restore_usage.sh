#!/bin/bash
# restore and verify on the command line, before any network: each usage
# mistake is exit 2 with one line that says what is wrong (a password in
# --to, never echoed; -o - into a terminal; -o over what is not a regular
# file), and -o never replaces an existing file without --force (exit 1).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
unset OFFSITE_CONFIG

# A bucket on a port nobody listens on: nothing here may get that far.
cat >"$T_DIR/offsite.ini" <<EOF
[storage]
endpoint = http://127.0.0.1:9
bucket = backups
access_key = AKIDEXAMPLE

[database]
conninfo = dbname=app
EOF
cfg=$T_DIR/offsite.ini

usage() { # DESC MESSAGE ARGS...
	local desc=$1 msg=$2
	shift 2
	t_run "$OFFSITE" -c "$cfg" "$@"
	t_eq "$desc: exit 2" 2 "$T_RC"
	t_eq "$desc: message" "$msg" "$(cat "$T_ERR")"
}

usage "restore without a key" \
	"offsite restore: which backup? give a KEY or latest (see offsite restore --help)" \
	restore
usage "restore with two keys" \
	"offsite restore: one KEY or latest, not more (see offsite restore --help)" \
	restore a b
usage "restore --to and -o" \
	"offsite restore: --to and -o: give one place to restore to (see offsite restore --help)" \
	restore latest --to dbname=x -o out.sql
usage "restore --type with a key" \
	"offsite restore: --type goes with latest only (see offsite restore --help)" \
	restore daily/app/app-daily-20261120T010000Z.sql.gz --type daily
usage "restore with a bad type" \
	"offsite restore: bad type 'Daily' (1 to 31 of a-z 0-9 _ -, not 'abort-incomplete') (see offsite restore --help)" \
	restore latest --type Daily
usage "restore -o without a value" \
	"offsite restore: option '-o' needs a value (see offsite restore --help)" \
	restore latest -o
usage "verify without a key" \
	"offsite verify: which backup? give a KEY, latest or --all (see offsite verify --help)" \
	verify
usage "verify --all and a key" \
	"offsite verify: --all or a KEY, not both (see offsite verify --help)" \
	verify --all latest
usage "verify --database with a key" \
	"offsite verify: --type and --database go with latest or --all (see offsite verify --help)" \
	verify daily/app/app-daily-20261120T010000Z.sql.gz --database app
usage "verify with a bad database" \
	"offsite verify: bad database '../x' (1 to 127 of A-Z a-z 0-9 _ . -) (see offsite verify --help)" \
	verify --all --database ../x

# A password in --to is refused before anything else, and not echoed.
pgmsg="offsite restore: --to holds a password, which every user of this host can read on the command line: put it in a password file (PGPASSFILE, or ~/.pgpass), not in --to (see offsite restore --help)"
usage "restore --to with password=" "$pgmsg" \
	restore latest --to "host=db dbname=x password=Sup3rSecret"
usage "restore --to with a URI's password" "$pgmsg" \
	restore latest --to "postgresql://app:Sup3rSecret@db/x"
usage "restore --to with a mysql DSN's password" \
	"offsite restore: --to holds a password, which every user of this host can read on the command line: put it in a password file (password_file in [database]), not in --to (see offsite restore --help)" \
	restore latest --to "mysql://app:Sup3rSecret@db:3306/x"
usage "restore --to with an sslpassword" \
	"offsite restore: --to holds an sslpassword, which every user of this host can read on the command line: put it in a password file (PGPASSFILE, or ~/.pgpass), not in --to (see offsite restore --help)" \
	restore latest --to "host=db sslpassword=Sup3rSecret"

# -o - into a terminal: refused (script gives the command a terminal).
script -qec "$OFFSITE -c $cfg restore latest -o - 2>$T_DIR/tty.err" \
	/dev/null >"$T_DIR/tty.out" </dev/null
t_eq "-o - on a terminal: exit 2" 2 "$?"
t_eq "-o - on a terminal: message" \
	"offsite restore: -o -: standard output is a terminal; redirect it to a file or a pipe (see offsite restore --help)" \
	"$(cat "$T_DIR/tty.err")"
t_eq "-o - on a terminal: nothing written to it" "" "$(cat "$T_DIR/tty.out")"
# Not a terminal: it gets as far as the (unreachable) storage.
t_run "$OFFSITE" -c "$cfg" restore latest -o - --trust-backup
t_eq "-o - into a file, and --trust-backup: past the usage checks" 1 "$T_RC"

echo "keep me" >"$T_DIR/exists.sql"
t_run "$OFFSITE" -c "$cfg" restore latest -o "$T_DIR/exists.sql"
t_eq "-o over an existing file: exit 1" 1 "$T_RC"
t_eq "-o over an existing file: message" \
	"offsite: $T_DIR/exists.sql exists: not overwriting it without --force" \
	"$(cat "$T_ERR")"
t_eq "-o over an existing file: the file is unchanged" "keep me" \
	"$(cat "$T_DIR/exists.sql")"

# Not even with --force over what is not a regular file: the rename at
# the end would replace a FIFO, a device or a link itself.
mkfifo "$T_DIR/fifo"
ln -s exists.sql "$T_DIR/link.sql"
for path in "$T_DIR/fifo" "$T_DIR/link.sql"; do
	usage "-o --force over ${path##*/}" \
		"offsite restore: $path is not a regular file; to write into it, give -o - and redirect (see offsite restore --help)" \
		restore latest -o "$path" --force
done
t_ok "the FIFO is still a FIFO" test -p "$T_DIR/fifo"
t_ok "the link is still a link" test -L "$T_DIR/link.sql"

t_done
