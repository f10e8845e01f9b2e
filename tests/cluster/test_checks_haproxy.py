"""Health checks and HAProxy's runtime state, for real (issue 4): agent/checks.c, check_net.c,
check_script.c and haproxy.c driven by a small C driver (checktool.c, built here with the
sanitizers) on loopback. Python web servers (plain and TLS, self-signed with openssl) are stopped
and started, scripts run as nobody from a root-owned script directory, and a real HAProxy 2.6 is
read back through its admin socket (`show stat`: status column 18, weight column 19) while its
servers are drained, disabled, reweighted and taken down by checks, and after it restarts.

checktool reads node config documents on stdin and prints one JSON line per apply and per change:
{"event", "checks": {name: {state, output, at}}, "adjust", "fault", "health"}. Needs root (scripts
run as nobody; the script directory must be root-owned)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PY = "/usr/bin/python3"
HANG_ARG = f"300.{os.getpid()}"  # hang.sh's sleep, unique to this run (for pgrep)

if os.geteuid() != 0:
    pytest.skip("needs root (scripts run as nobody from a root-owned directory)",
                allow_module_level=True)
for _tool in ("cc", "pkg-config", "haproxy", "openssl"):
    if shutil.which(_tool) is None:
        pytest.skip(f"needs {_tool} on PATH", allow_module_level=True)

WEB = r"""
import http.server, ssl, sys
port, cert = int(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else None)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code = 200 if self.path in ("/", "/health") else 404
        body = b"ok\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    ctx = None
    def get_request(self):
        # the TLS handshake happens in the request's own thread (on its first read), not in
        # accept(): a client that stalls or aborts its handshake must not hold up the others
        sock, addr = self.socket.accept()
        if self.ctx is not None:
            sock = self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr
s = S(("127.0.0.1", port), H)
if cert:
    S.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    S.ctx.load_cert_chain(cert, cert)
print("ready", flush=True)
s.serve_forever()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


class Web:
    """A small HTTP (or HTTPS with cert) server on 127.0.0.1:port, started and stopped."""

    def __init__(self, port, cert=None):
        self.port, self.cert, self.proc = port, cert, None

    def start(self):
        args = [PY, "-c", WEB, str(self.port)] + ([self.cert] if self.cert else [])
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture(scope="module")
def checktool(tmp_path_factory):
    """Builds tests/cluster/checktool.c with the modules it drives (ASan + UBSan)."""
    out = tmp_path_factory.mktemp("checktool") / "checktool"
    pc = subprocess.run(["pkg-config", "--cflags", "--libs", "jansson", "libcurl"],
                        capture_output=True, text=True, check=True).stdout.split()
    cmd = ["cc", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Wshadow", "-Wformat=2",
           "-Werror", "-g", "-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
           "-I" + str(ROOT / "agent"), "-I" + str(ROOT / "common"), "-o", str(out),
           str(ROOT / "tests/cluster/checktool.c")] + \
          [str(ROOT / f) for f in ("agent/checks.c", "agent/check_net.c", "agent/curl_loop.c",
                                   "agent/check_script.c", "agent/script.c", "agent/text.c", "common/clock.c",
                                   "agent/realtime.c", "agent/caps.c", "common/errmsg.c",
                                   "agent/haproxy.c", "agent/loop.c", "common/addr.c")] + pc
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(out)


@pytest.fixture(scope="module")
def scripts():
    """A root-owned 0755 script directory (not under pytest's 0700 tmp: nobody must reach it)
    with the scripts the checks run, plus a world-readable directory for flag files."""
    d = Path(tempfile.mkdtemp(prefix="vgscripts-", dir="/tmp"))
    d.chmod(0o755)
    flags = d / "flags"
    flags.mkdir()
    flags.chmod(0o755)
    files = {
        "ok.sh": "#!/bin/sh\necho \"user=$(id -un) env=$(env | grep -v '^PWD=' | sort |"
                 " tr '\\n' ' ')\"\n",
        "fail.sh": "#!/bin/sh\necho broken >&2\nexit 1\n",
        "hang.sh": f"#!/bin/sh\necho starting\nexec sleep {HANG_ARG}\n",
        "flag.sh": "#!/bin/sh\nif test -e \"$1\"; then echo present; else echo absent;"
                   " exit 2; fi\n",
        "loose.sh": "#!/bin/sh\nexit 0\n",
    }
    for name, text in files.items():
        (d / name).write_text(text)
        (d / name).chmod(0o755)
    (d / "loose.sh").chmod(0o775)  # group-writable: refused
    yield d
    shutil.rmtree(d)


class Tool:
    """A running checktool: feed configs, watch its report lines."""

    def __init__(self, binary, script_dir, log):
        self.errlog = open(log, "w")
        self.proc = subprocess.Popen([binary, "--script-dir", str(script_dir), "--node", "lb1"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.errlog, text=True, bufsize=1)
        self.lines = []  # (monotonic time, parsed line)
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            item = (time.monotonic(), json.loads(raw))
            with self.cond:
                self.lines.append(item)
                self.cond.notify_all()

    def mark(self):
        """The position from which a later wait() looks (what came before is history)."""
        with self.cond:
            return len(self.lines)

    def apply(self, config):
        self.proc.stdin.write(json.dumps(config) + "\n")
        self.proc.stdin.flush()

    def last(self):
        with self.cond:
            return self.lines[-1][1] if self.lines else None

    def wait(self, pred, timeout=10.0, what="condition", since=0):
        """Waits for a line satisfying pred, from line number since on; returns (time, line)."""
        end = time.monotonic() + timeout
        seen = since
        with self.cond:
            while True:
                for t, line in self.lines[seen:]:
                    if pred(line):
                        return t, line
                seen = len(self.lines)
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; last: {self.last()}")
                self.cond.wait(left)

    def wait_state(self, check, state, timeout=10.0, since=0):
        return self.wait(lambda l: l["checks"].get(check, {}).get("state") == state, timeout,
                         f"{check} {state}", since)

    def close(self):
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=10)
        self.errlog.close()
        assert rc == 0, "checktool failed (sanitizer report in its log)"


@pytest.fixture
def tool(checktool, scripts, tmp_path):
    t = Tool(checktool, scripts, tmp_path / "checktool.log")
    yield t
    t.close()


def config(checks, backends=(), haproxy_socket=None):
    return {"node": "lb1", "address": "127.0.0.1", "interface": "lo", "vips": [],
            "haproxy_socket": haproxy_socket, "backends": list(backends), "checks": list(checks)}


def check(name, type_, interval_ms=200, timeout_ms=300, rise=1, fall=1, **kw):
    c = {"name": name, "type": type_, "interval_ms": interval_ms, "timeout_ms": timeout_ms,
         "rise": rise, "fall": fall}
    c.update(kw)
    return c


def backend(name, port, **kw):
    b = {"name": name, "vip": "web", "address": "127.0.0.1", "port": port, "weight": 1,
         "admin_state": "enabled", "haproxy_backend": "web", "haproxy_server": name}
    b.update(kw)
    return b


def transitions(tool, name):
    """The sequence of (state, output) pairs check name went through."""
    out = []
    with tool.cond:
        for _, line in tool.lines:
            c = line["checks"].get(name)
            if c and (not out or out[-1] != (c["state"], c["output"])):
                out.append((c["state"], c["output"]))
    return out


def test_tcp_and_http_checks_follow_a_web_server_with_rise_and_fall(tool):
    port = free_port()
    web = Web(port).start()
    try:
        tool.apply(config([check("t", "tcp", backend="web1", rise=2, fall=3),
                           check("h", "http", backend="web1", rise=2, fall=3, path="/health"),
                           check("h404", "http", backend="web1", path="/missing")],
                          [backend("web1", port)]))
        tool.wait_state("t", "up")
        tool.wait_state("h", "up")
        _, line = tool.wait_state("h404", "down")
        assert line["checks"]["h404"]["output"] == "HTTP 404, expected 200"
        assert line["checks"]["h"]["output"] == "HTTP 200"
        assert line["health"] == {"web1": "down"}  # one of its checks fails

        stopped, mark = time.monotonic(), tool.mark()
        web.stop()
        t_down, line = tool.wait_state("t", "down", since=mark)
        tool.wait_state("h", "down", since=mark)
        # fall 3 at 200 ms: the third failed probe, 400..800 ms after the stop
        assert 0.35 <= t_down - stopped <= 1.5, t_down - stopped
        assert line["checks"]["t"]["output"] == "connect: Connection refused"
        # the first failures did not flip it: it was still up, showing the failure
        assert ("up", "connect: Connection refused") in transitions(tool, "t")

        started, mark = time.monotonic(), tool.mark()
        web.start()
        t_up, _ = tool.wait_state("t", "up", since=mark)
        tool.wait_state("h", "up", since=mark)
        assert 0.15 <= t_up - started <= 1.5, t_up - started
        assert ("down", "connected") in transitions(tool, "t")  # rise 2: one success is not up
    finally:
        web.stop()


def test_https_check_with_a_self_signed_certificate(tool, tmp_path):
    pem = tmp_path / "tls.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=vigil-test", "-keyout", str(pem), "-out", str(pem)],
                   check=True, capture_output=True)
    port = free_port()
    web = Web(port, cert=str(pem)).start()
    try:
        # TLS handshakes to a Python server from the ASan-built checktool can take longer than
        # the default 300 ms when both CPUs are busy (the suite runs beside other work): give
        # them room, the test is about what the checks conclude, not how fast
        slow = {"timeout_ms": 2000, "interval_ms": 500}
        tool.apply(config([check("tls", "https", backend="web1", verify_tls=False, fall=2, **slow),
                           check("strict", "https", backend="web1", verify_tls=True, **slow),
                           check("plain", "http", backend="web1", **slow)],
                          [backend("web1", port)]))
        _, line = tool.wait_state("tls", "up")
        assert line["checks"]["tls"]["output"] == "HTTP 200"
        _, line = tool.wait_state("strict", "down")
        assert "certificate" in line["checks"]["strict"]["output"].lower() or \
            "ssl" in line["checks"]["strict"]["output"].lower()
        tool.wait_state("plain", "down")  # HTTP to a TLS port
        mark = tool.mark()
        web.stop()
        _, line = tool.wait_state("tls", "down", since=mark)
        mark = tool.mark()
        web.start()
        tool.wait_state("tls", "up", since=mark)
    finally:
        web.stop()


def test_script_checks_exit_status_timeout_user_and_refusals(tool, scripts):
    flag = scripts / "flags" / "present"
    flag.unlink(missing_ok=True)
    tool.apply(config([
        check("ok", "script", node="lb1", script=["ok.sh"], weight=0),
        check("fail", "script", node="lb1", script=["fail.sh"], weight=-20),
        check("hang", "script", node="lb1", script=["hang.sh"], timeout_ms=300, interval_ms=500,
              weight=-5),
        check("flag", "script", node="lb1", script=["flag.sh", str(flag)], rise=2, fall=2,
              weight=-7),
        check("loose", "script", node="lb1", script=["loose.sh"]),
        check("escape", "script", node="lb1", script=["../../bin/true"]),
        check("missing", "script", node="lb1", script=["nosuch.sh"]),
    ]))
    _, line = tool.wait_state("ok", "up")
    assert line["checks"]["ok"]["output"] == \
        "user=nobody env=PATH=/usr/sbin:/usr/bin:/sbin:/bin", line["checks"]["ok"]
    _, line = tool.wait_state("fail", "down")
    assert line["checks"]["fail"]["output"] == "exit 1: broken"
    _, line = tool.wait_state("hang", "down")
    assert line["checks"]["hang"]["output"] == "timed out after 300 ms, killed: starting"
    _, line = tool.wait_state("flag", "down")
    # refusals: unknown, with the reason, and never run
    rep = tool.wait(lambda l: l["checks"]["loose"]["output"] and
                    l["checks"]["missing"]["output"])[1]["checks"]
    assert rep["loose"]["state"] == "unknown"
    assert "writable by its group" in rep["loose"]["output"]
    assert rep["escape"]["state"] == "unknown"
    assert "not a bare file name" in rep["escape"]["output"]
    assert rep["missing"]["state"] == "unknown"
    assert "No such file" in rep["missing"]["output"]
    # weights of the failing node checks; nothing with weight 0 fails
    _, line = tool.wait(lambda l: l["adjust"] == -32, what="adjust -32")
    assert line["fault"] is False

    # the hung script is killed with its process group: no sleep survives its timeout
    time.sleep(0.3)
    ps = subprocess.run(["pgrep", "-f", f"sleep {HANG_ARG}"], capture_output=True, text=True)
    running = ps.stdout.split()
    assert len(running) <= 1, running  # at most the one of the probe running right now

    # the flag script flips up after rise 2 and down again after fall 2
    flag.touch()
    _, line = tool.wait_state("flag", "up")
    assert line["checks"]["flag"]["output"] == "present"
    assert ("down", "present") in transitions(tool, "flag")
    mark = tool.mark()
    flag.unlink()
    tool.wait_state("flag", "down", since=mark)

    # ok gets broken (weight 0): fault
    tool.apply(config([check("ok", "script", node="lb1", script=["fail.sh"], weight=0)]))
    _, line = tool.wait(lambda l: l["fault"] is True, what="fault")
    assert line["checks"]["ok"]["state"] == "down"
    assert set(line["checks"]) == {"ok"}


# HAProxy

HAPROXY_CFG = """
global
    stats socket {sock} mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{fe}
    default_backend web
backend web
    balance roundrobin
    server web1 127.0.0.1:{p1} weight 1
    server web2 127.0.0.1:{p2} weight 1
"""


class HAProxy:
    def __init__(self, workdir, p1, p2):
        self.sock = str(workdir / "admin.sock")
        self.cfg = workdir / "haproxy.cfg"
        self.cfg.write_text(HAPROXY_CFG.format(sock=self.sock, fe=free_port(), p1=p1, p2=p2))
        self.log = workdir / "haproxy.log"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", str(self.cfg)],
                                     stdout=open(self.log, "a"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                self.cmd("show info")
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("haproxy did not start: " + self.log.read_text())

    def stop(self):
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None
            if os.path.exists(self.sock):
                os.unlink(self.sock)

    def cmd(self, line):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(self.sock)
            s.sendall(line.encode() + b"\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return data.decode()

    def servers(self):
        """{server: (status, weight)} of backend web from `show stat`."""
        out = {}
        for row in self.cmd("show stat").splitlines():
            f = row.split(",")
            if len(f) > 19 and f[0] == "web" and f[1] not in ("BACKEND", "FRONTEND"):
                out[f[1]] = (f[17], f[18])
        return out

    def wait(self, server, status=None, weight=None, timeout=5.0):
        """Waits until server shows status (and weight); returns the seconds it took."""
        start = time.monotonic()
        while True:
            st, w = self.servers()[server]
            if (status is None or st == status) and (weight is None or w == str(weight)):
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise AssertionError(f"{server}: {st} weight {w}, wanted {status} {weight}")
            time.sleep(0.02)


@pytest.fixture
def haproxy(tmp_path):
    p1, p2 = free_port(), free_port()
    h = HAProxy(tmp_path, p1, p2)
    h.p1, h.p2 = p1, p2
    h.start()
    yield h
    h.stop()


def test_haproxy_follows_admin_state_weight_and_health_and_replays_after_restart(tool, haproxy):
    web1 = Web(haproxy.p1).start()
    try:
        backends = [backend("web1", haproxy.p1, weight=10), backend("web2", haproxy.p2)]
        checks = [check("c1", "tcp", backend="web1"), check("c2", "tcp", backend="web2")]
        tool.apply(config(checks, backends, haproxy.sock))
        tool.wait_state("c2", "down")
        haproxy.wait("web1", "no check", 10)  # up without HAProxy's own check, weight set
        haproxy.wait("web2", "DOWN")  # its check fails (nothing on p2): health down

        def change(**kw):
            backends[0].update(kw)
            tool.apply(config(checks, backends, haproxy.sock))

        change(admin_state="drain")
        took = haproxy.wait("web1", "DRAIN")
        assert took < 1.0, took
        change(admin_state="disabled")
        assert haproxy.wait("web1", "MAINT") < 1.0
        change(admin_state="enabled", weight=3)
        assert haproxy.wait("web1", "no check", 3) < 1.0

        # health: a web server on p2 comes up, its check flips, HAProxy follows within a second
        web2 = Web(haproxy.p2).start()
        try:
            t_up, _ = tool.wait_state("c2", "up")
            haproxy.wait("web2", "no check")
            assert time.monotonic() - t_up < 1.0
            mark = tool.mark()
            web2.stop()
            t_down, _ = tool.wait_state("c2", "down", since=mark)
            haproxy.wait("web2", "DOWN")
            assert time.monotonic() - t_down < 1.0
        finally:
            web2.stop()

        # HAProxy restarts from its file (both servers up, weight 1): the state comes back
        change(admin_state="drain", weight=7)
        haproxy.wait("web1", "DRAIN")
        haproxy.stop()
        haproxy.start()
        restarted = time.monotonic()
        haproxy.wait("web1", "DRAIN", timeout=5)
        haproxy.wait("web2", "DOWN", timeout=5)
        assert time.monotonic() - restarted < 2.5
        change(admin_state="enabled")
        haproxy.wait("web1", "no check", 7)  # the weight was replayed too
    finally:
        web1.stop()
