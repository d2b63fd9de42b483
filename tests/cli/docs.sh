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

t_done
