#!/bin/bash
# The optional catalog in PostgreSQL: a backup, a failed backup and a
# presign each leave a row that agrees with the bucket; a catalog that is
# down costs one warning and changes no exit status; no secret is logged.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket catalog)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
export RUNTIME_DIRECTORY=$T_DIR

source "$TESTS/harness/pg.sh"
pg_load_fixture catalog_src
createdb catalog_ops

# write_config FILE CATALOG_CONNINFO [lines for [database]]
write_config() {
	local file=$1 catalog=$2
	shift 2
	cat >"$file" <<EOF
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $bucket
access_key = $RGW_ACCESS_KEY
secret_key_file = secret

[database]
$(printf '%s\n' "$@")

[catalog]
conninfo = $catalog
table = history
EOF
}
ops="host=$PGHOST port=$PGPORT dbname=catalog_ops user=$PGUSER password=$PGPASSWORD"
rows() { # SQL after FROM history
	psql -X -At -F '|' -d catalog_ops -c "SELECT $1 FROM history ${2:-}"
}
no_secret() { # DESC FILE
	t_nogrep "$1: no secret in the log" "$RGW_SECRET_KEY|$PGPASSWORD" "$2"
}

# ---- a backup ----
write_config pg.ini "$ops" \
	"conninfo = host=$PGHOST port=$PGPORT dbname=catalog_src user=$PGUSER"
t_run "$OFFSITE" -c pg.ini backup --type daily
t_eq "a backup with a catalog exits 0" 0 "$T_RC"
t_nogrep "and logs no catalog warning" 'msg="catalog' "$T_ERR"
no_secret "backup" "$T_ERR"
key=$(sed -n 's/.*msg="backup complete" key=\([^ ]*\) .*/\1/p' "$T_ERR")
t_ok "the backup is named in the log" test -n "$key"
t_eq "the table was created by the first backup" "history" \
	"$(psql -X -At -d catalog_ops -c "SELECT to_regclass('history')")"
t_eq "one row, for the backup" "1" "$(rows 'count(*)')"

manifest=$(t_s3curl GET "/$bucket/$key.manifest" | sed '$d')
stored_sha=$(echo "$manifest" | sed -n '/"stored"/,/}/s/.*"sha256": "\([0-9a-f]*\)".*/\1/p' | head -n 1)
stored_bytes=$(echo "$manifest" | sed -n '/"stored"/,/}/s/.*"bytes": \([0-9]*\).*/\1/p' | head -n 1)
t_ok "the manifest has a stored digest" test -n "$stored_sha"
t_eq "the row: key, type, database, status" \
	"$key|daily|catalog_src|complete" "$(rows 'key, type, database, status')"
t_eq "its size is the manifest's stored bytes" "$stored_bytes" "$(rows size)"
t_eq "its sha256 the manifest's stored digest" "$stored_sha" "$(rows sha256)"
t_eq "it has a start time, a duration and a host" "t|t|t" \
	"$(rows "created_at > now() - interval '1 hour', duration >= 0, host <> ''")"
t_eq "and no detail" "" "$(rows "coalesce(detail, '')")"

# ---- a presign ----
t_run "$OFFSITE" -c pg.ini presign "$key" --expires 10m
t_eq "a presign with a catalog exits 0" 0 "$T_RC"
t_grep "and prints the URL" '^http' "$T_OUT"
t_eq "a row for the presign" "$key|daily|catalog_src|$stored_bytes|presigned" \
	"$(rows 'key, type, database, size, status' "WHERE status = 'presigned'")"
t_grep "with its expiry" '^expires [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' \
	<(rows detail "WHERE status = 'presigned'")
t_nogrep "never the URL" 'X-Amz-Signature|http' <(rows "concat_ws(' ', key, detail)")
no_secret "presign" "$T_ERR"

# ---- a failed backup ----
write_config fail.ini "$ops" "driver = command" "name = failing" \
	"command = sh -c 'echo partial; exit 1'"
t_run "$OFFSITE" -c fail.ini backup --type cmdfail
t_eq "a failed backup still exits 1" 1 "$T_RC"
t_eq "a row for the failed run" "failing|cmdfail|failed|t" \
	"$(rows 'database, type, status, size IS NULL' "WHERE status = 'failed'")"
t_grep "with the reason" 'exited with status 1' <(rows detail "WHERE status = 'failed'")
t_eq "three rows in all" 3 "$(rows 'count(*)')"

# ---- the catalog is down ----
closed=$("$FREEPORT" 1)
down="host=127.0.0.1 port=$closed dbname=catalog_ops user=$PGUSER password=$PGPASSWORD"
write_config down.ini "$down" \
	"conninfo = host=$PGHOST port=$PGPORT dbname=catalog_src user=$PGUSER"
t_run "$OFFSITE" -c down.ini backup --type down
t_eq "a catalog that is down: the backup exits 0" 0 "$T_RC"
t_grep "the backup is complete" 'msg="backup complete"' "$T_ERR"
t_eq "exactly one warning about the catalog" 1 "$(grep -c 'msg="catalog' "$T_ERR")"
t_grep "a warning that says why" \
	"level=warn msg=\"catalog not updated\" key=down/catalog_src/.* status=complete error=\".*port $closed failed" "$T_ERR"
no_secret "catalog down" "$T_ERR"
down_key=$(sed -n 's/.*msg="backup complete" key=\([^ ]*\) .*/\1/p' "$T_ERR")
t_run "$OFFSITE" -c down.ini presign "$down_key"
t_eq "a catalog that is down: the presign exits 0" 0 "$T_RC"
t_grep "and prints the URL" '^http' "$T_OUT"
t_eq "with one warning" 1 "$(grep -c 'msg="catalog' "$T_ERR")"
no_secret "presign, catalog down" "$T_ERR"

write_config downfail.ini "$down" "driver = command" "name = failing" \
	"command = sh -c 'exit 3'"
t_run "$OFFSITE" -c downfail.ini backup
t_eq "a failed backup with the catalog down: still exit 1" 1 "$T_RC"
t_eq "and one warning" 1 "$(grep -c 'msg="catalog' "$T_ERR")"

# A catalog whose rows cannot be written: a table of another shape.
psql -X -q -d catalog_ops -c 'CREATE TABLE othershape (id int)'
sed 's/^table = history$/table = othershape/' pg.ini >shape.ini
t_run "$OFFSITE" -c shape.ini backup --type shape
t_eq "a table of another shape: the backup exits 0" 0 "$T_RC"
t_eq "one warning from the server" 1 \
	"$(grep -c 'level=warn msg="catalog not updated" .*error=".*column .*key.* does not exist' "$T_ERR")"

t_eq "nothing was recorded while the catalog was down" 3 "$(rows 'count(*)')"

t_done
