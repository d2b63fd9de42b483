#!/bin/bash
# A hostile bucket against the restoring host. Whoever can write to the
# bucket plants unencrypted backups, with a manifest that matches (sizes
# and SHA-256 computed as offsite writes them), with a wrong one, or
# without one; nothing in them may run a program on the host that
# restores them, or be half-loaded into its database:
#
#   - psql runs restricted under offsite's own key: a `\!` in a plain
#     dump (at the top, after a `\.` that ends COPY data early, after the
#     dump's own `\unrestrict`) is refused, and so is the one restricted
#     command psql runs a shell for (`\unrestrict` with a backquote);
#     each dump is shown to run its command when fed to psql directly;
#   - a real pg_dump 15.18 plain dump, with its own \restrict lines and
#     COPY rows that begin with a carriage return, restores byte for byte;
#   - pg_restore runs no meta-command: a custom archive whose SQL carries
#     a `\!` outside any literal fails and runs nothing;
#   - mysql runs with --binary-mode and --sandbox: `\!` and `system` fail;
#   - a psql too old for \restrict is refused unless --trust-backup;
#   - the load pass of a check-then-load restore (mysql, encrypted mysql,
#     pg_restore of a tar archive) reads the object the check pass read:
#     a bucket writer who replaces it between the two passes (on cue,
#     through tests/harness/swapproxy) makes the restore fail with exit 4
#     and the database stay as it was;
#   - a small object whose plain bytes far exceed the manifest's plain
#     size: nothing past that size reaches -o's output or the tool.
# Every case asserts its exit status and that the marker file was not
# created.
source "$TESTS/lib.sh"
source "$TESTS/harness/pg.sh"
source "$TESTS/harness/mysql.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket hostile)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
(umask 077; printf '%s\n' "$MYSQL_PASSWORD" >mysql_password)
mkdir run
export RUNTIME_DIRECTORY=$T_DIR/run
"$OFFSITE" keygen -o backup.key >/dev/null 2>&1
marker=$T_DIR/MARKER
rgw_port=${RGW_ENDPOINT##*:}
swapproxy=$(dirname "$FREEPORT")/swapproxy
real_psql=$(command -v psql)
real_mysql=$(command -v mysql)
real_pg_restore=$(command -v pg_restore)

# write_config NAME ENDPOINT DRIVER DB [extra lines]: no [encryption]
# unless an extra line asks for it (the planted backups are unencrypted).
write_config() {
	local name=$1 endpoint=$2 driver=$3 db=$4
	shift 4
	{
		cat <<-EOF
		[storage]
		endpoint = $endpoint
		region = $RGW_REGION
		bucket = $bucket
		access_key = $RGW_ACCESS_KEY
		secret_key_file = secret

		[database]
		EOF
		if [ "$driver" = mysql ]; then
			echo "driver = mysql"
			echo "dsn = mysql://$MYSQL_USER@$MYSQL_HOST:$MYSQL_PORT/$db"
			echo "password_file = mysql_password"
		else
			echo "conninfo = host=$PGHOST port=$PGPORT dbname=$db user=$PGUSER"
		fi
		printf '%s\n' "$@"
	} >"$name"
}
write_config pg.ini "$RGW_ENDPOINT" postgres hr_src
write_config my.ini "$RGW_ENDPOINT" mysql hr_msrc

logs=$T_DIR/all.log
: >"$logs"
run() {
	rm -f "$marker"
	t_run "$@"
	cat "$T_ERR" >>"$logs"
}
no_marker() { # DESC
	if [ -e "$marker" ]; then
		t_fail "$1: the marker file was not created" \
			"it was: $(cat "$marker")"
	else
		t_pass "$1: the marker file was not created"
	fi
}

# plant NAME FILE FORMAT DRIVER [match|bad|none]: FILE, gzipped, as the
# backup NAME/app/app-NAME-...sql.gz, with a manifest that matches it, or
# one with a wrong plain digest, or none. Prints the key.
plant() {
	local name=$1 file=$2 format=$3 driver=$4 how=${5:-match}
	local key="$name/app/app-$name-20250101T000000Z.sql.gz" pn sn psha ssha
	gzip -n -c <"$file" >"$file.gz"
	pn=$(stat -c %s "$file")
	sn=$(stat -c %s "$file.gz")
	psha=$(sha256sum <"$file" | cut -d' ' -f1)
	ssha=$(sha256sum <"$file.gz" | cut -d' ' -f1)
	[ "$how" = bad ] && psha=$(printf '%064d' 0)
	cat >"$file.manifest" <<-EOF
	{"format": 1, "key": "$key", "type": "$name", "database": "app",
	 "host": "elsewhere", "started": "2025-01-01T00:00:00Z",
	 "duration_seconds": 1.0,
	 "plain": {"bytes": $pn, "sha256": "$psha"},
	 "stored": {"bytes": $sn, "sha256": "$ssha"},
	 "parts": 0, "largest_part": $sn,
	 "compression": {"format": "gzip", "engine": "zlib", "level": 6},
	 "encryption": null,
	 "dump": {"driver": "$driver", "tool": "", "format": "$format"}}
	EOF
	t_s3curl PUT "/$bucket/$key" -T "$file.gz" >/dev/null
	[ "$how" = none ] ||
		t_s3curl PUT "/$bucket/$key.manifest" -T "$file.manifest" >/dev/null
	echo "$key"
}

pg_ntables() {
	psql -X -A -t -d "$1" -c "SELECT count(*) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public'"
}
pg_target() { echo "host=$PGHOST port=$PGPORT dbname=$1 user=$PGUSER"; }
mariadb_q() { # DB SQL
	MYSQL_PWD=$MYSQL_PASSWORD "$real_mysql" --no-defaults --protocol=tcp \
		-h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" -N -B "$1" \
		-e "$2"
}
my_ntables() {
	mariadb_q "" "SELECT COUNT(*) FROM information_schema.tables
		WHERE table_schema = '$1'"
}
my_target() { echo "mysql://$MYSQL_USER@$MYSQL_HOST:$MYSQL_PORT/$1"; }

# ---- the sources ----

createdb hr_src
psql -X -q -d hr_src -v ON_ERROR_STOP=1 >/dev/null <<'EOF'
CREATE TABLE t (id integer PRIMARY KEY, a text);
INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 50) i;
-- COPY writes these as lines that begin with \r: "\rhello",
-- "\restrict x" (a carriage return, then "estrict x"), "\r".
CREATE TABLE cr (a text);
INSERT INTO cr VALUES (E'\rhello'), (E'\restrict x'), (E'\r'),
	(E'\runrestrict y'), ('plain');
EOF
pg_dump -d hr_src >base.sql
t_grep "pg_dump writes its own \\restrict line" '^\\restrict [A-Za-z0-9]+$' base.sql
t_grep "and COPY rows that begin with \\r" '^\\restrict x$' base.sql
dumpkey=$(sed -n 's/^\\restrict //p' base.sql | head -n 1)

# The attacks, in every position a plain dump can hold a meta-command.
# Each is the dump an attacker would write: without pg_dump's own
# \restrict, except where the dump's own \unrestrict is the point.
unrestricted=$(grep -v '^\\restrict \|^\\unrestrict ' base.sql)
{ echo "\\! touch $marker"; echo "$unrestricted"; } >top.sql
{ echo "\\! id > $marker"; echo "$unrestricted"; } >top-id.sql
echo "$unrestricted" | awk -v m="$marker" \
	'{ print } /^COPY public\.t / { print "1\tx"; print "\\."; print "\\! touch " m }' >copyend.sql
# After the dump's own \unrestrict, pg_dump's end-of-dump marker again.
awk -v m="$marker" '{ print } /^\\unrestrict / { print "\\! touch " m;
	print "--"; print "-- PostgreSQL database dump complete"; print "--" }' \
	base.sql >afterown.sql
{ echo "\\unrestrict \`touch $marker\`"; echo "$unrestricted"; } >backquote.sql
echo "$unrestricted" | awk -v m="$marker" \
	'{ print } /^SET client_encoding/ { print "SELECT 1 \\unrestrict `touch " m "`" }' >backquote-mid.sql

# Fed to psql directly, each runs its command; the backquoted ones even
# in restricted mode, under a key they do not know.
createdb hr_scratch
for f in top top-id copyend afterown backquote backquote-mid; do
	rm -f "$marker"
	case $f in
	backquote*) prologue='\restrict SomeKeyTheDumpDoesNotKnow' ;;
	*) prologue= ;;
	esac
	{ echo "$prologue"; cat "$f.sql"; } |
		psql -X -q -d hr_scratch -f - >/dev/null 2>&1
	if [ -e "$marker" ]; then
		t_pass "$f: fed to psql directly, the dump runs its command"
	else
		t_fail "$f: fed to psql directly, the dump runs its command"
	fi
	dropdb hr_scratch && createdb hr_scratch
done

# ---- finding 1: psql runs restricted ----

attack_pg() { # NAME FILE HOW EXIT WHY
	local name=$1 file=$2 how=$3 want=$4 why=$5 key db="hr_$1"
	key=$(plant "$name" "$file" plain postgres "$how")
	createdb "$db"
	run "$OFFSITE" -c pg.ini restore "$key" --to "$(pg_target "$db")"
	t_eq "$name ($how manifest): restore exits $want" "$want" "$T_RC"
	t_grep "$name ($how manifest): it says why" "$why" "$T_ERR"
	no_marker "$name ($how manifest)"
	t_eq "$name ($how manifest): the target database is still empty" 0 \
		"$(pg_ntables "$db")"
}
restricted='backslash commands are restricted'
attack_pg top top.sql match 1 "$restricted"
attack_pg topid top-id.sql match 1 "$restricted"
attack_pg copyend copyend.sql match 1 "$restricted"
attack_pg afterown afterown.sql match 1 "$restricted"
attack_pg backquote backquote.sql match 1 'refused: line 1 of the dump holds a psql .+unrestrict with a backquote'
attack_pg backquotemid backquote-mid.sql match 1 'refused: line [0-9]+ of the dump holds a psql .+unrestrict with a backquote'
attack_pg topbad top.sql bad 4 'not intact.*SHA-256 of the plain dump'
attack_pg copyendbad copyend.sql bad 4 'not intact.*SHA-256 of the plain dump'
attack_pg topnone top.sql none 4 'no manifest'

# A real pg_dump 15.18 dump, its own \restrict and \r rows and all,
# restores; psql saw offsite's key first and last, not the dump's.
mkdir -p bin
cat >bin/psql <<EOF
#!/bin/bash
[ "\$1" = --version ] && exec "$real_psql" "\$@"
tee "$T_DIR/psql.in" | "$real_psql" "\$@"
EOF
chmod +x bin/psql
key=$(plant real base.sql plain postgres)
createdb hr_real
PATH=$T_DIR/bin:$PATH run "$OFFSITE" -c pg.ini restore "$key" --to "$(pg_target hr_real)"
t_eq "a real pg_dump 15.18 plain dump: restore exits 0" 0 "$T_RC"
t_eq "the rows that begin with a carriage return survive byte for byte" \
	"$(psql -X -A -t -d hr_src -c "SELECT encode(convert_to(string_agg(a, '|' ORDER BY a), 'UTF8'), 'hex') FROM cr")" \
	"$(psql -X -A -t -d hr_real -c "SELECT encode(convert_to(string_agg(a, '|' ORDER BY a), 'UTF8'), 'hex') FROM cr")"
t_eq "and the other table too" 50 "$(psql -X -A -t -d hr_real -c 'SELECT count(*) FROM t')"
ours=$(head -n 1 psql.in | sed -n 's/^\\restrict \([A-Za-z0-9]\{32\}\)$/\1/p')
t_eq "psql's input opens with offsite's \\restrict and a key of 32" 32 "${#ours}"
t_eq "and ends with its \\unrestrict" "\\unrestrict $ours" "$(tail -n 1 psql.in)"
t_nogrep "the dump's own \\restrict lines did not reach psql" "$dumpkey" psql.in
t_eq "the dump's key is not offsite's" 1 "$([ "$ours" != "$dumpkey" ] && echo 1)"
t_grep "the COPY line that looks like a \\restrict reached psql" '^\\restrict x$' psql.in
createdb hr_real2
PATH=$T_DIR/bin:$PATH run "$OFFSITE" -c pg.ini restore "$key" --to "$(pg_target hr_real2)"
t_eq "a second restore: exit 0" 0 "$T_RC"
t_eq "with a fresh key" 1 "$([ "$(head -n 1 psql.in)" != "\\restrict $ours" ] && echo 1)"

# A psql too old for \restrict.
cat >bin/psql <<EOF
#!/bin/bash
[ "\$1" = --version ] && { echo "psql (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)"; exit 0; }
exec "$real_psql" "\$@"
EOF
createdb hr_old
PATH=$T_DIR/bin:$PATH run "$OFFSITE" -c pg.ini restore "$key" --to "$(pg_target hr_old)"
t_eq "psql 15.13: a plain restore is refused: exit 1" 1 "$T_RC"
t_grep "it says why" 'psql \(PostgreSQL\) 15.13.* cannot run restricted .*15\.14.*could run shell commands.*--trust-backup' "$T_ERR"
t_eq "the target database is still empty" 0 "$(pg_ntables hr_old)"
PATH=$T_DIR/bin:$PATH run "$OFFSITE" -c pg.ini restore "$key" --to "$(pg_target hr_old)" --trust-backup
t_eq "with --trust-backup: exit 0" 0 "$T_RC"
t_grep "and a warning" 'level=warn.*cannot run restricted.*--trust-backup' "$T_ERR"
t_eq "the dump is loaded" 50 "$(psql -X -A -t -d hr_old -c 'SELECT count(*) FROM t')"
rm -f bin/psql

# ---- pg_restore runs no meta-command ----

createdb hr_cf
pad=$(printf 'A%.0s' $(seq 120))
psql -X -q -d hr_cf -v ON_ERROR_STOP=1 \
	-c "CREATE TABLE c (a integer); INSERT INTO c VALUES (1);" \
	-c "COMMENT ON TABLE c IS '$pad'" >/dev/null
pg_dump -Fc -d hr_cf >cf.dump
# Same length: the TOC entry's SQL becomes
#   COMMENT ON TABLE public.c IS '';
#   \! touch MARKER
#   -- AAA...';
M=$marker perl -0777 -pe 'my $p = "\x27\x27;\n\\! touch $ENV{M}\n-- ";
	$p .= "A" x (122 - length $p); s/\x27A{120}\x27/$p/' cf.dump >evil.dump
t_eq "the patched archive keeps its length" "$(stat -c %s cf.dump)" "$(stat -c %s evil.dump)"
t_grep "its SQL carries a \\! outside any literal" "^\\\\! touch $marker\$" \
	<("$real_pg_restore" -f - evil.dump)
key=$(plant custom cf.dump custom postgres)
createdb hr_cfok
run "$OFFSITE" -c pg.ini restore "$key" --to "$(pg_target hr_cfok)"
t_eq "the unpatched archive restores: exit 0" 0 "$T_RC"
key=$(plant customevil evil.dump custom postgres)
createdb hr_cfevil
run "$OFFSITE" -c pg.ini restore "$key" --to "$(pg_target hr_cfevil)"
t_eq "a custom archive with a \\! in its SQL: exit 1" 1 "$T_RC"
t_grep "pg_restore sent it to the server, which refused it" 'pg_restore.*syntax error' "$T_ERR"
no_marker "a custom archive with a \\!"
t_eq "the target database is still empty" 0 "$(pg_ntables hr_cfevil)"

# ---- mysql: --binary-mode and --sandbox ----

mariadb_q "" "CREATE DATABASE hr_msrc"
mariadb_q hr_msrc "CREATE TABLE m (id INT PRIMARY KEY, a TEXT);
	INSERT INTO m VALUES (1, 'one'), (2, 'two')"
MYSQL_PWD=$MYSQL_PASSWORD mysqldump --no-defaults --protocol=tcp \
	-h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" hr_msrc >mbase.sql
{ echo "\\! touch $marker"; cat mbase.sql; } >mbang.sql
{ echo "system touch $marker"; cat mbase.sql; } >msystem.sql
# LOAD DATA LOCAL: the client reads a file of the restoring host into the
# database, whence the next backup carries it to the bucket.
(umask 077; echo TOPSECRET-leaked >leak.txt)
{ cat mbase.sql; echo "CREATE TABLE leak (x TEXT);"
  echo "LOAD DATA LOCAL INFILE '$T_DIR/leak.txt' INTO TABLE leak;"; } >mleak.sql
leaked() { # DB: how many rows of the secret it holds
	mariadb_q "$1" "SELECT COUNT(*) FROM leak WHERE x LIKE 'TOPSECRET%'" \
		2>/dev/null || echo 0
}
mariadb_q "" "CREATE DATABASE hr_scratch_mleak"
MYSQL_PWD=$MYSQL_PASSWORD "$real_mysql" --no-defaults --protocol=tcp \
	-h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" --binary-mode \
	hr_scratch_mleak <mleak.sql >/dev/null 2>&1
t_eq "mleak: fed to mysql directly, the dump reads a local file" 1 \
	"$(leaked hr_scratch_mleak)"
for f in mbang msystem; do
	rm -f "$marker"
	mariadb_q "" "CREATE DATABASE hr_scratch_$f"
	MYSQL_PWD=$MYSQL_PASSWORD "$real_mysql" --no-defaults --protocol=tcp \
		-h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" \
		"hr_scratch_$f" <"$f.sql" >/dev/null 2>&1
	if [ -e "$marker" ]; then
		t_pass "$f: fed to mysql directly, the dump runs its command"
	else
		t_fail "$f: fed to mysql directly, the dump runs its command"
	fi
done
cat >bin/mysql <<EOF
#!/bin/bash
echo "\$*" >>"$T_DIR/mysql.args"
exec "$real_mysql" "\$@"
EOF
chmod +x bin/mysql
: >mysql.args
for f in mbang msystem; do
	key=$(plant "$f" "$f.sql" sql mysql)
	mariadb_q "" "CREATE DATABASE hr_$f"
	PATH=$T_DIR/bin:$PATH run "$OFFSITE" -c my.ini restore "$key" --to "$(my_target "hr_$f")"
	t_eq "$f: restore exits 1" 1 "$T_RC"
	t_grep "$f: mysql refused it" 'mysql stderr: ERROR' "$T_ERR"
	no_marker "$f"
	t_eq "$f: the target database is still empty" 0 "$(my_ntables "hr_$f")"
done
key=$(plant mleak mleak.sql sql mysql)
mariadb_q "" "CREATE DATABASE hr_mleak"
PATH=$T_DIR/bin:$PATH run "$OFFSITE" -c my.ini restore "$key" --to "$(my_target hr_mleak)"
t_eq "mleak: restore exits 1" 1 "$T_RC"
t_eq "mleak: no byte of the local file reached the database" 0 \
	"$(leaked hr_mleak)"
t_grep "mysql loads with --binary-mode, no LOCAL, and --sandbox" \
	'--binary-mode --local-infile=0 --sandbox hr_mbang' mysql.args
rm -f bin/mysql

# ---- finding 2: the load pass reads what the check pass read ----

# swap NAME KEY FILE: restore KEY through a relay that, just before the
# second GET of KEY (the load pass), replaces the object with FILE.
swap_restore() {
	local name=$1 key=$2 file=$3 port
	shift 3
	cat >"swap-$name.sh" <<-EOF
	source "$TESTS/lib.sh"
	t_s3curl PUT "/$bucket/$key" -T "$T_DIR/$file" >/dev/null
	EOF
	rm -f proxy.fifo
	mkfifo proxy.fifo
	"$swapproxy" "$rgw_port" "/$bucket/$key" 2 "bash $T_DIR/swap-$name.sh" \
		>proxy.fifo 2>>"$logs" &
	proxy_pid=$!
	read -r -t 10 port <proxy.fifo
	write_config "swap-$name.ini" "http://127.0.0.1:$port" "$@"
	run timeout 120 "$OFFSITE" -c "swap-$name.ini" restore "$key" --to "$target"
	kill "$proxy_pid" 2>/dev/null
	wait "$proxy_pid" 2>/dev/null
	t_s3curl GET "/$bucket/$key" -o "swapped-$name.bin" >/dev/null
	t_ok "$name: the object was replaced between the passes" \
		cmp "swapped-$name.bin" "$file"
}
key_of() { # TYPE
	t_s3curl GET "/$bucket?list-type=2&prefix=$1%2F" |
		grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g' |
		grep -v '\.manifest$' | head -n 1
}

# The other content: a dump that makes a table, as plain and encrypted
# backups of another database.
mariadb_q "" "CREATE DATABASE hr_mevil"
mariadb_q hr_mevil "CREATE TABLE evil (a INT)"
write_config evil.ini "$RGW_ENDPOINT" mysql hr_mevil
write_config evil-enc.ini "$RGW_ENDPOINT" mysql hr_mevil "[encryption]" \
	"enabled = true" "key_file = backup.key"
write_config my-enc.ini "$RGW_ENDPOINT" mysql hr_msrc "[encryption]" \
	"enabled = true" "key_file = backup.key"
for c in my:mplain evil:mevilplain my-enc:menc evil-enc:mevilenc; do
	run "$OFFSITE" -c "${c%%:*}.ini" backup --type "${c##*:}"
	t_eq "backup ${c##*:}: exit 0" 0 "$T_RC"
done
t_s3curl GET "/$bucket/$(key_of mevilplain)" -o mevilplain.bin >/dev/null
t_s3curl GET "/$bucket/$(key_of mevilenc)" -o mevilenc.bin >/dev/null

mariadb_q "" "CREATE DATABASE hr_swap"
target=$(my_target hr_swap)
swap_restore mysql "$(key_of mplain)" mevilplain.bin mysql hr_msrc
t_eq "mysql, replaced between the passes: exit 4" 4 "$T_RC"
t_grep "it says why" 'not intact.*the backup changed after it was checked' "$T_ERR"
t_eq "the target database is still empty" 0 "$(my_ntables hr_swap)"

swap_restore mysqlenc "$(key_of menc)" mevilenc.bin mysql hr_msrc \
	"[encryption]" "key_file = backup.key"
t_eq "encrypted mysql, replaced by another encrypted backup: exit 4" 4 "$T_RC"
t_grep "it says why" 'not intact.*the backup changed after it was checked' "$T_ERR"
t_eq "the target database is still empty" 0 "$(my_ntables hr_swap)"

write_config tar.ini "$RGW_ENDPOINT" postgres hr_src "dump_options = -Ft"
write_config tarevil.ini "$RGW_ENDPOINT" postgres hr_cf "dump_options = -Ft"
run "$OFFSITE" -c tar.ini backup --type tar
t_eq "backup tar: exit 0" 0 "$T_RC"
run "$OFFSITE" -c tarevil.ini backup --type tarevil
t_eq "backup tarevil: exit 0" 0 "$T_RC"
t_s3curl GET "/$bucket/$(key_of tarevil)" -o tarevil.bin >/dev/null
createdb hr_swaptar
target=$(pg_target hr_swaptar)
swap_restore tar "$(key_of tar)" tarevil.bin postgres hr_src
t_eq "pg_restore of a tar archive, replaced between the passes: exit 4" 4 "$T_RC"
t_grep "it says why" 'not intact.*the backup changed after it was checked' "$T_ERR"
t_eq "the target database is still empty" 0 "$(pg_ntables hr_swaptar)"

# ---- finding 7: no plain byte past the manifest's plain size ----

head -c $((64 * 1024 * 1024)) /dev/zero >bomb.raw
key=$(plant bomb bomb.raw plain postgres)
t_eq "the bomb is small" 1 "$([ "$(stat -c %s bomb.raw.gz)" -lt 100000 ] && echo 1)"
# Its manifest claims 1000 plain bytes.
sed -i 's/"plain": {"bytes": [0-9]*/"plain": {"bytes": 1000/' bomb.raw.manifest
t_s3curl PUT "/$bucket/$key.manifest" -T bomb.raw.manifest >/dev/null
run bash -c "\"$OFFSITE\" -c pg.ini restore \"$key\" -o - | wc -c >bomb.count; exit \${PIPESTATUS[0]}"
t_eq "-o -: exit 4" 4 "$T_RC"
t_grep "it says why" 'not intact.*the plain dump is larger than its manifest says \(1000 bytes\)' "$T_ERR"
t_eq "no byte past the bound reached standard output" 1 "$([ "$(cat bomb.count)" -le 1000 ] && echo 1)"
run "$OFFSITE" -c pg.ini restore "$key" -o bomb.sql
t_eq "-o FILE: exit 4" 4 "$T_RC"
t_eq "no file" 0 "$(ls -a | grep -c 'bomb\.sql')"
cat >bin/psql <<EOF
#!/bin/bash
[ "\$1" = --version ] && exec "$real_psql" "\$@"
cat >"$T_DIR/psql.in"
EOF
chmod +x bin/psql
# The earlier psql's file must not stand in for this one's.
rm -f psql.in
createdb hr_bomb
PATH=$T_DIR/bin:$PATH run "$OFFSITE" -c pg.ini restore "$key" --to "$(pg_target hr_bomb)"
t_eq "--to: exit 4" 4 "$T_RC"
# psql may be stopped before its input file is made: then it got nothing.
t_eq "psql got at most offsite's \\restrict line and the bound" 1 \
	"$([ "$(stat -c %s psql.in 2>/dev/null || echo 0)" -le $((1000 + 64)) ] && echo 1)"
rm -f bin/psql

t_nogrep "no secret in any log" "$MYSQL_PASSWORD|$RGW_SECRET_KEY|$PGPASSWORD" "$logs"

t_done
