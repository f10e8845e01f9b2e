"""/backends: defaults, validation, CRUD, links and the ?vip= filter."""

import pytest

from vigiltest import assert_422, assert_problem, backend_body, uniq


@pytest.fixture(scope="module")
def vip(admin):
    return admin.vip()["name"]


def test_post_fills_defaults_and_links(admin, vip):
    body = backend_body(vip)
    r = admin.post("/backends", json=body)
    assert r.status_code == 201, r.text
    n = body["name"]
    assert r.headers["Location"] == f"/backends/{n}"
    doc = r.json()
    for k, v in body.items():
        assert doc[k] == v, k
    assert doc["weight"] == 1
    assert doc["admin_state"] == "enabled"
    assert doc["status"] == {"health": "unknown", "since": None, "reason": None}
    links = doc["_links"]
    assert links["self"]["href"] == f"/backends/{n}"
    assert links["collection"]["href"] == "/backends"
    assert links["vg:vip"]["href"] == f"/vips/{vip}"
    assert links["vg:checks"]["href"] == f"/checks?backend={n}"
    assert admin.get(f"/backends/{n}").json() == doc


def test_all_fields_round_trip(admin, vip):
    body = backend_body(vip, weight=0, admin_state="drain", haproxy_backend="web",
                        haproxy_server="web1", address="2001:db8::5", port=65535)
    doc = admin.create("backends", body)
    for k, v in body.items():
        assert doc[k] == v, k


BAD = [
    ({"vip": None}, "/vip"),
    ({"vip": "no-such-vip"}, "/vip"),
    ({"vip": 3}, "/vip"),
    ({"address": None}, "/address"),
    ({"address": "10.0.0.1/24"}, "/address"),
    ({"address": "1.2.3"}, "/address"),
    ({"port": None}, "/port"),
    ({"port": 0}, "/port"),
    ({"port": 65536}, "/port"),
    ({"port": "80"}, "/port"),
    ({"weight": -1}, "/weight"),
    ({"weight": 256}, "/weight"),
    ({"weight": 1.5}, "/weight"),
    ({"admin_state": "off"}, "/admin_state"),
    ({"admin_state": "ENABLED"}, "/admin_state"),
    ({"haproxy_backend": 5}, "/haproxy_backend"),
    ({"haproxy_server": ["a"]}, "/haproxy_server"),
    ({"name": "has space"}, "/name"),
    ({"bogus": 1}, "/bogus"),
]


@pytest.mark.parametrize("over,pointer", BAD, ids=[f"{p}={repr(o)[:40]}" for o, p in BAD])
def test_invalid_backend_is_422_naming_field(admin, vip, over, pointer):
    body = backend_body(vip)
    for k, v in over.items():
        if v is None:
            del body[k]
        else:
            body[k] = v
    assert_422(admin.post("/backends", json=body), pointer)


@pytest.mark.parametrize("state", ["enabled", "drain", "disabled"])
def test_patch_admin_state(admin, vip, state):
    n = admin.backend(vip)["name"]
    r = admin.patch(f"/backends/{n}", json={"admin_state": state})
    assert r.status_code == 200, r.text
    assert r.json()["admin_state"] == state
    assert admin.get(f"/backends/{n}").json()["admin_state"] == state


def test_put_create_replace_delete(admin, vip):
    n = uniq("be")
    assert admin.put(f"/backends/{n}", json=backend_body(vip, n)).status_code == 201
    r = admin.put(f"/backends/{n}", json=backend_body(vip, n, port=9090))
    assert r.status_code == 200
    assert admin.get(f"/backends/{n}").json()["port"] == 9090
    assert admin.delete(f"/backends/{n}").status_code == 204
    assert_problem(admin.get(f"/backends/{n}"), 404, "not-found")


def test_move_backend_to_other_vip(admin, vip):
    other = admin.vip()["name"]
    n = admin.backend(vip)["name"]
    r = admin.patch(f"/backends/{n}", json={"vip": other})
    assert r.status_code == 200
    assert r.json()["_links"]["vg:vip"]["href"] == f"/vips/{other}"
    names = [b["name"] for b in admin.get(f"/backends?vip={other}").json()["_embedded"]["backends"]]
    assert names == [n]


def test_filter_by_vip(admin):
    v1, v2 = admin.vip()["name"], admin.vip()["name"]
    mine = sorted(admin.backend(v1)["name"] for _ in range(3))
    admin.backend(v2)
    r = admin.get(f"/backends?vip={v1}")
    assert r.status_code == 200
    doc = r.json()
    assert [b["name"] for b in doc["_embedded"]["backends"]] == mine
    assert doc["count"] == 3 and doc["total"] == 3
    assert all(b["vip"] == v1 for b in doc["_embedded"]["backends"])


def test_filter_by_unknown_vip_is_empty(admin):
    r = admin.get(f"/backends?vip={uniq('nope')}")
    assert r.status_code == 200
    assert r.json()["count"] == 0 and r.json()["total"] == 0


def test_get_then_put_back_unchanged(admin, vip):
    n = admin.backend(vip)["name"]
    doc = admin.get(f"/backends/{n}").json()
    r = admin.put(f"/backends/{n}", json=doc)
    assert r.status_code == 200, r.text
    assert admin.get(f"/backends/{n}").json() == doc
