#!/bin/bash
# The configuration through the real binary: each error is one exact line
# on stderr and exit status 2; a valid config prints with its secrets
# redacted, whether they come from a file or the environment.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
unset OFFSITE_CONFIG AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
	AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL

# Recognisable fakes: neither may ever appear in any output.
FILE_SECRET=offsite-fake-file-secret-Zq7W9xK2
ENV_SECRET=offsite-fake-env-secret-Vb3N8mP1

secret=$T_DIR/secret
printf '%s\n' "$FILE_SECRET" >"$secret"
chmod 600 "$secret"

# write NAME: the config from stdin into $T_DIR/NAME.ini; sets $f.
write() {
	f=$T_DIR/$1.ini
	cat >"$f"
}

# expect_error DESC LINE: `offsite -c $f config` fails with exactly LINE.
expect_error() {
	t_run "$OFFSITE" -c "$f" config
	t_eq "$1: exit 2" 2 "$T_RC"
	t_eq "$1: message" "$2" "$(cat "$T_ERR")"
	t_eq "$1: nothing on stdout" "" "$(cat "$T_OUT")"
}

write unknown-key <<EOF
[storage]
bucket = backups
colour = blue
EOF
expect_error "unknown key" \
	"offsite: $f:3: unknown key 'colour' in [storage]"

write key-typo <<EOF
[storage]
bucket = backups
regoin = eu-west-1
EOF
expect_error "misspelt key" \
	"offsite: $f:3: unknown key 'regoin' in [storage]; did you mean 'region'?"

write unknown-section <<EOF
[storage]
bucket = backups

[nonsense]
bar = 1
EOF
expect_error "unknown section" "offsite: $f:4: unknown section [nonsense]"

write section-typo <<EOF
[storag]
bucket = backups
EOF
expect_error "misspelt section" \
	"offsite: $f:1: unknown section [storag]; did you mean [storage]?"

write bad-size <<EOF
[storage]
bucket = backups
part_size = 12XB
EOF
expect_error "bad size" \
	"offsite: $f:3: bad value for part_size in [storage]: '12XB' is not a size (e.g. 16MiB)"

write missing-bucket <<EOF
[storage]
region = eu-west-1
EOF
expect_error "missing bucket" \
	"offsite: $f: missing required key 'bucket' in [storage]"

# The check is on the mode bits, so it holds for root too.
open_secret=$T_DIR/open-secret
printf '%s\n' "$FILE_SECRET" >"$open_secret"
chmod 644 "$open_secret"
write open-secret <<EOF
[storage]
bucket = backups
access_key = AKIAOFFSITETEST
secret_key_file = $open_secret
EOF
expect_error "world-readable secret file" \
	"offsite: $f:4: secret_key_file '$open_secret': permissions 0644 are too open; it must be readable by its owner only (chmod 600 $open_secret)"
t_nogrep "world-readable secret file: secret not shown" "$FILE_SECRET" "$T_ERR"

# A valid config: printed, the secret redacted.
write ok <<EOF
[storage]
endpoint = http://127.0.0.1:9
bucket = backups
access_key = AKIAOFFSITETEST
secret_key_file = $secret

[database]
conninfo = dbname=app
EOF
t_run "$OFFSITE" -v -c "$f" config
t_eq "valid config: exit 0" 0 "$T_RC"
t_grep "valid config: prints the bucket" "^bucket *= *backups" "$T_OUT"
t_grep "valid config: the secret shows as <redacted>" \
	"^(; )?secret_key *= *<redacted>" "$T_OUT"
t_nogrep "valid config: the secret is not on stdout" "$FILE_SECRET" "$T_OUT"
t_nogrep "valid config: the secret is not on stderr" "$FILE_SECRET" "$T_ERR"

# The secret from the environment.
write env <<EOF
[storage]
endpoint = http://127.0.0.1:9
bucket = backups
access_key = AKIAOFFSITETEST

[database]
conninfo = dbname=app
EOF
t_run env AWS_SECRET_ACCESS_KEY="$ENV_SECRET" "$OFFSITE" -v -c "$f" config
t_eq "secret from the environment: exit 0" 0 "$T_RC"
t_grep "secret from the environment: shows as <redacted>" \
	"^(; )?secret_key *= *<redacted>" "$T_OUT"
t_grep "secret from the environment: says where it came from" \
	"AWS_SECRET_ACCESS_KEY" "$T_OUT"
t_nogrep "secret from the environment: not on stdout" "$ENV_SECRET" "$T_OUT"
t_nogrep "secret from the environment: not on stderr" "$ENV_SECRET" "$T_ERR"

# Options of the config command itself.
t_run "$OFFSITE" -c "$f" config --bogus
t_eq "config --bogus: exit 2" 2 "$T_RC"
t_eq "config --bogus: message" \
	"offsite config: unknown option '--bogus' (see offsite config --help)" \
	"$(cat "$T_ERR")"
t_run "$OFFSITE" -c "$f" config extra
t_eq "config with an argument: exit 2" 2 "$T_RC"

# The reference needs no config file.
t_run "$OFFSITE" -c "$T_DIR/missing.ini" config --describe
t_eq "config --describe without a config: exit 0" 0 "$T_RC"
t_grep "config --describe names the keys" "bucket" "$T_OUT"

t_done
