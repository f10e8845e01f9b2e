"""The VRRP-instance fields of a VIP (issue 10): addresses and excluded addresses, unicast and
external peers, sync groups (?group= and moving together), tracked interfaces, notify, GARP
timers, vmac: their defaults, a 422 naming each bad value, the node config the agent reads and
the keepalived.conf rendering, which Debian's keepalived must accept."""

import shutil
import subprocess
import time

import pytest

from vigiltest import Background, assert_422, node_body, uniq, uniq_iface, uniq_ipv4, vip_body

DEFAULTS = {"excluded_addresses": [], "unicast": False, "peers": [], "group": None,
            "track_interfaces": [], "notify": None, "garp_repeat": 5, "garp_delay_s": 5,
            "garp_refresh_s": 0, "vmac": False}


@pytest.fixture(scope="module")
def pair(admin):
    """Two IPv4 nodes and one IPv6 node: (a, b, v6)."""
    return (admin.node()["name"], admin.node()["name"],
            admin.node(address=f"2001:db8:7::{int(time.time() * 1000) % 65536:x}")["name"])


def members(*nodes, prio=(200, 100, 50)):
    return [{"node": n, "priority": p} for n, p in zip(nodes, prio)]


def test_defaults_are_shown(admin):
    doc = admin.vip()
    assert {k: doc[k] for k in DEFAULTS} == DEFAULTS
    assert "address" not in doc


def test_every_field_round_trips(admin, pair):
    a, b, _ = pair
    body = vip_body(
        addresses=["198.18.200.1/24", "198.18.200.2/24", "198.18.201.1/32"],
        excluded_addresses=["2001:db8:200::1/64", "198.18.202.1/24"],
        unicast=True, peers=["198.18.203.9"], group=uniq("grp"),
        track_interfaces=[{"interface": "eth1", "weight": -20}, {"interface": "bond0.12"}],
        notify=["vip-notify.sh", "--to", "ops team"], garp_repeat=3, garp_delay_s=0,
        garp_refresh_s=600, vmac=True, members=members(a, b))
    r = admin.post("/vips", json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    for k, v in body.items():
        if k == "track_interfaces":
            v = [{"interface": "eth1", "weight": -20}, {"interface": "bond0.12", "weight": 0}]
        assert doc[k] == v, k


def test_addresses_are_canonical_and_of_one_family(admin):
    doc = admin.vip(addresses=["2001:DB8::10/64", "2001:db8:0:0::11/64"],
                    excluded_addresses=["198.18.204.1/24"])
    assert doc["addresses"] == ["2001:db8::10/64", "2001:db8::11/64"]
    assert doc["version"] == 3


def test_address_limits_fit_one_advertisement(admin):
    v4 = [f"198.19.{i // 250}.{i % 250 + 1}/16" for i in range(255)]
    assert admin.post("/vips", json=vip_body(addresses=v4)).status_code == 201
    assert_422(admin.post("/vips", json=vip_body(addresses=v4 + ["198.19.9.9/16"])),
               "/addresses")
    v6 = [f"2001:db8:99::{i + 1:x}/64" for i in range(90)]
    assert admin.post("/vips", json=vip_body(addresses=v6)).status_code == 201
    assert_422(admin.post("/vips", json=vip_body(addresses=v6 + ["2001:db8:99::ffff/64"])),
               "/addresses")


BAD = [
    ({"addresses": ["198.18.0.1/24", "2001:db8::1/64"]}, "/addresses/1"),
    ({"addresses": ["198.18.0.1/24", "198.18.0.1/24"]}, "/addresses/1"),
    ({"addresses": ["198.18.0.1/24", "198.18.0.001/24"]}, "/addresses/1"),
    ({"addresses": ["0.0.0.0/24"]}, "/addresses/0"),
    ({"addresses": ["239.1.1.1/24"]}, "/addresses/0"),
    ({"addresses": ["198.18.0.1/0"]}, "/addresses/0"),
    ({"excluded_addresses": "198.18.0.1/24"}, "/excluded_addresses"),
    ({"excluded_addresses": ["198.18.0.1"]}, "/excluded_addresses/0"),
    ({"excluded_addresses": ["ff02::1/64"]}, "/excluded_addresses/0"),
    ({"excluded_addresses": ["198.18.9.1/24", "198.18.9.1/24"]}, "/excluded_addresses/1"),
    ({"addresses": ["198.18.9.2/24"], "excluded_addresses": ["198.18.9.2/24"]},
     "/excluded_addresses/0"),
    ({"unicast": "yes"}, "/unicast"),
    ({"unicast": None}, "/unicast"),
    ({"peers": ["198.18.0.9"]}, "/peers"),
    ({"unicast": True, "peers": "198.18.0.9"}, "/peers"),
    ({"unicast": True, "peers": ["198.18.0.9/32"]}, "/peers/0"),
    ({"unicast": True, "peers": ["2001:db8::9"]}, "/peers/0"),
    ({"unicast": True, "peers": ["224.0.0.18"]}, "/peers/0"),
    ({"unicast": True, "peers": ["198.18.0.9", "198.18.0.9"]}, "/peers/1"),
    ({"group": ""}, "/group"),
    ({"group": "Web"}, "/group"),
    ({"group": "-web"}, "/group"),
    ({"group": "g" * 64}, "/group"),
    ({"group": ["web"]}, "/group"),
    ({"track_interfaces": {"interface": "eth1"}}, "/track_interfaces"),
    ({"track_interfaces": ["eth1"]}, "/track_interfaces/0"),
    ({"track_interfaces": [{"weight": 0}]}, "/track_interfaces/0/interface"),
    ({"track_interfaces": [{"interface": "eth/1"}]}, "/track_interfaces/0/interface"),
    ({"track_interfaces": [{"interface": "x" * 16}]}, "/track_interfaces/0/interface"),
    ({"track_interfaces": [{"interface": "eth1", "weight": 255}]},
     "/track_interfaces/0/weight"),
    ({"track_interfaces": [{"interface": "eth1", "weight": -255}]},
     "/track_interfaces/0/weight"),
    ({"track_interfaces": [{"interface": "eth1", "weight": 1.5}]},
     "/track_interfaces/0/weight"),
    ({"track_interfaces": [{"interface": "eth1", "up": True}]}, "/track_interfaces/0/up"),
    ({"track_interfaces": [{"interface": "eth1"}, {"interface": "eth1"}]},
     "/track_interfaces/1"),
    ({"track_interfaces": [{"interface": f"e{i}"} for i in range(17)]}, "/track_interfaces"),
    ({"notify": []}, "/notify"),
    ({"notify": "notify.sh"}, "/notify"),
    ({"notify": ["/usr/local/bin/notify.sh"]}, "/notify/0"),
    ({"notify": ["../notify.sh"]}, "/notify/0"),
    ({"notify": [".."]}, "/notify/0"),
    ({"notify": ["notify.sh", 1]}, "/notify/1"),
    ({"notify": ["notify.sh", "a\nb"]}, "/notify/1"),
    ({"notify": ["notify.sh", ""]}, "/notify/1"),
    ({"notify": ["n"] * 17}, "/notify"),
    ({"garp_repeat": 0}, "/garp_repeat"),
    ({"garp_repeat": 101}, "/garp_repeat"),
    ({"garp_repeat": "5"}, "/garp_repeat"),
    ({"garp_delay_s": -1}, "/garp_delay_s"),
    ({"garp_delay_s": 3601}, "/garp_delay_s"),
    ({"garp_refresh_s": -1}, "/garp_refresh_s"),
    ({"garp_refresh_s": 86401}, "/garp_refresh_s"),
    ({"vmac": 1}, "/vmac"),
    ({"vmac": None}, "/vmac"),
    # VRRPv3 (RFC 5798 5.2.7): centiseconds, 10..40950 ms in 10 ms steps; v2: whole seconds
    ({"advert_int_ms": 0}, "/advert_int_ms"),
    ({"advert_int_ms": 9}, "/advert_int_ms"),
    ({"advert_int_ms": 15}, "/advert_int_ms"),
    ({"advert_int_ms": 40960}, "/advert_int_ms"),
    ({"advert_int_ms": 100000}, "/advert_int_ms"),
    ({"advert_int_ms": 1000.5}, "/advert_int_ms"),
    ({"version": 2, "advert_int_ms": 10}, "/advert_int_ms"),
    ({"version": 2, "advert_int_ms": 1500}, "/advert_int_ms"),
    ({"version": 2, "advert_int_ms": 256000}, "/advert_int_ms"),
    ({"address": "198.18.0.1/24"}, "/address"),  # the old field: unknown
]


@pytest.mark.parametrize("over,pointer", BAD, ids=repr)
def test_bad_value_is_422_naming_the_field(admin, over, pointer):
    body = vip_body(**over)
    assert_422(admin.post("/vips", json=body), pointer)
    assert admin.get(f"/vips/{body['name']}").status_code == 404


@pytest.mark.parametrize("ms", [10, 20, 50, 990, 40950])
def test_v3_centisecond_intervals_are_accepted(admin, ms):
    assert admin.vip(advert_int_ms=ms)["advert_int_ms"] == ms


def test_unicast_needs_member_addresses_of_the_vip_family(admin, pair):
    a, _, v6 = pair
    r = admin.post("/vips", json=vip_body(unicast=True, members=members(a, v6)))
    assert_422(r, "/members/1/node")
    # multicast does not care about the node's address family
    admin.vip(members=members(a, v6))


def test_unicast_node_config_has_source_and_peers(admin, pair):
    a, b, _ = pair
    addr = {n: admin.get(f"/nodes/{n}").json()["address"] for n in (a, b)}
    v = admin.vip(unicast=True, peers=["198.18.250.7"], members=members(a, b))
    cv = next(x for x in admin.get(f"/nodes/{a}/config").json()["vips"] if x["name"] == v["name"])
    assert cv["unicast"] is True and cv["unicast_src"] == addr[a]
    assert cv["unicast_peers"] == [addr[b], "198.18.250.7"]
    assert cv["external_peers"] == ["198.18.250.7"]
    assert [p["node"] for p in cv["peers"]] == [b]  # the other members, as before
    m = admin.vip(members=members(a, b))
    cm = next(x for x in admin.get(f"/nodes/{a}/config").json()["vips"] if x["name"] == m["name"])
    assert cm["unicast_src"] is None and cm["unicast_peers"] == []


def test_unicast_sources_give_a_node_a_source_per_family(admin):
    """Issue 11: a dual-stack node (IPv4 address) sends IPv6 unicast from its IPv6 source."""
    a = admin.node(unicast_sources=["2001:DB8:9::a"])
    b = admin.node(unicast_sources=["2001:db8:9::b", "198.18.9.2"])
    assert a["unicast_sources"] == ["2001:db8:9::a"]  # canonical
    v = admin.vip(unicast=True, addresses=["2001:db8:99::1/64"],
                  members=members(a["name"], b["name"]))
    cv = next(x for x in admin.get(f"/nodes/{a['name']}/config").json()["vips"]
              if x["name"] == v["name"])
    assert cv["unicast_src"] == "2001:db8:9::a" and cv["unicast_peers"] == ["2001:db8:9::b"]
    v4 = admin.vip(unicast=True, members=members(a["name"], b["name"]))
    cv4 = next(x for x in admin.get(f"/nodes/{a['name']}/config").json()["vips"]
               if x["name"] == v4["name"])
    assert cv4["unicast_src"] == a["address"] and cv4["unicast_peers"] == ["198.18.9.2"]
    text = admin.get(f"/nodes/{a['name']}/config", accept="text/plain").text
    assert "unicast_src_ip 2001:db8:9::a\n" in text and "\t\t2001:db8:9::b\n" in text


@pytest.mark.parametrize("sources,pointer", [
    (["198.18.0.1", "198.18.0.2"], "/unicast_sources/1"),
    (["nope"], "/unicast_sources/0"),
    (["::1", "::2", "1.1.1.1"], "/unicast_sources"),
    ("198.18.0.1", "/unicast_sources"),
])
def test_bad_unicast_sources_are_422(admin, sources, pointer):
    assert_422(admin.post("/nodes", json=node_body(unicast_sources=sources)), pointer)


# -- sync groups ---------------------------------------------------------------------------------

def test_group_members_must_match(admin, pair):
    a, b, v6 = pair
    g = uniq("grp")
    first = admin.vip(group=g, members=members(a, b))
    # other nodes: 422 naming /members
    assert_422(admin.post("/vips", json=vip_body(group=g, members=members(a))), "/members")
    assert_422(admin.post("/vips", json=vip_body(group=g, members=members(a, v6))), "/members")
    # the same nodes at other priorities: accepted (keepalived does not require them equal)
    second = admin.vip(group=g, members=members(b, a, prio=(150, 120)))
    # a member change on one VIP of a two-VIP group is refused; out of the group it is fine
    r = admin.patch(f"/vips/{second['name']}", json={"members": members(a)})
    assert_422(r, "/members")
    r = admin.patch(f"/vips/{second['name']}", json={"group": None, "members": members(a)})
    assert r.status_code == 200, r.text
    assert r.json()["group"] is None
    # the only VIP of a group may change its members
    r = admin.patch(f"/vips/{first['name']}", json={"members": members(b)})
    assert r.status_code == 200, r.text


def test_group_filter_pages_links_and_etag(admin, pair):
    a, b, _ = pair
    g = uniq("grp")
    mine = sorted(admin.vip(f"{g}-v{i}", group=g, members=members(a, b))["name"]
                  for i in range(3))
    admin.vip(members=members(a, b))  # not in the group
    r = admin.get(f"/vips?group={g}&limit=2")
    assert r.status_code == 200
    doc = r.json()
    assert doc["total"] == 3 and doc["count"] == 2
    assert doc["_links"]["self"]["href"].startswith(f"/vips?group={g}")
    assert doc["_links"]["vg:find"]["href"] == "/vips{?node,group}"
    nxt = doc["_links"]["next"]["href"]
    assert f"group={g}" in nxt and f"group={g}" in r.headers["Link"]
    got = [v["name"] for v in doc["_embedded"]["vips"]]
    doc2 = admin.get(nxt).json()
    got += [v["name"] for v in doc2["_embedded"]["vips"]]
    assert "next" not in doc2["_links"] and got == mine
    etag = r.headers["ETag"]
    r2 = admin.get(f"/vips?group={g}&limit=2", headers={"If-None-Match": etag})
    assert r2.status_code == 304
    assert admin.get("/vips?group=no-such-group").json()["total"] == 0


def test_group_long_poll_wakes_only_for_the_group(admin, pair):
    a, b, _ = pair
    g = uniq("grp")
    v = admin.vip(group=g, members=members(a, b))["name"]
    other = admin.vip(members=members(a, b))["name"]
    url = f"/vips?group={g}"
    etag = admin.get(url).headers["ETag"]
    bg = Background(admin.get, f"{url}&wait=10", headers={"If-None-Match": etag}, timeout=20)
    time.sleep(0.5)
    assert admin.patch(f"/vips/{other}", json={"preempt": True}).status_code == 200
    time.sleep(0.5)
    assert not bg.done(), "a change outside the group woke the group's long-poll"
    assert admin.patch(f"/vips/{v}", json={"preempt": True}).status_code == 200
    r = bg.result()
    assert r.status_code == 200 and r.headers["ETag"] != etag
    assert bg.elapsed < 5
    # joining the group wakes it too
    etag = r.headers["ETag"]
    bg = Background(admin.get, f"{url}&wait=10", headers={"If-None-Match": etag}, timeout=20)
    time.sleep(0.5)
    assert admin.patch(f"/vips/{other}", json={"group": g}).status_code == 200
    r = bg.result()
    assert r.status_code == 200 and r.json()["total"] == 2


def test_holder_move_on_one_vip_moves_its_group(admin, pair):
    a, b, _ = pair
    g = uniq("grp")
    v1 = admin.vip(group=g, members=members(a, b))["name"]
    v2 = admin.vip(group=g, members=members(a, b, prio=(100, 200)))["name"]
    lone = admin.vip(members=members(a, b))["name"]
    r = admin.put(f"/vips/{v1}/holder", json={"node": b})
    assert r.status_code == 202, r.text
    for v in (v1, v2):
        h = admin.get(f"/vips/{v}/holder").json()
        assert h["requested"] == b and h["state"] == "moving", (v, h)
    assert admin.get(f"/vips/{lone}/holder").json()["requested"] is None
    # the agents see the move of both in their config
    cfg = admin.get(f"/nodes/{a}/config").json()
    moves = {x["name"]: x["move"] for x in cfg["vips"] if x["name"] in (v1, v2)}
    assert all(m is not None and m["target"] == b for m in moves.values()), moves
    # clearing the request on the other clears both
    assert admin.delete(f"/vips/{v2}/holder").status_code == 204
    for v in (v1, v2):
        assert admin.get(f"/vips/{v}/holder").json()["requested"] is None


# -- keepalived.conf -----------------------------------------------------------------------------

def _keepalived_config_test(conf_text, ifaces, tmp_path):
    """Runs Debian's keepalived --config-test on conf_text in a new network namespace holding
    ifaces (veth), as PID 1 of a new PID namespace: keepalived 2.2.7 in config-test mode sends
    itself SIGTERM after checking a script as a non-root script_user unless its parent PID is 0
    (it takes any other parent for a parent that died). Returns the CompletedProcess."""
    conf = tmp_path / "keepalived.conf"
    conf.write_text(conf_text)
    setup = "ip link set lo up"
    for i, (name, addr) in enumerate(ifaces.items()):
        setup += f" && ip link add {name} type veth peer name vfp{i} && ip link set {name} up"
        if addr:
            setup += f" && ip addr add {addr} dev {name}"
    return subprocess.run(
        ["unshare", "--net", "sh", "-c",
         f"{setup} && exec unshare --pid --fork keepalived --config-test -f {conf}"],
        capture_output=True, text=True, timeout=30)


needs_keepalived = pytest.mark.skipif(
    shutil.which("keepalived") is None or shutil.which("unshare") is None
    or subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode != 0,
    reason="needs keepalived and unshare --net (root)")


@needs_keepalived
def test_rendered_keepalived_conf_passes_config_test(admin, tmp_path):
    """A node with VIPs using every field: the text/plain config carries each value and Debian's
    keepalived accepts it (--config-test exits 0 and reports nothing)."""
    ifc, ifc2 = uniq_iface(), uniq_iface()
    a = admin.node(interface=ifc)
    b = admin.node(interface=ifc)
    g = uniq("grp")
    ms = members(a["name"], b["name"])
    v1 = admin.vip(
        interface=ifc, vrid=61, advert_int_ms=50, addresses=["198.18.210.1/24", "198.18.210.2/24",
                                                             "198.18.211.1/32"],
        excluded_addresses=["2001:db8:210::1/64", "198.18.212.1/24"], unicast=True,
        peers=["198.18.210.99"], group=g,
        track_interfaces=[{"interface": ifc2, "weight": -20}],
        notify=["vip-notify.sh", "--to", "ops team's"], garp_repeat=3, garp_delay_s=2,
        garp_refresh_s=600, vmac=True, members=ms)
    v2 = admin.vip(interface=ifc2, vrid=62, addresses=["2001:db8:213::1/64",
                                                       "2001:db8:213::2/64"],
                   group=g, track_interfaces=[{"interface": ifc}], members=ms)
    v3 = admin.vip(interface=ifc, vrid=63, version=2, auth_pass="pw", members=ms)
    text = admin.get(f"/nodes/{a['name']}/config", accept="text/plain").text
    # the values are there
    for s in ("\t\t198.18.210.1/24 dev " + ifc, "\t\t198.18.210.2/24 dev " + ifc,
              "\t\t198.18.211.1/32 dev " + ifc, "virtual_ipaddress_excluded {",
              "\t\t2001:db8:210::1/64 dev " + ifc, "\t\t198.18.212.1/24 dev " + ifc,
              f"unicast_src_ip {a['address']}", "unicast_peer {", f"\t\t{b['address']}\n",
              "\t\t198.18.210.99\n", f"vrrp_sync_group {g} {{", f"\t\t{v1['name']}\n",
              f"\t\t{v2['name']}\n",
              "notify \"/etc/vigil/scripts/vip-notify.sh --to 'ops team'\\''s'\"",
              "track_interface {", f"\t\t{ifc2} weight -20\n", f"\t\t{ifc}\n", "use_vmac",
              "garp_master_delay 2", "garp_master_repeat 3", "garp_master_refresh 600",
              "garp_master_refresh_repeat 3",
              "advert_int 0.05", "\t\t2001:db8:213::2/64 dev " + ifc2):
        assert s in text, f"{s!r} not in\n{text}"
    assert text.count("vrrp_sync_group") == 1
    assert f"vrrp_instance {v3['name']}" in text and "garp_master_refresh" not in \
        text.split(f"vrrp_instance {v3['name']}")[1]
    r = _keepalived_config_test(text, {ifc: f"{a['address']}/24", ifc2: None}, tmp_path)
    assert r.returncode == 0, f"rc {r.returncode}\n{r.stdout}\n{r.stderr}\n{text}"
    assert r.stderr.strip() == "" and r.stdout.strip() == "", f"{r.stdout}\n{r.stderr}\n{text}"


@needs_keepalived
def test_keepalived_config_test_catches_a_bad_config(admin, tmp_path):
    """The harness is not vacuous: keepalived refuses what it should."""
    r = _keepalived_config_test("vrrp_instance x {\n\tinterface nope0\n\tvirtual_router_id 999\n"
                                "\tvirtual_ipaddress {\n\t\t198.18.0.1/24\n\t}\n}\n",
                                {"eth0": None}, tmp_path)
    assert r.returncode != 0, r
