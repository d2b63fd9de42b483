#!/bin/bash
# The harness itself: the throwaway servers are real and strict.
# radosgw: a bucket and an object round trip with curl's own SigV4, and a
# request signed with a wrong secret is refused. PostgreSQL: the fixture
# loads, and a wrong password is refused.
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1

bucket=$(t_bucket smoke)
t_s3curl PUT "/$bucket" >create.out
t_eq "create bucket" 200 "$(tail -n 1 create.out)"

head -c 100000 /dev/urandom >object.bin
t_s3curl PUT "/$bucket/dir/object.bin" -T object.bin >put.out
t_eq "put object" 200 "$(tail -n 1 put.out)"

t_s3curl GET "/$bucket/dir/object.bin" -o got.bin >get.out
t_eq "get object" 200 "$(tail -n 1 get.out)"
t_ok "object comes back byte for byte" cmp object.bin got.bin

t_s3curl --secret "wrong-secret-0000000000000000000000000000" \
	GET "/$bucket/dir/object.bin" >wrong.out
t_eq "wrong secret is refused" 403 "$(tail -n 1 wrong.out)"
t_grep "radosgw says why" "<Code>SignatureDoesNotMatch</Code>" wrong.out

# Tampered payload hash: radosgw checks x-amz-content-sha256 against the body.
echo "other" >other.txt
curl -s -X PUT --aws-sigv4 "aws:amz:$RGW_REGION:s3" \
	--user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" \
	-H "x-amz-content-sha256: $(sha256sum object.bin | cut -d' ' -f1)" \
	-T other.txt -w '\n%{http_code}' "$RGW_ENDPOINT/$bucket/other.txt" >hash.out
t_grep "a body that does not match its signed hash is refused" '^(400|403)$' hash.out

source "$TESTS/harness/pg.sh"
t_ok "fixture loads" pg_load_fixture smoke_fixture
t_eq "fixture has its rows" "500|3000|200" \
	"$(psql -X -Atd smoke_fixture -c "select (select count(*) from customers) || '|' || (select count(*) from orders) || '|' || (select count(*) from attachments)")"
t_eq "non-ASCII text survives" "東京" \
	"$(psql -X -Atd smoke_fixture -c "select city from customers where id = 2")"
t_run env PGPASSWORD=wrong psql -X -Atd smoke_fixture -c "select 1"
t_eq "wrong password is refused" 2 "$T_RC"
t_grep "refused for the password" "password authentication failed" "$T_ERR"

t_done
