#!/bin/bash
# The benchmark's helpers (tests/bench/lib.sh) against radosgw: stored
# sizes are summed over every page of a listing (the aws CLI applies a
# text --query to each page on its own), and the harness's radosgw runs
# with the short lifecycle day make check needs (RGW_LC_DAY; make bench
# asks for real days with RGW_LC_DAY=0 and checks the same way).
source "$TESTS/lib.sh"
cd "$T_DIR" || exit 1
source "$TESTS/bench/lib.sh"

t_eq "the test radosgw's lifecycle day is short" "$RGW_LC_DAY" \
	"$(bench_lc_interval "$CEPH_CONF")"

if ! command -v aws >/dev/null 2>&1; then
	echo "ok 2 # SKIP no aws CLI (make bench installs it)"
	T_N=2
	t_done
fi
export AWS_ACCESS_KEY_ID=$RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$RGW_SECRET_KEY
export AWS_DEFAULT_REGION=$RGW_REGION AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=$T_DIR/aws.conf AWS_SHARED_CREDENTIALS_FILE=$T_DIR/aws.creds
: >aws.conf
: >aws.creds

bucket=$(t_bucket benchlib)
t_s3curl PUT "/$bucket" >/dev/null
total=0
for size in 1 10 100 1000 10000; do
	head -c "$size" /dev/zero >"obj$size"
	t_s3curl PUT "/$bucket/p/obj$size" -T "obj$size" >/dev/null
	total=$((total + size))
done
head -c 7 /dev/zero >other
t_s3curl PUT "/$bucket/q/other" -T other >/dev/null

t_eq "the old query, two objects a page: one sum per page" 3 \
	"$(aws --endpoint-url "$RGW_ENDPOINT" s3api list-objects-v2 \
		--bucket "$bucket" --prefix p/ --page-size 2 \
		--query 'sum(Contents[].Size)' --output text | wc -l | tr -d ' ')"
t_eq "bench_stored_bytes, two objects a page: the sum of all pages" \
	"$total" "$(bench_stored_bytes "$bucket" p/ --page-size 2)"
t_eq "one page: the same" "$total" "$(bench_stored_bytes "$bucket" p/)"
t_eq "only under the prefix" 7 "$(bench_stored_bytes "$bucket" q/)"
t_eq "nothing there: 0" 0 "$(bench_stored_bytes "$bucket" none/)"
t_done
