#!/bin/bash
# The Debian package, for real: 'make deb', lintian without an error,
# 'dpkg -i' (the offsite user, the config's group and mode), offsite
# --version and offsite check as that user against the test servers with
# the config where the units read it, then 'dpkg --purge' and nothing of
# the package is left. Needs root (it installs a package): skipped
# otherwise.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1
top=$(dirname "$TESTS")

if [ "$(id -u)" -ne 0 ]; then
	t_pass "# SKIP installing a package needs root"
	t_done
fi
# The package is the machine's, not this run's: two test runs on one
# machine take turns (the lock goes with this shell).
exec 9>/tmp/offsite-deb-test.lock
if ! flock -w 300 9; then
	t_fail "another run's package test ends within 300 s" \
		"/tmp/offsite-deb-test.lock is still held"
	t_done
fi
if dpkg-query -W -f='${db:Status-Abbrev}' offsite 2>/dev/null | grep -q '^.i'; then
	t_fail "no offsite package is installed before the test" \
		"remove it first: dpkg --purge offsite"
	t_done
fi

t_run make -C "$top" --no-print-directory deb
t_eq "make deb exits 0" 0 "$T_RC"
deb=$(tail -n 1 "$T_OUT")
t_grep "and builds a .deb" '/offsite_[0-9.]+_[a-z0-9]+\.deb$' "$T_OUT"

dpkg-deb -f "$deb" Depends >depends
t_grep "Depends come from the libraries linked" 'libcurl4.*libpq5|libpq5.*libcurl4' depends
t_grep "and include adduser for postinst" '^adduser, ' depends
t_eq "the config is a conffile" "/etc/offsite/offsite.ini" \
	"$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)"

if command -v lintian >/dev/null; then
	lintian "$deb" >lintian.out 2>&1
	t_nogrep "lintian reports no error" '^E: ' lintian.out
	t_nogrep "nor a warning" '^W: ' lintian.out
else
	t_fail "lintian is installed" "run: make deps"
fi

purge() {
	dpkg --purge offsite >purge.out 2>&1
}
trap purge EXIT

t_run dpkg -i "$deb"
t_eq "dpkg -i installs it" 0 "$T_RC"
t_eq "postinst created the system user" "offsite" \
	"$(getent passwd offsite | cut -d: -f1)"
t_eq "the config is root:offsite 640" "root:offsite 640" \
	"$(stat -c '%U:%G %a' /etc/offsite/offsite.ini)"
t_eq "in a directory root:offsite 750" "root:offsite 750" \
	"$(stat -c '%U:%G %a' /etc/offsite)"
t_ok "the man page is installed where man finds it" man -w offsite.ini
t_eq "the lock directory is the offsite user's alone" "offsite:offsite 750" \
	"$(stat -c '%U:%G %a' /run/offsite)"
t_eq "and so is the state directory" "offsite:offsite 750" \
	"$(stat -c '%U:%G %a' /var/lib/offsite)"
t_ok "tmpfiles.d makes it at boot" test -f /usr/lib/tmpfiles.d/offsite.conf
t_ok "the units are where systemd looks" \
	test -f /lib/systemd/system/offsite-backup@.service

t_run /usr/bin/offsite --version
t_eq "offsite --version exits 0" 0 "$T_RC"
t_grep "and names the package's version" \
	"^offsite $(dpkg-query -W -f='${Version}' offsite)$" "$T_OUT"

# Set it up as an administrator would, with a bucket on the test radosgw.
bucket=$(t_bucket deb)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >/etc/offsite/secret_key)
chown offsite:offsite /etc/offsite/secret_key
cat >/etc/offsite/offsite.ini <<EOF2
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $bucket
access_key = $RGW_ACCESS_KEY
secret_key_file = /etc/offsite/secret_key

[database]
conninfo = host=$PGHOST port=$PGPORT user=$PGUSER dbname=postgres
EOF2
as_offsite() {
	t_run runuser -u offsite -- env -u AWS_ACCESS_KEY_ID \
		-u AWS_SECRET_ACCESS_KEY PATH="$PG_BIN:$PATH" /usr/bin/offsite "$@"
}
as_offsite retention apply
t_eq "offsite retention apply as the offsite user exits 0" 0 "$T_RC"
as_offsite check
t_eq "offsite check as the offsite user passes" 0 "$T_RC"
t_nogrep "every check is ok" '^FAIL' "$T_OUT"
t_nogrep "and shows no secret" "$RGW_SECRET_KEY|${PGPASSWORD:-$RGW_SECRET_KEY}" "$T_OUT"
t_nogrep "on either stream" "$RGW_SECRET_KEY|${PGPASSWORD:-$RGW_SECRET_KEY}" "$T_ERR"

# A run by hand as root, then the service's run as offsite: the lock root
# made belongs to offsite, so the second run is not locked out. Neither
# lock is in /tmp.
T_RC=0
echo "a dump" | env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	-u RUNTIME_DIRECTORY -u XDG_RUNTIME_DIR \
	/usr/bin/offsite backup --stdin --name debroot >"$T_OUT" 2>"$T_ERR" ||
	T_RC=$?
t_eq "a backup as root exits 0" 0 "$T_RC"
t_eq "its lock is in /run/offsite and belongs to offsite" "offsite 600" \
	"$(stat -c '%U %a' /run/offsite/offsite-debroot.lock)"
T_RC=0
echo "a dump" | runuser -u offsite -- env -u AWS_ACCESS_KEY_ID \
	-u AWS_SECRET_ACCESS_KEY -u RUNTIME_DIRECTORY -u XDG_RUNTIME_DIR \
	/usr/bin/offsite backup --stdin --name debroot >"$T_OUT" 2>"$T_ERR" ||
	T_RC=$?
t_eq "then a backup as offsite exits 0" 0 "$T_RC"
t_nogrep "without a word about the lock" 'lock' "$T_ERR"
t_ok "and no lock was made in /tmp" test ! -e /tmp/offsite-debroot.lock
rm -f /etc/offsite/secret_key

trap - EXIT
t_run dpkg --purge offsite
t_eq "dpkg --purge exits 0" 0 "$T_RC"
left=
for f in /usr/bin/offsite /etc/offsite/offsite.ini /etc/offsite \
	/run/offsite /var/lib/offsite /usr/lib/tmpfiles.d/offsite.conf \
	/lib/systemd/system/offsite-backup@.service \
	/lib/systemd/system/offsite-backup@daily.timer.d \
	/lib/systemd/system/offsite-prune.timer \
	/usr/share/man/man1/offsite.1.gz /usr/share/doc/offsite; do
	[ -e "$f" ] && left="$left $f"
done
t_eq "purge leaves no file of the package" "" "$left"
t_eq "and removes the user" "" "$(getent passwd offsite)"
t_eq "and the group" "" "$(getent group offsite)"
t_eq "dpkg forgets the package" "" \
	"$(dpkg-query -W -f='${db:Status-Abbrev}' offsite 2>/dev/null | grep '^.i')"

t_done
