"""/vips: defaults, validation (with the JSON pointer named), vrid clashes, members, auth_pass."""

import pytest

from vigiltest import assert_422, assert_problem, uniq, uniq_iface, vip_body


@pytest.fixture(scope="module")
def nodes(admin):
    return [admin.node()["name"] for _ in range(33)]


@pytest.fixture(scope="module")
def agent1(admin, nodes):
    return admin.mint("agent", node=nodes[0])


def test_post_fills_defaults(admin):
    body = vip_body()
    r = admin.post("/vips", json=body)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/vips/{body['name']}"
    doc = r.json()
    assert doc["name"] == body["name"]
    assert doc["addresses"] == body["addresses"]
    assert doc["interface"] == body["interface"]
    assert doc["vrid"] == 51
    assert doc["version"] == 3
    assert doc["advert_int_ms"] == 1000
    assert doc["preempt"] is False
    assert doc["preempt_delay_ms"] == 0
    assert doc["members"] == []
    assert "auth_pass" not in doc
    st = doc["status"]
    assert st["holder"] is None and st["preferred"] is None
    assert st["members"] == {} and st["since"] is None
    n = body["name"]
    links = doc["_links"]
    assert links["self"]["href"] == f"/vips/{n}"
    assert links["collection"]["href"] == "/vips"
    assert links["vg:holder"]["href"] == f"/vips/{n}/holder"
    assert links["vg:backends"]["href"] == f"/backends?vip={n}"
    assert "vg:failback" not in links
    assert admin.get(f"/vips/{n}").json() == doc


def test_members_status_and_links(admin, nodes):
    a, b = nodes[0], nodes[1]
    doc = admin.vip(members=[{"node": a, "priority": 100}, {"node": b, "priority": 150}])
    assert doc["members"] == [{"node": a, "priority": 100}, {"node": b, "priority": 150}]
    st = doc["status"]
    assert st["holder"] is None
    assert st["preferred"] == b
    assert set(st["members"]) == {a, b}
    for m in st["members"].values():
        assert m["state"] == "unknown" and m["agent"] == "unknown"
    members = doc["_links"]["vg:member"]
    assert isinstance(members, list)
    assert sorted((m["href"], m["name"]) for m in members) == \
        sorted([(f"/nodes/{a}", a), (f"/nodes/{b}", b)])
    assert "vg:failback" not in doc["_links"]


def test_full_spec_round_trips(admin, nodes):
    body = vip_body(version=2, advert_int_ms=3000, preempt=True, preempt_delay_ms=5000,
                    members=[{"node": nodes[2], "priority": 254},
                             {"node": nodes[3], "priority": 1}])
    doc = admin.create("vips", body)
    for k, v in body.items():
        assert doc[k] == v, k


@pytest.mark.parametrize("given,canonical", [
    ("2001:DB8:0:0::10/64", "2001:db8::10/64"),
    ("2001:db8:0000:0000:0000:0000:0000:0010/64", "2001:db8::10/64"),
    ("198.18.3.7/32", "198.18.3.7/32"),
])
def test_address_is_canonicalised(admin, given, canonical):
    doc = admin.vip(addresses=[given])
    assert doc["addresses"] == [canonical]


BAD_VIPS = [
    ({"name": "UPPER"}, "/name"),
    ({"addresses": None}, "/addresses"),
    ({"addresses": []}, "/addresses"),
    ({"addresses": "198.18.0.1/24"}, "/addresses"),
    ({"addresses": ["198.18.0.1"]}, "/addresses/0"),
    ({"addresses": ["198.18.0.1/33"]}, "/addresses/0"),
    ({"addresses": ["198.18.0.1/"]}, "/addresses/0"),
    ({"addresses": ["198.18.0.1/x"]}, "/addresses/0"),
    ({"addresses": ["2001:db8::1/129"], "version": 3}, "/addresses/0"),
    ({"addresses": ["host/24"]}, "/addresses/0"),
    ({"addresses": [24]}, "/addresses/0"),
    ({"address": "198.18.0.1/24"}, "/address"),
    ({"interface": None}, "/interface"),
    ({"interface": ""}, "/interface"),
    ({"interface": "x" * 16}, "/interface"),
    ({"interface": "a b"}, "/interface"),
    ({"vrid": None}, "/vrid"),
    ({"vrid": 0}, "/vrid"),
    ({"vrid": 256}, "/vrid"),
    ({"vrid": -1}, "/vrid"),
    ({"vrid": "5"}, "/vrid"),
    ({"vrid": 1.5}, "/vrid"),
    ({"vrid": True}, "/vrid"),
    ({"version": 1}, "/version"),
    ({"version": 4}, "/version"),
    ({"version": "3"}, "/version"),
    ({"advert_int_ms": 5}, "/advert_int_ms"),
    ({"advert_int_ms": 15}, "/advert_int_ms"),
    ({"advert_int_ms": 0}, "/advert_int_ms"),
    ({"advert_int_ms": 40960}, "/advert_int_ms"),
    ({"advert_int_ms": -10}, "/advert_int_ms"),
    ({"advert_int_ms": "1000"}, "/advert_int_ms"),
    ({"version": 2, "advert_int_ms": 1500}, "/advert_int_ms"),
    ({"version": 2, "advert_int_ms": 500}, "/advert_int_ms"),
    ({"version": 2, "advert_int_ms": 256000}, "/advert_int_ms"),
    ({"version": 2, "advert_int_ms": 0}, "/advert_int_ms"),
    ({"preempt": "yes"}, "/preempt"),
    ({"preempt": 1}, "/preempt"),
    ({"preempt_delay_ms": -1}, "/preempt_delay_ms"),
    ({"preempt_delay_ms": 3600001}, "/preempt_delay_ms"),
    ({"preempt_delay_ms": 1.5}, "/preempt_delay_ms"),
    ({"auth_pass": "secret"}, "/auth_pass"),
    ({"version": 3, "auth_pass": "secret"}, "/auth_pass"),
    ({"version": 2, "auth_pass": "123456789"}, "/auth_pass"),
    ({"version": 2, "auth_pass": ""}, "/auth_pass"),
    ({"version": 2, "auth_pass": 1234}, "/auth_pass"),
    ({"members": {}}, "/members"),
    ({"members": "lb1"}, "/members"),
    ({"members": ["lb1"]}, ["/members/0", "/members"]),
    ({"members": [{"priority": 100}]}, "/members/0/node"),
    ({"members": [{"node": "no-such-node", "priority": 100}]}, "/members/0/node"),
    ({"members": [{"node": "N0", "priority": 100}, {"node": "N0", "priority": 90}]},
     "/members/1/node"),
    ({"members": [{"node": "N0", "priority": 0}]}, "/members/0/priority"),
    ({"members": [{"node": "N0", "priority": 255}]}, "/members/0/priority"),
    ({"members": [{"node": "N0"}]}, "/members/0/priority"),
    ({"members": [{"node": "N0", "priority": "100"}]}, "/members/0/priority"),
    ({"members": [{"node": "N0", "priority": 100, "weight": 1}]},
     ["/members/0/weight", "/members/0"]),
    ({"members": "ALL33"}, "/members"),
    ({"foo": 1}, "/foo"),
    ({"holder": "N0"}, "/holder"),
]


@pytest.mark.parametrize("over,pointer", BAD_VIPS,
                         ids=[f"{p}={repr(o)[:40]}" if isinstance(p, str) else repr(o)[:40]
                              for o, p in BAD_VIPS])
def test_invalid_vip_is_422_naming_field(admin, nodes, over, pointer):
    body = vip_body()
    for k, v in over.items():
        if v is None:
            del body[k]
        elif v == "ALL33":
            body[k] = [{"node": n, "priority": 100} for n in nodes]
        elif isinstance(v, list):
            body[k] = [{mk: (nodes[0] if mv == "N0" else mv) for mk, mv in m.items()}
                       if isinstance(m, dict) else m for m in v]
        else:
            body[k] = nodes[0] if v == "N0" else v
    assert_422(admin.post("/vips", json=body), pointer)
    assert admin.get(f"/vips/{body['name']}").status_code == 404


@pytest.mark.parametrize("address", ["2001:db8::10/64", "fd00::1/128"])
def test_ipv6_needs_version_3(admin, address):
    r = admin.post("/vips", json=vip_body(addresses=[address], version=2))
    assert_422(r, ["/version", "/addresses"])
    doc = admin.vip(addresses=[address])  # default version 3
    assert doc["version"] == 3


@pytest.mark.parametrize("over", [
    {"vrid": 1}, {"vrid": 255},
    {"advert_int_ms": 10}, {"advert_int_ms": 40950}, {"advert_int_ms": 20},
    {"version": 2}, {"version": 2, "advert_int_ms": 255000}, {"version": 2, "advert_int_ms": 2000},
    {"version": 2, "auth_pass": "12345678"}, {"version": 2, "auth_pass": "x"},
    {"preempt_delay_ms": 3600000}, {"preempt": True},
    {"members": "ALL32"},
], ids=repr)
def test_boundary_values_are_accepted(admin, nodes, over):
    body = vip_body(**over)
    if body.get("members") == "ALL32":
        body["members"] = [{"node": n, "priority": 1 + i} for i, n in enumerate(nodes[:32])]
    r = admin.post("/vips", json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    for k, v in body.items():
        if k != "auth_pass":
            assert doc[k] == v, k


def test_v2_default_advert_interval_is_valid(admin):
    doc = admin.vip(version=2)
    assert doc["advert_int_ms"] == 1000


# -- vrid clashes -------------------------------------------------------------------------------

def test_vrid_clash_on_same_interface_is_409(admin):
    iface = uniq_iface()
    admin.vip(interface=iface, vrid=7)
    r = admin.post("/vips", json=vip_body(interface=iface, vrid=7))
    assert_problem(r, 409, "conflict")
    n = uniq("vip")
    assert_problem(admin.put(f"/vips/{n}", json=vip_body(n, interface=iface, vrid=7)),
                   409, "conflict")
    assert admin.get(f"/vips/{n}").status_code == 404


def test_same_vrid_on_other_interface_is_ok(admin):
    admin.vip(interface=uniq_iface(), vrid=8)
    admin.vip(interface=uniq_iface(), vrid=8)


def test_same_vrid_other_address_family_is_ok(admin):
    iface = uniq_iface()
    admin.vip(interface=iface, vrid=9)
    doc = admin.vip(interface=iface, vrid=9, addresses=["2001:db8::99/64"])
    assert doc["vrid"] == 9


def test_replace_keeping_own_vrid_is_not_a_clash(admin):
    doc = admin.vip(vrid=10)
    body = {k: doc[k] for k in ("name", "addresses", "interface", "vrid")}
    body["preempt"] = True
    r = admin.put(f"/vips/{doc['name']}", json=body)
    assert r.status_code == 200, r.text


def test_change_to_clashing_vrid_is_409(admin):
    iface = uniq_iface()
    admin.vip(interface=iface, vrid=11)
    other = admin.vip(interface=iface, vrid=12)
    assert_problem(admin.patch(f"/vips/{other['name']}", json={"vrid": 11}), 409, "conflict")
    assert admin.get(f"/vips/{other['name']}").json()["vrid"] == 12


def test_freed_vrid_can_be_reused(admin):
    iface = uniq_iface()
    a = admin.vip(interface=iface, vrid=13)
    assert admin.delete(f"/vips/{a['name']}").status_code == 204
    admin.vip(interface=iface, vrid=13)


# -- auth_pass is write-only ----------------------------------------------------------------------

def _agent_vip(agent, vip):
    r = agent.get(f"/nodes/{agent.bound_node}/config")
    assert r.status_code == 200, r.text
    for v in r.json()["vips"]:
        if v["name"] == vip:
            return v
    raise AssertionError(f"{vip} not in config of {agent.bound_node}: {r.text[:500]}")


def test_auth_pass_is_never_returned(admin, nodes, agent1):
    secret = "Zq9xK2pw"
    body = vip_body(version=2, auth_pass=secret, members=[{"node": nodes[0], "priority": 100}])
    r = admin.post("/vips", json=body)
    assert r.status_code == 201, r.text
    n = body["name"]
    for path in (f"/vips/{n}", "/vips?limit=500", f"/nodes/{nodes[0]}/config", "/events",
                 f"/vips/{n}/holder", f"/vips?node={nodes[0]}"):
        g = admin.get(path)
        assert g.status_code == 200, path
        assert secret not in g.text, path
        assert "auth_pass" not in g.text, path
    assert secret not in r.text and "auth_pass" not in r.json()
    assert admin.get(f"/nodes/{nodes[0]}/config", accept="text/plain").text.find(secret) < 0
    # ...but the member's own agent needs it.
    assert _agent_vip(agent1, n)["auth_pass"] == secret


def test_put_without_auth_pass_keeps_it_and_null_clears_it(admin, nodes, agent1):
    body = vip_body(version=2, auth_pass="keepme", members=[{"node": nodes[0], "priority": 100}])
    admin.create("vips", body)
    n = body["name"]
    doc = admin.get(f"/vips/{n}").json()
    doc["preempt"] = True
    assert admin.put(f"/vips/{n}", json=doc).status_code == 200
    assert _agent_vip(agent1, n)["auth_pass"] == "keepme"
    assert admin.patch(f"/vips/{n}", json={"auth_pass": "newpass"}).status_code == 200
    assert _agent_vip(agent1, n)["auth_pass"] == "newpass"
    doc = admin.get(f"/vips/{n}").json()
    doc["auth_pass"] = None
    assert admin.put(f"/vips/{n}", json=doc).status_code == 200
    assert _agent_vip(agent1, n).get("auth_pass") is None


def test_agent_config_of_v3_vip_has_no_auth_pass(admin, nodes, agent1):
    v = admin.vip(members=[{"node": nodes[0], "priority": 100}])["name"]
    assert _agent_vip(agent1, v).get("auth_pass") is None


# -- delete --------------------------------------------------------------------------------------

def test_delete_vip_with_backends_is_409(admin):
    v = admin.vip()["name"]
    b = admin.backend(v)["name"]
    assert_problem(admin.delete(f"/vips/{v}"), 409, "conflict")
    assert admin.get(f"/vips/{v}").status_code == 200
    assert admin.delete(f"/backends/{b}").status_code == 204
    assert admin.delete(f"/vips/{v}").status_code == 204
    assert_problem(admin.get(f"/vips/{v}"), 404, "not-found")


def test_deleting_vip_frees_member_node(admin):
    n = admin.node()["name"]
    v = admin.vip(members=[{"node": n, "priority": 100}])["name"]
    assert admin.delete(f"/vips/{v}").status_code == 204
    assert admin.delete(f"/nodes/{n}").status_code == 204


def test_removing_member_frees_node(admin):
    n = admin.node()["name"]
    v = admin.vip(members=[{"node": n, "priority": 100}])["name"]
    assert admin.patch(f"/vips/{v}", json={"members": []}).status_code == 200
    assert admin.delete(f"/nodes/{n}").status_code == 204
