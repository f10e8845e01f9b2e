"""A real three-member etcd cluster on loopback for the etcd backend's tests (issue 12).

Each member listens on 127.0.0.1 on its own client and peer ports (base port + 2*i, + 2*i+1; the
default base 23790 keeps clear of a system etcd on 2379/2380), keeps its data in a directory of
its own under the given temp dir, and runs with short election timeouts so that a killed leader is
replaced within about a second. Usable from pytest fixtures:

    lab = EtcdLab(tmp_path)
    lab.start()                     # returns once every member answers and a leader is elected
    lab.endpoints()                 # "http://127.0.0.1:23790,http://127.0.0.1:23792,..."
    lab.kill(1)                     # kill -9 member 1
    lab.kill_leader()               # kill -9 the current leader, returns its index
    lab.restart(1)                  # start member 1 again on its data dir
    lab.stop()                      # SIGTERM (then SIGKILL) every member

The base port is the first of 23790, 23810, ... whose 2 * members ports are free on 127.0.0.1, so
labs of several worktrees on one machine do not collide (ETCD_LAB_BASE_PORT fixes it).
EtcdLab(..., tls=True) serves clients over HTTPS and requires a client certificate: make_certs() writes a CA, a server
certificate for 127.0.0.1 and a client certificate into the lab's directory (lab.certs names them).
"""

import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.request

ETCD = "/usr/bin/etcd"
ETCDCTL = "/usr/bin/etcdctl"


def free_base_port(count, first=23790, step=20, last=24990):
    """The first base port from first (in steps of step) whose count ports can be bound on
    127.0.0.1 now. Another process may still take one before etcd does: start() then fails."""
    for base in range(first, last, step):
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as etcd binds
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no {count} free ports from {first} to {last}")


def make_certs(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate in d (openssl).
    Returns their paths: ca, server_cert, server_key, client_cert, client_key. The server
    certificate allows clientAuth too: with --client-cert-auth, 3.4's JSON gateway dials its own
    member with it (without: the gateway's connection is closed, "incompatible key usage")."""
    os.makedirs(d, exist_ok=True)
    p = {k: os.path.join(d, f) for k, f in (
        ("ca", "ca.pem"), ("ca_key", "ca-key.pem"), ("server_cert", "server.pem"),
        ("server_key", "server-key.pem"), ("client_cert", "client.pem"),
        ("client_key", "client-key.pem"))}

    def ossl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True)

    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-days", "2", "-subj", "/CN=vigil-lab-ca", "-keyout", p["ca_key"], "-out", p["ca"])
    for who, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth"),
                     ("client", "extendedKeyUsage=clientAuth")):
        csr = os.path.join(d, f"{who}.csr")
        extfile = os.path.join(d, f"{who}.ext")
        with open(extfile, "w") as f:
            f.write(ext + "\n")
        ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-subj", f"/CN=vigil-lab-{who}", "-keyout", p[f"{who}_key"], "-out", csr)
        ossl("x509", "-req", "-in", csr, "-CA", p["ca"], "-CAkey", p["ca_key"],
             "-CAcreateserial", "-days", "2", "-extfile", extfile, "-out", p[f"{who}_cert"])
    return p


class EtcdLab:
    def __init__(self, workdir, members=3, base_port=None, heartbeat_ms=50, election_ms=500,
                 extra_args=(), tls=False):
        self.workdir = str(workdir)
        self.n = members
        self.base_port = int(base_port or os.environ.get("ETCD_LAB_BASE_PORT", 0)) or \
            free_base_port(2 * members)
        self.heartbeat_ms = heartbeat_ms
        self.election_ms = election_ms
        self.extra_args = list(extra_args)
        self.procs = [None] * members
        self.logs = [None] * members
        self.certs = make_certs(os.path.join(self.workdir, "certs")) if tls else None

    def name(self, i):
        return f"m{i}"

    def client_url(self, i):
        scheme = "https" if self.certs else "http"
        return f"{scheme}://127.0.0.1:{self.base_port + 2 * i}"

    def peer_url(self, i):
        return f"http://127.0.0.1:{self.base_port + 2 * i + 1}"

    def endpoints(self, members=None):
        """Comma-separated client URLs of the given members (default: all)."""
        idx = range(self.n) if members is None else members
        return ",".join(self.client_url(i) for i in idx)

    def _cmd(self, i, state):
        cluster = ",".join(f"{self.name(j)}={self.peer_url(j)}" for j in range(self.n))
        return [ETCD, "--name", self.name(i),
                "--data-dir", os.path.join(self.workdir, self.name(i)),
                "--listen-client-urls", self.client_url(i),
                "--advertise-client-urls", self.client_url(i),
                "--listen-peer-urls", self.peer_url(i),
                "--initial-advertise-peer-urls", self.peer_url(i),
                "--initial-cluster", cluster,
                "--initial-cluster-state", state,
                "--initial-cluster-token", f"vigil-lab-{self.base_port}",
                "--heartbeat-interval", str(self.heartbeat_ms),
                "--election-timeout", str(self.election_ms),
                "--logger", "zap", "--log-outputs", "stderr"] + self._tls_args() + self.extra_args

    def _tls_args(self):
        if not self.certs:
            return []
        return ["--cert-file", self.certs["server_cert"], "--key-file", self.certs["server_key"],
                "--trusted-ca-file", self.certs["ca"], "--client-cert-auth"]

    def _ctl_tls(self):
        if not self.certs:
            return []
        return ["--cacert", self.certs["ca"], "--cert", self.certs["client_cert"],
                "--key", self.certs["client_key"]]

    def _spawn(self, i, state):
        log = open(os.path.join(self.workdir, f"{self.name(i)}.log"), "ab")
        self.logs[i] = log
        self.procs[i] = subprocess.Popen(self._cmd(i, state), stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL)

    def start(self, timeout=30):
        os.makedirs(self.workdir, exist_ok=True)
        for i in range(self.n):
            self._spawn(i, "new")
        self.wait_healthy(timeout=timeout)

    def alive(self, i):
        p = self.procs[i]
        return p is not None and p.poll() is None

    def health(self, i, timeout=1.0):
        """True when member i answers /health with a leader."""
        ctx = None
        if self.certs:
            ctx = ssl.create_default_context(cafile=self.certs["ca"])
            ctx.load_cert_chain(self.certs["client_cert"], self.certs["client_key"])
        try:
            with urllib.request.urlopen(self.client_url(i) + "/health", timeout=timeout,
                                        context=ctx) as r:
                return json.loads(r.read()).get("health") == "true"
        except (OSError, ValueError):
            return False

    def wait_healthy(self, members=None, timeout=30):
        idx = [i for i in (range(self.n) if members is None else members)]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.health(i) for i in idx):
                return
            for i in idx:
                if self.procs[i] is not None and self.procs[i].poll() is not None:
                    raise RuntimeError(f"etcd {self.name(i)} exited: {self.log_tail(i)}")
            time.sleep(0.1)
        raise TimeoutError(f"etcd members {idx} not healthy within {timeout} s")

    def status(self):
        """etcdctl endpoint status of the live members: a list of dicts (Endpoint, Status)."""
        live = [i for i in range(self.n) if self.alive(i)]
        out = subprocess.run([ETCDCTL, "--endpoints", self.endpoints(live)] + self._ctl_tls() +
                             ["endpoint", "status", "-w", "json", "--command-timeout=2s"],
                             capture_output=True, text=True, env=dict(os.environ, ETCDCTL_API="3"))
        try:
            return json.loads(out.stdout)
        except ValueError:
            return []

    def leader(self, timeout=10):
        """Index of the current leader, as the live members report it (waits for one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for st in self.status():
                s = st.get("Status", {})
                member = s.get("header", {}).get("member_id")
                if member is not None and member == s.get("leader"):
                    return self._index_of(st["Endpoint"])
            time.sleep(0.1)
        raise TimeoutError("no etcd leader")

    def _index_of(self, endpoint):
        for i in range(self.n):
            if self.client_url(i) == endpoint:
                return i
        raise KeyError(endpoint)

    def kill(self, i, sig=signal.SIGKILL):
        p = self.procs[i]
        if p is not None and p.poll() is None:
            p.send_signal(sig)
            p.wait(timeout=10)

    def kill_leader(self):
        i = self.leader()
        self.kill(i)
        return i

    def restart(self, i, wait=True):
        self.kill(i)
        self._spawn(i, "existing")
        if wait:
            self.wait_healthy(members=[i])

    def log_tail(self, i, lines=20):
        try:
            with open(os.path.join(self.workdir, f"{self.name(i)}.log"), "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        for p in self.procs:
            if p is not None and p.poll() is None:
                p.terminate()
        for i, p in enumerate(self.procs):
            if p is None:
                continue
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if self.logs[i]:
                self.logs[i].close()
        self.procs = [None] * self.n


if __name__ == "__main__":
    # Manual use: python3 tests/etcd/etcdlab.py [DIR [ETCD-ARG...]] -> runs a cluster until Ctrl-C
    # or SIGTERM; the ETCD-ARGs go to every member (e.g. --max-txn-ops 8192, as vigild wants).
    import sys
    import tempfile
    lab = EtcdLab(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="etcdlab-"),
                  extra_args=sys.argv[2:])
    # A background job ignores SIGINT: SIGTERM stops the lab as cleanly.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    t0 = time.monotonic()
    lab.start()
    print(f"etcd lab up in {time.monotonic() - t0:.2f} s: {lab.endpoints()} leader m{lab.leader()}",
          flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        lab.stop()
