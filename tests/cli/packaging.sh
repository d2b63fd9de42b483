#!/bin/bash
# What the packaging ships, installed with 'make install DESTDIR=...' the
# way the Debian package stages it: the layout, a config that is never
# overwritten, systemd-analyze verify on every unit (its command and man
# pages resolved inside the staged tree), man pages that render without a
# warning and that name every command, exit status and config key the
# program has, and an uninstall that leaves only the config.
source "$TESTS/lib.sh"
top=$(dirname "$TESTS")
root=$T_DIR/root
man=$top/packaging/man

install_to() {
	make -C "$top" --no-print-directory install DESTDIR="$root" \
		PREFIX=/usr UNITDIR=/lib/systemd/system INSTALL_BIN="$OFFSITE"
}

t_run install_to
t_eq "make install DESTDIR= PREFIX=/usr exits 0" 0 "$T_RC"
missing=
for f in usr/bin/offsite etc/offsite/offsite.ini \
	lib/systemd/system/offsite-backup@.service \
	lib/systemd/system/offsite-backup@.timer \
	lib/systemd/system/offsite-backup@daily.timer.d/schedule.conf \
	lib/systemd/system/offsite-backup@weekly.timer.d/schedule.conf \
	lib/systemd/system/offsite-backup@monthly.timer.d/schedule.conf \
	lib/systemd/system/offsite-prune.service \
	lib/systemd/system/offsite-prune.timer \
	usr/lib/tmpfiles.d/offsite.conf \
	usr/share/man/man1/offsite.1.gz usr/share/man/man5/offsite.ini.5.gz \
	usr/share/doc/offsite/examples/offsite.ini \
	usr/share/doc/offsite/examples/cron.d-offsite; do
	[ -f "$root/$f" ] || missing="$missing $f"
done
t_eq "every file is in its place" "" "$missing"
t_eq "the config is mode 0640" 640 "$(stat -c %a "$root/etc/offsite/offsite.ini")"
t_eq "in a directory of mode 0750" 750 "$(stat -c %a "$root/etc/offsite")"
t_eq "the man pages are gzip" "ok" \
	"$(gzip -t "$root/usr/share/man/man1/offsite.1.gz" && echo ok)"
t_grep "the units run the installed binary" \
	'^ExecStart=/usr/bin/offsite -c /etc/offsite/offsite.ini backup --type %i$' \
	"$root/lib/systemd/system/offsite-backup@.service"

# The lock directory: what tmpfiles.d makes is the offsite user's alone
# (the user as the staged tree's /etc/passwd has it).
if command -v systemd-tmpfiles >/dev/null; then
	echo 'offsite:x:990:990::/nonexistent:/usr/sbin/nologin' >"$root/etc/passwd"
	echo 'offsite:x:990:' >"$root/etc/group"
	t_run systemd-tmpfiles --root="$root" --create offsite.conf
	t_eq "systemd-tmpfiles --create offsite.conf exits 0" "0:" \
		"$T_RC:$(cat "$T_ERR")"
	t_eq "and makes /run/offsite, the offsite user's, mode 0750" \
		"990:990 750" "$(stat -c '%u:%g %a' "$root/run/offsite")"
	rm -rf "$root/etc/passwd" "$root/etc/group" "$root/run"
else
	t_fail "systemd-tmpfiles is installed" "run: make deps"
fi
for u in offsite-backup@.service offsite-prune.service; do
	t_grep "$u keeps its lock directory between runs" \
		'^RuntimeDirectory=offsite$' "$root/lib/systemd/system/$u"
	t_grep "$u: the lock directory is the user's alone" \
		'^RuntimeDirectoryMode=0750$' "$root/lib/systemd/system/$u"
done

t_run make -C "$top" --no-print-directory install DESTDIR="$T_DIR/local" \
	INSTALL_BIN="$OFFSITE"
t_grep "with the default PREFIX, the units name /usr/local/bin" \
	'^ExecStart=/usr/local/bin/offsite ' \
	"$T_DIR/local/usr/local/lib/systemd/system/offsite-prune.service"

echo "; edited by the administrator" >>"$root/etc/offsite/offsite.ini"
t_run install_to
t_eq "a second install exits 0" 0 "$T_RC"
t_grep "and keeps the existing config" '^; edited by the administrator$' \
	"$root/etc/offsite/offsite.ini"
t_grep "and says so" 'kept the existing .*/etc/offsite/offsite.ini' "$T_OUT"

# systemd-analyze verify inside the staged tree: the commands and the man
# pages the units name must exist there. The standard targets the units
# hook into come from this machine's systemd.
if command -v systemd-analyze >/dev/null && command -v man >/dev/null; then
	mkdir -p "$root/usr/lib/systemd/system"
	cp /lib/systemd/system/*.target "$root/usr/lib/systemd/system/"
	for unit in offsite-backup@daily.service offsite-backup@weekly.service \
		offsite-backup@monthly.service offsite-prune.service \
		offsite-backup@daily.timer offsite-backup@weekly.timer \
		offsite-backup@monthly.timer offsite-prune.timer; do
		t_run env MANPATH="$root/usr/share/man" \
			systemd-analyze verify --root="$root" "$unit"
		if [ "$T_RC" -eq 0 ] && ! [ -s "$T_ERR" ]; then
			t_pass "systemd-analyze verify $unit"
		else
			t_fail "systemd-analyze verify $unit" "$(head -n 5 "$T_ERR")"
		fi
	done
	t_run systemd-analyze verify --root="$root" --man=no \
		offsite-backup@hourly.timer
	t_eq "a type without a schedule is refused" 1 "$T_RC"
	t_grep "for lack of one" 'lacks value setting' "$T_ERR"
	rm -f "$root/usr/bin/offsite"
	t_run systemd-analyze verify --root="$root" --man=no \
		offsite-backup@daily.service
	t_eq "verify does fail when the binary is missing" 1 "$T_RC"
	cp "$OFFSITE" "$root/usr/bin/offsite"
	t_run "$root/usr/bin/offsite" --version
	t_grep "the installed binary runs" '^offsite [0-9]' "$T_OUT"
else
	t_fail "systemd-analyze and man are installed" "run: make deps"
fi

# The man pages render without a warning.
for page in offsite.1 offsite.ini.5; do
	t_run groff -man -Tutf8 -ww -z "$man/$page"
	t_eq "$page renders without a warning" "0:" "$T_RC:$(cat "$T_ERR")"
done

# offsite(1) has a section for every command of --help and its exit codes.
t_run "$OFFSITE" --help
sed -n '/^Commands:$/,/^$/s/^  \([a-z]*\) .*/\1/p' "$T_OUT" >"$T_DIR/commands"
t_eq "--help lists the commands" 12 "$(wc -l <"$T_DIR/commands")"
missing=
while read -r cmd; do
	grep -q "^\.SS offsite $cmd\b" "$man/offsite.1" || missing="$missing $cmd"
done <"$T_DIR/commands"
t_eq "offsite.1 has a section for every command" "" "$missing"
sed -n '/^Exit status:$/,$s/^  \([0-9]\)  .*/\1/p' "$T_OUT" >"$T_DIR/codes"
t_eq "--help lists the exit codes" "0 1 2 3 4" "$(echo $(cat "$T_DIR/codes"))"
manual=$(sed -n '/^\.SH EXIT STATUS$/,/^\.SH /{/^\.TP$/{n;s/^\.B //p}}' "$man/offsite.1")
t_eq "offsite.1 lists the same exit codes" "$(echo $(cat "$T_DIR/codes"))" \
	"$(echo $manual)"

# offsite.ini(5)'s key reference is what config --describe says.
sed -n '/^\.\\" begin config reference$/,/^\.\\" end config reference$/p' \
	"$man/offsite.ini.5" | sed '1d;$d' >"$T_DIR/man-ref"
"$OFFSITE" config --describe | awk -f "$man/config-ref.awk" >"$T_DIR/describe-ref"
if [ -s "$T_DIR/describe-ref" ] && cmp -s "$T_DIR/man-ref" "$T_DIR/describe-ref"; then
	t_pass "offsite.ini.5's key reference matches config --describe"
else
	t_fail "offsite.ini.5's key reference matches config --describe" \
		"regenerate it: tests/harness/regen-reference" \
		"$(diff "$T_DIR/man-ref" "$T_DIR/describe-ref" | head -n 5)"
fi
"$OFFSITE" config --describe | sed -n 's/^| `\[[a-z]*\]` | `\([a-zA-Z_.]*\)` .*/\1/p' \
	>"$T_DIR/keys"
t_eq "config --describe names keys" 1 "$([ "$(wc -l <"$T_DIR/keys")" -gt 30 ] && echo 1)"
missing=
while read -r key; do
	grep -qF "\\fB$key\\fR" "$man/offsite.ini.5" || missing="$missing $key"
done <"$T_DIR/keys"
t_eq "offsite.ini.5 names every key" "" "$missing"

# The cron example runs what the timers run.
cron=$top/packaging/cron/offsite
t_grep "cron: daily at 02:00" '^0 2 \* \* \* +offsite +offsite .* backup --type daily$' "$cron"
t_grep "cron: weekly on Sunday at 03:00" '^0 3 \* \* 0 +offsite +offsite .* backup --type weekly$' "$cron"
t_grep "cron: monthly on the 1st at 04:00" '^0 4 1 \* \* +offsite +offsite .* backup --type monthly$' "$cron"
t_grep "cron: prune daily at 05:00" '^0 5 \* \* \* +offsite +offsite .* retention prune$' "$cron"

t_run make -C "$top" --no-print-directory uninstall DESTDIR="$root" \
	PREFIX=/usr UNITDIR=/lib/systemd/system
t_eq "make uninstall exits 0" 0 "$T_RC"
rm -rf "$root/usr/lib/systemd/system" # the targets copied above
left=$(cd "$root" && find . -type f | sort | tr '\n' ' ')
t_eq "and leaves only the config" "./etc/offsite/offsite.ini " "$left"

t_done
