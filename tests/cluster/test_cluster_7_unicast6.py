"""Unicast VRRPv3 over IPv6 (issue 10's unicast, with issue 11's per-family unicast source): the
session's nodes have IPv4 addresses; each gets an IPv6 address on eth0 (2001:db8::11 and ::12,
added without DAD) and names it in `unicast_sources`, so that an IPv6 VIP can run unicast.

VIP `uni6` = 2001:db8::160/64, vrid 63, advert 1 s, preempt off, lb1 150 / lb2 100, unicast.
  1. lb1 is Master and sends its adverts by unicast from 2001:db8::11 to 2001:db8::12 (seen on
     lb2 by a raw socket that joins no group), none to ff02::12; lb2 is Backup.
  2. lb1's agent stops (priority 0 by unicast): lb2 takes over within Skew_Time.
  3. lb1 back: Backup (preempt off)."""

import json
import socket
import struct
import time

import pytest

import netlab as nl
from netlab import master_down_s

V6 = "2001:db8::160"
SRC = {"lb1": "2001:db8::11", "lb2": "2001:db8::12"}
VRID = 63
SPEC = {"addresses": [f"{V6}/64"], "interface": "eth0", "vrid": VRID, "version": 3,
        "advert_int_ms": 1000, "preempt": False, "unicast": True,
        "members": [{"node": "lb1", "priority": 150}, {"node": "lb2", "priority": 100}]}


def addrs6(host):
    r = nl.run("ip", "-n", nl.ns_of(host), "-j", "-6", "addr", "show", "dev", "eth0")
    return [a["local"] for link in json.loads(r.stdout or "[]") for a in link.get("addr_info", [])]


def holders6(lab):
    return [h for h in nl.LB_NODES if V6 in addrs6(h)]


def sniff_uni6(vrid, timeout=3.0):
    """Adverts for vrid reaching this namespace's eth0 without joining ff02::12: [(src, dst)]."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, nl.IPPROTO_VRRP)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    seen, end = [], time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            s.settimeout(max(0.01, end - time.monotonic()))
            try:
                data, anc, _f, src = s.recvmsg(2048, 256)
            except socket.timeout:
                break
            if len(data) < 8 or data[1] != vrid:
                continue
            dst = next((socket.inet_ntop(socket.AF_INET6, v[:16]) for lvl, t, v in anc
                        if lvl == socket.IPPROTO_IPV6 and t == socket.IPV6_PKTINFO), None)
            seen.append((src[0].split("%")[0], dst))
    finally:
        s.close()
    return seen


@pytest.fixture
def uni6(steady):
    c, lab = steady, steady.lab
    for h in ("lb1", "lb2"):
        lab.ensure_link_local(h)
        nl.run("ip", "-n", nl.ns_of(h), "addr", "add", f"{SRC[h]}/64", "dev", "eth0",
               "nodad", check=False)
        c.api.patch(f"/nodes/{h}", {"unicast_sources": [SRC[h]]})
    try:
        yield c
    finally:
        c.api.delete("/vips/uni6")
        nl.wait_for(lambda: holders6(lab) == [], 5, 0.1)
        for h in ("lb1", "lb2"):
            c.api.patch(f"/nodes/{h}", {"unicast_sources": None})
            nl.run("ip", "-n", nl.ns_of(h), "addr", "del", f"{SRC[h]}/64", "dev", "eth0",
                   check=False)
            nl.run("ip", "-n", nl.ns_of(h), "addr", "del", f"{V6}/64", "dev", "eth0",
                   check=False)
        if not c.agent_alive("lb1"):
            c.start_agent("lb1")


def test_ipv6_unicast_between_agents(uni6):
    c, lab = uni6, uni6.lab
    c.api.put("/vips/uni6", SPEC, expect=(200, 201))
    cfg = c.api.get("/nodes/lb1/config")
    e = next(v for v in cfg["vips"] if v["name"] == "uni6")
    assert e["unicast_src"] == SRC["lb1"] and e["unicast_peers"] == [SRC["lb2"]], e
    ok = nl.wait_for(lambda: holders6(lab) == ["lb1"] and c.vrrp("lb2", "uni6")[0] == "BACKUP",
                     master_down_s(100) + 5, 0.1)
    assert ok, (holders6(lab), c.vrrp("lb1", "uni6"), c.vrrp("lb2", "uni6"), c.logs())
    seen = lab.call_in("lb2", sniff_uni6, VRID, 2.5)
    assert seen and set(seen) == {(SRC["lb1"], SRC["lb2"])}, seen
    st = c.node_status("lb2")
    assert not (st.get("counters") or {}).get("not_unicast_peer"), st.get("counters")

    t0 = time.monotonic()
    assert c.term_agent("lb1") == 0, c.logs("lb1")
    assert nl.wait_for(lambda: holders6(lab) == ["lb2"], 3, 0.02), (holders6(lab), c.logs("lb2"))
    print(f"\nuni6: SIGTERM lb1 -> {V6} on lb2 after {time.monotonic() - t0:.2f} s")
    c.start_agent("lb1")
    assert c.wait_vrrp("lb1", "uni6", "BACKUP", 6), c.logs("lb1")
    assert holders6(lab) == ["lb2"]
