# A throwaway Ceph RADOS Gateway: one mon, one OSD, one radosgw, on
# 127.0.0.1, in a directory of its own. Source this file, then:
#
#   rgw_start DIR FREEPORT   start everything; writes DIR/env
#   rgw_stop DIR             stop every daemon started, by PID
#
# DIR/env sets RGW_ENDPOINT, RGW_PORT, RGW_ACCESS_KEY, RGW_SECRET_KEY,
# RGW_REGION and CEPH_CONF. Daemon PIDs are in DIR/pids, one per line,
# written as each starts, so rgw_stop works after a partial start.
#
# Choices, each for a reason:
# - auth between Ceph daemons is off (msgr v2 with crc), S3 auth is on:
#   radosgw still checks every signature, payload hash and Content-MD5.
# - memstore keeps objects in RAM: no disk set-up and a ~3 s start. Set
#   RGW_OBJECTSTORE=bluestore for GiB-sized benchmarks (sparse file).
# - paxos propose interval 0.05 s: the mon commits quickly, so pool
#   creation during start-up takes a second, not ten.
# - rgw lc debug interval: a lifecycle "day" lasts RGW_LC_DAY seconds
#   (default 10, so that expiry can be tested); RGW_LC_DAY=0 leaves it
#   out: real days, for benchmarks whose uploads outlast a short "day".
# - no mgr: nothing here needs one.

source "$(dirname "${BASH_SOURCE[0]}")/procs.sh"

rgw_log() {
	echo "rgw: $*" >&2
}

rgw_spawn() {
	local dir=$1 name=$2
	shift 2
	"$@" >>"$dir/log/$name.out" 2>&1 &
	echo $! >>"$dir/pids"
}

rgw_start() {
	local dir=$1 freeport=$2
	local store=${RGW_OBJECTSTORE:-memstore}
	local fsid ports mon_port rgw_port osd_uuid access secret
	local lc_day=${RGW_LC_DAY:-10} lc_line=
	[ "$lc_day" = 0 ] || lc_line="rgw lc debug interval = $lc_day"

	mkdir -p "$dir"/{mon.a,osd.0,run,log}
	: >"$dir/pids"
	fsid=$(cat /proc/sys/kernel/random/uuid)
	osd_uuid=$(cat /proc/sys/kernel/random/uuid)
	ports=$("$freeport" 2) || return 1
	mon_port=$(echo "$ports" | sed -n 1p)
	rgw_port=$(echo "$ports" | sed -n 2p)
	# S3 keys for this run only: 20 and 40 characters, like AWS's.
	access=$(tr -dc 'A-Z0-9' </dev/urandom | head -c 20)
	secret=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 40)

	cat >"$dir/ceph.conf" <<-EOF
	[global]
	fsid = $fsid
	mon host = v2:127.0.0.1:$mon_port
	mon initial members = a
	public addr = 127.0.0.1
	ms bind ipv6 = false
	ms bind msgr1 = false
	ms mon client mode = crc
	auth cluster required = none
	auth service required = none
	auth client required = none
	keyring = $dir/keyring
	run dir = $dir/run
	admin socket = $dir/run/\$name.asok
	log file = $dir/log/\$name.log
	pid file = $dir/run/\$name.pid
	mon data = $dir/mon.\$id
	osd data = $dir/osd.\$id
	paxos propose interval = 0.05
	mon allow pool size one = true
	mon allow pool delete = true
	mon warn on pool no redundancy = false
	mon max pg per osd = 1000
	osd pool default size = 1
	osd pool default min size = 1
	osd pool default pg num = 8
	osd pool default pgp num = 8
	osd pool default pg autoscale mode = off
	osd crush chooseleaf type = 0
	osd objectstore = $store
	memstore device bytes = ${RGW_MEMSTORE_BYTES:-2147483648}
	bluestore block path = $dir/osd.\$id.block
	bluestore block size = ${RGW_BLUESTORE_BYTES:-21474836480}
	bluestore block create = true
	osd op num shards = 1
	osd op num threads per shard = 2
	rgw frontends = beast endpoint=127.0.0.1:$rgw_port
	rgw dns name = localhost
	$lc_line
	rgw gc obj min wait = 5
	rgw gc processor period = 5
	rgw gc processor max time = 5
	rgw init timeout = 60
	debug rgw = 1
	EOF
	: >"$dir/keyring"

	local conf="$dir/ceph.conf"
	monmaptool --create --add a "v2:127.0.0.1:$mon_port" --fsid "$fsid" \
		"$dir/monmap" >/dev/null || return 1
	timeout 120 ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" \
		>>"$dir/log/mkfs.out" 2>&1 || {
		rgw_log "ceph-mon --mkfs failed"
		return 1
	}
	rgw_spawn "$dir" mon.a ceph-mon -c "$conf" -f -i a
	if ! harness_wait 30 timeout 5 ceph -c "$conf" mon stat; then
		rgw_log "mon did not answer"
		return 1
	fi

	local id
	id=$(timeout 60 ceph -c "$conf" osd new "$osd_uuid" 2>>"$dir/log/mkfs.out") || {
		rgw_log "osd new failed"
		return 1
	}
	timeout 120 ceph-osd -c "$conf" -i "$id" --mkfs --osd-uuid "$osd_uuid" \
		>>"$dir/log/mkfs.out" 2>&1 || {
		rgw_log "ceph-osd --mkfs failed"
		return 1
	}
	rgw_spawn "$dir" "osd.$id" ceph-osd -c "$conf" -f -i "$id"
	if ! harness_wait 60 rgw_osd_up "$conf"; then
		rgw_log "osd did not come up"
		return 1
	fi

	rgw_spawn "$dir" rgw radosgw -c "$conf" -f -n client.rgw
	if ! harness_wait 60 curl -sf --max-time 5 -o /dev/null \
		"http://127.0.0.1:$rgw_port/"; then
		rgw_log "radosgw did not answer on port $rgw_port"
		return 1
	fi

	timeout 60 radosgw-admin -c "$conf" user create --uid=offsite-test \
		--display-name="offsite test" --access-key="$access" \
		--secret-key="$secret" >/dev/null 2>>"$dir/log/mkfs.out" || {
		rgw_log "user create failed"
		return 1
	}

	umask 077
	cat >"$dir/env" <<-EOF
	RGW_PORT=$rgw_port
	RGW_ENDPOINT=http://127.0.0.1:$rgw_port
	RGW_REGION=us-east-1
	RGW_ACCESS_KEY=$access
	RGW_SECRET_KEY=$secret
	RGW_LC_DAY=$lc_day
	CEPH_CONF=$conf
	EOF
}

rgw_osd_up() {
	timeout 10 ceph -c "$1" osd dump 2>/dev/null | grep -q '^osd\.[0-9]* up'
}

rgw_stop() {
	# Newest first: radosgw, then the OSD, then the mon. The cluster is
	# throwaway: a short grace, then KILL (radosgw alone takes seconds to
	# wind down on TERM).
	harness_stop_pids "$1/pids" 2 tac
}

