# Shell test helpers: TAP output, command capture, assertions.
#
# A test script sources this file, calls the helpers, and ends with
# `t_done`. The runner (tests/run) counts the "ok" and "not ok" lines;
# a script that dies before t_done counts as one failure.
#
#   t_run CMD...                  run CMD, keep stdout in $T_OUT, stderr in
#                                 $T_ERR (file names), exit status in $T_RC
#   t_ok DESC CMD...              pass if CMD succeeds
#   t_eq DESC EXPECTED ACTUAL     pass if the strings are equal
#   t_grep DESC PATTERN FILE      pass if FILE has a line matching PATTERN (grep -E)
#   t_nogrep DESC PATTERN FILE    pass if no line of FILE matches
#
# $OFFSITE is the binary under test; $T_DIR a private temp directory.

set -u
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

t_run() {
	T_RC=0
	"$@" >"$T_OUT" 2>"$T_ERR" </dev/null || T_RC=$?
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
