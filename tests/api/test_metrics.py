"""/metrics: Prometheus text exposition, parsed with prometheus_client's parser."""

import time

from prometheus_client.parser import text_string_to_metric_families

from vigiltest import Background, assert_problem, wait_until


def scrape(client):
    r = client.get("/metrics", accept="text/plain")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].replace(" ", "") == "text/plain;version=0.0.4;charset=utf-8"
    fams = {f.name: f for f in text_string_to_metric_families(r.text)}
    return fams


def sample(fams, family, name, **labels):
    f = fams.get(family)
    assert f is not None, f"no metric family {family} in {sorted(fams)}"
    for s in f.samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return 0.0


def test_metric_families_and_types(admin):
    fams = scrape(admin)
    assert fams["vigil_http_requests"].type == "counter"
    assert fams["vigil_http_request_duration_seconds"].type == "histogram"
    assert fams["vigil_resources"].type == "gauge"
    assert fams["vigil_revision"].type == "gauge"
    assert fams["vigil_longpoll_parked"].type == "gauge"


def test_request_counter_moves_by_method_and_code(admin):
    before = scrape(admin)
    for _ in range(3):
        assert admin.get("/nodes").status_code == 200
    assert admin.get("/nodes/no-such-node").status_code == 404
    assert admin.post("/nodes", json={"name": "x"}).status_code == 422
    after = scrape(admin)

    def delta(method, code):
        return sample(after, "vigil_http_requests", "vigil_http_requests_total",
                      method=method, code=code) - \
            sample(before, "vigil_http_requests", "vigil_http_requests_total",
                   method=method, code=code)

    # The scrapes are GET 200s too: the first one counts by now, the second may count itself.
    assert 4 <= delta("GET", "200") <= 5
    assert delta("GET", "404") == 1
    assert delta("POST", "422") == 1


def test_latency_histogram_counts_requests(admin):
    before = scrape(admin)
    for _ in range(5):
        admin.get("/")
    after = scrape(admin)
    fam = "vigil_http_request_duration_seconds"
    c0 = sample(before, fam, fam + "_count")
    c1 = sample(after, fam, fam + "_count")
    assert 6 <= c1 - c0 <= 7
    buckets = [(s.labels["le"], s.value) for s in after[fam].samples
               if s.name == fam + "_bucket" and not set(s.labels) - {"le"}]
    assert buckets and buckets[-1][0] == "+Inf"
    assert buckets[-1][1] == c1
    values = [v for _, v in buckets]
    assert values == sorted(values)
    assert sample(after, fam, fam + "_sum") > 0


def test_resources_gauge_follows_creates_and_deletes(admin):
    def count(fams, kind):
        # The label value is the kind ("node"); the plural ("nodes") is accepted too.
        kinds = {s.labels.get("kind") for s in fams["vigil_resources"].samples}
        label = kind if kind in kinds or kind + "s" not in kinds else kind + "s"
        return sample(fams, "vigil_resources", "vigil_resources", kind=label)

    before = scrape(admin)
    n = admin.node()["name"]
    v = admin.vip()["name"]
    mid = scrape(admin)
    assert count(mid, "node") == count(before, "node") + 1
    assert count(mid, "vip") == count(before, "vip") + 1
    assert count(mid, "node") == admin.get("/nodes").json()["total"]
    admin.delete(f"/nodes/{n}")
    admin.delete(f"/vips/{v}")
    after = scrape(admin)
    assert count(after, "node") == count(before, "node")
    assert count(after, "vip") == count(before, "vip")


def test_revision_gauge_matches_healthz(admin):
    admin.node()
    fams = scrape(admin)
    rev = admin.get("/healthz").json()["revision"]
    assert sample(fams, "vigil_revision", "vigil_revision") == rev


def test_longpoll_parked_gauge(admin):
    path = f"/nodes/{admin.node()['name']}"
    etag = admin.etag(path)
    assert sample(scrape(admin), "vigil_longpoll_parked", "vigil_longpoll_parked") == 0
    bgs = [Background(admin.get, f"{path}?wait=10", headers={"If-None-Match": etag}, timeout=20)
           for _ in range(3)]
    wait_until(lambda: sample(scrape(admin), "vigil_longpoll_parked",
                              "vigil_longpoll_parked") == 3, timeout=3, what="3 parked")
    admin.patch(path, json={"labels": {"x": "y"}})
    for bg in bgs:
        assert bg.result().status_code == 200
    time.sleep(0.1)
    assert sample(scrape(admin), "vigil_longpoll_parked", "vigil_longpoll_parked") == 0


def test_viewer_may_scrape_agent_may_not(admin):
    assert scrape(admin.mint("viewer"))
    n = admin.node()["name"]
    assert_problem(admin.mint("agent", node=n).get("/metrics"), 403, "forbidden")
