"""Issue 10, agent side: unicast VRRP, excluded addresses and the GARP timers, against Debian's
keepalived 2.2.7 on a bridge that drops VRRP multicast.

One VIP `uni` shared by every phase: vrid 70, VRRPv3, advert 1 s, preempt off, member lb2 alone
(priority 150), three advertised addresses and an excluded one, garp_repeat 3, garp_delay_s 1,
garp_refresh_s 2. keepalived on lb3 (priority 100, nopreempt) has the same three addresses in
`virtual_ipaddress` and the fourth in `virtual_ipaddress_excluded`. A classic-BPF tc filter on
the bridge ports of lb2 and lb3 drops every IPv4 frame to 224.0.0.18 they send (lb1's adverts
for `web` still reach lb2: only what lb2 and lb3 send is dropped).

  0. The filter works: the same set-up with `unicast: false` gives two Masters.
  1. Unicast (`unicast_src_ip`/`unicast_peer` on keepalived, `peers` on the VIP): the agent is
     Master and keepalived stays Backup, so keepalived hears the agent; a forged advert of
     priority 254 sent by unicast from a host that is not a peer is counted and ignored.
  2. The agent stops (priority 0 by unicast): keepalived takes over, all four addresses move.
  3. The agent comes back: it stays Backup for longer than its Master_Down_Interval, so it
     hears keepalived.
  4. keepalived stops: the agent takes over, and its gratuitous ARPs, counted by a packet socket
     on cli, follow the schedule: bursts of 3 per address at 0, 1 (delay), 2 and 4 s (refresh).
  5. keepalived back, the agent stopped and started again (keepalived Master), then a manual
     failback (PUT /vips/uni/holder): the agent takes over at once, keepalived steps down.
  Throughout: no address-list mismatch or checksum complaint in keepalived's log, none of
  `addr_list_differs` / `bad_checksum` in the agent's counters."""

import json
import re
import socket
import struct
import threading
import time

import pytest

import netlab as nl
from netlab import master_down_s

VIP = "uni"
VRID = 70
ADDRS = ["198.18.0.130", "198.18.0.131", "198.18.0.132"]
EXCL = "198.18.0.133"
ALL = ADDRS + [EXCL]
AGENT_PRIO, KA_PRIO = 150, 100
GARP = {"garp_repeat": 3, "garp_delay_s": 1, "garp_refresh_s": 2}
# Classic BPF for `tc ... bpf da`: IPv4 (ethertype 0x0800 at 12) to 224.0.0.18 (at 14 + 16) is
# TC_ACT_SHOT (2), anything else TC_ACT_OK (0).
DROP_VRRP_MCAST = "6,40 0 0 12,21 0 3 2048,32 0 0 30,21 0 1 3758096402,6 0 0 2,6 0 0 0"
FILTERED = ("lb2", "lb3")
KA_MISMATCH = re.compile(r"unexpected ip number count|not present in MASTER advert|checksum",
                         re.IGNORECASE)
ETH_P_ARP = 0x0806
KA_RUNS = []  # the keepalived processes of this module, whose logs are checked


def start_ka(net, unicast):
    KA_RUNS.append(net.keepalived("lb3", ka_conf(unicast)))


def vip_spec(unicast):
    return {"addresses": [f"{a}/24" for a in ADDRS], "excluded_addresses": [f"{EXCL}/24"],
            "interface": "eth0", "vrid": VRID, "version": 3, "advert_int_ms": 1000,
            "preempt": False, "members": [{"node": "lb2", "priority": AGENT_PRIO}],
            "unicast": unicast, "peers": [nl.addr_of("lb3")] if unicast else [], **GARP}


def ka_conf(unicast):
    uc = (f"    unicast_src_ip {nl.addr_of('lb3')}\n"
          f"    unicast_peer {{\n        {nl.addr_of('lb2')}\n    }}\n") if unicast else ""
    return ("global_defs {\n    router_id lb3\n    vrrp_version 3\n}\n"
            f"vrrp_instance VI_U {{\n    state BACKUP\n    interface eth0\n"
            f"    virtual_router_id {VRID}\n    priority {KA_PRIO}\n    advert_int 1\n"
            "    nopreempt\n" + uc +
            "    virtual_ipaddress {\n" + "".join(f"        {a}/24\n" for a in ADDRS) + "    }\n"
            f"    virtual_ipaddress_excluded {{\n        {EXCL}/24\n    }}\n}}\n")


def holders_of_all(lab):
    """{address: [hosts holding it]} for the four addresses."""
    return {a: lab.holders(a, hosts=("lb1", "lb2", "lb3")) for a in ALL}


def all_on(lab, host):
    return all(h == [host] for h in holders_of_all(lab).values())


def ka_entered(net, state):
    p = net.ka.get("lb3")
    if p is None:
        return 0
    text = "".join(f.read_text(errors="replace") for f in (p.err_path, p.out_path)
                   if f and f.exists())
    return len(re.findall(rf"Entering {state} STATE", text))


@pytest.fixture(scope="module")
def blocked(cluster, net):
    """The tc filters on lb2's and lb3's bridge ports; afterwards the VIP, keepalived, the
    filters and any address left behind go."""
    for h in FILTERED:
        port = nl.port_of(h)
        nl.run("tc", "qdisc", "del", "dev", port, "clsact", check=False)
        nl.run("tc", "qdisc", "add", "dev", port, "clsact")
        nl.run("tc", "filter", "add", "dev", port, "ingress", "bpf", "da", "bytecode",
               DROP_VRRP_MCAST)
    yield cluster
    cluster.api.request("DELETE", f"/vips/{VIP}")
    net.stop_keepalived("lb3")
    for h in FILTERED:
        nl.run("tc", "qdisc", "del", "dev", nl.port_of(h), "clsact", check=False)
    for h in ("lb2", "lb3"):
        for a in ALL:
            net.lab.del_addr(h, a)
    if not cluster.agent_alive("lb2"):
        cluster.start_agent("lb2")


def logs(c, net):
    return f"{c.logs('lb2')}\n=== keepalived lb3 ===\n{net.keepalived_log('lb3')}"


def counters(c):
    return c.node_status("lb2").get("counters") or {}


@pytest.mark.usefixtures("has_keepalived")
def test_multicast_is_dropped_two_masters(steady, blocked, net):
    """Phase 0: with multicast both sides hear nothing and both become Master."""
    c, lab = steady, net.lab
    c.api.put(f"/vips/{VIP}", vip_spec(False), expect=(200, 201))
    start_ka(net, False)
    ok = nl.wait_for(lambda: c.vrrp("lb2", VIP)[0] == "MASTER" and ka_entered(net, "MASTER")
                     and all(sorted(h) == ["lb2", "lb3"] for h in holders_of_all(lab).values()),
                     master_down_s(KA_PRIO) + 4, 0.1)
    assert ok, f"expected two Masters behind the filter: {holders_of_all(lab)}\n{logs(c, net)}"
    time.sleep(1.5)  # and they stay so: neither hears the other
    assert all(sorted(h) == ["lb2", "lb3"] for h in holders_of_all(lab).values())
    net.stop_keepalived("lb3")
    c.api.delete(f"/vips/{VIP}", expect=204)
    assert nl.wait_for(lambda: not any(holders_of_all(lab).values()), 3), holders_of_all(lab)


def _arp_socket():
    """A packet socket for ARP frames on cli's eth0 (opened inside cli's namespace)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    s.bind(("eth0", ETH_P_ARP))
    return s


def _mac(host):
    out = nl.run("ip", "-n", nl.ns_of(host), "-j", "link", "show", "dev", "eth0").stdout
    return bytes.fromhex(json.loads(out)[0]["address"].replace(":", ""))


def _gratuitous(sock, mac, until, out):
    """Appends (time, op, address) of the gratuitous ARPs from mac for ALL to out until
    `until` (run on a thread of its own, so that each frame is timed as it arrives)."""
    sock.settimeout(0.05)
    while time.monotonic() < until:
        try:
            frame = sock.recv(128)
        except socket.timeout:
            continue
        if len(frame) < 42:
            continue
        op, sha, spa, tpa = (struct.unpack("!H", frame[20:22])[0], frame[22:28],
                             socket.inet_ntoa(frame[28:32]), socket.inet_ntoa(frame[38:42]))
        if sha == mac and spa == tpa and spa in ALL:
            out.append((time.monotonic(), op, spa))


def _bursts(garps, gap=0.3):
    """Groups (time, op, addr) into bursts separated by more than gap seconds."""
    bursts = []
    for g in garps:
        if not bursts or g[0] - bursts[-1][-1][0] > gap:
            bursts.append([])
        bursts[-1].append(g)
    return bursts


@pytest.mark.usefixtures("has_keepalived")
def test_unicast_with_keepalived(steady, blocked, net, measurements):
    c, lab = steady, net.lab
    c.api.put(f"/vips/{VIP}", vip_spec(True), expect=(200, 201))

    # 1. The agent wins (shorter Master_Down_Interval, started first); keepalived hears it.
    t_ka = time.monotonic()
    start_ka(net, True)
    assert nl.wait_for(lambda: all_on(lab, "lb2"), master_down_s(AGENT_PRIO) + 3), \
        f"{holders_of_all(lab)}\n{logs(c, net)}"
    assert c.wait_vrrp("lb2", VIP, "MASTER", 3), logs(c, net)
    while time.monotonic() < t_ka + master_down_s(KA_PRIO) + 1.0:
        time.sleep(0.2)
    assert ka_entered(net, "BACKUP") >= 1 and ka_entered(net, "MASTER") == 0, logs(c, net)
    assert all_on(lab, "lb2"), holders_of_all(lab)

    # A forged advert of priority 254 by unicast from cli, which is not a peer: ignored.
    forged = nl.vrrp_packet(3, VRID, 254, ADDRS, src=nl.addr_of("cli"), dst=nl.addr_of("lb2"))
    lab.call_in("cli", nl.send_raw_vrrp, nl.addr_of("cli"), forged, dst=nl.addr_of("lb2"),
                count=3, gap=0.05)
    assert nl.wait_for(lambda: counters(c).get("not_unicast_peer", 0) >= 3, 5, 0.2), \
        counters(c)
    assert c.vrrp("lb2", VIP)[0] == "MASTER" and all_on(lab, "lb2")

    # 2. The agent stops (priority 0 by unicast): keepalived takes over after its Skew_Time.
    t0 = time.monotonic()
    assert c.term_agent("lb2") == 0
    assert nl.wait_for(lambda: all_on(lab, "lb3"), 3, 0.02), f"{holders_of_all(lab)}\n" \
        f"{logs(c, net)}"
    measurements.note(impl="vigil-unicast", event="agent SIGTERM -> keepalived holds all four",
                      vip_s=round(time.monotonic() - t0, 3))

    # 3. The agent comes back and stays Backup: it hears keepalived's unicast adverts.
    t_on = time.monotonic()
    c.start_agent("lb2")
    assert c.wait_vrrp("lb2", VIP, "BACKUP", 5), logs(c, net)
    while time.monotonic() < t_on + master_down_s(AGENT_PRIO) + 1.0:
        assert all_on(lab, "lb3"), f"{holders_of_all(lab)}\n{logs(c, net)}"
        time.sleep(0.1)
    assert c.vrrp("lb2", VIP)[0] == "BACKUP"

    # 4. keepalived stops: the agent takes over; count its gratuitous ARPs on cli.
    sock = lab.call_in("cli", _arp_socket)
    garps = []
    t0 = time.monotonic()
    reader = threading.Thread(target=_gratuitous, args=(sock, _mac("lb2"), t0 + 6.0, garps))
    reader.start()
    try:
        net.stop_keepalived("lb3")
        assert nl.wait_for(lambda: all_on(lab, "lb2"), 3, 0.02), holders_of_all(lab)
        measurements.note(impl="vigil-unicast", event="keepalived SIGTERM -> agent holds all",
                          vip_s=round(time.monotonic() - t0, 3))
    finally:
        reader.join()
        sock.close()
    bursts = _bursts(garps)
    assert bursts, "no gratuitous ARP from lb2"
    start = bursts[0][0][0]
    offsets = [round(b[0][0] - start, 2) for b in bursts]
    print(f"\nGARP bursts at {offsets} s, sizes {[len(b) for b in bursts]}")
    assert len(bursts) == 4, offsets
    for want, got in zip((0, 1, 2, 4), offsets):
        assert abs(got - want) < 0.4, offsets
    for b in bursts:  # 3 per address, each as request and reply
        for a in ALL:
            assert sum(1 for g in b if g[2] == a and g[1] == 1) == 3, (a, b)
            assert sum(1 for g in b if g[2] == a and g[1] == 2) == 3, (a, b)

    # 5. keepalived back (Backup), the agent restarted so that keepalived is Master, then a
    # manual failback to the agent.
    start_ka(net, True)
    assert nl.wait_for(lambda: ka_entered(net, "BACKUP") >= 1, 3), logs(c, net)
    assert c.term_agent("lb2") == 0
    assert nl.wait_for(lambda: all_on(lab, "lb3"), 3, 0.02), holders_of_all(lab)
    c.start_agent("lb2")
    assert c.wait_vrrp("lb2", VIP, "BACKUP", 5), logs(c, net)
    time.sleep(1.0)
    assert all_on(lab, "lb3"), holders_of_all(lab)
    t0 = time.monotonic()
    c.api.put(f"/vips/{VIP}/holder", {"node": "lb2"}, expect=202)
    assert nl.wait_for(lambda: all_on(lab, "lb2"), 3, 0.02), f"{holders_of_all(lab)}\n" \
        f"{logs(c, net)}"
    measurements.note(impl="vigil-unicast", event="holder PUT -> agent holds all",
                      vip_s=round(time.monotonic() - t0, 3))
    assert nl.wait_for(lambda: ka_entered(net, "BACKUP") >= 2, 3), logs(c, net)
    assert nl.wait_for(lambda: c.settled(VIP) and c.holder(VIP)["node"] == "lb2", 8, 0.1), \
        c.holder(VIP)
    c.api.delete(f"/vips/{VIP}/holder", expect=204)
    time.sleep(1.5)  # keepalived's adverts were heard; the agent keeps the VIP at 150 > 100
    assert c.vrrp("lb2", VIP)[0] == "MASTER" and all_on(lab, "lb2")

    # No mismatch on either side.
    ka_logs = "".join(f.read_text(errors="replace") for p in KA_RUNS
                      for f in (p.err_path, p.out_path) if f and f.exists())
    assert not KA_MISMATCH.findall(ka_logs), KA_MISMATCH.findall(ka_logs)
    cnt = counters(c)
    assert not cnt.get("addr_list_differs") and not cnt.get("bad_checksum"), cnt
    assert "addr_list_differs" not in c.agents["lb2"].log(100000)
