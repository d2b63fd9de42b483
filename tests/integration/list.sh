#!/bin/bash
# offsite list against radosgw: every backup under the prefix, newest
# first, incomplete ones marked, objects outside the layout ignored; the
# filters; one JSON document that a JSON parser accepts; and a listing of
# more than one page (1000 keys).
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket list)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
export RUNTIME_DIRECTORY=$T_DIR

# write_config FILE BUCKET
write_config() {
	cat >"$1" <<EOF
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $2
prefix = db01
access_key = $RGW_ACCESS_KEY
secret_key_file = secret

[database]
name = app
EOF
}
write_config offsite.ini "$bucket"

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
iso() { # 20261123T093000Z -> 2026-11-23T09:30:00Z
	echo "$1" | sed 's/\(....\)\(..\)\(..\)T\(..\)\(..\)\(..\)Z/\1-\2-\3T\4:\5:\6Z/'
}

# Three real backups, made now.
echo "app daily" | "$OFFSITE" -c offsite.ini -q backup --stdin --name app --type daily
echo "app manual" | "$OFFSITE" -c offsite.ini -q backup --stdin --name app --type manual
echo "crm daily" | "$OFFSITE" -c offsite.ini -q backup --stdin --name crm --type daily
# Older ones, crafted: the key carries the time.
t2=$(ago "2 days")
t3=$(ago "3 days")
k2=db01/daily/app/app-daily-$t2.sql.gz
k3=db01/daily/app/app-daily-$t3.sql.gz.enc
put "$k2" "incomplete: no manifest"
put_manifest "$k3" "0123456789"
# An empty object with an empty manifest is not a backup.
k4=db01/daily/app/app-daily-$(ago "4 days").sql.gz
put "$k4" ""
put "$k4.manifest" ""
# Not ours: outside the layout, or outside the prefix.
put db01/notes.txt "hello"
put db01/daily/app/readme.txt "hello"
put other/daily/app/app-daily-$t2.sql.gz "other prefix"

t_run "$OFFSITE" -c offsite.ini list
t_eq "list exits 0" 0 "$T_RC"
t_grep "a header line" '^created +type +database +size +bytes +encrypted +complete +key$' "$T_OUT"
t_eq "one row per backup, nothing else" 7 "$(wc -l <"$T_OUT" | tr -d ' ')"
t_eq "newest first, the crafted ones last" \
	"$k2 $k3 $k4" "$(tail -n 3 "$T_OUT" | awk '{print $NF}' | tr '\n' ' ' | sed 's/ $//')"
t_grep "an empty manifest: unverified, not complete" \
	"^[0-9TZ:-]+ +daily +app +0 B +0 +no +unverified +$k4\$" "$T_OUT"
t_grep "an incomplete backup is listed and marked" \
	"^[0-9-]{10}T[0-9:]{8}Z +daily +app +23 B +23 +no +no +$k2\$" "$T_OUT"
t_grep "a complete encrypted one: created from its key, size, yes yes" \
	"^$(iso "$t3") +daily +app +10 B +10 +yes +yes +$k3\$" "$T_OUT"
t_grep "a real backup is complete" '^[0-9TZ:-]+ +manual +app +[0-9.]+ [KMG]?i?B +[0-9]+ +no +yes +db01/manual/app/app-manual-' "$T_OUT"
t_nogrep "objects outside the layout are not listed" 'notes\.txt|readme\.txt|^other/' "$T_OUT"
rows=$(sed 1d "$T_OUT")
t_eq "rows are aligned: the key starts in the same column" 1 \
	"$(echo "$rows" | awk '{print index($0, "db01/")}' | sort -u | wc -l | tr -d ' ')"

t_run "$OFFSITE" -c offsite.ini list --type daily
t_eq "--type daily: 5 backups" 5 "$(sed 1d "$T_OUT" | wc -l | tr -d ' ')"
t_nogrep "and no other type" ' manual ' "$T_OUT"
t_run "$OFFSITE" -c offsite.ini list --database crm
t_eq "--database crm: 1 backup" 1 "$(sed 1d "$T_OUT" | wc -l | tr -d ' ')"
t_grep "of crm" ' crm .*db01/daily/crm/crm-daily-' "$T_OUT"
t_run "$OFFSITE" -c offsite.ini list --type weekly
t_eq "no backup of a type: exit 0" 0 "$T_RC"
t_eq "and only the header" 1 "$(wc -l <"$T_OUT" | tr -d ' ')"

t_run "$OFFSITE" -c offsite.ini list --json
t_eq "list --json exits 0" 0 "$T_RC"
t_ok "its output is one valid JSON document" python3 -m json.tool "$T_OUT"
cp "$T_OUT" list.json
t_eq "bucket and prefix" "$bucket db01/" "$(jq -r '.bucket + " " + .prefix' list.json)"
t_eq "six backups" 6 "$(jq '.backups | length' list.json)"
t_eq "newest first" true "$(jq '[.backups[].created] | . == (sort | reverse)' list.json)"
t_eq "every field of the incomplete one" \
	"{\"key\":\"$k2\",\"type\":\"daily\",\"database\":\"app\",\"created\":\"$(iso "$t2")\",\"size\":23,\"encrypted\":false,\"complete\":false,\"state\":\"incomplete\"}" \
	"$(jq -c --arg k "$k2" '.backups[] | select(.key == $k)' list.json)"
t_eq "the encrypted one" "true true 10" \
	"$(jq -r --arg k "$k3" '.backups[] | select(.key == $k) | "\(.encrypted) \(.complete) \(.size)"' list.json)"
t_eq "the empty one" "false unverified" \
	"$(jq -r --arg k "$k4" '.backups[] | select(.key == $k) | "\(.complete) \(.state)"' list.json)"
t_run "$OFFSITE" -c offsite.ini list --json --type manual --database app
t_eq "filters apply to --json" "manual app" \
	"$(jq -r '.backups[] | .type + " " + .database' "$T_OUT")"

t_run "$OFFSITE" -c offsite.ini list --type Daily
t_eq "a bad type: exit 2" 2 "$T_RC"
t_run "$OFFSITE" -c offsite.ini list extra
t_eq "an extra argument: exit 2" 2 "$T_RC"

# ---- more than one page: 1100 backups, every other one complete ----
big=$(t_bucket listbig)
t_s3curl PUT "/$big" >/dev/null
write_config big.ini "$big"
: >empty
mkdir -p manifests
base=$(date -u -d '2026-01-01 00:00:00' +%s)
{
	# One curl, one connection, every PUT signed by curl itself.
	printf 'silent\naws-sigv4 = "aws:amz:%s:s3"\n' "$RGW_REGION"
	printf 'user = "%s:%s"\n' "$RGW_ACCESS_KEY" "$RGW_SECRET_KEY"
	# The manifests are not empty: their bodies go unsigned.
	printf 'header = "x-amz-content-sha256: UNSIGNED-PAYLOAD"\n'
	printf 'write-out = "%%{http_code}\\n"\n'
	for i in $(seq 0 1099); do
		k=db01/daily/app/app-daily-$(date -u -d "@$((base + i * 60))" +%Y%m%dT%H%M%SZ).sql.gz
		printf 'url = "%s/%s/%s"\nupload-file = "empty"\n' "$RGW_ENDPOINT" "$big" "$k"
		if [ $((i % 2)) -eq 0 ]; then
			t_manifest "$k" empty >"manifests/$i"
			printf 'url = "%s/%s/%s.manifest"\nupload-file = "manifests/%s"\n' \
				"$RGW_ENDPOINT" "$big" "$k" "$i"
		fi
	done
} >bulk.cfg
chmod 600 bulk.cfg
t_eq "1650 objects stored" 1650 "$(curl -K bulk.cfg | grep -c '^200$')"

t_run "$OFFSITE" -c big.ini list
t_eq "list of 1100 backups exits 0" 0 "$T_RC"
t_eq "every backup is listed" 1100 "$(sed 1d "$T_OUT" | wc -l | tr -d ' ')"
t_eq "complete where the manifest is, across pages" 550 \
	"$(sed 1d "$T_OUT" | awk '$(NF - 1) == "yes"' | wc -l | tr -d ' ')"
t_eq "the newest first" \
	"db01/daily/app/app-daily-$(date -u -d "@$((base + 1099 * 60))" +%Y%m%dT%H%M%SZ).sql.gz" \
	"$(sed -n 2p "$T_OUT" | awk '{print $NF}')"
t_eq "the oldest last" "db01/daily/app/app-daily-20260101T000000Z.sql.gz" \
	"$(tail -n 1 "$T_OUT" | awk '{print $NF}')"
t_run "$OFFSITE" -c big.ini list --json
t_eq "--json of 1100 backups" "1100 550" \
	"$(jq -r '"\(.backups | length) \([.backups[] | select(.complete)] | length)"' "$T_OUT")"

"$OFFSITE" -c offsite.ini -v list >all.out 2>all.err
t_nogrep "no secret in the output" "$RGW_SECRET_KEY" all.out
t_nogrep "no secret in the log" "$RGW_SECRET_KEY" all.err

t_done
