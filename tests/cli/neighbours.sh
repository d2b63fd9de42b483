#!/bin/bash
# What another local user, or text from outside, can do to offsite with no
# server in play: control characters never reach the terminal (errors
# escape them), secrets stay out of `offsite config` and out of core
# dumps, a config or key file another user owns or can change is refused,
# and the lock goes only in a directory no other user can write, with a
# message that says why when it cannot. The neighbour is a real other
# user, nobody, through setpriv: those cases need root and are skipped
# otherwise.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
unset OFFSITE_CONFIG RUNTIME_DIRECTORY XDG_RUNTIME_DIR AWS_ACCESS_KEY_ID \
	AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$T_DIR" || exit 1
is_root=0
[ "$(id -u)" -eq 0 ] && is_root=1

# as_nobody CMD...: run CMD as the neighbour, with no home of ours.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env HOME=/nonexistent "$@"
}

# no_controls DESC FILE: no C0 control but newline, no DEL, no C1 byte.
no_controls() {
	local bad
	bad=$(LC_ALL=C grep -naP '[\x00-\x09\x0b-\x1f\x7f-\x9f]' "$2")
	t_eq "$1" "" "$(printf '%s' "$bad" | od -An -c | head -n 3)"
}

# A bucket on a port nobody listens on: nothing here gets that far.
cat >offsite.ini <<EOF
[storage]
endpoint = http://127.0.0.1:9
bucket = backups
access_key = AKIDEXAMPLE

[database]
name = app
conninfo = host=db dbname=app sslpassword=ssl-Secret-4q9 password=pw-Secret-7k2
EOF

# ---- terminal injection: errors are escaped ----
t_run "$OFFSITE" $'\e]0;owned\a\x9b2J\xc2\x9b1m'
t_eq "an unknown command with escape sequences: exit 2" 2 "$T_RC"
t_eq "and the error shows them escaped" \
	"offsite: unknown command '\\x1b]0;owned\\x07\\x9b2J\\xc2\\x9b1m' (see offsite --help)" \
	"$(cat "$T_ERR")"
no_controls "no control character reaches the terminal" "$T_ERR"

printf '[storage]\nbucket = backups\n\033[2Jcolour\302\233 = x\n' >esc.ini
t_run "$OFFSITE" -c esc.ini config
t_eq "a config line with escape sequences: exit 2" 2 "$T_RC"
t_grep "the error names it escaped" 'esc\.ini:3: .*\\x1b\[2Jcolour\\xc2\\x9b' "$T_ERR"
no_controls "and writes no control character" "$T_ERR"

t_run "$OFFSITE" -c offsite.ini list --type $'daily\n2026 level=info msg="backup done"'
t_eq "a forged log line in an argument: exit 2" 2 "$T_RC"
t_eq "stays on one line" 1 "$(wc -l <"$T_ERR")"

# ---- offsite config hides every libpq password ----
t_run "$OFFSITE" -c offsite.ini config
t_eq "offsite config: exit 0" 0 "$T_RC"
t_grep "sslpassword is redacted" \
	'^conninfo = host=db dbname=app sslpassword=<redacted> password=<redacted>$' "$T_OUT"
t_nogrep "its value is nowhere" 'ssl-Secret|pw-Secret' "$T_OUT"

# ---- the config: only its owner, us or root, may change it ----
cp offsite.ini gw.ini
chmod 0664 gw.ini
t_run "$OFFSITE" -c "$T_DIR/gw.ini" config
t_eq "a group-writable config: exit 2" 2 "$T_RC"
t_eq "refused with the fix" \
	"offsite: config '$T_DIR/gw.ini': permissions 0664 let others change it; it must be writable by its owner only (chmod go-w $T_DIR/gw.ini)" \
	"$(cat "$T_ERR")"

if [ $is_root -eq 1 ]; then
	cp offsite.ini theirs.ini
	chown nobody:nogroup theirs.ini
	t_run "$OFFSITE" -c "$T_DIR/theirs.ini" config
	t_eq "a config another user owns: exit 2" 2 "$T_RC"
	t_eq "refused, naming the owner" \
		"offsite: config '$T_DIR/theirs.ini' is owned by nobody (uid 65534); it must belong to root (chown it)" \
		"$(cat "$T_ERR")"
	t_run as_nobody "$OFFSITE" -c "$T_DIR/offsite.ini" config
	t_eq "root's config, read by another user: exit 0" 0 "$T_RC"

	# ---- a key file another user owns ----
	"$OFFSITE" keygen -o theirs.key >/dev/null
	chown nobody:nogroup theirs.key
	cat >enc.ini <<EOF
[storage]
bucket = backups
access_key = AKIDEXAMPLE

[database]
name = app

[encryption]
enabled = true
key_file = $T_DIR/theirs.key
EOF
	t_run "$OFFSITE" -c enc.ini config
	t_eq "a key file another user owns: exit 2" 2 "$T_RC"
	t_eq "refused, naming the owner" \
		"offsite: enc.ini:10: key_file '$T_DIR/theirs.key' is owned by nobody (uid 65534); it must belong to root or offsite (chown it)" \
		"$(cat "$T_ERR")"
	t_run "$OFFSITE" decrypt -k theirs.key
	t_eq "decrypt -k with another user's key: refused" \
		"offsite: key file 'theirs.key' is owned by nobody (uid 65534); it must belong to root or offsite (chown it)" \
		"$(cat "$T_ERR")"
	t_eq "with exit 2" 2 "$T_RC"

	# ---- not dumpable, no core: seen from outside while it runs ----
	# decrypt as nobody, fed the test vector less its last byte: it
	# writes the first segments, then waits for the rest.
	printf '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n' >vector.key
	chmod 600 vector.key
	chown nobody:nogroup vector.key
	mkfifo in.fifo out.fifo
	chmod 666 in.fifo out.fifo
	# Not through as_nobody: $! must be offsite's own PID (setpriv and
	# env exec it).
	setpriv --reuid=nobody --regid=nogroup --clear-groups env \
		HOME=/nonexistent "$OFFSITE" decrypt -k vector.key \
		<in.fifo >out.fifo 2>decrypt.err &
	pid=$!
	exec 5>in.fifo 6<out.fifo
	head -c -1 "$root/tests/fixtures/vector.enc" >&5
	t_eq "a running offsite (decrypt, as nobody) has written" "offsite" \
		"$(timeout 10 head -c 7 <&6)"
	t_eq "that is offsite, as nobody" "offsite nobody" \
		"$(cat "/proc/$pid/comm") $(stat -c %U "/proc/$pid")"
	t_eq "its /proc entries belong to root: not dumpable" "root" \
		"$(stat -c %U "/proc/$pid/status")"
	t_grep "and it can dump no core" '^Max core file size +0 +0 ' "/proc/$pid/limits"
	exec 5>&- 6<&-
	rc=0
	timeout 10 tail --pid="$pid" -f /dev/null || rc=$?
	t_eq "it ends once its input does" 0 "$rc"
	wait "$pid"
	t_eq "with exit 4 (cut short)" 4 "$?"
else
	t_pass "# SKIP acting as another user needs root"
fi

# ---- the lock: only in a directory we own ----
backup() { # RUNTIME_DIRECTORY, then the command prefix
	local dir=$1
	shift
	T_RC=0
	echo data | RUNTIME_DIRECTORY=$dir AWS_SECRET_ACCESS_KEY=x "$@" \
		"$OFFSITE" -c "$T_DIR/offsite.ini" backup --stdin --name app \
		>"$T_OUT" 2>"$T_ERR" || T_RC=$?
}
mkdir -m 0770 shared
backup "$T_DIR/shared"
t_eq "a group-writable lock directory: exit 1" 1 "$T_RC"
t_eq "refused with the fix" \
	"offsite: lock directory '$T_DIR/shared': permissions 0770 let others create files in it; it must be writable by its owner only (chmod go-w $T_DIR/shared)" \
	"$(cat "$T_ERR")"
t_ok "and no lock was made there" test ! -e shared/offsite-app.lock
backup "$T_DIR/gone"
t_eq "a missing lock directory: exit 1" 1 "$T_RC"
t_eq "the message has strerror" \
	"offsite: cannot open the lock directory $T_DIR/gone: No such file or directory" \
	"$(cat "$T_ERR")"

if [ $is_root -eq 1 ]; then
	mkdir -m 0700 theirs
	chown nobody:nogroup theirs
	backup "$T_DIR/theirs"
	t_eq "a lock directory another user owns: exit 1" 1 "$T_RC"
	t_eq "refused, naming the owner" \
		"offsite: lock directory '$T_DIR/theirs' is owned by nobody (uid 65534); it must belong to root or offsite (chown it)" \
		"$(cat "$T_ERR")"
	t_ok "nothing was made there" test -z "$(ls -A theirs)"

	mkdir -m 0755 roots
	backup "$T_DIR/roots" as_nobody
	t_eq "as nobody, in root's directory: exit 1" 1 "$T_RC"
	t_eq "the message has strerror" \
		"offsite: cannot open the lock $T_DIR/roots/offsite-app.lock: Permission denied" \
		"$(cat "$T_ERR")"

	if [ -e /run/offsite ] || [ -e /var/lib/offsite ]; then
		t_pass "# SKIP this machine has a lock directory for offsite"
	else
		# No directory of its own: an error, never /tmp, even with a
		# lock there that a neighbour holds.
		rm -f /tmp/offsite-app.lock
		T_RC=0
		echo data | as_nobody env -u RUNTIME_DIRECTORY \
			AWS_SECRET_ACCESS_KEY=x "$OFFSITE" -c "$T_DIR/offsite.ini" \
			backup --stdin --name app >"$T_OUT" 2>"$T_ERR" || T_RC=$?
		t_eq "no lock directory: exit 1, not 3" 1 "$T_RC"
		t_grep "and it says so" '^offsite: no directory for the lock: .*/tmp is never used' "$T_ERR"
		t_ok "no lock in /tmp" test ! -e /tmp/offsite-app.lock
	fi
else
	t_pass "# SKIP acting as another user needs root"
fi

t_done
