"""Cost follows what changed: an agent heartbeat that reports nothing new is not a write (no
revision, no event, no ETag of a config or collection moves, nobody is woken), a parked long-poll is
re-evaluated only when something its answer depends on changed, and liveness survives a restart."""

import time

import pytest

from vigiltest import Background, uniq, wait_until

REPORT = {"agent_version": "0.1.0", "ip_nonlocal_bind": True, "vips_held": [],
          "moves_done": {}, "counters": {}}


@pytest.fixture
def pair(admin):
    """Nodes a and b with agents, VIP va (a 200, b 100), a backend and a check behind it, and
    VIP vc with only node c (a stranger to a and b)."""
    a, b, c = (admin.node()["name"] for _ in range(3))
    agents = {n: admin.mint("agent", node=n) for n in (a, b, c)}
    va = admin.vip(members=[{"node": a, "priority": 200}, {"node": b, "priority": 100}])["name"]
    vc = admin.vip(members=[{"node": c, "priority": 100}])["name"]
    be = admin.backend(va)["name"]
    chk = admin.check(type="tcp", backend=be)["name"]
    return a, b, c, agents, va, vc, be, chk


def report(agent, vrrp=None, **extra):
    body = dict(REPORT, vrrp=vrrp or {}, **extra)
    r = agent.put(f"/nodes/{agent.bound_node}/status", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def revision(c):
    return c.get("/").json()["revision"]


def wakeups(c):
    text = c.get("/metrics").text
    line = next(x for x in text.splitlines() if x.startswith("vigil_longpoll_wakeups_total "))
    return int(line.split()[1])


def etags(c, paths):
    return {p: c.etag(p) for p in paths}


def test_identical_heartbeats_move_nothing(admin, pair):
    a, b, _, agents, va, vc, be, chk = pair
    vrrp = {va: {"state": "MASTER", "priority": 200}}
    report(agents[a], vrrp=vrrp, vips_held=[va])
    rev = revision(admin)
    watched = [f"/nodes/{a}/config", f"/nodes/{b}/config", "/nodes", "/vips", "/backends",
               "/checks", f"/vips?node={a}", f"/vips/{va}", f"/vips/{vc}", f"/backends/{be}",
               f"/checks/{chk}"]
    before = etags(admin, watched)
    seen = []
    for _ in range(3):
        time.sleep(0.02)
        seen.append(report(agents[a], vrrp=vrrp, vips_held=[va])["last_seen"])
    assert revision(admin) == rev, "an identical heartbeat moved the revision"
    feed = admin.get(f"/events?since={rev}").json()
    assert feed["count"] == 0, feed["_embedded"]["events"]
    assert etags(admin, watched) == before
    # last_seen still moves: on the item and the status sub-resource
    assert seen == sorted(seen) and seen[0] != seen[-1]
    assert admin.get(f"/nodes/{a}/status").json()["last_seen"] == seen[-1]
    assert admin.get(f"/nodes/{a}").json()["status"]["last_seen"] == seen[-1]


def test_a_vrrp_state_change_is_recorded_once(admin, pair):
    a, _, _, agents, va, _, _, _ = pair
    report(agents[a], vrrp={va: {"state": "BACKUP", "priority": 200}})
    rev = revision(admin)
    master = {va: {"state": "MASTER", "priority": 200}}
    for _ in range(3):
        report(agents[a], vrrp=master, vips_held=[va])
    events = admin.get(f"/events?since={rev}").json()["_embedded"]["events"]
    changed = sorted((e["kind"], e["name"]) for e in events)
    # the node's status, and the VIP's status derived from it: once each, not per heartbeat
    assert changed == sorted([("node", a), ("vip", va)]), events
    assert admin.get(f"/vips/{va}").json()["status"]["holder"] == a


def test_a_changed_check_result_is_recorded_once(admin, pair):
    a, _, _, agents, _, _, be, chk = pair
    report(agents[a])
    rev = revision(admin)
    result = {chk: {"state": "down", "output": "connection refused",
                    "at": "2026-01-02T03:04:05Z"}}
    for _ in range(3):
        report(agents[a], checks=result)
    events = admin.get(f"/events?since={rev}").json()["_embedded"]["events"]
    assert sorted((e["kind"], e["name"]) for e in events) == \
        sorted([("check", chk), ("backend", be)]), events
    assert admin.get(f"/backends/{be}").json()["status"]["health"] == "down"


def test_identical_heartbeat_wakes_no_long_poll(admin, pair):
    a, _, _, agents, va, _, _, _ = pair
    report(agents[a], vrrp={va: {"state": "MASTER", "priority": 200}}, vips_held=[va])
    paths = [f"/nodes/{a}/config", "/nodes", f"/vips/{va}"]
    parked = [Background(admin.get, f"{p}?wait=2", headers={"If-None-Match": admin.etag(p)},
                         timeout=10) for p in paths]
    time.sleep(0.3)
    w0 = wakeups(admin)
    for _ in range(3):
        report(agents[a], vrrp={va: {"state": "MASTER", "priority": 200}}, vips_held=[va])
    assert wakeups(admin) == w0, "a heartbeat that changed nothing re-evaluated a long-poll"
    for bg in parked:
        assert bg.result().status_code == 304


def test_config_poll_is_not_woken_by_another_nodes_writes(admin, pair):
    a, _, c, agents, _, vc, _, _ = pair
    path = f"/nodes/{a}/config"
    bg = Background(agents[a].get, f"{path}?wait=2", headers={"If-None-Match":
                                                               agents[a].etag(path)}, timeout=10)
    time.sleep(0.3)
    w0 = wakeups(admin)
    # node c's VIP, node c itself, its status (a real change), a new VIP of c's
    assert admin.patch(f"/vips/{vc}", json={"preempt": True}).status_code == 200
    assert admin.patch(f"/nodes/{c}", json={"labels": {"rack": "r9"}}).status_code == 200
    report(agents[c], vrrp={vc: {"state": "MASTER", "priority": 100}}, vips_held=[vc])
    admin.vip(members=[{"node": c, "priority": 50}])
    assert wakeups(admin) == w0, "writes to another node woke this node's config poll"
    r = bg.result()
    assert r.status_code == 304
    assert bg.elapsed >= 1.9


@pytest.mark.parametrize("what", ["vip", "backend", "check", "new-vip", "node-check"])
def test_config_poll_wakes_on_what_it_depends_on(admin, pair, what):
    a, b, _, agents, va, _, be, chk = pair
    path = f"/nodes/{b}/config"
    bg = Background(agents[b].get, f"{path}?wait=10",
                    headers={"If-None-Match": agents[b].etag(path)}, timeout=20)
    time.sleep(0.3)
    if what == "vip":
        admin.patch(f"/vips/{va}", json={"preempt": True})
    elif what == "backend":
        admin.patch(f"/backends/{be}", json={"weight": 7})
    elif what == "check":
        admin.patch(f"/checks/{chk}", json={"interval_ms": 3000})
    elif what == "new-vip":
        admin.vip(name=uniq("nv"), members=[{"node": b, "priority": 10}])
    else:
        admin.check(type="tcp", node=b, port=22)
    r = bg.result()
    assert r.status_code == 200, r.text
    assert bg.elapsed < 3, f"woke after {bg.elapsed:.2f}s"
    cfg = r.json()
    if what == "vip":
        assert next(v for v in cfg["vips"] if v["name"] == va)["preempt"] is True
    elif what == "backend":
        assert next(x for x in cfg["backends"] if x["name"] == be)["weight"] == 7
    elif what == "check":
        assert next(x for x in cfg["checks"] if x["name"] == chk)["interval_ms"] == 3000
    elif what == "new-vip":
        assert len(cfg["vips"]) == 2
    else:
        assert any(x.get("node") == b for x in cfg["checks"])


def test_collection_etag_changes_exactly_when_a_member_changes(admin, pair):
    a, _, c, agents, va, vc, _, _ = pair
    page = f"/vips?node={a}"
    e0 = admin.etag(page)
    admin.patch(f"/vips/{vc}", json={"preempt": True})  # not on the page
    assert admin.etag(page) == e0
    admin.patch(f"/vips/{va}", json={"preempt": True})  # on the page
    assert admin.etag(page) != e0


def test_silent_agent_goes_down_once_and_failback_link_follows(make_server):
    srv = make_server("--agent-timeout", "1")
    c = srv.client()
    a, b = c.node()["name"], c.node()["name"]
    va = c.vip(members=[{"node": a, "priority": 200}, {"node": b, "priority": 100}])["name"]
    ga, gb = c.mint("agent", node=a), c.mint("agent", node=b)
    report(ga, vrrp={va: {"state": "BACKUP", "priority": 200}})
    report(gb, vrrp={va: {"state": "MASTER", "priority": 100}}, vips_held=[va])
    assert "vg:failback" in c.get(f"/vips/{va}").json()["_links"]
    rev = revision(c)
    # b keeps reporting, a falls silent
    deadline = time.monotonic() + 4
    while c.get(f"/nodes/{a}/status").json()["agent"] != "down":
        assert time.monotonic() < deadline, "a was not marked down"
        report(gb, vrrp={va: {"state": "MASTER", "priority": 100}}, vips_held=[va])
        time.sleep(0.3)
    assert "vg:failback" not in c.get(f"/vips/{va}").json()["_links"]
    events = c.get(f"/events?since={rev}").json()["_embedded"]["events"]
    assert [(e["kind"], e["name"]) for e in events if e["kind"] == "node"] == [("node", a)]
    assert c.get(f"/nodes/{b}/status").json()["agent"] == "up"
    # a comes back: up again, one event, and the link returns
    rev = revision(c)
    report(ga, vrrp={va: {"state": "BACKUP", "priority": 200}})
    assert c.get(f"/nodes/{a}").json()["status"]["agent"] == "up"
    assert "vg:failback" in c.get(f"/vips/{va}").json()["_links"]
    events = c.get(f"/events?since={rev}").json()["_embedded"]["events"]
    assert ("node", a) in [(e["kind"], e["name"]) for e in events]


def test_liveness_after_restart(make_server):
    """After a restart, a node that was up stays up for --agent-timeout without a report (its
    lease starts at the restart), and goes down if it then stays silent."""
    srv = make_server("--agent-timeout", "2")
    c = srv.client()
    a = c.node()["name"]
    ga = c.mint("agent", node=a)
    seen = report(ga)["last_seen"]
    srv.restart()
    c = srv.client()
    st = c.get(f"/nodes/{a}/status").json()
    assert st["agent"] == "up"
    assert st["last_seen"] == seen  # the last one recorded; nothing since this start
    time.sleep(1)
    assert c.get(f"/nodes/{a}/status").json()["agent"] == "up"
    wait_until(lambda: c.get(f"/nodes/{a}/status").json()["agent"] == "down", timeout=5,
               what="agent down after the restart's grace")


def test_many_silent_agents_go_down_in_one_sweep(make_server):
    """More silent agents than one sweep transaction takes (64) are all marked down together."""
    srv = make_server("--agent-timeout", "1")
    c = srv.client()
    names = [c.node()["name"] for _ in range(70)]
    for n in names:
        report(c.mint("agent", node=n))
    wait_until(lambda: all(c.get(f"/nodes/{n}/status").json()["agent"] == "down"
                           for n in names[::7] + names[-1:]),
               timeout=6, what="all 70 agents down")
    page = c.get("/nodes?limit=100").json()["_embedded"]["nodes"]
    assert sorted(x["name"] for x in page if x["status"]["agent"] == "down") == sorted(names)
