#!/bin/bash
# offsite restore for MySQL users: the MariaDB fixture, backed up with
# mysqldump (plain, and encrypted in several parts), restores into a fresh
# MariaDB database equal to the source; the whole backup is checked
# before mysql starts, so a tampered one never touches the target; a
# non-empty target is refused; no password reaches the log.
source "$TESTS/lib.sh"
source "$TESTS/harness/mysql.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket rmysql)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
(umask 077; printf '%s\n' "$MYSQL_PASSWORD" >mysql_password)
mkdir run
export RUNTIME_DIRECTORY=$T_DIR/run
"$OFFSITE" keygen -o backup.key >/dev/null 2>&1

mariadb_q() { # DB SQL
	MYSQL_PWD=$MYSQL_PASSWORD mariadb --no-defaults --protocol=tcp \
		-h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" \
		--default-character-set=utf8mb4 -N -B "$1" -e "$2"
}
mysql_load_fixture msrc
mysql_load_fixture mbig
# ~28 MB that gzip cannot shrink much: several 5 MiB parts.
mariadb_q mbig "CREATE TABLE noise (id INT PRIMARY KEY, t TEXT);
	INSERT INTO noise SELECT seq, CONCAT(MD5(seq), MD5(-seq))
	FROM seq_1_to_400000"

write_config() { # NAME DB [extra lines]
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
driver = mysql
dsn = mysql://$MYSQL_USER@$MYSQL_HOST:$MYSQL_PORT/$db
password_file = mysql_password

[encryption]
key_file = backup.key
$(printf '%s\n' "$@")
EOF
}
write_config src.ini msrc
write_config big.ini mbig "enabled = true"
target() { echo "mysql://$MYSQL_USER@$MYSQL_HOST:$MYSQL_PORT/$1"; }
logs=$T_DIR/all.log
: >"$logs"
run() {
	t_run "$@"
	cat "$T_ERR" >>"$logs"
}
# Every table's checksum, and that there are rows to compare.
same_tables() { # SRC DST
	local t a b n same=0 total=0
	while IFS= read -r t; do
		total=$((total + 1))
		a=$(mariadb_q "$1" "CHECKSUM TABLE \`$t\` EXTENDED" | cut -f2)
		b=$(mariadb_q "$2" "CHECKSUM TABLE \`$t\` EXTENDED" | cut -f2)
		n=$(mariadb_q "$1" "SELECT COUNT(*) FROM \`$t\`")
		if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$n" -gt 0 ]; then
			same=$((same + 1))
		else
			echo "# table $t: source $a, restored $b, rows $n" >&2
		fi
	done < <(mariadb_q "$1" "SHOW TABLES")
	echo "$same/$total"
}
ntables() {
	mariadb_q "" "SELECT COUNT(*) FROM information_schema.tables
		WHERE table_schema = '$1'"
}

run "$OFFSITE" -c src.ini backup --type plain
t_eq "backup of the fixture: exit 0" 0 "$T_RC"
run "$OFFSITE" -c big.ini backup --type bigenc
t_eq "encrypted backup of the big database: exit 0" 0 "$T_RC"
bigkey=$(t_s3curl GET "/$bucket?list-type=2&prefix=bigenc%2F" |
	grep -o '<Key>[^<]*\.enc</Key>' | sed 's/<[^>]*>//g')
t_grep "it took several parts" '"parts": [3-9]' \
	<(t_s3curl GET "/$bucket/$bigkey.manifest")

mariadb_q "" "CREATE DATABASE mdst_plain CHARACTER SET utf8mb4"
run "$OFFSITE" -c src.ini restore latest --type plain --to "$(target mdst_plain)"
t_eq "restore into a fresh MariaDB database: exit 0" 0 "$T_RC"
t_grep "the whole backup is checked before mysql starts" \
	'checking the whole backup before mysql loads it' "$T_ERR"
t_grep "then mysql loads it" 'msg="restore started" .*into=mysql target=mysql://' "$T_ERR"
t_eq "every table's contents equal the source" 4/4 "$(same_tables msrc mdst_plain)"

mariadb_q "" "CREATE DATABASE mdst_big CHARACTER SET utf8mb4"
run "$OFFSITE" -c big.ini restore "$bigkey" --to "$(target mdst_big)"
t_eq "restore of the encrypted, multi-part backup: exit 0" 0 "$T_RC"
t_eq "every table's contents equal the source" 5/5 "$(same_tables mbig mdst_big)"

run "$OFFSITE" -c src.ini restore latest --type plain --to "$(target mdst_plain)"
t_eq "into a non-empty database: exit 1" 1 "$T_RC"
t_grep "it says why" 'not empty \(4 tables\)' "$T_ERR"

run "$OFFSITE" -c src.ini restore latest --type plain -o dump.sql
t_eq "-o FILE: exit 0" 0 "$T_RC"
t_grep "the file is mysqldump's" '^-- Dump completed' dump.sql

# Tampered: mysql must never see it.
key=$(t_s3curl GET "/$bucket?list-type=2&prefix=plain%2F" |
	grep -o '<Key>[^<]*\.gz</Key>' | sed 's/<[^>]*>//g')
t_s3curl GET "/$bucket/$key" -o orig.bin >/dev/null
size=$(stat -c %s orig.bin)
head -c $((size - 100)) orig.bin >bad.bin
t_s3curl PUT "/$bucket/$key" -T bad.bin >/dev/null
mariadb_q "" "CREATE DATABASE mdst_bad CHARACTER SET utf8mb4"
run "$OFFSITE" -c src.ini restore "$key" --to "$(target mdst_bad)"
t_eq "a truncated backup: exit 4" 4 "$T_RC"
t_grep "it says why" 'not intact.*ends early' "$T_ERR"
t_nogrep "mysql never started" 'restore started' "$T_ERR"
t_eq "the target database is still empty" 0 "$(ntables mdst_bad)"

t_nogrep "no secret in any log" "$MYSQL_PASSWORD|$RGW_SECRET_KEY" "$logs"

t_done
