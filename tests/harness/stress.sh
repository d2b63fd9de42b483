# Load on purpose: a CPU hog on every core beside the tests (make check
# STRESS=1), to shake out races that only show on a busy machine. Source
# this file (after procs.sh), then:
#
#   stress_start PIDFILE [N]   start N hogs (default: one per core, nproc)
#   stress_stop PIDFILE        stop them, by PID
#
# A hog is a busy shell loop. It also ends by itself once the shell that
# started it is gone (killed with -9, say), checking many times a second,
# and after STRESS_MAX_SECONDS (default 6 hours) whatever happens.

stress_start() {
	local pids=$1 n=${2:-$(nproc)} parent=$$ max=${STRESS_MAX_SECONDS:-21600} i
	: >"$pids"
	for ((i = 0; i < n; i++)); do
		(
			while kill -0 "$parent" 2>/dev/null && [ $SECONDS -lt "$max" ]; do
				for ((j = 0; j < 20000; j++)); do :; done
			done
		) </dev/null >/dev/null 2>&1 &
		echo $! >>"$pids"
	done
}

stress_stop() {
	harness_stop_pids "$1" 2
}
