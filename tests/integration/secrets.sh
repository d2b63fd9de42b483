#!/bin/bash
# No secret in any output, at the most verbose level, with every secret
# in play: the secret access key, a session token, the database password,
# the encryption key, request signatures and a presigned URL's signature.
# A backup, a listing, a presign, a verify, a restore (and one refused
# for a password in its --to) and a request that fails with
# SignatureDoesNotMatch (the path that could log what was signed) each
# run with -v and [log] level = debug, in text and in JSON.
#
# radosgw without STS does not check a session token it does not know:
# it accepts the request on its signature (tested below), so the token
# rides along in every request, and in the presigned URL, as with AWS.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket secrets)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
(umask 077; printf 'wrong%s\n' "$RGW_SECRET_KEY" >wrong_secret)
export RUNTIME_DIRECTORY=$T_DIR

source "$TESTS/harness/pg.sh"
pg_load_fixture secrets_src

token="OffsiteTestSessionToken/$(uuidgen)+x=="
export AWS_SESSION_TOKEN=$token
"$OFFSITE" keygen -o backup.key >/dev/null 2>&1
enc_key=$(head -c 64 backup.key)

# write_config NAME SECRET_FILE LOG_FORMAT
write_config() {
	cat >"$1" <<EOF2
[storage]
endpoint = $RGW_ENDPOINT
region = $RGW_REGION
bucket = $bucket
access_key = $RGW_ACCESS_KEY
secret_key_file = $2
part_size = 5MiB

[database]
conninfo = host=$PGHOST port=$PGPORT dbname=secrets_src user=$PGUSER

[encryption]
enabled = true
key_file = backup.key

[log]
level = debug
format = $3
EOF2
}

# no_secrets WHAT FILE...: none of the secrets, nor anything that looks
# like a signature, in FILE.
no_secrets() {
	local what=$1
	shift
	t_nogrep "$what: not the secret key" "$RGW_SECRET_KEY" "$@"
	t_nogrep "$what: not the session token" "$(printf '%s' "$token" | sed 's/[+/=]/./g')" "$@"
	t_nogrep "$what: not the database password" "$PGPASSWORD" "$@"
	t_nogrep "$what: not the encryption key" "$enc_key" "$@"
	t_nogrep "$what: no signature" 'Signature=[0-9a-f]|X-Amz-Signature=[0-9a-f]|X-Amz-Security-Token=[^R]' "$@"
}

for format in text json; do
	write_config "$format.ini" secret "$format"

	t_run "$OFFSITE" -c "$format.ini" -v backup --type daily
	t_eq "$format: backup with a session token exits 0" 0 "$T_RC"
	t_grep "$format: the debug level is on" 'debug' "$T_ERR"
	t_grep "$format: and the requests are logged" 'PUT|POST' "$T_ERR"
	no_secrets "$format: backup" "$T_OUT" "$T_ERR"

	t_run "$OFFSITE" -c "$format.ini" -v list
	t_eq "$format: list exits 0" 0 "$T_RC"
	no_secrets "$format: list" "$T_OUT" "$T_ERR"

	t_run "$OFFSITE" -c "$format.ini" -v presign latest
	t_eq "$format: presign exits 0" 0 "$T_RC"
	url=$(cat "$T_OUT")
	t_grep "$format: the URL carries the session token" \
		"X-Amz-Security-Token=OffsiteTestSessionToken%2F" "$T_OUT"
	sig=$(sed -n 's/.*X-Amz-Signature=\([0-9a-f]*\).*/\1/p' "$T_OUT")
	t_eq "$format: and a signature" 64 "${#sig}"
	t_nogrep "$format: the URL's signature is not in the log" "$sig" "$T_ERR"
	no_secrets "$format: presign" "$T_ERR"
	code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
	t_eq "$format: radosgw accepts the URL with its token" 200 "$code"

	t_run "$OFFSITE" -c "$format.ini" -v verify latest
	t_eq "$format: verify exits 0" 0 "$T_RC"
	no_secrets "$format: verify" "$T_OUT" "$T_ERR"

	createdb "secrets_$format"
	t_run "$OFFSITE" -c "$format.ini" -v restore latest \
		--to "host=$PGHOST port=$PGPORT dbname=secrets_$format user=$PGUSER password=$PGPASSWORD"
	t_eq "$format: restore, with a password in --to, is refused: exit 2" 2 "$T_RC"
	no_secrets "$format: restore refused" "$T_OUT" "$T_ERR"
	t_run "$OFFSITE" -c "$format.ini" -v restore latest \
		--to "host=$PGHOST port=$PGPORT dbname=secrets_$format user=$PGUSER"
	t_eq "$format: restore, the password from PGPASSWORD, exits 0" 0 "$T_RC"
	no_secrets "$format: restore" "$T_OUT" "$T_ERR"

	# The wrong secret: radosgw answers SignatureDoesNotMatch with what
	# it computed, which the client may compare with what it signed.
	write_config "wrong-$format.ini" wrong_secret "$format"
	t_run "$OFFSITE" -c "wrong-$format.ini" -v list
	t_eq "$format: a wrong secret exits 1" 1 "$T_RC"
	t_grep "$format: and says why" 'SignatureDoesNotMatch' "$T_ERR"
	no_secrets "$format: a refused request" "$T_OUT" "$T_ERR"
	t_nogrep "$format: not the wrong secret either" "wrong$RGW_SECRET_KEY" "$T_ERR"
done

t_done
