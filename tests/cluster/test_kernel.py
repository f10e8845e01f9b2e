"""The agent's kernel-facing modules (agent/netlink.c, agent/arp.c, agent/sysctl.c) against the real
kernel: two network namespaces joined by a veth pair, a small C driver (nltool.c, built here with cc
and the sanitizers) doing one operation per run inside namespace A, checked from outside with `ip`,
with a raw AF_PACKET listener in namespace B and with the sysctl values. Needs root."""

import json
import os
import queue
import shutil
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PY = "/usr/bin/python3"

if os.geteuid() != 0:
    pytest.skip("needs root (network namespaces, AF_PACKET, sysctl)", allow_module_level=True)
for _tool in ("ip", "cc", "pkg-config"):
    if shutil.which(_tool) is None:
        pytest.skip(f"needs {_tool} on PATH", allow_module_level=True)

A_ADDR, B_ADDR = "198.18.1.1/24", "198.18.1.2/24"
VIP4 = "198.18.1.100/24"
VIP6 = "2001:db8:1::100/64"


def run(*args, check=True, timeout=20):
    return subprocess.run(list(args), capture_output=True, text=True, check=check,
                          timeout=timeout)


@pytest.fixture(scope="module")
def nltool(tmp_path_factory):
    """Builds tests/cluster/nltool.c with the agent sources it drives (ASan + UBSan)."""
    out = tmp_path_factory.mktemp("nltool") / "nltool"
    pc = run("pkg-config", "--cflags", "--libs", "libnl-3.0", "libnl-route-3.0").stdout.split()
    cmd = ["cc", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Wshadow", "-Wformat=2",
           "-Werror", "-g", "-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
           "-I" + str(ROOT / "agent"), "-I" + str(ROOT / "common"), "-o", str(out),
           str(ROOT / "tests/cluster/nltool.c"), str(ROOT / "agent/netlink.c"),
           str(ROOT / "agent/arp.c"), str(ROOT / "agent/sysctl.c"),
           str(ROOT / "common/addr.c"), str(ROOT / "common/errmsg.c")] + pc
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(out)


class Net:
    """Namespaces A and B, veth va (A) <-> vb (B)."""

    def __init__(self, tool):
        tag = f"{os.getpid()}-{time.monotonic_ns() % 100000}"
        self.a, self.b = f"vgk-{tag}-a", f"vgk-{tag}-b"
        self.tool = tool

    def setup(self):
        run("ip", "netns", "add", self.a)
        run("ip", "netns", "add", self.b)
        run("ip", "-n", self.a, "link", "add", "va", "type", "veth", "peer", "name", "vb",
            "netns", self.b)
        for ns, dev, addr in ((self.a, "va", A_ADDR), (self.b, "vb", B_ADDR)):
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            run("ip", "-n", ns, "link", "set", dev, "up")

    def teardown(self):
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def nl(self, *args, check=True):
        """Runs nltool in namespace A; returns the CompletedProcess."""
        r = run("ip", "netns", "exec", self.a, self.tool, *args, check=False)
        if check:
            assert r.returncode == 0, f"nltool {args}: rc {r.returncode}: {r.stderr}"
        return r

    def addrs(self, ns, dev):
        """Addresses on dev as {"addr/len": flags-dict} per `ip -j addr show`."""
        out = run("ip", "-j", "-n", ns, "addr", "show", "dev", dev).stdout
        res = {}
        for link in json.loads(out):
            for ai in link.get("addr_info", []):
                res[f"{ai['local']}/{ai['prefixlen']}"] = ai
        return res

    def link(self, ns, dev):
        return json.loads(run("ip", "-j", "-n", ns, "link", "show", "dev", dev).stdout)[0]


@pytest.fixture
def net(nltool):
    n = Net(nltool)
    try:
        n.setup()
        yield n
    finally:
        n.teardown()  # always, even when setup or the test failed


def wait_for(pred, timeout=5.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def info(net):
    out = net.nl("info", "va").stdout.split()
    return dict(kv.split("=", 1) for kv in out)


# ---- resolve ----

def test_info_reports_ifindex_mac_state_and_primary_ipv4(net):
    link = net.link(net.a, "va")
    # The VIP in the same subnet is a secondary address: never the primary.
    net.nl("addr-add", "va", VIP4)
    i = info(net)
    assert int(i["ifindex"]) == link["ifindex"]
    assert i["mac"] == link["address"]
    assert i["up"] == "1"
    assert i["ipv4"] == A_ADDR.split("/")[0]
    ll = wait_for(lambda: info(net)["ipv6ll"] != "-" and info(net)["ipv6ll"])
    assert ll and ll.startswith("fe80:"), "link-local appears once DAD is done"
    assert f"{ll}/64" in net.addrs(net.a, "va")


def test_info_on_missing_interface_is_enodev(net):
    r = net.nl("info", "nosuch0", check=False)
    assert r.returncode == 1
    assert "No such device" in r.stderr and f"rc {-19}" in r.stderr


# ---- addresses ----

def test_ipv4_add_and_del_are_idempotent(net):
    net.nl("addr-add", "va", VIP4)
    net.nl("addr-add", "va", VIP4)  # already there: success
    assert VIP4 in net.addrs(net.a, "va")
    assert net.nl("addr-has", "va", VIP4, "198.18.1.101/24").stdout.split("\n")[:2] == [
        f"{VIP4} yes", "198.18.1.101/24 no"]
    net.nl("addr-del", "va", VIP4)
    net.nl("addr-del", "va", VIP4)  # already gone: success
    assert VIP4 not in net.addrs(net.a, "va")
    assert A_ADDR in net.addrs(net.a, "va"), "the node's own address is untouched"
    assert net.nl("addr-has", "va", VIP4).stdout.strip() == f"{VIP4} no"


def test_present_matches_address_and_prefix_length(net):
    net.nl("addr-add", "va", "198.18.1.100/32")
    out = net.nl("addr-has", "va", "198.18.1.100/32", VIP4).stdout.split("\n")
    assert out[:2] == ["198.18.1.100/32 yes", f"{VIP4} no"]


def test_ipv6_vip_is_added_nodad_and_usable_at_once(net):
    net.nl("addr-add", "va", VIP6)
    net.nl("addr-add", "va", VIP6)
    ai = net.addrs(net.a, "va")[VIP6]
    assert ai.get("nodad") is True
    assert not ai.get("tentative"), "no DAD: usable immediately"
    # Usable means bindable right away, without ip_nonlocal_bind.
    code = ("import socket,sys; s=socket.socket(socket.AF_INET6); "
            "s.bind(('2001:db8:1::100', 0)); print('bound')")
    assert run("ip", "netns", "exec", net.a, PY, "-c", code).stdout.strip() == "bound"
    assert net.nl("addr-has", "va", VIP6).stdout.strip() == f"{VIP6} yes"
    net.nl("addr-del", "va", VIP6)
    net.nl("addr-del", "va", VIP6)
    assert VIP6 not in net.addrs(net.a, "va")


def test_add_on_missing_interface_fails(net):
    r = net.nl("addr-add", "nosuch0", VIP4, check=False)
    assert r.returncode == 1 and "No such device" in r.stderr


# ---- announcements ----

LISTENER = r"""
import socket, sys, time
dev, proto, src_mac, secs = sys.argv[1], int(sys.argv[2], 16), sys.argv[3], float(sys.argv[4])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
s.bind((dev, proto))
s.settimeout(0.1)
print("ready", flush=True)
end = time.monotonic() + secs
while time.monotonic() < end:
    try:
        f = s.recv(2048)
    except socket.timeout:
        continue
    if f[6:12].hex(":") == src_mac:
        print(f.hex(), flush=True)
"""


class Listener:
    """A raw AF_PACKET listener in a namespace, printing frames from one MAC as hex lines."""

    def __init__(self, ns, dev, proto, src_mac, secs=3.0):
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", ns, PY, "-c", LISTENER, dev, proto, src_mac, str(secs)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.p.stdout.readline().strip() == "ready", self.p.stderr.read()

    def frames(self):
        out, err = self.p.communicate(timeout=30)
        assert self.p.returncode == 0, err
        return [bytes.fromhex(line) for line in out.split()]


def mac_bytes(s):
    return bytes.fromhex(s.replace(":", ""))


def neigh(ns, dev, addr):
    out = run("ip", "-j", "-n", ns, "neigh", "show", "dev", dev, "to", addr).stdout
    entries = json.loads(out or "[]")
    return entries[0] if entries else {}


def test_garp_request_and_reply_reach_peer_and_update_its_cache(net):
    mac = info(net)["mac"]
    vip = VIP4.split("/")[0]
    vip_b = bytes(int(x) for x in vip.split("."))
    # B has a stale entry for the VIP pointing elsewhere, as after a failover.
    run("ip", "-n", net.b, "neigh", "replace", vip, "lladdr", "02:00:00:00:00:99", "dev", "vb",
        "nud", "stale")
    lis = Listener(net.b, "vb", "0806", mac)
    net.nl("garp", "va", vip)
    frames = lis.frames()
    assert len(frames) == 2, frames
    for f, op, tha in ((frames[0], 1, b"\xff" * 6), (frames[1], 2, mac_bytes(mac))):
        assert f[0:6] == b"\xff" * 6, "broadcast"
        assert f[6:12] == mac_bytes(mac)
        assert struct.unpack("!HHHBBH", f[12:22]) == (0x0806, 1, 0x0800, 6, 4, op)
        assert f[22:28] == mac_bytes(mac), "sender MAC = interface MAC"
        assert f[28:32] == vip_b and f[38:42] == vip_b, "sender IP = target IP = VIP"
        assert f[32:38] == tha
    assert wait_for(lambda: neigh(net.b, "vb", vip).get("lladdr") == mac, timeout=2), \
        neigh(net.b, "vb", vip)


def icmp6_ok(ip6):
    """True when the ICMPv6 checksum of the IPv6 packet ip6 verifies (RFC 4443 2.3)."""
    plen = struct.unpack("!H", ip6[4:6])[0]
    data = ip6[8:40] + struct.pack("!I", plen) + b"\0\0\0\x3a" + ip6[40:40 + plen]
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


def test_unsolicited_na_reaches_peer_and_overrides_its_cache(net):
    import ipaddress
    wait_for(lambda: info(net)["ipv6ll"] != "-")  # so the NA comes from the link-local
    i = info(net)
    mac, ll = i["mac"], i["ipv6ll"]
    vip = VIP6.split("/")[0]
    run("ip", "-n", net.b, "neigh", "replace", vip, "lladdr", "02:00:00:00:00:99", "dev", "vb",
        "nud", "stale")
    lis = Listener(net.b, "vb", "86dd", mac)
    net.nl("na", "va", vip)
    nas = [f for f in lis.frames() if f[20] == 58 and f[54] == 136]
    assert len(nas) == 1, nas
    f = nas[0]
    assert f[0:6] == bytes.fromhex("333300000001")
    assert struct.unpack("!H", f[12:14])[0] == 0x86DD
    ip6 = f[14:]
    assert ip6[0] >> 4 == 6 and struct.unpack("!H", ip6[4:6])[0] == 32
    assert ip6[7] == 255, "hop limit 255 (RFC 4861 7.1.2)"
    assert ipaddress.IPv6Address(ip6[8:24]) == ipaddress.IPv6Address(ll)
    assert ipaddress.IPv6Address(ip6[24:40]) == ipaddress.IPv6Address("ff02::1")
    icmp = ip6[40:]
    assert icmp[0] == 136 and icmp[1] == 0
    assert icmp[4] == 0x20, "override set, solicited and router clear"
    assert ipaddress.IPv6Address(icmp[8:24]) == ipaddress.IPv6Address(vip)
    assert icmp[24:26] == b"\x02\x01" and icmp[26:32] == mac_bytes(mac)
    assert icmp6_ok(ip6)
    # The peer's kernel checks hop limit and checksum; it took the override.
    assert wait_for(lambda: neigh(net.b, "vb", vip).get("lladdr") == mac, timeout=2), \
        neigh(net.b, "vb", vip)


def test_garp_on_ipv6_address_is_refused(net):
    r = net.nl("garp", "va", VIP6.split("/")[0], check=False)
    assert r.returncode == 1


def test_announcing_on_a_down_interface_is_an_error(net):
    run("ip", "-n", net.a, "link", "set", "va", "down")
    for op, addr in (("garp", VIP4), ("na", VIP6)):
        r = net.nl(op, "va", addr.split("/")[0], check=False)
        assert r.returncode == 1 and "Network is down" in r.stderr, r.stderr


# ---- link events ----

class Watch:
    """nltool watch in namespace A, its lines read by a thread into a queue."""

    def __init__(self, net, secs, rcvbuf=None, pause=None):
        extra = [str(rcvbuf), str(pause)] if rcvbuf else []
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", net.a, net.tool, "watch", "va", str(secs)] + extra,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.q = queue.Queue()
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()
        first = self.q.get(timeout=10)
        assert first.startswith("ready "), first + self.p.stderr.read()
        self.ifindex = dict(kv.split("=") for kv in first.split()[1:])["ifindex"]

    def _read(self):
        for line in self.p.stdout:
            self.q.put(line.strip())

    def expect(self, pred, timeout=5.0):
        """Waits for a line satisfying pred; returns it."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching event; saw {self.lines}")
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                continue
            self.lines.append(line)
            if pred(line):
                return line

    def link(self, up, timeout=5.0):
        want = f"link ifindex={self.ifindex} name=va up={int(up)} gone=0"
        return self.expect(lambda line: line == want, timeout)

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=10)


def test_watch_reports_admin_down_and_carrier_loss(net):
    w = Watch(net, 20)
    try:
        run("ip", "-n", net.a, "link", "set", "va", "down")
        w.link(False)
        run("ip", "-n", net.a, "link", "set", "va", "up")
        w.link(True)
        # The peer going down takes our carrier (IFF_LOWER_UP / IFF_RUNNING) away.
        run("ip", "-n", net.b, "link", "set", "vb", "down")
        w.link(False)
        run("ip", "-n", net.b, "link", "set", "vb", "up")
        w.link(True)
        # Address changes are reported too.
        run("ip", "-n", net.a, "addr", "add", VIP4, "dev", "va")
        w.expect(lambda line: line == f"addr-new ifindex={w.ifindex} {VIP4}")
        run("ip", "-n", net.a, "addr", "del", VIP4, "dev", "va")
        w.expect(lambda line: line == f"addr-del ifindex={w.ifindex} {VIP4}")
        # A flag change that leaves the link up is not an event.
        run("ip", "-n", net.a, "link", "set", "va", "promisc", "on")
        run("ip", "-n", net.a, "link", "add", "xa", "type", "veth", "peer", "name", "xb")
        run("ip", "-n", net.a, "link", "del", "xa")
        w.expect(lambda line: "name=xa" in line and "gone=1" in line)
        assert not [x for x in w.lines if "name=va" in x and x.startswith("link")][4:], w.lines
    finally:
        w.stop()


def test_watch_resyncs_after_overrun_and_keeps_working(net):
    # A tiny receive buffer and a pause before reading: the kernel has to drop notifications.
    w = Watch(net, 20, rcvbuf=1, pause=2)
    try:
        batch = "".join(f"addr add 198.18.2.{i}/24 dev va\n" for i in range(1, 250))
        subprocess.run(["ip", "-n", net.a, "-batch", "-"], input=batch, text=True, check=True)
        run("ip", "-n", net.b, "link", "set", "vb", "down")
        w.expect(lambda line: line == "resync", timeout=8)
        # The link went down while events were being lost: the resync still tells us.
        assert f"link ifindex={w.ifindex} name=va up=0 gone=0" in w.lines or w.link(False)
        run("ip", "-n", net.b, "link", "set", "vb", "up")
        w.link(True)
    finally:
        w.stop()


# ---- sysctl ----

def host_nonlocal():
    return int(Path("/proc/sys/net/ipv4/ip_nonlocal_bind").read_text())


def ns_sysctl(ns, key):
    return int(run("ip", "netns", "exec", ns, "sysctl", "-n", key).stdout)


def test_nonlocal_bind_is_set_per_namespace(net):
    host = host_nonlocal()
    assert net.nl("nonlocal-bind", "get").stdout.strip() == "0", "a new namespace starts at 0"
    want = 1 - host  # the opposite of the host's, so that a leak would show
    net.nl("nonlocal-bind", "set", str(want))
    net.nl("nonlocal-bind", "set", str(want))  # idempotent
    assert ns_sysctl(net.a, "net.ipv4.ip_nonlocal_bind") == want
    assert net.nl("nonlocal-bind", "get").stdout.strip() == str(want)
    assert host_nonlocal() == host, "the host's value is untouched"
    assert ns_sysctl(net.b, "net.ipv4.ip_nonlocal_bind") == 0, "the other namespace too"
    if want == 1:
        # What it is for: binding the VIP before holding it.
        code = ("import socket; s=socket.socket(); s.bind(('198.18.1.100', 8080)); "
                "print('bound')")
        assert run("ip", "netns", "exec", net.a, PY, "-c", code).stdout.strip() == "bound"
    net.nl("nonlocal-bind", "set", "0")
    assert ns_sysctl(net.a, "net.ipv4.ip_nonlocal_bind") == 0


def test_ipv6_nonlocal_bind_and_disable_ipv6(net):
    net.nl("nonlocal-bind", "set", "1", "6")
    assert ns_sysctl(net.a, "net.ipv6.ip_nonlocal_bind") == 1
    assert net.nl("nonlocal-bind", "get", "6").stdout.strip() == "1"
    assert net.nl("ipv6-disabled", "va").stdout.strip() == "0"
    run("ip", "netns", "exec", net.a, "sysctl", "-qw", "net.ipv6.conf.va.disable_ipv6=1")
    assert net.nl("ipv6-disabled", "va").stdout.strip() == "1"
    r = net.nl("addr-add", "va", VIP6, check=False)
    assert r.returncode == 1, "no IPv6 VIP on an interface with IPv6 disabled"
    assert net.nl("ipv6-disabled", "nosuch0", check=False).returncode == 1


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
