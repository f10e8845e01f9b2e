# Shared by the benchmark scripts (sourced): stopping what they started, and the etcd lab.
# Needs $PY and $root set, and $tmp for etcd_lab_start.

# stop PID...: TERM each, up to 10 s, then KILL; reaps them.
stop() {
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null || continue
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# etcd_lab_start DIR: a three-member loopback etcd (tests/etcd/etcdlab.py) in DIR, in the
# background; sets lab_pid and EP (its client URLs, comma-separated) once it is up. Calls die()
# when it does not come up within 30 s. Not in a command substitution: lab_pid must reach the
# caller's shell, for its cleanup.
etcd_lab_start() {
	$PY "$root/tests/etcd/etcdlab.py" "$1" --max-txn-ops 8192 >"$1.out" 2>&1 &
	lab_pid=$!
	i=0
	until grep -q 'etcd lab up' "$1.out"; do
		i=$((i + 1))
		[ $i -lt 300 ] || die "etcd lab did not start: $(cat "$1.out")"
		sleep 0.1
	done
	EP=$(sed -n 's/.*etcd lab up in [0-9.]* s: \([^ ]*\) leader.*/\1/p' "$1.out")
}
