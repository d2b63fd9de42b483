# Process helpers shared by the server harnesses, tests/run and
# tests/lib.sh: bounded waits, and stopping what we started, by PID or by
# session. Source this file; each function works on PIDs of processes we
# started.

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

# An ID for process PID that a reused PID does not match: "PID:START",
# START its start time (clock ticks since boot). Nothing if it is gone.
harness_pid_id() {
	local pid=$1 stat
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 0
	# The fields after the command (which may hold spaces or parentheses)
	# begin with field 3; the start time is field 22.
	# shellcheck disable=SC2086
	set -- ${stat##*) }
	echo "$pid:${20}"
}

# Stop the processes of IDS (harness_pid_id's, one per word) that still
# run as those very processes: TERM, GRACE seconds, then KILL.
harness_stop_ids() {
	local grace=$1 id pids=
	shift
	for id in "$@"; do
		[ -n "$id" ] && [ "$(harness_pid_id "${id%%:*}")" = "$id" ] &&
			pids="$pids ${id%%:*}"
	done
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null
	for id in $pids; do
		if ! harness_wait "$grace" harness_gone "$id"; then
			kill -KILL "$id" 2>/dev/null
			harness_wait 5 harness_gone "$id"
		fi
	done
}

# The live processes of session SID, one PID a line (zombies left out:
# they are gone, only not yet reaped).
harness_session_pids() {
	ps -e -o pid=,sid=,stat= | awk -v s="$1" '$2 == s && $3 !~ /^Z/ { print $1 }'
}

harness_session_empty() {
	[ -z "$(harness_session_pids "$1")" ]
}

# Stop every process of session SID: TERM, GRACE seconds (default 5),
# then KILL. Prints how many there were. A process that left the session
# (setsid, daemons) is out of reach: it is its starter's to stop.
harness_stop_session() {
	local sid=$1 grace=${2:-5} pids n
	pids=$(harness_session_pids "$sid")
	n=$(echo "$pids" | grep -c .)
	if [ "$n" -gt 0 ]; then
		# shellcheck disable=SC2086
		kill -TERM $pids 2>/dev/null
		if ! harness_wait "$grace" harness_session_empty "$sid"; then
			# shellcheck disable=SC2046
			kill -KILL $(harness_session_pids "$sid") 2>/dev/null
			harness_wait 5 harness_session_empty "$sid"
		fi
	fi
	echo "$n"
}

# Wait for the first of two children A and B to end; HARNESS_WHO is its
# PID (empty if neither is a child), the status is its status. Needs bash
# 5.1 (wait -n -p).
harness_wait_either() {
	local who rc
	while :; do
		who=
		wait -n -p who "$1" "$2"
		rc=$?
		# Empty WHO and a status above 128: a trapped signal came first.
		if [ -n "$who" ] || [ $rc -le 128 ]; then
			break
		fi
	done
	HARNESS_WHO=$who
	return $rc
}

# Run CMD in DIR, in a session (and process group) of its own, for at most
# SECONDS. Standard input is /dev/null; output goes where the caller
# redirected this function's. Returns CMD's exit status, and sets:
#   HARNESS_TIMED_OUT  1 when the time ran out: CMD's whole session was
#                      stopped (TERM, then KILL), and the status is 124
#   HARNESS_LEFT       how many processes CMD left running in its session
#                      when it ended (they are stopped too)
# While it runs, HARNESS_SESSION holds the session's ID, for a trap to
# stop it with harness_stop_session (and so does the file named by
# HARNESS_SESSION_FILE, if set).
HARNESS_SESSION=
HARNESS_TIMED_OUT=0
HARNESS_LEFT=0
harness_run_bounded() {
	local seconds=$1 dir=$2 pid timer rc
	shift 2
	HARNESS_TIMED_OUT=0
	HARNESS_LEFT=0
	# Not a process group leader (no job control here), setsid execs
	# CMD in place: its PID is the new session's ID.
	(cd "$dir" && exec setsid "$@") </dev/null &
	pid=$!
	HARNESS_SESSION=$pid
	[ -z "${HARNESS_SESSION_FILE:-}" ] || echo "$pid" >"$HARNESS_SESSION_FILE"
	# The timer; it also ends within a second of this shell's death, so
	# that nothing of ours outlives a runner killed with -9 for long.
	timeout "$seconds" tail --pid=$$ -f /dev/null &
	timer=$!
	harness_wait_either "$pid" "$timer"
	rc=$?
	if [ "$HARNESS_WHO" = "$timer" ]; then
		HARNESS_TIMED_OUT=1
		harness_stop_session "$pid" >/dev/null
		wait "$pid" 2>/dev/null
		rc=124
	else
		kill "$timer" 2>/dev/null
		wait "$timer" 2>/dev/null
		HARNESS_LEFT=$(harness_stop_session "$pid")
	fi
	HARNESS_SESSION=
	[ -z "${HARNESS_SESSION_FILE:-}" ] || : >"$HARNESS_SESSION_FILE"
	return $rc
}
