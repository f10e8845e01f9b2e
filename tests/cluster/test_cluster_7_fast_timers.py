"""Issue 10: sub-second VRRPv3 timers made safe. The VIP `fast` (198.18.0.110, vrid 60, lb1 200 /
lb2 100, preempt off) advertises every 50 or 20 ms.

- Power-off of the master (SIGKILL of the agent, then its bridge ports down: the adverts and the
  VIP vanish with the box, LAB-NOTES) fails over: the backup takes the VIP and the client reaches
  it. The time is measured against the bound the issue states (under 200 ms at 50 ms,
  Master_Down_Interval 180.5 ms; under 100 ms at 20 ms, 72.2 ms) and printed, never asserted:
  on a loaded machine a starved master's last adverts are late too. Each run powers off whoever
  is master, so the backup is lb2 (100) and lb1 (200) in turn.
- A CPU hog (a busy loop pinned to each CPU, normal priority, in the root namespace) plus a fleet
  of checks on both agents (http and tcp every 100 ms, scripts every 200 ms) causes no false
  failover with real-time on: counted as VIP additions on the backup.
- Script checks never inherit the agent's real-time policy (SCHED_RESET_ON_FORK).

`make bench-failover` (tests/bench/failover.sh) runs the same module with FAILOVER_BENCH=1: more
power-off runs, a five-minute soak (FAILOVER_SOAK_S), the soak again with --no-realtime, and
keepalived 2.2.7 at the same timers; results go to build/bench-failover.json. Times are
time.monotonic() across namespaces; timings print and are recorded, never asserted."""

import json
import os
import signal
import statistics
import subprocess
import time
from pathlib import Path

import pytest

import netlab as nl

FAST = "198.18.0.110"
VRID = 60
BENCH = os.environ.get("FAILOVER_BENCH") == "1"
SOAK_S = float(os.environ.get("FAILOVER_SOAK_S", "300" if BENCH else "30"))
RUNS = int(os.environ.get("FAILOVER_RUNS", "5" if BENCH else "2"))
# Advert intervals the hog soak runs at (make test: 20 ms alone, the harder of the two).
SOAK_TIMERS = [int(x) for x in os.environ.get("FAILOVER_SOAK_TIMERS",
                                              "20 50" if BENCH else "20").split()]
BOUND_S = {50: 0.200, 20: 0.100}  # the issue's power-off bounds
CLIENT_INTERVAL = 0.005  # the client's own sampling period: it can only see that often
RESULTS = Path(__file__).resolve().parents[2] / "build" / "bench-failover.json"
CHECK_NAMES = []


def fast_spec(advert_ms):
    return {"addresses": [f"{FAST}/24"], "interface": "eth0", "vrid": VRID, "version": 3,
            "advert_int_ms": advert_ms, "preempt": False,
            "members": [{"node": "lb1", "priority": 200}, {"node": "lb2", "priority": 100}]}


def mdi_s(advert_ms, priority=100):
    return nl.master_down_s(priority, advert_ms / 1000.0)


def record(key, value):
    """Appends value under key in build/bench-failover.json (the bench's table reads it)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault(key, []).append(value)
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")


def adds(lab, host, addr, t0, t1=None):
    """Times the VIP addr was added on host in [t0, t1)."""
    with lab.monitor.lock:
        return [ev[1] for ev in lab.monitor.events
                if ev[2] == host and ev[3] == "add" and ev[5] == addr and ev[1] >= t0 and
                (t1 is None or ev[1] < t1)]


class Hog:
    """A busy loop pinned to each CPU, at normal priority, in the root namespace."""

    def __init__(self):
        self.procs = [subprocess.Popen(["taskset", "-c", str(cpu), "sh", "-c", "while :; do :; done"],
                                       start_new_session=True, stdin=subprocess.DEVNULL)
                      for cpu in range(os.cpu_count() or 1)]

    def stop(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(5)


def client(net, tag):
    """A request loop to FAST every CLIENT_INTERVAL (faster than the shared one)."""
    path = net.workdir / "lab" / f"client-fast-{tag}.{time.monotonic_ns()}.log"
    p = net.lab.proc(f"client-fast-{tag}", "cli", [nl.PY, nl.HERE, "client", FAST, path,
                                                   CLIENT_INTERVAL, 0.5]).start()
    nl.wait_for(lambda: path.exists(), 5, 0.05)
    return p, nl.ClientLog(path)


def master_of(lab):
    h = lab.holders(FAST)
    return h[0] if len(h) == 1 else None


def summarize(impl, advert_ms, runs):
    vip = [r["vip_s"] for r in runs if r["vip_s"] is not None]
    cli = [r["client_s"] for r in runs if r["client_s"] is not None]
    line = (f"{impl} advert {advert_ms} ms: power-off -> VIP on the backup median "
            f"{statistics.median(vip) * 1000:.1f} ms max {max(vip) * 1000:.1f} ms; client "
            f"answered median {statistics.median(cli) * 1000:.1f} ms max "
            f"{max(cli) * 1000:.1f} ms (n={len(runs)}; Master_Down_Interval "
            f"{mdi_s(advert_ms) * 1000:.1f} ms for priority 100)") if vip and cli else \
        f"{impl} advert {advert_ms} ms: {runs}"
    print("\n" + line)


# ---------------------------------------------------------------------------------------------
# vigil

@pytest.fixture
def fast(steady, net, request):
    """VIP fast at advert_ms (the test's parameter), lb1 MASTER and lb2 BACKUP; removed after."""
    c, lab = steady, net.lab
    advert_ms = request.param
    c.api.put("/vips/fast", fast_spec(advert_ms), expect=(200, 201))
    ok = nl.wait_for(lambda: c.vrrp("lb1", "fast")[0] == "MASTER" and
                     c.vrrp("lb2", "fast")[0] == "BACKUP" and lab.holders(FAST) == ["lb1"],
                     mdi_s(1000) + 5, 0.1)
    assert ok, f"{c.vrrp('lb1', 'fast')} {c.vrrp('lb2', 'fast')} {lab.holders(FAST)}\n{c.logs()}"
    yield advert_ms
    for name in CHECK_NAMES:
        c.api.delete(f"/checks/{name}")
    CHECK_NAMES.clear()
    c.api.delete("/vips/fast")
    for node in nl.NODES:
        if not lab.ports_ok(node):
            c.kill_agent(node)
            c.power_on(node)
    nl.wait_for(lambda: not lab.holders(FAST), 5, 0.05)


def power_off_runs(net, advert_ms, impl, off, on, wait_backup):
    """RUNS power-offs of whoever is master; off(node) powers it off, on(node) back on,
    wait_backup(node) waits until it is a backup again. Returns the takeover() dicts."""
    lab = net.lab
    proc, log = client(net, impl)
    runs = []
    try:
        for i in range(RUNS):
            old = master_of(lab)
            assert old in nl.NODES, lab.holders(FAST)
            new = "lb2" if old == "lb1" else "lb1"
            assert nl.wait_client_on(log, old), log.recent()
            time.sleep(0.3)  # a few more adverts: the backup has learned the interval
            t0 = time.monotonic()
            off(old)
            r = nl.takeover(lab, log, FAST, new, t0, mdi_s(advert_ms) + 3, settle=0.3,
                            sniff=net.sniff, old_src=nl.addr_of(old), vrid=VRID)
            r.update(run=i, old=old, new=new, backup_priority=100 if new == "lb2" else 200)
            runs.append(r)
            print(f"\n{impl} {advert_ms} ms run {i}: {old} off -> VIP on {new} after "
                  f"{r['vip_s']} s, client after {r['client_s']} s (from the last advert "
                  f"{r['after_advert_s']} s), {r['failed']} failed")
            on(old)
            assert wait_backup(old), f"{old} did not come back as backup"
    finally:
        proc.stop()
    return runs


@pytest.mark.parametrize("fast", [50, 20], indirect=True, ids=["50ms", "20ms"])
def test_power_off_fails_over_within_the_rfc_bound(fast, steady, net):
    c, lab, advert_ms = steady, net.lab, fast

    def wait_backup(node):
        return c.wait_vrrp(node, "fast", "BACKUP", 10)

    runs = power_off_runs(net, advert_ms, "vigil", c.power_off, c.power_on, wait_backup)
    summarize("vigil", advert_ms, runs)
    for r in runs:
        record(f"vigil/{advert_ms}/power_off", r)
    bound = BOUND_S[advert_ms]
    for r in runs:
        # Correctness: the backup takes the VIP and the client reaches it. How fast is a
        # measurement, never a verdict (a loaded CI machine delays adverts and takeovers alike):
        # it is printed against the issue's bound and kept in build/bench-failover.json, and
        # `make bench-failover` puts it in README.md.
        assert r["vip_s"] is not None and r["client_s"] is not None, f"{r}\n{c.logs()}"
        print(f"vigil {advert_ms} ms run {r['run']}: VIP after {r['vip_s']} s, "
              f"{'within' if r['vip_s'] < bound else 'OVER'} the issue's {bound} s")


def check_result(c, name, node):
    """The check's latest result on node as vigild shows it ({state, output, at}) or {}."""
    return ((c.api.get(f"/checks/{name}").get("status") or {}).get("results") or {}).get(node) \
        or {}


def _script(c, name, body):
    p = Path(c.script_dir) / name
    p.write_text(body)
    p.chmod(0o755)
    os.chown(p, 0, 0)
    return name


def add_check_fleet(c):
    """Node checks on lb1 and lb2 (weight -1: a failure lowers the priority by one, never a
    fault): 8 http and 8 tcp every 100 ms, 2 scripts every 200 ms, each."""
    ok = _script(c, "vg-fast-ok", "#!/bin/sh\nexit 0\n")
    for node in nl.NODES:
        specs = [(f"{node}-http{i}", {"type": "http", "port": 80}) for i in range(8)]
        specs += [(f"{node}-tcp{i}", {"type": "tcp", "port": 80}) for i in range(8)]
        specs += [(f"{node}-sh{i}", {"type": "script", "script": [ok], "interval_ms": 200})
                  for i in range(2)]
        for name, spec in specs:
            body = {"node": node, "weight": -1, "interval_ms": 100, "timeout_ms": 500, **spec}
            c.api.put(f"/checks/{name}", body, expect=(200, 201))
            CHECK_NAMES.append(name)


def soak(net, seconds, backup, master):
    """Hogs every CPU for `seconds`; returns (false failovers: VIP additions on the backup,
    VIP removals on the master)."""
    lab = net.lab
    t0 = time.monotonic()
    hog = Hog()
    try:
        time.sleep(seconds)
    finally:
        hog.stop()
    t1 = time.monotonic()
    time.sleep(0.5)
    with lab.monitor.lock:
        dels = [ev for ev in lab.monitor.events if ev[2] == master and ev[3] == "del" and
                ev[5] == FAST and t0 <= ev[1] < t1]
    return len(adds(lab, backup, FAST, t0, t1)), len(dels)


def agent_late_warnings(c, node, since_bytes):
    text = c.agents[node].err_path.read_bytes()[since_bytes:].decode(errors="replace")
    return [ln for ln in text.splitlines() if "VRRP timer ran" in ln]


def run_agent_soak(c, net, advert_ms, realtime):
    lab = net.lab
    assert c.wait_vrrp("lb1", "fast", "MASTER", 5) and lab.holders(FAST) == ["lb1"]
    start = {n: c.agents[n].err_path.stat().st_size for n in nl.NODES}
    # Every check has run and reported before the clock starts.
    assert nl.wait_for(lambda: all(check_result(c, f"{n}-sh1", n).get("state") == "up"
                                   for n in nl.NODES), 10, 0.2), \
        {n: check_result(c, f"{n}-sh1", n) for n in nl.NODES}
    false, dropped = soak(net, SOAK_S, "lb2", "lb1")
    late = {n: agent_late_warnings(c, n, start[n]) for n in nl.NODES}
    rt = {n: c.node_status(n).get("realtime") for n in nl.NODES}
    label = "real-time" if realtime else "--no-realtime"
    print(f"\nvigil {advert_ms} ms, {label}, {SOAK_S:.0f} s CPU hog + {len(CHECK_NAMES)} checks: "
          f"{false} false failovers (VIP added on lb2), {dropped} VIP removals on lb1; "
          f"late-timer warnings: { {n: len(v) for n, v in late.items()} }; realtime: {rt}")
    for n, v in late.items():
        for ln in v[:3]:
            print(f"  {n}: {ln}")
    record(f"vigil{'' if realtime else '-nort'}/{advert_ms}/soak",
           {"seconds": SOAK_S, "false_failovers": false, "vip_removed_on_master": dropped,
            "checks": len(CHECK_NAMES), "late_warnings": {n: len(v) for n, v in late.items()},
            "realtime": rt})
    return false, rt


def restart_agents(c, extra):
    """Restarts both agents with extra arguments appended (none: the defaults), lb2 first."""
    for node in ("lb2", "lb1"):
        p = c.agents[node]
        base = [a for a in p.argv if a != "--no-realtime"]
        p.argv = base + list(extra)
        c.term_agent(node)
    for node in ("lb2", "lb1"):
        c.start_agent(node)
        time.sleep(0.3)


@pytest.mark.parametrize("fast", SOAK_TIMERS, indirect=True, ids=lambda v: f"{v}ms")
def test_cpu_hog_causes_no_false_failover_with_realtime(fast, steady, net):
    c, lab, advert_ms = steady, net.lab, fast
    add_check_fleet(c)
    for node in nl.NODES:
        rt = c.node_status(node).get("realtime")
        assert rt and rt["policy"] == "SCHED_RR" and rt["priority"] == 10, rt
    false, _ = run_agent_soak(c, net, advert_ms, True)
    assert false == 0, f"{false} false failovers with real-time on\n{c.logs()}"
    if BENCH:
        # The same soak with --no-realtime: counted, not asserted.
        restart_agents(c, ["--no-realtime"])
        try:
            assert nl.wait_for(lambda: c.vrrp("lb1", "fast")[0] in ("MASTER", "BACKUP") and
                               c.vrrp("lb2", "fast")[0] in ("MASTER", "BACKUP"), 10, 0.1)
            if master_of(lab) != "lb1":
                c.api.put("/vips/fast/holder", {"node": "lb1"}, expect=202)
                assert nl.wait_for(lambda: lab.holders(FAST) == ["lb1"], 5, 0.05)
                c.api.delete("/vips/fast/holder", expect=204)
            rt = c.node_status("lb1").get("realtime")
            assert rt and rt["policy"] == "SCHED_OTHER" and not rt["memory_locked"], rt
            run_agent_soak(c, net, advert_ms, False)
        finally:
            restart_agents(c, [])


def test_script_checks_do_not_inherit_realtime(steady, net):
    c = steady
    name = _script(c, "vg-policy", "#!/bin/sh\nexec awk '{print \"policy=\" $41 \" rtprio=\" "
                                   "$40}' /proc/self/stat\n")
    c.api.put("/checks/lb1-policy", {"node": "lb1", "type": "script", "script": [name],
                                     "weight": -1, "interval_ms": 500}, expect=(200, 201))
    try:
        got = nl.wait_for(lambda: check_result(c, "lb1-policy", "lb1").get("output"), 10, 0.2)
        agent = Path(f"/proc/{c.agents['lb1'].pid}/stat").read_text().rsplit(")", 1)[1].split()
        # Fields after the command: state is field 3, so field N is agent[N - 3].
        print(f"\nagent: policy={agent[41 - 3]} rtprio={agent[40 - 3]}; its script: {got}")
        assert (agent[41 - 3], agent[40 - 3]) == ("2", "10"), agent  # SCHED_RR 10
        assert got and got.strip() == "policy=0 rtprio=0", got  # SCHED_OTHER
    finally:
        c.api.delete("/checks/lb1-policy")


# ---------------------------------------------------------------------------------------------
# keepalived 2.2.7 at the same timers (bench only)

def ka_conf(name, priority, advert_ms):
    return (f"global_defs {{\n    router_id {name}\n    vrrp_version 3\n}}\n"
            f"vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n"
            f"    virtual_router_id {VRID}\n    priority {priority}\n"
            f"    advert_int {advert_ms / 1000:.2f}\n    nopreempt\n"
            f"    virtual_ipaddress {{\n        {FAST}/24\n    }}\n}}\n")


@pytest.mark.skipif(not BENCH, reason="benchmark only (make bench-failover)")
@pytest.mark.usefixtures("has_keepalived")
@pytest.mark.parametrize("advert_ms", [50, 20])
def test_keepalived_same_timers(no_agents, net, advert_ms):
    lab = net.lab
    prio = {"lb1": 200, "lb2": 100}

    def start(node):
        net.keepalived(node, ka_conf(node, prio[node], advert_ms))

    def off(node):
        net.ka[node].kill()
        lab.power_off_ports(node)

    def on(node):
        lab.power_on_ports(node)
        start(node)

    def wait_backup(node):
        time.sleep(1.0)  # keepalived starts as BACKUP and, with nopreempt, stays one
        return master_of(lab) not in (None, node)

    start("lb1")
    assert nl.wait_for(lambda: lab.holders(FAST) == ["lb1"], 10, 0.05), net.keepalived_log("lb1")
    start("lb2")
    time.sleep(1.0)
    assert lab.holders(FAST) == ["lb1"], net.keepalived_log("lb2")
    runs = power_off_runs(net, advert_ms, "keepalived", off, on, wait_backup)
    summarize("keepalived", advert_ms, runs)
    for r in runs:
        record(f"keepalived/{advert_ms}/power_off", r)
    if advert_ms in SOAK_TIMERS:
        master = master_of(lab)
        backup = "lb2" if master == "lb1" else "lb1"
        false, dropped = soak(net, SOAK_S, backup, master)
        print(f"\nkeepalived {advert_ms} ms, {SOAK_S:.0f} s CPU hog: {false} false failovers, "
              f"{dropped} VIP removals on the master")
        record(f"keepalived/{advert_ms}/soak", {"seconds": SOAK_S, "false_failovers": false,
                                                "vip_removed_on_master": dropped})
    for h in nl.NODES:
        net.stop_keepalived(h, signal.SIGKILL)
        lab.del_addr(h, FAST)
