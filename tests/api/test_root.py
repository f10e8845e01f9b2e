"""The entry point and hypermedia: / links, following them, curie documentation under /rels,
problem type pages under /problems, the served OpenAPI document."""

import re

import pytest
import yaml

from vigiltest import NO_TOKEN, REPO, assert_problem

ROOT_LINKS = {
    "self": "/", "vg:nodes": "/nodes", "vg:vips": "/vips", "vg:backends": "/backends",
    "vg:checks": "/checks", "vg:tokens": "/tokens", "vg:metrics": "/metrics",
    "vg:healthz": "/healthz", "describedby": "/openapi.yaml",
}
TEMPLATED = {"vg:events": "/events{?since,wait,actor}", "vg:node": "/nodes/{name}",
             "vg:vip": "/vips/{name}", "vg:backend": "/backends/{name}",
             "vg:check": "/checks/{name}"}
SLUGS = ["malformed-json", "validation", "conflict", "not-found", "method-not-allowed",
         "not-acceptable", "unsupported-media-type", "payload-too-large", "uri-too-long",
         "precondition-failed", "precondition-required", "unauthorized", "forbidden", "gone",
         "bad-request", "not-implemented", "unavailable", "too-many-requests"]


def test_root_shape(admin):
    r = admin.get("/")
    assert r.status_code == 200
    doc = r.json()
    assert isinstance(doc["revision"], int)
    assert isinstance(doc["version"], str) and doc["version"]
    links = doc["_links"]
    for rel, href in ROOT_LINKS.items():
        assert links[rel]["href"] == href, rel
    for rel, href in TEMPLATED.items():
        assert links[rel] == {"href": href, "templated": True}, rel
    assert links["curies"] == [{"name": "vg", "href": "/rels/{rel}", "templated": True}]
    assert doc["revision"] == admin.get("/healthz").json()["revision"]


@pytest.mark.parametrize("role", ["viewer", "operator", "agent"])
def test_every_role_reads_root(admin, role):
    node = admin.node()["name"] if role == "agent" else None
    r = admin.mint(role, node=node).get("/")
    assert r.status_code == 200
    assert r.json()["_links"]["self"]["href"] == "/"


def test_following_every_root_link_works(admin):
    links = admin.get("/").json()["_links"]
    for rel, link in links.items():
        if rel == "curies" or link.get("templated"):
            continue
        r = admin.get(link["href"])
        assert r.status_code == 200, f"{rel} -> {link['href']}: {r.status_code}"


def test_templated_links_expand(admin):
    links = admin.get("/").json()["_links"]
    n = admin.node()["name"]
    r = admin.get(links["vg:node"]["href"].replace("{name}", n))
    assert r.status_code == 200 and r.json()["name"] == n
    rev = admin.get("/").json()["revision"]
    r = admin.get(links["vg:events"]["href"].replace("{?since,wait,actor}", f"?since={rev - 1}"))
    assert r.status_code == 200
    assert r.json()["_embedded"]["events"][0]["revision"] == rev


def _vg_rels(obj, out):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k.startswith("vg:"):
                out.add(k[3:])
            _vg_rels(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _vg_rels(v, out)
    return out


def test_every_curie_rel_in_use_is_documented(admin):
    a, b = admin.node()["name"], admin.node()["name"]
    agents = {n: admin.mint("agent", node=n) for n in (a, b)}
    v = admin.vip(members=[{"node": a, "priority": 200}, {"node": b, "priority": 100}])["name"]
    be = admin.backend(v)["name"]
    admin.check(backend=be)
    agents[a].put(f"/nodes/{a}/status", json={"vrrp": {v: {"state": "BACKUP", "priority": 200}}})
    agents[b].put(f"/nodes/{b}/status", json={"vrrp": {v: {"state": "MASTER", "priority": 100}},
                                              "vips_held": [v]})
    rels = set()
    for path in ["/", "/nodes", "/vips", "/backends", "/checks", "/tokens", "/events",
                 f"/nodes/{a}", f"/nodes/{a}/config", f"/nodes/{a}/status", f"/vips/{v}",
                 f"/vips/{v}/holder", f"/backends/{be}"]:
        _vg_rels(admin.get(path).json(), rels)
    assert "failback" in rels, "test setup should show a vg:failback link"
    for rel in sorted(rels):
        r = admin.get(f"/rels/{rel}", token=NO_TOKEN, accept="text/html")
        assert r.status_code == 200, f"/rels/{rel}: {r.status_code}"
        assert r.headers["Content-Type"].startswith("text/html")
        assert f"vg:{rel}" in r.text or rel in r.text


def test_unknown_rel_is_404(admin):
    r = admin.get("/rels/no-such-rel", token=NO_TOKEN)
    assert r.status_code == 404


@pytest.mark.parametrize("slug", SLUGS)
def test_problem_type_pages_exist(admin, slug):
    r = admin.get(f"/problems/{slug}", token=NO_TOKEN, accept="text/html")
    assert r.status_code == 200, f"/problems/{slug}: {r.status_code}"
    assert r.headers["Content-Type"].startswith("text/html")


def test_problem_type_of_an_error_dereferences(admin):
    body = assert_problem(admin.get("/nodes/missing-node"), 404, "not-found")
    r = admin.get(body["type"], token=NO_TOKEN)
    assert r.status_code == 200


def test_served_openapi_is_the_repository_file(admin):
    r = admin.get("/openapi.yaml", token=NO_TOKEN)
    assert r.status_code == 200
    assert re.match(r"^(application|text)/(x-)?yaml", r.headers["Content-Type"]), \
        r.headers["Content-Type"]
    served = yaml.safe_load(r.content)
    assert served["openapi"].startswith("3.1")
    path = REPO / "api-spec" / "openapi.yaml"
    assert r.content == path.read_bytes(), \
        "vigild serves a different openapi.yaml than api-spec/ (stale build?)"
