"""/checks: types, per-type fields, targets (backend xor node), defaults, filters."""

import pytest

from vigiltest import assert_422, assert_problem, uniq


@pytest.fixture(scope="module")
def targets(admin):
    vip = admin.vip()["name"]
    return {"backend": admin.backend(vip)["name"], "node": admin.node()["name"], "vip": vip}


def _body(targets, **fields):
    body = {"name": uniq("chk"), "type": "tcp", "backend": targets["backend"]}
    for k, v in fields.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    return body


def test_tcp_backend_check_defaults_and_links(admin, targets):
    body = _body(targets)
    r = admin.post("/checks", json=body)
    assert r.status_code == 201, r.text
    n = body["name"]
    assert r.headers["Location"] == f"/checks/{n}"
    doc = r.json()
    assert doc["type"] == "tcp" and doc["backend"] == targets["backend"]
    assert doc["interval_ms"] == 2000
    assert doc["timeout_ms"] == 1000
    assert doc["rise"] == 1 and doc["fall"] == 1
    assert "node" not in doc or doc["node"] is None
    for k in ("path", "expect_status", "verify_tls", "script"):
        assert doc.get(k) is None, k
    assert doc["status"] == {"results": {}}
    links = doc["_links"]
    assert links["self"]["href"] == f"/checks/{n}"
    assert links["collection"]["href"] == "/checks"
    assert links["vg:backend"]["href"] == f"/backends/{targets['backend']}"
    assert "vg:node" not in links
    assert admin.get(f"/checks/{n}").json() == doc


def test_http_check_defaults(admin, targets):
    doc = admin.create("checks", _body(targets, type="http", port=8080))
    assert doc["path"] == "/"
    assert doc["expect_status"] == 200
    assert doc["port"] == 8080
    assert doc.get("verify_tls") is None


def test_https_check_defaults(admin, targets):
    doc = admin.create("checks", _body(targets, type="https"))
    assert doc["path"] == "/"
    assert doc["expect_status"] == 200
    assert doc["verify_tls"] is True


def test_https_check_all_fields(admin, targets):
    body = _body(targets, type="https", port=443, path="/health?full=1", expect_status=204,
                 verify_tls=False, interval_ms=100, timeout_ms=10, rise=100, fall=100)
    doc = admin.create("checks", body)
    for k, v in body.items():
        assert doc[k] == v, k


def test_script_node_check_with_weight(admin, targets):
    body = _body(targets, type="script", backend=None, node=targets["node"],
                 script=["check_haproxy.sh", "--socket", "/run/haproxy.sock"], weight=-20)
    r = admin.post("/checks", json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["script"] == body["script"]
    assert doc["weight"] == -20
    assert doc["node"] == targets["node"]
    assert doc["_links"]["vg:node"]["href"] == f"/nodes/{targets['node']}"
    assert "vg:backend" not in doc["_links"]


def test_node_check_weight_defaults_to_0(admin, targets):
    doc = admin.create("checks", _body(targets, backend=None, node=targets["node"], port=22))
    assert doc["weight"] == 0


@pytest.mark.parametrize("weight", [-253, 253])
def test_node_check_weight_bounds_ok(admin, targets, weight):
    admin.create("checks", _body(targets, backend=None, node=targets["node"], port=22,
                                 weight=weight))


BAD = [
    ({"type": None}, "/type"),
    ({"type": "icmp"}, "/type"),
    ({"type": "TCP"}, "/type"),
    ({"backend": "no-such-backend"}, "/backend"),
    ({"backend": None, "node": "no-such-node"}, "/node"),
    ({"interval_ms": 99}, "/interval_ms"),
    ({"interval_ms": 3600001}, "/interval_ms"),
    ({"interval_ms": "2000"}, "/interval_ms"),
    ({"timeout_ms": 9}, "/timeout_ms"),
    ({"timeout_ms": 60001}, "/timeout_ms"),
    ({"rise": 0}, "/rise"),
    ({"rise": 101}, "/rise"),
    ({"fall": 0}, "/fall"),
    ({"fall": 101}, "/fall"),
    ({"port": 0}, "/port"),
    ({"port": 65536}, "/port"),
    ({"type": "http", "path": "health"}, "/path"),
    ({"type": "http", "path": ""}, "/path"),
    ({"type": "http", "expect_status": 99}, "/expect_status"),
    ({"type": "http", "expect_status": 600}, "/expect_status"),
    ({"type": "http", "verify_tls": False}, "/verify_tls"),
    ({"type": "https", "verify_tls": "no"}, "/verify_tls"),
    ({"path": "/"}, "/path"),
    ({"expect_status": 200}, "/expect_status"),
    ({"verify_tls": True}, "/verify_tls"),
    ({"script": ["true"]}, "/script"),
    ({"type": "script"}, "/script"),
    ({"type": "script", "script": []}, "/script"),
    ({"type": "script", "script": "check.sh"}, "/script"),
    ({"type": "script", "script": ["/bin/sh", "-c", "true"]}, "/script/0"),
    ({"type": "script", "script": ["../check"]}, "/script/0"),
    ({"type": "script", "script": ["a b"]}, "/script/0"),
    ({"type": "script", "script": ["check", 5]}, "/script/1"),
    ({"type": "script", "script": ["check"] + ["x"] * 32}, "/script"),
    ({"type": "script", "script": ["check"], "port": 80}, "/port"),
    ({"type": "script", "script": ["check"], "path": "/"}, "/path"),
    ({"weight": 10}, "/weight"),
    ({"backend": None, "node": "NODE", "weight": 254}, "/weight"),
    ({"backend": None, "node": "NODE", "weight": -254}, "/weight"),
    ({"frobnicate": True}, "/frobnicate"),
]


@pytest.mark.parametrize("over,pointer", BAD, ids=[f"{p}={repr(o)[:50]}" for o, p in BAD])
def test_invalid_check_is_422_naming_field(admin, targets, over, pointer):
    over = {k: (targets["node"] if v == "NODE" else v) for k, v in over.items()}
    body = _body(targets, **{k: v for k, v in over.items() if v is not None})
    for k, v in over.items():
        if v is None:
            body.pop(k, None)
    assert_422(admin.post("/checks", json=body), pointer)
    assert admin.get(f"/checks/{body['name']}").status_code == 404


def test_both_backend_and_node_is_422(admin, targets):
    body = _body(targets, node=targets["node"])
    assert_422(admin.post("/checks", json=body), ["/backend", "/node"])


def test_neither_backend_nor_node_is_422(admin, targets):
    body = _body(targets, backend=None)
    assert_422(admin.post("/checks", json=body), ["/backend", "/node"])


def test_script_of_32_args_is_ok(admin, targets):
    admin.create("checks", _body(targets, type="script", script=["check"] + ["x"] * 31))


def test_patch_changes_type_with_its_fields(admin, targets):
    n = admin.create("checks", _body(targets))["name"]
    r = admin.patch(f"/checks/{n}", json={"type": "http", "path": "/ping", "expect_status": 204})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["type"], doc["path"], doc["expect_status"]) == ("http", "/ping", 204)
    assert_422(admin.patch(f"/checks/{n}", json={"type": "tcp"}), ["/path", "/expect_status"])


def test_filters(admin, targets):
    vip = admin.vip()["name"]
    be = admin.backend(vip)["name"]
    node = admin.node()["name"]
    on_be = sorted(admin.create("checks", _body(targets, backend=be))["name"] for _ in range(2))
    on_node = [admin.create("checks", _body(targets, backend=None, node=node, port=22))["name"]]
    r = admin.get(f"/checks?backend={be}")
    assert r.status_code == 200
    assert [c["name"] for c in r.json()["_embedded"]["checks"]] == on_be
    assert r.json()["total"] == 2
    r = admin.get(f"/checks?node={node}")
    assert [c["name"] for c in r.json()["_embedded"]["checks"]] == on_node
    assert r.json()["total"] == 1


def test_delete_check(admin, targets):
    n = admin.create("checks", _body(targets))["name"]
    assert admin.delete(f"/checks/{n}").status_code == 204
    assert_problem(admin.get(f"/checks/{n}"), 404, "not-found")


def test_get_then_put_back_unchanged(admin, targets):
    n = admin.create("checks", _body(targets))["name"]
    doc = admin.get(f"/checks/{n}").json()
    r = admin.put(f"/checks/{n}", json=doc)
    assert r.status_code == 200, r.text
    assert admin.get(f"/checks/{n}").json() == doc


# -- vips: keepalived's per-instance track_script (issue 11) -------------------------------------

def test_node_check_vips_choose_the_vips_and_their_weights(admin):
    node = admin.node()
    ms = [{"node": node["name"], "priority": 100}]
    v1, v2, v3 = (admin.vip(members=ms, vrid=51 + i) for i in range(3))
    chk = admin.create("checks", {"name": uniq("chk"), "type": "script", "node": node["name"],
                                  "script": ["chk_web"], "weight": -20,
                                  "vips": [{"vip": v1["name"]},
                                           {"vip": v2["name"], "weight": -50}]})
    assert chk["vips"] == [{"vip": v1["name"]}, {"vip": v2["name"], "weight": -50}]
    cfg = admin.get(f"/nodes/{node['name']}/config").json()
    assert [c["vips"] for c in cfg["checks"] if c["name"] == chk["name"]] == [chk["vips"]]
    text = admin.get(f"/nodes/{node['name']}/config", accept="text/plain").text
    blocks = {b.split(" ", 1)[0]: b for b in text.split("vrrp_instance ")[1:]}
    assert f"\t\t{chk['name']}\n" in blocks[v1["name"]]
    assert f"\t\t{chk['name']} weight -50\n" in blocks[v2["name"]]
    assert chk["name"] not in blocks[v3["name"]]
    # a VIP a check names cannot go while it does
    assert admin.delete(f"/vips/{v1['name']}").status_code == 409
    assert admin.delete(f"/checks/{chk['name']}").status_code == 204


@pytest.mark.parametrize("vips,pointer", [
    ([{"vip": "no-such-vip"}], "/vips/0/vip"),
    ([{"weight": 3}], "/vips/0/vip"),
    ([{"vip": "V", "weight": 254}], "/vips/0/weight"),
    ([{"vip": "V"}, {"vip": "V"}], "/vips/1/vip"),
    ([{"vip": "V", "x": 1}], "/vips/0/x"),
    ({"vip": "V"}, "/vips"),
])
def test_node_check_bad_vips_are_422(admin, targets, vips, pointer):
    vips = [{k: (targets["vip"] if v == "V" else v) for k, v in e.items()} for e in vips] \
        if isinstance(vips, list) else vips
    r = admin.post("/checks", json=_body(targets, type="script", backend=None,
                                          node=targets["node"], script=["x"], vips=vips))
    assert_422(r, pointer)


def test_backend_check_with_vips_is_422(admin, targets):
    r = admin.post("/checks", json=_body(targets, vips=[{"vip": targets["vip"]}]))
    assert_422(r, "/vips")
