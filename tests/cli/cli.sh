#!/bin/bash
# The command line: --version, --help, each command's --help, global option
# errors, unknown and not-yet-built commands, the config file's path.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
unset OFFSITE_CONFIG

commands="backup restore list status verify presign delete check retention"
commands+=" keygen decrypt config"

t_run "$OFFSITE" --version
t_eq "--version exits 0" 0 "$T_RC"
head -n 1 "$T_OUT" >"$T_DIR/first"
t_grep "--version: offsite and its version first" \
	"^offsite [0-9]+\.[0-9]+\.[0-9]+" "$T_DIR/first"
for lib in libcurl OpenSSL zlib libxml2 libpq; do
	t_grep "--version names $lib" "^$lib [0-9]+\.[0-9]+" "$T_OUT"
done

t_run "$OFFSITE" --help
t_eq "--help exits 0" 0 "$T_RC"
t_eq "--help writes nothing on stderr" "" "$(cat "$T_ERR")"
for cmd in $commands; do
	t_grep "--help lists $cmd" "^  $cmd +[a-z]" "$T_OUT"
done
t_eq "--help lists 12 commands, in order" "$commands" \
	"$(sed -n '/^Commands:/,/^$/p' "$T_OUT" | awk 'NF > 1 { print $1 }' | xargs)"
t_grep "--help: -c, --config" "^  -c, --config FILE" "$T_OUT"
t_grep "--help: -q, --quiet" "^  -q, --quiet" "$T_OUT"
t_grep "--help: -v, --verbose" "^  -v, --verbose" "$T_OUT"
t_grep "--help: --version" "^ +--version" "$T_OUT"
t_grep "--help: exit 0" "^  0  success" "$T_OUT"
t_grep "--help: exit 1" "^  1  the operation failed" "$T_OUT"
t_grep "--help: exit 2" "^  2  usage or configuration error" "$T_OUT"
t_grep "--help: exit 3" "^  3  lock held" "$T_OUT"
t_grep "--help: exit 4" "^  4  integrity failure" "$T_OUT"

t_run "$OFFSITE" -h
t_eq "-h exits 0" 0 "$T_RC"
t_grep "-h shows the help" "^Commands:" "$T_OUT"

# A command's --help never reads the config: point it at a missing file.
for cmd in $commands; do
	t_run "$OFFSITE" -c "$T_DIR/missing.ini" "$cmd" --help
	t_eq "$cmd --help exits 0" 0 "$T_RC"
	t_grep "$cmd --help prints its usage" "^usage: offsite $cmd( |$)" "$T_OUT"
	t_eq "$cmd --help writes nothing on stderr" "" "$(cat "$T_ERR")"
done
t_run "$OFFSITE" -c "$T_DIR/missing.ini" list --json -h
t_eq "-h after other arguments exits 0" 0 "$T_RC"
t_grep "-h after other arguments prints the usage" "^usage: offsite list" "$T_OUT"

t_run "$OFFSITE"
t_eq "no command exits 2" 2 "$T_RC"
t_grep "no command: usage on stderr" "^usage: offsite" "$T_ERR"
t_eq "no command: nothing on stdout" "" "$(cat "$T_OUT")"

t_run "$OFFSITE" foo
t_eq "unknown command exits 2" 2 "$T_RC"
t_eq "unknown command message" \
	"offsite: unknown command 'foo' (see offsite --help)" "$(cat "$T_ERR")"

t_run "$OFFSITE" "password=hunter2"
t_eq "errors are redacted" \
	"offsite: unknown command 'password=REDACTED' (see offsite --help)" \
	"$(cat "$T_ERR")"

t_run "$OFFSITE" --bogus config
t_eq "unknown option exits 2" 2 "$T_RC"
t_eq "unknown option message" \
	"offsite: unknown option '--bogus' (see offsite --help)" "$(cat "$T_ERR")"
t_run "$OFFSITE" -x config
t_eq "unknown short option message" \
	"offsite: unknown option '-x' (see offsite --help)" "$(cat "$T_ERR")"
t_run "$OFFSITE" -c
t_eq "-c without a file exits 2" 2 "$T_RC"
t_eq "-c without a file message" \
	"offsite: option '-c' needs a value (see offsite --help)" "$(cat "$T_ERR")"
t_run "$OFFSITE" --version=2
t_eq "--version=2 exits 2" 2 "$T_RC"
t_eq "--version=2 message" \
	"offsite: option '--version' takes no value (see offsite --help)" "$(cat "$T_ERR")"

t_run "$OFFSITE" -c "$T_DIR/missing.ini" config
t_eq "-c missing.ini config exits 2" 2 "$T_RC"
t_grep "-c missing.ini: cannot read config" \
	"^offsite: cannot read config $T_DIR/missing\.ini: " "$T_ERR"
t_eq "-c missing.ini: one line on stderr" 1 "$(wc -l <"$T_ERR")"

t_run env OFFSITE_CONFIG="$T_DIR/from-env.ini" "$OFFSITE" config
t_eq "OFFSITE_CONFIG missing exits 2" 2 "$T_RC"
t_grep "OFFSITE_CONFIG names the file" \
	"^offsite: cannot read config $T_DIR/from-env\.ini: " "$T_ERR"

t_run env OFFSITE_CONFIG="$T_DIR/from-env.ini" "$OFFSITE" \
	--config "$T_DIR/from-option.ini" config
t_grep "--config wins over OFFSITE_CONFIG" \
	"^offsite: cannot read config $T_DIR/from-option\.ini: " "$T_ERR"

t_done
