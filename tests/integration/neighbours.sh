#!/bin/bash
# Hostile neighbours and hostile text, against radosgw: another local
# user (nobody, for real, through setpriv) who can write the metrics
# textfile directory cannot hang a backup by holding a lock there, cannot
# make offsite write into a file they made, and cannot plant series; a
# lock they hold in /tmp does not stop a backup. Text from the bucket
# (a manifest, a lifecycle rule's ID) reaches the terminal escaped: no
# escape sequence, no C1 control, no forged "ok" line. Needs root (to be
# another user): skipped otherwise.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

if [ "$(id -u)" -ne 0 ]; then
	t_pass "# SKIP acting as another user needs root"
	t_done
fi
unset XDG_RUNTIME_DIR
# The neighbour must reach the directory they may write, through ours.
chmod o+x "$(dirname "$T_DIR")" "$T_DIR"

# neighbour CMD...: run CMD as nobody.
neighbour() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env HOME=/nonexistent "$@"
}

# no_controls DESC FILE: no C0 control but newline, no DEL, no C1 byte.
no_controls() {
	local bad
	bad=$(LC_ALL=C grep -naP '[\x00-\x09\x0b-\x1f\x7f-\x9f]' "$2")
	t_eq "$1" "" "$(printf '%s' "$bad" | od -An -c | head -n 3)"
}

bucket=$(t_bucket neighbours)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
mkdir -m 0700 run
export RUNTIME_DIRECTORY=$T_DIR/run
# The textfile directory: the neighbour can write it (as when a
# collector's directory is shared).
mkdir -m 0777 prom
prom=$T_DIR/prom/offsite.prom

cat >offsite.ini <<EOF
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $bucket
prefix = db01
access_key = $RGW_ACCESS_KEY
secret_key_file = secret

[database]
name = app

[retention]
apply_on_backup = false

[metrics]
textfile = $prom
EOF

# backup NAME: a small backup, bounded in time.
backup() {
	T_RC=0
	echo "a dump of $1" | timeout 60 "$OFFSITE" -c offsite.ini backup \
		--stdin --name "$1" >"$T_OUT" 2>"$T_ERR" || T_RC=$?
}

# ---- the metrics lock: nothing another user can hold ----
# The neighbour takes the lock file the metrics used to be locked with,
# and holds it until we close its input.
mkfifo hold.in hold.out
chmod 666 hold.in hold.out
neighbour flock "$prom.lock" sh -c 'echo held; cat >/dev/null' \
	<hold.in >hold.out &
holder=$!
exec 7>hold.in 8<hold.out
t_eq "the neighbour holds $prom.lock" "held" "$(timeout 10 head -n 1 <&8)"
backup held
t_eq "a backup is not held up by it: exit 0" 0 "$T_RC"
t_grep "and the metrics are written" '^offsite_last_run_success\{type="manual",database="held"\} 1$' "$prom"
t_nogrep "without a warning" 'metrics not written' "$T_ERR"
t_eq "the metrics lock is ours alone" "root 600" \
	"$(stat -c '%U %a' run/metrics.lock)"
t_run neighbour cat run/metrics.lock
t_eq "the neighbour cannot open it" 1 "$T_RC"
exec 7>&- 8<&-
wait "$holder"

# ---- temporaries the neighbour made first are never ours ----
# Files at every name offsite once used for its temporary (PATH.tmp.PID)
# for the next 2000 PIDs, and a planted metrics file with a forged
# series in offsite's format.
last=$(cat /proc/sys/kernel/ns_last_pid)
neighbour sh -c "i=$last; while [ \$i -lt $((last + 2000)) ]; do
	echo planted >'$prom.tmp.'\$i; i=\$((i + 1)); done"
rm -f "$prom"
neighbour sh -c "printf '%s\n' 'offsite_last_run_success{type=\"daily\",database=\"forged\"} 1' >'$prom'"
backup planted
t_eq "a backup among planted files: exit 0" 0 "$T_RC"
t_eq "the metrics file is ours" "root 644" "$(stat -c '%U %a' "$prom")"
t_grep "with our series" 'database="planted"\} 1$' "$prom"
t_nogrep "and not the forged one" 'forged' "$prom"
t_grep "the planted file was not read back (warned)" 'metrics file replaced.*why="another user.s file"' "$T_ERR"
t_eq "every planted file is as the neighbour left it" "2000 nobody" \
	"$(cat "$prom".tmp.* | grep -c '^planted$') $(stat -c %U "$prom".tmp.* | sort -u)"
t_eq "and no temporary of ours is left" "" \
	"$(find prom -name 'offsite.prom.tmp.*' -user root)"
rm -f "$prom".tmp.*

# ---- a FIFO in the metrics file's place does not hang a backup ----
rm -f "$prom"
neighbour mkfifo "$prom"
backup fifo
t_eq "a FIFO for a metrics file: exit 0, in time" 0 "$T_RC"
t_ok "it is a regular file again, ours" test -f "$prom" -a ! -p "$prom"

# ---- a lock the neighbour holds in /tmp stops nothing ----
mkdir -m 0700 xdg
neighbour flock /tmp/offsite-squat.lock sh -c 'echo held; cat >/dev/null' \
	<hold.in >hold.out &
holder=$!
exec 7>hold.in 8<hold.out
t_eq "the neighbour holds /tmp/offsite-squat.lock" "held" \
	"$(timeout 10 head -n 1 <&8)"
if [ -e /run/offsite ] || [ -e /var/lib/offsite ]; then
	t_pass "# SKIP this machine has a lock directory for offsite"
else
	# No directory of its own: it says so; it never takes the one in
	# /tmp, which would be "another backup is running", exit 3.
	T_RC=0
	echo "a dump" | env -u RUNTIME_DIRECTORY timeout 60 "$OFFSITE" \
		-c offsite.ini backup --stdin --name squat \
		>"$T_OUT" 2>"$T_ERR" || T_RC=$?
	t_eq "with no lock directory of its own: exit 1, not 3" 1 "$T_RC"
	t_grep "it says so" 'no directory for the lock' "$T_ERR"
fi
T_RC=0
echo "a dump" | env -u RUNTIME_DIRECTORY XDG_RUNTIME_DIR="$T_DIR/xdg" \
	timeout 60 "$OFFSITE" -c offsite.ini backup --stdin --name squat \
	>"$T_OUT" 2>"$T_ERR" || T_RC=$?
t_eq "with \$XDG_RUNTIME_DIR, a backup is not locked out: exit 0" 0 "$T_RC"
t_nogrep "nor told another is running" 'another backup' "$T_ERR"
t_ok "its lock is there" test -f xdg/offsite-squat.lock
exec 7>&- 8<&-
wait "$holder"
rm -f /tmp/offsite-squat.lock

# ---- a manifest from the bucket reaches the terminal escaped ----
key=$(t_s3curl GET "/$bucket?list-type=2&prefix=db01%2Fmanual%2Fheld%2F" |
	grep -o '<Key>[^<]*\.sql\.gz</Key>' | sed 's/<[^>]*>//g' | head -n 1)
t_s3curl GET "/$bucket/$key.manifest" | sed '$d' >manifest.json
forged="\u001b[2J\u001b]0;owned\u0007\u009b31m\nok $key (plain 12 bytes, stored 40 bytes)"
# The key field: clear screen, set the title, CSI as C1, then a forged
# "ok" line. jq writes the escapes as JSON does.
jq -c ".key = \"$forged\"" manifest.json >forged.json
t_eq "the forged manifest is valid JSON" 0 "$(jq -e . forged.json >/dev/null; echo $?)"
t_s3curl PUT "/$bucket/$key.manifest" -T forged.json >/dev/null
t_run "$OFFSITE" -c offsite.ini verify "$key"
t_eq "verify of the forged manifest: exit 4" 4 "$T_RC"
t_eq "one line on stdout" 1 "$(wc -l <"$T_OUT")"
t_grep "FAILED, the escapes shown as text" \
	"^FAILED $key: .*\\\\x1b\\[2J\\\\x1b\\]0;owned\\\\x07\\\\xc2\\\\x9b31m\\\\nok " "$T_OUT"
t_nogrep "no forged ok line" '^ok ' "$T_OUT"
no_controls "no control character on stdout" "$T_OUT"
no_controls "nor on stderr" "$T_ERR"

# ---- a lifecycle rule's ID reaches the terminal escaped ----
cat >rules.xml <<EOF
<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Rule><ID>x&#x9b;2J&#10;ok           offsite-manual: expire manual/ after 30 days</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule>
</LifecycleConfiguration>
EOF
code=$(t_s3curl PUT "/$bucket?lifecycle=" -T rules.xml \
	-H "Content-MD5: $(openssl md5 -binary rules.xml | base64)" | tail -n 1)
t_eq "radosgw takes a rule ID with a C1 control and a newline" 200 "$code"
t_run "$OFFSITE" -c offsite.ini retention show
t_eq "retention show: exit 0" 0 "$T_RC"
t_grep "the rule is shown, escaped, on its own line" \
	'^other +x\\xc2\\x9b2J\\nok +offsite-manual: expire manual/ after 30 days: expire logs/ after 3 days \(not offsite.s\)$' \
	"$T_OUT"
t_nogrep "no forged ok line" '^ok ' "$T_OUT"
no_controls "no control character on stdout" "$T_OUT"

t_done
