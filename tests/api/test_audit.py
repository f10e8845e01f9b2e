"""Audit: every event in /events names who caused it (a token with its role, description and, for
an agent, its node; or vigild itself), GET /events?actor= keeps one actor's events with paging and
long-poll, and a database from before actors were recorded reads its old events with actor null."""

import json
import sqlite3
import time

import pytest

from vigiltest import REPO, Background, assert_problem, node_body, wait_until

REPORT = {"agent_version": "0.1.0", "ip_nonlocal_bind": True, "vips_held": [],
          "moves_done": {}, "counters": {}}
BOOTSTRAP = {"type": "token", "token": "bootstrap", "role": "admin",
             "description": "from VIGIL_ADMIN_TOKEN", "node": None}


def revision(c):
    return c.get("/events?limit=1").json()["revision"]


def events(c, query=""):
    """Every event of /events?QUERY, following next links to the end."""
    out = []
    r = c.get(f"/events?{query}")
    assert r.status_code == 200, r.text
    doc = r.json()
    while doc["count"]:
        out += doc["_embedded"]["events"]
        doc = c.get(doc["_links"]["next"]["href"]).json()
    return out


def since(c, rev, actor=None):
    return events(c, f"since={rev}" + (f"&actor={actor}" if actor else ""))


def token_actor(client, description, node=None):
    return {"type": "token", "token": client.token_id, "role": client.role,
            "description": description, "node": node}


def report(agent, vrrp=None, **extra):
    body = dict(REPORT, vrrp=vrrp or {}, **extra)
    r = agent.put(f"/nodes/{agent.bound_node}/status", json=body)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def operator(admin):
    return admin.mint("operator", description="alice (on call)")


@pytest.fixture
def cluster(admin):
    """Nodes a (preferred, 200) and b (100) with agents, VIP v held by b: failback possible."""
    a, b = admin.node()["name"], admin.node()["name"]
    v = admin.vip(members=[{"node": a, "priority": 200}, {"node": b, "priority": 100}])["name"]
    ga = admin.mint("agent", node=a, description=f"agent on {a}")
    gb = admin.mint("agent", node=b, description=f"agent on {b}")
    report(ga, vrrp={v: {"state": "BACKUP", "priority": 200}})
    report(gb, vrrp={v: {"state": "MASTER", "priority": 100}}, vips_held=[v])
    return a, b, v, ga, gb


def test_bootstrap_token_is_created_by_the_system(admin):
    first = admin.get("/events?since=0&limit=1").json()["_embedded"]["events"][0]
    assert (first["kind"], first["name"], first["change"]) == ("token", "bootstrap", "created")
    assert first["actor"] == {"type": "system", "name": "bootstrap"}


def test_generated_admin_token_is_created_by_the_system(make_server):
    srv = make_server(admin_token=None)
    secret = srv.admin_token_file.read_text().strip()
    c = srv.client(secret)
    evs = events(c, "since=0")
    assert len(evs) == 1 and evs[0]["kind"] == "token"
    assert evs[0]["actor"] == {"type": "system", "name": "bootstrap"}
    assert secret not in json.dumps(evs)


def test_every_resource_write_records_the_operator(admin, operator):
    rev = revision(admin)
    me = token_actor(operator, "alice (on call)")
    node = operator.node()["name"]
    operator.ok("PUT", f"/nodes/{node}", 200, json=node_body(node))
    vip = operator.vip(members=[{"node": node, "priority": 100}])["name"]
    operator.patch(f"/vips/{vip}", json={"preempt": True})
    be = operator.backend(vip)["name"]
    operator.patch(f"/backends/{be}", json={"weight": 3})
    chk = operator.check(backend=be)["name"]
    operator.patch(f"/checks/{chk}", json={"interval_ms": 5000})
    for path in (f"/checks/{chk}", f"/backends/{be}", f"/vips/{vip}", f"/nodes/{node}"):
        operator.ok("DELETE", path, 204)
    evs = since(admin, rev)
    seen = {(e["change"], e["kind"], e["name"]) for e in evs}
    for kind, name in (("node", node), ("vip", vip), ("backend", be), ("check", chk)):
        for change in ("created", "updated", "deleted"):
            assert (change, kind, name) in seen, (change, kind, name, seen)
    assert all(e["actor"] == me for e in evs), [e for e in evs if e["actor"] != me]


def test_token_writes_record_the_admin(admin):
    rev = revision(admin)
    tok = admin.mint("viewer", description="dashboard wall")
    admin.ok("DELETE", f"/tokens/{tok.token_id}", 204)
    evs = since(admin, rev)
    assert [(e["change"], e["name"]) for e in evs] == \
        [("created", tok.token_id), ("deleted", tok.token_id)]
    assert all(e["actor"] == BOOTSTRAP for e in evs)
    assert tok.token not in json.dumps(evs)


def test_holder_moves_record_who_asked(admin, operator, cluster):
    """'Who moved the VIP at 03:12': the move request is the operator's, what the agents then
    report is theirs."""
    a, b, v, ga, gb = cluster
    me = token_actor(operator, "alice (on call)")
    vip = operator.get(f"/vips/{v}").json()
    assert "vg:failback" in vip["_links"]
    rev = revision(admin)
    r = operator.put(vip["_links"]["vg:failback"]["href"], json={"node": a})
    assert r.status_code == 202, r.text
    moved = since(admin, rev)
    assert [(e["kind"], e["name"]) for e in moved] == [("vip", v)]
    assert moved[0]["actor"] == me
    # the agents carry it out: their reports are theirs, with their node
    rev = revision(admin)
    report(ga, vrrp={v: {"state": "MASTER", "priority": 255}}, vips_held=[v])
    evs = since(admin, rev)
    assert evs and all(e["actor"] == token_actor(ga, f"agent on {a}", node=a) for e in evs)
    rev = revision(admin)
    operator.ok("DELETE", f"/vips/{v}/holder", 204)
    evs = since(admin, rev)
    assert [(e["kind"], e["name"], e["actor"]) for e in evs] == [("vip", v, me)]


def test_agent_reports_record_the_agent_and_its_node(admin, cluster):
    a, b, v, ga, gb = cluster
    rev = revision(admin)
    report(gb, vrrp={v: {"state": "BACKUP", "priority": 100}})
    evs = since(admin, rev)
    assert ("node", b) in [(e["kind"], e["name"]) for e in evs]
    assert ("vip", v) in [(e["kind"], e["name"]) for e in evs]  # derived status: same actor
    assert all(e["actor"] == token_actor(gb, f"agent on {b}", node=b) for e in evs)


def test_liveness_sweep_is_a_system_actor(make_server):
    srv = make_server("--agent-timeout", "1")
    c = srv.client()
    a = c.node()["name"]
    v = c.vip(members=[{"node": a, "priority": 100}])["name"]
    ga = c.mint("agent", node=a, description="agent a")
    report(ga, vrrp={v: {"state": "MASTER", "priority": 100}}, vips_held=[v])
    rev = revision(c)
    wait_until(lambda: c.get(f"/nodes/{a}/status").json()["agent"] == "down", timeout=5,
               what="agent down")
    evs = since(c, rev)
    assert ("node", a) in [(e["kind"], e["name"]) for e in evs]
    assert all(e["actor"] == {"type": "system", "name": "liveness-sweep"} for e in evs), evs
    assert since(c, rev, actor="system:liveness-sweep") == evs
    assert since(c, rev, actor="system") == evs
    assert since(c, rev, actor="system:bootstrap") == []
    # the node's agent did none of it
    assert since(c, rev, actor=f"node:{a}") == []


def test_actor_filter_keeps_one_actors_events(admin, operator, cluster):
    a, b, v, ga, gb = cluster
    rev = revision(admin)
    n1 = operator.node()["name"]
    admin.node()
    report(ga, vrrp={v: {"state": "FAULT", "priority": 0}})
    n2 = operator.node()["name"]
    mine = since(admin, rev, actor=operator.token_id)
    assert [(e["kind"], e["name"]) for e in mine] == [("node", n1), ("node", n2)]
    assert all(e["actor"]["token"] == operator.token_id for e in mine)
    boot = since(admin, rev, actor="bootstrap")
    assert len(boot) == 1 and boot[0]["actor"] == BOOTSTRAP
    agent = since(admin, rev, actor=f"node:{a}")
    assert agent and all(e["actor"]["node"] == a for e in agent)
    assert since(admin, rev, actor=ga.token_id) == agent
    assert since(admin, rev, actor=f"node:{b}") == []
    assert since(admin, rev, actor="0123456789abcdef") == []  # nobody: empty, not an error
    # without since: the latest of that actor's events
    latest = admin.get(f"/events?actor={operator.token_id}&limit=1").json()
    assert [e["name"] for e in latest["_embedded"]["events"]] == [n2]
    assert latest["_links"]["self"]["href"] == f"/events?actor={operator.token_id}"
    assert latest["_links"]["next"]["href"] == \
        f"/events?since={mine[-1]['revision']}&actor={operator.token_id}"


def test_actor_filter_pages_keep_the_filter(admin, operator):
    rev = revision(admin)
    names = []
    for _ in range(5):
        names.append(operator.node()["name"])
        admin.node()
    doc = admin.get(f"/events?since={rev}&actor={operator.token_id}&limit=2").json()
    got = []
    while doc["count"]:
        assert doc["count"] <= 2
        got += [e["name"] for e in doc["_embedded"]["events"]]
        nxt = doc["_links"]["next"]["href"]
        assert nxt.endswith(f"&actor={operator.token_id}")
        doc = admin.get(nxt + "&limit=2").json()
    assert got == names


@pytest.mark.parametrize("bad", ["", "token:abc", "foo:bar", "node:", "system:", "Node:lb1",
                                 "node:LB1", "-x", "a" * 64, "node:lb1:x", "system%3Ax%20y"])
def test_bad_actor_is_400(admin, bad):
    r = admin.get(f"/events?actor={bad}")
    assert_problem(r, 400, "bad-request")
    assert "actor" in r.json()["detail"]


def test_filtered_long_poll_wakes_only_on_the_actors_write(admin, operator):
    rev = revision(admin)
    bg = Background(admin.get, f"/events?since={rev}&actor={operator.token_id}&wait=10",
                    timeout=20)
    time.sleep(0.5)
    wakeups = _wakeups(admin)
    admin.node()  # someone else's write: not woken, still parked
    time.sleep(0.5)
    assert not bg.done()
    assert _wakeups(admin) == wakeups
    n = operator.node()["name"]
    r = bg.result()
    assert r.status_code == 200, r.text
    evs = r.json()["_embedded"]["events"]
    assert [(e["kind"], e["name"]) for e in evs] == [("node", n)]
    assert evs[0]["actor"]["token"] == operator.token_id
    assert bg.finished - bg.started < 5


def test_filtered_long_poll_times_out_empty(admin, operator):
    rev = revision(admin)
    admin.node()
    t0 = time.monotonic()
    r = admin.get(f"/events?since={rev}&actor={operator.token_id}&wait=1")
    assert r.status_code == 200 and r.json()["count"] == 0
    assert time.monotonic() - t0 >= 0.9


def test_agent_node_long_poll_wakes_on_its_report(admin, cluster):
    a, b, v, ga, gb = cluster
    rev = revision(admin)
    bg = Background(admin.get, f"/events?since={rev}&actor=node:{b}&wait=10", timeout=20)
    time.sleep(0.3)
    report(ga, vrrp={v: {"state": "FAULT", "priority": 0}})
    time.sleep(0.3)
    assert not bg.done()
    report(gb, vrrp={v: {"state": "BACKUP", "priority": 100}})
    evs = bg.result().json()["_embedded"]["events"]
    assert evs and all(e["actor"]["node"] == b for e in evs)


def _wakeups(c):
    text = c.get("/metrics").text
    line = next(x for x in text.splitlines() if x.startswith("vigil_longpoll_wakeups_total "))
    return int(line.split()[1])


@pytest.mark.sqlite_only(reason="rewrites the SQLite file to schema 2")
def test_database_from_schema_2_reads_old_events_with_null_actor(make_server):
    """A database written before actors were recorded (schema 2) is migrated at start: its old
    events read with actor null and match no actor filter; new events carry their actor."""
    srv = make_server(start=False)
    db = sqlite3.connect(srv.db)
    db.executescript((REPO / "schema/001_init.sql").read_text())
    db.executescript((REPO / "schema/002_refs_by_target.sql").read_text())
    now = int(time.time() * 1000)
    node = {"address": "198.18.9.1", "interface": "eth0", "labels": {}}
    db.execute("INSERT INTO objects VALUES ('node', 'old1', ?, NULL, 1, 1, ?)",
               (json.dumps(node), now))
    db.execute("INSERT INTO changes VALUES (1, 'created', 'node', 'old1', ?)", (now,))
    db.execute("INSERT INTO changes VALUES (2, 'updated', 'node', 'old1', ?)", (now,))
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    srv.start()
    c = srv.client()
    evs = events(c, "since=0")
    assert [(e["revision"], e["actor"]) for e in evs[:2]] == [(1, None), (2, None)]
    # the bootstrap token was made at this start, after the migration
    assert evs[2]["name"] == "bootstrap" and evs[2]["actor"] == \
        {"type": "system", "name": "bootstrap"}
    assert [e["revision"] for e in since(c, 0, actor="system")] == [3]
    n = c.node()["name"]
    last = c.get("/events?limit=1").json()["_embedded"]["events"][-1]
    assert last["name"] == n and last["actor"] == BOOTSTRAP
    db = sqlite3.connect(srv.db)
    latest = max(int(p.name[:3]) for p in (REPO / "schema").glob("*.sql"))
    assert db.execute("PRAGMA user_version").fetchone()[0] == latest  # through 003 and on
    db.close()
    # and it opens again as it is
    srv.restart()
    assert events(srv.client(), "since=0")[0]["actor"] is None


def test_actor_names_no_secret(admin, operator, cluster):
    a, b, v, ga, gb = cluster
    text = json.dumps(events(admin, "since=0"))
    for client in (admin, operator, ga, gb):
        assert client.token not in text
