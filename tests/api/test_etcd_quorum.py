"""etcd without quorum (issue 12): writes answer 503 with Retry-After within a bounded time and
never hang; once the members are back, writes go through again. A lab of its own, so that the
members it stops do not disturb the session's. Runs with VIGIL_BACKEND=etcd only."""

import time

import pytest

import vigiltest
from vigiltest import VigilServer

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
    lab.kill(1)
    lab.kill(2)
    for attempt in range(3):  # the lone member notices it has no leader within its timeout
        t0 = time.monotonic()
        r = admin.patch(path, json={"labels": {"n": "2"}}, timeout=30)
        elapsed = time.monotonic() - t0
        assert elapsed < 8, f"a write without quorum took {elapsed:.1f}s"
        if r.status_code == 503:
            break
        time.sleep(1)
    assert r.status_code == 503, r.text
    assert r.headers.get("Retry-After") == "1"
    assert r.json()["type"] == "/problems/unavailable"
    t0 = time.monotonic()
    r = admin.post("/nodes", json=vigiltest.node_body(None), timeout=30)
    assert r.status_code == 503 and time.monotonic() - t0 < 8
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
    assert admin.get(path).json()["labels"] == {"n": "3"}
