"""The dashboard's resync path against a trimmed feed (issue 12, scenario 5), step for step as
ui/api.js (Feed.loop) and ui/app.js (onGone) take it: follow /events?since=REV&wait=S; on 410,
read the feed's head (GET /events), reload every collection and item, and go on long-polling from
that head. On both backends; on etcd also with etcd's own history compacted past the client's
revision (it does not govern /events: the ev/ keys and --events-keep do) and with the writes that
trimmed the feed made through another replica. tests/ui/live.test.mjs drives the real page
through the same 410."""

import json
import subprocess
import time

import pytest

import vigiltest
from vigiltest import Background, VigilServer, assert_problem

KEEP = 4
SERVER_ARGS = ("--events-keep", str(KEEP))
COLLECTIONS = ("nodes", "vips", "backends", "checks")


def _feed_head(c):
    """loadFeedHead(): the latest events and the revision to follow from."""
    r = c.get("/events")
    assert r.status_code == 200, r.text
    return r.json()["revision"]


def _load_all(c):
    """loadAll(): every collection, page by page (next links), then every item by its self link.
    Returns {kind: {name: representation}}."""
    out = {}
    for coll in COLLECTIONS:
        items, url = [], f"/{coll}"
        while url:
            doc = c.get(url).json()
            items += doc["_embedded"][coll]
            url = doc["_links"].get("next", {}).get("href")
        out[coll] = {d["name"]: c.get(d["_links"]["self"]["href"]).json() for d in items}
    return out


def _resync_and_follow(reader, writer, node):
    """The client was away while more than KEEP writes happened: its poll is 410, the resync
    shows the writes it missed, and the feed it then follows wakes on the next write."""
    since = _feed_head(reader)
    before = _load_all(reader)
    assert before["nodes"][node]["labels"] == {"w": "0"}
    for w in range(1, KEEP + 3):
        assert writer.patch(f"/nodes/{node}", json={"labels": {"w": str(w)}}).status_code == 200
    r = reader.get(f"/events?since={since}&wait=25")
    assert_problem(r, 410, "gone")
    head = _feed_head(reader)
    assert head > since
    after = _load_all(reader)
    assert after["nodes"][node]["labels"] == {"w": str(KEEP + 2)}
    bg = Background(reader.get, f"/events?since={head}&wait=25", timeout=35)
    time.sleep(0.3)
    assert not bg.done(), "the poll from the new head was not parked"
    assert writer.patch(f"/nodes/{node}", json={"labels": {"w": "next"}}).status_code == 200
    r = bg.result()
    assert r.status_code == 200, r.text
    assert [(e["name"], e["change"]) for e in r.json()["_embedded"]["events"]] == \
        [(node, "updated")]


def test_410_then_resync_from_the_head_follows_the_feed(admin):
    node = admin.node(labels={"w": "0"})["name"]
    _resync_and_follow(admin, admin, node)


@pytest.mark.skipif(vigiltest.BACKEND != "etcd", reason="etcd compaction and replicas")
def test_etcd_compaction_does_not_move_the_410_line(server, admin, etcd_lab):
    """Compacting etcd's history to its newest revision leaves /events as it was: a since
    within the kept entries is still 200, one before them is still 410."""
    for _ in range(KEEP + 2):
        admin.node()
    head = _feed_head(admin)
    kept = admin.get(f"/events?since={head - 2}").json()["_embedded"]["events"]
    out = subprocess.run(["etcdctl", "--endpoints", etcd_lab.endpoints(), "compact",
                          str(_etcd_revision(etcd_lab)), "--physical"], capture_output=True,
                         text=True, timeout=20, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    r = admin.get(f"/events?since={head - 2}")
    assert r.status_code == 200, r.text
    assert r.json()["_embedded"]["events"] == kept
    assert_problem(admin.get("/events?since=1"), 410, "gone")
    # and the replica still follows writes after the compaction (its watch is past it)
    node = admin.node(labels={"w": "0"})["name"]
    _resync_and_follow(admin, admin, node)


@pytest.mark.skipif(vigiltest.BACKEND != "etcd", reason="two replicas share a store only on etcd")
def test_410_on_b_after_writes_through_a_and_resync_on_b(server, admin, tmp_path):
    b = VigilServer(tmp_path / "b", args=SERVER_ARGS, admin_token=server.admin_token,
                    name="resync_b")
    b.etcd_prefix = server.etcd_prefix
    b.start()
    try:
        node = admin.node(labels={"w": "0"})["name"]
        _resync_and_follow(b.client(), admin, node)
    finally:
        b.stop()


def _etcd_revision(lab):
    out = subprocess.run(["etcdctl", "--endpoints", lab.endpoints(), "endpoint", "status",
                          "-w", "json"], capture_output=True, text=True, timeout=20,
                         env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"})
    return max(int(s["Status"]["header"]["revision"]) for s in json.loads(out.stdout))
