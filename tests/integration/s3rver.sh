#!/bin/bash
# offsite against the second S3 server, S3rver: a backup of standard
# input large enough for several multipart parts, plain and encrypted,
# is listed, verified and restored to a file equal to what went in.
# Only the happy path: S3rver has no AbortMultipartUpload, so a failed
# backup would leave its upload behind there (radosgw tests that).
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

if [ -z "${S3RVER_ENDPOINT:-}" ]; then
	echo "1..0 # SKIP S3rver is not running"
	exit 0
fi

# A signed request to S3rver (see t_s3curl; an empty body).
s3rver_curl() {
	local method=$1 path=$2
	shift 2
	curl -s -X "$method" --aws-sigv4 "aws:amz:$S3RVER_REGION:s3" \
		--user "$S3RVER_ACCESS_KEY:$S3RVER_SECRET_KEY" \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		-w '\n%{http_code}' "$@" "$S3RVER_ENDPOINT$path"
}

bucket=$(t_bucket s3rver)
t_eq "the bucket is created" 200 "$(s3rver_curl PUT "/$bucket" | tail -n 1)"
(umask 077; printf '%s\n' "$S3RVER_SECRET_KEY" >secret)
export RUNTIME_DIRECTORY=$T_DIR
"$OFFSITE" keygen -o backup.key >/dev/null 2>&1

# write_config NAME ENCRYPTED(true|false)
write_config() {
	cat >"$1" <<EOF
[storage]
endpoint = $S3RVER_ENDPOINT
region = $S3RVER_REGION
bucket = $bucket
access_key = $S3RVER_ACCESS_KEY
secret_key_file = secret
part_size = 5MiB
concurrency = 3

[database]
conninfo = dbname=unused

[encryption]
enabled = $2
key_file = backup.key
EOF
}
write_config plain.ini false
write_config enc.ini true

# 12 MiB that gzip cannot shrink: three parts of 5 MiB at most.
head -c $((12 * 1024 * 1024)) /dev/urandom >input

for mode in plain enc; do
	# t_run reads /dev/null: feed the input here.
	T_RC=0
	"$OFFSITE" -c $mode.ini backup --stdin --name "s3rver_$mode" \
		--no-progress <input >"$T_OUT" 2>"$T_ERR" || T_RC=$?
	t_eq "$mode: backup --stdin exits 0" 0 "$T_RC"
	# What S3rver lacks costs a warning, not the backup.
	t_grep "$mode: no ListMultipartUploads is a warning" \
		'level=warn msg="cannot list incomplete uploads"' "$T_ERR"
	key=$(sed -n 's/.*msg="backup complete" key=\([^ ]*\).*/\1/p' "$T_ERR")
	t_ok "$mode: it names its key" test -n "$key"
	t_grep "$mode: stored in three parts" '"parts": 3,' \
		<(s3rver_curl GET "/$bucket/$key.manifest")

	t_run "$OFFSITE" -c $mode.ini list --database "s3rver_$mode"
	t_grep "$mode: list shows it" "$key" "$T_OUT"

	t_run "$OFFSITE" -c $mode.ini verify "$key"
	t_eq "$mode: verify exits 0" 0 "$T_RC"
	t_grep "$mode: and says ok" "^ok $key" "$T_OUT"

	t_run "$OFFSITE" -c $mode.ini restore "$key" -o "$mode.out"
	t_eq "$mode: restore -o exits 0" 0 "$T_RC"
	t_ok "$mode: what comes back is what went in" cmp input "$mode.out"
done

t_done
