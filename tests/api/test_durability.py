"""Durability: a restart keeps everything; kill -9 during concurrent writes loses no write that was
acknowledged with 2xx."""

import json
import threading
import time

import requests

from vigiltest import node_body, uniq


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
    # New writes continue the revision sequence.
    c.node()
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
    db = sqlite3.connect(srv.db)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3  # through 002 and 003
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "refs_by_target" in names and "refs_to" not in names
    assert "changes_by_actor" in names
    db.close()
