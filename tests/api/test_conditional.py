"""ETags, Last-Modified, 304, 412, 428, PUT create/replace and merge-patch (RFC 9110 section 13,
RFC 7396)."""

import email.utils

import pytest

from vigiltest import ETAG_RE, assert_problem, node_body, uniq, vip_body

OLD_DATE = "Sun, 06 Nov 1994 08:49:37 GMT"


@pytest.fixture
def node(admin):
    doc = admin.node(labels={"a": "1"})
    return f"/nodes/{doc['name']}"


def test_item_has_strong_quoted_etag_and_last_modified(admin, node):
    r = admin.get(node)
    assert ETAG_RE.match(r.headers["ETag"]), r.headers["ETag"]
    lm = r.headers["Last-Modified"]
    assert lm.endswith(" GMT")
    assert email.utils.parsedate_to_datetime(lm) is not None


@pytest.mark.parametrize("path", ["/nodes", "/vips", "/", "NODE/config", "NODE/status"])
def test_collections_and_others_have_strong_etag(admin, node, path):
    path = path.replace("NODE", node)
    r = admin.get(path)
    assert r.status_code == 200
    assert ETAG_RE.match(r.headers["ETag"]), r.headers["ETag"]


def test_etag_changes_when_item_changes(admin, node):
    e1 = admin.etag(node)
    assert admin.patch(node, json={"labels": {"b": "2"}}).status_code == 200
    e2 = admin.etag(node)
    assert e1 != e2


def test_collection_etag_changes_on_create_and_member_change(admin, node):
    e1 = admin.etag("/nodes")
    admin.node()
    e2 = admin.etag("/nodes")
    assert e2 != e1
    assert admin.patch(node, json={"labels": {"c": "3"}}).status_code == 200
    assert admin.etag("/nodes") != e2


def _assert_304(r, etag):
    assert r.status_code == 304, f"{r.status_code} {r.text[:300]}"
    assert r.content == b""
    assert r.headers.get("ETag") == etag


@pytest.mark.parametrize("form", ["exact", "list", "star", "weak"])
def test_if_none_match_on_get_is_304(admin, node, form):
    etag = admin.etag(node)
    value = {"exact": etag, "list": f'"0000", {etag}', "star": "*", "weak": f"W/{etag}"}[form]
    _assert_304(admin.get(node, headers={"If-None-Match": value}), etag)


def test_if_none_match_on_head_is_304(admin, node):
    etag = admin.etag(node)
    _assert_304(admin.head(node, headers={"If-None-Match": etag}), etag)


def test_if_none_match_on_collection_is_304(admin, node):
    etag = admin.etag("/nodes")
    _assert_304(admin.get("/nodes", headers={"If-None-Match": etag}), etag)


def test_stale_if_none_match_is_200(admin, node):
    etag = admin.etag(node)
    r = admin.get(node, headers={"If-None-Match": '"0123456789abcdef"'})
    assert r.status_code == 200
    assert r.headers["ETag"] == etag


def test_if_modified_since_last_modified_is_304(admin, node):
    r = admin.get(node)
    _assert_304(admin.get(node, headers={"If-Modified-Since": r.headers["Last-Modified"]}),
                r.headers["ETag"])


def test_if_modified_since_old_date_is_200(admin, node):
    assert admin.get(node, headers={"If-Modified-Since": OLD_DATE}).status_code == 200


def test_if_modified_since_garbage_is_ignored(admin, node):
    assert admin.get(node, headers={"If-Modified-Since": "yesterday"}).status_code == 200


def test_if_none_match_wins_over_if_modified_since(admin, node):
    r = admin.get(node)
    lm, etag = r.headers["Last-Modified"], r.headers["ETag"]
    # Stale ETag, fresh date: the ETag decides, 200.
    r2 = admin.get(node, headers={"If-None-Match": '"0000"', "If-Modified-Since": lm})
    assert r2.status_code == 200
    # Matching ETag, old date: 304.
    _assert_304(admin.get(node, headers={"If-None-Match": etag, "If-Modified-Since": OLD_DATE}),
                etag)


def test_last_modified_does_not_go_back_after_write(admin, node):
    lm1 = email.utils.parsedate_to_datetime(admin.get(node).headers["Last-Modified"])
    admin.patch(node, json={"labels": {"z": "9"}})
    lm2 = email.utils.parsedate_to_datetime(admin.get(node).headers["Last-Modified"])
    assert lm2 >= lm1


# -- If-Match on writes ---------------------------------------------------------------------------

def _name(path):
    return path.rsplit("/", 1)[1]


def test_put_with_stale_if_match_is_412(admin, node):
    stale = admin.etag(node)
    admin.patch(node, json={"labels": {"x": "1"}})
    current = admin.get(node).json()
    r = admin.put(node, json=node_body(_name(node), address="198.18.250.1"),
                  headers={"If-Match": stale})
    assert_problem(r, 412, "precondition-failed")
    assert admin.get(node).json() == current


def test_patch_with_stale_if_match_is_412(admin, node):
    stale = admin.etag(node)
    admin.patch(node, json={"labels": {"x": "1"}})
    r = admin.patch(node, json={"labels": {"y": "2"}}, headers={"If-Match": stale})
    assert_problem(r, 412, "precondition-failed")
    assert "y" not in admin.get(node).json()["labels"]


def test_delete_with_stale_if_match_is_412(admin, node):
    stale = admin.etag(node)
    admin.patch(node, json={"labels": {"x": "1"}})
    assert_problem(admin.delete(node, headers={"If-Match": stale}), 412, "precondition-failed")
    assert admin.get(node).status_code == 200


def test_weak_if_match_never_matches(admin, node):
    etag = admin.etag(node)
    r = admin.patch(node, json={"labels": {}}, headers={"If-Match": f"W/{etag}"})
    assert_problem(r, 412, "precondition-failed")


def test_writes_with_current_if_match_succeed(admin, node):
    etag = admin.etag(node)
    r = admin.patch(node, json={"labels": {"m": "1"}}, headers={"If-Match": etag})
    assert r.status_code == 200
    etag = admin.etag(node)
    body = admin.get(node).json()
    r = admin.put(node, json=body, headers={"If-Match": f'"0000", {etag}'})
    assert r.status_code == 200
    assert admin.delete(node, headers={"If-Match": admin.etag(node)}).status_code == 204


def test_if_match_star_on_existing_put_is_200(admin, node):
    body = admin.get(node).json()
    assert admin.put(node, json=body, headers={"If-Match": "*"}).status_code == 200


@pytest.mark.parametrize("value", ["*", '"0123456789abcdef"'])
def test_if_match_on_absent_put_is_412(admin, value):
    n = uniq("absent")
    r = admin.put(f"/nodes/{n}", json=node_body(n), headers={"If-Match": value})
    assert_problem(r, 412, "precondition-failed")
    assert admin.get(f"/nodes/{n}").status_code == 404


def test_if_none_match_star_on_existing_put_is_412(admin, node):
    before = admin.get(node).json()
    r = admin.put(node, json=node_body(_name(node)), headers={"If-None-Match": "*"})
    assert_problem(r, 412, "precondition-failed")
    assert admin.get(node).json() == before


def test_if_none_match_star_on_absent_put_creates(admin):
    n = uniq("create-only")
    r = admin.put(f"/nodes/{n}", json=node_body(n), headers={"If-None-Match": "*"})
    assert r.status_code == 201
    assert r.headers["Location"] == f"/nodes/{n}"


# -- PUT create/replace and merge-patch ----------------------------------------------------------

def test_put_creates_201_then_replaces_200(admin):
    n = uniq("vip")
    body = vip_body(n, preempt=True)
    r = admin.put(f"/vips/{n}", json=body)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/vips/{n}"
    assert r.json()["preempt"] is True
    body["preempt"] = False
    r = admin.put(f"/vips/{n}", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["preempt"] is False
    assert admin.get(f"/vips/{n}").json()["preempt"] is False


def test_merge_patch_keeps_unmentioned_and_null_removes(admin):
    nodes = [admin.node()["name"] for _ in range(2)]
    doc = admin.vip(preempt=True, preempt_delay_ms=5000,
                    members=[{"node": nodes[0], "priority": 100}])
    path = f"/vips/{doc['name']}"
    r = admin.patch(path, json={"preempt_delay_ms": None,
                                "members": [{"node": nodes[1], "priority": 50}]})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["preempt"] is True                      # untouched
    assert got["preempt_delay_ms"] == 0                # removed: back to the default
    assert got["members"] == [{"node": nodes[1], "priority": 50}]  # arrays replace wholesale
    assert got["vrid"] == doc["vrid"] and got["addresses"] == doc["addresses"]


def test_merge_patch_nested_null_removes_label(admin, node):
    r = admin.patch(node, json={"labels": {"a": None, "b": "2"}})
    assert r.status_code == 200
    assert r.json()["labels"] == {"b": "2"}


def test_merge_patch_non_object_is_400(admin, node):
    r = admin.patch(node, data=b'["labels"]')
    assert_problem(r, 400, "malformed-json")


def test_empty_merge_patch_changes_nothing(admin, node):
    before = admin.get(node).json()
    r = admin.patch(node, json={})
    assert r.status_code == 200
    assert admin.get(node).json() == before


# -- --require-if-match ----------------------------------------------------------------------------

def test_require_if_match_mode(make_server):
    srv = make_server("--require-if-match")
    c = srv.client()
    n = uniq("strict")
    assert c.put(f"/nodes/{n}", json=node_body(n)).status_code == 201   # create: no If-Match
    c.node()                                                              # POST unaffected
    path = f"/nodes/{n}"
    assert_problem(c.put(path, json=node_body(n)), 428, "precondition-required")
    assert_problem(c.patch(path, json={"labels": {}}), 428, "precondition-required")
    assert_problem(c.delete(path), 428, "precondition-required")
    assert c.patch(path, json={"labels": {"k": "v"}},
                   headers={"If-Match": c.etag(path)}).status_code == 200
    assert c.delete(path, headers={"If-Match": c.etag(path)}).status_code == 204
