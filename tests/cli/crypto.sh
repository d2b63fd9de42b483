#!/bin/bash
# Encryption through the real binary: `offsite keygen` and `offsite
# decrypt` on the test vectors of docs/FORMAT.md (tests/fixtures/*.enc),
# whole, altered, cut short, extended, and with the wrong key: every
# integrity failure exits 4 with one clear line.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
unset OFFSITE_CONFIG
root=$(cd "$(dirname "$0")/../.." && pwd)
fixtures=$root/tests/fixtures

# t_run_in FILE CMD...: t_run with standard input from FILE.
t_run_in() {
	local in=$1
	shift
	T_RC=0
	"$@" <"$in" >"$T_OUT" 2>"$T_ERR" || T_RC=$?
}

# flip FILE OFFSET: invert the lowest bit of the byte at OFFSET.
flip() {
	local b
	b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
	# shellcheck disable=SC2059
	printf "\\$(printf %o $((b ^ 1)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# hex FILE: the bytes of FILE as one line of lowercase hex.
hex() {
	od -An -tx1 -v "$1" | tr -d ' \n'
}

# The fixtures are the vectors printed in FORMAT.md.
for n in 1 2; do
	want=$(sed -n "/^<!-- begin vector $n -->\$/,/^<!-- end vector $n -->\$/p" \
		"$root/docs/FORMAT.md" | grep -E '^[0-9a-f]+$' | tr -d '\n')
	case $n in
	1) file=$fixtures/vector.enc ;;
	2) file=$fixtures/vector-passphrase.enc ;;
	esac
	t_eq "fixture $(basename "$file") is vector $n of docs/FORMAT.md" \
		"$want" "$(hex "$file")"
done

# The key and passphrase of the vectors, in private files.
key=$T_DIR/vector.key
printf '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n' >"$key"
chmod 600 "$key"
pass=$T_DIR/vector.pass
printf 'correct horse battery staple\n' >"$pass"
chmod 600 "$pass"
plain1='offsite FORMAT.md test vector: 3 segments'
vec=$fixtures/vector.enc

t_run_in "$vec" "$OFFSITE" decrypt -k "$key"
t_eq "decrypt vector 1: exit 0" 0 "$T_RC"
t_eq "decrypt vector 1: the plaintext" "$plain1" "$(cat "$T_OUT")"
t_eq "decrypt vector 1: nothing on stderr" "" "$(cat "$T_ERR")"

t_run_in "$fixtures/vector-passphrase.enc" "$OFFSITE" decrypt -p "$pass"
t_eq "decrypt vector 2 with the passphrase: exit 0" 0 "$T_RC"
t_eq "decrypt vector 2: the plaintext" "exactly 16 bytes" "$(cat "$T_OUT")"

t_run_in "$vec" "$OFFSITE" decrypt --key-file="$key"
t_eq "decrypt --key-file: exit 0" 0 "$T_RC"

# expect_integrity DESC FILE MESSAGE [KEYOPT...]: exit 4, exactly MESSAGE.
expect_integrity() {
	local desc=$1 file=$2 msg=$3
	shift 3
	[ $# -gt 0 ] || set -- -k "$key"
	t_run_in "$file" "$OFFSITE" decrypt "$@"
	t_eq "$desc: exit 4" 4 "$T_RC"
	t_eq "$desc: message" "offsite: $msg" "$(cat "$T_ERR")"
}

# A flipped bit in segment 1's ciphertext: segment 0 is out, nothing more.
flipped=$T_DIR/flipped.enc
cp "$vec" "$flipped"
flip "$flipped" 140
expect_integrity "flipped byte" "$flipped" \
	"segment 1 failed authentication: tampered or reordered"
t_eq "flipped byte: only the verified segment 0 was written" \
	"offsite FORMAT.m" "$(cat "$T_OUT")"

# A flipped bit in the header's file salt.
cp "$vec" "$flipped"
flip "$flipped" 50
expect_integrity "flipped header byte" "$flipped" \
	"header failed authentication: tampered"
t_eq "flipped header byte: nothing written" "" "$(cat "$T_OUT")"

head -c 150 "$vec" >"$T_DIR/truncated.enc"
expect_integrity "truncated mid-segment" "$T_DIR/truncated.enc" \
	"encrypted data ends before its last segment"
head -c 161 "$vec" >"$T_DIR/boundary.enc" # header + 2 segments
expect_integrity "truncated at a segment boundary" "$T_DIR/boundary.enc" \
	"encrypted data ends before its last segment"
head -c 40 "$vec" >"$T_DIR/short.enc"
expect_integrity "truncated in the header" "$T_DIR/short.enc" \
	"encrypted data ends inside its header"
expect_integrity "empty input" /dev/null \
	"no encrypted data: the input is empty"

{
	cat "$vec"
	printf 'x'
} >"$T_DIR/appended.enc"
expect_integrity "a byte appended" "$T_DIR/appended.enc" \
	"data after the last segment"
t_eq "a byte appended: the authentic plaintext was written" \
	"$plain1" "$(cat "$T_OUT")"

# Segments 0 and 1 swapped (each 4 + 16 + 16 bytes, from offset 89).
{
	head -c 89 "$vec"
	tail -c +126 "$vec" | head -c 36
	tail -c +90 "$vec" | head -c 36
	tail -c +162 "$vec"
} >"$T_DIR/swapped.enc"
t_eq "swapped file has the same size" 190 "$(wc -c <"$T_DIR/swapped.enc")"
expect_integrity "segments swapped" "$T_DIR/swapped.enc" \
	"segment 0 failed authentication: tampered or reordered"

expect_integrity "not an encrypted file" "$fixtures/pg.sql" \
	"not an offsite encrypted file"

# keygen: a new key, mode 600, never overwritten.
newkey=$T_DIR/new.key
t_run "$OFFSITE" keygen -o "$newkey"
t_eq "keygen: exit 0" 0 "$T_RC"
t_eq "keygen: mode 600" 600 "$(stat -c %a "$newkey")"
t_grep "keygen: 64 hex digits" '^[0-9a-f]{64}$' "$newkey"
t_eq "keygen: one line" 1 "$(wc -l <"$newkey")"
t_grep "keygen: says the key id" \
	"^wrote $newkey \\(key id [0-9a-f]{16}\\)\$" "$T_OUT"
id=$(sed -n 's/.*key id \([0-9a-f]*\)).*/\1/p' "$T_OUT")
before=$(cat "$newkey")

t_run "$OFFSITE" keygen -o "$newkey"
t_eq "keygen over an existing file: exit 1" 1 "$T_RC"
t_eq "keygen over an existing file: message" \
	"offsite: key file '$newkey' already exists; not overwriting it" \
	"$(cat "$T_ERR")"
t_eq "keygen over an existing file: the file is unchanged" \
	"$before" "$(cat "$newkey")"

expect_integrity "wrong key" "$vec" \
	"wrong key (key id $id; the file was encrypted with key id 99947994292aeaf4)" \
	-k "$newkey"
t_eq "wrong key: nothing written" "" "$(cat "$T_OUT")"

printf 'not the passphrase\n' >"$T_DIR/wrong.pass"
chmod 600 "$T_DIR/wrong.pass"
expect_integrity "wrong passphrase" "$fixtures/vector-passphrase.enc" \
	"wrong passphrase" -p "$T_DIR/wrong.pass"
expect_integrity "a key for a passphrase file" \
	"$fixtures/vector-passphrase.enc" \
	"wrong key: the file is encrypted with a passphrase, not a key file"

# Usage and key-file errors: exit 2.
t_run "$OFFSITE" keygen
t_eq "keygen without -o: exit 2" 2 "$T_RC"
t_eq "keygen without -o: message" \
	"offsite keygen: -o KEYFILE is required (see offsite keygen --help)" \
	"$(cat "$T_ERR")"
t_run "$OFFSITE" keygen -o "$T_DIR/x.key" extra
t_eq "keygen with an argument: exit 2" 2 "$T_RC"
t_run "$OFFSITE" keygen -o "$T_DIR/no/such/dir.key"
t_eq "keygen into a missing directory: exit 1" 1 "$T_RC"

open_key=$T_DIR/open.key
cp "$key" "$open_key"
chmod 644 "$open_key"
t_run_in "$vec" "$OFFSITE" decrypt -k "$open_key"
t_eq "world-readable key file: exit 2" 2 "$T_RC"
t_eq "world-readable key file: message" \
	"offsite: key file '$open_key': permissions 0644 are too open; it must be readable by its owner only (chmod 600 $open_key)" \
	"$(cat "$T_ERR")"

printf 'not hex\n' >"$T_DIR/bad.key"
chmod 600 "$T_DIR/bad.key"
t_run_in "$vec" "$OFFSITE" decrypt -k "$T_DIR/bad.key"
t_eq "malformed key file: exit 2" 2 "$T_RC"
t_eq "malformed key file: message" \
	"offsite: key file '$T_DIR/bad.key' must hold 64 hex digits (a 256-bit key, as offsite keygen writes it)" \
	"$(cat "$T_ERR")"

t_run_in "$vec" "$OFFSITE" decrypt -k "$T_DIR/missing.key"
t_eq "missing key file: exit 2" 2 "$T_RC"
t_grep "missing key file: message" \
	"^offsite: cannot read key file '$T_DIR/missing.key': No such file or directory\$" \
	"$T_ERR"

t_run_in "$vec" "$OFFSITE" decrypt -k "$key" -p "$pass"
t_eq "-k and -p: exit 2" 2 "$T_RC"
t_run_in "$vec" "$OFFSITE" decrypt -k
t_eq "-k without a file: exit 2" 2 "$T_RC"
t_eq "-k without a file: message" \
	"offsite decrypt: option '-k' needs a value (see offsite decrypt --help)" \
	"$(cat "$T_ERR")"
t_run_in "$vec" "$OFFSITE" decrypt -k "$key" extra
t_eq "decrypt with an argument: exit 2" 2 "$T_RC"

# Without -k or -p: the key named by the configuration, if any.
t_run_in "$vec" "$OFFSITE" -c "$T_DIR/missing.ini" decrypt
t_eq "no key and no config: exit 2" 2 "$T_RC"

cat >"$T_DIR/enc.ini" <<EOF
[storage]
bucket = backups

[database]
conninfo = dbname=app

[encryption]
enabled = true
key_file = $key
EOF
t_run_in "$vec" "$OFFSITE" -c "$T_DIR/enc.ini" decrypt
t_eq "key from the config: exit 0" 0 "$T_RC"
t_eq "key from the config: the plaintext" "$plain1" "$(cat "$T_OUT")"

cat >"$T_DIR/nokey.ini" <<EOF
[storage]
bucket = backups

[database]
conninfo = dbname=app
EOF
t_run_in "$vec" "$OFFSITE" -c "$T_DIR/nokey.ini" decrypt
t_eq "config without a key: exit 2" 2 "$T_RC"
t_eq "config without a key: message" \
	"offsite decrypt: no key: give -k KEYFILE or -p PASSFILE, or set key_file in [encryption] of $T_DIR/nokey.ini (see offsite decrypt --help)" \
	"$(cat "$T_ERR")"

t_done
