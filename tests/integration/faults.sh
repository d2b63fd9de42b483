#!/bin/bash
# Rows of the fault matrix (tests/README.md) that the real servers can be
# made to show on cue: a dump tool that prints nothing or hangs, offsite
# killed by SIGKILL, two runs at once, a wrong secret key, a missing
# bucket, a restore with the wrong key or without a manifest. Each run
# that fails leaves nothing behind: no object under its key, no multipart
# upload, the right exit code and one clear log line.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket faults)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
(umask 077; printf '%s\n' "not-the-secret-key-at-all" >wrong_secret)
export RUNTIME_DIRECTORY=$T_DIR

source "$TESTS/harness/pg.sh"
pg_load_fixture faults_src

# write_config NAME [lines for [database]]
write_config() {
	local name=$1
	shift
	cat >"$name" <<EOF
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $bucket
access_key = $RGW_ACCESS_KEY
secret_key_file = secret
part_size = 5MiB

[database]
$(printf '%s\n' "$@")
EOF
}
keys_under() {
	t_s3curl GET "/$bucket?list-type=2&prefix=${1//\//%2F}" |
		grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g'
}
uploads_left() {
	t_s3curl GET "/$bucket?uploads=" | grep -c '<UploadId>'
}
check_nothing_left() { # DESC PREFIX
	t_eq "$1: no object stored" "" "$(keys_under "$2")"
	t_eq "$1: no multipart upload left" 0 "$(uploads_left)"
}
# The log's warnings and errors, one per line.
problems() {
	grep -E 'level=(warn|error)' "$1" || true
}
logs=$T_DIR/all.log
: >"$logs"
run() {
	t_run "$@"
	cat "$T_ERR" >>"$logs"
}
pg_conf="conninfo = host=$PGHOST port=$PGPORT dbname=faults_src user=$PGUSER"

# ---- the dump tool prints nothing, and exits 0 ----
mkdir -p empty hang
cat >empty/pg_dump <<EOF
#!/bin/sh
[ "\$1" = --version ] && exec "$PG_BIN/pg_dump" "\$@"
exit 0
EOF
# ---- ... or hangs: [database] timeout stops it ----
cat >hang/pg_dump <<EOF
#!/bin/sh
[ "\$1" = --version ] && exec "$PG_BIN/pg_dump" "\$@"
echo \$\$ >"$T_DIR/hang.pid"
exec sleep 600
EOF
chmod +x empty/pg_dump hang/pg_dump
write_config pg.ini "$pg_conf"

run env PATH="$T_DIR/empty:$PATH" "$OFFSITE" -c pg.ini backup --type empty
t_eq "pg_dump prints nothing: exit 1" 1 "$T_RC"
t_grep "it says the output is not a whole dump" \
	'msg="backup failed" .*error="pg_dump output ended without the end-of-dump marker"' "$T_ERR"
check_nothing_left "zero bytes" empty/

write_config hang.ini "$pg_conf" "timeout = 2s"
run env PATH="$T_DIR/hang:$PATH" "$OFFSITE" -c hang.ini backup --type hang
t_eq "pg_dump hangs past [database] timeout: exit 1" 1 "$T_RC"
t_grep "it says it timed out" 'msg="backup failed" .*error="pg_dump timed out after 2s"' "$T_ERR"
t_ok "the hung tool was stopped" test -s hang.pid
t_ok "and is gone" bash -c "! kill -0 $(cat hang.pid 2>/dev/null || echo 0) 2>/dev/null"
check_nothing_left "hang" hang/

# ---- SIGKILL mid-upload ----
# The dump writes 12 MB of noise (a multipart upload), then waits; once
# the upload exists offsite is killed. Nothing can clean up after
# SIGKILL: the upload stays, and the next run must not trip over it (an
# upload abort_incomplete_days old whose run is gone is aborted by the
# next backup: tests/integration/stale.sh, and with days-old uploads
# tests/unit/test_backup_faults.c).
write_config kill.ini "driver = command" "name = kill" \
	"command = sh -c 'echo \$\$ >$T_DIR/kill.pid; head -c 12000000 /dev/urandom; exec sleep 600'"
"$OFFSITE" -c kill.ini backup --type kill >kill.out 2>kill.err &
pid=$!
upload_begun() { [ "$(uploads_left)" -gt 0 ]; }
t_until 60 upload_begun
t_eq "the upload was under way" 1 "$(uploads_left)"
kill -KILL "$pid"
rc=0
t_wait 60 "$pid" 2>/dev/null || rc=$?
t_eq "SIGKILL: offsite died by it" 137 "$rc"
[ -s kill.pid ] && kill -KILL "$(cat kill.pid)" 2>/dev/null
t_eq "SIGKILL: no object stored" "" "$(keys_under kill/ | grep -v '\.uploading$')"
t_eq "SIGKILL: the upload's marker is left with it" 1 \
	"$(keys_under kill/ | grep -c '\.uploading$')"
t_eq "SIGKILL: the upload is left (nothing can clean up)" 1 "$(uploads_left)"
write_config kill2.ini "driver = command" "name = kill" "command = echo after"
run "$OFFSITE" -c kill2.ini backup --type kill
t_eq "the next run: exit 0" 0 "$T_RC"
t_eq "and it logs nothing wrong" "" "$(problems "$T_ERR")"
t_eq "it stored its backup and manifest" 2 "$(keys_under kill/ | grep -vc '\.uploading$')"
t_eq "a young stale upload is not touched" 1 "$(uploads_left)"
id=$(t_s3curl GET "/$bucket?uploads=" | grep -o '<UploadId>[^<]*' | sed 's/<UploadId>//')
kkey=$(t_s3curl GET "/$bucket?uploads=" | grep -o '<Key>[^<]*' | sed 's/<Key>//')
t_s3curl DELETE "/$bucket/$kkey?uploadId=$id" >/dev/null
t_eq "(the test aborted it)" 0 "$(uploads_left)"

# ---- two runs of the same database at once ----
# The first run's dump prints a line, then reads a FIFO until the test
# releases it. The release opens the FIFO for writing, which waits until
# the dump has it open for reading (so it cannot come too early and leave
# the dump waiting for a writer), and closes it: the dump reads its end.
mkfifo hold
write_config twice.ini "driver = command" "name = twice" \
	"command = sh -c 'echo first; cat $T_DIR/hold'"
"$OFFSITE" -c twice.ini backup --type twice >first.out 2>first.err &
pid=$!
locked() { ! flock -n offsite-twice.lock true; }
t_until 60 locked
t_ok "the first run holds the lock" locked
run "$OFFSITE" -c twice.ini backup --type twice
t_eq "a second run at the same time: exit 3" 3 "$T_RC"
t_grep "it says another is running" "another backup of 'twice' is running" "$T_ERR"
t_ok "the first run's dump is released" timeout 60 sh -c ': >hold'
rc=0
t_wait 120 "$pid" || rc=$?
t_eq "the first run completes: exit 0" 0 "$rc"
t_eq "one backup stored, with its manifest" 2 "$(keys_under twice/ | wc -l | tr -d ' ')"
t_eq "no multipart upload left" 0 "$(uploads_left)"

# ---- a wrong secret key: 403, not retried ----
write_config badsecret.ini "driver = command" "name = badsecret" "command = echo x"
sed -i 's/^secret_key_file = secret$/secret_key_file = wrong_secret/' badsecret.ini
run "$OFFSITE" -c badsecret.ini backup --type badsecret
t_eq "a wrong secret key: exit 1" 1 "$T_RC"
t_grep "one clear line: HTTP 403 and why" \
	'level=error msg="backup failed" .*error=".*HTTP 403 (SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId)' "$T_ERR"
t_nogrep "not retried" 'retrying|attempts\)' "$T_ERR"
t_nogrep "the wrong secret is not logged" 'not-the-secret-key-at-all' "$T_ERR"
check_nothing_left "wrong secret" badsecret/

# ---- a bucket that is not there ----
nobucket=$(t_bucket missing)
write_config nobucket.ini "driver = command" "name = nobucket" "command = echo x"
sed -i "s/^bucket = .*/bucket = $nobucket/" nobucket.ini
run "$OFFSITE" -c nobucket.ini backup --type nobucket
t_eq "a missing bucket: exit 1" 1 "$T_RC"
t_grep "one clear line: NoSuchBucket" \
	'level=error msg="backup failed" .*error=".*HTTP 404 NoSuchBucket' "$T_ERR"
t_nogrep "not retried" 'retrying' "$T_ERR"
t_grep "and no bucket was made" NoSuchBucket <(t_s3curl GET "/$nobucket?list-type=2")

# ---- restore: the wrong key, a manifest missing ----
"$OFFSITE" keygen -o right.key >/dev/null 2>&1
"$OFFSITE" keygen -o other.key >/dev/null 2>&1
write_config enc.ini "$pg_conf"
printf '\n[encryption]\nenabled = true\nkey_file = right.key\n' >>enc.ini
sed 's/^key_file = right.key$/key_file = other.key/' enc.ini >other.ini
run "$OFFSITE" -c enc.ini backup --type enc
t_eq "an encrypted backup: exit 0" 0 "$T_RC"
ekey=$(keys_under enc/ | grep '\.enc$')
createdb wrongkey_dst
run "$OFFSITE" -c other.ini restore "$ekey" --to "host=$PGHOST port=$PGPORT dbname=wrongkey_dst user=$PGUSER"
t_eq "restore with the wrong key: exit 4" 4 "$T_RC"
t_grep "it says the key is wrong, by key id" 'error="wrong key \(key id [0-9a-f]{16}; .*key id [0-9a-f]{16}\)' "$T_ERR"
t_eq "and the target database is still empty" 0 \
	"$(psql -X -A -t -d wrongkey_dst -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"
run "$OFFSITE" -c other.ini restore "$ekey" -o wrong.sql
t_eq "restore -o with the wrong key: exit 4" 4 "$T_RC"
t_ok "and no file is written" test ! -e wrong.sql

run "$OFFSITE" -c pg.ini backup --type nomanifest
t_eq "a plain backup: exit 0" 0 "$T_RC"
nkey=$(keys_under nomanifest/ | grep '\.sql\.gz$')
t_s3curl DELETE "/$bucket/$nkey.manifest" >/dev/null
t_eq "(the test deleted its manifest)" "$nkey" "$(keys_under nomanifest/)"
createdb nomanifest_dst
run "$OFFSITE" -c pg.ini restore "$nkey" --to "host=$PGHOST port=$PGPORT dbname=nomanifest_dst user=$PGUSER"
t_eq "restore without a manifest: exit 4" 4 "$T_RC"
t_grep "it says there is no manifest" 'error="no manifest: not a complete backup' "$T_ERR"
t_eq "and the target database is still empty" 0 \
	"$(psql -X -A -t -d nomanifest_dst -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"

t_nogrep "no secret in any log" "$RGW_SECRET_KEY|$PGPASSWORD" "$logs"
t_done
