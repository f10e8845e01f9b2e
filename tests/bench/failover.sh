#!/bin/sh
# make bench-failover: sub-second VRRP timers (issue 10) in the cluster lab, vigil against
# keepalived 2.2.7 at the same timers. Runs tests/cluster/test_cluster_7_fast_timers.py with
# FAILOVER_BENCH=1: FAILOVER_RUNS power-offs of the master per interval (default 5), a CPU-hog
# soak of FAILOVER_SOAK_S seconds (default 300) at each of FAILOVER_SOAK_TIMERS (default "20 50")
# with real-time on, again with --no-realtime, and keepalived; then prints the table for
# README.md from build/bench-failover.json. Needs root; takes the cluster lock (other worktrees
# use the same namespace names). Timings on a shared machine are noisy: run it when it is quiet.
set -eu
cd "$(dirname "$0")/../.."
rm -f build/bench-failover.json
FAILOVER_BENCH=1 flock /tmp/vigil-cluster.lock /usr/bin/python3 -m pytest -q -p no:cacheprovider -s \
	tests/cluster/test_cluster_7_fast_timers.py || status=$?
/usr/bin/python3 tests/bench/failover_table.py build/bench-failover.json
exit "${status:-0}"
