"""Bounded resources: parked long-polls are limited (429 with Retry-After beyond --max-parked)."""

import threading
import time

import requests


def test_long_polls_beyond_max_parked_get_429(make_server):
    srv = make_server("--max-parked", "2")
    admin = srv.client()
    admin.post("/nodes", json={"name": "lp1", "address": "198.18.0.1", "interface": "eth0"})
    etag = admin.get("/nodes/lp1").headers["ETag"]
    hdrs = {"Authorization": f"Bearer {admin.token}", "If-None-Match": etag}
    answers = []

    def park():
        r = requests.get(srv.base + "/nodes/lp1?wait=3", headers=hdrs, timeout=10)
        answers.append(r.status_code)

    threads = [threading.Thread(target=park) for _ in range(2)]
    for t in threads:
        t.start()
    deadline = time.time() + 3
    while time.time() < deadline:  # wait until both are parked, as the metrics say
        m = admin.get("/metrics").text
        if "vigil_longpoll_parked 2" in m:
            break
        time.sleep(0.05)
    third = admin.get("/nodes/lp1?wait=3", headers={"If-None-Match": etag})
    assert third.status_code == 429
    assert third.headers["Retry-After"] == "5"
    assert third.json()["type"] == "/problems/too-many-requests"
    # a request that does not wait is still answered at once
    assert admin.get("/nodes/lp1").status_code == 200
    admin.patch("/nodes/lp1", json={"labels": {"a": "b"}})
    for t in threads:
        t.join()
    assert answers == [200, 200]
