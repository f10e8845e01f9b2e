"""Black-box test harness for vigild: starts the binary, talks HTTP to it like curl, checks every
response against the OpenAPI spec, and gives tests names and resources that do not collide."""

import http.client
import itertools
import json as jsonlib
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import requests
from requests.structures import CaseInsensitiveDict

import spec as specmod

REPO = Path(__file__).resolve().parents[2]
SANITIZER_MARKERS = ("runtime error:", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer")
TIMEOUT = 10

# VIGIL_BACKEND=etcd: every VigilServer keeps its store in the session's etcd lab (conftest.py
# starts it and sets ETCD_ENDPOINTS) under a prefix of its own instead of a SQLite file.
BACKEND = os.environ.get("VIGIL_BACKEND", "sqlite")
ETCD_ENDPOINTS = None

_running = []  # every VigilServer currently started, for the per-test sanitizer check
_running_lock = threading.Lock()


def vigild_path():
    p = Path(os.environ.get("VIGILD", "build/vigild"))
    if not p.is_absolute():
        p = REPO / p
    return p


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerFailure(AssertionError):
    pass


class VigilServer:
    """One vigild process with its own database in workdir. start()/stop() may be repeated
    (restart keeps the database). stop() fails on a non-zero exit or a sanitizer report."""

    def __init__(self, workdir, args=(), admin_token="generate", env=None, name="vigild",
                 tls_cert=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db = self.workdir / "vigil.db"
        # on etcd: a fresh prefix per server, kept across restarts like a database file
        self.etcd_prefix = f"/vigil-test/{secrets.token_hex(8)}/"
        self.etcd_endpoints = None  # None: the session's lab (ETCD_ENDPOINTS)
        self.args = list(args)
        if admin_token == "generate":
            admin_token = secrets.token_hex(32)
        self.admin_token = admin_token  # None: start without VIGIL_ADMIN_TOKEN
        self.extra_env = dict(env or {})
        self.name = name
        # With tls_cert (a PEM that --tls-cert also gets), speak HTTPS and verify against it.
        self.tls_cert = tls_cert
        self.proc = None
        self.port = None
        self.starts = 0
        self.stderr_path = None
        self._stderr_checked = {}

    @property
    def base(self):
        scheme = "https" if self.tls_cert else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def verify(self):
        return str(self.tls_cert) if self.tls_cert else True

    def _env(self):
        env = dict(os.environ)
        env.pop("VIGIL_ADMIN_TOKEN", None)
        if self.admin_token is not None:
            env["VIGIL_ADMIN_TOKEN"] = self.admin_token
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        env.update(self.extra_env)
        return env

    def start(self, timeout=15):
        binary = vigild_path()
        if not binary.exists():
            raise ServerFailure(f"{binary} does not exist (run `make build/vigild`)")
        last = None
        for _attempt in range(3):
            self.starts += 1
            self.port = free_port()
            self.stderr_path = self.workdir / f"{self.name}.{self.starts}.stderr"
            self.stdout_path = self.workdir / f"{self.name}.{self.starts}.stdout"
            cmd = [str(binary), "--listen", f"127.0.0.1:{self.port}"] + self.store_args()
            cmd += self.args
            self.cmd = cmd
            with open(self.stderr_path, "wb") as err, open(self.stdout_path, "wb") as out:
                self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=self._env(),
                                             cwd=str(self.workdir), start_new_session=True)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    r = requests.get(self.base + "/healthz", timeout=1, verify=self.verify)
                    if r.status_code == 200:
                        with _running_lock:
                            _running.append(self)
                        return self
                except requests.RequestException:
                    pass
                time.sleep(0.05)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                raise ServerFailure(f"{cmd} did not answer /healthz 200 within {timeout}s:\n"
                                    + self.stderr_text()[-3000:])
            last = f"{cmd} exited with {self.proc.returncode} at start:\n" + \
                self.stderr_text()[-3000:]
            if "in use" not in last.lower():
                break
        raise ServerFailure(last)

    @property
    def admin_token_file(self):
        """Where a first start without VIGIL_ADMIN_TOKEN writes the admin token's secret."""
        if BACKEND == "etcd":
            return self.workdir / "vigil-etcd.admin-token"  # vigild's working directory
        return self.db.parent / (self.db.name + ".admin-token")

    def store_args(self):
        """The store options of this server: its SQLite file, or its etcd prefix."""
        if BACKEND == "etcd":
            endpoints = self.etcd_endpoints or ETCD_ENDPOINTS
            assert endpoints, "VIGIL_BACKEND=etcd needs the etcd lab of conftest.py"
            return ["--etcd", endpoints, "--etcd-prefix", self.etcd_prefix]
        return ["--db", str(self.db)]

    def stderr_text(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def sanitizer_report(self):
        """New sanitizer output on stderr since the last call, or None."""
        text = self.stderr_text()
        start = self._stderr_checked.get(self.stderr_path, 0)
        self._stderr_checked[self.stderr_path] = len(text)
        new = text[start:]
        for m in SANITIZER_MARKERS:
            i = new.find(m)
            if i >= 0:
                return new[max(0, i - 200):i + 4000]
        return None

    def _forget(self):
        with _running_lock:
            if self in _running:
                _running.remove(self)

    def stop(self, timeout=10, check=True):
        """SIGTERM, wait, and (check) fail unless it exited 0 without a sanitizer report."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        self._forget()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                if check:
                    raise ServerFailure(f"{self.cmd} did not exit within {timeout}s of SIGTERM")
        rc = proc.returncode
        if check:
            text = self.stderr_text()
            for m in SANITIZER_MARKERS:
                if m in text:
                    i = text.find(m)
                    raise ServerFailure(f"sanitizer report on stderr of {self.cmd}:\n"
                                        + text[max(0, i - 200):i + 4000])
            if rc != 0:
                raise ServerFailure(f"{self.cmd} exited with {rc} after SIGTERM:\n"
                                    + text[-3000:])
        return rc

    def kill9(self):
        """SIGKILL, like a power cut for the process. Sanitizer output so far is still checked."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        self._forget()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        rep = self.sanitizer_report()
        if rep:
            raise ServerFailure(f"sanitizer report on stderr of {self.cmd}:\n{rep}")

    def restart(self, **kw):
        self.stop()
        return self.start(**kw)

    def client(self, token=None):
        return Client(self, self.admin_token if token is None else token)


def running_servers():
    with _running_lock:
        return list(_running)


# ---------------------------------------------------------------------------------------------
# Client


NO_TOKEN = object()


class Client:
    """Requests as curl sends them. Every response is checked against the spec."""

    def __init__(self, server, token):
        self.server = server
        self.token = token
        self.token_id = None
        self.role = None
        self.bound_node = None

    @property
    def base(self):
        return self.server.base

    def request(self, method, path, json=None, data=None, headers=None, token=None,
                accept="*/*", timeout=TIMEOUT, check_spec=True):
        """method, path (with query). json= sends application/json unless headers set a
        Content-Type. token=NO_TOKEN sends no Authorization. Returns a requests.Response."""
        h = {}
        if accept is not None:
            h["Accept"] = accept
        tok = self.token if token is None else token
        if tok is not NO_TOKEN and tok is not None:
            h["Authorization"] = f"Bearer {tok}"
        if json is not None:
            data = jsonlib.dumps(json).encode()
            h["Content-Type"] = "application/json"
        if headers:
            for k, v in headers.items():
                # Replace case-insensitively; None deletes.
                for old in [x for x in h if x.lower() == k.lower()]:
                    del h[old]
                if v is not None:
                    h[k] = v
        if "Accept" not in h:
            h["Accept"] = None  # requests would otherwise send */*
        r = requests.request(method, self.base + path, data=data, headers=h, timeout=timeout,
                             allow_redirects=False, verify=self.server.verify)
        if check_spec:
            specmod.check_response(method, path, r.status_code, r.headers, r.content)
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json=json, **kw)

    def patch(self, path, json=None, headers=None, **kw):
        h = {"Content-Type": "application/merge-patch+json"}
        h.update(headers or {})
        data = jsonlib.dumps(json).encode() if json is not None else kw.pop("data", None)
        return self.request("PATCH", path, data=data, headers=h, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def options(self, path, **kw):
        return self.request("OPTIONS", path, **kw)

    def ok(self, method, path, expect, **kw):
        """request() asserting the status; returns the response."""
        r = self.request(method, path, **kw)
        assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text[:500]}"
        return r

    # -- tokens -----------------------------------------------------------------------------
    def mint(self, role, node=None, description=None):
        """A Client authenticated with a new token of role (admin only)."""
        body = {"role": role}
        if node is not None:
            body["node"] = node
        if description is not None:
            body["description"] = description
        r = self.post("/tokens", json=body)
        assert r.status_code == 201, f"POST /tokens {body}: {r.status_code} {r.text[:500]}"
        doc = r.json()
        c = Client(self.server, doc["secret"])
        c.token_id, c.role, c.bound_node = doc["id"], role, node
        return c

    # -- resources with valid defaults -------------------------------------------------------
    def create(self, coll, body):
        r = self.post(f"/{coll}", json=body)
        assert r.status_code == 201, f"POST /{coll} {body}: {r.status_code} {r.text[:800]}"
        return r.json()

    def node(self, name=None, **fields):
        body = node_body(name, **fields)
        return self.create("nodes", body)

    def vip(self, name=None, **fields):
        return self.create("vips", vip_body(name, **fields))

    def backend(self, vip, name=None, **fields):
        return self.create("backends", backend_body(vip, name, **fields))

    def check(self, name=None, **fields):
        body = {"name": name or uniq("chk"), "type": "tcp"}
        body.update(fields)
        return self.create("checks", body)

    def etag(self, path):
        r = self.get(path)
        assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text[:300]}"
        return r.headers["ETag"]


# ---------------------------------------------------------------------------------------------
# Names and bodies

_counter = itertools.count(1)
_run = secrets.token_hex(2)


def uniq(prefix="x"):
    """A fresh resource name: prefix, a counter and a per-run tag ([a-z0-9-], < 64 chars)."""
    return f"{prefix}{next(_counter)}-{_run}"


def uniq_iface():
    """A fresh interface name (<= 15 chars), so that VRIDs never clash across tests."""
    return f"if{next(_counter)}"


def uniq_ipv4(prefix=None):
    n = next(_counter)
    a = f"198.18.{(n // 250) % 256}.{n % 250 + 1}"
    return a if prefix is None else f"{a}/{prefix}"


def node_body(name=None, **fields):
    body = {"name": name or uniq("node"), "address": uniq_ipv4(), "interface": "eth0"}
    body.update(fields)
    return body


def vip_body(name=None, **fields):
    body = {"name": name or uniq("vip"), "addresses": [uniq_ipv4(24)], "interface": uniq_iface(),
            "vrid": 51}
    body.update(fields)
    return body


def backend_body(vip, name=None, **fields):
    body = {"name": name or uniq("be"), "vip": vip, "address": uniq_ipv4(), "port": 8080}
    body.update(fields)
    return body


# ---------------------------------------------------------------------------------------------
# Assertions

ETAG_RE = re.compile(r'^"[0-9a-f]+"$')


def assert_problem(r, status, slug, pointer=None, instance=None):
    """r is an RFC 9457 problem with this status and type /problems/slug; pointer (a string or
    a list of acceptable strings) must name an entry of errors[]. Returns the body."""
    path = instance or requests.utils.urlparse(r.request.url).path
    assert r.status_code == status, \
        f"{r.request.method} {path}: expected {status} {slug}, got {r.status_code}: {r.text[:800]}"
    if r.request.method == "HEAD":
        assert r.content == b""
        return None
    ct = r.headers.get("Content-Type", "")
    assert ct.split(";")[0].strip() == "application/problem+json", f"Content-Type {ct!r}"
    body = r.json()
    assert body.get("type") == f"/problems/{slug}", body
    assert body.get("status") == status, body
    assert isinstance(body.get("title"), str) and body["title"], body
    assert isinstance(body.get("detail"), str), body
    assert body.get("instance") == path, body
    if pointer is not None:
        want = [pointer] if isinstance(pointer, str) else list(pointer)
        errs = body.get("errors")
        assert isinstance(errs, list) and errs, f"422 without errors[]: {body}"
        got = [e.get("pointer") for e in errs]
        for e in errs:
            assert isinstance(e.get("detail"), str), e
        assert any(p in want for p in got), f"expected pointer {want} in errors, got {got}: {body}"
    return body


def assert_422(r, pointer):
    return assert_problem(r, 422, "validation", pointer=pointer)


def media_type(r):
    return r.headers.get("Content-Type", "").split(";")[0].strip().lower()


def allow_set(r):
    a = r.headers.get("Allow")
    assert a is not None, f"no Allow header: {r.status_code} {dict(r.headers)}"
    return {m.strip().upper() for m in a.split(",") if m.strip()}


def parse_link_header(value):
    """RFC 8288 Link header -> {rel: href} (each rel of a space-separated list)."""
    out = {}
    if not value:
        return out
    for m in re.finditer(r'<([^>]*)>\s*((?:;\s*[^,;=]+\s*=\s*(?:"[^"]*"|[^,;]*)\s*)*)', value):
        href, params = m.group(1), m.group(2)
        for pm in re.finditer(r';\s*([^=\s]+)\s*=\s*(?:"([^"]*)"|([^,;]*))', params):
            if pm.group(1).lower() == "rel":
                rels = pm.group(2) if pm.group(2) is not None else pm.group(3)
                for rel in rels.split():
                    out[rel] = href
    return out


def href(doc, rel):
    link = doc["_links"][rel]
    return link["href"]


# ---------------------------------------------------------------------------------------------
# Raw HTTP, for requests that libraries will not send or that the server may cut short


class RawResponse:
    def __init__(self, status, headers, body, method, path):
        self.status_code = status
        self.headers = headers
        self.content = body
        self.text = body.decode("utf-8", "replace")
        self.request = type("Req", (), {"method": method, "url": "http://x" + path})()

    def json(self):
        return jsonlib.loads(self.content)


def raw_request(server, head, body=b"", chunk=65536, timeout=TIMEOUT, check_spec=True,
                wait_100=False):
    """Sends head (str, request line and headers without the blank line) and body like curl
    does: stops uploading as soon as the server answers (e.g. an early 413), then reads the
    response. wait_100: wait for "100 Continue" (or a final answer) before sending the body."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    try:
        sock.sendall(head.encode("latin-1") + b"\r\n\r\n")
        early = False
        if wait_100:
            r, _, _ = select.select([sock], [], [], 2.0)
            if r:
                peek = sock.recv(65536, socket.MSG_PEEK)
                if peek.startswith(b"HTTP/1.1 100"):
                    end = peek.find(b"\r\n\r\n")
                    sock.recv(end + 4)
                else:
                    early = True
        off = 0
        while not early and off < len(body):
            r, _, _ = select.select([sock], [], [], 0)
            if r:
                early = True
                break
            try:
                n = sock.send(body[off:off + chunk])
            except (BrokenPipeError, ConnectionResetError):
                break
            off += n
        resp = http.client.HTTPResponse(sock, method=head.split(" ", 1)[0])
        resp.begin()
        data = resp.read()
        headers = CaseInsensitiveDict(resp.getheaders())
        method = head.split(" ", 1)[0]
        path = head.split(" ", 2)[1]
        out = RawResponse(resp.status, headers, data, method, path.split("?")[0])
        out.sent = off
        if check_spec:
            specmod.check_response(method, path, resp.status, headers, data)
        return out
    finally:
        sock.close()


def raw_head(server, method, path, headers=None, token=None, body_len=None):
    """Builds a request head for raw_request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
             "Connection: close"]
    tok = server.admin_token if token is None else token
    if tok is not NO_TOKEN:
        lines.append(f"Authorization: Bearer {tok}")
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body_len is not None:
        lines.append(f"Content-Length: {body_len}")
    return "\r\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Concurrency


class Background:
    """Runs fn(*args) in a thread; result() re-raises its exception in the test."""

    def __init__(self, fn, *args, **kw):
        self._res = None
        self._exc = None
        self.started = time.monotonic()
        self.finished = None

        def run():
            try:
                self._res = fn(*args, **kw)
            except BaseException as e:  # noqa: BLE001 - re-raised in result()
                self._exc = e
            finally:
                self.finished = time.monotonic()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def done(self):
        return not self.thread.is_alive()

    def result(self, timeout=TIMEOUT + 5):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "background request did not finish"
        if self._exc is not None:
            raise self._exc
        return self._res

    @property
    def elapsed(self):
        return (self.finished or time.monotonic()) - self.started


def wait_until(pred, timeout=5.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
