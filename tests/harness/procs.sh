# Process helpers shared by the server harnesses (rgw.sh, s3rver.sh).
# Source this file; each function works on PIDs of processes we started.

# Poll CMD until it succeeds, at most SECONDS seconds (0.1 s apart).
harness_wait() {
	local seconds=$1
	shift
	local deadline=$((SECONDS + seconds))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			return 1
		fi
		sleep 0.1
	done
}

# PID is gone, or a zombie waiting for us to reap it (then reap it).
harness_gone() {
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[ "$state" = Z ] || return 1
	wait "$1" 2>/dev/null || true
}

# Stop the PIDs listed in FILE, in the order ORDER prints them (cat, or
# tac for newest first): TERM to all, GRACE seconds for each to go, then
# KILL. Empties FILE.
harness_stop_pids() {
	local file=$1 grace=$2 order=${3:-cat} pid
	[ -f "$file" ] || return 0
	for pid in $($order "$file"); do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $($order "$file"); do
		if ! harness_wait "$grace" harness_gone "$pid"; then
			kill -KILL "$pid" 2>/dev/null || true
			harness_wait 5 harness_gone "$pid" || true
		fi
	done
	: >"$file"
}
