"""etcd without quorum (issue 12): writes answer 503 with Retry-After within a bounded time and
never hang (the bound for PATCH, POST, DELETE and GET is measured and printed); once the members
are back, writes go through again and a long-poll parked through the outage wakes on the first.
A lab of its own, so that the members it stops do not disturb the session's. Runs with VIGIL_BACKEND=etcd only."""

import time

import pytest

import vigiltest
from vigiltest import Background, VigilServer

pytestmark = pytest.mark.skipif(vigiltest.BACKEND != "etcd",
                                reason="quorum is an etcd matter")


@pytest.fixture
def lab_server(tmp_path):
    from etcdlab import EtcdLab
    lab = EtcdLab(tmp_path / "etcd", extra_args=["--max-txn-ops", "8192"])
    lab.start()
    srv = VigilServer(tmp_path / "vigild", name="quorum")
    srv.etcd_endpoints = lab.endpoints()
    srv.start()
    yield lab, srv
    srv.stop()
    lab.stop()


def test_writes_without_quorum_are_503_with_retry_after_then_resume(lab_server):
    lab, srv = lab_server
    admin = srv.client()
    name = admin.node()["name"]
    path = f"/nodes/{name}"
    assert admin.patch(path, json={"labels": {"n": "1"}}).status_code == 200
    # A long-poll parked before the outage stays parked through it (it does not turn into a 5xx).
    rev = admin.get("/events?limit=1").json()["revision"]
    parked = Background(admin.get, f"/events?since={rev}&wait=25", timeout=40)
    time.sleep(0.2)
    lab.kill(1)
    lab.kill(2)
    t_kill = time.monotonic()
    for attempt in range(3):  # the lone member notices it has no leader within its timeout
        t0 = time.monotonic()
        r = admin.patch(path, json={"labels": {"n": "2"}}, timeout=30)
        elapsed = time.monotonic() - t0
        assert elapsed < 8, f"a write without quorum took {elapsed:.1f}s"
        if r.status_code == 503:
            break
        time.sleep(1)
    assert r.status_code == 503, r.text
    first_503 = f"first 503 {time.monotonic() - t_kill:.2f} s after the kill (attempt {attempt + 1})"
    assert r.headers.get("Retry-After") == "1"
    assert r.json()["type"] == "/problems/unavailable"
    # Once the member has noticed, every kind of request is refused at once: the bound, measured.
    tries = {"PATCH": lambda: admin.patch(path, json={"labels": {"n": "2"}}, timeout=30),
             "POST": lambda: admin.post("/nodes", json=vigiltest.node_body(None), timeout=30),
             "DELETE": lambda: admin.delete(path, timeout=30),
             "GET": lambda: admin.get(path, timeout=30)}
    bounds = {}
    for what, call in tries.items():
        took = []
        for _ in range(5):
            t0 = time.monotonic()
            r = call()
            took.append(time.monotonic() - t0)
            assert r.status_code == 503, (what, r.status_code, r.text)
            assert r.headers.get("Retry-After") == "1", what
        bounds[what] = took
        assert max(took) < 8, f"{what} without quorum took {max(took):.1f}s"
    print(f"\nscenario 3: {first_503}; then 503 + Retry-After in (median / max ms) " + ", ".join(
        f"{w} {sorted(t)[len(t) // 2] * 1000:.0f} / {max(t) * 1000:.0f}" for w, t in bounds.items()))
    assert not parked.done(), parked.result().status_code
    t_back = time.monotonic()
    lab.restart(1, wait=False)
    lab.restart(2, wait=False)
    lab.wait_healthy()
    deadline = time.monotonic() + 10
    while True:
        r = admin.patch(path, json={"labels": {"n": "3"}}, timeout=30)
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.status_code == 200, r.text
    print(f"scenario 3: members back, first write through after {time.monotonic() - t_back:.2f} s")
    assert admin.get(path).json()["labels"] == {"n": "3"}
    # The parked long-poll wakes on that write (the watch resumed), and /events has it once.
    r = parked.result()
    assert r.status_code == 200, r.text
    evs = r.json()["_embedded"]["events"]
    assert [(e["name"], e["change"]) for e in evs] == [(name, "updated")], evs
    evs = admin.get(f"/events?since={rev}").json()["_embedded"]["events"]
    assert [(e["name"], e["change"]) for e in evs] == [(name, "updated")], evs
