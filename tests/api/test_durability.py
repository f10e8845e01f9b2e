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
