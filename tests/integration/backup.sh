#!/bin/bash
# offsite backup against the real servers: the fixture database goes to
# radosgw and comes back equal, plain and encrypted; and every way a run
# can fail leaves nothing behind: no object under the key, no multipart
# upload, a non-zero exit and one clear log line.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket backup)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
export RUNTIME_DIRECTORY=$T_DIR

source "$TESTS/harness/pg.sh"
pg_load_fixture backup_src

# write_config NAME [extra lines for [database]] -- extra sections follow
write_config() {
	local name=$1
	shift
	cat >"$name" <<EOF
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $bucket
access_key = $RGW_ACCESS_KEY
secret_key_file = secret
part_size = 5MiB
concurrency = 3

[database]
$(printf '%s\n' "$@")
EOF
}

# Objects under PREFIX (keys, one per line), and incomplete uploads.
# curl 7.88 signs the query as written: write it canonical (sorted,
# encoded, "uploads=").
keys_under() {
	t_s3curl GET "/$bucket?list-type=2&prefix=${1//\//%2F}" |
		grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g'
}
uploads_left() {
	t_s3curl GET "/$bucket?uploads=" | grep -c '<UploadId>'
}

# An ordered, comparable dump of a database's contents.
contents() {
	pg_dump --data-only --inserts --rows-per-insert=1 \
		--no-comments -d "$1" | grep -E '^INSERT' | sort
}

# ---- round trip, plain ----
write_config plain.ini "conninfo = host=$PGHOST port=$PGPORT dbname=backup_src user=$PGUSER"
t_run "$OFFSITE" -c plain.ini backup --type daily
t_eq "backup exits 0" 0 "$T_RC"
t_grep "and says it is complete" 'msg="backup complete" key=daily/backup_src/backup_src-daily-[0-9T]+Z\.sql\.gz' "$T_ERR"
t_nogrep "no secret in the log" "$RGW_SECRET_KEY|$PGPASSWORD" "$T_ERR"
key=$(keys_under daily/backup_src/ | grep '\.sql\.gz$' | head -n 1)
t_ok "the backup has its manifest" grep -qx "$key.manifest" <(keys_under daily/backup_src/)

"$OFFSITE" -c plain.ini -q presign "$key" >url
curl -s -o got.sql.gz "$(cat url)"
t_ok "what is stored is standard gzip" gzip -t got.sql.gz
createdb backup_dst_plain
gunzip -c got.sql.gz | psql -X -q -v ON_ERROR_STOP=1 -d backup_dst_plain >/dev/null 2>restore.err
t_eq "it restores with gunzip | psql" "" "$(grep -v '^$' restore.err | head -n 3)"
contents backup_src >src.txt
contents backup_dst_plain >dst.txt
t_ok "every table's contents equal the source" cmp src.txt dst.txt
t_eq "and the source had rows to compare" 3704 "$(wc -l <src.txt | tr -d ' ')"

manifest=$(t_s3curl GET "/$bucket/$key.manifest" | sed '$d')
t_eq "the manifest's plain digest is the dump's" \
	"$(gunzip -c got.sql.gz | sha256sum | cut -d' ' -f1)" \
	"$(echo "$manifest" | sed -n '/"plain"/,/}/s/.*"sha256": "\([0-9a-f]*\)".*/\1/p' | head -n 1)"
t_eq "and its stored digest the object's" \
	"$(sha256sum got.sql.gz | cut -d' ' -f1)" \
	"$(echo "$manifest" | sed -n '/"stored"/,/}/s/.*"sha256": "\([0-9a-f]*\)".*/\1/p' | head -n 1)"
t_grep "metadata names the type" '^x-amz-meta-type: daily' \
	<(curl -s -D - -o /dev/null "$(cat url)" | tr -d '\r' | tr 'A-Z' 'a-z')

# ---- round trip, encrypted ----
"$OFFSITE" keygen -o backup.key >/dev/null 2>&1
write_config enc.ini "conninfo = host=$PGHOST port=$PGPORT dbname=backup_src user=$PGUSER"
printf '\n[encryption]\nenabled = true\nkey_file = backup.key\n' >>enc.ini
t_run "$OFFSITE" -c enc.ini backup
t_eq "an encrypted backup exits 0" 0 "$T_RC"
key=$(keys_under manual/backup_src/ | grep '\.sql\.gz\.enc$' | head -n 1)
t_ok "it is stored as .sql.gz.enc" test -n "$key"
"$OFFSITE" -c enc.ini -q presign "$key" >url
curl -s -o got.enc "$(cat url)"
t_nogrep "the stored bytes are not gzip" '.' <(gzip -t got.enc 2>/dev/null && echo gzip)
createdb backup_dst_enc
"$OFFSITE" decrypt -k backup.key <got.enc | gunzip -c |
	psql -X -q -v ON_ERROR_STOP=1 -d backup_dst_enc >/dev/null 2>restore.err
contents backup_dst_enc >dst_enc.txt
t_ok "decrypted, it restores equal to the source" cmp src.txt dst_enc.txt

# ---- failures: nothing stored, nothing left behind ----
check_nothing_left() { # DESC PREFIX
	t_eq "$1: no object stored" "" "$(keys_under "$2")"
	t_eq "$1: no multipart upload left" 0 "$(uploads_left)"
}

write_config badpw.ini "conninfo = host=$PGHOST port=$PGPORT dbname=backup_src user=$PGUSER password=wrong-password"
t_run env -u PGPASSWORD "$OFFSITE" -c badpw.ini backup --type badpw
t_eq "pg_dump cannot connect: exit 1" 1 "$T_RC"
t_grep "it says it cannot connect" 'cannot connect' "$T_ERR"
t_nogrep "without the password" 'wrong-password' "$T_ERR"
check_nothing_left "cannot connect" badpw/

write_config cmdfail.ini "driver = command" "name = cmdfail" \
	"command = sh -c 'head -c 12000000 /dev/urandom; exit 1'"
t_run "$OFFSITE" -c cmdfail.ini backup --type cmdfail
t_eq "a command that exits 1 after writing data: exit 1" 1 "$T_RC"
t_grep "it says so" 'exited with status 1' "$T_ERR"
check_nothing_left "command exits 1" cmdfail/

write_config killed.ini "driver = command" "name = killed" \
	"command = sh -c 'head -c 12000000 /dev/urandom; kill -9 \$\$'"
t_run "$OFFSITE" -c killed.ini backup --type killed
t_eq "a dump tool killed mid-stream: exit 1" 1 "$T_RC"
t_grep "it says by what" 'signal 9|killed' "$T_ERR"
check_nothing_left "dump killed" killed/

# pg_dump itself, run by the postgres driver, fails partway: a wrapper
# named pg_dump, first in PATH, passes on the first 20 MB of a real dump
# and dies by SIGKILL; another passes on all of it but the end-of-dump
# marker, and exits 0. The database dumps to ~30 MB of hashes (~13 MB
# gzipped): the multipart upload has begun when the dump fails.
createdb backup_big
psql -X -q -v ON_ERROR_STOP=1 -d backup_big -c "create table hashes as
	select i, md5(i::text) || md5((-i)::text) as h
	from generate_series(1, 400000) as i"
mkdir -p pgkilled pgnomarker
cat >pgkilled/pg_dump <<EOF
#!/bin/sh
[ "\$1" = --version ] && exec "$PG_BIN/pg_dump" "\$@"
"$PG_BIN/pg_dump" "\$@" | head -c 20000000
kill -KILL \$\$
EOF
cat >pgnomarker/pg_dump <<EOF
#!/bin/sh
[ "\$1" = --version ] && exec "$PG_BIN/pg_dump" "\$@"
"$PG_BIN/pg_dump" "\$@" | sed '/^-- PostgreSQL database dump complete\$/,\$d'
EOF
chmod +x pgkilled/pg_dump pgnomarker/pg_dump
write_config pgbig.ini "conninfo = host=$PGHOST port=$PGPORT dbname=backup_big user=$PGUSER"

t_run env PATH="$T_DIR/pgkilled:$PATH" "$OFFSITE" -c pgbig.ini backup --type pgkilled
t_eq "pg_dump killed mid-stream: exit 1" 1 "$T_RC"
t_grep "it says pg_dump was killed" 'pg_dump was killed by signal 9' "$T_ERR"
t_grep "the multipart upload it had begun is aborted" 'multipart upload aborted' "$T_ERR"
t_nogrep "no secret in the log" "$RGW_SECRET_KEY|$PGPASSWORD" "$T_ERR"
check_nothing_left "pg_dump killed" pgkilled/

t_run env PATH="$T_DIR/pgnomarker:$PATH" "$OFFSITE" -c pgbig.ini backup --type pgnomarker
t_eq "pg_dump exits 0 without its end-of-dump marker: exit 1" 1 "$T_RC"
t_grep "it says the marker is missing" 'pg_dump output ended without the end-of-dump marker' "$T_ERR"
t_grep "the multipart upload is aborted" 'multipart upload aborted' "$T_ERR"
check_nothing_left "no end-of-dump marker" pgnomarker/

# The same database and configuration with the real pg_dump: stored.
t_run "$OFFSITE" -c pgbig.ini backup --type pgbig
t_eq "with the real pg_dump the same backup succeeds" 0 "$T_RC"
bigkey=$(keys_under pgbig/ | grep '\.sql\.gz$')
manifest=$(t_s3curl GET "/$bucket/$bigkey.manifest" | sed '$d')
t_grep "in more than one part" '"parts": [2-9]' <(echo "$manifest")

# SIGTERM to offsite mid-upload: the dump writes 12 MB, then blocks on a
# FIFO; once the multipart upload exists, the test sends SIGTERM. The test
# holds the FIFO's write end from the start (so the dump's open of it never
# waits) and closes it at the end: a reader left behind sees its end.
mkfifo hold
exec 3<>hold
write_config term.ini "driver = command" "name = term" \
	"command = sh -c 'head -c 12000000 /dev/urandom; cat $T_DIR/hold'"
"$OFFSITE" -c term.ini backup --type term >term.out 2>term.err &
pid=$!
upload_begun() { [ "$(uploads_left)" -gt 0 ]; }
t_until 60 upload_begun
t_eq "the upload was under way" 1 "$(uploads_left)"
kill -TERM "$pid"
rc=0
t_wait 120 "$pid" || rc=$?
exec 3>&-
t_ok "SIGTERM: a non-zero exit" test "$rc" -ne 0
t_grep "it says it was stopped" 'stop requested' term.err
check_nothing_left "SIGTERM" term/

# ---- multipart with concurrency, and a part size that grows ----
write_config big.ini "driver = command" "name = big" \
	"command = head -c 40000000 /dev/urandom"
t_run "$OFFSITE" -c big.ini backup --type big
t_eq "a 40 MB backup in 5 MiB parts, 3 at a time" 0 "$T_RC"
bkey=$(keys_under big/ | grep '\.sql\.gz$')
manifest=$(t_s3curl GET "/$bucket/$bkey.manifest" | sed '$d')
t_grep "took several parts" '"parts": (8|9)' <(echo "$manifest")

# 40 MB is 7.6 parts of 5 MiB. With max_parts = 4 the parts grow
# (5, 10, 20, 40 MiB) and it fits; with 3 (5 + 10 + 20 MiB) it cannot.
sed 's/^part_size = 5MiB$/part_size = 5MiB\nmax_parts = 4/' big.ini >grow.ini
sed -i 's/^name = big$/name = grow/' grow.ini
t_run "$OFFSITE" -c grow.ini backup --type grow
t_eq "max_parts = 4 still fits 40 MB: the part size grows" 0 "$T_RC"
gkey=$(keys_under grow/ | grep '\.sql\.gz$')
manifest=$(t_s3curl GET "/$bucket/$gkey.manifest" | sed '$d')
t_grep "in 4 parts" '"parts": 4' <(echo "$manifest")
t_grep "the largest of 20 MiB or more" '"largest_part": (2[0-9]{7}|[3-9][0-9]{7})' <(echo "$manifest")

sed -i 's/^max_parts = 4$/max_parts = 3/; s/^name = grow$/name = toofew/' grow.ini
t_run "$OFFSITE" -c grow.ini backup --type toofew
t_eq "max_parts = 3 cannot: exit 1" 1 "$T_RC"
t_grep "and it says why" 'more than 3 parts' "$T_ERR"
check_nothing_left "too few parts" toofew/

# ---- the lock ----
exec 4>"$T_DIR/offsite-locked.lock"
flock -n 4
write_config locked.ini "driver = command" "name = locked" "command = echo x"
t_run "$OFFSITE" -c locked.ini backup
t_eq "a second run of the same database exits 3" 3 "$T_RC"
t_grep "and names the lock" 'another backup of .locked. is running' "$T_ERR"
exec 4>&-

# ---- max_size ----
write_config maxsize.ini "driver = command" "name = maxsize" \
	"command = head -c 12000000 /dev/urandom"
sed -i 's/^concurrency = 3$/concurrency = 3\nmax_size = 8MiB/' maxsize.ini
t_run "$OFFSITE" -c maxsize.ini backup --type maxsize
t_eq "past max_size: exit 1" 1 "$T_RC"
t_grep "it says so" 'larger than max_size' "$T_ERR"
check_nothing_left "max_size" maxsize/

# ---- stdin ----
write_config stdin.ini "conninfo = dbname=unused"
echo "hello from stdin" | "$OFFSITE" -c stdin.ini backup --stdin --name piped \
	>/dev/null 2>stdin.err
skey=$(keys_under manual/piped/ | grep '\.sql\.gz$')
t_s3curl GET "/$bucket/$skey" -o piped.gz >/dev/null
t_eq "--stdin stores what was piped in" "hello from stdin" "$(gunzip -c piped.gz)"

t_done
