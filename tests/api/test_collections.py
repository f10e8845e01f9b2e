"""Collections: paging with limit and cursors, next/prev/first links in the body and in the RFC 8288
Link header, count/total, embedded full representations, filters. This module's server holds only
what these tests create, so totals are exact."""

import pytest

from vigiltest import assert_problem, parse_link_header

SEVEN = [f"p{i:02d}" for i in range(7)]


@pytest.fixture(scope="module")
def seven(admin):
    # Created out of order: the collection sorts by name.
    for i, n in enumerate(reversed(SEVEN)):
        admin.node(n, address=f"198.18.200.{i + 1}")
    return SEVEN


def _page(admin, path):
    r = admin.get(path)
    assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text[:300]}"
    doc = r.json()
    names = [x["name"] for x in doc["_embedded"]["nodes"]] if "nodes" in doc["_embedded"] else None
    return r, doc, names


def _body_links(doc):
    return {rel: doc["_links"][rel]["href"] for rel in ("self", "first", "next", "prev")
            if rel in doc["_links"]}


def test_page_through_with_next_links(admin, seven):
    r, doc, names = _page(admin, "/nodes?limit=3")
    pages = [names]
    assert doc["count"] == 3 and doc["total"] == 7
    assert "prev" not in doc["_links"]
    assert "first" in doc["_links"] and "self" in doc["_links"]
    while "next" in doc["_links"]:
        r, doc, names = _page(admin, doc["_links"]["next"]["href"])
        assert doc["total"] == 7
        assert doc["count"] == len(names)
        pages.append(names)
        assert len(pages) < 10, "next links never end"
    assert pages == [SEVEN[0:3], SEVEN[3:6], SEVEN[6:7]]


def test_link_header_matches_body_links(admin, seven):
    r, doc, _ = _page(admin, "/nodes?limit=3")
    r, doc, _ = _page(admin, doc["_links"]["next"]["href"])  # a middle page: all four rels
    header = parse_link_header(r.headers.get("Link"))
    body = _body_links(doc)
    assert {"first", "next", "prev"} <= set(body)
    for rel in ("first", "next", "prev"):
        assert header.get(rel) == body[rel], (rel, r.headers.get("Link"), body)


def test_page_through_with_link_header(admin, seven):
    path, seen = "/nodes?limit=2", []
    for _ in range(10):
        r, doc, names = _page(admin, path)
        seen += names
        links = parse_link_header(r.headers.get("Link"))
        if "next" not in links:
            break
        path = links["next"]
    assert seen == SEVEN


def test_prev_links_walk_back_to_first_page(admin, seven):
    r, doc, names = _page(admin, "/nodes?limit=3")
    while "next" in doc["_links"]:
        r, doc, names = _page(admin, doc["_links"]["next"]["href"])
    assert names == SEVEN[6:]
    back = []
    while "prev" in doc["_links"]:
        r, doc, names = _page(admin, doc["_links"]["prev"]["href"])
        back.append(names)
        assert len(back) < 10
    assert back == [SEVEN[3:6], SEVEN[0:3]]
    assert "prev" not in parse_link_header(r.headers.get("Link"))


def test_first_link_leads_to_first_page(admin, seven):
    r, doc, _ = _page(admin, "/nodes?limit=3")
    r, doc, _ = _page(admin, doc["_links"]["next"]["href"])
    r, doc, names = _page(admin, doc["_links"]["first"]["href"])
    assert names == SEVEN[0:3]


def test_default_limit_returns_all_seven_without_next(admin, seven):
    r, doc, names = _page(admin, "/nodes")
    assert names == SEVEN
    assert doc["count"] == 7 and doc["total"] == 7
    assert "next" not in doc["_links"] and "prev" not in doc["_links"]
    assert "next" not in parse_link_header(r.headers.get("Link"))


def test_limit_1_and_500(admin, seven):
    _, doc, names = _page(admin, "/nodes?limit=1")
    assert names == SEVEN[:1] and doc["count"] == 1 and doc["total"] == 7
    _, doc, names = _page(admin, "/nodes?limit=500")
    assert names == SEVEN


def test_embedded_items_are_full_representations(admin, seven):
    _, doc, _ = _page(admin, "/nodes?limit=500")
    for item in doc["_embedded"]["nodes"]:
        assert admin.get(item["_links"]["self"]["href"]).json() == item


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=-1", "limit=abc", "limit=1.5",
                                   "limit=", "cursor=%21%21not-a-cursor",
                                   "cursor=zzzz"])
def test_bad_paging_parameters_are_400(admin, seven, query):
    assert_problem(admin.get(f"/nodes?{query}"), 400, "bad-request", instance="/nodes")


def test_empty_collection(admin):
    r = admin.get("/checks")
    assert r.status_code == 200
    doc = r.json()
    assert doc["count"] == 0 and doc["total"] == 0
    assert doc["_embedded"]["checks"] == []
    assert "next" not in doc["_links"] and "prev" not in doc["_links"]


def test_vips_filter_by_node_pages_and_keeps_filter(admin, seven):
    m = seven[0]
    mine = sorted(admin.vip(f"fv{i}", members=[{"node": m, "priority": 100}])["name"]
                  for i in range(3))
    admin.vip("fv9", members=[{"node": seven[1], "priority": 100}])
    admin.vip("fv8")
    r = admin.get(f"/vips?node={m}&limit=2")
    assert r.status_code == 200
    doc = r.json()
    assert doc["total"] == 3 and doc["count"] == 2
    got = [v["name"] for v in doc["_embedded"]["vips"]]
    nxt = doc["_links"]["next"]["href"]
    assert f"node={m}" in nxt
    doc = admin.get(nxt).json()
    got += [v["name"] for v in doc["_embedded"]["vips"]]
    assert "next" not in doc["_links"]
    assert got == mine
    all_vips = admin.get("/vips").json()
    assert all_vips["total"] == 5


def test_collection_links_and_search_template(admin, seven):
    doc = admin.get("/vips").json()
    assert doc["_links"]["vg:find"] == {"href": "/vips{?node,group}", "templated": True}
    assert doc["_links"]["self"]["href"].startswith("/vips")
    assert doc["_links"]["curies"] == [{"name": "vg", "href": "/rels/{rel}", "templated": True}]
    for coll in ("backends", "checks"):
        f = admin.get(f"/{coll}").json()["_links"]["vg:find"]
        assert f["templated"] is True and f["href"].startswith(f"/{coll}{{?"), f


def test_tokens_collection_pages(admin):
    minted = [admin.mint("viewer").token_id for _ in range(3)]
    ids, path = [], "/tokens?limit=2"
    for _ in range(10):
        doc = admin.get(path).json()
        assert doc["total"] == 4
        ids += [t["id"] for t in doc["_embedded"]["tokens"]]
        if "next" not in doc["_links"]:
            break
        path = doc["_links"]["next"]["href"]
    assert sorted(ids) == ids
    assert set(ids) == set(minted) | {"bootstrap"}
