"""Several vigild on one etcd (issue 12): what only two replicas of one store show. Runs with
VIGIL_BACKEND=etcd (make api-test-etcd); on SQLite there is nothing to share, so it is skipped.

Replica B uses the same etcd prefix and admin token as A: the same store served twice."""

import threading
import time

import pytest

import vigiltest
from vigiltest import Background, VigilServer

pytestmark = pytest.mark.skipif(vigiltest.BACKEND != "etcd",
                                reason="two replicas share a store only on etcd")


@pytest.fixture(scope="module")
def pair(server, tmp_path_factory):
    """(A, B): clients of the module's server and of a second vigild on its store."""
    b = VigilServer(tmp_path_factory.mktemp("replica_b"), admin_token=server.admin_token,
                    name="replica_b")
    b.etcd_prefix = server.etcd_prefix
    b.start()
    yield server.client(), b.client()
    b.stop()


def test_write_through_a_reads_through_b_with_the_same_etag(pair):
    a, b = pair
    name = a.node()["name"]
    ra, rb = a.get(f"/nodes/{name}"), b.get(f"/nodes/{name}")
    assert rb.status_code == 200, rb.text
    assert ra.json() == rb.json()
    assert ra.headers["ETag"] == rb.headers["ETag"]
    assert ra.headers["Last-Modified"] == rb.headers["Last-Modified"]
    assert a.patch(f"/nodes/{name}", json={"labels": {"v": "2"}}).status_code == 200
    deadline = time.monotonic() + 2
    while b.etag(f"/nodes/{name}") != a.etag(f"/nodes/{name}"):
        assert time.monotonic() < deadline, "B never showed A's write"
        time.sleep(0.02)
    assert b.get(f"/nodes/{name}").json()["labels"] == {"v": "2"}


def test_concurrent_if_match_increments_through_a_and_b_lose_nothing(pair):
    a, b = pair
    name = a.node(labels={"n": "0"})["name"]
    path = f"/nodes/{name}"
    done = {"a": 0, "b": 0}
    lost = {"a": 0, "b": 0}
    errors = []

    def worker(key, client, rounds):
        for _ in range(rounds):
            while True:
                r = client.get(path)
                n = int(r.json()["labels"]["n"])
                w = client.patch(path, json={"labels": {"n": str(n + 1)}},
                                 headers={"If-Match": r.headers["ETag"]})
                if w.status_code == 200:
                    done[key] += 1
                    break
                if w.status_code != 412:
                    errors.append((w.status_code, w.text[:200]))
                    return
                lost[key] += 1

    ts = [threading.Thread(target=worker, args=("a", a, 15)),
          threading.Thread(target=worker, args=("b", b, 15))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors, errors
    assert done == {"a": 15, "b": 15}
    assert a.get(path).json()["labels"]["n"] == "30"
    assert b.get(path).json()["labels"]["n"] == "30"
    # a commit that lost its race was run again (and answered 412), not applied twice
    retries = sum(_metric(c, "vigil_write_retries_total") for c in (a, b))
    assert retries <= sum(lost.values()), (retries, lost)


def _metric(client, name):
    text = client.get("/metrics").text
    return int(next(x for x in text.splitlines() if x.startswith(name + " ")).split()[1])


def test_same_if_match_through_a_and_b_gives_one_200_and_one_412(pair):
    a, b = pair
    name = a.node()["name"]
    path = f"/nodes/{name}"
    etag = a.etag(path)
    assert b.etag(path) == etag
    ra = a.patch(path, json={"labels": {"by": "a"}}, headers={"If-Match": etag})
    rb = b.patch(path, json={"labels": {"by": "b"}}, headers={"If-Match": etag})
    assert (ra.status_code, rb.status_code) == (200, 412)
    assert b.get(path).json()["labels"] == {"by": "a"}


def test_long_poll_parked_on_b_wakes_on_a_write_through_a(pair):
    a, b = pair
    name = a.node()["name"]
    path = f"/nodes/{name}"
    etag = b.etag(path)
    bg = Background(b.get, f"{path}?wait=10", headers={"If-None-Match": etag}, timeout=20)
    time.sleep(0.5)
    assert not bg.done(), "request was not parked"
    t0 = time.monotonic()
    assert a.patch(path, json={"labels": {"woke": "yes"}}).status_code == 200
    r = bg.result()
    woke = time.monotonic() - t0
    assert r.status_code == 200, r.text
    assert r.json()["labels"] == {"woke": "yes"}
    assert woke < 1, f"B answered {woke:.3f}s after A's write"


def test_events_long_poll_on_b_wakes_on_a_write(pair):
    a, b = pair
    rev = b.get("/events?limit=1").json()["revision"]
    bg = Background(b.get, f"/events?since={rev}&wait=10", timeout=20)
    time.sleep(0.3)
    assert not bg.done()
    name = a.node()["name"]
    r = bg.result()
    assert r.status_code == 200
    assert [e["name"] for e in r.json()["_embedded"]["events"]] == [name]


def test_events_are_identical_on_both(pair):
    a, b = pair
    for _ in range(3):
        a.node()
        b.node()
    rev = a.get("/events?limit=1").json()["revision"]
    deadline = time.monotonic() + 2
    while b.get("/events?limit=1").json()["revision"] < rev:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    ea = a.get("/events?since=0&limit=500").json()["_embedded"]["events"]
    eb = b.get("/events?since=0&limit=500").json()["_embedded"]["events"]
    assert ea == eb
    revs = [e["revision"] for e in ea]
    assert revs == sorted(revs)


def test_two_replicas_started_at_once_on_an_empty_store_both_serve(tmp_path):
    """Both add the bootstrap admin token at start; the one that loses the race finds it."""
    a = VigilServer(tmp_path / "a", name="start_a")
    b = VigilServer(tmp_path / "b", admin_token=a.admin_token, name="start_b")
    b.etcd_prefix = a.etcd_prefix
    ts = [threading.Thread(target=s.start) for s in (a, b)]
    try:
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        assert a.client().get("/nodes").status_code == 200, a.stderr_text()
        assert b.client().get("/nodes").status_code == 200, b.stderr_text()
        tokens = a.client().get("/tokens").json()["_embedded"]["tokens"]
        assert [t["id"] for t in tokens] == ["bootstrap"]
    finally:
        for s in (a, b):
            if s.proc is not None:
                s.stop()
