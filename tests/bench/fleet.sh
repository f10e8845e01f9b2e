#!/bin/sh
# `make bench-fleet`: a fresh vigild per fleet size, loaded with N nodes, 2N VIPs and N agent tokens
# (fleet_api.py), then N simulated agents (fleet.c: config long-poll plus a status heartbeat every
# 2 s each, and a writer PATCHing 2 VIPs/s). Measures, over a steady-state window: vigild's CPU and
# RSS, heartbeat and config-push latency, revisions and change-feed events, request errors, and the
# simulator's own CPU. A benchmark, not a test: exits non-zero only when something could not be
# measured (vigild died, setup failed). The default sizes take about 6 minutes; every wait is
# bounded, so a vigild that stops answering costs timeouts (counted as errors), not a hang.
#
# Knobs (environment): FLEET_SIZES ("250 500 1000 2000 5000"), FLEET_DURATION (s measured per size,
# 30), FLEET_WARMUP (s before it, 10), FLEET_RAMP (s over which the agents start, 2: all at once,
# as after a vigild restart; at most the warm-up), FLEET_PATCH_HZ (2), VIGILD (binary, build/vigild),
# FLEET_ETCD (1: the store in a three-member loopback etcd, tests/etcd/etcdlab.py, with two more
# vigild replicas on the same prefix following every write through their watch; the agents and the
# writer talk to the first, as long as agent liveness is per replica).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
VIGILD=${VIGILD:-$root/build/vigild}
SIZES=${FLEET_SIZES:-250 500 1000 2000 5000}
DUR=${FLEET_DURATION:-30}
WARMUP=${FLEET_WARMUP:-10}
RAMP=${FLEET_RAMP:-2}
PATCH_HZ=${FLEET_PATCH_HZ:-2}
out=$root/build/bench
mkdir -p "$out"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-fleet.XXXXXX")
vpid=""
spid=""
lpid=""
rpids=""
md=fleet.md
[ "${FLEET_ETCD:-0}" = 1 ] && md=fleet-etcd.md
. "$here/lib.sh"
cleanup() {
	status=$?
	trap - EXIT INT TERM
	stop $spid $vpid $rpids $lpid
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "fleet: $*" >&2
	if [ -s "$out/$md" ]; then
		echo "fleet: measured so far:" >&2
		cat "$out/$md" >&2
	fi
	exit 1
}

vigild_alive() {
	kill -0 "$vpid" 2>/dev/null && return 0
	echo "fleet: vigild (pid $vpid) DIED during: $1; its stderr ends with:" >&2
	tail -20 "$d/vigild.err" >&2
	wait "$vpid" 2>/dev/null && st=0 || st=$?
	vpid=""
	die "vigild exit status $st"
}

free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# get KEY [FILE]: a value from a "key value" results file, "-" when absent.
get() { awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? "-" : v) }' "${2:-$d/result}"; }

for t in curl cc; do
	command -v $t >/dev/null 2>&1 || die "$t not found (make setup installs it)"
done
[ -x "$VIGILD" ] || die "$VIGILD not built (make all)"
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Werror \
	-o "$out/fleet" "$here/fleet.c"
# a copy, so that a rebuild of build/vigild during the run cannot change what is measured
cp "$VIGILD" "$tmp/vigild"

# Two sockets per agent here and in vigild (whose connection limit follows its RLIMIT_NOFILE).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)

TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export VIGIL_ADMIN_TOKEN="$TOKEN"

# FLEET_ETCD=1: one etcd lab for the run, a key prefix per fleet size.
ETCD=${FLEET_ETCD:-0}
if [ "$ETCD" = 1 ]; then
	etcd_lab_start "$tmp/etcd"
	lpid=$lab_pid
	echo "== etcd lab: $EP"
fi
# store_args N: vigild's store options for fleet size N.
store_args() {
	if [ "$ETCD" = 1 ]; then
		echo "--etcd $EP --etcd-prefix /fleet-$1/"
	else
		echo "--db $d/vigil.db"
	fi
}

# measure N: one fleet size, its row appended to build/bench/$md (fleet-etcd.md with FLEET_ETCD=1).
measure() {
	n=$1
	d=$tmp/$n
	mkdir -p "$d"
	if [ "$nofile" != unlimited ] && [ "$nofile" -lt $((2 * n + 200)) ]; then
		echo "== $n agents: skipped, RLIMIT_NOFILE $nofile is below $((2 * n + 200))" >&2
		skipped=1
		return 0
	fi
	port=$(free_port)
	# Every agent parks one long-poll, and a timed-out one stays parked in vigild until its wait
	# ends: room for two each. The feed keeps every event of the run, so /events can count them.
	# shellcheck disable=SC2046
	"$tmp/vigild" --listen "127.0.0.1:$port" $(store_args "$n") --max-parked $((2 * n + 100)) \
		--events-keep 5000000 2>"$d/vigild.err" &
	vpid=$!
	if [ "$ETCD" = 1 ]; then # replicas B and C: idle but for their watch
		for r in b c; do
			# shellcheck disable=SC2046
			"$tmp/vigild" --listen "127.0.0.1:$(free_port)" $(store_args "$n") \
				--events-keep 5000000 2>"$d/vigild-$r.err" &
			rpids="$rpids $!"
		done
	fi
	i=0
	until curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "vigild did not answer /healthz in 10 s: $(cat "$d/vigild.err")"
		vigild_alive "start"
		sleep 0.1
	done
	echo "== $n agents: loading $n nodes, $((2 * n)) VIPs, $n agent tokens"
	"$out/fleet" layout "$n" | $PY "$here/fleet_api.py" load --port "$port" >"$d/tokens" ||
		{ vigild_alive "loading"; die "loading the fleet failed"; }
	echo "== $n agents: ${WARMUP}s warm-up, ${DUR}s measured"
	"$out/fleet" run --agents "$n" --port "$port" --tokens "$d/tokens" --vigild-pid "$vpid" \
		--warmup "$WARMUP" --duration "$DUR" --ramp "$RAMP" --patch-hz "$PATCH_HZ" \
		--patched "$d/patched" >"$d/result" 2>"$d/fleet.err" &
	spid=$!
	wait "$spid" && st=0 || st=$?
	spid=""
	vigild_alive "the run"
	[ "$st" = 0 ] || die "the simulator failed ($st): $(tail -5 "$d/fleet.err")"
	# The window in revisions, as GET / told the simulator at its edges; when vigild did not answer
	# that in time, the feed's entries timed within the window (counted once the agents are gone).
	r0=$(get rev_before)
	r1=$(get rev_after)
	if [ "$r0" != - ] && [ "$r1" != - ]; then
		win="--since $r0 --until $r1"
	else
		[ "$r0" = - ] && r0=0
		win="--since $r0 --from-ms $(get window_from_unix_ms) --to-ms $(get window_to_unix_ms)"
	fi
	evnote=""
	# shellcheck disable=SC2086
	if ! $PY "$here/fleet_api.py" events --port "$port" $win --patched "$d/patched" \
		>"$d/events" 2>"$d/events.err"; then
		vigild_alive "counting events"
		evnote="events not counted: $(tail -1 "$d/events.err")"
	fi
	cat "$d/events" >>"$d/result"
	vigild_alive "the end"
	stop "$vpid"
	vpid=""
	for p in $rpids; do stop "$p"; done
	rpids=""
	tail -50 "$d/vigild.err" >"$out/fleet-vigild-$n.log"
	row | tee -a "$out/$md"
	detail
	rm -rf "$d"
}

# row: the markdown row of the size just measured.
row() {
	errs=$(get errors)
	why=$(awk '$1 ~ /^err_/ { sub(/^err_/, "", $1); sub(/_/, " ", $1); printf "%s%s %s", s, $1, $2
		s = ", " }' "$d/result")
	[ -n "$why" ] && errs="$errs ($why)"
	awk -v n="$(get agents)" -v cpu="$(get vigild_cpu_pct)" -v rss="$(get vigild_rss_kib)" \
		-v b50="$(get beat_p50_ms)" -v b99="$(get beat_p99_ms)" -v bmax="$(get beat_max_ms)" \
		-v p50="$(get push_p50_ms)" -v p99="$(get push_p99_ms)" -v pmax="$(get push_max_ms)" \
		-v pn="$(get pushes)" -v r0="$(get rev_before)" -v r1="$(get rev_after)" \
		-v ev="$(get events_total)" -v evw="$(get events_writer)" -v errs="$errs" \
		-v sim="$(get sim_cpu_pct)" -v bs="$(get beats_sent)" -v pt="$(get patches)" \
		-v evr="$(get events_revisions)" 'BEGIN {
		beat = b50 < 0 ? "none answered of " bs : sprintf("%.1f / %.1f / %.1f ms", b50, b99, bmax)
		push = p50 < 0 ? "none seen of " pt " PATCHes" : \
			sprintf("%.0f / %.0f / %.0f ms (%d of %d PATCHes)", p50, p99, pmax, pn, pt)
		revs = (r0 != "-" && r1 != "-") ? r1 - r0 : (evr != "-" ? evr " (feed)" : "-")
		evs = ev == "-" ? "-" : ev " (" ev - evw ")"
		printf "| %d | %d | %s%% | %.1f MiB | %s | %s | %s | %s | %s | %s%% |\n",
			n, 2 * n, cpu, rss / 1024, beat, push, revs, evs, errs, sim
	}'
}

# detail: what does not fit in the table, for whoever reads the log.
detail() {
	echo "   in the window: $(get beats) of $(get beats_sent) heartbeats answered;" \
		"$(get patches) PATCHes ($(get patch_skipped) not sent: all writers busy);" \
		"config long-polls answered $(get config_200) x 200, $(get poll_304) x 304;" \
		"events by kind: $(get events_by_kind)"
	echo "   outside it: $(get errors_outside) errors; $(get retried) requests resent on a fresh" \
		"connection; vigild's stderr: build/bench/fleet-vigild-$n.log"
	[ -z "$evnote" ] || echo "   $evnote"
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "Fleet benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average before:" \
		"$load0. Per size: agents started over ${RAMP} s, ${WARMUP} s warm-up, ${DUR} s measured," \
		"$PATCH_HZ PATCH/s."
	echo
	echo "| agents | VIPs | vigild CPU (% of one core) | RSS | heartbeat p50 / p99 / max" \
		"| push p50 / p99 / max | revision Δ | events total (non-writer) | errors | simulator CPU |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
} >"$out/$md"
cat "$out/$md"
skipped=0
for n in $SIZES; do
	measure "$n"
done
echo
echo "== written to build/bench/$md (load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
[ "$skipped" = 0 ] || die "some sizes were skipped: raise the hard RLIMIT_NOFILE"
