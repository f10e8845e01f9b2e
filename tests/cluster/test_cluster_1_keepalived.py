"""The reference: keepalived 2.2.7 in the same namespaces, with the same timers and priorities as
vigil's `web` VIP (advert 1 s, lb1 200, lb2 100, no preemption: `state BACKUP` + `nopreempt`),
measured the same way as vigil in test_cluster_2_vrrp.py: power-off of the master, the master's
eth0 down, SIGTERM on the master, and keepalived's way of moving a VIP by hand (restarting the
holder, which releases with priority 0). VRRPv3, and VRRPv2 with PASS authentication. The agents
are stopped meanwhile (fixture no_agents); the timings land in the session's measurement table."""

import re
import time

import pytest

import netlab as nl
from netlab import WEB, keepalived_conf, master_down_s, takeover, wait_client_on

pytestmark = pytest.mark.usefixtures("has_keepalived", "no_agents")


def _ka_state_count(net, host, state):
    """How many times keepalived on host logged entering state (BACKUP, MASTER, FAULT)."""
    p = net.ka.get(host)
    if p is None:
        return 0
    text = ""
    for f in (p.err_path, p.out_path):
        if f and f.exists():
            text += f.read_text(errors="replace")
    return len(re.findall(rf"Entering {state} STATE", text))


def _wait_ka_state(net, host, state, since_count=0, timeout=6):
    return nl.wait_for(lambda: _ka_state_count(net, host, state) > since_count, timeout, 0.05)


@pytest.mark.parametrize("version", [3, 2])
def test_keepalived_reference(net, measurements, version):
    impl = f"keepalived-v{version}"
    lab = net.lab
    auth = "7388" if version == 2 else None
    log = net.client(WEB)

    def start(host, prio):
        return net.keepalived(host, keepalived_conf(host, WEB, 50, prio, version,
                                                    auth_pass=auth))

    def ka_logs():
        return "\n".join(f"=== keepalived {h} ===\n{net.keepalived_log(h)}" for h in ("lb1", "lb2"))

    # Both start together: the higher priority becomes Master.
    start("lb2", 100)
    start("lb1", 200)
    assert nl.wait_for(lambda: lab.holders(WEB) == ["lb1"], master_down_s(200) + 3), ka_logs()
    assert wait_client_on(log, "lb1"), log.summary(time.monotonic() - 2, time.monotonic())

    # 1. Power-off of the master: SIGKILL to keepalived's process group, then its ports down.
    t0 = time.monotonic()
    net.ka["lb1"].kill()
    lab.power_off_ports("lb1")
    r = takeover(lab, log, WEB, "lb2", t0, master_down_s(100) + 3,
                 sniff=net.sniff, old_src=nl.addr_of("lb1"), vrid=50)
    assert r["client_s"] is not None, f"{r}\n{ka_logs()}"
    assert r["client_s"] < master_down_s(100) + 1.5, r
    measurements.record(impl, "failover_power_off", r["client_s"])
    measurements.record(impl, "failover_power_off_after_advert", r["after_advert_s"])
    measurements.record(impl, "failover_power_off_failed", r["failed"])
    measurements.note(impl=impl, event="power-off lb1 -> lb2", **r)

    # Power back on: keepalived starts as BACKUP and, with nopreempt, leaves the VIP on lb2.
    lab.power_on_ports("lb1")
    start("lb1", 200)
    assert _wait_ka_state(net, "lb1", "BACKUP"), ka_logs()

    def move_by_restart(old, new, old_prio, what):
        """keepalived's manual move: restart the holder (SIGTERM sends priority 0)."""
        assert wait_client_on(log, old), log.recent()
        t = time.monotonic()
        net.stop_keepalived(old)
        res = takeover(lab, log, WEB, new, t, 3)
        assert res["client_s"] is not None, f"{res}\n{ka_logs()}"
        measurements.record(impl, "move_back", res["client_s"])
        measurements.record(impl, "move_back_failed", res["failed"])
        measurements.note(impl=impl, event=what, **res)
        start(old, old_prio)
        assert _wait_ka_state(net, old, "BACKUP"), ka_logs()
        # Let the restarted backup run a few advert intervals before the next failure, as the
        # long-running vigil backup did (a keepalived backup failing over less than a second or
        # two after its start was seen to take 0.5 s longer).
        time.sleep(3)
        return res

    # 2. Manual move back to lb1.
    move_by_restart("lb2", "lb1", 100, "move lb2 -> lb1 (restart lb2)")

    # 3. The master's own eth0 down.
    assert wait_client_on(log, "lb1"), log.recent()
    backups = _ka_state_count(net, "lb1", "BACKUP")
    t0 = time.monotonic()
    lab.if_down("lb1")
    r = takeover(lab, log, WEB, "lb2", t0, master_down_s(100) + 3,
                 sniff=net.sniff, old_src=nl.addr_of("lb1"), vrid=50)
    assert r["client_s"] is not None, f"{r}\n{ka_logs()}"
    assert r["client_s"] < master_down_s(100) + 1.5, r
    measurements.record(impl, "failover_if_down", r["client_s"])
    measurements.record(impl, "failover_if_down_after_advert", r["after_advert_s"])
    measurements.record(impl, "failover_if_down_failed", r["failed"])
    measurements.note(impl=impl, event="eth0 down lb1 -> lb2", **r)
    lab.if_up("lb1")
    assert _wait_ka_state(net, "lb1", "BACKUP", backups), ka_logs()
    time.sleep(0.5)
    assert lab.holders(WEB) == ["lb2"]

    # 4. Move back again.
    move_by_restart("lb2", "lb1", 100, "move lb2 -> lb1 (restart lb2)")

    # 5. SIGTERM on the master: priority 0, the backup takes over after its Skew_Time. This is
    # also keepalived's manual move from lb1 to lb2.
    assert wait_client_on(log, "lb1"), log.recent()
    t0 = time.monotonic()
    net.stop_keepalived("lb1")
    r = takeover(lab, log, WEB, "lb2", t0, 3)
    assert r["client_s"] is not None and r["client_s"] < 1.0, f"{r}\n{ka_logs()}"
    measurements.record(impl, "release_sigterm", r["client_s"])
    measurements.record(impl, "release_sigterm_failed", r["failed"])
    measurements.record(impl, "move_away", r["client_s"])
    measurements.record(impl, "move_away_failed", r["failed"])
    measurements.note(impl=impl, event="SIGTERM lb1 -> lb2", **r)
    print(f"\n{impl}: {measurements.samples[impl]}")
    net.stop_keepalived("lb2")
