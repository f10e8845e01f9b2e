"""A small network lab for the cluster tests, and the tools the tests measure with.

- Two Linux bridges in the root namespace: vgbr0, the data network (VRRP, VIPs, client traffic;
  198.18.0.0/24, eth0 in every namespace, port vgp-HOST on the bridge) and vgbr1, the management
  network (agents to vigild; 198.19.0.0/24, eth1, port vgm-HOST), so that a node whose eth0 is
  down can still report FAULT. Namespaces vg-srv, vg-lb1..3, vg-cli. Nothing is routed anywhere
  else.
- Processes started inside the namespaces in their own sessions (kill by PID or process group),
  output in files; code run inside a namespace from this process (NsExecutor: a thread that
  joined it with setns).
- The failures we simulate: power-off (ports down on the bridge side), interface down, reboot
  (addresses flushed), silent partition (port detached from the bridge).
- One `ip monitor address all-nsid` for every namespace, in the kernel's order of the changes.
- VRRP packets: a builder (v2 and v3, with checksums) and a raw-socket sender for injection.
- Helper programs run inside namespaces as `python3 netlab.py serve|client|sniff ...`: the
  per-node HTTP server, the client request loop and a VRRP sniffer, with readers for their logs.

Facts this relies on: /work/shared/LAB-NOTES.md. Time stamps everywhere are time.monotonic()
(CLOCK_MONOTONIC is the same in every network namespace), so the test process compares them
directly."""

import concurrent.futures
import ctypes
import errno
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

BRIDGE = "vgbr0"  # data network: VRRP, VIPs, client traffic (eth0 in each namespace)
MGMT_BRIDGE = "vgbr1"  # management network: agents <-> vigild (eth1), so that a node whose eth0
# is down can still report FAULT
PREFIX = 24
HOSTS = {  # host -> (namespace, data address, management address or None)
    "srv": ("vg-srv", "198.18.0.1", "198.19.0.1"),
    "lb1": ("vg-lb1", "198.18.0.11", "198.19.0.11"),
    "lb2": ("vg-lb2", "198.18.0.12", "198.19.0.12"),
    "lb3": ("vg-lb3", "198.18.0.13", "198.19.0.13"),
    "cli": ("vg-cli", "198.18.0.50", None),
}
LB_NODES = ("lb1", "lb2", "lb3")
VRRP_GROUP = "224.0.0.18"
IPPROTO_VRRP = 112
CLONE_NEWNET = 0x40000000
PY = "/usr/bin/python3"
HERE = Path(__file__).resolve()


def ns_of(host):
    return HOSTS[host][0]


def addr_of(host):
    return HOSTS[host][1]


def mgmt_addr_of(host):
    return HOSTS[host][2]


def port_of(host):
    """The data-bridge end of host's veth pair (eth0 inside), in the root namespace."""
    return f"vgp-{host}"


def mgmt_port_of(host):
    """The management-bridge end of host's veth pair (eth1 inside)."""
    return f"vgm-{host}"


def run(*args, check=True, timeout=30, input=None):
    """Runs a command, returns the CompletedProcess (text). check: raise with stderr on failure."""
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                       input=input)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))}: rc {r.returncode}: {r.stderr.strip()}")
    return r


def nsrun(host, *args, check=True, timeout=30):
    """Runs a command inside host's namespace."""
    return run("ip", "netns", "exec", ns_of(host), *args, check=check, timeout=timeout)


def wait_for(pred, timeout, interval=0.02):
    """Polls pred() until it returns a true value (returned) or timeout seconds pass (returns the
    last false value). Exceptions from pred count as false."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = pred()
        except Exception:  # noqa: BLE001 - a failing probe is a "not yet"
            last = None
        if last:
            return last
        if time.monotonic() >= deadline:
            return last
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# Running code inside a namespace from this process: a one-thread executor whose thread joined the
# namespace with setns(2) (network namespaces are per thread), so sockets it opens live there.

_libc = ctypes.CDLL(None, use_errno=True)


def _enter_netns(ns):
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns {ns}: {os.strerror(e)}")
    finally:
        os.close(fd)


class NsExecutor:
    """Runs callables on a thread inside namespace ns: call(fn, *args) returns fn's result."""

    def __init__(self, ns):
        self.ns = ns
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"ns-{ns}", initializer=_enter_netns,
            initargs=(ns,))

    def call(self, fn, *args, **kwargs):
        return self.pool.submit(fn, *args, **kwargs).result()

    def close(self):
        self.pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------------------------------------
# Processes inside namespaces.

class Proc:
    """A process started in a namespace in its own session (pgid == pid), output to files."""

    def __init__(self, name, host, argv, logdir, env=None, cwd=None):
        self.name, self.host, self.argv = name, host, [str(a) for a in argv]
        self.logdir = Path(logdir)
        self.env, self.cwd = env, cwd
        self.popen = None
        self.starts = 0
        self.out_path = self.err_path = None

    def start(self):
        self.starts += 1
        self.out_path = self.logdir / f"{self.name}.{self.starts}.out"
        self.err_path = self.logdir / f"{self.name}.{self.starts}.err"
        env = dict(os.environ)
        env.update(self.env or {})
        cmd = ["ip", "netns", "exec", ns_of(self.host)] + self.argv
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.popen = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                          env=env, cwd=self.cwd, start_new_session=True)
        return self

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def send(self, sig, group=True):
        """Sends sig to the process group (default) or the process alone."""
        if not self.alive():
            return
        try:
            if group:
                os.killpg(self.popen.pid, sig)
            else:
                os.kill(self.popen.pid, sig)
        except ProcessLookupError:
            pass

    def wait(self, timeout):
        """Waits for exit; returns the exit code or None if still running."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """sig to the group, then SIGKILL to the group after timeout. Returns the exit code."""
        if self.popen is None:
            return None
        if self.alive():
            self.send(sig)
            if self.wait(timeout) is None:
                self.send(signal.SIGKILL)
                self.wait(5)
        else:
            # the leader is gone, but children of its group may remain (keepalived's VRRP child)
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return self.popen.returncode

    def kill(self):
        """SIGKILL to the whole group: the power-off of a daemon (keepalived's child included)."""
        if self.popen is None:
            return None
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.wait(5)
        return self.popen.returncode

    def log(self, tail=6000):
        """The tail of stderr and stdout of the current run."""
        parts = []
        for p in (self.err_path, self.out_path):
            if p and p.exists():
                text = p.read_text(errors="replace")
                if text.strip():
                    parts.append(f"--- {p.name} ---\n{text[-tail:]}")
        return "\n".join(parts) or f"(no output from {self.name})"


# ---------------------------------------------------------------------------------------------
# The lab itself.

class AddrMonitor:
    """One `ip -o monitor address all-nsid` in the root namespace, read by a thread: every
    address added or deleted in any namespace that has an id here. All namespaces' events arrive
    through one netlink socket, so their order (seq) is the order in which the kernel made the
    changes; the time stamps (time.monotonic() when read) are only good to a millisecond or so."""

    def __init__(self, nsids):
        self.nsids = dict(nsids)  # nsid -> host
        self.events = []  # (seq, time, host, "add"|"del", dev, address without prefix)
        self.lock = threading.Lock()
        self.popen = subprocess.Popen(["ip", "-o", "monitor", "address", "all-nsid"],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      stdin=subprocess.DEVNULL, start_new_session=True, bufsize=0)
        self.thread = threading.Thread(target=self._read, daemon=True, name="addr-monitor")
        self.thread.start()

    def _read(self):
        for raw in iter(self.popen.stdout.readline, b""):
            t = time.monotonic()
            line = raw.decode(errors="replace")
            if not line.startswith("[nsid "):
                continue  # the root namespace's own addresses
            nsid, _, line = line[len("[nsid "):].partition("]")
            host = self.nsids.get(int(nsid)) if nsid.isdigit() else None
            kind = "del" if line.startswith("Deleted ") else "add"
            parts = line.replace("Deleted ", "", 1).split()
            # "2: eth0    inet 198.18.0.100/24 scope global secondary eth0\ ..."
            if host is None or len(parts) < 4 or parts[2] not in ("inet", "inet6"):
                continue
            with self.lock:
                self.events.append((len(self.events), t, host, kind, parts[1],
                                    parts[3].split("/")[0]))

    def find_event(self, host, kind, addr, after=0.0):
        """The first (seq, time, host, kind, dev, addr) event for host at or after `after`."""
        with self.lock:
            for ev in self.events:
                if ev[1] >= after and ev[2] == host and ev[3] == kind and ev[5] == addr:
                    return ev
        return None

    def close(self):
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.popen.wait(5)


class HostAddrEvents:
    """AddrMonitor's events of one host."""

    def __init__(self, monitor, host):
        self.monitor, self.host = monitor, host

    def find(self, kind, addr, after=0.0):
        """Time of the first `kind` ("add"/"del") event for addr at or after `after`, or None."""
        ev = self.monitor.find_event(self.host, kind, addr, after)
        return ev[1] if ev else None

    def find_event(self, kind, addr, after=0.0):
        return self.monitor.find_event(self.host, kind, addr, after)


class Lab:
    """The two bridges and the namespaces. setup() removes leftovers of an earlier run first;
    teardown() kills every process started through it and removes everything.

    Every host has eth0 on the data bridge; hosts with a management address also have eth1 on
    the management bridge (the agents reach vigild over it)."""

    def __init__(self, workdir, hosts=tuple(HOSTS)):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.hosts = tuple(hosts)
        self.procs = []
        self.monitor = None
        self.monitors = {}  # host -> HostAddrEvents
        self._exec = {}

    # -- construction ------------------------------------------------------------------------
    @staticmethod
    def cleanup_leftovers():
        """Removes the namespaces, ports and bridges a crashed run may have left, and kills the
        processes still running inside those namespaces."""
        for host in HOSTS:
            ns = ns_of(host)
            r = run("ip", "netns", "pids", ns, check=False)
            for pid in r.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            run("ip", "netns", "del", ns, check=False)
            run("ip", "link", "del", port_of(host), check=False)
            run("ip", "link", "del", mgmt_port_of(host), check=False)
        run("ip", "link", "del", BRIDGE, check=False)
        run("ip", "link", "del", MGMT_BRIDGE, check=False)

    def _veth(self, host, port, bridge, dev, addr):
        ns = ns_of(host)
        run("ip", "link", "add", port, "type", "veth", "peer", "name", dev, "netns", ns)
        run("ip", "link", "set", port, "master", bridge)
        run("ip", "link", "set", port, "up")
        run("ip", "-n", ns, "addr", "add", f"{addr}/{PREFIX}", "dev", dev)
        run("ip", "-n", ns, "link", "set", dev, "up")

    def setup(self):
        self.cleanup_leftovers()
        for br in (BRIDGE, MGMT_BRIDGE):
            run("ip", "link", "add", br, "type", "bridge", "stp_state", "0", "forward_delay", "0",
                "mcast_snooping", "0")
            run("ip", "link", "set", br, "up")
        for host in self.hosts:
            ns, addr, mgmt = HOSTS[host]
            run("ip", "netns", "add", ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
            self._veth(host, port_of(host), BRIDGE, "eth0", addr)
            if mgmt:
                self._veth(host, mgmt_port_of(host), MGMT_BRIDGE, "eth1", mgmt)
        # Links need a moment to come up (LAB-NOTES): wait for carrier everywhere.
        ok = wait_for(lambda: all(self.carrier(h) and (not mgmt_addr_of(h) or
                                                        self.carrier(h, "eth1"))
                                  for h in self.hosts), 5, 0.05)
        if not ok:
            raise RuntimeError("veth links did not come up within 5 s")
        nsids = {}
        for host in self.hosts:
            run("ip", "netns", "set", ns_of(host), "auto", check=False)
        for entry in json.loads(run("ip", "-j", "netns", "list").stdout or "[]"):
            for host in self.hosts:
                if entry.get("name") == ns_of(host) and "id" in entry:
                    nsids[entry["id"]] = host
        missing = [h for h in self.hosts if h not in nsids.values()]
        if missing:
            raise RuntimeError(f"no namespace id for {missing}: cannot monitor their addresses")
        self.monitor = AddrMonitor(nsids)
        self.monitors = {h: HostAddrEvents(self.monitor, h) for h in self.hosts}
        time.sleep(0.3)
        return self

    def teardown(self):
        for p in reversed(self.procs):
            try:
                p.stop(signal.SIGKILL, timeout=2)
            except Exception:  # noqa: BLE001 - tear everything down whatever happens
                pass
        if self.monitor is not None:
            try:
                self.monitor.close()
            except Exception:  # noqa: BLE001
                pass
        for ex in self._exec.values():
            ex.close()
        self._exec.clear()
        self.cleanup_leftovers()

    # -- processes ---------------------------------------------------------------------------
    def proc(self, name, host, argv, env=None, cwd=None):
        """A Proc (not started) whose output goes under the lab's workdir; torn down with it."""
        p = Proc(name, host, argv, self.workdir, env=env, cwd=cwd)
        self.procs.append(p)
        return p

    def executor(self, host):
        if host not in self._exec:
            self._exec[host] = NsExecutor(ns_of(host))
        return self._exec[host]

    def call_in(self, host, fn, *args, **kwargs):
        """Runs fn(*args) on a thread inside host's namespace."""
        return self.executor(host).call(fn, *args, **kwargs)

    # -- observation -------------------------------------------------------------------------
    def addrs(self, host, dev="eth0"):
        """IPv4 addresses (without prefix) on host's dev, from `ip -j addr`."""
        r = run("ip", "-n", ns_of(host), "-j", "addr", "show", "dev", dev)
        out = []
        for link in json.loads(r.stdout or "[]"):
            for a in link.get("addr_info", []):
                if a.get("family") == "inet":
                    out.append(a["local"])
        return out

    def holders(self, vip, hosts=LB_NODES):
        """The hosts among hosts whose eth0 carries vip."""
        return [h for h in hosts if h in self.hosts and vip in self.addrs(h)]

    def carrier(self, host, dev="eth0"):
        r = run("ip", "-n", ns_of(host), "-j", "link", "show", "dev", dev, check=False)
        if r.returncode != 0:
            return False
        info = json.loads(r.stdout)[0]
        return "LOWER_UP" in info.get("flags", []) and "UP" in info.get("flags", [])

    def sysctl(self, host, key):
        return nsrun(host, "sysctl", "-n", key).stdout.strip()

    # -- failures ----------------------------------------------------------------------------
    def power_off_ports(self, host):
        """Power-off's network half: both bridge-side ports go down, so nothing leaves or
        reaches host (its eth0 and eth1 lose carrier)."""
        run("ip", "link", "set", port_of(host), "down")
        if mgmt_addr_of(host):
            run("ip", "link", "set", mgmt_port_of(host), "down")

    def power_on_ports(self, host):
        """Addresses as after a reboot (everything flushed, the primary addresses configured),
        then the ports up; waits for carrier."""
        ns, addr, mgmt = HOSTS[host]
        run("ip", "-n", ns, "addr", "flush", "dev", "eth0")
        run("ip", "-n", ns, "addr", "add", f"{addr}/{PREFIX}", "dev", "eth0")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        run("ip", "link", "set", port_of(host), "up")
        if mgmt:
            run("ip", "-n", ns, "addr", "flush", "dev", "eth1")
            run("ip", "-n", ns, "addr", "add", f"{mgmt}/{PREFIX}", "dev", "eth1")
            run("ip", "-n", ns, "link", "set", "eth1", "up")
            run("ip", "link", "set", mgmt_port_of(host), "up")
        if not wait_for(lambda: self.carrier(host) and
                        (not mgmt or self.carrier(host, "eth1")), 5, 0.02):
            raise RuntimeError(f"{host}: no carrier 5 s after power-on")

    def port_down(self, host):
        """The data port alone goes down on the bridge side (host's eth0 loses carrier)."""
        run("ip", "link", "set", port_of(host), "down")

    def port_up(self, host):
        run("ip", "link", "set", port_of(host), "up")

    def if_down(self, host):
        """host's own eth0 goes down (the node sees it: FAULT)."""
        run("ip", "-n", ns_of(host), "link", "set", "eth0", "down")

    def if_up(self, host):
        run("ip", "-n", ns_of(host), "link", "set", "eth0", "up")

    def partition(self, host):
        """Silent partition: host keeps carrier on eth0 but is detached from the data bridge."""
        run("ip", "link", "set", port_of(host), "nomaster")

    def heal(self, host):
        run("ip", "link", "set", port_of(host), "master", BRIDGE)

    def ports_ok(self, host):
        """Both ports up and attached, eth0 up inside."""
        for port, br in ((port_of(host), BRIDGE),
                         (mgmt_port_of(host), MGMT_BRIDGE) if mgmt_addr_of(host) else (None, None)):
            if port is None:
                continue
            info = json.loads(run("ip", "-j", "link", "show", "dev", port).stdout)[0]
            if "UP" not in info.get("flags", []) or info.get("master") != br:
                return False
        return self.carrier(host)

    def ensure_link_local(self, host, dev="eth0"):
        """Gives host's dev its EUI-64 link-local IPv6 address (RFC 4291 2.5.6, appendix A)
        when it has none: `ip addr flush` (power_on_ports) removes it, and the kernel makes it
        again only when the link goes up, not on a carrier change. Added without DAD. Returns
        the address."""
        ns = ns_of(host)
        info = json.loads(run("ip", "-n", ns, "-j", "addr", "show", "dev", dev).stdout)[0]
        for a in info.get("addr_info", []):
            if a.get("family") == "inet6" and a.get("scope") == "link":
                return a["local"]
        mac = bytes.fromhex(info["address"].replace(":", ""))
        iid = bytes([mac[0] ^ 0x02]) + mac[1:3] + b"\xff\xfe" + mac[3:6]
        ll = socket.inet_ntop(socket.AF_INET6, bytes.fromhex("fe80000000000000") + iid)
        run("ip", "-n", ns, "-6", "addr", "add", f"{ll}/64", "dev", dev, "scope", "link", "nodad")
        return ll

    def del_addr(self, host, addr):
        run("ip", "-n", ns_of(host), "addr", "del", f"{addr}/{PREFIX}", "dev", "eth0",
            check=False)


# ---------------------------------------------------------------------------------------------
# VRRP packets (RFC 3768 for v2, RFC 5798 for v3), IPv4 only.

def inet_checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def vrrp_packet(version, vrid, priority, addrs, advert_int_ms=1000, src=None, dst=VRRP_GROUP,
                auth_pass=None, bad_checksum=False):
    """The VRRP message (no IP header). v2: Adver Int in seconds, 8 bytes of auth data (type 1
    PASS when auth_pass is given), checksum over the message (RFC 3768 5.3.8). v3: Max Adver Int
    in centiseconds, checksum with the IPv4 pseudo-header (RFC 5798 5.2.8), which needs src."""
    ips = b"".join(socket.inet_aton(a) for a in addrs)
    if version == 2:
        auth_type = 1 if auth_pass is not None else 0
        hdr = struct.pack("!BBBBBBH", 0x21, vrid, priority, len(addrs), auth_type,
                          advert_int_ms // 1000, 0)
        auth = (auth_pass or "").encode()[:8].ljust(8, b"\0")
        msg = hdr + ips + auth
        csum = inet_checksum(msg)
    else:
        hdr = struct.pack("!BBBBHH", 0x31, vrid, priority, len(addrs),
                          (advert_int_ms // 10) & 0x0FFF, 0)
        msg = hdr + ips
        pseudo = (socket.inet_aton(src) + socket.inet_aton(dst) +
                  struct.pack("!BBH", 0, IPPROTO_VRRP, len(msg)))
        csum = inet_checksum(pseudo + msg)
    if bad_checksum:
        csum ^= 0x5A5A
    return msg[:6] + struct.pack("!H", csum) + msg[8:]


def ip_header(src, dst, payload_len, ttl=255, proto=IPPROTO_VRRP):
    """An IPv4 header for IP_HDRINCL (the kernel fills in id and header checksum)."""
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + payload_len, 0, 0, ttl, proto, 0,
                       socket.inet_aton(src), socket.inet_aton(dst))


def send_raw_vrrp(src, payload, ttl=255, dst=VRRP_GROUP, dev="eth0", count=1, gap=0.01):
    """Sends payload as an IPv4 protocol-112 packet with exactly the given TTL (IP_HDRINCL),
    out of dev. Call it inside the namespace (Lab.call_in)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
        pkt = ip_header(src, dst, len(payload), ttl=ttl) + payload
        for i in range(count):
            s.sendto(pkt, (dst, 0))
            if i + 1 < count:
                time.sleep(gap)
    finally:
        s.close()


def parse_vrrp(payload):
    """Decodes the fields tests look at: version, vrid, priority, count, interval (ms), and for
    v2 auth type and data."""
    if len(payload) < 8:
        return {"version": payload[0] >> 4 if payload else None, "short": True}
    vt, vrid, prio, count = payload[0], payload[1], payload[2], payload[3]
    d = {"version": vt >> 4, "type": vt & 0xF, "vrid": vrid, "priority": prio, "count": count}
    if d["version"] == 2:
        d["auth_type"] = payload[4]
        d["advert_int_ms"] = payload[5] * 1000
        d["addrs"] = [socket.inet_ntoa(payload[8 + 4 * i:12 + 4 * i]) for i in range(count)]
        d["auth"] = payload[8 + 4 * count:16 + 4 * count]
    else:
        d["advert_int_ms"] = (struct.unpack("!H", payload[4:6])[0] & 0x0FFF) * 10
        d["addrs"] = [socket.inet_ntoa(payload[8 + 4 * i:12 + 4 * i]) for i in range(count)]
    d["checksum"] = struct.unpack("!H", payload[6:8])[0]
    return d


# ---------------------------------------------------------------------------------------------
# Logs written by the helper programs, read by the tests.

class _LineLog:
    """A log file another process appends lines to, parsed incrementally: complete lines only,
    each parsed once (parse(line) returns a record or None)."""

    def __init__(self, path):
        self.path = Path(path)
        self._offset = 0
        self._records = []

    def _update(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return self._records
        end = data.rfind(b"\n") + 1
        for line in data[:end].decode(errors="replace").splitlines():
            try:
                rec = self.parse(line)
            except (ValueError, IndexError):
                rec = None
            if rec is not None:
                self._records.append(rec)
        self._offset += end
        return self._records


class ClientLog(_LineLog):
    """The request loop's log: one line per finished request, `start end ok who` (who = node
    name, or the error). Times are time.monotonic()."""

    @staticmethod
    def parse(line):
        parts = line.split(" ", 3)
        if len(parts) != 4:
            return None
        return (float(parts[0]), float(parts[1]), parts[2] == "1", parts[3])

    def records(self):
        return list(self._update())

    def window(self, t0, t1):
        """Requests started in [t0, t1)."""
        return [r for r in self.records() if t0 <= r[0] < t1]

    def failures(self, t0, t1):
        return [r for r in self.window(t0, t1) if not r[2]]

    def first_success(self, node, after):
        """Completion time of the first request started at or after `after` answered by node,
        or None."""
        for r in self.records():
            if r[0] >= after and r[2] and r[3] == node:
                return r[1]
        return None

    def recent(self, seconds=2.0):
        """Summary of the requests of the last `seconds`, for failure messages."""
        now = time.monotonic()
        return self.summary(now - seconds, now)

    def last_time(self):
        recs = self.records()
        return recs[-1][1] if recs else None

    def summary(self, t0, t1):
        w = self.window(t0, t1)
        by = {}
        for r in w:
            key = r[3] if r[2] else "FAIL:" + r[3]
            by[key] = by.get(key, 0) + 1
        return {"requests": len(w), "failed": sum(1 for r in w if not r[2]), "by": by}


class SniffLog(_LineLog):
    """The sniffer's log: `time src ttl hexpayload` per VRRP packet seen."""

    @staticmethod
    def parse(line):
        parts = line.split()
        if len(parts) != 4:
            return None
        d = parse_vrrp(bytes.fromhex(parts[3]))
        d.update(time=float(parts[0]), src=parts[1], ttl=int(parts[2]), raw=parts[3])
        return d

    def packets(self, after=0.0):
        return [d for d in self._update() if d["time"] >= after]


# ---------------------------------------------------------------------------------------------
# The cluster the tests build on the lab, and what they measure with.

CLIENT_INTERVAL = 0.02  # one request started every 20 ms
CLIENT_TIMEOUT = 0.5  # a request not answered within 0.5 s counts as failed

WEB = "198.18.0.100"  # vigil's main VIP (lb1 200, lb2 100), also the keepalived baseline's
KA2 = "198.18.0.101"  # VRRPv2 + PASS interop VIP (agent lb2 alone; keepalived on lb3)
KA3 = "198.18.0.102"  # VRRPv3 interop VIP
NODES = ("lb1", "lb2")
VIPS = {
    "web": {"addresses": [f"{WEB}/24"], "interface": "eth0", "vrid": 50, "version": 3,
            "advert_int_ms": 1000, "preempt": False,
            "members": [{"node": "lb1", "priority": 200}, {"node": "lb2", "priority": 100}]},
    "ka2": {"addresses": [f"{KA2}/24"], "interface": "eth0", "vrid": 51, "version": 2,
            "advert_int_ms": 1000, "auth_pass": "7388",
            "members": [{"node": "lb2", "priority": 100}]},
    "ka3": {"addresses": [f"{KA3}/24"], "interface": "eth0", "vrid": 52, "version": 3,
            "advert_int_ms": 1000, "members": [{"node": "lb2", "priority": 100}]},
}


def master_down_s(priority, advert_s=1.0, version=3):
    """Master_Down_Interval of a backup of this priority (RFC 5798 6.1, RFC 3768 6.1)."""
    skew = (256 - priority) / 256 * (advert_s if version == 3 else 1.0)
    return 3 * advert_s + skew


def keepalived_conf(name, vip, vrid, priority, version, state="BACKUP", nopreempt=True,
                    auth_pass=None):
    """A keepalived.conf with one vrrp_instance on eth0, advert_int 1."""
    auth = ""
    if auth_pass is not None:
        auth = (f"    authentication {{\n        auth_type PASS\n        auth_pass {auth_pass}\n"
                f"    }}\n")
    return (f"global_defs {{\n    router_id {name}\n    vrrp_version {version}\n}}\n"
            f"vrrp_instance VI_1 {{\n    state {state}\n    interface eth0\n"
            f"    virtual_router_id {vrid}\n    priority {priority}\n    advert_int 1\n"
            + ("    nopreempt\n" if nopreempt else "") + auth +
            f"    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n")


def wait_client_on(log, node, seconds=0.5, timeout=5):
    """Waits until every request of the last `seconds` (finished ones) was answered by node, so
    that a measurement starts from a clean state. Returns True or False."""
    def ok():
        now = time.monotonic()
        w = [r for r in log.window(now - seconds - CLIENT_TIMEOUT, now) if r[1] >= now - seconds]
        return len(w) >= seconds / CLIENT_INTERVAL / 2 and all(r[2] and r[3] == node for r in w)
    return bool(wait_for(ok, timeout, 0.05))


def takeover(lab, log, vip, new, t0, timeout, settle=1.0, sniff=None, old_src=None, vrid=None):
    """After an action at t0 that should make `new` the holder of vip: waits up to timeout
    seconds for the client loop to get an answer from new. Returns a dict: client_s (first answer
    from new, completion time, minus t0; None if none came), vip_s (VIP added on new, seen by
    `ip monitor`, minus t0; None if not added after t0), failed (client requests started in
    [t0 - CLIENT_TIMEOUT, answer + settle) that failed), others (successful answers from other
    nodes in that window after new's first), summary. With sniff (a SniffLog), old_src and vrid:
    also after_advert_s, from the old master's last advertisement before t0 to the answer (the
    part of a failover that does not depend on when, between two adverts, the master died)."""
    t_ans = wait_for(lambda: log.first_success(new, t0), timeout, 0.01)
    end = (t_ans or time.monotonic()) + settle
    pause = end + CLIENT_TIMEOUT + 0.1 - time.monotonic()
    if pause > 0:
        time.sleep(pause)  # every request of the window has finished; the monitors caught up
    t_adv = None
    if sniff is not None:
        seen = [p["time"] for p in sniff.packets(after=t0 - 5)
                if p["src"] == old_src and p.get("vrid") == vrid and p["time"] < t0 + 0.02 and
                p.get("priority")]
        t_adv = max(seen) if seen else None
    t_vip = lab.monitors[new].find("add", vip, t0) if new in lab.monitors else None
    w = log.window(t0 - CLIENT_TIMEOUT, end)
    return {
        "client_s": None if t_ans is None else round(t_ans - t0, 4),
        "vip_s": None if t_vip is None else round(t_vip - t0, 4),
        "after_advert_s": (None if t_ans is None or t_adv is None
                           else round(t_ans - t_adv, 4)),
        "failed": sum(1 for r in w if not r[2]),
        "others": sum(1 for r in w if r[2] and r[3] != new and t_ans and r[1] > t_ans),
        "summary": log.summary(t0 - CLIENT_TIMEOUT, end),
    }


# ---------------------------------------------------------------------------------------------
# Helper programs, run inside a namespace as `python3 netlab.py CMD ...`.

def _serve(node, port=80):
    """HTTP server on 0.0.0.0:port answering every GET with the node's name."""
    import http.server

    body = (node + "\n").encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        timeout = 3

        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 128

    srv = Server(("0.0.0.0", port), Handler)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    print(f"serving {node} on 0.0.0.0:{port}", flush=True)
    srv.serve_forever()


def _client(target, out, interval, timeout, port=80):
    """Request loop: starts a GET to target:port every `interval` seconds whatever the state of
    earlier ones (non-blocking sockets), each failing after `timeout` seconds. Writes one line per
    finished request: `start end ok who`."""
    sel = selectors.DefaultSelector()
    f = open(out, "w", buffering=1)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    request = f"GET / HTTP/1.0\r\nHost: {target}\r\n\r\n".encode()
    inflight = {}  # socket -> dict(t0, buf, sent)
    next_start = time.monotonic()

    def finish(s, ok, who):
        st = inflight.pop(s)
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()
        f.write(f"{st['t0']:.6f} {time.monotonic():.6f} {1 if ok else 0} {who}\n")

    while not stop:
        now = time.monotonic()
        if now >= next_start:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            inflight[s] = {"t0": now, "buf": b"", "sent": False}
            rc = s.connect_ex((target, port))
            if rc not in (0, errno.EINPROGRESS):
                finish(s, False, errno.errorcode.get(rc, str(rc)))
            else:
                sel.register(s, selectors.EVENT_WRITE)
            next_start += interval
            if next_start < now:
                next_start = now + interval
        for s in [s for s, st in inflight.items() if now - st["t0"] > timeout]:
            finish(s, False, "timeout")
        wake = next_start
        if inflight:
            wake = min(wake, min(st["t0"] for st in inflight.values()) + timeout)
        try:
            events = sel.select(max(0.0, wake - time.monotonic())) if inflight else []
        except InterruptedError:
            events = []
        if not inflight:
            time.sleep(max(0.0, wake - time.monotonic()))
        for key, _ev in events:
            s = key.fileobj
            st = inflight.get(s)
            if st is None:
                continue
            if not st["sent"]:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    finish(s, False, errno.errorcode.get(err, str(err)))
                    continue
                try:
                    s.send(request)
                except OSError as e:
                    finish(s, False, errno.errorcode.get(e.errno, str(e.errno)))
                    continue
                st["sent"] = True
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError as e:
                finish(s, False, errno.errorcode.get(e.errno, str(e.errno)))
                continue
            if data:
                st["buf"] += data
                continue
            head, _, body = st["buf"].partition(b"\r\n\r\n")
            if head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0] + b" ":
                finish(s, True, body.decode(errors="replace").strip() or "?")
            else:
                finish(s, False, "badresponse")
    f.close()


def _sniff(out, dev_addr):
    """Writes every VRRP packet received (group 224.0.0.18 joined on dev_addr's interface):
    `time src ttl hexpayload`."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_VRRP)
    mreq = socket.inet_aton(VRRP_GROUP) + socket.inet_aton(dev_addr)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    with open(out, "w", buffering=1) as f:
        while True:
            data, _ = s.recvfrom(65535)
            t = time.monotonic()
            ihl = (data[0] & 0xF) * 4
            ttl = data[8]
            src = socket.inet_ntoa(data[12:16])
            f.write(f"{t:.6f} {src} {ttl} {data[ihl:].hex()}\n")


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "serve":
        _serve(argv[2], int(argv[3]) if len(argv) > 3 else 80)
    elif cmd == "client":
        _client(argv[2], argv[3], float(argv[4]), float(argv[5]))
    elif cmd == "sniff":
        _sniff(argv[2], argv[3])
    else:
        sys.stderr.write("usage: netlab.py serve NODE [PORT] | client TARGET OUT INTERVAL TIMEOUT"
                         " | sniff OUT DEVADDR\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
