#!/bin/bash
# offsite presign against radosgw, configured by a file only: latest
# resolves to the newest complete backup, the URL works with plain curl,
# a missing key is an error rather than a URL to a 404, and so is a key
# that is no backup (tests/integration/hostile_bucket.sh has the rest),
# the expiry is bounded, and neither the URL's signature nor a secret
# reaches the log.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket presign)
t_s3curl PUT "/$bucket" >/dev/null

(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
cat >offsite.ini <<EOF2
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $bucket
prefix = db01
access_key = $RGW_ACCESS_KEY
secret_key_file = secret

[database]
conninfo = dbname=app
EOF2

put() {
	printf '%s' "$2" >body
	t_s3curl PUT "/$bucket/$1" -T body >/dev/null
}
put_manifest() { # KEY: a manifest that matches the object put last
	t_manifest "$1" body >manifest
	t_s3curl PUT "/$bucket/$1.manifest" -T manifest >/dev/null
}
put db01/daily/app/app-daily-20261120T010000Z.sql.gz "older"
put_manifest db01/daily/app/app-daily-20261120T010000Z.sql.gz
put db01/daily/app/app-daily-20261121T010000Z.sql.gz "newest complete"
put_manifest db01/daily/app/app-daily-20261121T010000Z.sql.gz
# Newer, but without its manifest: not a backup.
put db01/daily/app/app-daily-20261122T010000Z.sql.gz "incomplete"
put db01/manual/app/app-manual-20261119T010000Z.sql.gz "manual"
put_manifest db01/manual/app/app-manual-20261119T010000Z.sql.gz
# Another database's newer backup is not ours.
put db01/daily/other/other-daily-20261123T010000Z.sql.gz "other"
put_manifest db01/daily/other/other-daily-20261123T010000Z.sql.gz

env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	"$OFFSITE" -c offsite.ini -v presign latest >url 2>log || true
t_grep "latest is the newest complete backup of the database" \
	'/db01/daily/app/app-daily-20261121T010000Z\.sql\.gz\?' url
code=$(curl -s -o got -w '%{http_code}' "$(cat url)")
t_eq "the URL works with plain curl" 200 "$code"
t_eq "and returns the backup" "newest complete" "$(cat got)"
t_grep "one audit line names the key and who asked" \
	'msg="presigned url issued" key=db01/daily/app/app-daily-20261121T010000Z.sql.gz expires=[0-9T:Z-]+ valid_for=1h uid=[0-9]+ user=' log
t_nogrep "the log never holds the signature" 'X-Amz-Signature|Signature=[0-9a-f]' log
t_nogrep "the log never holds the secret" "$RGW_SECRET_KEY" log

t_run "$OFFSITE" -c offsite.ini presign latest --type manual
t_grep "latest of a type" 'app-manual-20261119T010000Z\.sql\.gz\?' "$T_OUT"

t_run "$OFFSITE" -c offsite.ini presign daily/app/app-daily-20261120T010000Z.sql.gz
t_eq "a key without the prefix, as restore takes it: exit 0" 0 "$T_RC"
t_grep "signs the full key" '/db01/daily/app/app-daily-20261120T010000Z\.sql\.gz\?' "$T_OUT"
t_run "$OFFSITE" -c offsite.ini presign daily/app/app-daily-20261120T010000Z.sql.gz.manifest
t_eq "a manifest without the prefix: exit 1" 1 "$T_RC"
t_grep "is not signed" 'msg="not signing: not a backup" error="'"'"'daily/app/app-daily-20261120T010000Z.sql.gz.manifest'"'"' is a manifest' "$T_ERR"
t_eq "no URL for a manifest" "" "$(cat "$T_OUT")"

t_run "$OFFSITE" -c offsite.ini presign latest --type weekly
t_eq "no backup of a type: exit 1" 1 "$T_RC"
t_grep "and says so" 'no complete backup found' "$T_ERR"
t_eq "and prints no URL" "" "$(cat "$T_OUT")"

t_run "$OFFSITE" -c offsite.ini presign db01/daily/app/app-daily-20261101T010000Z.sql.gz
t_eq "a missing key: exit 1" 1 "$T_RC"
t_grep "says there is no such backup" \
	'msg="not signing: the backup does not count" key=db01/daily/app/app-daily-20261101T010000Z.sql.gz error="no such backup"' "$T_ERR"
t_eq "no URL to a 404" "" "$(cat "$T_OUT")"
t_run "$OFFSITE" -c offsite.ini presign db01/daily/app/nope.sql.gz
t_eq "a key outside the layout: exit 1" 1 "$T_RC"
t_grep "says it is not a backup" 'msg="not signing: not a backup"' "$T_ERR"
t_eq "no URL" "" "$(cat "$T_OUT")"

t_run "$OFFSITE" -c offsite.ini presign latest --expires 8d
t_eq "more than 7 days is refused" 2 "$T_RC"
t_grep "with the reason" 'between 1s and 7d' "$T_ERR"

key=db01/manual/app/app-manual-20261119T010000Z.sql.gz
"$OFFSITE" -c offsite.ini -q presign "$key" --at 2026-11-01T09:30:00Z >u1 2>/dev/null
"$OFFSITE" -c offsite.ini -q presign "$key" --at 20261101T093000Z >u2 2>/dev/null
t_ok "--at signs reproducibly" cmp u1 u2
t_grep "as of the given time" 'X-Amz-Date=20261101T093000Z' u1
code=$(curl -s -o /dev/null -w '%{http_code}' "$(cat u1)")
t_eq "a link signed long ago for an hour has expired" 403 "$code"

"$OFFSITE" -c offsite.ini -q presign "$key" --expires 10m \
	--filename "app backup.sql.gz" >u3 2>/dev/null
curl -s -D headers -o /dev/null "$(cat u3)"
t_grep "--filename names the download" \
	'^[Cc]ontent-[Dd]isposition: attachment; filename="app backup.sql.gz"' headers
t_grep "--expires sets the lifetime" 'X-Amz-Expires=600&' u3

t_done
