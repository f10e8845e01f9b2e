"""Scenario 6 of issue 3: vigil-agent and a real keepalived 2.2.7 in one virtual router, failing
over both ways. keepalived runs on lb3 with the issue's configuration (VRRPv2: vrid 51, priority
200, advert_int 1, `authentication { auth_type PASS auth_pass 7388 }`), and again with
`vrrp_version 3` (no authentication; vrid 52). The agent is lb2, the only vigil member of the VIPs
`ka2` (198.18.0.101) and `ka3` (198.18.0.102), priority 100, preempt off.

  A. keepalived (MASTER, 200, preempting) joins: the agent steps down to Backup.
  B. keepalived's box powers off: the agent takes over after Master_Down_Interval.
  C. keepalived comes back with priority 50 (BACKUP): the agent stays Master.
  D. the agent's box powers off: keepalived takes over.
  E. the agent's box powers on: it comes back as Backup and leaves the VIP to keepalived.
  F. keepalived is stopped (priority 0): the agent takes over after Skew_Time."""

import re
import time

import pytest

import netlab as nl
from netlab import KA2, KA3, keepalived_conf, master_down_s, takeover

MARGIN = 1.5


def _ka_count(net, host, state):
    p = net.ka.get(host)
    if p is None:
        return 0
    text = "".join(f.read_text(errors="replace") for f in (p.err_path, p.out_path)
                   if f and f.exists())
    return len(re.findall(rf"Entering {state} STATE", text))


@pytest.mark.usefixtures("has_keepalived")
@pytest.mark.parametrize("version", [2, 3])
def test_6_keepalived_interop(steady, net, measurements, version):
    c, lab = steady, net.lab
    vip, addr, vrid = ("ka2", KA2, 51) if version == 2 else ("ka3", KA3, 52)
    auth = "7388" if version == 2 else None
    log = net.client(addr)

    def ka(prio, state, nopreempt):
        return net.keepalived("lb3", keepalived_conf("lb3", addr, vrid, prio, version,
                                                     state=state, nopreempt=nopreempt,
                                                     auth_pass=auth))

    def logs():
        return f"{c.logs('lb2')}\n=== keepalived lb3 ===\n{net.keepalived_log('lb3')}"

    def note(event, r):
        measurements.note(impl=f"interop-v{version}", event=event, **r)
        print(f"\nv{version} {event}: client after {r['client_s']} s (after the last advert: "
              f"{r['after_advert_s']} s), VIP after {r['vip_s']} s, {r['failed']} failed")

    assert c.wait_vrrp("lb2", vip, "MASTER", master_down_s(100) + 3), logs()
    assert nl.wait_for(lambda: lab.holders(addr) == ["lb2"], 2)
    assert nl.wait_client_on(log, "lb2"), log.recent()

    # A. keepalived with the config joins; higher priority, preempting: it takes over
    # once its own Master_Down_Timer fires, and the agent steps down and drops the VIP.
    t0 = time.monotonic()
    ka(200, "MASTER", nopreempt=False)
    r = takeover(lab, log, addr, "lb3", t0, master_down_s(200) + 3)
    note("keepalived 200 joins, preempts the agent", r)
    assert r["client_s"] is not None, logs()
    assert c.wait_vrrp("lb2", vip, "BACKUP", 3), logs()
    assert nl.wait_for(lambda: lab.holders(addr) == ["lb3"], 2), lab.holders(addr)
    st = c.node_status("lb2")
    assert st["last_transition"]["vip"] == vip and st["last_transition"]["to"] == "BACKUP", st
    time.sleep(1.5)  # a few of keepalived's adverts: the agent stays Backup
    assert c.vrrp("lb2", vip)[0] == "BACKUP" and lab.holders(addr) == ["lb3"]

    # B. keepalived's box powers off: the agent takes over after Master_Down_Interval.
    t0 = time.monotonic()
    net.ka["lb3"].kill()
    lab.power_off_ports("lb3")
    r = takeover(lab, log, addr, "lb2", t0, master_down_s(100) + 3,
                 sniff=net.sniff, old_src=nl.addr_of("lb3"), vrid=vrid)
    note("keepalived powered off, agent takes over", r)
    assert r["client_s"] is not None, logs()
    assert r["client_s"] < master_down_s(100, version=version) + MARGIN, r
    assert c.wait_vrrp("lb2", vip, "MASTER", 2), logs()
    lab.power_on_ports("lb3")

    # C. keepalived back with a lower priority, not preempting: it stays Backup (it does not
    # advertise) and the agent stays Master.
    t_ka = time.monotonic()
    ka(50, "BACKUP", nopreempt=True)
    time.sleep(master_down_s(50) + 1.0)
    assert _ka_count(net, "lb3", "BACKUP") >= 1 and _ka_count(net, "lb3", "MASTER") == 0, logs()
    assert lab.holders(addr) == ["lb2"] and c.vrrp("lb2", vip)[0] == "MASTER"
    assert not [p for p in net.sniff.packets(after=t_ka)
                if p["src"] == nl.addr_of("lb3") and p.get("vrid") == vrid], \
        "keepalived advertised while it should be Backup"
    assert [p for p in net.sniff.packets(after=t_ka)
            if p["src"] == nl.addr_of("lb2") and p.get("vrid") == vrid and
            p.get("version") == version], f"no VRRPv{version} adverts from the agent"

    # D. the agent's box powers off: keepalived takes over.
    t0 = time.monotonic()
    c.power_off("lb2")
    r = takeover(lab, log, addr, "lb3", t0, master_down_s(50) + 3,
                 sniff=net.sniff, old_src=nl.addr_of("lb2"), vrid=vrid)
    note("agent powered off, keepalived takes over", r)
    assert r["client_s"] is not None, logs()
    assert r["client_s"] < master_down_s(50, version=version) + MARGIN, r

    # E. the agent's box powers on: Backup, and it leaves the VIP with keepalived (preempt off,
    # although keepalived's priority is lower).
    t_on = time.monotonic()
    c.power_on("lb2")
    assert c.wait_vrrp("lb2", vip, "BACKUP", 5), logs()
    while time.monotonic() < t_on + master_down_s(100) + 1.0:
        assert lab.holders(addr) == ["lb3"], f"{addr} on {lab.holders(addr)}\n{logs()}"
        time.sleep(0.1)
    assert c.vrrp("lb2", vip)[0] == "BACKUP"

    # F. keepalived stops (SIGTERM: priority 0): the agent takes over after its Skew_Time.
    assert nl.wait_client_on(log, "lb3"), log.recent()
    t0 = time.monotonic()
    net.stop_keepalived("lb3")
    r = takeover(lab, log, addr, "lb2", t0, 3)
    note("keepalived SIGTERM (priority 0), agent takes over", r)
    assert r["client_s"] is not None and r["client_s"] < 1.0, f"{r}\n{logs()}"
    assert c.wait_vrrp("lb2", vip, "MASTER", 2), logs()
    assert lab.holders(addr) == ["lb2"]
    net.stop_client(addr)
