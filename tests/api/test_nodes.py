"""/nodes: create, read, replace, patch, delete, validation and representation."""

import pytest

from vigiltest import assert_422, assert_problem, node_body, uniq, uniq_iface

CURIES = [{"name": "vg", "href": "/rels/{rel}", "templated": True}]


def test_post_creates_201_with_location_and_representation(admin):
    body = node_body(labels={"rack": "r1"})
    r = admin.post("/nodes", json=body)
    assert r.status_code == 201, r.text
    n = body["name"]
    assert r.headers["Location"] == f"/nodes/{n}"
    doc = r.json()
    for k in ("name", "address", "interface", "labels"):
        assert doc[k] == body[k]
    links = doc["_links"]
    assert links["self"]["href"] == f"/nodes/{n}"
    assert links["collection"]["href"] == "/nodes"
    assert links["vg:config"]["href"] == f"/nodes/{n}/config"
    assert links["vg:status"]["href"] == f"/nodes/{n}/status"
    assert links["vg:vips"]["href"] == f"/vips?node={n}"
    assert links["curies"] == CURIES
    st = doc["status"]
    assert st["agent"] == "unknown"
    assert st["last_seen"] is None
    assert st["agent_version"] is None
    assert st["ip_nonlocal_bind"] is None
    assert st["vrrp"] == {}
    assert st["vips_held"] == []
    assert st["last_transition"] is None


def test_get_returns_what_post_returned(admin):
    r = admin.post("/nodes", json=node_body())
    g = admin.get(r.headers["Location"])
    assert g.status_code == 200
    assert g.json() == r.json()


def test_labels_default_to_empty_object(admin):
    assert admin.node()["labels"] == {}


def test_optional_fields_round_trip(admin):
    doc = admin.node(ip_nonlocal_bind=True, haproxy_socket="/run/haproxy/admin.sock")
    assert doc["ip_nonlocal_bind"] is True
    assert doc["haproxy_socket"] == "/run/haproxy/admin.sock"


def test_ipv6_address_is_accepted(admin):
    doc = admin.node(address="2001:db8::1")
    assert doc["address"] == "2001:db8::1"


def test_post_existing_name_is_409(admin):
    body = node_body()
    admin.create("nodes", body)
    assert_problem(admin.post("/nodes", json=body), 409, "conflict")


def test_put_creates_201_then_replaces_200(admin):
    n = uniq("node")
    r = admin.put(f"/nodes/{n}", json=node_body(n))
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/nodes/{n}"
    body = node_body(n, interface="bond0", labels={"a": "b"})
    r = admin.put(f"/nodes/{n}", json=body)
    assert r.status_code == 200, r.text
    got = admin.get(f"/nodes/{n}").json()
    assert got["interface"] == "bond0" and got["labels"] == {"a": "b"}
    assert got["address"] == body["address"]


def test_put_without_name_in_body_uses_url(admin):
    n = uniq("node")
    body = node_body(n)
    del body["name"]
    r = admin.put(f"/nodes/{n}", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["name"] == n


def test_put_replaces_whole_spec(admin):
    doc = admin.node(labels={"a": "1"}, haproxy_socket="/run/h.sock")
    n = doc["name"]
    r = admin.put(f"/nodes/{n}", json=node_body(n, address=doc["address"]))
    assert r.status_code == 200
    got = admin.get(f"/nodes/{n}").json()
    assert got["labels"] == {}
    assert "haproxy_socket" not in got or got["haproxy_socket"] is None


def test_put_name_mismatch_is_422(admin):
    n = uniq("node")
    assert_422(admin.put(f"/nodes/{n}", json=node_body(uniq("other"))), "/name")
    assert admin.get(f"/nodes/{n}").status_code == 404


@pytest.mark.parametrize("bad", ["Bad", "a_b", "-a", "a" * 64, "a.b"])
def test_put_bad_name_in_url_is_422(admin, bad):
    body = node_body()
    del body["name"]
    assert_422(admin.put(f"/nodes/{bad}", json=body), "/name")


def test_get_put_round_trip_accepts_server_members(admin):
    """The curl habit: GET, edit, PUT back with _links and status still in it."""
    doc = admin.node()
    n = doc["name"]
    doc["labels"] = {"edited": "yes"}
    doc["_embedded"] = {}
    r = admin.put(f"/nodes/{n}", json=doc)
    assert r.status_code == 200, r.text
    assert admin.get(f"/nodes/{n}").json()["labels"] == {"edited": "yes"}


def test_status_in_input_is_ignored(admin):
    doc = admin.node()
    n = doc["name"]
    body = node_body(n, address=doc["address"], status={"agent": "up", "vips_held": ["x"]})
    assert admin.put(f"/nodes/{n}", json=body).status_code == 200
    st = admin.get(f"/nodes/{n}").json()["status"]
    assert st["agent"] == "unknown" and st["vips_held"] == []


BAD_NODES = [
    ({"name": "Bad"}, "/name"),
    ({"name": "-a"}, "/name"),
    ({"name": "a" * 64}, "/name"),
    ({"name": 5}, "/name"),
    ({"address": None}, "/address"),
    ({"address": "999.1.1.1"}, "/address"),
    ({"address": "198.18.0.1/24"}, "/address"),
    ({"address": "not-an-ip"}, "/address"),
    ({"address": "2001:db8::zz"}, "/address"),
    ({"address": ""}, "/address"),
    ({"address": 3232235521}, "/address"),
    ({"interface": None}, "/interface"),
    ({"interface": ""}, "/interface"),
    ({"interface": "a" * 16}, "/interface"),
    ({"interface": "eth/0"}, "/interface"),
    ({"interface": "eth 0"}, "/interface"),
    ({"interface": "eth0:1"}, "/interface"),
    ({"interface": 0}, "/interface"),
    ({"labels": "rack=1"}, "/labels"),
    ({"labels": ["a"]}, "/labels"),
    ({"labels": {"k": 1}}, "/labels/k"),
    ({"labels": {"k": None}}, "/labels/k"),
    ({"labels": {"a" * 64: "v"}}, ["/labels/" + "a" * 64, "/labels"]),
    ({"labels": {"": "v"}}, ["/labels/", "/labels"]),
    ({"ip_nonlocal_bind": "yes"}, "/ip_nonlocal_bind"),
    ({"ip_nonlocal_bind": 1}, "/ip_nonlocal_bind"),
    ({"haproxy_socket": "run/haproxy.sock"}, "/haproxy_socket"),
    ({"haproxy_socket": 7}, "/haproxy_socket"),
    ({"foo": 1}, "/foo"),
    ({"Name": "x"}, "/Name"),
]


@pytest.mark.parametrize("over,pointer", BAD_NODES, ids=[str(p)[:20] + "=" + repr(o)[:30]
                                                         for o, p in BAD_NODES])
def test_invalid_node_is_422_naming_field(admin, over, pointer):
    body = node_body()
    for k, v in over.items():
        if v is None and k in ("address", "interface"):
            del body[k]
        else:
            body[k] = v
    r = admin.post("/nodes", json=body)
    assert_422(r, pointer)
    if isinstance(body.get("name"), str):
        assert admin.get(f"/nodes/{body['name']}").status_code == 404


def test_label_key_of_63_chars_is_ok(admin):
    assert admin.node(labels={"k" * 63: ""})["labels"] == {"k" * 63: ""}


def test_interface_of_15_chars_is_ok(admin):
    assert admin.node(interface="a" * 15)["interface"] == "a" * 15


def test_name_of_63_chars_is_ok(admin):
    n = "z" + "0" * 62
    r = admin.put(f"/nodes/{n}", json=node_body(n))
    assert r.status_code == 201, r.text
    assert admin.get(f"/nodes/{n}").json()["name"] == n


def test_several_errors_are_all_named(admin):
    body = node_body(address="nope", interface="", foo=1)
    b = assert_422(admin.post("/nodes", json=body), "/address")
    pointers = {e["pointer"] for e in b["errors"]}
    assert {"/address", "/interface", "/foo"} <= pointers, pointers


# -- PATCH --------------------------------------------------------------------------------------

def test_patch_merges_and_null_removes(admin):
    doc = admin.node(labels={"a": "1", "b": "2"}, haproxy_socket="/run/h.sock")
    n = doc["name"]
    r = admin.patch(f"/nodes/{n}", json={"labels": {"a": None, "c": "3"}, "haproxy_socket": None})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["labels"] == {"b": "2", "c": "3"}
    assert got.get("haproxy_socket") is None
    assert got["address"] == doc["address"] and got["interface"] == doc["interface"]
    assert admin.get(f"/nodes/{n}").json() == got


def test_patch_result_is_validated(admin):
    doc = admin.node()
    r = admin.patch(f"/nodes/{doc['name']}", json={"address": "300.0.0.1"})
    assert_422(r, "/address")
    r = admin.patch(f"/nodes/{doc['name']}", json={"address": None})
    assert_422(r, "/address")
    assert admin.get(f"/nodes/{doc['name']}").json()["address"] == doc["address"]


def test_patch_cannot_rename(admin):
    doc = admin.node()
    assert_422(admin.patch(f"/nodes/{doc['name']}", json={"name": uniq("new")}), "/name")


def test_patch_unknown_field_is_422(admin):
    doc = admin.node()
    assert_422(admin.patch(f"/nodes/{doc['name']}", json={"bogus": True}), "/bogus")


def test_patch_absent_is_404(admin):
    assert_problem(admin.patch(f"/nodes/{uniq('nope')}", json={"labels": {}}), 404, "not-found")


# -- DELETE -------------------------------------------------------------------------------------

def test_delete_is_204_then_404(admin):
    n = admin.node()["name"]
    r = admin.delete(f"/nodes/{n}")
    assert r.status_code == 204
    assert r.content == b""
    assert_problem(admin.get(f"/nodes/{n}"), 404, "not-found")
    assert_problem(admin.delete(f"/nodes/{n}"), 404, "not-found")


def test_delete_node_used_by_vip_is_409(admin):
    n = admin.node()["name"]
    v = admin.vip(members=[{"node": n, "priority": 100}])["name"]
    assert_problem(admin.delete(f"/nodes/{n}"), 409, "conflict")
    assert admin.get(f"/nodes/{n}").status_code == 200
    assert admin.delete(f"/vips/{v}").status_code == 204
    assert admin.delete(f"/nodes/{n}").status_code == 204


def test_delete_node_targeted_by_check_is_409(admin):
    n = admin.node()["name"]
    c = admin.check(type="script", node=n, script=["true"])["name"]
    assert_problem(admin.delete(f"/nodes/{n}"), 409, "conflict")
    assert admin.delete(f"/checks/{c}").status_code == 204
    assert admin.delete(f"/nodes/{n}").status_code == 204


def test_deleted_name_can_be_reused(admin):
    n = admin.node()["name"]
    assert admin.delete(f"/nodes/{n}").status_code == 204
    r = admin.post("/nodes", json=node_body(n, interface=uniq_iface()))
    assert r.status_code == 201
    assert r.json()["status"]["agent"] == "unknown"
