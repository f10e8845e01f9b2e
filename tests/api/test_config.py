"""/nodes/{name}/config: the node's rendered desired state (JSON and keepalived.conf text), and its
ETag, which depends only on that content."""

import pytest

from vigiltest import assert_problem, media_type, uniq


@pytest.fixture
def setup(admin):
    a, b, c = (admin.node()["name"] for _ in range(3))
    v = admin.vip(version=2, advert_int_ms=2000, preempt=True, preempt_delay_ms=3000,
                  auth_pass="cfgpass", members=[{"node": a, "priority": 200},
                                                {"node": b, "priority": 100}])
    other = admin.vip(members=[{"node": c, "priority": 100}])["name"]
    be = admin.backend(v["name"])["name"]
    be_other = admin.backend(other)["name"]
    chk_a = admin.check(type="script", node=a, script=["chk_a"], weight=-10)["name"]
    chk_c = admin.check(type="script", node=c, script=["chk_c"])["name"]
    chk_be_other = admin.check(backend=be_other)["name"]
    return {"a": a, "b": b, "c": c, "vip": v, "other": other, "be": be, "be_other": be_other,
            "chk_a": chk_a, "chk_c": chk_c, "chk_be_other": chk_be_other,
            "agent": admin.mint("agent", node=a)}


def test_config_shape(admin, setup):
    a, v = setup["a"], setup["vip"]
    r = setup["agent"].get(f"/nodes/{a}/config")
    assert r.status_code == 200
    doc = r.json()
    node = admin.get(f"/nodes/{a}").json()
    assert doc["node"] == a
    assert doc["address"] == node["address"] and doc["interface"] == node["interface"]
    assert "ip_nonlocal_bind" in doc and "haproxy_socket" in doc
    assert [x["name"] for x in doc["vips"]] == [v["name"]]
    cv = doc["vips"][0]
    for k in ("addresses", "excluded_addresses", "interface", "vrid", "version", "advert_int_ms",
              "preempt", "preempt_delay_ms", "unicast", "group", "track_interfaces", "notify",
              "garp_repeat", "garp_delay_s", "garp_refresh_s", "vmac"):
        assert cv[k] == v[k], k
    assert cv["priority"] == 200
    b_addr = admin.get(f"/nodes/{setup['b']}").json()["address"]
    assert cv["peers"] == [{"node": setup["b"], "address": b_addr, "priority": 100}]
    assert cv["move"] is None
    assert cv["auth_pass"] == "cfgpass"
    links = doc["_links"]
    assert links["self"]["href"] == f"/nodes/{a}/config"
    assert links["vg:node"]["href"] == f"/nodes/{a}"
    assert links["vg:status"]["href"] == f"/nodes/{a}/status"


def test_config_lists_only_this_nodes_checks_and_backends(setup):
    doc = setup["agent"].get(f"/nodes/{setup['a']}/config").json()
    checks = {c["name"] for c in doc["checks"]}
    backends = {b["name"] for b in doc["backends"]}
    assert setup["chk_a"] in checks
    assert setup["chk_c"] not in checks
    assert setup["chk_be_other"] not in checks
    assert setup["be"] in backends
    assert setup["be_other"] not in backends


def test_config_of_peer_has_its_own_priority(admin, setup):
    doc = admin.get(f"/nodes/{setup['b']}/config").json()
    cv = doc["vips"][0]
    assert cv["priority"] == 100
    assert [p["node"] for p in cv["peers"]] == [setup["a"]]
    assert "auth_pass" not in cv  # admin is not the node's agent


def test_config_as_keepalived_text(admin, setup):
    v = setup["vip"]
    r = setup["agent"].get(f"/nodes/{setup['a']}/config", accept="text/plain")
    assert r.status_code == 200
    assert media_type(r) == "text/plain"
    text = r.text
    assert f"vrrp_instance {v['name']}" in text
    assert f"virtual_router_id {v['vrid']}" in text
    assert "priority 200" in text
    assert v["addresses"][0].split("/")[0] in text
    assert r.headers["ETag"] != setup["agent"].get(f"/nodes/{setup['a']}/config").headers["ETag"]
    admin_text = admin.get(f"/nodes/{setup['a']}/config", accept="text/plain").text
    assert "cfgpass" not in admin_text


def test_config_etag_ignores_status_and_unrelated_changes(admin, setup):
    a, agent = setup["a"], setup["agent"]
    path = f"/nodes/{a}/config"
    e1 = agent.etag(path)
    assert agent.put(f"/nodes/{a}/status", json={
        "agent_version": "x", "vrrp": {setup["vip"]["name"]: {"state": "MASTER",
                                                              "priority": 200}}}).status_code == 200
    admin.vip(members=[{"node": setup["c"], "priority": 50}])
    admin.patch(f"/nodes/{setup['c']}", json={"labels": {"x": "y"}})
    assert agent.etag(path) == e1


def test_config_etag_changes_with_its_vips(admin, setup):
    a, agent = setup["a"], setup["agent"]
    path = f"/nodes/{a}/config"
    e1 = agent.etag(path)
    admin.patch(f"/vips/{setup['vip']['name']}", json={"preempt": False})
    e2 = agent.etag(path)
    assert e2 != e1
    assert agent.get(path).json()["vips"][0]["preempt"] is False
    agent_b = admin.mint("agent", node=setup["b"])
    assert agent_b.put(f"/nodes/{setup['b']}/status", json={}).status_code == 200
    assert agent.etag(path) == e2
    r = admin.put(f"/vips/{setup['vip']['name']}/holder", json={"node": setup["b"]})
    assert r.status_code == 202, r.text
    assert agent.etag(path) != e2  # the move is part of the config


def test_config_of_missing_node_is_404(admin):
    assert_problem(admin.get(f"/nodes/{uniq('nope')}/config"), 404, "not-found")
