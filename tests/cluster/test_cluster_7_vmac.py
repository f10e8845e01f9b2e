"""Issue 10, scenario 5's vmac: the RFC 5798 virtual MAC on a macvlan (keepalived's use_vmac),
with the session's agents on lb1 and lb2, then against Debian's keepalived 2.2.7 on lb3.

VIP `vm` (198.18.0.140/24, vrid 80, VRRPv3, advert 1 s, preempt on, lb1 150 / lb2 100, vmac):
  1. Each agent makes `vrrp.80` (macvlan, private, 00:00:5e:00:01:50) and reports it; the VIP is
     on lb1's vrrp.80, never on an eth0. From cli, an ARP request for the VIP gets one answer,
     from the virtual MAC (the backup's macvlan is silent).
  2. lb1's agent stops: lb2 takes over; cli's requests, started before, go on reaching the VIP
     through the neighbour entry it already had (never repointed at a real MAC); ARP still
     answers with the virtual MAC; lb1's macvlan is gone.
  3. lb2's agent is killed (a crash: its macvlan stays) and started again: it reuses the
     leftover; lb1 comes back and takes over (preempt); the same ARP checks.
  4. The VIP is deleted: both macvlans go.

VIP `vk` (198.18.0.141/24, vrid 81, VRRPv3, lb2 alone at 150, vmac) against keepalived on lb3
(priority 100, use_vmac): the agent is Master; it stops and keepalived takes over; it starts
again and takes the VIP back (preempt). After each step ARP answers with 00:00:5e:00:01:51 and
the VIP sits on the holder's vrrp.81.

VIP `vm6` (2001:db8::140/64, vrid 82, lb1 150 / lb2 100, vmac): vrrp.82 with
00:00:5e:00:02:52 and the parent's link-local; cli resolves the VIP to it before and after a
failover."""

import json
import socket
import struct
import time

import pytest

import netlab as nl
from netlab import master_down_s

VM, VM_ADDR, VM_VRID = "vm", "198.18.0.140", 80
VK, VK_ADDR, VK_VRID = "vk", "198.18.0.141", 81
ETH_P_ARP = 0x0806
HOSTS = ("lb1", "lb2", "lb3")
UNUSED = "198.18.0.99"  # no host: ARP for it goes unanswered


def vmac_of(vrid):
    return f"00:00:5e:00:01:{vrid:02x}"


def vm_spec():
    return {"addresses": [f"{VM_ADDR}/24"], "interface": "eth0", "vrid": VM_VRID, "version": 3,
            "advert_int_ms": 1000, "preempt": True, "vmac": True,
            "members": [{"node": "lb1", "priority": 150}, {"node": "lb2", "priority": 100}]}


def vk_spec():
    return {"addresses": [f"{VK_ADDR}/24"], "interface": "eth0", "vrid": VK_VRID, "version": 3,
            "advert_int_ms": 1000, "preempt": True, "vmac": True,
            "members": [{"node": "lb2", "priority": 150}]}


def ka_conf():
    return ("global_defs {\n    router_id lb3\n    vrrp_version 3\n}\n"
            f"vrrp_instance VI_VK {{\n    state BACKUP\n    interface eth0\n    use_vmac\n"
            f"    virtual_router_id {VK_VRID}\n    priority 100\n    advert_int 1\n"
            f"    virtual_ipaddress {{\n        {VK_ADDR}/24\n    }}\n}}\n")


def where(addr, hosts=HOSTS):
    """[(host, interface)] of every interface among hosts that carries addr."""
    out = []
    for h in hosts:
        r = nl.run("ip", "-n", nl.ns_of(h), "-j", "addr", "show", check=False)
        for link in json.loads(r.stdout or "[]"):
            if any(a.get("local") == addr for a in link.get("addr_info", [])):
                out.append((h, link["ifname"]))
    return out


def link_of(host, name):
    """`ip -d -j link show` of host's interface name, or None when it does not exist."""
    r = nl.run("ip", "-n", nl.ns_of(host), "-d", "-j", "link", "show", "dev", name, check=False)
    return json.loads(r.stdout)[0] if r.returncode == 0 else None


def _arp_who_has(target, wait=0.6):
    """In cli: broadcasts one ARP request for target from eth0, returns the sender MACs of the
    replies to it (as aa:bb:.. strings) seen within wait seconds."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    try:
        s.bind(("eth0", ETH_P_ARP))
        mac = s.getsockname()[4]
        me = socket.inet_aton(nl.addr_of("cli"))
        tip = socket.inet_aton(target)
        frame = (b"\xff" * 6 + mac + struct.pack("!H", ETH_P_ARP) +
                 struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + me + b"\x00" * 6 + tip)
        s.send(frame)
        s.settimeout(0.05)
        got, until = [], time.monotonic() + wait
        while time.monotonic() < until:
            try:
                f = s.recv(128)
            except socket.timeout:
                continue
            if (len(f) >= 42 and struct.unpack("!H", f[20:22])[0] == 2 and f[28:32] == tip
                    and f[32:38] == mac and f[38:42] == me):  # to us: not a gratuitous one
                got.append(":".join(f"{b:02x}" for b in f[22:28]))
        return got
    finally:
        s.close()


def _udp_from(src, dst):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((src, 0))
        s.sendto(b"x", (dst, 9))
    finally:
        s.close()


def arp_answers(lab, target):
    return lab.call_in("cli", _arp_who_has, target)


def conf(host, ifname, key):
    """net.ipv4.conf.IFNAME.KEY in host (read from /proc: sysctl(8) takes the dot in vrrp.80
    for a separator)."""
    return nl.nsrun(host, "cat", f"/proc/sys/net/ipv4/conf/{ifname}/{key}").stdout.strip()


def cli_neigh(addr):
    """cli's neighbour entry for addr: (lladdr, states) or (None, [])."""
    r = nl.run("ip", "-n", nl.ns_of("cli"), "-j", "neigh", "show", addr, check=False)
    e = json.loads(r.stdout or "[]")
    return (e[0].get("lladdr"), e[0].get("state", [])) if e else (None, [])


def reported_vmac(c, node, vip):
    st = c.node_status(node)
    return ((st.get("vrrp") or {}).get(vip) or {}).get("vmac")


def assert_only_vmac_answers(lab, addr, vrid, ctx=""):
    got = arp_answers(lab, addr)
    assert got == [vmac_of(vrid)], f"ARP for {addr} answered by {got}\n{ctx}"


@pytest.fixture
def vm_vip(steady, net):
    """VIP vm; afterwards it is deleted, both agents run, and no vrrp.80 is left."""
    c = steady
    yield c
    c.api.request("DELETE", f"/vips/{VM}")
    net.stop_client(VM_ADDR)
    for n in ("lb1", "lb2"):
        if not c.agent_alive(n):
            c.start_agent(n)
    nl.wait_for(lambda: not any(link_of(h, f"vrrp.{VM_VRID}") for h in ("lb1", "lb2")), 5)
    for h in ("lb1", "lb2"):
        nl.run("ip", "-n", nl.ns_of(h), "link", "del", f"vrrp.{VM_VRID}", check=False)


def test_vmac_answers_arp_with_the_virtual_mac_across_failover(vm_vip, net):
    c, lab = vm_vip, net.lab
    name = f"vrrp.{VM_VRID}"
    c.api.put(f"/vips/{VM}", vm_spec(), expect=(200, 201))

    # 1. Both macvlans, the VIP on lb1's, one ARP answer from the virtual MAC.
    assert nl.wait_for(lambda: where(VM_ADDR) == [("lb1", name)], master_down_s(100) + 4, 0.1), \
        f"{where(VM_ADDR)}\n{c.logs()}"
    assert nl.wait_for(lambda: reported_vmac(c, "lb1", VM) == name and
                       reported_vmac(c, "lb2", VM) == name, 5, 0.1), c.node_status("lb2")
    assert c.vip(VM)["status"]["members"]["lb2"]["vmac"] == name
    for h in ("lb1", "lb2"):
        ln = link_of(h, name)
        assert ln is not None, f"no {name} on {h}"
        info = ln.get("linkinfo", {})
        assert ln["address"] == vmac_of(VM_VRID), ln
        assert info.get("info_kind") == "macvlan", ln
        assert info.get("info_data", {}).get("mode") == "private", ln
        assert "UP" in ln["flags"], ln
        assert conf(h, name, "arp_ignore") == "1" and conf(h, name, "rp_filter") == "0"
        assert conf(h, "eth0", "arp_ignore") == "1" and conf(h, "eth0", "arp_filter") == "1"
    assert_only_vmac_answers(lab, VM_ADDR, VM_VRID, c.logs())

    # 2. lb1 stops: lb2 takes over; the client keeps its neighbour entry and keeps working.
    log = net.client(VM_ADDR)
    assert nl.wait_client_on(log, "lb1", timeout=5), log.recent()
    assert cli_neigh(VM_ADDR)[0] == vmac_of(VM_VRID), cli_neigh(VM_ADDR)
    # lb1 sends from the VIP to an address it has no neighbour for: its ARP request leaves
    # eth0, and cli (which updates the entries it has from any ARP it sees) must not learn the
    # VIP at eth0's MAC from it.
    time.sleep(1.1)  # past cli's locktime, so that an update would take
    lab.call_in("lb1", _udp_from, VM_ADDR, UNUSED)
    time.sleep(0.3)
    assert cli_neigh(VM_ADDR)[0] == vmac_of(VM_VRID), cli_neigh(VM_ADDR)
    t0 = time.monotonic()
    assert c.term_agent("lb1") == 0
    assert nl.wait_for(lambda: where(VM_ADDR) == [("lb2", name)], 3, 0.02), \
        f"{where(VM_ADDR)}\n{c.logs()}"
    assert nl.wait_for(lambda: log.first_success("lb2", t0) is not None, 5, 0.05), log.recent()
    print(f"\nvmac failover lb1 -> lb2: client {log.summary(t0, time.monotonic())}")
    assert cli_neigh(VM_ADDR)[0] == vmac_of(VM_VRID), cli_neigh(VM_ADDR)
    assert_only_vmac_answers(lab, VM_ADDR, VM_VRID, c.logs())
    assert link_of("lb1", name) is None, "lb1's macvlan outlived its agent"
    assert c.vip(VM)["status"]["members"]["lb2"]["vmac"] == name

    # 3. lb2 crashes and comes back: it reuses its macvlan; lb1 returns and takes over.
    ifindex = link_of("lb2", name)["ifindex"]
    c.kill_agent("lb2")
    assert link_of("lb2", name) is not None
    c.start_agent("lb2")
    assert nl.wait_for(lambda: where(VM_ADDR) == [("lb2", name)], master_down_s(100) + 5,
                       0.1), f"{where(VM_ADDR)}\n{c.logs('lb2')}"
    assert link_of("lb2", name)["ifindex"] == ifindex, "the leftover macvlan was not reused"
    t0 = time.monotonic()
    c.start_agent("lb1")
    assert nl.wait_for(lambda: where(VM_ADDR) == [("lb1", name)], master_down_s(150) + 4, 0.05), \
        f"{where(VM_ADDR)}\n{c.logs()}"
    assert nl.wait_for(lambda: log.first_success("lb1", t0) is not None, 5, 0.05), log.recent()
    assert cli_neigh(VM_ADDR)[0] == vmac_of(VM_VRID), cli_neigh(VM_ADDR)
    assert_only_vmac_answers(lab, VM_ADDR, VM_VRID, c.logs())
    net.stop_client(VM_ADDR)

    # 4. The VIP goes: so do the macvlans.
    c.api.delete(f"/vips/{VM}", expect=204)
    assert nl.wait_for(lambda: not any(link_of(h, name) for h in ("lb1", "lb2")), 5, 0.1), \
        c.logs()
    assert where(VM_ADDR) == []


@pytest.fixture
def vk_vip(steady, net):
    c = steady
    yield c
    c.api.request("DELETE", f"/vips/{VK}")
    net.stop_keepalived("lb3")
    if not c.agent_alive("lb2"):
        c.start_agent("lb2")
    for h in ("lb2", "lb3"):
        nl.run("ip", "-n", nl.ns_of(h), "link", "del", f"vrrp.{VK_VRID}", check=False)


@pytest.mark.usefixtures("has_keepalived")
def test_vmac_interop_with_keepalived(vk_vip, net):
    c, lab = vk_vip, net.lab
    name = f"vrrp.{VK_VRID}"

    def logs():
        return f"{c.logs('lb2')}\n=== keepalived lb3 ===\n{net.keepalived_log('lb3')}"

    c.api.put(f"/vips/{VK}", vk_spec(), expect=(200, 201))
    net.keepalived("lb3", ka_conf())

    # The agent (150) is Master; keepalived (100) made its own vrrp.81 and stays Backup.
    assert nl.wait_for(lambda: where(VK_ADDR) == [("lb2", name)], master_down_s(150) + 4, 0.1), \
        f"{where(VK_ADDR)}\n{logs()}"
    assert nl.wait_for(lambda: link_of("lb3", name) is not None, 5, 0.1), logs()
    assert link_of("lb3", name)["address"] == vmac_of(VK_VRID)
    time.sleep(master_down_s(100) + 0.5)  # keepalived would have taken over by now if deaf
    assert where(VK_ADDR) == [("lb2", name)], f"{where(VK_ADDR)}\n{logs()}"
    assert_only_vmac_answers(lab, VK_ADDR, VK_VRID, logs())

    # The agent stops: keepalived takes over on its vrrp.81.
    assert c.term_agent("lb2") == 0
    assert nl.wait_for(lambda: where(VK_ADDR) == [("lb3", name)], 3, 0.02), \
        f"{where(VK_ADDR)}\n{logs()}"
    assert link_of("lb2", name) is None
    assert_only_vmac_answers(lab, VK_ADDR, VK_VRID, logs())

    # The agent comes back and takes the VIP back (preempt, 150 > 100).
    c.start_agent("lb2")
    assert nl.wait_for(lambda: where(VK_ADDR) == [("lb2", name)], master_down_s(150) + 4, 0.05), \
        f"{where(VK_ADDR)}\n{logs()}"
    time.sleep(1.5)  # keepalived heard the higher priority and stays Backup
    assert where(VK_ADDR) == [("lb2", name)], f"{where(VK_ADDR)}\n{logs()}"
    assert_only_vmac_answers(lab, VK_ADDR, VK_VRID, logs())
    assert c.vrrp("lb2", VK)[0] == "MASTER"


V6M, V6M_ADDR, V6M_VRID = "vm6", "2001:db8::140", 82
CLI6 = "2001:db8::50"


def _udp6_to(dst):
    """In cli: one datagram to dst, so that cli resolves it (neighbour solicitation)."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        s.sendto(b"x", (dst, 9))
    finally:
        s.close()


def neigh_after_probe(lab, addr, want):
    """Probes addr from cli until cli's entry for it is want (or 3 s); returns the entry."""
    def ok():
        lab.call_in("cli", _udp6_to, addr)
        time.sleep(0.1)
        return cli_neigh(addr)[0] == want
    nl.wait_for(ok, 3, 0.2)
    return cli_neigh(addr)


def test_ipv6_vmac_failover(steady, net):
    """IPv6: vrrp.82 with 00:00:5e:00:02:52 (RFC 5798 7.3) carrying the parent's link-local (the
    adverts' source) and no address of its own; cli resolves the VIP to the virtual MAC before
    and after lb1 hands over to lb2."""
    c, lab = steady, net.lab
    name, mac = f"vrrp.{V6M_VRID}", f"00:00:5e:00:02:{V6M_VRID:02x}"
    for h in ("lb1", "lb2", "cli"):
        lab.ensure_link_local(h)
    nl.nsrun("cli", "ip", "-6", "addr", "add", f"{CLI6}/64", "dev", "eth0", "nodad", check=False)
    spec = {"addresses": [f"{V6M_ADDR}/64"], "interface": "eth0", "vrid": V6M_VRID,
            "version": 3, "advert_int_ms": 1000, "preempt": False, "vmac": True,
            "members": [{"node": "lb1", "priority": 150}, {"node": "lb2", "priority": 100}]}
    try:
        c.api.put(f"/vips/{V6M}", spec, expect=(200, 201))
        assert nl.wait_for(lambda: where(V6M_ADDR) == [("lb1", name)], master_down_s(100) + 5,
                           0.1), f"{where(V6M_ADDR)}\n{c.logs()}"
        for h in ("lb1", "lb2"):
            ln = link_of(h, name)
            assert ln is not None and ln["address"] == mac, ln
            ll = [a["local"] for a in json.loads(nl.run(
                "ip", "-n", nl.ns_of(h), "-j", "-6", "addr", "show", "dev", name).stdout)[0]
                ["addr_info"] if a["local"].startswith("fe80:")]
            assert ll == [lab.ensure_link_local(h)], (h, ll)
        time.sleep(1.5)  # lb2 hears lb1 through its macvlan: it stays Backup
        assert where(V6M_ADDR) == [("lb1", name)], f"{where(V6M_ADDR)}\n{c.logs()}"
        assert neigh_after_probe(lab, V6M_ADDR, mac)[0] == mac, cli_neigh(V6M_ADDR)

        assert c.term_agent("lb1") == 0
        assert nl.wait_for(lambda: where(V6M_ADDR) == [("lb2", name)], 3, 0.02), \
            f"{where(V6M_ADDR)}\n{c.logs()}"
        assert link_of("lb1", name) is None
        assert neigh_after_probe(lab, V6M_ADDR, mac)[0] == mac, cli_neigh(V6M_ADDR)
    finally:
        # lb1 first, and past its start from the cached config (which still has vm6), so that
        # the macvlan it makes from the cache is not mistaken for one the DELETE left behind
        if not c.agent_alive("lb1"):
            c.start_agent("lb1")
            c.wait_vrrp("lb1", V6M, "BACKUP", 5)
        c.api.request("DELETE", f"/vips/{V6M}")
        nl.wait_for(lambda: not any(link_of(h, name) for h in ("lb1", "lb2")), 5, 0.1)
        left = {h: link_of(h, name) for h in ("lb1", "lb2") if link_of(h, name)}
        for h in left:
            nl.run("ip", "-n", nl.ns_of(h), "link", "del", name, check=False)
        nl.nsrun("cli", "ip", "-6", "addr", "del", f"{CLI6}/64", "dev", "eth0", check=False)
    assert not left, f"{left}\n{c.logs()}"


def test_same_vrid_in_both_families_gets_two_names(steady, net):
    """vrid 83 for an IPv4 and an IPv6 VIP on eth0 (allowed: the vrid is unique per interface
    and family): two virtual MACs, so two macvlans, `vrrp.83` and `vrrp.83.1`, each holding its
    family's VIP and named in each member's status."""
    c, lab = steady, net.lab
    vrid, a4, a6 = 83, "198.18.0.143", "2001:db8::143"
    for h in ("lb1", "lb2"):
        lab.ensure_link_local(h)
    base = {"interface": "eth0", "vrid": vrid, "version": 3, "advert_int_ms": 1000,
            "preempt": False, "vmac": True,
            "members": [{"node": "lb1", "priority": 150}, {"node": "lb2", "priority": 100}]}
    names = {f"vrrp.{vrid}", f"vrrp.{vrid}.1"}
    try:
        c.api.put("/vips/vm83", dict(base, addresses=[f"{a4}/24"]), expect=(200, 201))
        c.api.put("/vips/vm83v6", dict(base, addresses=[f"{a6}/64"]), expect=(200, 201))
        for addr, fam in ((a4, 1), (a6, 2)):
            assert nl.wait_for(lambda addr=addr: len(where(addr)) == 1 and
                               where(addr)[0][0] == "lb1", master_down_s(100) + 5, 0.1), \
                f"{where(addr)}\n{c.logs()}"
            host, ifname = where(addr)[0]
            assert ifname in names, where(addr)
            assert link_of(host, ifname)["address"] == f"00:00:5e:00:0{fam}:{vrid:02x}"
        assert {where(a4)[0][1], where(a6)[0][1]} == names
        for h in ("lb1", "lb2"):
            assert nl.wait_for(lambda h=h: {reported_vmac(c, h, "vm83"),
                                            reported_vmac(c, h, "vm83v6")} == names, 5, 0.1), \
                c.node_status(h)
    finally:
        c.api.request("DELETE", "/vips/vm83")
        c.api.request("DELETE", "/vips/vm83v6")
        gone = nl.wait_for(lambda: not any(link_of(h, n) for h in ("lb1", "lb2")
                                           for n in names), 5, 0.1)
        for h in ("lb1", "lb2"):
            for n in names:
                nl.run("ip", "-n", nl.ns_of(h), "link", "del", n, check=False)
    assert gone, "macvlans left after the VIPs were deleted"
