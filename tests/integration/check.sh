#!/bin/bash
# offsite check against the real servers: every check passes on a healthy
# set-up and leaves nothing behind; each broken part is named by its own
# FAIL line, with exit 1; no secret is ever printed.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
(umask 077; printf '%s\n' "not-the-secret-key-at-all" >wrong_secret)
key_id=$("$OFFSITE" keygen -o backup.key 2>&1 | sed -n 's/.*key id \([0-9a-f]*\).*/\1/p')

# A bucket whose lifecycle rules expire two backup types under db01/.
bucket=$(t_bucket check)
t_s3curl PUT "/$bucket" >/dev/null
rule() { # ID PREFIX DAYS [STATUS]
	printf '<Rule><ID>%s</ID><Filter><Prefix>%s</Prefix></Filter><Status>%s</Status><Expiration><Days>%s</Days></Expiration></Rule>' \
		"$1" "$2" "${4:-Enabled}" "$3"
}
put_lifecycle() { # BUCKET RULES...
	local b=$1
	shift
	printf '<LifecycleConfiguration>%s</LifecycleConfiguration>' "$*" >lc.xml
	t_s3curl PUT "/$b?lifecycle=" -T lc.xml \
		-H "Content-MD5: $(openssl dgst -md5 -binary lc.xml | base64)" | tail -n 1
}
t_eq "the lifecycle rules are in place" 200 \
	"$(put_lifecycle "$bucket" "$(rule daily db01/daily/ 7)" "$(rule weekly db01/weekly/ 60)" "$(rule other elsewhere/ 1)")"

pg_conninfo="host=$PGHOST port=$PGPORT dbname=postgres user=$PGUSER"

# write_config FILE BUCKET [lines for [database]] -- more sections follow
write_config() {
	local file=$1 b=$2
	shift 2
	cat >"$file" <<EOF
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $b
prefix = db01
access_key = $RGW_ACCESS_KEY
secret_key_file = secret

[database]
$(printf '%s\n' "$@")
EOF
}
healthy() { # FILE: postgres, encrypted, with a catalog
	write_config "$1" "$bucket" "conninfo = $pg_conninfo"
	cat >>"$1" <<EOF

[encryption]
enabled = true
key_file = backup.key

[catalog]
conninfo = $pg_conninfo password=$PGPASSWORD
table = check_history
EOF
}
keys_under() {
	t_s3curl GET "/$bucket?list-type=2&prefix=${1//\//%2F}" |
		grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g'
}
no_secret() { # DESC
	t_nogrep "$1: no secret on stdout" "$RGW_SECRET_KEY|$PGPASSWORD|not-the-secret" "$T_OUT"
	t_nogrep "$1: no secret on stderr" "$RGW_SECRET_KEY|$PGPASSWORD|not-the-secret" "$T_ERR"
}

# ---- healthy ----
healthy ok.ini
t_run "$OFFSITE" -c ok.ini check
t_eq "a healthy set-up: exit 0" 0 "$T_RC"
t_eq "one line per check, in order" \
	"config encryption dump-tool database endpoint credentials bucket write read delete duration lifecycle catalog" \
	"$(awk '{print $2}' "$T_OUT" | tr '\n' ' ' | sed 's/ $//')"
t_eq "every line is ok (no backup yet to time)" \
	"skip  duration     no complete backup of postgres yet" \
	"$(grep -v '^ok    ' "$T_OUT")"
t_grep "the columns are aligned" '^ok    credentials  accepted$' "$T_OUT"
t_grep "the key line names the key id" \
	"^ok    encryption   key file .*backup.key, key id $key_id$" "$T_OUT"
t_grep "the dump tool line names pg_dump's version" '^ok    dump-tool    pg_dump \(PostgreSQL\) [0-9]+' "$T_OUT"
t_grep "the database line names the server and the size" \
	'^ok    database     PostgreSQL [0-9.]+, database postgres, [0-9]+ [kMG]?B$' "$T_OUT"
t_grep "the write line names the test key under the prefix" \
	'^ok    write        wrote db01/\.offsite-check/[A-Za-z0-9.-]+-[0-9a-f]{16} ' "$T_OUT"
t_grep "the lifecycle line names the types and their days" \
	"^ok    lifecycle    backups under s3://$bucket/db01/ expire by type: daily 7d, weekly 60d$" "$T_OUT"
t_grep "the catalog line says the table comes with the first backup" \
	'^ok    catalog      .*table check_history does not exist yet' "$T_OUT"
t_eq "nothing is left under .offsite-check/" "" "$(keys_under db01/.offsite-check/)"
t_eq "and the catalog's table was not created" "" \
	"$(psql -X -At -d postgres -c "SELECT to_regclass('check_history')")"
no_secret "healthy"

t_run "$OFFSITE" -c ok.ini check --bogus
t_eq "an unknown option is a usage error" 2 "$T_RC"
t_run "$OFFSITE" -c ok.ini check extra
t_eq "so is an argument" 2 "$T_RC"

# ---- the key file is readable by others ----
chmod 644 backup.key
t_run "$OFFSITE" -c ok.ini check
t_eq "a world-readable key file: exit 1" 1 "$T_RC"
t_grep "the config line names the key file and the fix" \
	"^FAIL  config       ok\.ini:[0-9]+: key_file .*backup\.key.*chmod 600" "$T_OUT"
t_grep "the other checks are skipped" '^skip  catalog      the config did not load$' "$T_OUT"
t_eq "and none passes" "" "$(grep '^ok' "$T_OUT")"
chmod 600 backup.key

# ---- the bucket does not exist ----
healthy nobucket.ini
sed -i "s/^bucket = .*/bucket = $(t_bucket missing)/" nobucket.ini
t_run "$OFFSITE" -c nobucket.ini check
t_eq "a missing bucket: exit 1" 1 "$T_RC"
t_grep "the credentials pass" '^ok    credentials  accepted$' "$T_OUT"
t_grep "the bucket line says it does not exist" \
	'^FAIL  bucket       bucket t-missing-[a-z0-9]+ does not exist \(NoSuchBucket\)' "$T_OUT"
t_grep "the object checks are skipped" '^skip  write        no bucket to use$' "$T_OUT"

# ---- a wrong secret key ----
healthy badsecret.ini
sed -i 's/^secret_key_file = secret$/secret_key_file = wrong_secret/' badsecret.ini
t_run "$OFFSITE" -c badsecret.ini check
t_eq "a wrong secret key: exit 1" 1 "$T_RC"
t_grep "the endpoint still answers" '^ok    endpoint     ' "$T_OUT"
t_grep "the credentials line says the signature does not match" \
	'^FAIL  credentials  the secret key does not match the access key \(SignatureDoesNotMatch\)' "$T_OUT"
t_grep "the bucket is not judged" '^skip  bucket       the credentials were refused$' "$T_OUT"
no_secret "wrong secret"

# ---- an unknown access key ----
healthy badkey.ini
sed -i 's/^access_key = .*/access_key = NOSUCHACCESSKEY00000/' badkey.ini
t_run "$OFFSITE" -c badkey.ini check
t_eq "an unknown access key: exit 1" 1 "$T_RC"
t_grep "the credentials line says so" '^FAIL  credentials  .*\(InvalidAccessKeyId\)' "$T_OUT"

# ---- the endpoint does not answer ----
closed=$("$FREEPORT" 1)
healthy noendpoint.ini
sed -i "s|^endpoint = .*|endpoint = http://127.0.0.1:$closed|" noendpoint.ini
t_run "$OFFSITE" -c noendpoint.ini check
t_eq "an endpoint that does not answer: exit 1" 1 "$T_RC"
t_grep "the endpoint line says so" "^FAIL  endpoint     http://127.0.0.1:$closed does not answer" "$T_OUT"
t_grep "and the rest of storage is skipped" '^skip  lifecycle    the endpoint does not answer$' "$T_OUT"

# ---- no lifecycle rule for the prefix ----
bare=$(t_bucket bare)
t_s3curl PUT "/$bare" >/dev/null
healthy nolc.ini
sed -i "s/^bucket = .*/bucket = $bare/" nolc.ini
t_run "$OFFSITE" -c nolc.ini check
t_eq "no lifecycle rule: exit 1" 1 "$T_RC"
t_grep "the lifecycle line says what to run" \
	"^FAIL  lifecycle    no lifecycle rule expires backups under s3://$bare/db01/: run \`offsite retention apply\`$" "$T_OUT"
t_eq "and it is the only failure" 1 "$(grep -c '^FAIL' "$T_OUT")"

# Rules that do not cover the prefix do not count: disabled, or for
# another prefix, or for a single database of a type.
t_eq "rules that miss the prefix are in place" 200 \
	"$(put_lifecycle "$bare" "$(rule off db01/ 30 Disabled)" "$(rule db02 db02/daily/ 7)" "$(rule onedb db01/daily/app/ 7)")"
t_run "$OFFSITE" -c nolc.ini check
t_grep "rules that miss the prefix: lifecycle fails" '^FAIL  lifecycle    no lifecycle rule expires' "$T_OUT"

# A rule for the whole prefix covers every type.
t_eq "a rule for the whole prefix is in place" 200 \
	"$(put_lifecycle "$bare" "$(rule all db01/ 30)" "$(rule daily db01/daily/ 7)")"
t_run "$OFFSITE" -c nolc.ini check
t_eq "a rule for the whole prefix: exit 0" 0 "$T_RC"
t_grep "the lifecycle line names both" \
	"^ok    lifecycle    backups under s3://$bare/db01/ expire after 30d; by type: daily 7d$" "$T_OUT"

# ---- the database does not answer ----
write_config nodb.ini "$bucket" "conninfo = host=127.0.0.1 port=$closed dbname=postgres user=$PGUSER"
t_run "$OFFSITE" -c nodb.ini check
t_eq "an unreachable database: exit 1" 1 "$T_RC"
t_grep "the database line says it cannot connect, and where" \
	"^FAIL  database     cannot connect to the database: .*port $closed failed" "$T_OUT"
t_grep "pg_dump itself is fine" '^ok    dump-tool    pg_dump ' "$T_OUT"
t_grep "no encryption: skipped" '^skip  encryption   encryption is off' "$T_OUT"
t_grep "no catalog: skipped" '^skip  catalog      no catalog' "$T_OUT"

# ---- MariaDB ----
dsn="mysql://$MYSQL_USER:$MYSQL_PASSWORD@$MYSQL_HOST:$MYSQL_PORT/mysql"
write_config my.ini "$bucket" "driver = mysql" "dsn = $dsn"
t_run "$OFFSITE" -c my.ini check
t_eq "mysql: exit 0" 0 "$T_RC"
t_grep "mysqldump is found" '^ok    dump-tool    mysqldump ' "$T_OUT"
t_grep "and the server answers with its version" \
	'^ok    database     server [0-9.]+-MariaDB.*, database mysql$' "$T_OUT"
write_config mybad.ini "$bucket" "driver = mysql" \
	"dsn = mysql://$MYSQL_USER:wrong-pw-1234@$MYSQL_HOST:$MYSQL_PORT/mysql"
mkdir -m 700 tmp
t_run env TMPDIR="$T_DIR/tmp" "$OFFSITE" -c mybad.ini check
t_eq "mysql with a wrong password: exit 1" 1 "$T_RC"
t_grep "the database line says access was denied" '^FAIL  database     .*Access denied' "$T_OUT"
t_nogrep "without the password" "wrong-pw-1234|$MYSQL_PASSWORD" "$T_OUT"
t_eq "and no option file is left behind" "" "$(ls -A tmp)"

# ---- command and stdin ----
write_config cmd.ini "$bucket" "driver = command" "name = app" "command = no-such-dump-tool --all"
t_run "$OFFSITE" -c cmd.ini check
t_grep "a command that is not installed" \
	'^FAIL  dump-tool    cannot find no-such-dump-tool in PATH' "$T_OUT"
t_grep "whose database is not checked" '^skip  database     driver = command' "$T_OUT"
write_config stdin.ini "$bucket" "driver = stdin" "name = app"
t_run "$OFFSITE" -c stdin.ini check
t_grep "stdin: no dump tool to check" '^skip  dump-tool    driver = stdin' "$T_OUT"

# ---- the catalog ----
healthy catdown.ini
sed -i "s/^conninfo = host=.* password=.*/conninfo = host=127.0.0.1 port=$closed dbname=postgres password=$PGPASSWORD/" catdown.ini
t_run "$OFFSITE" -c catdown.ini check
t_eq "a catalog that does not answer: exit 1" 1 "$T_RC"
t_grep "the catalog line says it cannot connect" "^FAIL  catalog      cannot connect: .*port $closed failed" "$T_OUT"
no_secret "catalog down"

# A role that may not insert into an existing table.
psql -X -q -d postgres <<EOF
CREATE TABLE check_ro (id bigserial PRIMARY KEY, key text NOT NULL, status text NOT NULL);
CREATE ROLE check_reader LOGIN PASSWORD 'reader-pw-5678';
GRANT SELECT ON check_ro TO check_reader;
EOF
healthy catro.ini
sed -i "s/^conninfo = host=\(.*\) user=.* password=.*/conninfo = host=\1 user=check_reader password=reader-pw-5678/;s/^table = .*/table = check_ro/" catro.ini
t_run "$OFFSITE" -c catro.ini check
t_eq "a catalog role that may not insert: exit 1" 1 "$T_RC"
t_grep "the catalog line says what to grant" \
	'^FAIL  catalog      role check_reader may not insert into table check_ro: GRANT INSERT' "$T_OUT"
t_nogrep "without the role's password" 'reader-pw-5678' "$T_OUT"

t_done
