"""/vips/{name}/holder: observed holder, move requests (202), validation, DELETE."""

import pytest

from vigiltest import assert_422, assert_problem, uniq, wait_until


@pytest.fixture(scope="module")
def pair(admin):
    """Two nodes with their agents up."""
    a, b = admin.node()["name"], admin.node()["name"]
    agents = {}
    for n in (a, b):
        agents[n] = admin.mint("agent", node=n)
        assert agents[n].put(f"/nodes/{n}/status", json={"agent_version": "t"}).status_code == 200
    return a, b, agents


@pytest.fixture
def vip(admin, pair):
    a, b, _ = pair
    return admin.vip(members=[{"node": a, "priority": 200}, {"node": b, "priority": 100}])["name"]


def _config_vip(client, node, vip):
    r = client.get(f"/nodes/{node}/config")
    assert r.status_code == 200
    return next(v for v in r.json()["vips"] if v["name"] == vip)


def test_holder_get_shape(admin, vip):
    r = admin.get(f"/vips/{vip}/holder")
    assert r.status_code == 200
    doc = r.json()
    assert doc["node"] is None
    assert doc["requested"] is None
    assert doc["state"] == "unheld"
    assert isinstance(doc["move_id"], int) and not isinstance(doc["move_id"], bool)
    assert doc["_links"]["self"]["href"] == f"/vips/{vip}/holder"
    assert doc["_links"]["vg:vip"]["href"] == f"/vips/{vip}"


def test_put_holder_is_202_with_location(admin, pair, vip):
    a, b, _ = pair
    r = admin.put(f"/vips/{vip}/holder", json={"node": b})
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"/vips/{vip}/holder"
    doc = r.json()
    assert doc["requested"] == b
    assert doc["state"] == "moving"
    g = admin.get(f"/vips/{vip}/holder").json()
    assert g["requested"] == b and g["state"] == "moving"
    assert g["move_id"] == doc["move_id"]
    # The requested holder becomes the preferred one.
    assert admin.get(f"/vips/{vip}").json()["status"]["preferred"] == b
    # Both members' configs carry the move.
    for n in (a, b):
        assert _config_vip(admin, n, vip)["move"] == {"id": doc["move_id"], "target": b}


def test_each_move_gets_a_new_id(admin, pair, vip):
    a, b, _ = pair
    first = admin.put(f"/vips/{vip}/holder", json={"node": b}).json()["move_id"]
    second = admin.put(f"/vips/{vip}/holder", json={"node": a}).json()
    assert second["move_id"] != first
    assert second["requested"] == a


def test_put_holder_not_member_is_422(admin, vip):
    outsider = admin.node()["name"]
    assert_422(admin.put(f"/vips/{vip}/holder", json={"node": outsider}), "/node")
    assert admin.get(f"/vips/{vip}/holder").json()["requested"] is None


@pytest.mark.parametrize("body,pointer", [
    ({"node": "no-such-node"}, "/node"),
    ({}, "/node"),
    ({"node": 5}, "/node"),
    ({"node": "Bad_Name"}, "/node"),
    ({"node": "PAIR_A", "foo": 1}, "/foo"),
])
def test_put_holder_invalid_is_422(admin, pair, vip, body, pointer):
    body = {k: (pair[0] if v == "PAIR_A" else v) for k, v in body.items()}
    assert_422(admin.put(f"/vips/{vip}/holder", json=body), pointer)


def test_holder_of_missing_vip_is_404(admin, pair):
    missing = uniq("nope")
    assert_problem(admin.get(f"/vips/{missing}/holder"), 404, "not-found")
    assert_problem(admin.put(f"/vips/{missing}/holder", json={"node": pair[0]}), 404,
                   "not-found")
    assert_problem(admin.delete(f"/vips/{missing}/holder"), 404, "not-found")


def test_delete_holder_clears_request(admin, pair, vip):
    a, b, _ = pair
    assert admin.put(f"/vips/{vip}/holder", json={"node": b}).status_code == 202
    r = admin.delete(f"/vips/{vip}/holder")
    assert r.status_code == 204
    assert r.content == b""
    doc = admin.get(f"/vips/{vip}/holder").json()
    assert doc["requested"] is None
    assert doc["state"] == "unheld"
    assert _config_vip(admin, b, vip)["move"] is None
    assert admin.get(f"/vips/{vip}").json()["status"]["preferred"] == a


def test_move_settles_when_agents_report_it_done(admin, pair, vip):
    a, b, agents = pair
    move = admin.put(f"/vips/{vip}/holder", json={"node": b}).json()["move_id"]
    r = agents[a].put(f"/nodes/{a}/status", json={
        "vrrp": {vip: {"state": "BACKUP", "priority": 200}}, "vips_held": []})
    assert r.status_code == 200, r.text
    r = agents[b].put(f"/nodes/{b}/status", json={
        "vrrp": {vip: {"state": "MASTER", "priority": 254}}, "vips_held": [vip],
        "moves_done": {vip: move}})
    assert r.status_code == 200, r.text
    doc = admin.get(f"/vips/{vip}/holder").json()
    assert doc["node"] == b
    assert doc["requested"] == b
    assert doc["state"] == "settled"
    st = admin.get(f"/vips/{vip}").json()["status"]
    assert st["holder"] == b
    assert st["members"][b]["state"] == "MASTER"
    assert st["members"][a]["state"] == "BACKUP"


def test_put_holder_to_node_whose_agent_is_down_is_409(make_server):
    srv = make_server("--agent-timeout", "1")
    adm = srv.client()
    x, y = adm.node()["name"], adm.node()["name"]
    v = adm.vip(members=[{"node": x, "priority": 200}, {"node": y, "priority": 100}])["name"]
    ay = adm.mint("agent", node=y)
    assert ay.put(f"/nodes/{y}/status", json={"agent_version": "t"}).status_code == 200
    assert adm.get(f"/nodes/{y}").json()["status"]["agent"] == "up"
    wait_until(lambda: adm.get(f"/nodes/{y}").json()["status"]["agent"] == "down", timeout=5,
               what="agent marked down after --agent-timeout 1")
    assert_problem(adm.put(f"/vips/{v}/holder", json={"node": y}), 409, "conflict")
    assert adm.get(f"/vips/{v}/holder").json()["requested"] is None
    # Once it reports again it may be moved to.
    assert ay.put(f"/nodes/{y}/status", json={"agent_version": "t"}).status_code == 200
    assert adm.put(f"/vips/{v}/holder", json={"node": y}).status_code == 202
