"""Long-poll: ?wait=N with If-None-Match parks a GET until the ETag changes (200) or N seconds
pass (304); /events?since=REV&wait=N waits for the first event after REV."""

import time

import pytest

from vigiltest import Background, assert_problem


@pytest.fixture
def node(admin):
    return f"/nodes/{admin.node()['name']}"


def test_parked_get_wakes_with_200_on_change(admin, node):
    etag = admin.etag(node)
    bg = Background(admin.get, f"{node}?wait=10", headers={"If-None-Match": etag}, timeout=20)
    time.sleep(0.5)
    assert not bg.done(), "request was not parked"
    assert admin.patch(node, json={"labels": {"woke": "yes"}}).status_code == 200
    r = bg.result()
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] != etag
    assert r.json()["labels"] == {"woke": "yes"}
    assert bg.elapsed < 3, f"woke after {bg.elapsed:.2f}s"


def test_parked_get_times_out_with_304(admin, node):
    etag = admin.etag(node)
    t0 = time.monotonic()
    r = admin.get(f"{node}?wait=1", headers={"If-None-Match": etag})
    dt = time.monotonic() - t0
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["ETag"] == etag
    assert 0.9 <= dt < 3, f"answered after {dt:.2f}s"


def test_wait_2_times_out_after_about_2s(admin, node):
    etag = admin.etag(node)
    t0 = time.monotonic()
    r = admin.get(f"{node}?wait=2", headers={"If-None-Match": etag})
    dt = time.monotonic() - t0
    assert r.status_code == 304
    assert 1.9 <= dt < 4, f"answered after {dt:.2f}s"


def test_wait_without_if_none_match_answers_at_once(admin, node):
    t0 = time.monotonic()
    r = admin.get(f"{node}?wait=5")
    assert r.status_code == 200
    assert time.monotonic() - t0 < 1


def test_wait_with_stale_etag_answers_at_once(admin, node):
    t0 = time.monotonic()
    r = admin.get(f"{node}?wait=5", headers={"If-None-Match": '"0000"'})
    assert r.status_code == 200
    assert time.monotonic() - t0 < 1


def test_wait_0_with_matching_etag_is_304_at_once(admin, node):
    etag = admin.etag(node)
    t0 = time.monotonic()
    r = admin.get(f"{node}?wait=0", headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert time.monotonic() - t0 < 1


@pytest.mark.parametrize("wait", ["301", "-1", "abc", "1.5", ""])
def test_bad_wait_is_400(admin, node, wait):
    etag = admin.etag(node)
    r = admin.get(f"{node}?wait={wait}", headers={"If-None-Match": etag})
    assert_problem(r, 400, "bad-request", instance=node)


def test_wait_300_is_accepted(admin, node):
    bg = Background(admin.get, f"{node}?wait=300",
                    headers={"If-None-Match": admin.etag(node)}, timeout=20)
    time.sleep(0.3)
    assert not bg.done()
    admin.patch(node, json={"labels": {"x": "y"}})
    assert bg.result().status_code == 200


def test_parked_collection_wakes_on_create(admin):
    etag = admin.etag("/nodes?limit=500")
    bg = Background(admin.get, "/nodes?limit=500&wait=10", headers={"If-None-Match": etag},
                    timeout=20)
    time.sleep(0.3)
    assert not bg.done(), "request was not parked"
    n = admin.node()["name"]
    r = bg.result()
    assert r.status_code == 200
    assert n in [x["name"] for x in r.json()["_embedded"]["nodes"]]


def test_other_requests_are_served_while_parked(admin, node):
    etag = admin.etag(node)
    parked = [Background(admin.get, f"{node}?wait=3", headers={"If-None-Match": etag},
                         timeout=20) for _ in range(20)]
    time.sleep(0.3)
    t0 = time.monotonic()
    for _ in range(5):
        assert admin.get("/nodes").status_code == 200
    assert time.monotonic() - t0 < 1
    admin.patch(node, json={"labels": {"all": "wake"}})
    for bg in parked:
        assert bg.result().status_code == 200


def test_events_wait_wakes_on_first_event(admin):
    rev = admin.get("/events").json()["revision"]
    bg = Background(admin.get, f"/events?since={rev}&wait=10", timeout=20)
    time.sleep(0.5)
    assert not bg.done(), "events request was not parked"
    name = admin.node()["name"]
    r = bg.result()
    assert r.status_code == 200
    assert bg.elapsed < 3
    events = r.json()["_embedded"]["events"]
    assert events, r.json()
    assert events[0]["name"] == name and events[0]["change"] == "created"
    assert events[0]["revision"] > rev


def test_events_wait_times_out_with_empty_200(admin):
    rev = admin.get("/events").json()["revision"]
    t0 = time.monotonic()
    r = admin.get(f"/events?since={rev}&wait=1")
    dt = time.monotonic() - t0
    assert r.status_code == 200
    doc = r.json()
    assert doc["count"] == 0 and doc["_embedded"]["events"] == []
    assert doc["revision"] == rev
    assert 0.9 <= dt < 3


def test_events_wait_with_pending_events_answers_at_once(admin):
    rev = admin.get("/events").json()["revision"]
    admin.node()
    t0 = time.monotonic()
    r = admin.get(f"/events?since={rev}&wait=10")
    assert r.status_code == 200
    assert r.json()["count"] >= 1
    assert time.monotonic() - t0 < 1


def test_config_long_poll_ignores_own_status_reports(admin):
    """The config ETag depends only on config content: the agent's status PUT must not wake it."""
    n = admin.node()["name"]
    admin.vip(members=[{"node": n, "priority": 100}])
    agent = admin.mint("agent", node=n)
    path = f"/nodes/{n}/config"
    etag = agent.etag(path)
    bg = Background(agent.get, f"{path}?wait=1", headers={"If-None-Match": etag}, timeout=20)
    time.sleep(0.2)
    assert agent.put(f"/nodes/{n}/status", json={"agent_version": "t",
                                                 "ip_nonlocal_bind": True}).status_code == 200
    r = bg.result()
    assert r.status_code == 304


def test_config_long_poll_wakes_on_vip_change(admin):
    n = admin.node()["name"]
    v = admin.vip(members=[{"node": n, "priority": 100}])["name"]
    agent = admin.mint("agent", node=n)
    path = f"/nodes/{n}/config"
    etag = agent.etag(path)
    bg = Background(agent.get, f"{path}?wait=10", headers={"If-None-Match": etag}, timeout=20)
    time.sleep(0.3)
    assert admin.patch(f"/vips/{v}", json={"members": [{"node": n, "priority": 150}]}
                       ).status_code == 200
    r = bg.result()
    assert r.status_code == 200
    assert bg.elapsed < 3
    vip = next(x for x in r.json()["vips"] if x["name"] == v)
    assert vip["priority"] == 150


def test_sigterm_with_parked_requests_exits_promptly(make_server):
    srv = make_server()
    c = srv.client()
    path = f"/nodes/{c.node()['name']}"
    etag = c.etag(path)
    parked = [Background(c.get, f"{path}?wait=60", headers={"If-None-Match": etag},
                         timeout=30, check_spec=False) for _ in range(5)]
    rev = c.get("/events").json()["revision"]
    ev = Background(c.get, f"/events?since={rev}&wait=60", timeout=30, check_spec=False)
    time.sleep(0.5)
    t0 = time.monotonic()
    srv.stop(timeout=5)  # fails unless exit code 0 within 5 s
    assert time.monotonic() - t0 < 5
    for bg in parked + [ev]:
        bg.thread.join(5)
        assert bg.done(), "parked request still hanging after the server exited"


def test_parked_get_of_deleted_item_wakes(admin):
    n = admin.node()["name"]
    path = f"/nodes/{n}"
    bg = Background(admin.get, f"{path}?wait=10", headers={"If-None-Match": admin.etag(path)},
                    timeout=20)
    time.sleep(0.3)
    assert admin.delete(path).status_code == 204
    r = bg.result()
    assert r.status_code == 404
    assert bg.elapsed < 3


def test_parked_requests_hold_no_thread(make_server):
    """With one worker thread, 30 parked long-polls still leave the server answering at once."""
    srv = make_server("--threads", "1")
    c = srv.client()
    path = f"/nodes/{c.node()['name']}"
    etag = c.etag(path)
    parked = [Background(c.get, f"{path}?wait=5", headers={"If-None-Match": etag}, timeout=20)
              for _ in range(30)]
    time.sleep(0.5)
    t0 = time.monotonic()
    for _ in range(5):
        assert c.get("/nodes").status_code == 200
    assert time.monotonic() - t0 < 1
    assert not any(bg.done() for bg in parked)
    c.patch(path, json={"labels": {"go": "1"}})
    for bg in parked:
        assert bg.result().status_code == 200
