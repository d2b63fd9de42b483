# Shell test helpers: TAP output, command capture, assertions.
#
# A test script sources this file, calls the helpers, and ends with
# `t_done`. The runner (tests/run) counts the "ok" and "not ok" lines;
# a script that dies before t_done counts as one failure.
#
#   t_run CMD...                  run CMD, keep stdout in $T_OUT, stderr in
#                                 $T_ERR (file names), exit status in $T_RC
#                                 (124: stopped after T_RUN_TIMEOUT s)
#   t_ok DESC CMD...              pass if CMD succeeds
#   t_eq DESC EXPECTED ACTUAL     pass if the strings are equal
#   t_grep DESC PATTERN FILE      pass if FILE has a line matching PATTERN (grep -E)
#   t_nogrep DESC PATTERN FILE    pass if no line of FILE matches
#   t_until SECONDS CMD...        poll CMD (10 times a second) until it
#                                 succeeds; 1 if it did not within SECONDS
#   t_wait SECONDS PID            wait for the background job PID, at most
#                                 SECONDS; its status, or 124 (then PID was
#                                 killed: TERM, 5 s, KILL)
#
# $OFFSITE is the binary under test; $T_DIR a private temp directory.
#
# Nothing waits for good: every wait in a test is bounded (t_until,
# t_wait, t_run, timeout), curl gives up after T_CURL_MAX_TIME seconds (default
# 120), and tests/run stops a script that passes its time limit with TERM,
# on which the script exits, so that its EXIT trap runs.

set -u
# shellcheck source=tests/harness/procs.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness/procs.sh"
trap 'exit 143' TERM
# Configs are refused when group or others can write them: whatever the
# caller's umask, the files a test writes are not.
umask 022
T_N=0
T_FAILED=0
T_DIR=${T_DIR:-$(mktemp -d)}
T_OUT=$T_DIR/.out
T_ERR=$T_DIR/.err
T_RC=0
OFFSITE=${OFFSITE:-./offsite}

t_pass() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1"
}

t_fail() {
	T_N=$((T_N + 1))
	T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_N - $1"
	shift
	local line
	for line in "$@"; do
		printf '#   %s\n' "$line"
	done
}

# A program (not a shell function) gets T_RUN_TIMEOUT seconds (default
# 300); then it is stopped and T_RC is 124.
t_run() {
	T_RC=0
	if [ "$(type -t "$1")" = file ]; then
		timeout -k 10 "${T_RUN_TIMEOUT:-300}" "$@" \
			>"$T_OUT" 2>"$T_ERR" </dev/null || T_RC=$?
		[ $T_RC -ne 124 ] ||
			echo "t_run: stopped after ${T_RUN_TIMEOUT:-300} s: $1" >>"$T_ERR"
	else
		"$@" >"$T_OUT" 2>"$T_ERR" </dev/null || T_RC=$?
	fi
}

t_ok() {
	local desc=$1
	shift
	if "$@" >"$T_DIR/.ok.out" 2>&1; then
		t_pass "$desc"
	else
		t_fail "$desc" "command failed: $*" "$(tail -n 5 "$T_DIR/.ok.out")"
	fi
}

t_eq() {
	if [ "$2" = "$3" ]; then
		t_pass "$1"
	else
		t_fail "$1" "expected: $2" "     got: $3"
	fi
}

t_grep() {
	if grep -qE -- "$2" "$3"; then
		t_pass "$1"
	else
		t_fail "$1" "no line matches: $2" "$(head -n 5 "$3")"
	fi
}

t_nogrep() {
	if grep -qE -- "$2" "$3"; then
		t_fail "$1" "a line matches: $2" "$(grep -E -- "$2" "$3" | head -n 3)"
	else
		t_pass "$1"
	fi
}

t_done() {
	echo "1..$T_N"
	exit 0
}

t_until() {
	harness_wait "$@"
}

t_wait() {
	local seconds=$1 pid=$2 timer rc
	sleep "$seconds" &
	timer=$!
	harness_wait_either "$pid" "$timer"
	rc=$?
	if [ "$HARNESS_WHO" = "$timer" ]; then
		echo "# gave up waiting for PID $pid after $seconds s: stopping it"
		kill -TERM "$pid" 2>/dev/null
		harness_wait 5 harness_gone "$pid" || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	kill "$timer" 2>/dev/null
	wait "$timer" 2>/dev/null
	return $rc
}

# A server that accepts and never answers fails a test; it does not hang it.
curl() {
	command curl --max-time "${T_CURL_MAX_TIME:-120}" "$@"
}

# Signed S3 request with curl's own SigV4, independent of our s3/ code:
#   t_s3curl [--secret S] METHOD PATH [curl options...]
# Prints the body; "%{http_code}" is appended on its own last line.
# curl 7.88 does not send x-amz-content-sha256, which radosgw requires:
# we send the SHA-256 of the body we upload (-T FILE), or of nothing.
t_s3curl() {
	local secret=$RGW_SECRET_KEY
	if [ "$1" = --secret ]; then
		secret=$2
		shift 2
	fi
	local method=$1 path=$2
	shift 2
	local hash=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
	local prev= a
	for a in "$@"; do
		if [ "$prev" = -T ]; then
			hash=$(sha256sum "$a" | cut -d' ' -f1)
		fi
		prev=$a
	done
	curl -s -X "$method" --aws-sigv4 "aws:amz:$RGW_REGION:s3" \
		--user "$RGW_ACCESS_KEY:$secret" \
		-H "x-amz-content-sha256: $hash" \
		-w '\n%{http_code}' "$@" "$RGW_ENDPOINT$path"
}

# A bucket name unique to this test run.
t_bucket() {
	echo "t-$1-$(tr -dc 'a-z0-9' </dev/urandom | head -c 8)"
}

# A manifest for the object KEY whose bytes are in FILE, as a writer of
# the bucket without a key can make one: it parses and matches the object
# (plain bytes: gzip -dc's when FILE is gzip, else FILE's), and has no
# MAC. offsite takes it where no key is configured, never for an encrypted
# backup when one is. FORMAT is the dump format (default raw).
#   t_manifest KEY FILE [FORMAT] >manifest.json
t_manifest() {
	local key=$1 file=$2 format=${3:-raw} enc=null
	local type db sbytes ssha pbytes psha
	type=$(echo "$key" | awk -F/ '{print $(NF - 2)}')
	db=$(echo "$key" | awk -F/ '{print $(NF - 1)}')
	sbytes=$(wc -c <"$file" | tr -d ' ')
	ssha=$(sha256sum "$file" | cut -c1-64)
	if gzip -t "$file" 2>/dev/null; then
		pbytes=$(gzip -dc "$file" | wc -c | tr -d ' ')
		psha=$(gzip -dc "$file" | sha256sum | cut -c1-64)
	else
		pbytes=$sbytes
		psha=$ssha
	fi
	case $key in *.enc) enc='{"algorithm": "aes-256-gcm", "key_id": "0000000000000000"}' ;; esac
	printf '{"format": 1, "key": "%s", "type": "%s", "database": "%s",' "$key" "$type" "$db"
	printf ' "plain": {"bytes": %s, "sha256": "%s"},' "$pbytes" "$psha"
	printf ' "stored": {"bytes": %s, "sha256": "%s"},' "$sbytes" "$ssha"
	printf ' "parts": 0, "encryption": %s, "dump": {"format": "%s"}}\n' "$enc" "$format"
}
