"""A small network lab for the cluster tests: a Linux bridge in the root namespace, one network
namespace per host joined to it by a veth pair (eth0 inside, vgp-HOST on the bridge), processes
started inside the namespaces in their own sessions, and the failures we simulate (power-off,
interface down, reboot, silent partition). Also the helper programs run inside the namespaces
(`python3 netlab.py serve|client|sniff ...`): the per-node HTTP server, the client request loop and
a VRRP sniffer, plus a VRRP packet builder for injecting (bad) advertisements.

Addresses are 198.18.0.0/24 on the bridge; nothing is routed anywhere else. Facts this relies on:
/work/shared/LAB-NOTES.md. Time stamps everywhere are time.monotonic() (CLOCK_MONOTONIC is the same
in every network namespace), so the test process compares them directly."""

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
import time
from pathlib import Path

BRIDGE = "vgbr0"
PREFIX = 24
HOSTS = {  # host -> (namespace, address)
    "srv": ("vg-srv", "198.18.0.1"),
    "lb1": ("vg-lb1", "198.18.0.11"),
    "lb2": ("vg-lb2", "198.18.0.12"),
    "lb3": ("vg-lb3", "198.18.0.13"),
    "cli": ("vg-cli", "198.18.0.50"),
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


def port_of(host):
    """The bridge-side end of host's veth pair, in the root namespace."""
    return f"vgp-{host}"


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


def wait_for(pred, timeout, interval=0.02, what="condition"):
    """Polls pred() until it returns a true value (returned) or timeout seconds pass (returns the
    last false value). Exceptions from pred count as false."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = pred()
        except Exception as e:  # noqa: BLE001 - a failing probe is a "not yet"
            last = None
            _ = e
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

class Lab:
    """The bridge and the namespaces. setup() removes leftovers of an earlier run first;
    teardown() kills every process started through it and removes everything."""

    def __init__(self, workdir, hosts=tuple(HOSTS)):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.hosts = tuple(hosts)
        self.procs = []
        self._exec = {}

    # -- construction ------------------------------------------------------------------------
    @staticmethod
    def cleanup_leftovers():
        """Removes the namespaces, ports and bridge a crashed run may have left, and kills the
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
        run("ip", "link", "del", BRIDGE, check=False)

    def setup(self):
        self.cleanup_leftovers()
        run("ip", "link", "add", BRIDGE, "type", "bridge", "stp_state", "0", "forward_delay", "0",
            "mcast_snooping", "0")
        run("ip", "link", "set", BRIDGE, "up")
        for host in self.hosts:
            ns, addr = HOSTS[host]
            run("ip", "netns", "add", ns)
            run("ip", "link", "add", port_of(host), "type", "veth", "peer", "name", "eth0",
                "netns", ns)
            run("ip", "link", "set", port_of(host), "master", BRIDGE)
            run("ip", "link", "set", port_of(host), "up")
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run("ip", "-n", ns, "addr", "add", f"{addr}/{PREFIX}", "dev", "eth0")
            run("ip", "-n", ns, "link", "set", "eth0", "up")
        # Links need a moment to come up (LAB-NOTES): wait for carrier everywhere.
        ok = wait_for(lambda: all(self.carrier(h) for h in self.hosts), 5, 0.05)
        if not ok:
            raise RuntimeError("veth links did not come up within 5 s")
        time.sleep(0.3)
        return self

    def teardown(self):
        for p in reversed(self.procs):
            try:
                p.stop(signal.SIGKILL, timeout=2)
            except Exception:  # noqa: BLE001 - tear everything down whatever happens
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

    def carrier(self, host):
        r = run("ip", "-n", ns_of(host), "-j", "link", "show", "dev", "eth0", check=False)
        if r.returncode != 0:
            return False
        info = json.loads(r.stdout)[0]
        return "LOWER_UP" in info.get("flags", []) and "UP" in info.get("flags", [])

    # -- failures ----------------------------------------------------------------------------
    def port_down(self, host):
        """Power-off's network half: the bridge-side port goes down, so nothing leaves or
        reaches host (its eth0 loses carrier)."""
        run("ip", "link", "set", port_of(host), "down")

    def port_up(self, host):
        run("ip", "link", "set", port_of(host), "up")

    def if_down(self, host):
        """host's own eth0 goes down (the node sees it: FAULT)."""
        run("ip", "-n", ns_of(host), "link", "set", "eth0", "down")

    def if_up(self, host):
        run("ip", "-n", ns_of(host), "link", "set", "eth0", "up")

    def reboot_addrs(self, host):
        """Addresses as after a reboot: everything flushed, the primary address configured."""
        ns, addr = HOSTS[host]
        run("ip", "-n", ns, "addr", "flush", "dev", "eth0")
        run("ip", "-n", ns, "addr", "add", f"{addr}/{PREFIX}", "dev", "eth0")

    def partition(self, host):
        """Silent partition: host keeps carrier but is detached from the bridge."""
        run("ip", "link", "set", port_of(host), "nomaster")

    def heal(self, host):
        run("ip", "link", "set", port_of(host), "master", BRIDGE)

    def port_is_up(self, host):
        r = run("ip", "-j", "link", "show", "dev", port_of(host))
        info = json.loads(r.stdout)[0]
        return "UP" in info.get("flags", []) and info.get("master") == BRIDGE

    def del_addr(self, host, addr):
        run("ip", "-n", ns_of(host), "addr", "del", f"{addr}/{PREFIX}", "dev", "eth0",
            check=False)

    def wait_carrier(self, host, timeout=5):
        return wait_for(lambda: self.carrier(host), timeout, 0.02)


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

class ClientLog:
    """The request loop's log: one line per request, `start end ok who` (who = node name, or the
    error). Times are time.monotonic()."""

    def __init__(self, path):
        self.path = Path(path)

    def records(self):
        out = []
        if not self.path.exists():
            return out
        for line in self.path.read_text().splitlines():
            parts = line.split(" ", 3)
            if len(parts) != 4:
                continue
            try:
                out.append((float(parts[0]), float(parts[1]), parts[2] == "1", parts[3]))
            except ValueError:
                continue
        return out

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


class SniffLog:
    """The sniffer's log: `time src ttl hexpayload` per VRRP packet seen."""

    def __init__(self, path):
        self.path = Path(path)

    def packets(self, after=0.0):
        out = []
        if not self.path.exists():
            return out
        for line in self.path.read_text().splitlines():
            parts = line.split()
            if len(parts) != 4:
                continue
            t = float(parts[0])
            if t < after:
                continue
            d = parse_vrrp(bytes.fromhex(parts[3]))
            d.update(time=t, src=parts[1], ttl=int(parts[2]), raw=parts[3])
            out.append(d)
        return out


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
