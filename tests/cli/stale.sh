#!/bin/bash
# abort_incomplete_days through the real binary: never shorter than the
# longest a backup may run ([database] timeout + 1h, or 2 days), a
# shorter one is a configuration error (exit 2, one line that says what
# to set) for every command, and unset it is that bound in whole days.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1
unset OFFSITE_CONFIG OFFSITE_TEST_LONGEST_RUN

# write NAME [database lines] [retention lines]
write() {
	cat >"$1" <<EOF2
[storage]
bucket = backups

[database]
name = app
$2

[retention]
$3
EOF2
}

write short.ini "" "abort_incomplete_days = 1"
for cmd in config backup "retention apply --dry-run" "retention prune"; do
	# shellcheck disable=SC2086
	t_run "$OFFSITE" -c short.ini $cmd
	t_eq "1 day without a timeout, $cmd: exit 2" 2 "$T_RC"
done
t_eq "the message names the line, the bound and the fix" \
	"offsite: short.ini:9: abort_incomplete_days = 1 in [retention] is shorter than a backup may run (2d, without a [database] timeout): the bucket would abort an upload still in progress; set 2 or more, or set [database] timeout" \
	"$(cat "$T_ERR")"

write long.ini "timeout = 2d" "abort_incomplete_days = 2"
t_run "$OFFSITE" -c long.ini config
t_eq "2 days with a 2d timeout: exit 2" 2 "$T_RC"
t_grep "it asks for 3" 'long\.ini:9: abort_incomplete_days = 2 .*\(2d1h, \[database\] timeout \+ 1h\).*set 3 or more, or a shorter timeout$' "$T_ERR"

write ok.ini "timeout = 6h" "abort_incomplete_days = 1"
t_run "$OFFSITE" -c ok.ini config
t_eq "1 day with a 6h timeout: exit 0" 0 "$T_RC"
t_grep "and it stays 1" '^abort_incomplete_days = 1$' "$T_OUT"

write default.ini "" ""
t_run "$OFFSITE" -c default.ini config
t_grep "unset, without a timeout: 2 days" '^abort_incomplete_days = 2$' "$T_OUT"
write default3.ini "timeout = 3d" ""
t_run "$OFFSITE" -c default3.ini config
t_grep "unset, with a 3d timeout: 4 days" '^abort_incomplete_days = 4$' "$T_OUT"
t_done
