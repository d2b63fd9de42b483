#!/bin/bash
# tests/run itself: no test file can hang the suite. A copy of the runner
# with test files of its own (and no binaries): one that hangs on a FIFO
# no writer ever opens, having started a child, a child that ignores TERM
# and a child in a process group of its own, is stopped after TEST_TIMEOUT
# with all of them, counted as failed with its name and last lines, and
# the run goes on to its summary line. STRESS=1 starts a CPU hog per core
# and stops them with the run: when it ends, when it is interrupted like
# Ctrl-C does, and (by themselves) when it is killed with -9.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

mkdir -p tree/tests/cli build
cp "$TESTS/run" "$TESTS/lib.sh" tree/tests/
cp -R "$TESTS/harness" tree/tests/
cat >tree/tests/cli/a_hang.sh <<EOF
#!/bin/bash
source "\$TESTS/lib.sh"
trap 'echo ran >"$T_DIR/hang.trap"' EXIT
echo \$\$ >"$T_DIR/hang.sid"
t_pass "before the hang"
sleep 300 &
(trap '' TERM; exec sleep 301) &
set -m
sleep 302 &
set +m
echo "# last words before the hang"
mkfifo fifo
cat fifo
t_done
EOF
cat >tree/tests/cli/b_pass.sh <<EOF
#!/bin/bash
source "\$TESTS/lib.sh"
echo \$\$ >"$T_DIR/pass.sid"
sleep 303 &
t_pass "the run goes on"
t_done
EOF

# The PIDs of the hogs, from the runner's output (FILE).
hogs() {
	sed -n 's/^== under load: .*PIDs \([0-9 ]*\).*/\1/p' "$1"
}
hogs_gone() {
	local pid
	for pid in $(hogs "$1"); do
		harness_gone "$pid" || return 1
	done
}

# ---- a test file that hangs ----
# The limit is every file's: long enough for the passing one to finish
# on a loaded machine, short enough for the hanging one to be waited out.
start=$SECONDS
t_run env TEST_TIMEOUT=6 STRESS=1 bash tree/tests/run --build "$T_DIR/build"
took=$((SECONDS - start))
cp "$T_OUT" run1.out
t_eq "a hanging file fails the run: exit 1" 1 "$T_RC"
t_grep "it is named, with the limit" \
	'^  tests/cli/a_hang\.sh: timed out after 6 s \(TEST_TIMEOUT\), stopped$' run1.out
t_grep "its last lines are shown" '^    # last words before the hang$' run1.out
t_grep "the run goes on to the next file" \
	'^tests/cli/b_pass\.sh +1 passed, 0 failed$' run1.out
t_eq "and ends with its summary line" "2 passed, 1 failed" "$(tail -n 1 run1.out)"
t_ok "within the limit and the grace (took ${took}s)" test "$took" -lt 60
t_ok "nothing of the hanging file is left (its session is empty)" \
	harness_session_empty "$(cat hang.sid)"
t_eq "it was stopped with TERM first: its EXIT trap ran" ran "$(cat hang.trap 2>/dev/null)"
t_grep "what a passing file leaves behind is stopped" \
	'it left 1 processes running: stopped them' run1.out
t_ok "and gone" harness_session_empty "$(cat pass.sid)"
t_eq "STRESS=1: one hog per core" "$(nproc)" "$(hogs run1.out | wc -w)"
t_ok "the hogs are gone with the run" hogs_gone run1.out

# ---- the run interrupted (Ctrl-C: SIGINT to its process group) ----
rm -f hang.sid
set -m
env TEST_TIMEOUT=100 STRESS=1 bash tree/tests/run --build "$T_DIR/build" \
	a_hang >run2.out 2>&1 &
pid=$!
set +m
t_until 60 test -s hang.sid
kill -INT -- -"$pid"
rc=0
t_wait 60 "$pid" || rc=$?
t_eq "interrupted: exit 130" 130 "$rc"
t_ok "the file under way was stopped" harness_session_empty "$(cat hang.sid)"
t_ok "the hogs were stopped" hogs_gone run2.out

# ---- the run killed with -9: nothing can clean up, the hogs end anyway ----
# In a session of its own, to see what of it is left.
rm -f hang.sid
mkdir tmp3
setsid env TEST_TIMEOUT=100 STRESS=1 TMPDIR="$T_DIR/tmp3" bash tree/tests/run \
	--build "$T_DIR/build" a_hang >run3.out 2>&1 &
pid=$!
t_until 60 test -s hang.sid
kill -KILL "$pid"
t_wait 60 "$pid" 2>/dev/null
t_ok "killed with -9: the hogs end by themselves" t_until 10 hogs_gone run3.out
t_ok "and so does everything else in its session (a timer)" \
	t_until 10 harness_session_empty "$pid"
t_ok "its keeper stops the file that was under way" \
	t_until 20 harness_session_empty "$(cat hang.sid)"
empty() { [ -z "$(ls -A "$1")" ]; }
t_ok "and removes its directory" t_until 20 empty tmp3

t_done
