#!/bin/bash
# Stale uploads against radosgw: an upload is aborted by our own rules
# only when no run can still be writing it (retention/stale.h).
#
# Three databases in one bucket. "dead": a run killed by SIGKILL mid-upload
# (its upload and marker stay, its lock is gone). "slow": a run whose dump
# blocks on a FIFO the test holds open, mid-upload, until the test lets
# it go. "quick": backed up meanwhile, with the threshold lowered to zero
# for the test (OFFSITE_TEST_LONGEST_RUN=0s: every unfinished upload is
# old enough, so only whether a run is still writing it decides). The
# quick run aborts the dead upload and leaves the slow one, which then
# completes. Then `check` on the manifest's duration.
#
# The bucket has no lifecycle rule while uploads are in flight
# (apply_on_backup = false): radosgw's day is seconds long here, and its
# abort rule is not what this test is about.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket stale)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
export RUNTIME_DIRECTORY=$T_DIR
host=$(uname -n | tr -c 'A-Za-z0-9.\n-' - | cut -c1-63)

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
driver = command
$(printf '%s\n' "$@")

[retention]
apply_on_backup = false
EOF
}
keys_under() {
	t_s3curl GET "/$bucket?list-type=2&prefix=${1//\//%2F}" |
		grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g'
}
uploads_of() { # DATABASE: how many unfinished uploads it has
	t_s3curl GET "/$bucket?uploads=" | grep -o "<Key>daily/$1/[^<]*</Key>" |
		grep -c . || true
}
markers_of() { # DATABASE
	keys_under "daily/$1/" | grep -c '\.uploading$' || true
}
# wait_until SECONDS CMD...: poll CMD until it succeeds, for at most
# SECONDS (bounded with timeout(1); the loop checks a condition, it does
# not sleep in place of one).
wait_until() {
	local secs=$1
	shift
	timeout "$secs" bash -c 'until "$@"; do sleep 0.1; done' _ "$@"
}
has_upload() { [ "$(uploads_of "$1")" -gt 0 ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
export -f keys_under uploads_of has_upload gone t_s3curl
export bucket

# ---- dead: SIGKILL mid-upload ----
write_config dead.ini "name = dead" \
	"command = sh -c 'echo \$\$ >$T_DIR/dead.pid; head -c 12000000 /dev/urandom; exec sleep 600'"
"$OFFSITE" -c dead.ini backup --type daily >dead.out 2>dead.err &
pid=$!
wait_until 60 has_upload dead
t_eq "dead: its upload is under way" 1 "$(uploads_of dead)"
t_eq "dead: with its marker beside it" 1 "$(markers_of dead)"
t_grep "dead: the marker names this host and the process" \
	"^host=$host\$" <(t_s3curl GET "/$bucket/$(keys_under daily/dead/ | grep '\.uploading$')")
kill -KILL "$pid"
rc=0
{ wait "$pid"; } 2>/dev/null || rc=$?
t_eq "dead: killed by SIGKILL" 137 "$rc"
[ -s dead.pid ] && kill -KILL "$(cat dead.pid)" 2>/dev/null
t_eq "dead: its upload is left" 1 "$(uploads_of dead)"
t_ok "dead: and its lock is free" flock -n offsite-dead.lock true

# ---- slow: a live upload, held mid-dump ----
# The test holds the FIFO open from before the run starts, so the dump's
# open never waits for a writer; closing it is the dump's end (EOF). The
# run itself does not inherit the test's end (3>&-).
mkfifo hold
exec 3<>hold
write_config slow.ini "name = slow" \
	"command = sh -c 'exec 4<$T_DIR/hold; head -c 12000000 /dev/urandom; exec timeout 120 cat <&4'"
"$OFFSITE" -c slow.ini backup --type daily >slow.out 2>slow.err 3>&- &
slow=$!
wait_until 60 has_upload slow
t_eq "slow: its upload is under way" 1 "$(uploads_of slow)"
t_eq "slow: with its marker" 1 "$(markers_of slow)"
t_ok "slow: its run holds the lock" bash -c "! flock -n offsite-slow.lock true"

# ---- prune, then quick, meanwhile ----
write_config quick.ini "name = quick" "command = echo quick"
t_run env OFFSITE_TEST_LONGEST_RUN=0s "$OFFSITE" -c quick.ini retention prune --dry-run
t_eq "prune --dry-run: exit 0" 0 "$T_RC"
t_grep "it would abort the dead upload" '^would abort  daily/dead/dead-daily-' "$T_OUT"
t_grep "it keeps the slow one: its run is going on this host" \
	"^keep         daily/slow/slow-daily-[0-9TZ]+\.sql\.gz \(incomplete upload started [0-9TZ]+, still running on $host\)\$" "$T_OUT"

t_run env OFFSITE_TEST_LONGEST_RUN=0s "$OFFSITE" -c quick.ini backup --type daily
t_eq "quick, backed up meanwhile: exit 0" 0 "$T_RC"
t_grep "quick aborts the dead upload" \
	'level=info msg="aborted a stale incomplete upload" key=daily/dead/dead-daily-' "$T_ERR"
t_grep "and leaves the slow one alone" \
	"level=info msg=\"an old incomplete upload is still running: left alone\" key=daily/slow/slow-daily-[0-9TZ]+\\.sql\\.gz started=[0-9TZ]+ host=$host" "$T_ERR"
t_nogrep "nothing else is wrong" 'level=(warn|error)' "$T_ERR"
t_eq "the dead upload is gone" 0 "$(uploads_of dead)"
t_eq "and its marker" "" "$(keys_under daily/dead/)"
t_eq "the slow upload is still there" 1 "$(uploads_of slow)"
t_eq "with its marker" 1 "$(markers_of slow)"
t_eq "quick stored its backup and manifest, no marker left" 2 \
	"$(keys_under daily/quick/ | grep -c '\.sql\.gz\(\.manifest\)\?$')"
t_eq "(nothing else under quick/)" 2 "$(keys_under daily/quick/ | wc -l | tr -d ' ')"

t_run env OFFSITE_TEST_LONGEST_RUN=0s "$OFFSITE" -c quick.ini retention prune
t_eq "prune meanwhile: exit 0" 0 "$T_RC"
t_grep "it aborts nothing" '^pruned 0 backups \([^)]*\), 0 incomplete uploads$' "$T_OUT"
t_eq "the slow upload is still there" 1 "$(uploads_of slow)"

# ---- the slow run ends ----
exec 3>&-
wait_until 120 gone "$slow"
rc=0
if gone "$slow"; then wait "$slow" || rc=$?; else kill -KILL "$slow"; rc=timeout; fi
t_eq "slow: the upload that outlived the threshold completes: exit 0" 0 "$rc"
t_grep "slow: backup complete" 'msg="backup complete" key=daily/slow/slow-daily-' slow.err
t_eq "slow: backup and manifest stored, the marker gone" 2 \
	"$(keys_under daily/slow/ | grep -c '\.sql\.gz\(\.manifest\)\?$')"
t_eq "(nothing else under slow/)" 2 "$(keys_under daily/slow/ | wc -l | tr -d ' ')"
t_eq "no unfinished upload is left" 0 "$(uploads_of '[a-z]*')"

# ---- check: the last backup's duration against the longest run ----
# The bound lowered to 10 s for the test: a dump of 5.5 s is past half.
write_config late.ini "name = late" "command = sh -c 'echo late; exec sleep 5.5'"
write_config early.ini "name = early" "command = echo early"
t_run "$OFFSITE" -c late.ini backup --type daily
t_eq "a backup that takes 5.5 s: exit 0" 0 "$T_RC"
t_run "$OFFSITE" -c early.ini backup --type daily
t_eq "a quick one: exit 0" 0 "$T_RC"
t_run "$OFFSITE" -c late.ini retention apply
t_eq "(the bucket gets its rules)" 0 "$T_RC"
t_run env OFFSITE_TEST_LONGEST_RUN=10s "$OFFSITE" -c late.ini check
t_eq "check warns, and still passes: exit 0" 0 "$T_RC"
t_grep "the duration line warns, with the numbers and what to do" \
	'^WARN  duration     the last backup of late took [56]\.[0-9]s, over half the longest a backup may run \(10s, without a \[database\] timeout\): .*set \[database\] timeout' "$T_OUT"
t_run env OFFSITE_TEST_LONGEST_RUN=10s "$OFFSITE" -c early.ini check
t_grep "a backup well inside: ok" \
	'^ok    duration     the last backup of early took [0-4]\.[0-9]s; a backup may run 10s' "$T_OUT"
t_run "$OFFSITE" -c early.ini check
t_grep "without the knob: two days" \
	'^ok    duration     the last backup of early took [0-4]\.[0-9]s; a backup may run 2d \(without a \[database\] timeout\)$' "$T_OUT"
write_config none.ini "name = none" "command = echo none"
t_run "$OFFSITE" -c none.ini check
t_grep "no backup yet: skipped" '^skip  duration     no complete backup of none yet$' "$T_OUT"

t_nogrep "no secret in any log" "$RGW_SECRET_KEY" <(cat ./*.err "$T_ERR")
t_done
