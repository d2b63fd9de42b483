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
