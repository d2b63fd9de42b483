#!/bin/bash
# offsite restore and verify against the real servers: the fixture
# database, backed up (plain and encrypted, one PutObject and several
# parts, plain and custom format), restores into a fresh database equal
# to the source; a tampered or truncated object is refused with exit 4,
# and the target database stays empty; -o writes a private file or
# nothing; verify says ok or FAILED per backup; no secret is logged.
source "$TESTS/lib.sh"
source "$TESTS/harness/pg.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket restore)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
mkdir run
export RUNTIME_DIRECTORY=$T_DIR/run

pg_load_fixture rsrc
# The big source: the fixture and ~28 MB of text gzip cannot shrink
# much, for a backup in several 5 MiB parts.
pg_load_fixture rbig
psql -X -q -d rbig -c "CREATE TABLE noise (id integer PRIMARY KEY, t text);
	INSERT INTO noise SELECT i, md5(i::text) || md5((-i)::text)
	FROM generate_series(1, 400000) i;" >/dev/null

"$OFFSITE" keygen -o backup.key >/dev/null 2>&1

# write_config NAME DB [extra lines] : a config for database DB
write_config() {
	local name=$1 db=$2
	shift 2
	cat >"$name" <<EOF
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $bucket
access_key = $RGW_ACCESS_KEY
secret_key_file = secret
part_size = 5MiB

[database]
conninfo = host=$PGHOST port=$PGPORT dbname=$db user=$PGUSER
$(printf '%s\n' "$@")

[encryption]
key_file = backup.key
EOF
}
write_config src.ini rsrc
write_config big.ini rbig
write_config custom.ini rsrc "dump_options = -Fc"
write_config tar.ini rsrc "dump_options = -Ft"
sed 's/^key_file = /enabled = true\nkey_file = /' src.ini >src-enc.ini
sed 's/^key_file = /enabled = true\nkey_file = /' big.ini >big-enc.ini

keys_under() {
	t_s3curl GET "/$bucket?list-type=2&prefix=${1//\//%2F}" |
		grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g'
}
backup_key() { # TYPE DB: the one backup of TYPE
	keys_under "$1/$2/" | grep -v '\.manifest$' | head -n 1
}
contents() {
	pg_dump --data-only --inserts --rows-per-insert=1 \
		--no-comments -d "$1" | grep -E '^INSERT' | sort
}
ntables() {
	psql -X -A -t -d "$1" -c "SELECT count(*) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public'"
}
target() { # DB: the conninfo of DB
	echo "host=$PGHOST port=$PGPORT dbname=$1 user=$PGUSER"
}
# Every run's log: no secret, ever.
logs=$T_DIR/all.log
: >"$logs"
run() {
	t_run "$@"
	cat "$T_ERR" >>"$logs"
}

for cfg in src:plain src-enc:enc big:big big-enc:bigenc custom:custom tar:tar; do
	ini=${cfg%%:*}.ini type=${cfg##*:}
	run "$OFFSITE" -c "$ini" backup --type "$type"
	t_eq "backup $type: exit 0" 0 "$T_RC"
done
contents rsrc >src.txt
contents rbig >big.txt
t_eq "the big source has the noise to compare" 403704 "$(wc -l <big.txt | tr -d ' ')"
t_grep "the big backups took several parts" '"parts": [3-9]' \
	<(t_s3curl GET "/$bucket/$(backup_key big rbig).manifest")
t_grep "and the encrypted one too" '"parts": [3-9]' \
	<(t_s3curl GET "/$bucket/$(backup_key bigenc rbig).manifest")
t_grep "the small ones one PutObject" '"parts": 0' \
	<(t_s3curl GET "/$bucket/$(backup_key plain rsrc).manifest")

# ---- round trips into fresh databases ----
roundtrip() { # DESC INI TYPE SOURCE-CONTENTS
	local desc=$1 ini=$2 type=$3 want=$4 db="dst_$3"
	createdb "$db"
	run "$OFFSITE" -c "$ini" restore latest --type "$type" --to "$(target "$db")"
	t_eq "$desc: restore exits 0" 0 "$T_RC"
	contents "$db" >"$db.txt"
	t_ok "$desc: the contents equal the source" cmp "$want" "$db.txt"
}
roundtrip "plain, one PutObject, psql" src.ini plain src.txt
t_grep "restore started names the key and the tool" \
	'msg="restore started" key=plain/rsrc/rsrc-plain-[0-9T]+Z\.sql\.gz into=psql target=' "$T_ERR"
t_grep "restore complete says how much and how long" \
	'msg="restore complete" key=plain/rsrc/.* plain=[0-9.]+[A-Za-z]* stored=[0-9.]+[A-Za-z]* duration=[0-9.]+s' "$T_ERR"
roundtrip "encrypted, one PutObject" src.ini enc src.txt
roundtrip "plain, several parts" big.ini big big.txt
roundtrip "encrypted, several parts" big.ini bigenc big.txt
roundtrip "custom format, pg_restore" src.ini custom src.txt
t_grep "custom format goes through pg_restore" 'into=pg_restore' "$T_ERR"
roundtrip "tar format, pg_restore" src.ini tar src.txt
t_grep "a tar archive is checked whole first" \
	'checking the whole backup before pg_restore loads it' "$T_ERR"

# An empty conninfo leaves everything to libpq's PG* variables, and
# pg_restore still restores rather than printing SQL.
createdb dst_env
run env PGDATABASE=dst_env "$OFFSITE" -c src.ini restore latest --type custom --to ""
t_eq "--to '' with PGDATABASE: exit 0" 0 "$T_RC"
t_eq "pg_restore restored into PGDATABASE" "$(ntables rsrc)" "$(ntables dst_env)"
t_eq "and printed nothing" "" "$(cat "$T_OUT")"

# A password in --to would sit on offsite's command line, which every
# user of the host can read: refused, and not echoed. From a password
# file, it reaches the tool and no log.
createdb dst_pw
run env -u PGPASSWORD "$OFFSITE" -c src.ini restore latest --type plain \
	--to "$(target dst_pw) password=$PGPASSWORD"
t_eq "a password in --to: exit 2" 2 "$T_RC"
t_grep "it says where the password goes" '--to holds a password.*PGPASSFILE' "$T_ERR"
t_nogrep "and does not echo it" "$PGPASSWORD" "$T_ERR"
t_eq "nothing was restored" 0 "$(ntables dst_pw)"
(umask 077; echo "$PGHOST:$PGPORT:dst_pw:$PGUSER:$PGPASSWORD" >pgpass)
run env -u PGPASSWORD PGPASSFILE="$T_DIR/pgpass" "$OFFSITE" -c src.ini \
	restore latest --type plain --to "$(target dst_pw)"
t_eq "the password in a PGPASSFILE: restore exits 0" 0 "$T_RC"
t_eq "and the database is restored" "$(ntables rsrc)" "$(ntables dst_pw)"
t_nogrep "and the password is not in the log" "$PGPASSWORD" "$T_ERR"

# ---- a non-empty target is refused ----
before=$(contents dst_plain | sha256sum)
run "$OFFSITE" -c src.ini restore latest --type plain --to "$(target dst_plain)"
t_eq "into a non-empty database: exit 1" 1 "$T_RC"
t_grep "it says why" 'not empty .* give --force' "$T_ERR"
t_eq "and changes nothing" "$before" "$(contents dst_plain | sha256sum)"
run "$OFFSITE" -c src.ini restore latest --type plain
t_eq "the configured database (the source) is refused too" 1 "$T_RC"
run "$OFFSITE" -c src.ini restore latest --type plain --to "$(target dst_plain)" --force
t_eq "with --force it is tried: the rows collide, exit 1" 1 "$T_RC"
t_grep "psql's error is logged with a prefix" 'psql stderr: .*ERROR' "$T_ERR"
t_eq "and the single transaction left it as it was" "$before" \
	"$(contents dst_plain | sha256sum)"

# ---- SIGTERM mid-restore ----
# Another session holds the target's schema (DROP SCHEMA, not committed),
# so psql waits on its first CREATE; once it waits, offsite gets SIGTERM.
createdb dst_term
mkfifo holder
psql -X -q -d dst_term <holder >/dev/null 2>&1 &
holder_pid=$!
exec 5<>holder # never waits: this end is open whether psql's is yet or not
echo "BEGIN; DROP SCHEMA public CASCADE; SELECT 'held';" >&5
sql() { timeout 30 psql -X -A -t -d dst_term -c "$1"; }
holding() {
	[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = 'dst_term'
		AND state = 'idle in transaction'")" = 1 ]
}
t_until 60 holding
"$OFFSITE" -c src.ini restore latest --type plain --to "$(target dst_term)" \
	>term.out 2>term.err &
pid=$!
waiting() { [ "$(sql "SELECT count(*) FROM pg_locks WHERE NOT granted")" -gt 0 ]; }
t_until 60 waiting
t_eq "psql waits on the held schema" 1 "$(sql "SELECT count(*) FROM pg_locks WHERE NOT granted")"
kill -TERM "$pid"
rc=0
t_wait 120 "$pid" || rc=$?
echo "ROLLBACK;" >&5
exec 5>&-
t_wait 60 "$holder_pid"
cat term.err >>"$logs"
t_eq "SIGTERM: exit 1" 1 "$rc"
t_grep "it says it was stopped" 'msg="restore stopped" .*signal=Terminated' term.err
t_grep "the stop was logged" 'msg="stop requested" signal=Terminated stopping=restore' term.err
t_eq "and the target database is still empty" 0 "$(ntables dst_term)"

# ---- -o FILE, -o - ----
plain_key=$(backup_key plain rsrc)
run "$OFFSITE" -c src.ini restore "$plain_key" -o dump.sql
t_eq "-o FILE: exit 0" 0 "$T_RC"
t_eq "-o FILE: mode 0600" 600 "$(stat -c %a dump.sql)"
t_grep "-o FILE: the plain dump" '^-- PostgreSQL database dump complete' dump.sql
echo "keep me" >dump.sql
run "$OFFSITE" -c src.ini restore "$plain_key" -o dump.sql
t_eq "-o over an existing file: exit 1" 1 "$T_RC"
t_grep "it says to use --force" 'exists: not overwriting it without --force' "$T_ERR"
t_eq "and leaves the file alone" "keep me" "$(cat dump.sql)"
chmod 644 dump.sql
run "$OFFSITE" -c src.ini restore "$plain_key" -o dump.sql --force
t_eq "-o with --force: exit 0" 0 "$T_RC"
t_grep "it overwrote the file" '^-- PostgreSQL database dump complete' dump.sql
t_eq "and the file is private again" 600 "$(stat -c %a dump.sql)"
run "$OFFSITE" -c src.ini restore "$plain_key" -o -
t_eq "-o -: exit 0" 0 "$T_RC"
t_ok "-o -: stdout is the plain dump" cmp dump.sql "$T_OUT"
run "$OFFSITE" -c src.ini restore latest --type enc -o -
# Each dump has its own random \restrict key; the rest is the same.
t_ok "-o - of the encrypted backup: the same dump" cmp \
	<(grep -v restrict dump.sql) <(grep -v restrict "$T_OUT")
t_eq "no file is left beside the output" "" "$(ls -A | grep offsite- || true)"
run "$OFFSITE" -c src.ini restore "$plain_key" -o a.sql --to "$(target x)"
t_eq "--to and -o together: exit 2" 2 "$T_RC"

# ---- verify ----
run "$OFFSITE" -c src.ini verify "$plain_key"
t_eq "verify KEY: exit 0" 0 "$T_RC"
t_grep "verify KEY: one ok line with the sizes" \
	"^ok $plain_key \(plain [0-9]+ bytes, stored [0-9]+ bytes\)$" "$T_OUT"
run "$OFFSITE" -c big.ini verify latest --type bigenc
t_eq "verify latest (encrypted, several parts): exit 0" 0 "$T_RC"
t_grep "verify latest: ok" '^ok bigenc/rbig/rbig-bigenc-[0-9T]+Z\.sql\.gz\.enc ' "$T_OUT"

# ---- tampered and truncated objects ----
# tamper KEY how: replace the object, keep its manifest.
tamper() {
	local key=$1 how=$2 size
	t_s3curl GET "/$bucket/$key" -o orig.bin >/dev/null
	size=$(stat -c %s orig.bin)
	cp orig.bin bad.bin
	if [ "$how" = flip ]; then
		# One byte in the middle, inverted.
		local off=$((size / 2)) byte
		byte=$(od -An -tu1 -j "$off" -N1 orig.bin | tr -d ' ')
		printf "$(printf '\\%03o' $((255 - byte)))" |
			dd of=bad.bin bs=1 seek="$off" conv=notrunc status=none
	else
		head -c $((size * 2 / 3)) orig.bin >bad.bin
	fi
	t_s3curl PUT "/$bucket/$key" -T bad.bin >/dev/null
}
restore_of_bad() { # DESC KEY INI WHY
	local desc=$1 key=$2 ini=$3 why=$4 db
	db="bad_$((++nbad))"
	createdb "$db"
	run "$OFFSITE" -c "$ini" restore "$key" --to "$(target "$db")"
	t_eq "$desc: restore --to exits 4" 4 "$T_RC"
	t_grep "$desc: and says why" "$why" "$T_ERR"
	t_eq "$desc: the target database is still empty" 0 "$(ntables "$db")"
	run "$OFFSITE" -c "$ini" restore "$key" -o bad.sql
	t_eq "$desc: restore -o exits 4" 4 "$T_RC"
	t_ok "$desc: and leaves no file" test ! -e bad.sql
	t_eq "$desc: not even a temporary one" "" "$(ls -A | grep offsite- || true)"
	run "$OFFSITE" -c "$ini" verify "$key"
	t_eq "$desc: verify exits 4" 4 "$T_RC"
	t_grep "$desc: verify prints FAILED" "^FAILED $key: " "$T_OUT"
}
nbad=0
tamper "$(backup_key plain rsrc)" flip
# The flipped byte may make the gzip stream inflate past the manifest's
# plain size before its CRC is read: refused as soon as it does.
restore_of_bad "tampered" "$(backup_key plain rsrc)" src.ini \
	'not intact.*error=.*(CRC|deflate|SHA-256|gzip|larger than its manifest)'
tamper "$(backup_key enc rsrc)" flip
restore_of_bad "tampered, encrypted" "$(backup_key enc rsrc)" src.ini \
	'not intact.*error=.*segment [0-9]+ failed authentication'
tamper "$(backup_key big rbig)" truncate
restore_of_bad "truncated, several parts" "$(backup_key big rbig)" big.ini \
	'not intact.*error=.*(ends early|stored size)'
tamper "$(backup_key bigenc rbig)" truncate
restore_of_bad "truncated, encrypted" "$(backup_key bigenc rbig)" big.ini \
	'not intact.*error=.*encrypted data ends before its last segment'

# verify --all: good and bad, each named; an incomplete one skipped.
printf 'half' >half.bin
t_s3curl PUT "/$bucket/plain/rsrc/rsrc-plain-20200101T000000Z.sql.gz" -T half.bin >/dev/null
run "$OFFSITE" -c src.ini verify --all --database rsrc
t_eq "verify --all with a tampered backup: exit 4" 4 "$T_RC"
t_grep "the custom backup is ok" "^ok custom/rsrc/" "$T_OUT"
t_grep "the tampered one FAILED" "^FAILED plain/rsrc/rsrc-plain-[0-9T]+Z\.sql\.gz: " "$T_OUT"
t_grep "the incomplete one is skipped" \
	"^skipped plain/rsrc/rsrc-plain-20200101T000000Z\.sql\.gz: no manifest" "$T_OUT"
t_eq "one line per backup" 5 "$(wc -l <"$T_OUT" | tr -d ' ')"
run "$OFFSITE" -c src.ini verify plain/rsrc/rsrc-plain-20200101T000000Z.sql.gz
t_eq "verify of a backup without a manifest: exit 4" 4 "$T_RC"
t_grep "it says so" '^FAILED .*: no manifest' "$T_OUT"
run "$OFFSITE" -c src.ini verify plain/rsrc/rsrc-plain-20190101T000000Z.sql.gz
t_eq "verify of a key that is not there: exit 1" 1 "$T_RC"
t_grep "it says so" '^ERROR .*: no such backup' "$T_OUT"

# A plain pg_dump whose end is missing, with a manifest that agrees with
# every byte: only the end-of-dump marker can tell.
nokey=plain/nomark/nomark-plain-20200101T000000Z.sql.gz
head -n 20 dump.sql >nomark.sql
gzip -c nomark.sql >nomark.sql.gz
cat >nomark.manifest <<EOF
{"format": 1, "key": "$nokey", "type": "plain", "database": "nomark",
 "plain": {"bytes": $(stat -c %s nomark.sql),
           "sha256": "$(sha256sum nomark.sql | cut -d' ' -f1)"},
 "stored": {"bytes": $(stat -c %s nomark.sql.gz),
            "sha256": "$(sha256sum nomark.sql.gz | cut -d' ' -f1)"},
 "parts": 0, "encryption": null, "dump": {"driver": "postgres", "format": "plain"}}
EOF
t_s3curl PUT "/$bucket/$nokey" -T nomark.sql.gz >/dev/null
t_s3curl PUT "/$bucket/$nokey.manifest" -T nomark.manifest >/dev/null
run "$OFFSITE" -c src.ini verify "$nokey"
t_eq "a plain dump without its end: verify exits 4" 4 "$T_RC"
t_grep "it names the marker" "^FAILED $nokey: .*end-of-dump marker" "$T_OUT"
sed -i 's/"format": "plain"/"format": "raw"/' nomark.manifest
t_s3curl PUT "/$bucket/$nokey.manifest" -T nomark.manifest >/dev/null
run "$OFFSITE" -c src.ini verify "$nokey"
t_eq "the same bytes as a command's output: ok" 0 "$T_RC"
run "$OFFSITE" -c src.ini restore "$nokey" --to "$(target dst_term)"
t_eq "which no database tool restores: exit 1" 1 "$T_RC"
t_grep "it says to use -o" 'restore it with -o FILE' "$T_ERR"

t_nogrep "no secret in any log" "$RGW_SECRET_KEY|$PGPASSWORD" "$logs"

t_done
