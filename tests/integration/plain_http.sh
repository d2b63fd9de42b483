#!/bin/bash
# allow_http against radosgw: an http:// endpoint named by an address
# that is not loopback is refused (nothing stored), and with
# allow_http = true a backup goes through and restores equal.
#
# The address is 0.0.0.0: no loopback address by name, but Linux connects
# to it locally, so the traffic still never leaves this machine.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket plainhttp)
t_s3curl PUT "/$bucket" >/dev/null
(umask 077; printf '%s\n' "$RGW_SECRET_KEY" >secret)
export RUNTIME_DIRECTORY=$T_DIR

endpoint=${RGW_ENDPOINT/127.0.0.1/0.0.0.0}
t_ok "the endpoint is named by 0.0.0.0" grep -q '^http://0\.0\.0\.0:' <<<"$endpoint"

# write_config NAME [allow_http value]
write_config() {
	cat >"$1" <<EOF
[storage]
endpoint = $endpoint
${2:+allow_http = $2}
region = $RGW_REGION
bucket = $bucket
access_key = $RGW_ACCESS_KEY
secret_key_file = secret

[database]
driver = stdin
name = app

[retention]
apply_on_backup = false
EOF
}

keys() {
	t_s3curl GET "/$bucket?list-type=2&prefix=" |
		grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g'
}

head -c 300000 /dev/urandom >data

# t_run reads /dev/null: these runs get the data directly.
write_config refused.ini
"$OFFSITE" -c refused.ini backup --type daily <data >/dev/null 2>refused.err
t_eq "without allow_http: backup exits 1" 1 "$?"
t_grep "and says why" "is plain http to a host that is not loopback: requests are signed, but backups and their metadata travel in the clear" refused.err
t_eq "nothing stored" "" "$(keys)"

write_config allowed.ini true
"$OFFSITE" -c allowed.ini backup --type daily <data >/dev/null 2>allowed.err
t_eq "with allow_http = true: backup exits 0" 0 "$?"
t_grep "complete" 'msg="backup complete"' allowed.err
t_run "$OFFSITE" -c allowed.ini restore latest --type daily -o restored
t_eq "restore exits 0" 0 "$T_RC"
t_ok "and the data comes back equal" cmp -s data restored
t_run "$OFFSITE" -c allowed.ini check
t_grep "check warns" '^WARN  endpoint     http://0\.0\.0\.0:[0-9]+ is plain http to a host that is not loopback' "$T_OUT"
t_grep "and the endpoint answers" '^ok    endpoint     http://0\.0\.0\.0:[0-9]+ answers$' "$T_OUT"

t_done
