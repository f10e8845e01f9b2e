"""vigil-agent in network namespaces (issue 3, scenarios 1 to 5 and 7): election, power-off and
FAULT failover, failback by the operator, release on SIGTERM, life without vigild, and bad packets.

The cluster (conftest.py): vigild in vg-srv, agents on lb1 (priority 200) and lb2 (priority 100)
for the VIP `web` (198.18.0.100/24, VRRPv3, vrid 50, advert 1 s, preempt off); lb2 alone also runs
`ka2` (VRRPv2 + PASS, vrid 51) and `ka3` (VRRPv3, vrid 52). Each node serves its name over HTTP on
port 80; a client loop in vg-cli asks the VIP every 20 ms. Every test starts from the resting
state (fixture `steady`: lb1 Master, lb2 Backup, no move request)."""

import time

import netlab as nl
from netlab import KA2, KA3, WEB, master_down_s, takeover, wait_client_on

MDI_BACKUP = master_down_s(100)  # lb2's Master_Down_Interval: 3.61 s
MARGIN = 1.5
HEARTBEAT_S = 1.0  # the agents' --heartbeat-ms


def _links(rep):
    return rep.get("_links", {})


def _assert_stays(lab, vip, node, seconds, what):
    """vip stays on node alone for `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        h = lab.holders(vip)
        assert h == [node], f"{what}: {vip} on {h}, expected only {node}"
        time.sleep(0.1)


def test_1_highest_priority_member_is_master(cluster, net):
    c, lab = cluster, net.lab
    if any(p.starts > 1 for p in c.agents.values()) or lab.holders(WEB) not in ([], ["lb1"]):
        # Not the session's first start: start both again, together, lower priority first.
        for node in ("lb2", "lb1"):
            c.term_agent(node)
        for node in ("lb2", "lb1"):
            c.start_agent(node)
    ok = nl.wait_for(lambda: c.vrrp("lb1", "web")[0] == "MASTER" and
                     c.vrrp("lb2", "web")[0] == "BACKUP", master_down_s(100) + 5, 0.1)
    assert ok, (f"lb1 {c.vrrp('lb1', 'web')}, lb2 {c.vrrp('lb2', 'web')}, VIP on "
                f"{lab.holders(WEB)}\n{c.logs()}")
    # The VIP on exactly one node, the highest-priority one.
    assert lab.holders(WEB) == ["lb1"]
    assert c.vrrp("lb1", "web") == ("MASTER", 200)
    assert c.vrrp("lb2", "web") == ("BACKUP", 100)
    st1, st2 = c.node_status("lb1"), c.node_status("lb2")
    assert st1["agent"] == "up" and st2["agent"] == "up"
    assert st1["vips_held"] == ["web"], st1
    assert "web" not in st2["vips_held"], st2
    assert isinstance(st1.get("agent_version"), str) and st1["agent_version"]
    # ip_nonlocal_bind: lb1 is told true (the agent sets it), lb2 is left alone (a new namespace
    # starts at 0); both report what they read back.
    assert lab.sysctl("lb1", "net.ipv4.ip_nonlocal_bind") == "1"
    assert st1["ip_nonlocal_bind"] is True, st1
    assert lab.sysctl("lb2", "net.ipv4.ip_nonlocal_bind") == "0"
    assert st2["ip_nonlocal_bind"] is False, st2
    # The server's view of the VIP follows.
    v = nl.wait_for(lambda: (lambda v: v if v["status"]["holder"] == "lb1" else None)(
        c.vip("web")), 3, 0.1)
    assert v, c.vip("web")
    assert v["status"]["members"]["lb1"]["state"] == "MASTER"
    assert v["status"]["members"]["lb2"]["state"] == "BACKUP"
    assert v["status"]["preferred"] == "lb1"
    assert "vg:failback" not in _links(v)
    h = c.holder("web")
    assert h["node"] == "lb1" and h["requested"] is None, h
    # And the client reaches lb1 through the VIP.
    assert wait_client_on(net.client(WEB), "lb1")


def test_2a_power_off_of_the_master(steady, net, measurements):
    c, lab = steady, net.lab
    log = net.client(WEB)
    assert wait_client_on(log, "lb1"), log.recent()
    t0 = time.monotonic()
    c.power_off("lb1")
    r = takeover(lab, log, WEB, "lb2", t0, MDI_BACKUP + 3,
                 sniff=net.sniff, old_src=nl.addr_of("lb1"), vrid=50)
    measurements.note(impl="vigil", event="power-off lb1 -> lb2", **r)
    assert r["client_s"] is not None, f"client never reached lb2: {r}\n{c.logs()}"
    assert r["vip_s"] is not None and r["vip_s"] < MDI_BACKUP + MARGIN, f"{r}\n{c.logs()}"
    assert r["client_s"] < MDI_BACKUP + MARGIN, f"{r}\n{c.logs()}"
    # Gratuitous ARP: the client follows the VIP at once (its ARP entry still names lb1).
    assert r["client_s"] - r["vip_s"] < 0.3, f"{r}\n{c.logs()}"
    measurements.record("vigil", "failover_power_off", r["client_s"])
    measurements.record("vigil", "failover_power_off_after_advert", r["after_advert_s"])
    measurements.record("vigil", "failover_power_off_failed", r["failed"])
    print(f"\npower-off failover: VIP on lb2 after {r['vip_s']} s, client after "
          f"{r['client_s']} s, {r['failed']} failed requests")
    assert c.wait_vrrp("lb2", "web", "MASTER", 3), c.logs("lb2")
    assert nl.wait_for(lambda: c.vip("web")["status"]["holder"] == "lb2", 3, 0.1)
    assert nl.wait_for(lambda: c.agent_state("lb1") == "down", 3 + 3, 0.2)

    # Power back on: addresses flushed as after a reboot, agent restarted. It comes back as
    # Backup and, preempt being off, does not take the VIP back.
    t_on = time.monotonic()
    c.power_on("lb1")
    assert c.wait_vrrp("lb1", "web", "BACKUP", 5), f"{c.vrrp('lb1', 'web')}\n{c.logs('lb1')}"
    _assert_stays(lab, WEB, "lb2", max(0.0, t_on + master_down_s(200) + 1.0 - time.monotonic()),
                  "after lb1 powered on")
    assert lab.monitors["lb1"].find("add", WEB, t_on) is None, "lb1 added the VIP at some point"
    assert c.vrrp("lb1", "web")[0] == "BACKUP"
    assert c.vrrp("lb2", "web")[0] == "MASTER"
    # Scenario 3's first half: the preferred node is back, so vg:failback is offered.
    v = nl.wait_for(lambda: (lambda v: v if "vg:failback" in _links(v) else None)(
        c.vip("web")), 3, 0.1)
    assert v, f"no vg:failback: {c.vip('web')}"
    fb = _links(v)["vg:failback"]
    assert fb["href"] == "/vips/web/holder" and fb["name"] == "lb1", fb
    assert v["status"]["holder"] == "lb2" and v["status"]["preferred"] == "lb1"


def test_2b_master_interface_down_is_fault(steady, net, measurements):
    c, lab = steady, net.lab
    log = net.client(WEB)
    assert wait_client_on(log, "lb1"), log.recent()
    t0 = time.monotonic()
    lab.if_down("lb1")
    r = takeover(lab, log, WEB, "lb2", t0, MDI_BACKUP + 3,
                 sniff=net.sniff, old_src=nl.addr_of("lb1"), vrid=50)
    measurements.note(impl="vigil", event="eth0 down lb1 -> lb2", **r)
    assert r["client_s"] is not None, f"client never reached lb2: {r}\n{c.logs()}"
    assert r["client_s"] < MDI_BACKUP + MARGIN, f"{r}\n{c.logs()}"
    assert r["vip_s"] is not None and r["client_s"] - r["vip_s"] < 0.3, f"{r}\n{c.logs()}"
    measurements.record("vigil", "failover_if_down", r["client_s"])
    measurements.record("vigil", "failover_if_down_after_advert", r["after_advert_s"])
    measurements.record("vigil", "failover_if_down_failed", r["failed"])
    # FAULT is reported (over the management interface), and the VIP is gone from lb1.
    assert c.wait_vrrp("lb1", "web", "FAULT", 3), f"{c.node_status('lb1')}\n{c.logs('lb1')}"
    lt = c.node_status("lb1")["last_transition"]
    assert lt and lt.get("vip") == "web" and lt.get("to") == "FAULT", lt
    assert nl.wait_for(lambda: WEB not in lab.addrs("lb1"), 2), lab.addrs("lb1")
    assert c.wait_vrrp("lb2", "web", "MASTER", 2)
    # Interface back: Backup again, and the VIP stays on lb2.
    t_up = time.monotonic()
    lab.if_up("lb1")
    assert c.wait_vrrp("lb1", "web", "BACKUP", 5), f"{c.node_status('lb1')}\n{c.logs('lb1')}"
    _assert_stays(lab, WEB, "lb2", max(0.0, t_up + master_down_s(200) + 1.0 - time.monotonic()),
                  "after lb1's eth0 came back")
    assert c.agent_alive("lb1")


def test_3_failback_by_the_operator(steady, net, measurements):
    c, lab = steady, net.lab
    log = net.client(WEB)
    assert "vg:failback" not in _links(c.vip("web"))

    def move(node, href="/vips/web/holder", what=""):
        old = "lb2" if node == "lb1" else "lb1"
        assert wait_client_on(log, old), log.recent()
        t0 = time.monotonic()
        resp = c.api.put(href, {"node": node})
        t_put = time.monotonic() - t0
        assert resp.status_code == 202, resp.text
        assert resp.headers.get("Location", "").endswith("/vips/web/holder"), resp.headers
        body = resp.json()
        assert body["requested"] == node and body["state"] == "moving", body
        r = takeover(lab, log, WEB, node, t0, 3)
        r["put_s"] = round(t_put, 4)
        # Make-before-break, in the kernel's order of the two address changes (one netlink
        # stream for all namespaces): the target added the VIP before the old holder dropped it.
        ev_add = lab.monitors[node].find_event("add", WEB, t0)
        ev_del = lab.monitors[old].find_event("del", WEB, t0)
        r["make_before_break"] = (ev_add is not None and ev_del is not None and
                                  ev_add[0] < ev_del[0])
        r["overlap_s"] = (None if ev_add is None or ev_del is None
                          else round(ev_del[1] - ev_add[1], 4))
        r["move_id"] = body["move_id"]
        measurements.note(impl="vigil", event=what, **r)
        print(f"\n{what}: VIP on {node} after {r['vip_s']} s, client answered by {node} after "
              f"{r['client_s']} s, {r['failed']} failed requests (PUT took {r['put_s']} s; both "
              f"held it for {r['overlap_s']} s)")
        assert r["client_s"] is not None, f"{r}\n{c.logs()}"
        settled = nl.wait_for(lambda: c.settled("web"), 3, 0.05)
        assert settled and settled["node"] == node, c.holder("web")
        assert settled["move_id"] == body["move_id"], (body, settled)
        assert lab.holders(WEB) == [node]
        done = c.node_status(node).get("moves_done") or {}
        assert done.get("web") == body["move_id"], done
        assert r["make_before_break"], (
            f"not make-before-break: {node} added {ev_add}, {old} deleted {ev_del}")
        return r

    # Operator moves web away from its preferred node: the requested node is now preferred.
    r1 = move("lb2", what="move lb1 -> lb2 (PUT holder)")
    measurements.record("vigil", "move_away", r1["client_s"])
    measurements.record("vigil", "move_away_failed", r1["failed"])
    v = c.vip("web")
    assert v["status"]["preferred"] == "lb2" and "vg:failback" not in _links(v), v

    # The request is withdrawn: the configured priorities prefer lb1 again, which is up, so
    # vg:failback is offered, and nothing moves by itself.
    assert c.api.delete("/vips/web/holder").status_code == 204
    v = nl.wait_for(lambda: (lambda v: v if "vg:failback" in _links(v) else None)(
        c.vip("web")), 3, 0.05)
    assert v, c.vip("web")
    fb = _links(v)["vg:failback"]
    assert fb["name"] == "lb1" and fb["href"] == "/vips/web/holder", fb
    _assert_stays(lab, WEB, "lb2", 1.0, "after DELETE of the move request")

    # The operator follows the link.
    r2 = move(fb["name"], href=fb["href"], what="failback lb2 -> lb1 (PUT via vg:failback)")
    measurements.record("vigil", "move_back", r2["client_s"])
    measurements.record("vigil", "move_back_failed", r2["failed"])
    r2_move_id = r2["move_id"]
    v = c.vip("web")
    assert v["status"]["holder"] == "lb1" and "vg:failback" not in _links(v), v
    assert c.vrrp("lb2", "web")[0] == "BACKUP"

    # A PUT naming the node already requested and holding is a new move (new move_id), carried
    # out once by that node's agent (moves_done), and nothing moves. (vigild answers it with
    # state "settled" at once, as the observed holder is already the requested one.)
    t3 = time.monotonic()
    resp = c.api.put("/vips/web/holder", {"node": "lb1"})
    assert resp.status_code == 202 and resp.json()["move_id"] > r2_move_id, resp.text
    again = nl.wait_for(lambda: c.settled("web"), 3, 0.05)
    assert again and again["node"] == "lb1" and again["move_id"] == resp.json()["move_id"], \
        c.holder("web")
    assert nl.wait_for(lambda: (c.node_status("lb1").get("moves_done") or {}).get("web") ==
                       resp.json()["move_id"], 3, 0.05), c.node_status("lb1")
    _assert_stays(lab, WEB, "lb1", 1.0, "after a PUT naming the holder")
    assert lab.monitors["lb1"].find("del", WEB, t3) is None
    assert not log.failures(t3, time.monotonic() - nl.CLIENT_TIMEOUT)
    # Make-before-break moves well under Master_Down_Interval; the goal is no failed request.
    for r in (r1, r2):
        assert r["client_s"] < 1.0, r
        assert r["failed"] <= 2, r


def test_4_sigterm_releases_with_priority_zero(steady, net, measurements):
    c, lab = steady, net.lab
    log = net.client(WEB)
    assert wait_client_on(log, "lb1"), log.recent()
    t0 = time.monotonic()
    rc = c.term_agent("lb1")
    r = takeover(lab, log, WEB, "lb2", t0, 3)
    measurements.note(impl="vigil", event="SIGTERM lb1 -> lb2", **r)
    assert rc == 0, f"agent exit code {rc}\n{c.logs('lb1')}"
    zero = [p for p in net.sniff.packets(after=t0)
            if p["src"] == nl.addr_of("lb1") and p.get("vrid") == 50 and p.get("priority") == 0]
    assert zero, "no priority-0 advertisement from lb1 after SIGTERM"
    assert r["client_s"] is not None and r["client_s"] < 1.0, f"{r}\n{c.logs()}"
    measurements.record("vigil", "release_sigterm", r["client_s"])
    measurements.record("vigil", "release_sigterm_failed", r["failed"])
    print(f"\nSIGTERM: client answered by lb2 after {r['client_s']} s, {r['failed']} failed")
    assert WEB not in lab.addrs("lb1")
    assert c.wait_vrrp("lb2", "web", "MASTER", 2)
    c.start_agent("lb1")
    assert c.wait_vrrp("lb1", "web", "BACKUP", 5), c.logs("lb1")


def test_5_server_down(steady, net, measurements):
    c, lab = steady, net.lab
    log = net.client(WEB)
    assert wait_client_on(log, "lb1"), log.recent()
    t_stop = time.monotonic()
    c.stop_server()
    # VIPs stay: nothing moves, no request fails, the agents keep running.
    _assert_stays(lab, WEB, "lb1", 3 * HEARTBEAT_S + 0.5, "with vigild stopped")
    assert not log.failures(t_stop, time.monotonic() - nl.CLIENT_TIMEOUT)
    assert all(c.agent_alive(n) for n in ("lb1", "lb2")), c.logs()
    assert lab.monitors["lb1"].find("del", WEB, t_stop) is None
    # lb2 restarts while the server is down: it must serve from the config cached on disk.
    assert c.term_agent("lb2") == 0, c.logs("lb2")
    c.start_agent("lb2")
    time.sleep(1.0)
    assert c.agent_alive("lb2"), c.logs("lb2")
    # Failover still works.
    t0 = time.monotonic()
    c.power_off("lb1")
    r = takeover(lab, log, WEB, "lb2", t0, MDI_BACKUP + 3,
                 sniff=net.sniff, old_src=nl.addr_of("lb1"), vrid=50)
    measurements.note(impl="vigil", event="power-off lb1 -> lb2, vigild down", **r)
    assert r["client_s"] is not None, f"no failover with vigild down: {r}\n{c.logs('lb2')}"
    assert r["client_s"] < MDI_BACKUP + MARGIN, f"{r}\n{c.logs()}"
    # vigild back: the status catches up.
    c.start_server()
    ok = nl.wait_for(lambda: c.vip("web")["status"]["holder"] == "lb2" and
                     c.vrrp("lb2", "web")[0] == "MASTER", 3 * HEARTBEAT_S + 2, 0.1)
    assert ok, f"{c.vip('web')}\n{c.node_status('lb2')}\n{c.logs('lb2')}"
    st2 = c.node_status("lb2")
    assert st2["agent"] == "up" and "web" in st2["vips_held"], st2
    assert nl.wait_for(lambda: c.agent_state("lb1") in ("down", "unknown"), 3 + 3, 0.2), \
        c.node_status("lb1")
    c.power_on("lb1")
    assert c.wait_vrrp("lb1", "web", "BACKUP", 5), c.logs("lb1")


def _counts(counters, reason):
    """Sum of the counters whose name contains reason (names like bad_ttl or rx_bad_ttl)."""
    return sum(v for k, v in (counters or {}).items() if reason in k and isinstance(v, int))


def test_7_bad_packets_are_dropped_and_counted(steady, net):
    c, lab = steady, net.lab
    for vip, addr in (("ka2", KA2), ("ka3", KA3)):
        assert nl.wait_for(lambda vip=vip: c.vrrp("lb2", vip)[0] == "MASTER", MDI_BACKUP + 3,
                           0.1), f"{vip}: {c.vrrp('lb2', vip)}\n{c.logs('lb2')}"
        assert lab.holders(addr) == ["lb2"]
    before = c.node_status("lb2").get("counters")
    assert isinstance(before, dict), f"no counters in lb2's status: {c.node_status('lb2')}"
    lt_before = c.node_status("lb2")["last_transition"]
    src = nl.addr_of("cli")
    t0 = time.monotonic()
    n = 5
    v3 = dict(version=3, vrid=52, priority=254, addrs=[KA3], src=src)
    v2 = dict(version=2, vrid=51, priority=254, addrs=[KA2])
    bad = [  # (what, payload, ttl)
        ("bad_ttl", nl.vrrp_packet(**v3), 64),
        ("bad_checksum", nl.vrrp_packet(**v3, bad_checksum=True), 255),
        ("bad_version", nl.vrrp_packet(2, 52, 254, [KA3]), 255),
        ("too_short", bytes([0x31, 52, 254, 1]), 255),
        ("auth", nl.vrrp_packet(**v2, auth_pass="wrong"), 255),
        ("bad_ttl", nl.vrrp_packet(**v2, auth_pass="7388"), 1),
        ("bad_checksum", nl.vrrp_packet(**v2, auth_pass="7388", bad_checksum=True), 255),
    ]
    for _what, payload, ttl in bad:
        lab.call_in("cli", nl.send_raw_vrrp, src, payload, ttl, count=n)
    time.sleep(2 * HEARTBEAT_S + 0.3)
    assert c.agent_alive("lb2"), c.logs("lb2")
    st = c.node_status("lb2")
    after = st.get("counters") or {}
    expect = {"bad_ttl": 2 * n, "bad_checksum": 2 * n, "bad_version": n, "too_short": n,
              "auth": n}
    missing = {k: (_counts(after, k) - _counts(before, k), want) for k, want in expect.items()
               if _counts(after, k) - _counts(before, k) < want}
    assert not missing, f"drops not counted (got, wanted): {missing}; counters {after}"
    # Nothing changed: still Master of both, the VIPs never left, no transition.
    assert c.vrrp("lb2", "ka2")[0] == "MASTER" and c.vrrp("lb2", "ka3")[0] == "MASTER"
    assert st["last_transition"] == lt_before, (lt_before, st["last_transition"])
    for addr in (KA2, KA3):
        assert lab.holders(addr) == ["lb2"]
        assert lab.monitors["lb2"].find("del", addr, t0) is None
    print(f"\ncounters after the bad packets: {after}")

    # Control: the same packets without their flaw do reach the agent and are obeyed (a higher
    # priority makes the Master step down), so the drops above were the checks at work.
    t1 = time.monotonic()
    lab.call_in("cli", nl.send_raw_vrrp, src, nl.vrrp_packet(**v3), 255)
    lab.call_in("cli", nl.send_raw_vrrp, src, nl.vrrp_packet(**v2, auth_pass="7388"), 255)
    for vip, addr in (("ka2", KA2), ("ka3", KA3)):
        assert nl.wait_for(lambda addr=addr: lab.monitors["lb2"].find("del", addr, t1), 2), \
            f"{vip}: a valid higher-priority advert did not make lb2 step down"
    # No more adverts from that "master": lb2 takes over again after Master_Down_Interval.
    for vip, addr in (("ka2", KA2), ("ka3", KA3)):
        assert nl.wait_for(lambda addr=addr: lab.holders(addr) == ["lb2"], MDI_BACKUP + 2), vip
    assert c.wait_vrrp("lb2", "ka2", "MASTER", 3) and c.wait_vrrp("lb2", "ka3", "MASTER", 3)
    assert c.agent_alive("lb2")
