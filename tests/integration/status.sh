#!/bin/bash
# offsite status against radosgw: totals per type and overall, the newest
# complete backup of each type and database, unfinished uploads, and the
# health check a monitoring system runs: exit 0 while every newest
# complete backup is younger than its maximum age, exit 1 naming each one
# that is not, and each type that should have one and has none.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket status)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
export RUNTIME_DIRECTORY=$T_DIR

# write_config FILE [lines for [retention]]
write_config() {
	local file=$1
	shift
	cat >"$file" <<EOF
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $bucket
prefix = db01
access_key = $RGW_ACCESS_KEY
secret_key_file = secret

[database]
name = app

[retention]
$(printf '%s\n' "$@")
EOF
}
write_config offsite.ini

put() { # KEY BODY
	printf '%s' "$2" >body
	t_s3curl PUT "/$bucket/$1" -T body >/dev/null
}
put_manifest() { # KEY BODY: the backup and a manifest that matches it
	put "$1" "$2"
	t_manifest "$1" body >manifest
	t_s3curl PUT "/$bucket/$1.manifest" -T manifest >/dev/null
}
ago() { # "3 days" -> the key's timestamp of then
	date -u -d "$1 ago" +%Y%m%dT%H%M%SZ
}

# ---- a fresh backup ----
echo "app daily" | "$OFFSITE" -c offsite.ini -q backup --stdin --name app --type daily
t_run "$OFFSITE" -c offsite.ini status --max-age 26h
t_eq "a fresh backup, --max-age 26h: exit 0" 0 "$T_RC"
t_grep "it is ok" '^daily +app +[0-9TZ:-]+ +[0-9]+s +1d2h +ok$' "$T_OUT"
t_grep "and healthy" '^healthy$' "$T_OUT"
t_run "$OFFSITE" -c offsite.ini status
t_eq "no max age anywhere: exit 0" 0 "$T_RC"
t_grep "and says nothing was checked" '^health not checked: no max age set$' "$T_OUT"
t_grep "the row says so too" '^daily +app +.* +- +not checked$' "$T_OUT"

# ---- totals: crafted backups of known sizes ----
t3=$(ago "3 days")
t5=$(ago "5 days")
put_manifest "db01/monthly/app/app-monthly-$t5.sql.gz" "$(head -c 1000 /dev/zero | tr '\0' x)"
put "db01/monthly/app/app-monthly-$t3.sql.gz" "$(head -c 2345 /dev/zero | tr '\0' y)"
put db01/monthly/app/notes.txt "not a backup"
"$OFFSITE" -c offsite.ini -q list --json >list.json
daily_bytes=$(jq '[.backups[] | select(.type == "daily") | .size] | add' list.json)

t_run "$OFFSITE" -c offsite.ini status --json
t_eq "status --json exits 0" 0 "$T_RC"
t_ok "its output is one valid JSON document" python3 -m json.tool "$T_OUT"
cp "$T_OUT" status.json
t_eq "totals overall: count, complete, bytes" "3 2 $((daily_bytes + 3345))" \
	"$(jq -r '.total | "\(.count) \(.complete) \(.bytes)"' status.json)"
t_eq "totals per type" "daily 1 1 $daily_bytes;monthly 2 1 3345;" \
	"$(jq -r '.types[] | "\(.type) \(.count) \(.complete) \(.bytes)"' status.json | tr '\n' ';')"
t_eq "the oldest backup" "db01/monthly/app/app-monthly-$t5.sql.gz" \
	"$(jq -r '.oldest.key' status.json)"
t_eq "the newest backup" "$(jq -r '.backups[0].key' list.json)" \
	"$(jq -r '.newest.key' status.json)"
t_eq "the newest complete monthly is the older one" \
	"db01/monthly/app/app-monthly-$t5.sql.gz" \
	"$(jq -r '.latest[] | select(.type == "monthly") | .key' status.json)"
age=$(jq '.latest[] | select(.type == "monthly") | .age' status.json)
t_ok "its age is 5 days" test "$age" -ge 432000 -a "$age" -lt 432300
t_eq "healthy, nothing checked" "true null" \
	"$(jq -r '"\(.healthy) \(.latest[0].max_age)"' status.json)"
t_eq "no pending upload" "0 null" "$(jq -c '"\(.pending.count) \(.pending.oldest)"' status.json | tr -d '"')"
t_run "$OFFSITE" -c offsite.ini status
t_grep "human totals: per type" "^monthly +2 +1 +3.3 KiB +3345$" "$T_OUT"
t_grep "and overall" "^total +3 +2 +[0-9.]+ KiB +$((daily_bytes + 3345))$" "$T_OUT"
t_grep "the oldest" "^oldest +[0-9TZ:-]+ +db01/monthly/app/app-monthly-$t5.sql.gz$" "$T_OUT"

# ---- a stale backup: crm's newest complete daily is 3 days old ----
put_manifest "db01/daily/crm/crm-daily-$t3.sql.gz" "crm"
# A newer one without its manifest does not make crm fresh.
put "db01/daily/crm/crm-daily-$(ago "1 hour").sql.gz" "incomplete"
t_run "$OFFSITE" -c offsite.ini status --max-age 26h
t_eq "a stale backup: exit 1" 1 "$T_RC"
t_grep "the output names it" \
	'^unhealthy: daily backup of crm is stale: the newest complete one is 3d old, max age 1d2h$' "$T_OUT"
t_grep "its row says stale" '^daily +crm +[0-9TZ:-]+ +3d +1d2h +stale$' "$T_OUT"
t_grep "the log names it, one line" \
	"level=error msg=\"backup too old\" type=daily database=crm age=3d max_age=1d2h key=db01/daily/crm/crm-daily-$t3.sql.gz" "$T_ERR"
t_eq "one log line per stale item: daily/crm and monthly/app" 2 \
	"$(grep -c 'level=error' "$T_ERR")"
t_grep "monthly is stale too" '^unhealthy: monthly backup of app is stale' "$T_OUT"
t_run "$OFFSITE" -c offsite.ini status --max-age 26h --database app --type daily
t_eq "only app's daily backups: exit 0" 0 "$T_RC"
t_run "$OFFSITE" -c offsite.ini status --max-age 4d --type daily
t_eq "a longer max age: exit 0" 0 "$T_RC"

t_run "$OFFSITE" -c offsite.ini status --max-age 26h --json
t_eq "--json: exit 1 as well" 1 "$T_RC"
t_ok "and valid JSON" python3 -m json.tool "$T_OUT"
t_eq "unhealthy, with the problems" "false 2" \
	"$(jq -r '"\(.healthy) \(.problems | length)"' "$T_OUT")"
t_eq "the stale pair" "daily crm 259200 93600 true" \
	"$(jq -r '.latest[] | select(.database == "crm") | "\(.type) \(.database) \(.age - .age % 3600) \(.max_age) \(.stale)"' "$T_OUT")"

# ---- max age from the config ----
write_config typed.ini "max_age.daily = 26h"
t_run "$OFFSITE" -c typed.ini status
t_eq "max_age.daily = 26h: exit 1" 1 "$T_RC"
t_grep "names daily/crm" '^unhealthy: daily backup of crm is stale' "$T_OUT"
t_nogrep "monthly is not checked" '^unhealthy: monthly' "$T_OUT"
t_grep "monthly says so" '^monthly +app +.* +- +not checked$' "$T_OUT"
write_config typed4d.ini "max_age.daily = 4d"
t_run "$OFFSITE" -c typed4d.ini status
t_eq "max_age.daily = 4d: exit 0" 0 "$T_RC"
write_config global.ini "max_age = 26h" "max_age.monthly = 40d"
t_run "$OFFSITE" -c global.ini status
t_eq "max_age = 26h with max_age.monthly = 40d: exit 1" 1 "$T_RC"
t_eq "for crm's daily only" "unhealthy: daily backup of crm is stale: the newest complete one is 3d old, max age 1d2h" \
	"$(grep '^unhealthy' "$T_OUT")"

# ---- a configured type with no backup at all ----
write_config weekly.ini "max_age.weekly = 8d"
t_run "$OFFSITE" -c weekly.ini status
t_eq "max_age.weekly and no weekly backup: exit 1" 1 "$T_RC"
t_grep "says so" '^unhealthy: no complete backup of type weekly$' "$T_OUT"
t_grep "in the log too" 'level=error msg="no complete backup" type=weekly database=any' "$T_ERR"
t_grep "its row says missing" '^weekly +\(any\) +- +- +8d +missing$' "$T_OUT"
t_run "$OFFSITE" -c weekly.ini status --type daily
t_eq "not when looking at another type" 0 "$T_RC"

# ---- an unfinished multipart upload is counted ----
pending=db01/daily/app/app-daily-$(ago "2 hours").sql.gz
t_s3curl POST "/$bucket/$pending?uploads=" >mp.out
t_eq "an upload is started" 200 "$(tail -n 1 mp.out)"
t_s3curl POST "/$bucket/db01/elsewhere.bin?uploads=" >/dev/null
t_run "$OFFSITE" -c offsite.ini status --json
t_eq "pending uploads of backups: 1, the other key is not ours" "1 $pending" \
	"$(jq -r '"\(.pending.count) \(.pending.oldest.key)"' "$T_OUT")"
t_run "$OFFSITE" -c offsite.ini status
t_grep "the human output counts it" "^pending uploads: 1, oldest [0-9TZ:-]+ $pending$" "$T_OUT"
t_run "$OFFSITE" -c offsite.ini status --json --type monthly
t_eq "not counted under another type" 0 "$(jq '.pending.count' "$T_OUT")"

# ---- usage ----
t_run "$OFFSITE" -c offsite.ini status --max-age soon
t_eq "a bad duration: exit 2" 2 "$T_RC"
t_grep "with the reason" "bad duration 'soon'" "$T_ERR"

"$OFFSITE" -c offsite.ini -v status --max-age 26h >all.out 2>all.err
t_nogrep "no secret in the output" "$RGW_SECRET_KEY" all.out
t_nogrep "no secret in the log" "$RGW_SECRET_KEY" all.err

t_done
