#!/bin/bash
# The rules of `make lint` bite: on a copy of the tree, each forbidden
# include (a room reaching up the dependency rule, or a relative include
# that would slip past it) and each banned call in product code fails
# `tests/lint --rules` and names the file; the clean copy, a banned name
# in a comment or a string, and a banned call in tests/ pass.
source "$TESTS/lib.sh"
root=$(dirname "$TESTS")
copy=$T_DIR/tree

mkdir -p "$copy"
git -C "$root" ls-files -z --cached --others --exclude-standard |
	tar -C "$root" --null --ignore-failed-read -T - -cf - 2>/dev/null |
	tar -C "$copy" -xf -
git -C "$copy" init -q

t_run bash "$copy/tests/lint" --rules
t_eq "the clean tree passes" 0 "$T_RC"
t_grep "and says so" '^lint: clean$' "$T_OUT"

# plant FILE TEXT: write FILE (a path in the copy) with TEXT, run the
# rules, take FILE away again.
plant() {
	mkdir -p "$(dirname "$copy/$1")"
	printf '%s\n' "$2" >"$copy/$1"
	t_run bash "$copy/tests/lint" --rules
	rm -f "$copy/$1"
}

# fails DESC FILE TEXT [PATTERN]: planting FILE fails lint, and the
# output names FILE (or matches PATTERN).
fails() {
	plant "$2" "$3"
	t_eq "$1: lint fails" 1 "$T_RC"
	cat "$T_OUT" "$T_ERR" >"$T_DIR/both"
	t_grep "$1: names $2" "${4:-^$2:}" "$T_DIR/both"
}

# passes DESC FILE TEXT: planting FILE leaves lint clean.
passes() {
	plant "$2" "$3"
	t_eq "$1: lint passes" 0 "$T_RC"
	t_nogrep "$1: nothing reported" '^[a-z]+/.*:[0-9]+:' "$T_OUT"
}

# The dependency rule (DESIGN.md), one room at a time.
fails "pipe includes cmd/" agent/pipe/x.c '#include "agent/cmd/cmd.h"'
fails "proc includes cli.h" agent/proc/x.c '#include "agent/cli.h"'
fails "ops includes cmd/, spaced" agent/ops/x.h '#  include  "agent/cmd/cmd.h"'
fails "repo includes cmd/" agent/repo/x.c '#include "agent/cmd/cmd.h"'
fails "s3 includes conf/" s3/x.c '#include "conf/conf.h"'
fails "s3 includes retention/" s3/x.c '#include "retention/retention.h"'
fails "conf includes s3/" conf/x.c '#include "s3/s3.h"'
fails "retention includes agent/" retention/x.c '#include "agent/error.h"'
for dep in agent/error.h conf/conf.h s3/s3.h retention/retention.h; do
	fails "common includes $dep" common/x.c "#include \"$dep\""
done
fails "a relative include" agent/pipe/x.c '#include "../cmd/cmd.h"'
fails "a bare include" agent/pipe/x.c '#include "cmd.h"'
passes "cmd includes cli.h" agent/cmd/x.c '#include "agent/cli.h"'
passes "retention includes s3/" retention/x.c '#include "s3/s3.h"'
passes "a system header" common/x.c '#include <string.h>'

# Banned calls, with the line they are on.
fails "strcpy in agent/" agent/ops/x.c \
	"$(printf '/*\n * a comment\n */\nvoid f(char *a) { strcpy(a, "b"); }')" \
	'^agent/ops/x\.c:4: strcpy\(\)$'
fails "sprintf in s3/" s3/x.c 'void f(char *a) { sprintf(a, "%d", 1); }'
fails "strcat in conf/" conf/x.c 'void f(char *a) { strcat(a, "b"); }'
fails "gets in common/" common/x.c 'void f(char *a) { gets(a); }'
fails "strtok in retention/" retention/x.c 'void f(char *a) { strtok(a, ","); }'
fails "atoi, spaced, in agent/" agent/pipe/x.c 'int f(const char *a) { return atoi (a); }'
fails "vsprintf in a header" agent/proc/x.h '#define F(a, f, v) vsprintf(a, f, v)'
fails "mktemp in agent/" agent/x.c 'void f(char *a) { mktemp(a); }'
fails "strncat in agent/" agent/x.c 'void f(char *a) { strncat(a, "b", 1); }'
passes "a banned name in a comment" agent/pipe/x.c \
	"$(printf '/* not strcpy(a, b) but memcpy */\n// nor sprintf(a)\nint x;')"
passes "a banned name in a string" agent/pipe/x.c \
	'const char *m = "strcpy(a, b)", c = '"'"'"'"'"', *n = "\"gets(";'
passes "bounded neighbours" agent/pipe/x.c \
	'void f(char *a) { snprintf(a, 1, "x"); strtok_r(a, ",", &a); my_atoi(a); }'
passes "a banned call in tests/" tests/unit/x.c 'void f(char *a) { strcpy(a, "b"); }'

t_done
