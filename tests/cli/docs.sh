#!/bin/bash
# The documentation and the program agree: the README's configuration
# reference is what `offsite config --describe` prints, and the example
# configuration shipped in packaging/ loads as it is.
source "$TESTS/lib.sh"
root=$(dirname "$TESTS")

sed -n '/^<!-- begin config reference -->$/,/^<!-- end config reference -->$/p' \
	"$root/README.md" | sed '1d;$d' >"$T_DIR/readme-ref.md"
t_run "$OFFSITE" config --describe
t_eq "config --describe exits 0" 0 "$T_RC"
if cmp -s "$T_OUT" "$T_DIR/readme-ref.md"; then
	t_pass "README's config reference matches config --describe"
else
	t_fail "README's config reference matches config --describe" \
		"regenerate it: tests/harness/regen-reference" \
		"$(diff "$T_DIR/readme-ref.md" "$T_OUT" | head -n 5)"
fi

t_run "$OFFSITE" -c "$root/packaging/offsite.ini" config
t_eq "the example configuration loads" 0 "$T_RC"
t_grep "and keeps its bucket" '^bucket = example-backups$' "$T_OUT"

# Every key the program knows appears in the example, set or commented.
"$OFFSITE" config --describe | sed -n 's/^| `\[\([a-z]*\)\]` | `\([a-z_]*\)` .*/\2/p' |
	grep -vE '^(secret_key|session_token)$' | sort -u >"$T_DIR/keys"
missing=
while read -r key; do
	grep -qE "^;? ?$key *=" "$root/packaging/offsite.ini" || missing="$missing $key"
done <"$T_DIR/keys"
t_eq "the example configuration names every key" "" "$missing"

# The maps match the tree: every source folder is in README's layout and
# in docs/ARCHITECTURE.md, every folder they name exists, and every file
# and function ARCHITECTURE.md names is there.
layout=$(sed -n '/^## Layout of the source$/,/^## /p' "$root/README.md")
rooms=$(cd "$root" && git ls-files '*.c' '*.h' | grep -v '^tests/' |
	xargs -n 1 dirname | sort -u)
absent=
for room in $rooms; do
	leaf=${room##*/}
	grep -qE "^ +$leaf/ " <<<"$layout" || absent="$absent $room"
	grep -qF "$room/" "$root/docs/ARCHITECTURE.md" || absent="$absent arch:$room"
done
t_eq "README's layout and ARCHITECTURE.md name every source folder" "" "$absent"
named=$(grep -oE '^ +[a-z]+/ ' <<<"$layout" | tr -d ' /')
gone=
for leaf in $named; do
	grep -qE "(^|/)$leaf\$" <<<"$rooms
tests
packaging
docs" || gone="$gone $leaf"
done
t_eq "every folder README's layout names exists" "" "$gone"
gone=
for f in $(grep -oE '`[a-z]+(/[a-z_]+)+\.[ch]`' "$root/docs/ARCHITECTURE.md" |
	tr -d '`' | sort -u); do
	[ -f "$root/$f" ] || gone="$gone $f"
done
for fn in $(grep -oE '`[a-z_0-9]+\(\)`' "$root/docs/ARCHITECTURE.md" |
	tr -d '`()' | sort -u); do
	(cd "$root" && git grep -qE "^[a-z].*[ *]$fn\(" -- '*.c') ||
		gone="$gone $fn()"
done
t_eq "every file and function ARCHITECTURE.md names exists" "" "$gone"

t_done
