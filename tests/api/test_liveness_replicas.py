"""Agent liveness with three vigild on one etcd (issue 12): heartbeats renew an etcd lease per node
through any replica (no revision), one elected replica turns expired leases into "agent down", and
its writes are fenced by its election key, so a paused and resumed ex-leader cannot write as
leader. Runs with VIGIL_BACKEND=etcd (make api-test-etcd); on SQLite liveness is per process.

Every replica runs with VIGIL_TEST_SWEEP_PAUSE_MS: a sweep that found a silent agent waits that
long between its reads and its commit (and says so on stderr), so that the leader can be
SIGSTOPped inside that window."""

import base64
import signal
import time

import pytest
import requests

import vigiltest
from vigiltest import VigilServer, wait_until

pytestmark = pytest.mark.skipif(vigiltest.BACKEND != "etcd",
                                reason="replicas share liveness only on etcd")

TIMEOUT_S = 2  # --agent-timeout: the agents' leases
LEAD_TTL_S = 3  # the leader's lease: --agent-timeout, at least 3 s
PAUSE_MS = 1500
REPORT = {"agent_version": "0.1.0", "ip_nonlocal_bind": True, "vips_held": [],
          "moves_done": {}, "counters": {}, "vrrp": {}}


@pytest.fixture(scope="module")
def trio(tmp_path_factory):
    """Replicas A, B and C of one store (A's prefix and admin token)."""
    env = {"VIGIL_TEST_SWEEP_PAUSE_MS": str(PAUSE_MS)}
    args = ["--agent-timeout", str(TIMEOUT_S)]
    a = VigilServer(tmp_path_factory.mktemp("live_a"), args=args, env=env, name="live_a")
    a.start()
    servers = [a]
    for n in ("live_b", "live_c"):
        s = VigilServer(tmp_path_factory.mktemp(n), args=args, env=env, name=n,
                        admin_token=a.admin_token)
        s.etcd_prefix = a.etcd_prefix
        s.start()
        servers.append(s)
    yield servers
    for s in servers:
        if s.proc is not None:
            s.proc.send_signal(signal.SIGCONT)
    for s in servers:
        s.stop()


def etcd_range(key):
    """(revision, [kvs]) of key on the session's etcd, read through its JSON gateway."""
    ep = vigiltest.ETCD_ENDPOINTS.split(",")[0]
    body = {"key": base64.b64encode(key.encode()).decode()}
    doc = requests.post(f"{ep}/v3/kv/range", json=body, timeout=5).json()
    return int(doc["header"]["revision"]), doc.get("kvs", [])


def leader(trio):
    """The replica whose pid the leader key names (None: no leader)."""
    _, kvs = etcd_range(trio[0].etcd_prefix + "leader")
    if not kvs:
        return None
    pid = int(base64.b64decode(kvs[0]["value"]).decode().split()[-1])
    return next((s for s in trio if s.proc is not None and s.proc.pid == pid), None)


def agent_of(trio, admin):
    """A new node and one client per replica with its agent token."""
    node = admin.node()["name"]
    tok = admin.mint("agent", node=node)
    return node, [s.client(tok.token) for s in trio]


def report(client, node):
    r = client.put(f"/nodes/{node}/status", json=REPORT)
    assert r.status_code == 200, r.text


def node_events(client, node, since):
    r = client.get(f"/events?since={since}&limit=500")
    return [e for e in r.json()["_embedded"]["events"] if (e["kind"], e["name"]) == ("node", node)]


def agent_state(client, node):
    return client.get(f"/nodes/{node}/status").json()["agent"]


def revision(client):
    return client.get("/").json()["revision"]


def test_heartbeats_through_any_replica_keep_it_up_without_a_revision(trio):
    admin = trio[0].client()
    wait_until(lambda: leader(trio) is not None, timeout=5, what="a leader")
    node, agents = agent_of(trio, admin)
    report(agents[0], node)  # the agent comes up: one write, one lease
    since = revision(admin)
    time.sleep(0.3)
    rev0, _ = etcd_range(trio[0].etcd_prefix + "feed")
    leader0 = leader(trio)
    t_end = time.monotonic() + 2.5 * TIMEOUT_S
    i = 0
    while time.monotonic() < t_end:  # A, B, C in turn, well within the timeout
        report(agents[i % 3], node)
        i += 1
        time.sleep(0.4)
    rev1, _ = etcd_range(trio[0].etcd_prefix + "feed")
    assert leader(trio) is leader0
    assert rev1 == rev0, f"{i} heartbeats moved etcd's revision {rev0} -> {rev1}"
    for c in (s.client() for s in trio):
        assert agent_state(c, node) == "up"
        assert node_events(c, node, since) == []
    print(f"\n{i} heartbeats through A, B and C: etcd revision {rev0} -> {rev1}")


def test_silent_agent_goes_down_once_on_every_replica(trio):
    admin = trio[0].client()
    node, agents = agent_of(trio, admin)
    since = revision(admin)
    report(agents[0], node)
    t0 = time.monotonic()
    wait_until(lambda: agent_state(admin, node) == "down", timeout=TIMEOUT_S + 6,
               what="the silent agent marked down")
    took = time.monotonic() - t0
    time.sleep(TIMEOUT_S)  # time for a second (wrong) down from another replica
    lists = [node_events(s.client(), node, since) for s in trio]
    assert len(lists[0]) == 2, lists[0]  # up (its report), then down (the sweep)
    assert lists[0][1]["actor"] == {"type": "system", "name": "liveness-sweep"}, lists[0][1]
    assert lists[1] == lists[0] and lists[2] == lists[0]
    print(f"\nsilent agent down after {took:.2f}s (timeout {TIMEOUT_S}s, pause {PAUSE_MS}ms)")


def test_paused_leader_is_replaced_and_fenced(trio):
    old = leader(trio)
    assert old is not None
    others = [s for s in trio if s is not old]
    admin = others[0].client()
    node, agents = agent_of(trio, admin)
    since = revision(admin)
    report(agents[trio.index(others[0])], node)
    paused = old.stderr_text().count("sweep paused")
    # the leader found the silent agent and waits before its commit: stop it there
    wait_until(lambda: old.stderr_text().count("sweep paused") > paused,
               timeout=TIMEOUT_S + 4, interval=0.02, what="the leader's sweep")
    old.proc.send_signal(signal.SIGSTOP)
    t_stop = time.monotonic()
    try:
        wait_until(lambda: leader(trio) not in (None, old), timeout=LEAD_TTL_S + 3,
                   what="another replica leading")
        took_over = time.monotonic() - t_stop
        new = leader(trio)
        wait_until(lambda: agent_state(admin, node) == "down", timeout=TIMEOUT_S + 5,
                   what="the silent agent marked down by the new leader")
        down_after = time.monotonic() - t_stop
    finally:
        old.proc.send_signal(signal.SIGCONT)
    wait_until(lambda: "fenced" in old.stderr_text(), timeout=5,
               what="the ex-leader's sweep refused")
    time.sleep(1)
    lists = [node_events(s.client(), node, since) for s in trio]
    assert len(lists[0]) == 2, lists[0]  # up (its report), then one down
    assert lists[0][1]["actor"] == {"type": "system", "name": "liveness-sweep"}, lists[0][1]
    assert lists[1] == lists[0] and lists[2] == lists[0]
    assert leader(trio) is new
    assert agent_state(old.client(), node) == "down"
    # the lease's TTL, etcd's expiry check (500 ms), the next sweep tick (1 s)
    assert took_over <= LEAD_TTL_S + 1.5, f"took over {took_over:.2f}s after the stop"
    print(f"\nleader stopped: another led after {took_over:.2f}s, agent down after "
          f"{down_after:.2f}s; ex-leader fenced")
