"""An IPv6 VIP (VRRPv3, RFC 5798): the agents speak VRRP from their link-local addresses to
ff02::12 (RFC 5798 5.1.2.2, 5.2.9) and carry the VIP as a global address.

VIP `web6` = 2001:db8::100/64 on eth0, vrid 60, advert 1 s, preempt off, members lb2 (priority
150, so that the test can stop it without touching `web`, which lb1 masters) and lb1 (100). The
highest becomes Master and holds it alone; SIGTERM (priority 0) hands it to lb1 within about
Skew_Time; lb2 restarted comes back Backup. The VIP is deleted at the end (the address leaves
lb1)."""

import json
import socket
import struct
import time

import netlab as nl
from netlab import master_down_s

V6 = "2001:db8::100"
SPEC = {"addresses": [f"{V6}/64"], "interface": "eth0", "vrid": 60, "version": 3,
        "advert_int_ms": 1000, "preempt": False,
        "members": [{"node": "lb1", "priority": 100}, {"node": "lb2", "priority": 150}]}


def addrs6(host, dev="eth0"):
    """{address: flags} of host's IPv6 addresses on dev (flags: tentative, dadfailed, ...)."""
    r = nl.run("ip", "-n", nl.ns_of(host), "-j", "-6", "addr", "show", "dev", dev)
    out = {}
    for link in json.loads(r.stdout or "[]"):
        for a in link.get("addr_info", []):
            out[a["local"]] = {k for k in ("tentative", "dadfailed", "deprecated") if a.get(k)}
    return out


def sniff6(vrid, timeout=3.0):
    """The first VRRP advertisement for vrid received on eth0 (run inside a namespace): (source
    address, destination address, hop limit, priority, [addresses]), or None."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, nl.IPPROTO_VRRP)
    try:
        ifindex = socket.if_nametoindex("eth0")
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                     socket.inet_pton(socket.AF_INET6, "ff02::12") + struct.pack("@I", ifindex))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s.settimeout(max(0.01, end - time.monotonic()))
            try:
                data, anc, _flags, src = s.recvmsg(2048, 256)
            except socket.timeout:
                return None
            if len(data) < 8 or data[1] != vrid:
                continue
            hops = dst = None
            for level, typ, val in anc:
                if level == socket.IPPROTO_IPV6 and typ == socket.IPV6_HOPLIMIT:
                    hops = struct.unpack("@i", val[:4])[0]
                elif level == socket.IPPROTO_IPV6 and typ == socket.IPV6_PKTINFO:
                    dst = socket.inet_ntop(socket.AF_INET6, val[:16])
            addrs = [socket.inet_ntop(socket.AF_INET6, data[8 + 16 * i:24 + 16 * i])
                     for i in range(data[3])]
            return src[0].split("%")[0], dst, hops, data[2], addrs
        return None
    finally:
        s.close()


def holders6(lab):
    return [h for h in nl.LB_NODES if V6 in addrs6(h)]


def test_ipv6_vip_master_and_takeover(steady, net, measurements):
    c, lab = steady, net.lab
    # Both nodes have a link-local primary address (VRRPv3 over IPv6 needs one, RFC 5798 5.1.2.2);
    # a node "powered on" by an earlier test had it flushed: give it back, as a boot would.
    for h in ("lb1", "lb2", "cli"):
        lab.ensure_link_local(h)
    for h in ("lb1", "lb2"):
        assert nl.wait_for(lambda h=h: any(a.startswith("fe80:") and not f
                                           for a, f in addrs6(h).items()), 5, 0.1), addrs6(h)
    try:
        t0 = time.monotonic()
        c.api.put("/vips/web6", SPEC, expect=(200, 201))
        ok = nl.wait_for(lambda: c.vrrp("lb2", "web6")[0] == "MASTER" and
                         c.vrrp("lb1", "web6")[0] == "BACKUP" and holders6(lab) == ["lb2"],
                         master_down_s(150) + 5, 0.1)
        assert ok, (f"lb1 {c.vrrp('lb1', 'web6')}, lb2 {c.vrrp('lb2', 'web6')}, {V6} on "
                    f"{holders6(lab)}\n{c.logs()}")
        print(f"\nweb6: lb2 MASTER holding {V6} {time.monotonic() - t0:.2f} s after the PUT")
        assert c.vrrp("lb2", "web6") == ("MASTER", 150) and c.vrrp("lb1", "web6") == ("BACKUP", 100)
        assert nl.wait_for(lambda: "tentative" not in addrs6("lb2").get(V6, {"x"}) and
                           "dadfailed" not in addrs6("lb2").get(V6, {"x"}), 3, 0.1), addrs6("lb2")
        v = nl.wait_for(lambda: (lambda v: v if v["status"]["holder"] == "lb2" else None)(
            c.vip("web6")), 3, 0.1)
        assert v and v["addresses"] == [f"{V6}/64"], c.vip("web6")
        # The adverts: from lb2's link-local address to ff02::12, hop limit 255 (RFC 5798 5.1.2).
        adv = lab.call_in("cli", sniff6, 60)
        assert adv, "no VRRP advertisement for vrid 60 seen on ff02::12"
        src, dst, hops, prio, vaddrs = adv
        print(f"advert: {adv}")
        assert src.startswith("fe80:") and src in addrs6("lb2"), (adv, addrs6("lb2"))
        assert dst == "ff02::12" and hops == 255 and prio == 150 and vaddrs == [V6], adv
        # It stays there, alone.
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            assert holders6(lab) == ["lb2"], holders6(lab)
            time.sleep(0.1)
        assert lab.holders(nl.WEB) == ["lb1"]  # the IPv4 VIP is untouched

        # SIGTERM on the master: priority 0 to ff02::12, lb1 takes over after Skew_Time.
        t1 = time.monotonic()
        rc = c.term_agent("lb2")
        assert rc == 0, c.logs("lb2")
        moved = nl.wait_for(lambda: holders6(lab) == ["lb1"], 3, 0.02)
        t_move = time.monotonic() - t1
        assert moved, f"{V6} on {holders6(lab)}\n{c.logs('lb1')}"
        t_add = lab.monitors["lb1"].find("add", V6, t1)
        vip_s = None if t_add is None else round(t_add - t1, 3)
        measurements.note(impl="vigil", event="IPv6 VIP: SIGTERM lb2 -> lb1", vip_s=vip_s,
                          seen_s=round(t_move, 3))
        print(f"SIGTERM lb2: {V6} added on lb1 after {vip_s} s (seen after {t_move:.2f} s)")
        assert vip_s is not None and vip_s < 1.5, vip_s
        assert c.wait_vrrp("lb1", "web6", "MASTER", 3), c.node_status("lb1")
        # lb2 back: Backup (preempt off), and the VIP stays on lb1.
        c.start_agent("lb2")
        assert c.wait_vrrp("lb2", "web6", "BACKUP", 5), c.logs("lb2")
        t2 = time.monotonic()
        while time.monotonic() < t2 + 1.0:
            assert holders6(lab) == ["lb1"], holders6(lab)
            time.sleep(0.1)
        assert lab.holders(nl.WEB) == ["lb1"]
    finally:
        c.api.delete("/vips/web6")
        gone = nl.wait_for(lambda: holders6(lab) == [], 5, 0.1)
        for h in nl.LB_NODES:
            nl.run("ip", "-n", nl.ns_of(h), "addr", "del", f"{V6}/64", "dev", "eth0", check=False)
        if not c.agent_alive("lb2"):
            c.start_agent("lb2")
    assert gone, f"{V6} still on {holders6(lab)} after DELETE /vips/web6"
