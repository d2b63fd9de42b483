# A throwaway S3rver (@20minutes/s3rver, a second S3 implementation in
# Node.js) on 127.0.0.1, storing objects in a directory of its own. Source
# this file, then:
#
#   s3rver_start DIR FREEPORT   start it; writes DIR/env
#   s3rver_stop DIR             stop it, by PID
#
# DIR/env sets S3RVER_ENDPOINT, S3RVER_PORT, S3RVER_ACCESS_KEY,
# S3RVER_SECRET_KEY, S3RVER_REGION and S3RVER_VHOST_ENDPOINT. The PID is
# in DIR/pids.
#
# Choices, each for a reason:
# - the package is installed by tests/harness/deps into build/npm (set
#   S3RVER_PREFIX to use another), pinned, so every run tests one version.
# - S3rver verifies SigV4 (headers and presigned query) against one fixed
#   key pair, S3RVER/S3RVER; there is no option for another.
# - --service-endpoint localhost: S3rver takes the bucket from a host
#   named BUCKET.s3.localhost, which curl resolves to loopback itself.
# - node --openssl-legacy-provider: S3rver 4 still asks OpenSSL for
#   digests that OpenSSL 3 only has in its legacy provider.

S3RVER_VERSION=4.0.4

source "$(dirname "${BASH_SOURCE[0]}")/procs.sh"

s3rver_log() {
	echo "s3rver: $*" >&2
}

s3rver_cli() {
	local root
	root=${S3RVER_PREFIX:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/npm}
	echo "$root/node_modules/@20minutes/s3rver/lib/cli.js"
}

# Running: not gone, not a zombie.
s3rver_alive() {
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$state" != Z ]
}

s3rver_start() {
	local dir=$1 freeport=$2
	local cli port pid attempt

	cli=$(s3rver_cli)
	if ! grep -qs "\"version\": \"$S3RVER_VERSION\"" \
		"$(dirname "$cli")/../package.json"; then
		s3rver_log "version $S3RVER_VERSION not installed; run tests/harness/deps"
		return 1
	fi
	mkdir -p "$dir"/{data,log}
	: >"$dir/pids"
	# A port from freeport may be taken before S3rver binds it: then
	# node exits at once, and we try another.
	for attempt in 1 2 3; do
		port=$("$freeport" 1) || return 1
		node --openssl-legacy-provider \
			-e 'require(process.argv[1]).parseAsync(process.argv)' \
			"$cli" -d "$dir/data" -a 127.0.0.1 -p "$port" \
			--service-endpoint localhost \
			>>"$dir/log/s3rver.out" 2>&1 &
		pid=$!
		echo "$pid" >>"$dir/pids"
		if harness_wait 30 s3rver_poll "$pid" "$port" &&
			s3rver_alive "$pid"; then
			break
		fi
		s3rver_stop "$dir"
		s3rver_log "attempt $attempt: did not answer on port $port"
		[ $attempt -lt 3 ] || return 1
	done

	umask 077
	cat >"$dir/env" <<-EOF
	S3RVER_PORT=$port
	S3RVER_ENDPOINT=http://127.0.0.1:$port
	S3RVER_VHOST_ENDPOINT=http://s3.localhost:$port
	S3RVER_REGION=us-east-1
	S3RVER_ACCESS_KEY=S3RVER
	S3RVER_SECRET_KEY=S3RVER
	EOF
}

# For harness_wait: done when it answers, or when it has died.
s3rver_poll() {
	s3rver_alive "$1" || return 0
	curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$2/"
}

s3rver_stop() {
	harness_stop_pids "$1/pids" 5
}

