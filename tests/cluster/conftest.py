"""Fixtures for the cluster tests (test_cluster_*.py): one lab per session, shared by every module.

- `net` (session): the namespaces and bridges of netlab.Lab, an HTTP server on port 80 in every LB
  namespace answering its node name, a VRRP sniffer in vg-cli, and client request loops started
  on demand (`net.client(vip)`). Also keepalived instances (`net.keepalived(host, conf)`).
- `cluster` (session): vigild in vg-srv on the management network, nodes lb1 and lb2, the VIPs
  below, an agent token per node, and vigil-agent on lb1 and lb2, started together. Skips when
  build/vigil-agent is missing. The agents' script directory (`cluster.script_dir`, root-owned
  0755) is a fresh one under /tmp passed as --script-dir, or the agent's default
  /etc/vigil/scripts (created and removed here) when the agent does not take that option.
- `steady` (function): brings the cluster back to its resting state before a test (every agent
  running, ports up, web held by lb1 with lb2 BACKUP, no move request standing, no keepalived) and
  checks the agents' stderr for sanitizer reports after it.
- `no_agents` (function): stops the agents for tests that run keepalived on lb1/lb2 instead.
- `Api.patch`: RFC 7396 merge patch.
- `measurements` (session): timings recorded by the tests; written to
  build/cluster-measurements.json and printed as a markdown table at the end of the session.

Env: VIGIL_AGENT / VIGILD name the binaries (default build/vigil-agent, build/vigild; the asan
builds work too). Logs of every process stay under pytest's basetemp (printed at the end)."""

import json
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import netlab as nl  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MEASUREMENTS_JSON = ROOT / "build" / "cluster-measurements.json"
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")

from netlab import (CLIENT_INTERVAL, CLIENT_TIMEOUT, KA2, KA3, NODES, VIPS, WEB,  # noqa: E402
                    master_down_s)

SERVER_PORT = 8080
AGENT_TIMEOUT_S = 3  # vigild --agent-timeout
HEARTBEAT_MS = 1000
NOTIFY_TIMEOUT_MS = 1500  # vigil-agent --notify-timeout-ms (test_cluster_7_notify_track.py)


def _binary(env, default):
    p = Path(os.environ.get(env, default))
    return p if p.is_absolute() else ROOT / p


def _require_root():
    if os.geteuid() != 0:
        pytest.skip("cluster tests need root (network namespaces)")
    if shutil.which("ip") is None:
        pytest.skip("cluster tests need `ip` (iproute2)")


# ---------------------------------------------------------------------------------------------
# Measurements

class Measurements:
    """Samples per implementation and metric, e.g. record("vigil", "failover_power_off", 3.2)."""

    def __init__(self):
        self.samples = {}
        self.extra = []

    def record(self, impl, metric, value):
        self.samples.setdefault(impl, {}).setdefault(metric, []).append(value)

    def note(self, **kw):
        self.extra.append(kw)

    def to_json(self):
        return {"client": {"interval_s": CLIENT_INTERVAL, "timeout_s": CLIENT_TIMEOUT},
                "timers": {"advert_int_s": 1, "priorities": [200, 100], "preempt": False},
                "samples": self.samples, "events": self.extra,
                "host": {"cpus": os.cpu_count(), "kernel": os.uname().release}}

    ROWS = [
        ("failover_power_off", "s",
         "Power-off of the master (SIGKILL + port down) → VIP answers on the backup"),
        ("failover_power_off_after_advert", "s", "  the same, from the master's last "
                                                 "advertisement"),
        ("failover_power_off_failed", "n", "  client requests failed meanwhile"),
        ("failover_if_down", "s", "Master's eth0 down (FAULT) → VIP answers on the backup"),
        ("failover_if_down_after_advert", "s", "  the same, from the master's last "
                                               "advertisement"),
        ("failover_if_down_failed", "n", "  client requests failed meanwhile"),
        ("release_sigterm", "s", "Daemon stopped (SIGTERM, priority 0) → VIP answers on the "
                                 "backup"),
        ("release_sigterm_failed", "n", "  client requests failed meanwhile"),
        ("move_away", "s", "Manual move lb1 → lb2 (vigil: PUT holder; keepalived: restart "
                           "the holder) → VIP answers on lb2"),
        ("move_away_failed", "n", "  client requests failed during the move"),
        ("move_back", "s", "Manual failback lb2 → lb1 (same) → VIP answers on lb1"),
        ("move_back_failed", "n", "  client requests failed during the move"),
    ]
    COLUMNS = [("vigil", "vigil (VRRPv3)"), ("keepalived-v3", "keepalived 2.2.7 (VRRPv3)"),
               ("keepalived-v2", "keepalived 2.2.7 (VRRPv2, PASS)")]

    @staticmethod
    def _fmt(vals, unit):
        if not vals:
            return "–"
        if unit == "n":
            return " / ".join(str(v) for v in vals)
        med = statistics.median(vals)
        s = f"{med:.2f} s"
        if len(vals) > 1:
            s += f" (n={len(vals)}, {min(vals):.2f}–{max(vals):.2f})"
        return s

    def table(self):
        cols = [c for c in self.COLUMNS if c[0] in self.samples]
        if not cols:
            return ""
        lines = ["| | " + " | ".join(c[1] for c in cols) + " |",
                 "| --- |" + " --- |" * len(cols)]
        for metric, unit, label in self.ROWS:
            if not any(metric in self.samples.get(c[0], {}) for c in cols):
                continue
            cells = [self._fmt(self.samples.get(c[0], {}).get(metric, []), unit) for c in cols]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append(f"Advert interval 1 s, priorities 200 (master) / 100 (backup), preempt off; "
                     f"network namespaces on one bridge (vigild on a second one), "
                     f"{os.cpu_count()} vCPUs. Times run "
                     f"from the action to the first client request answered by the new holder; "
                     f"the client starts a request every {int(CLIENT_INTERVAL * 1000)} ms "
                     f"(each fails after {CLIENT_TIMEOUT} s). Theory for the backup (priority "
                     f"100): Master_Down_Interval = {master_down_s(100):.2f} s, Skew_Time = "
                     f"{master_down_s(100) - 3:.2f} s.")
        return "\n".join(lines)


_MEASUREMENTS = Measurements()


@pytest.fixture(scope="session")
def measurements():
    return _MEASUREMENTS


def pytest_sessionfinish(session, exitstatus):
    if _MEASUREMENTS.samples:
        MEASUREMENTS_JSON.parent.mkdir(parents=True, exist_ok=True)
        MEASUREMENTS_JSON.write_text(json.dumps(_MEASUREMENTS.to_json(), indent=2) + "\n")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    table = _MEASUREMENTS.table()
    if table:
        terminalreporter.section("cluster measurements (README.md)")
        terminalreporter.write_line(table)
        terminalreporter.write_line(f"(also in {MEASUREMENTS_JSON})")
    if _NET_WORKDIR:
        terminalreporter.write_line(f"cluster logs: {_NET_WORKDIR[0]}")


_NET_WORKDIR = []


# ---------------------------------------------------------------------------------------------
# The lab with its per-node HTTP servers, sniffer and client loops

def _http_get(addr, timeout=0.5):
    """GET / from addr:80 (run inside a namespace); returns the body or None."""
    try:
        r = requests.get(f"http://{addr}/", timeout=timeout)
        return r.text.strip() if r.status_code == 200 else None
    except requests.RequestException:
        return None


class Net:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.lab = nl.Lab(self.workdir / "lab")
        self.http = {}
        self.clients = {}  # target -> (Proc, ClientLog)
        self.ka = {}  # host -> Proc
        self.sniff = nl.SniffLog(self.workdir / "lab" / "sniff.log")
        self.cluster = None

    def start(self):
        self.lab.setup()
        for h in nl.LB_NODES:
            self.http[h] = self.lab.proc(f"http-{h}", h, [nl.PY, nl.HERE, "serve", h]).start()
        self.lab.proc("sniff", "cli", [nl.PY, nl.HERE, "sniff", self.sniff.path,
                                       nl.addr_of("cli")]).start()
        for h in nl.LB_NODES:
            got = nl.wait_for(lambda h=h: self.lab.call_in("cli", _http_get, nl.addr_of(h)) == h,
                              10, 0.1)
            if not got:
                raise RuntimeError(f"HTTP server on {h} not answering:\n{self.http[h].log()}")
        return self

    def stop(self):
        self.lab.teardown()

    def client(self, target):
        """The request loop towards target (started on first use); returns its ClientLog."""
        if target not in self.clients or not self.clients[target][0].alive():
            path = self.workdir / "lab" / f"client-{target}.{time.monotonic_ns()}.log"
            p = self.lab.proc(f"client-{target}", "cli",
                              [nl.PY, nl.HERE, "client", target, path, CLIENT_INTERVAL,
                               CLIENT_TIMEOUT]).start()
            self.clients[target] = (p, nl.ClientLog(path))
            nl.wait_for(lambda: path.exists(), 5, 0.05)
        return self.clients[target][1]

    def stop_client(self, target):
        if target in self.clients:
            self.clients[target][0].stop()
            del self.clients[target]

    # -- keepalived --------------------------------------------------------------------------
    def keepalived(self, host, conf):
        """Starts keepalived in the foreground in host's namespace (own session) with conf.
        Each run has pid files of its own: a killed run's VRRP child may not be reaped yet when
        the next starts, and keepalived refuses to start while a pid file names a live process
        ("daemon is already running")."""
        self.stop_keepalived(host)
        d = self.workdir / "lab"
        n = len([p for p in self.lab.procs if p.name.startswith(f"keepalived-{host}")])
        cpath = d / f"keepalived-{host}.{n}.conf"
        cpath.write_text(conf)
        p = self.lab.proc(f"keepalived-{host}.{n}", host,
                          ["keepalived", "-n", "-l", "-D", "-f", cpath,
                           "-p", d / f"keepalived-{host}.{n}.pid",
                           "-r", d / f"vrrp-{host}.{n}.pid"])
        self.ka[host] = p.start()
        return p

    def stop_keepalived(self, host, sig=signal.SIGTERM):
        p = self.ka.pop(host, None)
        if p is not None:
            p.stop(sig, timeout=5)
            p.kill()  # the VRRP child, if the parent went first

    def keepalived_log(self, host):
        p = self.ka.get(host)
        return p.log() if p else f"(no keepalived on {host})"


@pytest.fixture(scope="session")
def net(tmp_path_factory):
    _require_root()
    workdir = tmp_path_factory.mktemp("cluster")
    _NET_WORKDIR.append(workdir)
    n = Net(workdir)
    try:
        n.start()
        yield n
    finally:
        if n.cluster is not None:
            n.cluster.shutdown()
        n.stop()


@pytest.fixture(scope="session")
def has_keepalived():
    if shutil.which("keepalived") is None:
        pytest.skip("keepalived is not installed")


# ---------------------------------------------------------------------------------------------
# vigild + agents

class ApiError(AssertionError):
    pass


class Api:
    """HTTP to vigild from inside vg-srv (a fresh connection per request)."""

    def __init__(self, lab, base, token):
        self.lab, self.base, self.token = lab, base, token

    def request(self, method, path, body=None, timeout=5, expect=None):
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        url = path if path.startswith("http") else self.base + path

        def do():
            return requests.request(method, url, json=body, headers=headers, timeout=timeout)

        r = self.lab.call_in("srv", do)
        if expect is not None and r.status_code not in (expect if isinstance(expect, tuple)
                                                        else (expect,)):
            raise ApiError(f"{method} {path}: {r.status_code} (expected {expect}): {r.text}")
        return r

    def get(self, path, **kw):
        return self.request("GET", path, expect=kw.pop("expect", 200), **kw).json()

    def put(self, path, body, **kw):
        return self.request("PUT", path, body, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def patch(self, path, body, timeout=5, expect=200):
        """RFC 7396 merge patch (application/merge-patch+json)."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                   "Content-Type": "application/merge-patch+json"}

        def do():
            return requests.patch(self.base + path, data=json.dumps(body), headers=headers,
                                  timeout=timeout)

        r = self.lab.call_in("srv", do)
        if expect is not None and r.status_code not in (expect if isinstance(expect, tuple)
                                                        else (expect,)):
            raise ApiError(f"PATCH {path}: {r.status_code} (expected {expect}): {r.text}")
        return r


AGENT_SCRIPT_DIR = Path("/etc/vigil/scripts")  # vigil-agent's default --script-dir


def _script_dir(agent_bin):
    """The agents' script directory: root-owned 0755, reachable by nobody (who runs the
    scripts), so outside pytest's 0700 tmp. Returns (dir, extra agent arguments, directories
    created here, removed at the end, outermost first).

    An agent that takes --script-dir gets a fresh one under /tmp (sticky: the agent accepts it).
    One that does not (probed: `--script-dir D --version` exits 0 only when the option parses)
    uses its default, /etc/vigil/scripts, created here when missing."""
    probe = nl.run(agent_bin, "--script-dir", "/", "--version", check=False)
    if probe.returncode == 0:
        d = Path(tempfile.mkdtemp(prefix="vgcluster-scripts-", dir="/tmp"))
        d.chmod(0o755)
        return d, ["--script-dir", d], [d]
    chain = list(reversed(AGENT_SCRIPT_DIR.parents[:-1])) + [AGENT_SCRIPT_DIR]  # /etc, ...
    missing = [d for d in chain if not d.exists()]
    made = missing[:1]  # the outermost missing one: removing it removes the rest
    for d in missing:
        d.mkdir(mode=0o755)
        d.chmod(0o755)
    return AGENT_SCRIPT_DIR, [], made


class Cluster:
    def __init__(self, net, agent_bin, vigild_bin):
        self.net, self.lab = net, net.lab
        self.dir = net.workdir / "vigil"
        self.dir.mkdir(exist_ok=True)
        self.agent_bin, self.vigild_bin = agent_bin, vigild_bin
        self.admin_token = secrets.token_hex(16)
        self.base = f"http://{nl.mgmt_addr_of('srv')}:{SERVER_PORT}"
        self.api = Api(self.lab, self.base, self.admin_token)
        self.server = self.lab.proc(
            "vigild", "srv", [vigild_bin, "--listen", f"{nl.mgmt_addr_of('srv')}:{SERVER_PORT}",
                              "--db", self.dir / "vigil.db", "--agent-timeout", AGENT_TIMEOUT_S],
            env={"VIGIL_ADMIN_TOKEN": self.admin_token}, cwd=self.dir)
        self.agents = {}
        self.sanitizer_seen = set()
        self.script_dir, self.script_args, self._made = _script_dir(agent_bin)

    # -- vigild ------------------------------------------------------------------------------
    def start_server(self):
        self.server.start()
        ok = nl.wait_for(lambda: self.lab.call_in("srv", lambda: requests.get(
            self.base + "/healthz", timeout=0.5).status_code == 200), 15, 0.05)
        if not ok:
            raise RuntimeError(f"vigild did not come up:\n{self.server.log()}")

    def stop_server(self):
        rc = self.server.stop(signal.SIGTERM, timeout=10)
        assert rc == 0, f"vigild exited {rc}:\n{self.server.log()}"

    def provision(self):
        for node in NODES:
            self.api.put(f"/nodes/{node}", {"address": nl.addr_of(node), "interface": "eth0",
                                            **({"ip_nonlocal_bind": True} if node == "lb1"
                                               else {})}, expect=(200, 201))
        for name, spec in VIPS.items():
            self.api.put(f"/vips/{name}", spec, expect=(200, 201))
        for node in NODES:
            r = self.api.post("/tokens", {"role": "agent", "node": node,
                                          "description": f"cluster test agent {node}"},
                              expect=201)
            tok = self.dir / f"{node}.token"
            tok.write_text(r.json()["secret"] + "\n")
            tok.chmod(0o600)
            (self.dir / f"state-{node}").mkdir(exist_ok=True)
            self.agents[node] = self.lab.proc(
                f"agent-{node}", node,
                [self.agent_bin, "--server", self.base, "--node", node, "--token-file", tok,
                 "--state-dir", self.dir / f"state-{node}", "--heartbeat-ms", HEARTBEAT_MS,
                 "--notify-timeout-ms", NOTIFY_TIMEOUT_MS, *self.script_args],
                env={"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
                     "UBSAN_OPTIONS": "print_stacktrace=1"}, cwd=self.dir)

    def shutdown(self):
        for node, p in self.agents.items():
            if p.alive():
                p.stop(signal.SIGTERM, timeout=3)
        self.server.stop(signal.SIGTERM, timeout=5)
        self.remove_script_dir()

    def remove_script_dir(self):
        """Removes what _script_dir created (deepest first), nothing else."""
        for d in self._made:
            shutil.rmtree(d, ignore_errors=True)
        self._made = []

    # -- agents ------------------------------------------------------------------------------
    def start_agent(self, node):
        p = self.agents[node]
        if p.alive():
            return p
        return p.start()

    def agent_alive(self, node):
        return self.agents[node].alive()

    def kill_agent(self, node):
        """SIGKILL: the agent stops dead, leaving its VIPs where they are."""
        self.agents[node].kill()

    def term_agent(self, node, timeout=5):
        """SIGTERM; returns the exit code (None if it had to be killed)."""
        p = self.agents[node]
        p.send(signal.SIGTERM, group=False)
        rc = p.wait(timeout)
        if rc is None:
            p.kill()
        return rc

    def power_off(self, node):
        """SIGKILL the agent, then take both its ports down (LAB-NOTES: power-off)."""
        self.kill_agent(node)
        self.lab.power_off_ports(node)

    def power_on(self, node, agent=True):
        """Addresses flushed as after a reboot, ports up, agent started."""
        self.lab.power_on_ports(node)
        if agent:
            self.start_agent(node)

    def logs(self, *nodes):
        nodes = nodes or tuple(self.agents)
        parts = [f"=== agent {n} (pid {self.agents[n].pid}, "
                 f"{'running' if self.agent_alive(n) else 'exited'}) ===\n"
                 + self.agents[n].log(4000) for n in nodes]
        return "\n".join(parts)

    def sanitizer_reports(self):
        out = []
        for p in list(self.agents.values()) + [self.server]:
            for f in sorted(self.lab.workdir.glob(f"{p.name}.*.err")):
                if f in self.sanitizer_seen:
                    continue
                text = f.read_text(errors="replace")
                if any(m in text for m in SANITIZER_MARKERS):
                    self.sanitizer_seen.add(f)
                    out.append(f"--- {f.name} ---\n{text[-6000:]}")
        return out

    # -- observed state ----------------------------------------------------------------------
    def node_status(self, node):
        return self.api.get(f"/nodes/{node}/status")

    def vrrp(self, node, vip):
        """(state, priority) the server shows for node's instance of vip, or (None, None)."""
        st = self.node_status(node)
        v = (st.get("vrrp") or {}).get(vip) or {}
        return v.get("state"), v.get("priority")

    def agent_state(self, node):
        return self.node_status(node).get("agent")

    def vip(self, name):
        return self.api.get(f"/vips/{name}")

    def holder(self, name):
        return self.api.get(f"/vips/{name}/holder")

    def wait_vrrp(self, node, vip, state, timeout):
        return nl.wait_for(lambda: self.vrrp(node, vip)[0] == state, timeout, 0.1)

    def wait_holder(self, vip_addr, node, timeout):
        """Waits until node alone (among lb1..lb3) carries vip_addr."""
        return nl.wait_for(lambda: self.lab.holders(vip_addr) == [node], timeout, 0.02)

    def settled(self, name):
        h = self.holder(name)
        return h if h.get("state") == "settled" else None

    def is_steady(self):
        if not all(self.agent_alive(n) for n in NODES):
            return False
        if self.lab.holders(WEB) != ["lb1"]:
            return False
        if self.vrrp("lb1", "web")[0] != "MASTER" or self.vrrp("lb2", "web")[0] != "BACKUP":
            return False
        h = self.holder("web")
        return h.get("requested") is None and h.get("node") == "lb1"

    def ensure_steady(self):
        """Every failure undone, agents running, web held by lb1 (lb2 BACKUP), no move request
        standing. Raises with the agents' logs if that cannot be reached."""
        for host in NODES + ("lb3",):
            self.net.stop_keepalived(host, signal.SIGKILL)
        for addr in (WEB, KA2, KA3):  # lb3 runs no agent: a VIP there is a killed keepalived's
            self.lab.del_addr("lb3", addr)
        if not self.server.alive():
            self.start_server()
        for node in NODES:
            if not self.lab.ports_ok(node):
                self.kill_agent(node)
                self.power_on(node, agent=False)
            if not self.agent_alive(node):
                self.start_agent(node)
        for host in ("lb3",):
            if not self.lab.ports_ok(host):
                self.lab.power_on_ports(host)
        # Started agents: wait until some member holds web and both report.
        nl.wait_for(lambda: self.vrrp("lb1", "web")[0] in ("MASTER", "BACKUP") and
                    self.vrrp("lb2", "web")[0] in ("MASTER", "BACKUP") and
                    len(self.lab.holders(WEB)) == 1, master_down_s(100) + 4, 0.1)
        if self.is_steady():
            return
        h = self.holder("web")
        if h.get("node") != "lb1":
            # A failback, measured like scenario 3's when the client was steadily on lb2.
            log = self.net.client(WEB)
            measured = h.get("node") == "lb2" and nl.wait_client_on(log, "lb2", timeout=2)
            t0 = time.monotonic()
            self.api.put("/vips/web/holder", {"node": "lb1"}, expect=202)
            if measured:
                r = nl.takeover(self.lab, log, WEB, "lb1", t0, 3)
                _MEASUREMENTS.note(impl="vigil", event="failback lb2 -> lb1 (steady fixture)",
                                   **r)
                if r["client_s"] is not None:
                    _MEASUREMENTS.record("vigil", "move_back", r["client_s"])
                    _MEASUREMENTS.record("vigil", "move_back_failed", r["failed"])
            nl.wait_for(lambda: self.settled("web") and self.holder("web")["node"] == "lb1", 8,
                        0.1)
        self.api.delete("/vips/web/holder", expect=204)
        if not nl.wait_for(self.is_steady, 8, 0.1):
            raise AssertionError(
                f"cluster does not reach its resting state: web on {self.lab.holders(WEB)}, "
                f"lb1 {self.vrrp('lb1', 'web')}, lb2 {self.vrrp('lb2', 'web')}, holder "
                f"{self.holder('web')}\n{self.logs()}")


@pytest.fixture(scope="session")
def cluster(request):
    _require_root()
    agent = _binary("VIGIL_AGENT", "build/vigil-agent")
    vigild = _binary("VIGILD", "build/vigild")
    if not agent.exists():
        pytest.skip(f"{agent} not built (make build/vigil-agent)")
    if not vigild.exists():
        pytest.skip(f"{vigild} not built (make build/vigild)")
    net = request.getfixturevalue("net")
    c = Cluster(net, agent, vigild)
    net.cluster = c
    c.start_server()
    c.provision()
    # Both agents at once, the lower priority first: the higher must win the election anyway.
    for node in reversed(NODES):
        c.start_agent(node)
    yield c
    # Session end: every agent must stop cleanly on SIGTERM, with no sanitizer report.
    problems = []
    for node, p in c.agents.items():
        if p.alive():
            rc = p.stop(signal.SIGTERM, timeout=5)
            if rc != 0:
                problems.append(f"agent {node} exited {rc} on SIGTERM:\n{p.log(3000)}")
    c.server.stop(signal.SIGTERM, timeout=5)
    c.remove_script_dir()
    problems += c.sanitizer_reports()
    net.cluster = None
    if problems:
        raise AssertionError("\n".join(problems))


@pytest.fixture
def steady(cluster, net):
    cluster.ensure_steady()
    net.client(WEB)
    yield cluster
    reps = cluster.sanitizer_reports()
    if reps:
        pytest.fail("sanitizer report from an agent or vigild:\n" + "\n".join(reps))


@pytest.fixture
def no_agents(net):
    """Agents on lb1/lb2 stopped (SIGTERM, releasing what they hold) for the keepalived
    baseline; the next `steady` starts them again."""
    c = net.cluster
    if c is not None:
        for node in NODES:
            if c.agent_alive(node):
                c.term_agent(node)
    for h in NODES:
        if not net.lab.ports_ok(h):
            net.lab.power_on_ports(h)
    yield
    for h in NODES + ("lb3",):
        net.stop_keepalived(h, signal.SIGKILL)
        if not net.lab.ports_ok(h):
            net.lab.power_on_ports(h)
        else:
            net.lab.if_up(h)
    for h in NODES + ("lb3",):
        for a in (WEB, KA2, KA3):
            net.lab.del_addr(h, a)
