"""Two vigild replicas on one etcd, two real agents with `--server A,B` (issue 12, scenario 6): kill
-9 replica A; the agents move to B, a manual move and failback through B still work, and web is
held by exactly one node throughout (sampled). Its own control plane: a three-member etcd and the
two replicas run in vg-srv (etcd on the namespace's loopback, the replicas on its management
address), the session's agents on lb1/lb2 are stopped for the test and started again after it; the
session's SQLite vigild is left alone."""

import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests

import netlab as nl
from conftest import AGENT_TIMEOUT_S, HEARTBEAT_MS, NODES, VIPS, WEB, Api

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "etcd"))
from etcdlab import ETCD, EtcdLab  # noqa: E402

REPLICA_PORTS = (8090, 8091)
ETCD_BASE_PORT = 23790  # inside vg-srv, where nothing else listens


class NsEtcdLab(EtcdLab):
    """EtcdLab with its members inside host's namespace (loopback there)."""

    def __init__(self, lab, host, workdir):
        super().__init__(workdir, base_port=ETCD_BASE_PORT, extra_args=["--max-txn-ops", "8192"])
        self.lab, self.host = lab, host

    def _spawn(self, i, state):
        log = open(Path(self.workdir) / f"{self.name(i)}.log", "ab")
        self.logs[i] = log
        self.procs[i] = subprocess.Popen(["ip", "netns", "exec", nl.ns_of(self.host)] +
                                         self._cmd(i, state), stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL)

    def health(self, i, timeout=1.0):
        return self.lab.call_in(self.host, lambda: EtcdLab.health(self, i, timeout))


class Replicas:
    """The etcd lab, replicas A and B on it, and an agent per node given --server A,B."""

    def __init__(self, c, workdir):
        self.c, self.lab = c, c.lab
        self.dir = Path(workdir)
        self.etcd = NsEtcdLab(self.lab, "srv", self.dir / "etcd")
        self.bases = [f"http://{nl.mgmt_addr_of('srv')}:{p}" for p in REPLICA_PORTS]
        self.vigild = [self.lab.proc(f"replica-{k}", "srv", [
            c.vigild_bin, "--listen", f"{nl.mgmt_addr_of('srv')}:{port}",
            "--etcd", self.etcd.endpoints(), "--etcd-prefix", "/vigil-replicas/",
            "--agent-timeout", AGENT_TIMEOUT_S], env={"VIGIL_ADMIN_TOKEN": c.admin_token},
            cwd=self.dir) for k, port in zip("ab", REPLICA_PORTS)]
        self.api = [Api(self.lab, b, c.admin_token) for b in self.bases]
        self.agents = {}

    def start(self):
        self.etcd.start()
        for k, p in enumerate(self.vigild):
            p.start()
            ok = nl.wait_for(lambda: self.lab.call_in("srv", lambda: requests.get(
                self.bases[k] + "/healthz", timeout=0.5).status_code == 200), 15, 0.05)
            assert ok, p.log()
        api = self.api[0]
        for node in NODES:
            api.put(f"/nodes/{node}", {"address": nl.addr_of(node), "interface": "eth0"},
                    expect=(200, 201))
        api.put("/vips/web", VIPS["web"], expect=(200, 201))
        for node in NODES:
            secret = api.post("/tokens", {"role": "agent", "node": node}, expect=201).json()
            tok = self.dir / f"{node}.token"
            tok.write_text(secret["secret"] + "\n")
            tok.chmod(0o600)
            (self.dir / f"state-{node}").mkdir(exist_ok=True)
            self.agents[node] = self.lab.proc(
                f"replicas-agent-{node}", node,
                [self.c.agent_bin, "--server", ",".join(self.bases), "--node", node,
                 "--token-file", tok, "--state-dir", self.dir / f"state-{node}",
                 "--heartbeat-ms", HEARTBEAT_MS, *self.c.script_args],
                env={"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0"}, cwd=self.dir)

    def stop(self):
        problems = []
        for node, p in self.agents.items():
            if p.alive() and p.stop(signal.SIGTERM, timeout=5) != 0:
                problems.append(f"agent {node} did not exit 0 on SIGTERM:\n{p.log(3000)}")
        for p in self.vigild:
            if p.alive() and p.stop(signal.SIGTERM, timeout=10) != 0:
                problems.append(f"{p.name} did not exit 0 on SIGTERM:\n{p.log(3000)}")
        self.etcd.stop()
        return problems


class Sampler(threading.Thread):
    """Who holds web, every ~50 ms: (monotonic time, [holders])."""

    def __init__(self, lab):
        super().__init__(daemon=True)
        self.lab, self.samples, self.stopped = lab, [], threading.Event()

    def run(self):
        while not self.stopped.is_set():
            self.samples.append((time.monotonic(), self.lab.holders(WEB, hosts=NODES)))
            time.sleep(0.05)

    def between(self, t0, t1):
        return [h for t, h in self.samples if t0 <= t <= t1]


def _reports_to(api, node, after):
    st = api.get(f"/nodes/{node}/status")
    t = st.get("last_seen")
    return st.get("agent") == "up" and t and \
        datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() > after


def _move(api, lab, node, timeout=10):
    """PUT /vips/web/holder {node} through api; returns seconds until node alone holds web."""
    t0 = time.monotonic()
    api.put("/vips/web/holder", {"node": node}, expect=202)
    assert nl.wait_for(lambda: lab.holders(WEB, hosts=NODES) == [node], timeout, 0.02), \
        lab.holders(WEB, hosts=NODES)
    took = time.monotonic() - t0
    assert nl.wait_for(lambda: api.get("/vips/web/holder").get("state") == "settled" and
                       api.get("/vips/web/holder").get("node") == node, timeout, 0.1), \
        api.get("/vips/web/holder")
    return took


@pytest.fixture
def replicas(cluster, tmp_path_factory):
    c = cluster
    if not Path(ETCD).exists():
        pytest.skip(f"{ETCD} missing (Debian etcd-server)")
    for node in NODES:  # the session's agents would fight ours over VRID 50
        c.term_agent(node)
    r = Replicas(c, tmp_path_factory.mktemp("replicas"))
    problems = []
    try:
        r.start()
        yield r
    finally:
        problems = r.stop()
        for node in NODES:
            c.start_agent(node)
        c.ensure_steady()
    assert not problems, "\n".join(problems)


def test_replica_killed_agents_move_on_and_failback_through_the_other(replicas):
    r, lab = replicas, replicas.lab
    a, b = r.api
    for node in reversed(NODES):
        r.agents[node].start()
    assert nl.wait_for(lambda: lab.holders(WEB, hosts=NODES) == ["lb1"], 15, 0.1), \
        r.c.logs()
    assert nl.wait_for(lambda: all(_reports_to(a, n, 0) for n in NODES), 10, 0.1)
    sampler = Sampler(lab)
    sampler.start()
    try:
        t_kill = time.monotonic()
        t_wall = time.time()
        r.vigild[0].kill()  # kill -9 replica A, which both agents talk to
        assert nl.wait_for(lambda: all(_reports_to(b, n, t_wall) for n in NODES), 20, 0.1), \
            "\n".join(r.agents[n].log(3000) for n in NODES)
        moved_s = time.monotonic() - t_kill
        time.sleep(2)
        t_quiet = time.monotonic()
        to_lb2 = _move(b, lab, "lb2")
        back_to_lb1 = _move(b, lab, "lb1")
        b.delete("/vips/web/holder", expect=204)
        time.sleep(1)
    finally:
        sampler.stopped.set()
        sampler.join(5)
    assert all(r.agents[n].alive() for n in NODES)
    during_kill = sampler.between(t_kill, t_quiet)
    during_moves = sampler.between(t_quiet, time.monotonic())
    both = sum(1 for h in during_moves if len(h) == 2)
    print(f"\nscenario 6: replica A killed -9; both agents reporting to B after {moved_s:.2f} s; "
          f"web on lb1 in all {len(during_kill)} samples meanwhile; move to lb2 through B "
          f"{to_lb2:.2f} s, failback to lb1 {back_to_lb1:.2f} s; {len(during_moves)} samples "
          f"over the moves, {both} with both holding for a moment, none with no holder")
    assert during_kill and all(h == ["lb1"] for h in during_kill), during_kill
    assert during_moves and all(h for h in during_moves), "web dropped during a move"
    assert lab.holders(WEB, hosts=NODES) == ["lb1"]
