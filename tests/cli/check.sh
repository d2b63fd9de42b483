#!/bin/bash
# offsite check without servers: a config that does not load is a failed
# check (exit 1, its reason on the config line), not a usage error, and
# every other check is then skipped.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

t_run "$OFFSITE" -c nope.ini check
t_eq "a missing config: exit 1" 1 "$T_RC"
t_grep "the config line says why" '^FAIL  config       cannot read config nope\.ini: No such file' "$T_OUT"
t_eq "then one skip line per other check" 12 "$(grep -cE '^skip  [a-z-]+ +the config did not load$' "$T_OUT")"
t_eq "nothing on stderr" "" "$(cat "$T_ERR")"

printf '[storage]\nbucket = backups\nbogus = 1\n[database]\nname = app\n' >bad.ini
t_run "$OFFSITE" -c bad.ini check
t_eq "an unknown key: exit 1" 1 "$T_RC"
t_grep "named with its line" "^FAIL  config       bad\.ini:3: .*bogus" "$T_OUT"

printf '[storage]\nbucket = backups\n[database]\nname = app\n[catalog]\nconninfo = host=x password=hunter2\ntable = Bad-Name\n' >cat.ini
t_run "$OFFSITE" -c cat.ini check
t_grep "a bad catalog table name" "^FAIL  config       cat\.ini:7: bad value for table in \[catalog\]" "$T_OUT"
t_nogrep "and the catalog's password is not shown" 'hunter2' "$T_OUT"

t_run "$OFFSITE" check --help
t_eq "check --help exits 0" 0 "$T_RC"
t_grep "and shows the usage" '^usage: offsite check$' "$T_OUT"

t_done
