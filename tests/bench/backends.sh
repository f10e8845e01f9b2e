#!/bin/sh
# `make bench`, second part: the two store backends side by side on this machine. One vigild on
# SQLite, then three vigild replicas on one three-member etcd (tests/etcd/etcdlab.py on loopback,
# --heartbeat-interval 50 --election-timeout 500), each seeded alike: GET of one VIP and its 304
# (wrk -c64 against replica A), durable PATCHes (wrk -c16 through A; with etcd each is one txn
# committed on a quorum), and push latency (tests/bench/push.py: a long-poll parked on a vigild
# answered after a PATCH; on etcd parked on B with the PATCH through A, across the watch).
# A benchmark, not a test: prints a markdown table into build/bench/backends.md; exits non-zero
# only when something could not be measured. Takes about 2 minutes.
#
# Knobs (environment): BENCH_DURATION (s per wrk run, 10), VIGILD (binary, build/vigild).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
VIGILD=${VIGILD:-$root/build/vigild}
DUR=${BENCH_DURATION:-10}
NVIPS=50
out=$root/build/bench
mkdir -p "$out"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-backends.XXXXXX")
pids=""
. "$here/lib.sh"
cleanup() {
	status=$?
	trap - EXIT INT TERM
	stop $pids
	wait 2>/dev/null || true
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "backends: $*" >&2
	exit 1
}
for t in wrk curl etcd; do
	command -v $t >/dev/null 2>&1 || die "$t not found (make setup installs it)"
done
[ -x "$VIGILD" ] || die "$VIGILD not built (make build/vigild)"

free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
res() { echo "$1 $2" >>"$tmp/results"; }
get() { awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? "-" : v) }' "$tmp/results"; }
: >"$tmp/results"

TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
AUTH="Authorization: Bearer $TOKEN"

# vigild_start NAME STORE-ARGS...: starts a vigild, waits for /healthz; sets url to its URL.
# (Not in a command substitution: its pid must reach pids in this shell, for cleanup.)
vigild_start() {
	name=$1
	shift
	port=$(free_port)
	VIGIL_ADMIN_TOKEN=$TOKEN "$VIGILD" --listen "127.0.0.1:$port" "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids="$! $pids"
	i=0
	until curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; do
		i=$((i + 1))
		[ $i -lt 150 ] || die "vigild $name did not start: $(cat "$tmp/$name.err")"
		sleep 0.1
	done
	url="http://127.0.0.1:$port"
}

post() { # post BASE PATH JSON: creates, dies unless 201
	code=$(curl -s -o "$tmp/post.out" -w '%{http_code}' -X POST -H "$AUTH" \
		-H 'Content-Type: application/json' --data "$3" "$1$2")
	[ "$code" = 201 ] || die "POST $2 $3: $code $(cat "$tmp/post.out")"
}

seed() {
	post "$1" /nodes '{"name":"lb1","address":"198.18.0.1","interface":"eth0"}'
	post "$1" /nodes '{"name":"lb2","address":"198.18.0.2","interface":"eth0"}'
	i=0
	while [ $i -lt $NVIPS ]; do
		post "$1" /vips "{\"name\":\"$(printf 'vip-%03d' $i)\",\"addresses\":[\"198.18.1.$((i + 1))/24\"],\
\"interface\":\"eth0\",\"vrid\":$((i + 1)),\"members\":[{\"node\":\"lb1\",\"priority\":200},\
{\"node\":\"lb2\",\"priority\":100}]}"
		i=$((i + 1))
	done
}

run_wrk() { # run_wrk KEY CONNS SCRIPT URL [VAR=VALUE...]
	key=$1 conns=$2 script=$3 url=$4
	shift 4
	env BENCH_DIR="$here" "$@" wrk -t2 -c"$conns" -d"${DUR}s" --latency -s "$here/$script" \
		"$url" >"$out/backends-wrk-$key.txt" 2>&1 || die "wrk $key failed"
	line=$(grep '^BENCH ' "$out/backends-wrk-$key.txt") || die "wrk $key: no result line"
	for f in rps p50_ms p99_ms; do
		res "${key}_$f" "$(echo "$line" | tr ' ' '\n' | awk -F= -v f=$f '$1 == f { print $2 }')"
	done
	errs=$(echo "$line" | tr ' ' '\n' |
		awk -F= '$1 ~ /^(connect|read|write|status|timeout)$/ { s += $2 } END { print s + 0 }')
	res "${key}_err" "$errs"
	printf '  %-20s %10.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %s\n' "$key" \
		"$(get "${key}_rps")" "$(get "${key}_p50_ms")" "$(get "${key}_p99_ms")" "$errs"
}

# measure PREFIX A B: the four measurements with reads and writes on A, long-polls parked on B.
measure() {
	p=$1 a=$2 b=$3
	curl -sf -D "$tmp/h" -o /dev/null -H "$AUTH" "$a/vips/vip-001" || die "GET failed"
	etag=$(tr -d '\r' <"$tmp/h" | awk 'tolower($1) == "etag:" { print $2 }')
	run_wrk "${p}_get" 64 get.lua "$a/vips/vip-001" BENCH_TOKEN="$TOKEN"
	run_wrk "${p}_304" 64 get.lua "$a/vips/vip-001" BENCH_TOKEN="$TOKEN" BENCH_INM="$etag"
	run_wrk "${p}_patch" 16 patch.lua "$a" BENCH_TOKEN="$TOKEN" BENCH_VIPS=$NVIPS
	line=$($PY "$here/push.py" --poll "$b" --write "$a" --token "$TOKEN" --path /vips/vip-001) ||
		die "push.py failed"
	echo "  push: $line"
	for f in p50_ms p90_ms max_ms patch_p50_ms; do
		res "${p}_push_$f" "$(echo "$line" | tr ' ' '\n' | awk -F= -v f=$f '$1 == f { print $2 }')"
	done
}

echo "== SQLite: one vigild"
vigild_start sqlite --db "$tmp/v.db"
S=$url
seed "$S"
measure sqlite "$S" "$S"

echo "== etcd: three members, three vigild replicas on one prefix"
etcd_lab_start "$tmp/etcd"
pids="$pids $lab_pid"
vigild_start etcd_a --etcd "$EP" --etcd-prefix /bench/
A=$url
vigild_start etcd_b --etcd "$EP" --etcd-prefix /bench/
B=$url
vigild_start etcd_c --etcd "$EP" --etcd-prefix /bench/
C=$url
seed "$A"
measure etcd "$A" "$B"
line=$($PY "$here/push.py" --poll "$C" --write "$C" --token "$TOKEN" --path /vips/vip-002) ||
	die "push.py failed"
echo "  push on one replica: $line"
res etcd_same_push_p50_ms "$(echo "$line" | tr ' ' '\n' | awk -F= '$1 == "p50_ms" { print $2 }')"
res etcd_same_push_max_ms "$(echo "$line" | tr ' ' '\n' | awk -F= '$1 == "max_ms" { print $2 }')"

wrow() { # wrow WHAT KEY
	printf '| %s | %.0f/s, p99 %.2f ms | %.0f/s, p99 %.2f ms | %.0f%% |\n' "$1" \
		"$(get "sqlite_$2_rps")" "$(get "sqlite_$2_p99_ms")" "$(get "etcd_$2_rps")" \
		"$(get "etcd_$2_p99_ms")" \
		"$(awk -v s="$(get "sqlite_$2_rps")" -v e="$(get "etcd_$2_rps")" 'BEGIN { print (s > 0 ? 100 * e / s : 0) }')"
}
{
	echo "wrk -t2 -d${DUR}s on loopback, $(nproc) CPUs shared by wrk, vigild and etcd;" \
		"load before $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| what | SQLite (one vigild) | etcd (3 members, 3 vigild; through A) | etcd / SQLite |"
	echo "|---|---|---|---|"
	wrow "GET one VIP, 64 conns" get
	wrow "304 revalidation, 64 conns" 304
	wrow "durable PATCH, 16 conns" patch
	printf '| push: long-poll answered after a PATCH (n=30) | p50 %s ms, p90 %s, max %s (same vigild) | p50 %s ms, p90 %s, max %s (parked on B, PATCH through A); on one replica p50 %s, max %s | - |\n' \
		"$(get sqlite_push_p50_ms)" "$(get sqlite_push_p90_ms)" "$(get sqlite_push_max_ms)" \
		"$(get etcd_push_p50_ms)" "$(get etcd_push_p90_ms)" "$(get etcd_push_max_ms)" \
		"$(get etcd_same_push_p50_ms)" "$(get etcd_same_push_max_ms)"
	printf '| one PATCH alone (push runs, p50) | %s ms | %s ms | - |\n' \
		"$(get sqlite_push_patch_p50_ms)" "$(get etcd_push_patch_p50_ms)"
} >"$out/backends.md"
echo "== backends (build/bench/backends.md)"
cat "$out/backends.md"
