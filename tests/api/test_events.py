"""/events: the change feed (revisions, created/updated/deleted, kinds, since, limit, next, 410)."""

import re

import pytest

from vigiltest import assert_problem

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _rev(admin):
    return admin.get("/events").json()["revision"]


def _since(admin, rev, **q):
    qs = "".join(f"&{k}={v}" for k, v in q.items())
    r = admin.get(f"/events?since={rev}{qs}")
    assert r.status_code == 200, r.text
    return r.json()


def test_feed_shape(admin):
    admin.node()
    r = admin.get("/events")
    assert r.status_code == 200
    doc = r.json()
    assert isinstance(doc["revision"], int)
    events = doc["_embedded"]["events"]
    assert doc["count"] == len(events) >= 1
    last = events[-1]
    assert doc["_links"]["self"]["href"].startswith("/events")
    assert doc["_links"]["next"]["href"] == f"/events?since={last['revision']}"
    assert last["revision"] == doc["revision"]
    assert RFC3339.match(last["time"]), last["time"]


def test_node_lifecycle_events(admin):
    rev = _rev(admin)
    n = admin.node()["name"]
    admin.patch(f"/nodes/{n}", json={"labels": {"a": "b"}})
    admin.delete(f"/nodes/{n}")
    doc = _since(admin, rev)
    evs = doc["_embedded"]["events"]
    assert [(e["change"], e["kind"], e["name"]) for e in evs] == \
        [("created", "node", n), ("updated", "node", n), ("deleted", "node", n)]
    revs = [e["revision"] for e in evs]
    assert revs == sorted(revs) and len(set(revs)) == 3 and revs[0] > rev
    assert doc["revision"] == revs[-1]
    for e in evs:
        assert e["_links"]["about"]["href"] == f"/nodes/{n}"
        assert RFC3339.match(e["time"])


def test_every_kind_has_events(admin):
    rev = _rev(admin)
    node = admin.node()["name"]
    vip = admin.vip(members=[{"node": node, "priority": 100}])["name"]
    be = admin.backend(vip)["name"]
    chk = admin.check(backend=be)["name"]
    tok = admin.mint("viewer").token_id
    evs = _since(admin, rev)["_embedded"]["events"]
    created = {(e["kind"], e["name"]): e for e in evs if e["change"] == "created"}
    for kind, name, href in [("node", node, f"/nodes/{node}"), ("vip", vip, f"/vips/{vip}"),
                             ("backend", be, f"/backends/{be}"), ("check", chk, f"/checks/{chk}"),
                             ("token", tok, f"/tokens/{tok}")]:
        assert (kind, name) in created, (kind, name, evs)
        assert created[(kind, name)]["_links"]["about"]["href"] == href


def test_since_returns_only_later_events_and_next_continues(admin):
    rev = _rev(admin)
    names = [admin.node()["name"] for _ in range(5)]
    doc = _since(admin, rev, limit=2)
    got = [e["name"] for e in doc["_embedded"]["events"]]
    assert got == names[:2] and doc["count"] == 2
    for _ in range(5):
        nxt = doc["_links"]["next"]["href"]
        doc = admin.get(nxt + "&limit=2" if "limit" not in nxt else nxt).json()
        got += [e["name"] for e in doc["_embedded"]["events"]]
        if not doc["_embedded"]["events"]:
            break
    assert got == names


def test_next_link_at_the_end_is_empty_and_stable(admin):
    admin.node()
    doc = admin.get("/events").json()
    nxt = doc["_links"]["next"]["href"]
    end = admin.get(nxt).json()
    assert end["count"] == 0 and end["_embedded"]["events"] == []
    assert end["_links"]["next"]["href"] == nxt


def test_without_since_gives_latest_events(admin):
    names = [admin.node()["name"] for _ in range(4)]
    doc = admin.get("/events?limit=3").json()
    assert [e["name"] for e in doc["_embedded"]["events"]] == names[1:]
    assert doc["count"] == 3


def test_revision_matches_healthz(admin):
    admin.node()
    assert admin.get("/healthz").json()["revision"] == _rev(admin)


def test_agent_status_report_is_an_updated_event(admin):
    n = admin.node()["name"]
    agent = admin.mint("agent", node=n)
    rev = _rev(admin)
    assert agent.put(f"/nodes/{n}/status", json={"agent_version": "t"}).status_code == 200
    evs = _since(admin, rev)["_embedded"]["events"]
    assert ("updated", "node", n) in [(e["change"], e["kind"], e["name"]) for e in evs]


def test_derived_vip_status_change_is_an_updated_event(admin):
    n = admin.node()["name"]
    v = admin.vip(members=[{"node": n, "priority": 100}])["name"]
    agent = admin.mint("agent", node=n)
    rev = _rev(admin)
    r = agent.put(f"/nodes/{n}/status", json={"vrrp": {v: {"state": "MASTER", "priority": 100}},
                                                "vips_held": [v]})
    assert r.status_code == 200
    evs = _since(admin, rev)["_embedded"]["events"]
    assert ("updated", "vip", v) in [(e["change"], e["kind"], e["name"]) for e in evs], evs


@pytest.mark.parametrize("query", ["since=abc", "since=-5", "since=1.5", "limit=0", "limit=x",
                                   "wait=301"])
def test_bad_parameters_are_400(admin, query):
    assert_problem(admin.get(f"/events?{query}"), 400, "bad-request", instance="/events")


def test_since_older_than_kept_is_410(make_server):
    srv = make_server("--events-keep", "5")
    c = srv.client()
    for _ in range(12):
        c.node()
    rev = c.get("/events").json()["revision"]
    assert_problem(c.get("/events?since=1"), 410, "gone")
    assert_problem(c.get("/events?since=1&wait=5"), 410, "gone")
    # What is kept is still served.
    doc = c.get(f"/events?since={rev - 2}").json()
    assert [e["revision"] for e in doc["_embedded"]["events"]] == [rev - 1, rev]
    latest = c.get("/events?limit=100").json()
    assert latest["count"] <= 5
    assert latest["_embedded"]["events"][-1]["revision"] == rev
