"""Durability: a restart keeps everything; kill -9 during concurrent writes loses no write that was
acknowledged with 2xx."""

import pytest
import json
import threading
import time

import requests

import vigiltest
from vigiltest import REPO as REPO_DIR, node_body, uniq


def _strip_status(doc):
    return {k: v for k, v in doc.items() if k != "status"}


def test_restart_keeps_data_tokens_and_revision(make_server):
    srv = make_server()
    c = srv.client()
    n = c.node(labels={"k": "v"})["name"]
    v = c.vip(version=2, auth_pass="pw", members=[{"node": n, "priority": 100}])["name"]
    b = c.backend(v, admin_state="drain")["name"]
    chk = c.check(backend=b, type="http", path="/ping")["name"]
    viewer = c.mint("viewer")
    agent = c.mint("agent", node=n)
    paths = [f"/nodes/{n}", f"/vips/{v}", f"/backends/{b}", f"/checks/{chk}",
             f"/tokens/{viewer.token_id}"]
    before = {p: c.get(p).json() for p in paths}
    config = agent.get(f"/nodes/{n}/config").json()
    rev = c.get("/healthz").json()["revision"]
    events = c.get("/events?limit=500").json()["_embedded"]["events"]

    srv.restart()

    for p in paths:
        r = c.get(p)
        assert r.status_code == 200, (p, r.status_code)
        assert _strip_status(r.json()) == _strip_status(before[p]), p
    assert agent.get(f"/nodes/{n}/config").json() == config  # auth_pass kept too
    assert viewer.get("/nodes").status_code == 200
    rev2 = c.get("/healthz").json()["revision"]
    assert rev2 >= rev
    after = c.get("/events?limit=500").json()["_embedded"]["events"]
    assert [(e["revision"], e["name"]) for e in after][:len(events)] == \
        [(e["revision"], e["name"]) for e in events]
    # New writes continue the revision sequence. On etcd the revision is etcd's, which other keys
    # move too (the leader key that changed hands with the restart, agents' leases starting).
    c.node()
    if vigiltest.BACKEND == "etcd":
        assert c.get("/healthz").json()["revision"] > rev2
    else:
        assert c.get("/healthz").json()["revision"] == rev2 + 1


def test_revoked_token_stays_revoked_after_restart(make_server):
    srv = make_server()
    c = srv.client()
    v = c.mint("viewer")
    assert c.delete(f"/tokens/{v.token_id}").status_code == 204
    srv.restart()
    assert v.get("/nodes").status_code == 401


def test_kill9_during_writes_loses_no_acknowledged_write(make_server):
    srv = make_server()
    base, token = srv.base, srv.admin_token
    acked, lock, stop = [], threading.Lock(), threading.Event()
    errors = []

    def writer(i):
        s = requests.Session()
        h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        while not stop.is_set():
            name = uniq(f"w{i}-")
            try:
                r = s.post(base + "/nodes", data=json.dumps(node_body(name)),
                           headers=h, timeout=5)
            except requests.RequestException:
                continue  # in flight at the kill: may or may not have been committed
            if 200 <= r.status_code < 300:
                with lock:
                    acked.append(name)
            elif r.status_code not in (503,):
                errors.append((r.status_code, r.text[:200]))

    threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    srv.kill9()
    stop.set()
    for t in threads:
        t.join(10)
    assert not errors, errors[:5]
    with lock:
        names = list(acked)
    assert len(names) > 20, f"only {len(names)} writes acknowledged in 1.5 s"

    srv.start()
    c = srv.client()
    listed = set()
    path = "/nodes?limit=500"
    while path:
        doc = c.get(path).json()
        listed |= {x["name"] for x in doc["_embedded"]["nodes"]}
        path = doc["_links"].get("next", {}).get("href")
    print(f"{len(names)} writes acknowledged before kill -9, {len(listed)} nodes after restart")
    missing = [n for n in names if n not in listed]
    assert not missing, f"{len(missing)} of {len(names)} acknowledged writes lost: {missing[:10]}"
    for n in names[-20:]:
        assert c.get(f"/nodes/{n}").status_code == 200


def test_kill9_then_restart_serves_consistent_revision(make_server):
    srv = make_server()
    c = srv.client()
    for _ in range(5):
        c.node()
    rev = c.get("/healthz").json()["revision"]
    srv.kill9()
    srv.start()
    assert c.get("/healthz").json()["revision"] >= rev
    assert c.get("/nodes").json()["total"] == 5


@pytest.mark.sqlite_only(reason="migrates a SQLite file")
def test_version_1_database_migrates_and_keeps_its_references(make_server, tmp_path):
    """A database written by schema version 1 (refs indexed by target only) is migrated to 2
    (refs_by_target) and 3 (change actors) at start: filtered lists, configs and delete checks still see every ref."""
    import sqlite3
    from vigiltest import REPO
    srv = make_server(start=False)
    db = sqlite3.connect(srv.db)
    db.executescript((REPO / "schema/001_init.sql").read_text())
    now = int(time.time() * 1000)
    node = {"address": "198.18.7.1", "interface": "eth0", "labels": {}}
    vip = {"address": "198.18.7.100/24", "interface": "eth0", "vrid": 7, "version": 3,
           "advert_int_ms": 1000, "preempt": False, "preempt_delay_ms": 0,
           "members": [{"node": "old1", "priority": 100}]}
    node_st = {"agent": "unknown", "last_seen": None, "agent_version": None,
               "ip_nonlocal_bind": None, "vrrp": {}, "vips_held": [], "last_transition": None}
    vip_st = {"since": None, "holder": None, "preferred": "old1", "requested": None,
              "move_id": 0, "move_done": 0,
              "members": {"old1": {"state": "unknown", "agent": "unknown", "priority": None}}}
    db.execute("INSERT INTO objects VALUES ('node', 'old1', ?, ?, 1, 1, ?)",
               (json.dumps(node), json.dumps(node_st), now))
    db.execute("INSERT INTO objects VALUES ('vip', 'oldv', ?, ?, 2, 2, ?)",
               (json.dumps(vip), json.dumps(vip_st), now))
    db.execute("INSERT INTO refs VALUES ('vip', 'oldv', 'node', 'old1')")
    db.execute("INSERT INTO changes VALUES (1, 'created', 'node', 'old1', ?)", (now,))
    db.execute("INSERT INTO changes VALUES (2, 'created', 'vip', 'oldv', ?)", (now,))
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    srv.start()
    c = srv.client()
    page = c.get("/vips?node=old1").json()
    assert page["total"] == 1 and page["_embedded"]["vips"][0]["name"] == "oldv"
    assert [v["name"] for v in c.get("/nodes/old1/config").json()["vips"]] == ["oldv"]
    r = c.delete("/nodes/old1")
    assert r.status_code == 409, r.text
    assert c.get("/vips/oldv").json()["addresses"] == ["198.18.7.100/24"]  # and on to 4
    db = sqlite3.connect(srv.db)
    assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST_SCHEMA
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "refs_by_target" in names and "refs_to" not in names
    assert "changes_by_actor" in names
    db.close()


LATEST_SCHEMA = max(int(p.name[:3]) for p in (REPO_DIR / "schema").glob("*.sql"))


def _old_db(srv, version, vips, nodes=("old1", "old2")):
    """Writes a database at schema `version` (its migrations applied by hand) holding nodes and
    old-style VIPs (spec with "address"), with their refs, uniques and changes."""
    import sqlite3
    db = sqlite3.connect(srv.db)
    for p in sorted((REPO_DIR / "schema").glob("*.sql")):
        if int(p.name[:3]) <= version:
            db.executescript(p.read_text())
    now = int(time.time() * 1000)
    rev = 0
    for i, n in enumerate(nodes):
        rev += 1
        spec = {"address": f"198.18.7.{i + 1}", "interface": "eth0", "labels": {}}
        st = {"agent": "unknown", "last_seen": None, "agent_version": None,
              "ip_nonlocal_bind": None, "vrrp": {}, "vips_held": [], "last_transition": None}
        db.execute("INSERT INTO objects VALUES ('node', ?, ?, ?, ?, ?, ?)",
                   (n, json.dumps(spec), json.dumps(st), rev, rev, now))
        db.execute("INSERT INTO changes VALUES (?, 'created', 'node', ?, ?)", (rev, n, now))
    for name, spec in vips.items():
        rev += 1
        st = {"since": None, "holder": None, "preferred": nodes[0], "requested": None,
              "move_id": 0, "move_done": 0,
              "members": {m["node"]: {"state": "unknown", "agent": "unknown", "priority": None}
                          for m in spec["members"]}}
        db.execute("INSERT INTO objects VALUES ('vip', ?, ?, ?, ?, ?, ?)",
                   (name, json.dumps(spec), json.dumps(st), rev, rev, now))
        for m in spec["members"]:
            db.execute("INSERT INTO refs VALUES ('vip', ?, 'node', ?)", (name, m["node"]))
        fam = 6 if ":" in spec["address"] else 4
        db.execute("INSERT INTO uniques VALUES (?, 'vip', ?)",
                   (f"vrid:{spec['interface']}:{fam}:{spec['vrid']}", name))
        db.execute("INSERT INTO changes VALUES (?, 'created', 'vip', ?, ?)", (rev, name, now))
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()


@pytest.mark.sqlite_only(reason="migrates a SQLite file")
def test_version_2_vips_migrate_to_addresses(make_server):
    """Schema 4 turns every stored VIP's "address" into "addresses" (a list of one) and fills the
    new fields' defaults: GET, the node config, the keepalived rendering, filters, vrid
    uniqueness and writes all work on the migrated VIPs; the old field is gone."""
    import sqlite3
    srv = make_server(start=False)
    members = [{"node": "old1", "priority": 100}, {"node": "old2", "priority": 50}]
    base = {"interface": "eth0", "advert_int_ms": 1000, "preempt": False,
            "preempt_delay_ms": 0, "members": members}
    _old_db(srv, 2, {
        "v4": dict(base, address="198.18.7.100/24", vrid=7, version=2, auth_pass="secret"),
        "v6": dict(base, address="2001:db8::7/64", vrid=7, version=3),
    })
    srv.start()
    c = srv.client()
    defaults = {"excluded_addresses": [], "unicast": False, "peers": [], "group": None,
                "track_interfaces": [], "notify": None, "garp_repeat": 5, "garp_delay_s": 5,
                "garp_refresh_s": 0, "vmac": False}
    for name, addr in (("v4", "198.18.7.100/24"), ("v6", "2001:db8::7/64")):
        doc = c.get(f"/vips/{name}").json()   # validated against the spec by the client
        assert doc["addresses"] == [addr] and "address" not in doc, doc
        assert {k: doc[k] for k in defaults} == defaults
        assert doc["members"] == members
    page = c.get("/vips?node=old2").json()
    assert [v["name"] for v in page["_embedded"]["vips"]] == ["v4", "v6"]
    cfg = c.get("/nodes/old1/config").json()
    assert [v["addresses"] for v in cfg["vips"]] == [["198.18.7.100/24"], ["2001:db8::7/64"]]
    text = c.get("/nodes/old1/config", accept="text/plain").text
    assert "198.18.7.100/24 dev eth0" in text and "2001:db8::7/64 dev eth0" in text
    # the vrid is still held per interface and family
    r = c.post("/vips", json={"name": "clash", "addresses": ["198.18.7.200/24"],
                              "interface": "eth0", "vrid": 7})
    assert r.status_code == 409, r.text
    # a migrated VIP takes a merge patch of a new field and keeps its write-only secret
    r = c.patch("/vips/v4", json={"group": "pair"})
    assert r.status_code == 200, r.text
    assert c.get("/vips?group=pair").json()["total"] == 1
    db = sqlite3.connect(srv.db)
    assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST_SCHEMA
    spec = json.loads(db.execute("SELECT spec FROM objects WHERE name = 'v4'").fetchone()[0])
    assert spec["auth_pass"] == "secret" and "address" not in spec
    db.close()
