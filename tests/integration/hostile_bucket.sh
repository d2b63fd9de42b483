#!/bin/bash
# A hostile writer of the bucket, against radosgw and PostgreSQL: objects
# planted straight into the bucket, as anyone with write access to it can,
# must not mislead a command about which backups exist, are complete or
# are encrypted. An empty object with an empty manifest is no backup; a
# key dated in the future is ignored (status reports it, prune refuses to
# delete while a complete one exists); keep_last counts no planted backup;
# with encryption configured an unencrypted backup needs
# --allow-unencrypted; a manifest without its MAC, with a wrong one, copied
# from another backup or edited, and an object swapped for another file of
# the same key, are refused with exit 4, under a key file or a
# passphrase; presign signs backups only. A real encrypted backup still
# restores and verifies.
source "$TESTS/lib.sh"
source "$TESTS/harness/pg.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket hostile)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
mkdir run
export RUNTIME_DIRECTORY=$T_DIR/run
"$OFFSITE" keygen -o backup.key >/dev/null 2>&1
pg_load_fixture hsrc

# write_config FILE PREFIX [lines of [database], then of other sections]
write_config() {
	local file=$1 prefix=$2
	shift 2
	cat >"$file" <<EOF
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $bucket
prefix = $prefix
access_key = $RGW_ACCESS_KEY
secret_key_file = secret

[database]
$(printf '%s\n' "$@")
EOF
}
# a/: no key anywhere; c/: encrypted, keep_last = 2; h/: PostgreSQL,
# encrypted.
write_config a.ini a/ "driver = stdin" "name = app" "" "[retention]" \
	"days = 1"
write_config c.ini c/ "driver = stdin" "name = keep" "" "[encryption]" \
	"enabled = true" "key_file = backup.key" "" "[retention]" \
	"days = 30" "keep_last = 2"
write_config h.ini h/ \
	"conninfo = host=$PGHOST port=$PGPORT dbname=hsrc user=$PGUSER" "" \
	"[encryption]" "enabled = true" "key_file = backup.key"

put() { # KEY FILE
	t_s3curl PUT "/$bucket/$1" -T "$2" >/dev/null
}
get() { # KEY FILE
	t_s3curl GET "/$bucket/$1" -o "$2" >/dev/null
}
put_manifest() { # KEY FILE [FORMAT]: FILE as KEY, with a matching manifest
	put "$1" "$2"
	t_manifest "$1" "$2" "${3:-raw}" >planted.manifest
	put "$1.manifest" planted.manifest
}
keys_under() {
	t_s3curl GET "/$bucket?list-type=2&prefix=${1//\//%2F}" |
		grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g' | sort
}
stamp() { # a date(1) time -> a key's timestamp
	date -u -d "$1" +%Y%m%dT%H%M%SZ
}
newest() { # PREFIX: the newest backup key under it
	keys_under "$1" | grep -v '\.manifest$' | tail -n 1
}
# Every run's log: no secret, ever.
: >all.log
run() {
	t_run "$@"
	cat "$T_ERR" >>all.log
}

# ==== a/: no key configured ====
printf 'the real backup\n' >real.txt
"$OFFSITE" -c a.ini -q backup --stdin --name app --type daily <real.txt
areal=$(newest a/daily/app/)
t_ok "a real backup of app" test -n "$areal"

# ---- an empty object and an empty manifest ----
aempty=a/daily/app/app-daily-$(stamp "now + 10 minutes").sql.gz
: >empty
put "$aempty" empty
put "$aempty.manifest" empty
run "$OFFSITE" -c a.ini list
t_grep "list: the empty one is not complete" \
	"^[0-9TZ:-]+ +daily +app +0 B +0 +no +unverified +$aempty\$" "$T_OUT"
t_grep "list: the real one is" " yes +$areal\$" "$T_OUT"
run "$OFFSITE" -c a.ini status --json
t_eq "status: the newest complete backup is the real one" "$areal" \
	"$(jq -r '.latest[] | select(.database == "app") | .key' "$T_OUT")"
t_eq "status: 2 backups, 1 complete" "2 1" \
	"$(jq -r '"\(.total.count) \(.total.complete)"' "$T_OUT")"
run "$OFFSITE" -c a.ini restore latest -o a1.out
t_eq "restore latest: exit 0" 0 "$T_RC"
t_ok "it restored the real backup" cmp a1.out real.txt
run "$OFFSITE" -c a.ini verify latest
t_eq "verify latest verifies the real backup" "ok $areal" \
	"$(cut -d' ' -f1,2 "$T_OUT")"
run "$OFFSITE" -c a.ini presign latest
t_grep "presign latest signs the real backup" "/$areal\\?" "$T_OUT"

# ---- a backup from the future, with a manifest that matches it ----
printf 'planted in the future\n' | gzip >future.gz
afuture=a/daily/app/app-daily-20991231T235959Z.sql.gz
put_manifest "$afuture" future.gz
run "$OFFSITE" -c a.ini restore latest -o a2.out
t_eq "restore latest: exit 0" 0 "$T_RC"
t_ok "it is still the real backup" cmp a2.out real.txt
t_grep "and the future one is named in a warning" \
	"level=warn msg=\"backups dated in the future are ignored .* count=1 after=[0-9TZ:-]+ newest=$afuture" \
	"$T_ERR"
run "$OFFSITE" -c a.ini verify latest
t_eq "verify latest: not the future one" "ok $areal" \
	"$(cut -d' ' -f1,2 "$T_OUT")"
run "$OFFSITE" -c a.ini presign latest
t_grep "presign latest: not the future one" "/$areal\\?" "$T_OUT"
run "$OFFSITE" -c a.ini list
t_grep "list marks it" " +no +future +$afuture\$" "$T_OUT"
run "$OFFSITE" -c a.ini status
t_eq "status: exit 1" 1 "$T_RC"
t_eq "one line says why" \
	"unhealthy: 1 backup dated in the future, ignored (a clock that ran ahead, or planted): the newest is $afuture" \
	"$(grep '^unhealthy' "$T_OUT")"

# status --max-age: the age is the newest real backup's, not 0.
printf 'old\n' | gzip >old.gz
aold3=a/daily/old/old-daily-$(stamp "3 days ago").sql.gz
aold4=a/daily/old/old-daily-$(stamp "4 days ago").sql.gz
put_manifest "$aold3" old.gz
put_manifest "$aold4" old.gz
put_manifest a/daily/old/old-daily-20991231T235959Z.sql.gz future.gz
run "$OFFSITE" -c a.ini status --max-age 26h --database old
t_eq "status --max-age 26h behind a future backup: exit 1" 1 "$T_RC"
t_grep "the real newest is 3 days old" \
	'^unhealthy: daily backup of old is stale: the newest complete one is 3d old, max age 1d2h$' \
	"$T_OUT"
t_grep "and the future one is a problem too" \
	'^unhealthy: 1 backup dated in the future' "$T_OUT"

# prune refuses while a complete backup is dated in the future.
keys_under a/ >before
run "$OFFSITE" -c a.ini retention prune
t_eq "prune: exit 1" 1 "$T_RC"
t_grep "and says why" \
	'level=error msg="prune refused: a complete backup is dated in the future; nothing deleted" key=a/daily/' \
	"$T_ERR"
t_eq "nothing was deleted" "$(cat before)" "$(keys_under a/)"
t_s3curl DELETE "/$bucket/$afuture" >/dev/null
t_s3curl DELETE "/$bucket/$afuture.manifest" >/dev/null
t_s3curl DELETE "/$bucket/a/daily/old/old-daily-20991231T235959Z.sql.gz.manifest" >/dev/null
run "$OFFSITE" -c a.ini retention prune
t_eq "without a complete one from the future, prune runs: exit 0" 0 "$T_RC"
t_grep "it deletes the old backup beyond the newest" "^delete +$aold4 " "$T_OUT"
t_ok "keeps the newest real one of old" grep -qx "$aold3" <(keys_under a/)
t_ok "and the real one of app" grep -qx "$areal.manifest" <(keys_under a/)
t_ok "and leaves the future one without manifest alone" \
	grep -qx a/daily/old/old-daily-20991231T235959Z.sql.gz <(keys_under a/)

# ==== c/: keep_last = 2 against planted backups ====
# Two real encrypted backups at two different seconds.
# Keys carry the second, so the second backup waits for the clock to turn
# (at most one second; six quick runs can all fall inside one).
echo "keep 1" | "$OFFSITE" -c c.ini -q backup --stdin --name keep --type daily
first=$(date -u +%s)
while [ "$(date -u +%s)" = "$first" ]; do :; done
echo "keep 2" | "$OFFSITE" -c c.ini -q backup --stdin --name keep --type daily
c1=$(keys_under c/ | grep -v '\.manifest$' | head -n 1)
c2=$(keys_under c/ | grep -v '\.manifest$' | sed -n 2p)
t_ok "two real backups" test -n "$c1" -a -n "$c2" -a "$c1" != "$c2"
get "$c1" c1.obj
get "$c1.manifest" c1.manifest
get "$c2" c2.obj
get "$c2.manifest" c2.manifest
# Planted: the newest backup's object and manifest copied far ahead; the
# older one's two days ahead, its manifest's key edited to match; and one
# within the tolerance (so not ignored) with a manifest of its own making.
p1=c/daily/keep/keep-daily-20991231T235959Z.sql.gz.enc
p2=c/daily/keep/keep-daily-$(stamp "now + 2 days").sql.gz.enc
p3=c/daily/keep/keep-daily-$(stamp "now + 30 minutes").sql.gz.enc
put "$p1" c2.obj
put "$p1.manifest" c2.manifest
put "$p2" c1.obj
jq --arg k "$p2" '.key = $k' c1.manifest >p2.manifest
put "$p2.manifest" p2.manifest
put_manifest "$p3" c2.obj
run "$OFFSITE" -c c.ini list
t_grep "list: the copied one is future" " +future +$p1\$" "$T_OUT"
t_grep "list: the forged one within the tolerance is unverified" \
	" +unverified +$p3\$" "$T_OUT"
t_eq "list: the two real ones are complete" 2 "$(grep -cE ' yes +c/' "$T_OUT")"
t_grep "the log says why the forged one does not count" \
	"level=warn msg=\"backup not counted: manifest not accepted\" key=$p3 error=\"manifest failed authentication: it has no MAC\"" \
	"$T_ERR"
keys_under c/ >before
run "$OFFSITE" -c c.ini retention prune
t_eq "prune with keep_last = 2: exit 0" 0 "$T_RC"
t_nogrep "it deletes nothing" '^delete ' "$T_OUT"
t_eq "every real backup is still there" "$(cat before)" "$(keys_under c/)"
run "$OFFSITE" -c c.ini verify latest
t_eq "verify latest is a real backup" "ok $c2" "$(cut -d' ' -f1,2 "$T_OUT")"

# ==== h/: encryption configured ====
run "$OFFSITE" -c h.ini backup --type daily
t_eq "a real encrypted backup: exit 0" 0 "$T_RC"
hreal=$(newest h/daily/hsrc/)
run "$OFFSITE" -c h.ini backup --type weekly
hweekly=$(newest h/weekly/hsrc/)
t_ok "and another, of another type" test -n "$hreal" -a -n "$hweekly"
get "$hreal" real.obj
get "$hreal.manifest" real.manifest
get "$hweekly" weekly.obj
get "$hweekly.manifest" weekly.manifest
t_grep "its manifest carries a MAC" '"mac": "[0-9a-f]{64}"' real.manifest
t_grep "and the header it covers" '"header": "4f464653454e431a01' real.manifest

# ---- a planted unencrypted backup, newest, with a matching manifest ----
{
	echo "CREATE TABLE planted (x integer);"
	printf -- '--\n-- PostgreSQL database dump complete\n--\n\n'
} >planted.sql
gzip -c planted.sql >planted.gz
hplain=h/daily/hsrc/hsrc-daily-$(stamp "now + 10 minutes").sql.gz
put_manifest "$hplain" planted.gz plain
run "$OFFSITE" -c h.ini restore latest --type daily -o h1.out
t_eq "restore latest: exit 0" 0 "$T_RC"
t_grep "it restored the encrypted backup" "restore complete\" key=$hreal " "$T_ERR"
t_nogrep "not the planted one" 'CREATE TABLE planted' h1.out
run "$OFFSITE" -c h.ini verify latest --type daily
t_eq "verify latest: the encrypted one" "ok $hreal" "$(cut -d' ' -f1,2 "$T_OUT")"
run "$OFFSITE" -c h.ini presign latest --type daily
t_grep "presign latest: the encrypted one" "/$hreal\\?" "$T_OUT"
run "$OFFSITE" -c h.ini list
t_grep "list marks the planted one" " +no +unencrypted +$hplain\$" "$T_OUT"

run "$OFFSITE" -c h.ini restore "$hplain" -o h2.out
t_eq "restore of the planted key: exit 1" 1 "$T_RC"
t_grep "says why" 'not encrypted, and encryption is configured: give --allow-unencrypted' "$T_ERR"
t_ok "and writes no file" test ! -e h2.out
run "$OFFSITE" -c h.ini verify "$hplain"
t_eq "verify of the planted key: exit 1" 1 "$T_RC"
t_grep "says why" "^ERROR $hplain: not encrypted, and encryption is configured" "$T_OUT"
run "$OFFSITE" -c h.ini presign "$hplain"
t_eq "presign of the planted key: exit 1" 1 "$T_RC"
t_eq "and no URL" "" "$(cat "$T_OUT")"
run "$OFFSITE" -c h.ini verify --all
t_grep "verify --all skips it" "^skipped $hplain: not encrypted" "$T_OUT"
t_grep "and checks the real ones" "^ok $hreal " "$T_OUT"

run "$OFFSITE" -c h.ini restore latest --allow-unencrypted -o h3.out
t_eq "--allow-unencrypted: restore latest takes it: exit 0" 0 "$T_RC"
t_ok "it is the planted one" cmp h3.out planted.sql
run "$OFFSITE" -c h.ini verify latest --allow-unencrypted
t_eq "verify latest --allow-unencrypted" "ok $hplain" "$(cut -d' ' -f1,2 "$T_OUT")"
run "$OFFSITE" -c h.ini presign latest --allow-unencrypted
t_grep "presign latest --allow-unencrypted" "/$hplain\\?" "$T_OUT"
t_s3curl DELETE "/$bucket/$hplain" >/dev/null
t_s3curl DELETE "/$bucket/$hplain.manifest" >/dev/null

# ---- manifests of an encrypted backup, tampered: exit 4 ----
# refused DESC PATTERN: restore and verify of hreal both exit 4.
refused() {
	rm -f h4.out
	run "$OFFSITE" -c h.ini restore "$hreal" -o h4.out
	t_eq "$1: restore exits 4" 4 "$T_RC"
	t_grep "$1: and says why" "$2" "$T_ERR"
	t_ok "$1: and writes no file" test ! -e h4.out
	run "$OFFSITE" -c h.ini verify "$hreal"
	t_eq "$1: verify exits 4" 4 "$T_RC"
	t_grep "$1: FAILED" "^FAILED $hreal: " "$T_OUT"
	put "$hreal.manifest" real.manifest
	put "$hreal" real.obj
}
jq 'del(.encryption.mac)' real.manifest >m
put "$hreal.manifest" m
refused "no MAC" 'manifest failed authentication: it has no MAC'
jq '.encryption.mac = "00000000000000000000000000000000000000000000000000000000000000ff"' \
	real.manifest >m
put "$hreal.manifest" m
refused "a wrong MAC" "manifest failed authentication: tampered, or another backup's"
put "$hreal.manifest" weekly.manifest
refused "another backup's manifest" "the manifest is another backup's"
jq --arg k "$hreal" '.key = $k' weekly.manifest >m
put "$hreal.manifest" m
refused "another backup's manifest, its key edited" \
	"manifest failed authentication: tampered, or another backup's"
jq '.stored.bytes += 1' real.manifest >m
put "$hreal.manifest" m
refused "an edited size" "manifest failed authentication: tampered"
jq '.plain.sha256 = "0000000000000000000000000000000000000000000000000000000000000000"' \
	real.manifest >m
put "$hreal.manifest" m
refused "an edited digest" "manifest failed authentication: tampered"
jq '.dump.format = "custom"' real.manifest >m
put "$hreal.manifest" m
refused "an edited dump format" "manifest failed authentication: tampered"
jq '.encryption = null' real.manifest >m
put "$hreal.manifest" m
refused "a manifest that says it is not encrypted" \
	"the manifest says the backup is not encrypted"
# The object swapped for another file of the same key, the manifest kept.
put "$hreal" weekly.obj
refused "another file in the object's place" \
	"the object's header is not the one its manifest covers"
: >empty
put "$hreal" empty
refused "an empty object" "the backup object is empty"

# A forged encrypted backup, newer, is not latest; nor is a copy.
hforged=h/daily/hsrc/hsrc-daily-$(stamp "now + 20 minutes").sql.gz.enc
put "$hforged" weekly.obj
jq --arg k "$hforged" '.key = $k' weekly.manifest >m
put "$hforged.manifest" m
run "$OFFSITE" -c h.ini restore latest --type daily -o h5.out
t_grep "a forged newer one is not latest" "restore complete\" key=$hreal " "$T_ERR"
run "$OFFSITE" -c h.ini status --json
t_eq "status: the newest complete daily is the real one" "$hreal" \
	"$(jq -r '.latest[] | select(.type == "daily") | .key' "$T_OUT")"

# ---- the real encrypted backup, after all that ----
createdb hdst
run "$OFFSITE" -c h.ini restore latest --type daily \
	--to "host=$PGHOST port=$PGPORT dbname=hdst user=$PGUSER"
t_eq "a real encrypted backup restores: exit 0" 0 "$T_RC"
t_eq "into a database equal to the source" \
	"$(pg_dump --data-only --inserts -d hsrc | grep -E '^INSERT' | sort | md5sum)" \
	"$(pg_dump --data-only --inserts -d hdst | grep -E '^INSERT' | sort | md5sum)"
run "$OFFSITE" -c h.ini verify "$hreal"
t_eq "and verifies" "ok $hreal" "$(cut -d' ' -f1,2 "$T_OUT")"

# ---- presign signs backups only ----
printf 'x' >x
put h/notes.txt x
put other/daily/hsrc/hsrc-daily-20261101T000000Z.sql.gz.enc real.obj
run "$OFFSITE" -c h.ini presign "$hreal.manifest"
t_eq "presign of a manifest: exit 1" 1 "$T_RC"
t_grep "says it is a manifest" "is a manifest" "$T_ERR"
t_eq "no URL" "" "$(cat "$T_OUT")"
run "$OFFSITE" -c h.ini presign h/notes.txt
t_eq "presign of a foreign key: exit 1" 1 "$T_RC"
t_grep "says it is not a backup, and what would sign it" \
	'msg="not signing: not a backup" error=.*hint="--any-key signs any object of the bucket"' "$T_ERR"
run "$OFFSITE" -c h.ini presign other/daily/hsrc/hsrc-daily-20261101T000000Z.sql.gz.enc
t_eq "presign outside the prefix: exit 1" 1 "$T_RC"
t_eq "no URL" "" "$(cat "$T_OUT")"
run "$OFFSITE" -c h.ini presign "$hforged"
t_eq "presign of the forged backup: exit 4" 4 "$T_RC"
t_eq "no URL" "" "$(cat "$T_OUT")"
run "$OFFSITE" -c h.ini presign --any-key h/notes.txt
t_eq "--any-key signs what it is given" 0 "$T_RC"
t_grep "a URL" "/h/notes\\.txt\\?" "$T_OUT"
run "$OFFSITE" -c h.ini presign "$hreal"
t_eq "presign of a real backup: exit 0" 0 "$T_RC"
code=$(curl -s -o got -w '%{http_code}' "$(cat "$T_OUT")")
t_eq "its URL works" 200 "$code"
t_ok "and returns the backup" cmp got real.obj

# ==== p/: a passphrase: the MAC key comes from each file's own scrypt ====
(umask 077; printf 'correct horse battery staple\n' >pass)
write_config p.ini p/ "driver = stdin" "name = pp" "" "[encryption]" \
	"enabled = true" "passphrase_file = pass"
printf 'under a passphrase\n' >pp.txt
"$OFFSITE" -c p.ini -q backup --stdin --name pp --type daily <pp.txt 2>>all.log
t_eq "a backup under a passphrase: exit 0" 0 "$?"
preal=$(newest p/daily/pp/)
get "$preal.manifest" pp.manifest
t_grep "its manifest carries a MAC" '"mac": "[0-9a-f]{64}"' pp.manifest
run "$OFFSITE" -c p.ini restore latest -o p1.out
t_eq "it restores: exit 0" 0 "$T_RC"
t_ok "the same bytes" cmp p1.out pp.txt
jq '.plain.bytes += 1' pp.manifest >m
put "$preal.manifest" m
run "$OFFSITE" -c p.ini verify "$preal"
t_eq "an edited manifest: verify exits 4" 4 "$T_RC"
t_grep "it says why" "^FAILED $preal: manifest failed authentication: tampered" "$T_OUT"

# A planted copy whose header asks for another scrypt cost (the highest
# allowed costs seconds and 256 MiB a manifest): a scan does not run
# scrypt for it, and it does not count.
put "$preal.manifest" pp.manifest
pcostly=p/daily/pp/pp-daily-$(stamp "now + 10 minutes").sql.gz.enc
get "$preal" pp.obj
put "$pcostly" pp.obj
jq --arg k "$pcostly" '.key = $k |
	.encryption.header = (.encryption.header[0:20] + "12" +
		.encryption.header[22:])' pp.manifest >m
put "$pcostly.manifest" m
run "$OFFSITE" -c p.ini list
t_eq "another scrypt cost: list exits 0" 0 "$T_RC"
t_grep "it is not counted, and scrypt not run for it" \
	"scrypt cost other than the configured.*$pcostly" "$T_ERR"
run "$OFFSITE" -c p.ini restore latest -o p2.out
t_eq "restore latest: exit 0" 0 "$T_RC"
t_grep "it is the real backup" "$preal" "$T_ERR"

t_nogrep "no secret in any log" "$RGW_SECRET_KEY|$(cat backup.key)|horse" all.log
t_done
