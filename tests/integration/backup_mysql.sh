#!/bin/bash
# offsite backup for MySQL users: the MariaDB fixture dumped with
# mysqldump (credentials in a private option file), stored in radosgw,
# fetched through a presigned URL and restored with mysql: every table's
# contents equal the source.
source "$TESTS/lib.sh"
source "$TESTS/harness/mysql.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket mysql)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
(umask 077; printf '%s\n' "$MYSQL_PASSWORD" >mysql_password)
export RUNTIME_DIRECTORY=$T_DIR

mysql_load_fixture shop_src
mariadb_q() { # DB SQL
	MYSQL_PWD=$MYSQL_PASSWORD mariadb --no-defaults --protocol=tcp \
		-h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" \
		--default-character-set=utf8mb4 -N -B "$1" -e "$2"
}

cat >my.ini <<EOF2
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $bucket
access_key = $RGW_ACCESS_KEY
secret_key_file = secret

[database]
driver = mysql
dsn = mysql://$MYSQL_USER@$MYSQL_HOST:$MYSQL_PORT/shop_src
password_file = mysql_password
EOF2

t_run "$OFFSITE" -c my.ini backup --type daily
t_eq "a mysqldump backup exits 0" 0 "$T_RC"
t_grep "with mysqldump" 'tool="mysqldump' "$T_ERR"
t_nogrep "no password in the log" "$MYSQL_PASSWORD|$RGW_SECRET_KEY" "$T_ERR"

"$OFFSITE" -c my.ini -q presign latest --type daily >url
curl -s -o got.sql.gz "$(cat url)"
t_ok "what is stored is standard gzip" gzip -t got.sql.gz
mariadb_q "" "CREATE DATABASE shop_dst CHARACTER SET utf8mb4"
gunzip -c got.sql.gz | MYSQL_PWD=$MYSQL_PASSWORD mariadb --no-defaults \
	--protocol=tcp -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" \
	--default-character-set=utf8mb4 shop_dst 2>restore.err
t_eq "it restores with gunzip | mysql" "" "$(cat restore.err)"

tables=$(mariadb_q shop_src "SHOW TABLES" | sort)
ntables=$(echo "$tables" | wc -l | tr -d ' ')
t_eq "the source has its four tables" 4 "$ntables"
same=0
while IFS= read -r t; do
	a=$(mariadb_q shop_src "CHECKSUM TABLE \`$t\` EXTENDED" | cut -f2)
	b=$(mariadb_q shop_dst "CHECKSUM TABLE \`$t\` EXTENDED" | cut -f2)
	n=$(mariadb_q shop_src "SELECT COUNT(*) FROM \`$t\`")
	if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$n" -gt 0 ]; then
		same=$((same + 1))
	else
		echo "# table $t: source $a, restored $b, rows $n"
	fi
done <<<"$tables"
t_eq "every table's contents equal the source" "$ntables" "$same"

t_done
