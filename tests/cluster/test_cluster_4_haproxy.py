"""Health checks and HAProxy in the data path (issue 4): the classic keepalived + HAProxy pair.

lb1 (priority 200) and lb2 (100) each run a real HAProxy 2.6 (Debian's, `-db` in the foreground,
its own config and admin socket under the test's temp dir) with `bind 198.18.0.100:80` and the
backend `web` (named after the VIP) of two servers `web-a` and `web-b`: small HTTP servers in
vg-lb3 on ports 8081 and 8082, no HAProxy `check` (the agents' checks decide). The per-node HTTP
servers on lb1/lb2 (0.0.0.0:80) are stopped for this module, as HAProxy needs the port, and come
back at its end. The client loop asks the VIP every 20 ms; answers name the web server.

1. HAProxy on the backup binds the VIP only because the agent set ip_nonlocal_bind=1: with the
   node field false (the agent sets 0) it exits with "cannot bind socket"; with true it runs.
2. An http check per backend: a web server stopped and started shows in GET /backends/{name}
   and /events; HAProxy's `show stat` (status column 18, weight column 19) follows the health and
   PATCHes of admin_state (drain, disabled) and weight, on both nodes.
3. HAProxy SIGKILLed on the master: a node script check (weight 0) from the agents' root-owned
   script directory (conftest: `cluster.script_dir`; the script runs as nobody and reads a pid
   file the test writes) puts lb1 in FAULT, the VIP moves to lb2, the client loop recovers; status says
   why. HAProxy restarted: the check recovers, lb1 is BACKUP (preempt off).
4. Manual failback with PUT /vips/web/holder; failed client requests counted (goal none).

Every test leaves the VIP where the next expects it; the module's teardown removes the checks,
backends and node fields and brings the cluster back to the `steady` resting state."""

import os
import shutil
import signal
import socket
import time

import pytest

import netlab as nl
from netlab import CLIENT_TIMEOUT, WEB, master_down_s

HAPROXY = shutil.which("haproxy", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin")
if HAPROXY is None:
    pytest.skip("haproxy is not installed", allow_module_level=True)
LBS = ("lb1", "lb2")
SERVERS = {"web-a": 8081, "web-b": 8082}  # HAProxy server / vigil backend -> port on lb3
CHECK_MS = 300  # interval of every check here
NODE_CHECK = "lb1-haproxy"
NODE_SPEC = {"lb1": {"ip_nonlocal_bind": True}, "lb2": {}}  # as conftest provisions them

HAPROXY_CFG = """global
    stats socket {sock} mode 660 level admin
defaults
    mode http
    timeout connect 300ms
    timeout client 5s
    timeout server 5s
    retries 2
    option redispatch 1
frontend fe
    bind {vip}:80
    default_backend web
backend web
    balance roundrobin
    server web-a {srv}:{pa} weight 1
    server web-b {srv}:{pb} weight 1
"""

ALIVE_SH = """#!/bin/sh
# exit 0 while the HAProxy whose pid is in $1 runs (keepalived's classic chk_haproxy)
pid=$(cat "$1" 2>/dev/null) || { echo "no pid file $1"; exit 1; }
if [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = haproxy ]; then
    echo "haproxy $pid running"
    exit 0
fi
echo "haproxy $pid not running"
exit 1
"""


def admin_cmd(sock, line, timeout=2.0):
    """One command on HAProxy's admin socket (an AF_UNIX path: no namespace needed)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(str(sock))
        s.sendall(line.encode() + b"\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data.decode()


class HAProxyLab:
    """HAProxy on lb1 and lb2, the web servers on lb3, the script directory."""

    def __init__(self, cluster, net):
        self.c, self.net, self.lab = cluster, net, net.lab
        self.dir = net.workdir / "haproxy"
        self.dir.mkdir(exist_ok=True)
        self.procs = {}  # lb -> Proc
        self.web = {}  # server name -> Proc
        self.sock = {h: self.dir / f"{h}.sock" for h in LBS}
        self.cfg = {}
        for h in LBS:
            self.cfg[h] = self.dir / f"{h}.cfg"
            self.cfg[h].write_text(HAPROXY_CFG.format(
                sock=self.sock[h], vip=WEB, srv=nl.addr_of("lb3"), pa=SERVERS["web-a"],
                pb=SERVERS["web-b"]))
        # The node check's script and HAProxy's pid files (readable by nobody).
        self.scripts = cluster.script_dir
        (self.scripts / "haproxy_alive.sh").write_text(ALIVE_SH)
        (self.scripts / "haproxy_alive.sh").chmod(0o755)
        self.piddir = self.scripts / "pids"
        self.piddir.mkdir(exist_ok=True)
        self.piddir.chmod(0o755)

    def remove_scripts(self):
        """What __init__ put into the script directory (it may be the agents' default one)."""
        (self.scripts / "haproxy_alive.sh").unlink(missing_ok=True)
        shutil.rmtree(self.piddir, ignore_errors=True)

    def pidfile(self, h):
        return self.piddir / f"haproxy-{h}.pid"

    # -- web servers -------------------------------------------------------------------------
    def start_web(self, name):
        p = self.web.get(name)
        if p is None:
            p = self.web[name] = self.lab.proc(f"web-{name}", "lb3",
                                               [nl.PY, nl.HERE, "serve", name, SERVERS[name]])
        if not p.alive():
            p.start()
        ok = nl.wait_for(lambda: self.lab.call_in("lb3", _probe, "127.0.0.1", SERVERS[name]), 5,
                         0.05)
        assert ok, f"web server {name} not answering:\n{p.log()}"

    def stop_web(self, name):
        p = self.web.get(name)
        if p is not None:
            p.stop(signal.SIGKILL, timeout=2)

    # -- HAProxy -----------------------------------------------------------------------------
    def start_haproxy(self, h, expect_ok=True, timeout=5.0):
        """Starts HAProxy on h. expect_ok: waits until its admin socket answers (raises with its
        log otherwise) and writes the pid file. Else returns (exit code, log) of a start that
        must fail (None if it still runs after timeout)."""
        self.stop_haproxy(h)
        n = len([p for p in self.lab.procs if p.name.startswith(f"haproxy-{h}.")])
        p = self.lab.proc(f"haproxy-{h}.{n}", h, [HAPROXY, "-db", "-f", self.cfg[h]])
        self.procs[h] = p.start()
        if not expect_ok:
            rc = p.wait(timeout)
            return rc, p.log()
        ok = nl.wait_for(lambda: p.alive() and "Pid:" in admin_cmd(self.sock[h], "show info"),
                         timeout, 0.05)
        assert ok, f"HAProxy on {h} did not start (rc {p.popen.poll()}):\n{p.log()}"
        tmp = self.pidfile(h).with_suffix(".tmp")
        tmp.write_text(f"{p.pid}\n")  # ip netns exec execs haproxy: the pid is HAProxy's
        tmp.chmod(0o644)
        tmp.rename(self.pidfile(h))
        return p

    def stop_haproxy(self, h, sig=signal.SIGTERM):
        p = self.procs.pop(h, None)
        if p is not None:
            p.stop(sig, timeout=3)
            p.kill()  # reaped: no zombie left that /proc still names haproxy
        try:
            self.sock[h].unlink()
        except FileNotFoundError:
            pass

    def haproxy_alive(self, h):
        p = self.procs.get(h)
        return p is not None and p.alive()

    def stat(self, h):
        """{server: (status, weight)} of HAProxy backend web on h, from `show stat`."""
        out = {}
        for row in admin_cmd(self.sock[h], "show stat").splitlines():
            f = row.split(",")
            if len(f) > 19 and f[0] == "web" and f[1] not in ("BACKEND", "FRONTEND"):
                out[f[1]] = (f[17], f[18])
        return out

    def wait_stat(self, server, status, weight=None, hosts=LBS, timeout=3.0):
        """Waits until server shows a status in `status` (a str or tuple) and weight on every
        HAProxy of hosts; returns the seconds it took, or raises with what they show."""
        status = (status,) if isinstance(status, str) else status
        t0 = time.monotonic()

        def ok():
            for h in hosts:
                st, w = self.stat(h)[server]
                if st not in status or (weight is not None and w != str(weight)):
                    return False
            return True
        if not nl.wait_for(ok, timeout, 0.05):
            shown = {}
            for h in hosts:
                try:
                    shown[h] = self.stat(h)
                except OSError as e:
                    shown[h] = repr(e)
            raise AssertionError(f"{server}: wanted {status} weight {weight}, HAProxy shows "
                                 f"{shown}\n{self.c.logs()}")
        return round(time.monotonic() - t0, 3)

    # -- the cluster's side ------------------------------------------------------------------
    def set_node(self, h, **fields):
        self.c.api.patch(f"/nodes/{h}", fields)

    def restore_node(self, h):
        spec = {"address": nl.addr_of(h), "interface": "eth0", **NODE_SPEC[h]}
        self.c.api.put(f"/nodes/{h}", spec, expect=(200, 201))

    def wait_nonlocal(self, h, value, timeout=5.0):
        want = "1" if value else "0"
        return nl.wait_for(lambda: self.lab.sysctl(h, "net.ipv4.ip_nonlocal_bind") == want and
                           self.c.node_status(h).get("ip_nonlocal_bind") is value, timeout, 0.1)

    def ensure_lb(self, h):
        """HAProxy running on h with the node's haproxy_socket and ip_nonlocal_bind set."""
        self.set_node(h, ip_nonlocal_bind=True, haproxy_socket=str(self.sock[h]))
        assert self.wait_nonlocal(h, True), self.c.node_status(h)
        if not self.haproxy_alive(h):
            self.start_haproxy(h)


def _probe(addr, port):
    """True when addr:port accepts a connection (run inside a namespace)."""
    try:
        socket.create_connection((addr, port), timeout=0.3).close()
        return True
    except OSError:
        return False


def _wait_client_ok(log, seconds=0.5, timeout=5.0):
    """Every request finished in the last `seconds` succeeded (through HAProxy: the answer names
    a web server)."""
    def ok():
        now = time.monotonic()
        w = [r for r in log.window(now - seconds - CLIENT_TIMEOUT, now) if r[1] >= now - seconds]
        return len(w) >= seconds / nl.CLIENT_INTERVAL / 2 and all(
            r[2] and r[3] in SERVERS for r in w)
    return bool(nl.wait_for(ok, timeout, 0.05))


@pytest.fixture(scope="module")
def hap(cluster, net):
    """The module's set-up: per-node HTTP servers on lb1/lb2 stopped, web servers on lb3,
    HAProxy on lb1 (the master, already ip_nonlocal_bind true), backends web-a and web-b with an
    http check each. Teardown undoes everything."""
    cluster.ensure_steady()
    h = HAProxyLab(cluster, net)
    api = cluster.api
    try:
        for lb in LBS:
            net.http[lb].stop(signal.SIGKILL, timeout=2)
        for name in SERVERS:
            h.start_web(name)
        h.ensure_lb("lb1")
        for name, port in SERVERS.items():
            api.put(f"/backends/{name}", {"vip": "web", "address": nl.addr_of("lb3"),
                                          "port": port}, expect=(200, 201))
            api.put(f"/checks/{name}-http", {"type": "http", "backend": name,
                                             "interval_ms": CHECK_MS, "timeout_ms": 250,
                                             "rise": 2, "fall": 2, "path": "/"},
                    expect=(200, 201))
        yield h
    finally:
        for name in list(SERVERS) + [NODE_CHECK]:
            api.delete(f"/checks/{name}-http" if name in SERVERS else f"/checks/{name}")
        for name in SERVERS:
            api.delete(f"/backends/{name}")
        # lb2's field goes away again (the agent then leaves the sysctl alone): back to a new
        # namespace's 0 first, so that the agent reads 0 back when it applies the restored
        # config (test_cluster_2's election test expects lb2 at 0, reported false).
        nl.nsrun("lb2", "sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=0")
        for lb in LBS:
            h.restore_node(lb)
            h.stop_haproxy(lb, signal.SIGKILL)
        nl.wait_for(lambda: cluster.node_status("lb2").get("ip_nonlocal_bind") is False, 5, 0.1)
        for name in SERVERS:
            h.stop_web(name)
        h.remove_scripts()
        for lb in LBS:
            net.http[lb].start()
        for lb in LBS:
            nl.wait_for(lambda lb=lb: net.lab.call_in("lb3", _probe, nl.addr_of(lb), 80), 5, 0.05)
        cluster.ensure_steady()


@pytest.fixture
def hsteady(hap, steady):
    """The resting state (lb1 Master, lb2 Backup) with HAProxy on lb1 and the client answered
    through it."""
    assert hap.haproxy_alive("lb1"), "HAProxy on lb1 is not running"
    assert _wait_client_ok(steady.net.client(WEB)), steady.net.client(WEB).recent()
    return hap


def test_1_backup_binds_the_vip_only_with_nonlocal_bind(hsteady, cluster, net):
    h, c, lab = hsteady, cluster, net.lab
    assert lab.holders(WEB) == ["lb1"]
    h.stop_haproxy("lb2")
    # The node field false: the agent sets 0, and HAProxy cannot bind the VIP it does not hold.
    h.set_node("lb2", ip_nonlocal_bind=False, haproxy_socket=str(h.sock["lb2"]))
    assert h.wait_nonlocal("lb2", False), (lab.sysctl("lb2", "net.ipv4.ip_nonlocal_bind"),
                                           c.node_status("lb2"))
    rc, log = h.start_haproxy("lb2", expect_ok=False)
    print(f"\nHAProxy on lb2 with ip_nonlocal_bind=0: exit code {rc}\n{log.strip()}")
    assert rc is not None and rc != 0, f"HAProxy did not fail (rc {rc}):\n{log}"
    assert "cannot bind socket" in log and f"{WEB}:80" in log, log
    # The configuration itself is valid (as operators report: `haproxy -c` passes).
    chk = nl.nsrun("lb2", HAPROXY, "-c", "-f", h.cfg["lb2"], check=False)
    assert chk.returncode == 0, chk.stdout + chk.stderr
    # The node field true: the agent sets 1, and the same start succeeds on the backup.
    h.set_node("lb2", ip_nonlocal_bind=True)
    assert h.wait_nonlocal("lb2", True), (lab.sysctl("lb2", "net.ipv4.ip_nonlocal_bind"),
                                          c.node_status("lb2"))
    h.start_haproxy("lb2")
    time.sleep(0.5)
    assert h.haproxy_alive("lb2"), h.procs["lb2"].log()
    assert lab.holders(WEB) == ["lb1"] and c.vrrp("lb2", "web")[0] == "BACKUP"
    # It listens on the VIP it does not hold.
    ss = nl.nsrun("lb2", "ss", "-Hltn", f"src {WEB}:80").stdout
    assert f"{WEB}:80" in ss, ss


def test_2_backend_health_and_haproxy_runtime_state(hsteady, cluster, net):
    h, c, api = hsteady, cluster, cluster.api
    h.ensure_lb("lb2")
    log = net.client(WEB)
    up = ("no check", "UP")
    for name in SERVERS:
        assert nl.wait_for(lambda name=name: api.get(f"/backends/{name}")["status"]["health"] ==
                           "up", 5, 0.1), api.get(f"/backends/{name}")
        h.wait_stat(name, up, 1)
    b = api.get("/backends/web-a")
    assert b["status"]["reason"] and b["status"]["since"], b

    # web-a stops: both agents' http checks fail twice (fall 2), the server derives down with
    # the reason, records it in /events, and both HAProxies take web-a down.
    rev = api.get("/events?limit=1")["revision"]
    t0 = time.monotonic()
    h.stop_web("web-a")
    down = nl.wait_for(lambda: (lambda b: b if b["status"]["health"] == "down" else None)(
        api.get("/backends/web-a")), 5, 0.05)
    t_api = round(time.monotonic() - t0, 3)
    assert down, f"{api.get('/backends/web-a')}\n{c.logs()}"
    reason = down["status"]["reason"] or ""
    assert "web-a-http" in reason, down["status"]
    assert down["status"]["since"], down["status"]
    ev = api.get(f"/events?since={rev}&limit=500")["_embedded"]["events"]
    assert any(e["kind"] == "backend" and e["name"] == "web-a" and e["change"] == "updated"
               for e in ev), ev
    t_ha = h.wait_stat("web-a", "DOWN", timeout=3)
    assert h.stat("lb1")["web-b"][0] in up
    print(f"\nweb-a stopped: /backends/web-a down after {t_api} s ({reason!r}); HAProxy DOWN "
          f"{t_ha} s later")
    # HAProxy sends everything to web-b now: no failures once web-a is out.
    t1 = time.monotonic()
    time.sleep(1.0)
    w = log.window(t1, time.monotonic() - CLIENT_TIMEOUT)
    assert w and all(r[2] and r[3] == "web-b" for r in w), log.summary(t1, time.monotonic())

    # web-a back: rise 2, then up again everywhere.
    rev = api.get("/events?limit=1")["revision"]
    h.start_web("web-a")
    assert nl.wait_for(lambda: api.get("/backends/web-a")["status"]["health"] == "up", 5,
                       0.05), api.get("/backends/web-a")
    ev = api.get(f"/events?since={rev}&limit=500")["_embedded"]["events"]
    assert any(e["kind"] == "backend" and e["name"] == "web-a" for e in ev), ev
    h.wait_stat("web-a", up, 1)

    # The resource drives HAProxy's runtime state: drain, maint, weight, and back.
    t_drain = time.monotonic()
    api.patch("/backends/web-b", {"admin_state": "drain"})
    d_drain = h.wait_stat("web-b", "DRAIN")
    api.patch("/backends/web-b", {"admin_state": "disabled"})
    h.wait_stat("web-b", "MAINT")
    api.patch("/backends/web-b", {"admin_state": "enabled", "weight": 7})
    d_weight = h.wait_stat("web-b", up, 7)
    api.patch("/backends/web-b", {"weight": 1})
    h.wait_stat("web-b", up, 1)
    print(f"PATCH -> HAProxy: drain {d_drain} s, weight {d_weight} s")
    # Draining and disabling a server lose no request (HAProxy just stops choosing it).
    fails = log.failures(t_drain, time.monotonic() - CLIENT_TIMEOUT)
    assert not fails, log.summary(t_drain, time.monotonic())


def test_3_haproxy_killed_on_the_master(hsteady, cluster, net, measurements):
    h, c, lab, api = hsteady, cluster, net.lab, cluster.api
    h.ensure_lb("lb2")
    log = net.client(WEB)
    api.put(f"/checks/{NODE_CHECK}", {
        "type": "script", "node": "lb1", "script": ["haproxy_alive.sh", str(h.pidfile("lb1"))],
        "interval_ms": CHECK_MS, "timeout_ms": 1000, "rise": 2, "fall": 1, "weight": 0},
        expect=(200, 201))

    def result():
        return (api.get(f"/checks/{NODE_CHECK}")["status"].get("results") or {}).get("lb1") or {}
    assert nl.wait_for(lambda: result().get("state") == "up", 5, 0.1), f"{result()}\n{c.logs()}"
    assert c.vrrp("lb1", "web") == ("MASTER", 200) and lab.holders(WEB) == ["lb1"]
    assert _wait_client_ok(log), log.recent()

    t0 = time.monotonic()
    h.stop_haproxy("lb1", signal.SIGKILL)
    # FAULT on lb1 (priority-0 advert), so lb2 takes over at once; lb2's HAProxy already listens.
    moved = nl.wait_for(lambda: lab.holders(WEB) == ["lb2"], 5, 0.02)
    t_vip = round(time.monotonic() - t0, 3)
    assert moved, f"VIP on {lab.holders(WEB)}: {c.node_status('lb1')}\n{c.logs()}"
    t_ok = nl.wait_for(lambda: next((r[1] for r in log.records() if r[0] >= t0 + t_vip and r[2]),
                                    None), 3, 0.02)
    assert t_ok, log.recent()
    time.sleep(1.0 + CLIENT_TIMEOUT)
    failed = len(log.failures(t0 - CLIENT_TIMEOUT, time.monotonic() - CLIENT_TIMEOUT))
    summary = log.summary(t0 - CLIENT_TIMEOUT, time.monotonic() - CLIENT_TIMEOUT)
    client_s = round(t_ok - t0, 3)
    measurements.note(impl="vigil", event="HAProxy killed on lb1 (node check weight 0)",
                      vip_s=t_vip, client_s=client_s, failed=failed, summary=summary)
    print(f"\nHAProxy killed on lb1: VIP on lb2 after {t_vip} s, client served again after "
          f"{client_s} s, {failed} failed requests ({summary})")
    # The check interval plus the backup's skew: well under Master_Down_Interval.
    assert t_vip < CHECK_MS / 1000 * 2 + master_down_s(100) - 3 + 1.0, t_vip
    # After the move, every request succeeds.
    t2 = time.monotonic()
    time.sleep(1.0)
    assert not log.failures(t2, time.monotonic() - CLIENT_TIMEOUT), \
        log.summary(t2, time.monotonic())

    # Status and holder say why.
    assert c.wait_vrrp("lb1", "web", "FAULT", 3), c.node_status("lb1")
    st = c.node_status("lb1")
    lt = st["last_transition"]
    assert lt and lt["vip"] == "web" and lt["to"] == "FAULT", lt
    assert NODE_CHECK in (lt.get("reason") or ""), lt
    assert "web" not in st["vips_held"] and WEB not in lab.addrs("lb1")
    r = result()
    assert r.get("state") == "down" and "not running" in (r.get("output") or ""), r
    v = c.vip("web")
    assert v["status"]["holder"] == "lb2" and v["status"]["members"]["lb1"]["state"] == "FAULT", v
    assert c.holder("web")["node"] == "lb2", c.holder("web")
    assert c.wait_vrrp("lb2", "web", "MASTER", 2)
    print(f"lb1 last_transition: {lt}")

    # HAProxy back: the check recovers (rise 2), lb1 leaves FAULT for BACKUP and, preempt off,
    # the VIP stays on lb2. The agent replays the backends' state into the fresh HAProxy.
    h.start_haproxy("lb1")
    assert nl.wait_for(lambda: result().get("state") == "up", 5, 0.1), result()
    assert c.wait_vrrp("lb1", "web", "BACKUP", 5), f"{c.node_status('lb1')}\n{c.logs('lb1')}"
    lt = c.node_status("lb1")["last_transition"]
    assert lt["from"] == "FAULT" and lt["to"] == "BACKUP", lt
    assert lab.holders(WEB) == ["lb2"] and c.vip("web")["status"]["holder"] == "lb2"
    h.wait_stat("web-a", ("no check", "UP"), 1, hosts=("lb1",))


def test_4_manual_failback(hap, cluster, net, measurements):
    """Follows test 3 (VIP on lb2, lb1 BACKUP with HAProxy and its check up); from the resting
    state it moves the VIP to lb2 first, the same way."""
    h, c, lab, api = hap, cluster, net.lab, cluster.api
    h.ensure_lb("lb1")
    h.ensure_lb("lb2")
    log = net.client(WEB)
    assert _wait_client_ok(log), log.recent()

    def move(node):
        assert _wait_client_ok(log), log.recent()
        t0 = time.monotonic()
        resp = api.put("/vips/web/holder", {"node": node})
        assert resp.status_code == 202, resp.text
        assert nl.wait_for(lambda: lab.holders(WEB) == [node], 3, 0.01), lab.holders(WEB)
        t_vip = round(time.monotonic() - t0, 3)
        settled = nl.wait_for(lambda: c.settled("web"), 3, 0.05)
        assert settled and settled["node"] == node, c.holder("web")
        time.sleep(1.0 + CLIENT_TIMEOUT)
        t1 = time.monotonic() - CLIENT_TIMEOUT
        failed = len(log.failures(t0 - CLIENT_TIMEOUT, t1))
        summ = log.summary(t0 - CLIENT_TIMEOUT, t1)
        measurements.note(impl="vigil", event=f"PUT holder {node} through HAProxy",
                          vip_s=t_vip, failed=failed, summary=summ)
        print(f"\nPUT /vips/web/holder {node}: VIP there after {t_vip} s, {failed} failed "
              f"client requests ({summ})")
        return failed

    if lab.holders(WEB) != ["lb2"]:
        move("lb2")
    assert c.vrrp("lb1", "web")[0] == "BACKUP", c.node_status("lb1")
    failed = move("lb1")
    assert c.wait_vrrp("lb1", "web", "MASTER", 2) and c.wait_vrrp("lb2", "web", "BACKUP", 2)
    assert api.delete("/vips/web/holder").status_code == 204
    assert c.holder("web")["node"] == "lb1"
    # The goal is none, and most runs lose none. A request whose connection is open on the old
    # holder at the instant the gratuitous ARP moves the client to the new one is reset (seen once
    # in CI: ECONNRESET); keeping it would take connection-state sync between the HAProxies.
    assert failed <= 1, f"{failed} client requests failed during the failback"
