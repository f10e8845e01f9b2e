#!/bin/sh
# `make bench`: vigild against nginx serving the same bytes (one VIP, a 304, a 200-item page),
# durable PATCHes against raw SQLite commits on the same disk, and 2,000 parked long-polls (on one
# VIP, then on one node's config woken by a write to one of its VIPs).
# The nginx baseline runs with `worker_processes auto` (one worker per CPU, its natural setting)
# and the ratios are against it; a one-worker nginx (what this script used to compare against) is
# measured beside it for the GET and the 304 and shown in its own column.
# A benchmark, not a test: targets are printed beside the numbers, never asserted. Exits non-zero
# only when something could not be measured (vigild died, setup failed). Takes about 2 minutes.
#
# Knobs (environment): BENCH_DURATION (s per wrk run, 10), BENCH_THREADS (vigild --threads,
# default vigild's own), BENCH_LONGPOLLS (2000), BENCH_NGINX1 (0 skips the one-worker nginx),
# VIGILD (binary, build/vigild).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
VIGILD=${VIGILD:-$root/build/vigild}
DUR=${BENCH_DURATION:-10}
LP_N=${BENCH_LONGPOLLS:-2000}
NGINX1=${BENCH_NGINX1:-1}
NVIPS=200
out=$root/build/bench
mkdir -p "$out"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-bench.XXXXXX")
vpid=""
npid=""
. "$here/lib.sh"
cleanup() {
	status=$?
	trap - EXIT INT TERM
	stop $npid $vpid
	wait 2>/dev/null || true
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "bench: $*" >&2
	exit 1
}

# Every parked long-poll holds a socket here and in vigild (which raises its own soft limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((LP_N + 200)) ] ||
	echo "bench: warning: RLIMIT_NOFILE is $(ulimit -n), too low for $LP_N long-polls" >&2

for t in wrk nginx curl cc; do
	command -v $t >/dev/null 2>&1 || die "$t not found (make setup installs it)"
done
[ -x "$VIGILD" ] || die "$VIGILD not built (make build/vigild)"

free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# res KEY VALUE / get KEY: the results, one "key value" a line, for the summary.
res() { echo "$1 $2" >>"$tmp/results"; }
get() { awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? "-" : v) }' "$tmp/results"; }
: >"$tmp/results"

vigild_alive() {
	if ! kill -0 "$vpid" 2>/dev/null; then
		echo "bench: vigild (pid $vpid) DIED during: $1; its stderr ends with:" >&2
		tail -20 "$tmp/vigild.err" >&2
		wait "$vpid" 2>/dev/null && st=0 || st=$?
		echo "bench: vigild exit status $st" >&2
		vpid=""
		exit 1
	fi
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== load average before the run: $load0 (other work on this machine skews the numbers)"
echo "== building the raw-commit baseline"
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Werror \
	-o "$out/sqlite_commits" "$here/sqlite_commits.c" -lsqlite3

# --- vigild, seeded -------------------------------------------------------------------------------
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
vport=$(free_port)
V=http://127.0.0.1:$vport
threads_arg=""
[ -n "${BENCH_THREADS:-}" ] && threads_arg="--threads $BENCH_THREADS"
echo "== starting vigild on $V (database in $tmp)"
# shellcheck disable=SC2086
VIGIL_ADMIN_TOKEN=$TOKEN "$VIGILD" --listen "127.0.0.1:$vport" --db "$tmp/v.db" $threads_arg \
	2>"$tmp/vigild.err" &
vpid=$!
i=0
until curl -sf -o /dev/null "$V/healthz"; do
	i=$((i + 1))
	[ $i -lt 100 ] || die "vigild did not answer /healthz in 10 s: $(cat "$tmp/vigild.err")"
	vigild_alive "start"
	sleep 0.1
done

AUTH="Authorization: Bearer $TOKEN"
post() { # post PATH JSON: creates, dies unless 201
	code=$(curl -s -o "$tmp/post.out" -w '%{http_code}' -X POST -H "$AUTH" \
		-H 'Content-Type: application/json' --data "$2" "$V$1")
	[ "$code" = 201 ] || die "POST $1 $2: $code $(cat "$tmp/post.out")"
}
echo "== seeding 2 nodes and $NVIPS VIPs"
post /nodes '{"name":"lb1","address":"198.18.0.1","interface":"eth0"}'
post /nodes '{"name":"lb2","address":"198.18.0.2","interface":"eth0"}'
i=0
while [ $i -lt $NVIPS ]; do
	name=$(printf 'vip-%03d' $i)
	post /vips "{\"name\":\"$name\",\"addresses\":[\"198.18.1.$((i + 1))/24\"],\"interface\":\"eth0\",\
\"vrid\":$((i + 1)),\"members\":[{\"node\":\"lb1\",\"priority\":200},{\"node\":\"lb2\",\"priority\":100}]}"
	i=$((i + 1))
done
# A node as agents have them (two VIPs), for the config long-polls; named to sort after the page.
post /nodes '{"name":"lb3","address":"198.18.0.3","interface":"eth1"}'
for x in a b; do
	post /vips "{\"name\":\"x3$x\",\"addresses\":[\"198.18.2.$([ $x = a ] && echo 1 || echo 2)/24\"],\
\"interface\":\"eth1\",\"vrid\":$([ $x = a ] && echo 1 || echo 2),\"members\":[{\"node\":\"lb3\",\
\"priority\":200},{\"node\":\"lb2\",\"priority\":100}]}"
done

# --- nginx serving the same bytes -----------------------------------------------------------------
www=$tmp/nginx/www
mkdir -p "$www" "$tmp/nginx/tmp"
fetch() { # fetch PATH FILE: vigild's body into FILE, its ETag on stdout
	curl -sf -D "$tmp/h" -o "$2" -H "$AUTH" "$V$1" || die "GET $1 failed"
	tr -d '\r' <"$tmp/h" | awk 'tolower($1) == "etag:" { print $2 }'
}
ONE=/vips/vip-001
PAGE="/vips?limit=$NVIPS"
v_etag_one=$(fetch $ONE "$www/one.json")
v_etag_page=$(fetch "$PAGE" "$www/page.json")
[ -n "$v_etag_one" ] && [ -n "$v_etag_page" ] || die "vigild sent no ETag"
[ "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["count"])' "$www/page.json")" = $NVIPS ] ||
	die "GET $PAGE did not return $NVIPS items"
one_bytes=$(wc -c <"$www/one.json")
page_bytes=$(wc -c <"$www/page.json")

ntmp=$tmp/nginx/tmp
mkdir -p "$ntmp"
# start_nginx NAME WORKERS: an nginx serving $www with WORKERS worker processes ("auto": one per
# CPU); sets port_of_last. Its pid joins npid (stopped by cleanup or after the reads).
start_nginx() {
	port=$(free_port)
	cat >"$tmp/nginx/$1.conf" <<EOF
user root;
worker_processes $2;
pid $tmp/nginx/$1.pid;
error_log $tmp/nginx/$1.error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	etag on;
	default_type application/hal+json;
	client_body_temp_path $ntmp/body;
	proxy_temp_path $ntmp/proxy;
	fastcgi_temp_path $ntmp/fastcgi;
	uwsgi_temp_path $ntmp/uwsgi;
	scgi_temp_path $ntmp/scgi;
	server {
		listen 127.0.0.1:$port;
		root $www;
		# The same caching headers vigild sends, so both answers are about the same size.
		add_header Cache-Control no-cache;
		add_header Vary "Accept, Authorization";
		location = $ONE { try_files /one.json =404; }
		location = /vips { try_files /page.json =404; }
	}
}
EOF
	nginx -p "$tmp/nginx" -c "$tmp/nginx/$1.conf" -g 'daemon off;' 2>"$tmp/nginx/$1.stderr" &
	npid="$npid $!"
	i=0
	until curl -sf -o /dev/null "http://127.0.0.1:$port$ONE"; do
		i=$((i + 1))
		[ $i -lt 50 ] || die "nginx ($2 workers) did not start:" \
			"$(cat "$tmp/nginx/$1.stderr" "$tmp/nginx/$1.error.log")"
		sleep 0.1
	done
	port_of_last=$port
}
# nginx_etag URL: dies unless nginx serves the bytes of $www/one.json there; prints its ETag.
nginx_etag() {
	curl -sf -D "$tmp/nh" -o "$tmp/nb" "$1" && cmp -s "$tmp/nb" "$www/one.json" ||
		die "nginx at $1 does not serve the same bytes as vigild"
	tr -d '\r' <"$tmp/nh" | awk 'tolower($1) == "etag:" { print $2 }'
}

start_nginx auto auto
N=http://127.0.0.1:$port_of_last
nworkers=$(pgrep -c -P "${npid##* }" nginx) || nworkers="?"
echo "== nginx, worker_processes auto ($nworkers workers), on $N (same bytes: $one_bytes and" \
	"$page_bytes)"
n_etag_one=$(nginx_etag "$N$ONE")
curl -sf -o "$tmp/n2" "$N$PAGE" && cmp -s "$tmp/n2" "$www/page.json" ||
	die "nginx does not serve the same page as vigild"
N1=""
if [ "$NGINX1" != 0 ]; then
	start_nginx one 1
	N1=http://127.0.0.1:$port_of_last
	echo "== nginx, worker_processes 1, on $N1 (the GET and the 304 only)"
	n1_etag_one=$(nginx_etag "$N1$ONE")
fi

# check304 URL ETAG [AUTH]: dies unless the server answers 304.
check304() {
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $2" -H "${3:-X-None: 1}" "$1")
	[ "$code" = 304 ] || die "$1 with If-None-Match $2 answered $code, not 304"
}
check304 "$V$ONE" "$v_etag_one" "$AUTH"
check304 "$N$ONE" "$n_etag_one"
[ -z "$N1" ] || check304 "$N1$ONE" "$n1_etag_one"

# --- reads: wrk against both ----------------------------------------------------------------------
# run_wrk KEY CONNS SCRIPT URL [VAR=VALUE...]: one wrk run; records KEY_rps/_p50/_p99/_err.
run_wrk() {
	key=$1 conns=$2 script=$3 url=$4
	shift 4
	env BENCH_DIR="$here" "$@" wrk -t2 -c"$conns" -d"${DUR}s" --latency -s "$here/$script" \
		"$url" >"$out/wrk-$key.txt" 2>&1 || die "wrk $key failed: $(cat "$out/wrk-$key.txt")"
	line=$(grep '^BENCH ' "$out/wrk-$key.txt") || die "wrk $key: no result line"
	for f in rps p50_ms p99_ms; do
		res "${key}_$f" "$(echo "$line" | tr ' ' '\n' | awk -F= -v f=$f '$1 == f { print $2 }')"
	done
	errs=$(echo "$line" | tr ' ' '\n' |
		awk -F= '$1 ~ /^(connect|read|write|status|timeout)$/ { s += $2 } END { print s + 0 }')
	res "${key}_err" "$errs"
	printf '  %-28s %10.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %s\n' "$key" \
		"$(get "${key}_rps")" "$(get "${key}_p50_ms")" "$(get "${key}_p99_ms")" "$errs"
}

echo "== reads: wrk -t2 -c64 -d${DUR}s (full output in build/bench/wrk-*.txt)"
run_wrk vigild_get 64 get.lua "$V$ONE" BENCH_TOKEN="$TOKEN"
vigild_alive "GET one VIP"
run_wrk nginx_get 64 get.lua "$N$ONE"
[ -z "$N1" ] || run_wrk nginx1_get 64 get.lua "$N1$ONE"
run_wrk vigild_304 64 get.lua "$V$ONE" BENCH_TOKEN="$TOKEN" BENCH_INM="$v_etag_one"
vigild_alive "304 revalidation"
run_wrk nginx_304 64 get.lua "$N$ONE" BENCH_INM="$n_etag_one"
[ -z "$N1" ] || run_wrk nginx1_304 64 get.lua "$N1$ONE" BENCH_INM="$n1_etag_one"
run_wrk vigild_page 64 get.lua "$V$PAGE" BENCH_TOKEN="$TOKEN"
vigild_alive "GET 200-item page"
run_wrk nginx_page 64 get.lua "$N$PAGE"
for p in $npid; do
	kill -TERM "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
done
npid=""

# --- durable writes ------------------------------------------------------------------------------
echo "== durable writes: PATCH for ${DUR}s at -c16 vs raw SQLite commits in $tmp"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "$AUTH" \
	-H 'Content-Type: application/merge-patch+json' --data '{"preempt":true}' "$V/vips/vip-000")
[ "$code" = 200 ] || die "PATCH /vips/vip-000 answered $code"
rev0=$(curl -sf "$V/healthz" | $PY -c 'import json,sys; print(json.load(sys.stdin)["revision"])')
run_wrk vigild_patch 16 patch.lua "$V" BENCH_TOKEN="$TOKEN" BENCH_VIPS=$NVIPS
vigild_alive "durable PATCHes"
rev1=$(curl -sf "$V/healthz" | $PY -c 'import json,sys; print(json.load(sys.stdin)["revision"])')
wreq=$(awk '/requests in/ { print $1 }' "$out/wrk-vigild_patch.txt")
echo "  revision moved by $((rev1 - rev0)) for $wreq PATCHes wrk counted"
res patch_revs $((rev1 - rev0))
"$out/sqlite_commits" "$tmp/raw-commits.db" 5 >"$tmp/raw.out" || die "sqlite_commits failed"
raw=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' "$tmp/raw.out")
res raw_rps "$raw"
printf '  %-28s %10.0f commits/s\n' "raw SQLite (1 thread)" "$raw"

# --- long-polls ----------------------------------------------------------------------------------
# longpolls PREFIX WHAT ARGS...: runs longpoll.py with ARGS, shows its lines and keeps its numbers
# in the results as PREFIX_KEY.
longpolls() {
	prefix=$1 what=$2
	shift 2
	$PY "$here/longpoll.py" --port "$vport" --token "$TOKEN" --pid "$vpid" -n "$LP_N" \
		--probe /vips/vip-002 "$@" >"$tmp/$prefix.out" 2>&1 || {
		cat "$tmp/$prefix.out"
		vigild_alive "$what"
		die "longpoll.py failed"
	}
	grep -v '^LONGPOLL ' "$tmp/$prefix.out"
	vigild_alive "$what"
	grep '^LONGPOLL ' "$tmp/$prefix.out" | sed 's/^LONGPOLL //' | $PY -c '
import json, sys
for k, v in json.load(sys.stdin).items():
    print(sys.argv[1] + "_" + k, "-" if v is None else v)' "$prefix" >>"$tmp/results"
}
echo "== $LP_N long-polls parked at once (GET /vips/vip-007?wait=60 with If-None-Match)"
longpolls lp "long-polls" --path /vips/vip-007
# The same with what agents long-poll: a node's config (lb3: two VIPs), woken by a write to one VIP.
echo "== $LP_N long-polls of one node's config (GET /nodes/lb3/config?wait=60), one VIP PATCHed"
longpolls lpc "config long-polls" --path /nodes/lb3/config --change /vips/x3a

# --- summary -------------------------------------------------------------------------------------
# row WHAT VKEY BKEY B1KEY TARGET_PCT P99_X: a markdown row comparing vigild's wrk result with
# nginx auto's (ratio of rates, and of p99s) and showing the one-worker nginx's beside it. The
# target: at least TARGET_PCT% of nginx auto's rate, p99 at most P99_X times its p99.
row() {
	awk -v what="$1" -v vr="$(get "$2_rps")" -v v99="$(get "$2_p99_ms")" -v br="$(get "$3_rps")" \
		-v b99="$(get "$3_p99_ms")" -v b1r="$(get "$4_rps")" -v b199="$(get "$4_p99_ms")" \
		-v tpct="$5" -v tx="$6" 'BEGIN {
		ratio = br > 0 ? 100 * vr / br : 0
		x99 = b99 > 0 ? v99 / b99 : 0
		t = ""; ok = 1
		if (tpct != "") { t = ">= " tpct "%"; if (ratio < tpct) ok = 0 }
		if (tx != "") { t = t (t == "" ? "" : ", ") "p99 <= " tx "x"; if (x99 > tx) ok = 0 }
		if (t == "") t = "-"; else t = t (ok ? " (met)" : " (missed)")
		one = b1r == "-" ? "-" : sprintf("%.0f/s, p99 %.2f ms", b1r, b199)
		printf "| %s | %.0f/s, p99 %.2f ms | %.0f/s, p99 %.2f ms | %s | %.0f%%, p99 %.2fx | %s |\n",
			what, vr, v99, br, b99, one, ratio, x99, t
	}'
}
lp() { get "lp_$1"; }
summary() {
	echo "| what | vigild | nginx auto ($nworkers workers) / raw baseline | nginx 1 worker" \
		"| ratio to nginx auto | target |"
	echo "|---|---|---|---|---|---|"
	row "GET one VIP ($one_bytes B), 64 conns" vigild_get nginx_get nginx1_get 100 1.5
	row "304 revalidation, 64 conns" vigild_304 nginx_304 nginx1_304 100 1.5
	row "GET 200-item page ($((page_bytes / 1024)) KiB), 64 conns" vigild_page nginx_page - "" 1.5
	awk -v vr="$(get vigild_patch_rps)" -v v99="$(get vigild_patch_p99_ms)" \
		-v br="$(get raw_rps)" 'BEGIN {
		ratio = br > 0 ? 100 * vr / br : 0
		printf "| durable PATCH, 16 conns | %.0f/s, p99 %.2f ms | raw SQLite %.0f commits/s", vr, v99, br
		printf " | - | %.0f%% | >= 50%% (%s) |\n", ratio, (ratio >= 50 ? "met" : "missed")
	}'
	parked=$(lp parked_gauge) early=$(lp answered_early) tb=$(lp threads_before) td=$(lp threads_during)
	ok=missed
	[ "$parked" = "$LP_N" ] && [ "$early" = 0 ] && [ "$tb" = "$td" ] && ok=met
	printf '| %s long-polls parked | %s parked, %s answered early, threads %s -> %s | - | - | - |' \
		"$LP_N" "$parked" "$early" "$tb" "$td"
	echo " all parked, threads unchanged ($ok) |"
	awk -v p50="$(lp get_parked_p50_ms)" -v p99="$(lp get_parked_p99_ms)" \
		-v i50="$(lp get_idle_p50_ms)" -v i99="$(lp get_idle_p99_ms)" 'BEGIN {
		printf "| plain GET while parked (new connection each) | median %.2f ms, p99 %.2f ms", p50, p99
		printf " | same GET idle: median %.2f ms, p99 %.2f ms | -", i50, i99
		printf " | %.2fx latency | answered at once |\n", (i50 > 0 ? p50 / i50 : 0)
	}'
	woke=$(lp woke_200) all=$(lp wake_all_ms)
	awk -v woke="$woke" -v all="$all" -v p50="$(lp wake_p50_ms)" -v n="$LP_N" 'BEGIN {
		printf "| wake all after one PATCH | "
		if (all == "-") printf "%s of %d woke | - | - | - | all woken (missed) |\n", woke, n
		else printf "%d of %d with 200, last after %.0f ms (median %.0f ms) | - | - | - | all woken (%s) |\n",
			woke, n, all, p50, (woke == n ? "met" : "missed")
	}'
	awk -v woke="$(get lpc_woke_200)" -v all="$(get lpc_wake_all_ms)" -v p50="$(get lpc_wake_p50_ms)" \
		-v early="$(get lpc_answered_early)" -v n="$LP_N" 'BEGIN {
		printf "| %d config long-polls (one node, two VIPs), one VIP PATCHed | ", n
		if (all == "-") printf "%s of %d woke | - | - | - | < 100 ms (missed) |\n", woke, n
		else printf "%d of %d with 200 (%s early), last after %.0f ms (median %.0f ms) | - | - | - | < 100 ms (%s) |\n",
			woke, n, early, all, p50, (woke == n && all < 100 ? "met" : "missed")
	}'
}
echo
echo "== summary (markdown, for README.md; $(nproc) CPUs, vigild --threads ${BENCH_THREADS:-default}," \
	"wrk -t2 -d${DUR}s, nginx auto = $nworkers workers; load before $load0," \
	"after $(cut -d' ' -f1-3 /proc/loadavg))"
summary | tee "$out/summary.md"
vigild_alive "the end"
