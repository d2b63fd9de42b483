#!/bin/bash
# offsite delete against radosgw: a backup goes with its manifest; keys
# that are not backups of our layout under the prefix are refused before
# anything is touched; a key is taken as restore takes it, with or
# without the prefix; latest needs --force and is the newest complete
# backup of the configured database; a missing backup is an error, and
# an orphan manifest is removed all the same.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket delete)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
export RUNTIME_DIRECTORY=$T_DIR
cat >offsite.ini <<EOF
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $bucket
prefix = db01
access_key = $RGW_ACCESS_KEY
secret_key_file = secret

[database]
name = app
EOF

put() { # KEY BODY
	printf '%s' "$2" >body
	t_s3curl PUT "/$bucket/$1" -T body >/dev/null
}
keys() { # every key in the bucket, one per line
	t_s3curl GET "/$bucket?list-type=2" | grep -o '<Key>[^<]*</Key>' |
		sed 's/<[^>]*>//g'
}
ago() { # "3 days" -> the key's timestamp of then
	date -u -d "$1 ago" +%Y%m%dT%H%M%SZ
}
has() { keys | grep -qxF "$1"; }
put_manifest() { # KEY: a manifest that matches the object put last
	t_manifest "$1" body >manifest
	t_s3curl PUT "/$bucket/$1.manifest" -T manifest >/dev/null
}

k1=db01/daily/app/app-daily-$(ago "3 days").sql.gz
k2=db01/daily/app/app-daily-$(ago "2 days").sql.gz
k3=db01/manual/app/app-manual-$(ago "4 days").sql.gz
k4=db01/manual/app/app-manual-$(ago "5 days").sql.gz
for k in "$k1" "$k2" "$k3" "$k4"; do
	put "$k" "backup"
	put_manifest "$k"
done
# Newer, but not what latest means: incomplete, or another database.
kinc=db01/daily/app/app-daily-$(ago "1 hour").sql.gz
put "$kinc" "incomplete"
kcrm=db01/daily/crm/crm-daily-$(ago "1 hour").sql.gz
put "$kcrm" "crm"
put_manifest "$kcrm"
put db01/notes.txt "not a backup"
put other/daily/app/app-daily-$(ago "1 day").sql.gz "outside the prefix"
# A real backup, newest of all.
echo "real" | "$OFFSITE" -c offsite.ini -q backup --stdin --name app --type daily
real=$(keys | grep '^db01/daily/app/' | grep '\.sql\.gz$' | sort | tail -n 1)
t_ok "the real backup is complete" has "$real.manifest"

# ---- a backup by key ----
t_run "$OFFSITE" -c offsite.ini delete "$real"
t_eq "delete KEY exits 0" 0 "$T_RC"
t_eq "and says what it deleted" "deleted $real" "$(cat "$T_OUT")"
t_nogrep "the object is gone" "^$real\$" <(keys)
t_nogrep "and its manifest" "^$real\.manifest\$" <(keys)
t_grep "an audit line names the key and who" \
	"level=info msg=\"backup deleted\" key=$real manifest=yes uid=[0-9]+ user=[^ ]+ host=[^ ]+" "$T_ERR"
t_ok "other backups are still there" has "$k2.manifest"

# ---- the key forms restore and verify take ----
echo "short" | "$OFFSITE" -c offsite.ini -q backup --stdin --name app --type daily
short=$(keys | grep '^db01/daily/app/' | grep '\.sql\.gz$' | sort | tail -n 1)
t_ok "a second real backup is complete" has "$short.manifest"
t_run "$OFFSITE" -c offsite.ini verify "${short#db01/}"
t_eq "verify takes a key without the prefix" 0 "$T_RC"
t_run "$OFFSITE" -c offsite.ini delete "${short#db01/}"
t_eq "and so does delete: exit 0" 0 "$T_RC"
t_eq "it names the full key" "deleted $short" "$(cat "$T_OUT")"
t_nogrep "that backup is gone with its manifest" "^$short(\.manifest)?\$" <(keys)
t_run "$OFFSITE" -c offsite.ini delete "${k1#db01/}.manifest"
t_eq "a manifest without the prefix: exit 2" 2 "$T_RC"
t_grep "says it is a manifest, too" "is a manifest: give the key of its backup" "$T_ERR"
t_run "$OFFSITE" -c offsite.ini delete notes.txt
t_eq "an object without the prefix that is no backup: exit 2" 2 "$T_RC"
t_grep "is not a backup key either" "'notes.txt' is not a backup key under prefix 'db01/'" "$T_ERR"
t_ok "the backups that were named are still there" has "$k1.manifest"
t_ok "and the object too" has db01/notes.txt

# ---- refusals: nothing is touched ----
before=$(keys | sort)
t_run "$OFFSITE" -c offsite.ini delete db01/notes.txt
t_eq "a key outside the layout: exit 2" 2 "$T_RC"
t_grep "is not a backup key" "'db01/notes.txt' is not a backup key under prefix 'db01/'" "$T_ERR"
t_run "$OFFSITE" -c offsite.ini delete "other/daily/app/app-daily-$(ago "1 day").sql.gz"
t_eq "a key outside the prefix: exit 2" 2 "$T_RC"
t_run "$OFFSITE" -c offsite.ini delete "$k1.manifest"
t_eq "a manifest key: exit 2" 2 "$T_RC"
t_grep "says it is a manifest" "is a manifest: give the key of its backup" "$T_ERR"
t_run "$OFFSITE" -c offsite.ini delete latest
t_eq "latest without --force: exit 2" 2 "$T_RC"
t_grep "says why" 'deleting the latest backup needs --force' "$T_ERR"
t_run "$OFFSITE" -c offsite.ini delete
t_eq "no key: exit 2" 2 "$T_RC"
t_run "$OFFSITE" -c offsite.ini delete "$k1" "$k2"
t_eq "two keys: exit 2" 2 "$T_RC"
t_eq "none of these deleted anything" "$before" "$(keys | sort)"

# ---- latest ----
t_run "$OFFSITE" -c offsite.ini delete latest --force
t_eq "latest --force exits 0" 0 "$T_RC"
t_eq "it is the newest complete backup of the database" "deleted $k2" "$(cat "$T_OUT")"
t_nogrep "gone with its manifest" "^$k2(\.manifest)?\$" <(keys)
t_ok "the newer incomplete one is untouched" has "$kinc"
t_ok "and so is another database's" has "$kcrm.manifest"
t_run "$OFFSITE" -c offsite.ini delete latest --type manual --force
t_eq "latest --type manual" "deleted $k3" "$(cat "$T_OUT")"
t_ok "the older manual backup stays" has "$k4.manifest"
t_run "$OFFSITE" -c offsite.ini delete latest --type weekly --force
t_eq "no backup of a type: exit 1" 1 "$T_RC"
t_grep "says so" 'no complete backup found' "$T_ERR"

# ---- missing backups ----
missing=db01/daily/app/app-daily-20200101T000000Z.sql.gz
t_run "$OFFSITE" -c offsite.ini delete "$missing"
t_eq "a missing backup: exit 1" 1 "$T_RC"
t_grep "no such backup" "level=error msg=\"no such backup\" key=$missing" "$T_ERR"
orphan=db01/daily/app/app-daily-20200102T000000Z.sql.gz
put "$orphan.manifest" "{}"
t_run "$OFFSITE" -c offsite.ini delete "$orphan"
t_eq "a manifest without its backup: exit 1" 1 "$T_RC"
t_nogrep "the orphan manifest is removed" "^$orphan\.manifest\$" <(keys)
t_grep "and the log says so" "msg=\"orphan manifest deleted\" key=$orphan\.manifest" "$T_ERR"
t_run "$OFFSITE" -c offsite.ini delete "$kinc"
t_eq "an incomplete backup can be deleted" "deleted $kinc" "$(cat "$T_OUT")"
t_grep "it had no manifest" "msg=\"backup deleted\" key=$kinc manifest=no" "$T_ERR"
t_ok "foreign objects are still there" has db01/notes.txt

"$OFFSITE" -c offsite.ini -v delete "$k1" >all.out 2>all.err
t_nogrep "no secret in the output" "$RGW_SECRET_KEY" all.out
t_nogrep "no secret in the log" "$RGW_SECRET_KEY" all.err
t_grep "the manifest is deleted before the object" \
	"DELETE .*$k1\.manifest.*" <(grep -m 2 'DELETE' all.err | head -n 1)

t_done
