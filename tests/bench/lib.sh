# Helpers of the benchmark (tests/bench/e2e), in a file of their own so
# that tests/integration/bench_lib.sh can check them against radosgw.
# Needs the aws CLI and RGW_ENDPOINT.

# bench_stored_bytes BUCKET PREFIX [aws options]: the total size of the
# objects under PREFIX, over every page of the listing. With --output
# text the aws CLI applies --query to each page on its own (a sum would
# come out as one number per 1,000 objects): list every size and add
# them up here instead.
bench_stored_bytes() {
	local bucket=$1 prefix=$2
	shift 2
	aws --endpoint-url "$RGW_ENDPOINT" s3api list-objects-v2 \
		--bucket "$bucket" --prefix "$prefix" "$@" \
		--query 'Contents[].Size' --output text |
		awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i }
		     END { printf "%.0f\n", s }'
}

# bench_lc_interval CEPH_CONF: radosgw's "rgw lc debug interval" as it
# runs (-1 or 0: a lifecycle day is a real day).
bench_lc_interval() {
	ceph -c "$1" daemon client.rgw config get rgw_lc_debug_interval |
		sed -n 's/.*"rgw_lc_debug_interval": *"\{0,1\}\(-\{0,1\}[0-9]*\)"\{0,1\}.*/\1/p'
}
