#!/bin/bash
# offsite retention against radosgw: lifecycle rules merged with a rule
# that is not ours, real expiry on a shortened lifecycle day, and pruning
# of backups with chosen timestamps.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
export RUNTIME_DIRECTORY=$T_DIR

# write_config FILE BUCKET PREFIX [lines for [retention]]
write_config() {
	local file=$1 bucket=$2 prefix=$3
	shift 3
	cat >"$file" <<EOF
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $bucket
prefix = $prefix
access_key = $RGW_ACCESS_KEY
secret_key_file = secret

[database]
driver = stdin

[retention]
$(printf '%s\n' "$@")
EOF
}

lifecycle() { t_s3curl GET "/$1?lifecycle=" | sed '$d'; }
rule_ids() { lifecycle "$1" | grep -o '<ID>[^<]*</ID>' | sed 's/<[^>]*>//g' | sort; }
keys_under() {
	t_s3curl GET "/$1?list-type=2&prefix=${2//\//%2F}" |
		grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g' | sort
}

# ---- apply keeps a rule that is not ours ----
bucket=$(t_bucket retention)
t_s3curl PUT "/$bucket" >/dev/null
cat >foreign.xml <<EOF
<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Rule><ID>expire-logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule>
</LifecycleConfiguration>
EOF
code=$(t_s3curl PUT "/$bucket?lifecycle=" -T foreign.xml \
	-H "Content-MD5: $(openssl md5 -binary foreign.xml | base64)" | tail -n 1)
t_eq "a foreign rule is in place" 200 "$code"

write_config r.ini "$bucket" "" "days = 30" "days.weekly = 90" \
	"days.monthly = 365"
t_run "$OFFSITE" -c r.ini retention show
t_eq "show exits 0" 0 "$T_RC"
t_grep "show marks the foreign rule" '^other .*expire-logs: expire logs/ after 3 days \(not offsite.s\)' "$T_OUT"
t_grep "show lists what is missing" '^missing .*offsite-weekly: expire weekly/ after 90 days' "$T_OUT"

t_run "$OFFSITE" -c r.ini retention apply --dry-run
t_eq "apply --dry-run exits 0" 0 "$T_RC"
t_grep "dry run says what it would add" '^would add .*offsite-monthly: expire monthly/ after 365 days' "$T_OUT"
t_eq "dry run writes nothing" "expire-logs" "$(rule_ids "$bucket" | tr '\n' ' ' | sed 's/ $//')"

t_run "$OFFSITE" -c r.ini retention apply
t_eq "apply exits 0" 0 "$T_RC"
t_grep "apply says what it adds" '^add .*offsite-abort-incomplete: abort uploads under \(the whole bucket\) unfinished after 2 days' "$T_OUT"
t_eq "both ours and the foreign rule are in the bucket" \
	"expire-logs offsite-abort-incomplete offsite-manual offsite-monthly offsite-weekly" \
	"$(rule_ids "$bucket" | tr '\n' ' ' | sed 's/ $//')"
t_ok "the foreign rule kept its 3 days" \
	grep -q '<ID>expire-logs</ID>.*<Days>3</Days>' <(lifecycle "$bucket" | tr -d '\n')

t_run "$OFFSITE" -c r.ini retention apply
t_eq "apply twice exits 0" 0 "$T_RC"
t_grep "apply twice changes nothing" '^nothing to change$' "$T_OUT"
t_nogrep "and adds nothing" '^(add|change) ' "$T_OUT"

# A changed setting changes our rule only.
write_config r2.ini "$bucket" "" "days = 30" "days.weekly = 14" \
	"days.monthly = 365"
t_run "$OFFSITE" -c r2.ini retention apply
t_grep "a new days.weekly changes its rule" '^change .*offsite-weekly: expire weekly/ after 14 days \(was 90 days\)' "$T_OUT"

t_run "$OFFSITE" -c r.ini retention remove
t_eq "remove exits 0" 0 "$T_RC"
t_eq "remove leaves the foreign rule alone" "expire-logs" \
	"$(rule_ids "$bucket" | tr '\n' ' ' | sed 's/ $//')"

# With nothing but ours, remove deletes the whole configuration.
t_s3curl DELETE "/$bucket?lifecycle=" >/dev/null
t_run "$OFFSITE" -c r.ini retention apply
t_run "$OFFSITE" -c r.ini retention remove
t_eq "remove of ours alone exits 0" 0 "$T_RC"
t_eq "the bucket has no lifecycle configuration left" 404 \
	"$(t_s3curl GET "/$bucket?lifecycle=" | tail -n 1)"

t_run "$OFFSITE" -c r.ini retention frobnicate
t_eq "an unknown action is a usage error" 2 "$T_RC"

# ---- a backup installs the rules of a bucket that has none ----
fresh=$(t_bucket fresh)
t_s3curl PUT "/$fresh" >/dev/null
write_config f.ini "$fresh" "db/" "days.daily = 7"
echo hello | "$OFFSITE" -c f.ini backup --stdin --name app --type daily 2>err
t_eq "the backup exits 0" 0 "$?"
t_grep "it says it installed the rules" 'msg="lifecycle rules installed" rule=offsite-db/daily' err
t_eq "the fresh bucket has our rules" \
	"offsite-db/abort-incomplete offsite-db/daily offsite-db/manual" \
	"$(rule_ids "$fresh" | tr '\n' ' ' | sed 's/ $//')"
echo hello | "$OFFSITE" -c f.ini backup --stdin --name app --type daily 2>err
t_nogrep "the second backup finds them there" 'lifecycle rules installed' err
write_config off.ini "$fresh" "other/" "apply_on_backup = false"
echo hello | "$OFFSITE" -c off.ini backup --stdin --name app --type daily 2>err
t_nogrep "apply_on_backup = false installs nothing" 'offsite-other/' \
	<(rule_ids "$fresh")

# ---- radosgw expires a 1-day type and keeps the other ----
# The harness makes a lifecycle day last RGW_LC_DAY seconds.
expiry=$(t_bucket expiry)
t_s3curl PUT "/$expiry" >/dev/null
write_config e.ini "$expiry" "" "days.short = 1" "days.long = 3650"
for type in short long; do
	echo "data of $type" | "$OFFSITE" -c e.ini backup --stdin --name app \
		--type "$type" 2>/dev/null
done
t_run "$OFFSITE" -c e.ini retention apply
t_eq "rules for both types applied" 0 "$T_RC"
t_eq "both backups and their manifests are there" 4 \
	"$(keys_under "$expiry" "" | wc -l)"
# Poll the observable condition, bounded: radosgw's lifecycle thread
# runs every lifecycle day, but takes the buckets one at a time, and a
# loaded machine with many test buckets has seen it take over 120 s.
expired() { [ -z "$(keys_under "$expiry" short/)" ]; }
t_until 300 expired
t_eq "the 1-day type's backup and manifest expired" "" \
	"$(keys_under "$expiry" short/)"
t_eq "the other type's backup and manifest stay" 2 \
	"$(keys_under "$expiry" long/ | wc -l)"

# ---- prune ----
# put_backup BUCKET PREFIX TYPE DB DAYS_AGO [incomplete]
now=$(date -u +%s)
put_backup() {
	local ts key
	ts=$(date -u -d "@$((now - $5 * 86400 - 60))" +%Y%m%dT%H%M%SZ)
	key="$2$3/$4/$4-$3-$ts.sql.gz"
	printf 'x' >obj
	t_s3curl PUT "/$1/$key" -T obj >/dev/null
	if [ "${6:-}" != incomplete ]; then
		t_manifest "$key" obj >manifest
		t_s3curl PUT "/$1/$key.manifest" -T manifest >/dev/null
	fi
	echo "$key"
}
pb=$(t_bucket prune)
t_s3curl PUT "/$pb" >/dev/null
k_d1=$(put_backup "$pb" p/ daily app 1)
k_d5=$(put_backup "$pb" p/ daily app 5)
k_d8=$(put_backup "$pb" p/ daily app 8)
k_d9i=$(put_backup "$pb" p/ daily app 9 incomplete)
k_o20=$(put_backup "$pb" p/ daily other 20)
k_o21=$(put_backup "$pb" p/ daily other 21)
k_w40=$(put_backup "$pb" p/ weekly app 40)
k_w100=$(put_backup "$pb" p/ weekly app 100)
printf 'x' >obj
t_s3curl PUT "/$pb/p/daily/notes.txt" -T obj >/dev/null
# An unfinished upload of today: too young to abort.
t_s3curl POST "/$pb/p/daily/app/app-daily-20261123T000000Z.sql.gz?uploads=" >/dev/null
write_config p.ini "$pb" "p/" "days = 7" "days.weekly = 90"
keys_under "$pb" p/ >before

t_run "$OFFSITE" -c p.ini retention prune --dry-run
t_eq "prune --dry-run exits 0" 0 "$T_RC"
grep -o '^would delete [^ ]*' "$T_OUT" | awk '{print $3}' | sort >would
t_eq "dry run names exactly the expired ones" \
	"$(printf '%s\n' "$k_d8" "$k_d9i" "$k_o21" "$k_w100" | sort)" "$(cat would)"
t_eq "dry run deletes nothing" "$(cat before)" "$(keys_under "$pb" p/)"
t_nogrep "a young unfinished upload is not aborted" 'abort' "$T_OUT"

t_run "$OFFSITE" -c p.ini retention prune
t_eq "prune exits 0" 0 "$T_RC"
t_eq "prune deleted exactly those, manifests included" \
	"$(printf '%s\n' "$k_d1" "$k_d1.manifest" "$k_d5" "$k_d5.manifest" \
		"$k_o20" "$k_o20.manifest" "$k_w40" "$k_w40.manifest" \
		p/daily/notes.txt | sort)" \
	"$(keys_under "$pb" p/)"
t_grep "and says how many" '^pruned 4 backups' "$T_OUT"
t_eq "the unfinished upload is still there" 1 \
	"$(t_s3curl GET "/$pb?uploads=" | grep -c '<UploadId>')"

# keep_last: the newest two of four young backups stay.
kb=$(t_bucket keep)
t_s3curl PUT "/$kb" >/dev/null
k1=$(put_backup "$kb" "" daily app 1)
k2=$(put_backup "$kb" "" daily app 2)
k3=$(put_backup "$kb" "" daily app 3)
k4=$(put_backup "$kb" "" daily app 4)
write_config k.ini "$kb" "" "days = 30" "keep_last.daily = 2"
t_run "$OFFSITE" -c k.ini retention prune
t_eq "prune with keep_last exits 0" 0 "$T_RC"
t_eq "keep_last keeps the newest two" \
	"$(printf '%s\n' "$k1" "$k1.manifest" "$k2" "$k2.manifest" | sort)" \
	"$(keys_under "$kb" "")"
t_grep "and says why the others went" "^delete +$k3 \(beyond keep_last 2\)" "$T_OUT"

# The newest complete backup stays whatever the settings, even behind a
# newer incomplete one.
nb=$(t_bucket newest)
t_s3curl PUT "/$nb" >/dev/null
n1=$(put_backup "$nb" "" daily app 400 incomplete)
n2=$(put_backup "$nb" "" daily app 500)
n3=$(put_backup "$nb" "" daily app 600)
write_config n.ini "$nb" "" "days = 1" "keep_last = 1"
t_run "$OFFSITE" -c n.ini retention prune
t_eq "the newest complete backup is never pruned" \
	"$(printf '%s\n' "$n2" "$n2.manifest" | sort)" "$(keys_under "$nb" "")"

cat "$T_OUT" "$T_ERR" err >all
t_nogrep "no secret in any output" "$RGW_SECRET_KEY" all
t_done
