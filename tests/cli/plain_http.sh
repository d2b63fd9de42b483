#!/bin/bash
# An http:// endpoint on a host that is not loopback carries backups in
# the clear: refused unless [storage] allow_http = true, and `check` warns
# when it is allowed. Loopback (127.0.0.0/8, ::1, localhost) is fine.
#
# No request ever leaves this machine: the refused endpoints are refused
# before any lookup or connection, and the allowed "remote" one is
# 0.0.0.0, which names no loopback address but which Linux connects to
# locally, on a port where nothing listens.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1
unset OFFSITE_CONFIG AWS_ENDPOINT_URL AWS_SESSION_TOKEN AWS_PROFILE
export AWS_ACCESS_KEY_ID=AKIDFAKEFAKEFAKE0001
export AWS_SECRET_ACCESS_KEY=offsite-fake-secret-Pq4T7sR2
export AWS_EC2_METADATA_DISABLED=true

closed=$("$FREEPORT")
risk="requests are signed, but backups and their metadata travel in the clear and can be read or altered on the way"

# write NAME ENDPOINT [ALLOW]: a config in NAME.ini.
write() {
	cat >"$1.ini" <<EOF
[storage]
endpoint = $2
${3:+allow_http = $3}
bucket = backups
[database]
driver = stdin
name = app
EOF
}

# A remote host over http: refused by every command that would talk to it.
write remote http://backup.example.com:9000
t_run "$OFFSITE" -c remote.ini list
t_eq "remote http://: list exits 1" 1 "$T_RC"
t_grep "and says why, and how to accept it" \
	"endpoint http://backup\.example\.com:9000 is plain http to a host that is not loopback: $risk; use https://, or set allow_http = true in \[storage\] to accept that" "$T_ERR"
t_run "$OFFSITE" -c remote.ini check
t_eq "remote http://: check exits 1" 1 "$T_RC"
t_grep "check fails the endpoint" \
	"^FAIL  endpoint     http://backup\.example\.com:9000 is plain http to a host that is not loopback: $risk; use https://" "$T_OUT"
t_grep "and goes no further" '^skip  credentials  the endpoint is refused$' "$T_OUT"
t_nogrep "the secret is never shown" 'Pq4T7sR2' "$T_OUT"

# The environment's endpoint is held to the same rule.
write aws https://s3.eu-central-1.amazonaws.com
AWS_ENDPOINT_URL=http://10.1.2.3 t_run "$OFFSITE" -c aws.ini list
t_eq "AWS_ENDPOINT_URL=http://10.1.2.3: list exits 1" 1 "$T_RC"
t_grep "refused the same way" "endpoint http://10\.1\.2\.3 is plain http" "$T_ERR"

# Names that only look like loopback are not.
for ep in http://127.0.0.1.example.com http://localhost.example.com \
	http://128.0.0.1 "http://[::2]:9000"; do
	write lookalike "$ep"
	t_run "$OFFSITE" -c lookalike.ini list
	t_grep "$ep is refused" "is plain http to a host that is not loopback" "$T_ERR"
done

# allow_http = true: accepted, with a WARN line from check that says why.
write allowed "http://0.0.0.0:$closed" true
t_run "$OFFSITE" -c allowed.ini config
t_eq "allowed: config exits 0" 0 "$T_RC"
t_grep "and shows the key" '^allow_http = true$' "$T_OUT"
t_run "$OFFSITE" -c allowed.ini check
t_grep "check warns" \
	"^WARN  endpoint     http://0\.0\.0\.0:$closed is plain http to a host that is not loopback: $risk \(allow_http = true\)$" "$T_OUT"
t_grep "and then tries the endpoint" \
	"^FAIL  endpoint     http://0\.0\.0\.0:$closed does not answer: .*Couldn't connect" "$T_OUT"
t_nogrep "it is not refused" "allow_http = true in \[storage\] to accept" "$T_OUT"

# Loopback over http is fine: no warning, no refusal.
for ep in "http://127.0.0.1:$closed" "http://127.9.8.7:$closed" \
	"http://localhost:$closed" "http://[::1]:$closed"; do
	write loopback "$ep"
	t_run "$OFFSITE" -c loopback.ini check
	t_grep "$ep: check tries the endpoint" "^FAIL  endpoint     .* does not answer" "$T_OUT"
	t_nogrep "$ep: without a warning" "plain http" "$T_OUT"
done

# https:// is never in question, and allow_http is off by default.
write tls "https://127.0.0.1:$closed"
t_run "$OFFSITE" -c tls.ini config
t_grep "allow_http defaults to false" '^allow_http = false$' "$T_OUT"

t_done
