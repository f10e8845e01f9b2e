"""keepalived.conf imports (issue 11): every file of ../shared/keepalived-corpus (read from there,
never copied) imported as a dry run and for real with a report that accounts for every statement,
or refused with the right line; importing twice changes nothing; two nodes' files become one VIP
with both members; a clash is a 409 naming both lines; malformed bodies are a 422 with a line."""

import os

import pytest

from vigiltest import uniq, uniq_ipv4

CORPUS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "keepalived-corpus")
FILES = sorted(f for f in os.listdir(CORPUS) if f.endswith(".conf")) if os.path.isdir(CORPUS) else []
REFUSED = {"20-include-conf-d-globals-only.conf": (20, "include"),
           "34-invalid-vrid-999-iface-is-ip.conf": (15, "virtual_router_id")}


def post(client, node, body, dry_run=False, **query):
    q = f"/imports?node={node}" + ("&dry_run=true" if dry_run else "")
    for k, v in query.items():
        q += f"&{k}={v}"
    return client.request("POST", q, data=body, headers={"Content-Type": "text/plain"})


def cleanup(admin, report):
    """Deletes what an import created (checks, backends, VIPs; the node last)."""
    order = {"check": 0, "backend": 1, "vip": 2, "node": 3}
    for r in sorted(report["resources"], key=lambda r: order[r["kind"]]):
        if r["action"] == "created":
            assert admin.delete(r["_links"]["self"]["href"]).status_code == 204


@pytest.mark.skipif(not FILES, reason="no corpus")
@pytest.mark.parametrize("name", FILES)
def test_corpus_file_imports_or_is_refused_with_its_line(admin, name):
    body = open(os.path.join(CORPUS, name), "rb").read()
    node = uniq("lb")
    if name in REFUSED:
        line, keyword = REFUSED[name]
        r = post(admin, node, body, address="10.9.0.1")
        assert r.status_code == 422, r.text
        errors = r.json()["errors"]
        assert errors[0]["line"] == line, errors
        assert keyword in (errors[0]["keyword"] + errors[0]["detail"])
        assert admin.get(f"/nodes/{node}").status_code == 404  # nothing changed
        return
    dry = post(admin, node, body, dry_run=True, address="10.9.0.1")
    assert dry.status_code == 200, dry.text
    plan = dry.json()
    assert admin.get(f"/nodes/{node}").status_code == 404  # a dry run changes nothing
    lines = {s["line"] for s in plan["statements"]}
    assert all(s["result"] in ("applied", "not_applied") for s in plan["statements"])
    assert all("why" in s for s in plan["statements"] if s["result"] == "not_applied")
    assert all("not understood" not in s.get("why", "") for s in plan["statements"])
    assert lines, "no statement reported"
    r = post(admin, node, body, address="10.9.0.1")
    assert r.status_code == 201, r.text
    report = r.json()
    assert r.headers["Location"] == f"/imports/{report['id']}"
    assert [(x["kind"], x["name"], x["action"]) for x in report["resources"]] == \
        [(x["kind"], x["name"], x["action"]) for x in plan["resources"]]
    again = post(admin, node, body)
    assert again.status_code == 201, again.text
    assert {x["action"] for x in again.json()["resources"]} <= {"unchanged"}
    kept = admin.get(r.headers["Location"])
    assert kept.status_code == 200 and kept.json()["statements"] == report["statements"]
    cleanup(admin, report)


PAIR = """vrrp_instance VI_1 {
    state %s
    interface eth0
    virtual_router_id 61
    priority %d
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass %s
    }
    virtual_ipaddress {
        %s
    }
}
"""


def test_two_nodes_files_become_one_vip_with_both_members(admin):
    a, b = uniq("lb"), uniq("lb")
    r1 = post(admin, a, (PAIR % ("MASTER", 101, "pw", "198.18.61.1/24")).encode(),
              address="10.61.0.1")
    assert r1.status_code == 201, r1.text
    vip = next(x for x in r1.json()["resources"] if x["kind"] == "vip")
    r2 = post(admin, b, (PAIR % ("BACKUP", 100, "pw", "198.18.61.1/24")).encode(),
              address="10.61.0.2")
    assert r2.status_code == 201, r2.text
    assert [x for x in r2.json()["resources"] if x["kind"] == "vip"][0]["name"] == vip["name"]
    doc = admin.get(vip["_links"]["self"]["href"]).json()
    assert sorted((m["node"], m["priority"]) for m in doc["members"]) == \
        sorted([(a, 101), (b, 100)])
    assert doc["preempt"] is True and doc["version"] == 2
    # the other addresses on the same vrid and interface: 409 naming both lines
    c = uniq("lb")
    r3 = post(admin, c, (PAIR % ("BACKUP", 50, "pw", "198.18.62.1/24")).encode(),
              address="10.61.0.3")
    assert r3.status_code == 409, r3.text
    detail = r3.json()["detail"]  # this file's line and the line of the file that made the VIP
    assert detail.startswith("line 1 ") and "from line 1 of node lb" in detail
    assert admin.get(f"/nodes/{c}").status_code == 404  # all or nothing
    r4 = post(admin, c, (PAIR % ("BACKUP", 50, "other", "198.18.61.1/24")).encode(),
              address="10.61.0.3")
    assert r4.status_code == 409


@pytest.mark.parametrize("body,line", [
    (b"vrrp_instance A {\n  interface eth0\n", 2),  # at the end, naming line 1
    (b"global_defs {\n}\n}\n", 3),
    (b"global_defs {\n router_id a\x00b\n}\n", 2),
    (b"global_defs {\n router_id \xff\xfe\n}\n", 2),
])
def test_malformed_bodies_are_422_with_their_line(admin, body, line):
    r = post(admin, uniq("lb"), body, address="10.9.0.9")
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["line"] == line


def test_over_one_mebibyte_is_413(admin):
    r = post(admin, "lb1", b"#" * (1024 * 1024 + 1))
    assert r.status_code == 413


def test_unknown_node_without_address_is_422(admin):
    r = post(admin, uniq("lb"), b"")
    assert r.status_code == 422


def test_not_text_plain_is_415(admin):
    r = admin.request("POST", "/imports?node=lb1", json={"x": 1})
    assert r.status_code == 415


OWNED = """vrrp_script chk_web {
    script "/usr/local/bin/chk_web.sh"
    interval 2
    weight -20
}
vrrp_instance VI_9 {
    interface eth0
    virtual_router_id %d
    priority 100
    virtual_ipaddress {
        %s
    }
    %s
}
virtual_server %s 80 {
    lb_algo rr
    real_server 198.18.90.11 80 {
        TCP_CHECK {
            connect_timeout 3
        }
    }
%s}
"""
SECOND = """    real_server 198.18.90.12 80 {
        TCP_CHECK {
            connect_timeout 3
        }
    }
"""


def test_reimport_deletes_only_what_the_import_made_and_the_file_dropped(admin):
    node, vrid = uniq("lb"), 90 + int(uniq("x")[-2:], 16) % 100
    addr = uniq_ipv4()
    full = OWNED % (vrid, addr, "track_script {\n        chk_web\n    }", addr, SECOND)
    r1 = post(admin, node, full.encode(), address="10.90.0.1")
    assert r1.status_code == 201, r1.text
    made = {(x["kind"], x["name"]) for x in r1.json()["resources"] if x["action"] == "created"}
    assert {k for k, _ in made} == {"node", "vip", "backend", "check"}
    hand = admin.check(type="tcp", node=node, port=22)  # made by hand: never the import's
    smaller = OWNED % (vrid, addr, "", addr, "")
    dry = post(admin, node, smaller.encode(), dry_run=True)
    assert dry.status_code == 200, dry.text
    r2 = post(admin, node, smaller.encode())
    assert r2.status_code == 201, r2.text
    gone = {(x["kind"], x["name"]) for x in r2.json()["resources"] if x["action"] == "deleted"}
    assert gone == {(x["kind"], x["name"]) for x in dry.json()["resources"]
                    if x["action"] == "deleted"}
    assert {k for k, _ in gone} == {"backend", "check"} and gone <= made
    assert any(n.endswith("198-18-90-12-80") for k, n in gone if k == "backend")
    assert any("chk-web" in n for k, n in gone if k == "check")  # the node check too
    for kind, name in gone:
        assert admin.get(f"/{kind}s/{name}").status_code == 404
    assert admin.get(f"/checks/{hand['name']}").status_code == 200
    again = post(admin, node, smaller.encode())
    assert {x["action"] for x in again.json()["resources"]} == {"unchanged"}
    # the file grows again: what it has is made again, and owned again
    r3 = post(admin, node, full.encode())
    assert {(x["kind"], x["name"]) for x in r3.json()["resources"]
            if x["action"] == "created"} == gone
    admin.delete(f"/checks/{hand['name']}")
    cleanup(admin, r1.json())


DUAL = """vrrp_instance V4 {
    interface eth0
    virtual_router_id %d
    unicast_src_ip 10.77.0.1
    unicast_peer {
        10.77.0.2
    }
    virtual_ipaddress {
        %s
    }
}
vrrp_instance V6 {
    interface eth0
    virtual_router_id %d
    unicast_src_ip fd00:77::1
    unicast_peer {
        fd00:77::2
    }
    virtual_ipaddress {
        fd00:77:%x::10/64
    }
}
"""


def test_an_ipv6_unicast_source_becomes_the_nodes_and_the_instance_stays_unicast(admin):
    node, n = uniq("lb"), int(uniq("x")[-3:], 16) % 200 + 1
    body = (DUAL % (n, uniq_ipv4(24), n, n)).encode()
    r = post(admin, node, body, address="10.77.0.1")
    assert r.status_code == 201, r.text
    assert r.json()["gaps"] == []
    assert admin.get(f"/nodes/{node}").json()["unicast_sources"] == ["fd00:77::1"]
    vips = [admin.get(x["_links"]["self"]["href"]).json() for x in r.json()["resources"]
            if x["kind"] == "vip"]
    assert [(v["unicast"], v["peers"]) for v in vips] == \
        [(True, ["10.77.0.2"]), (True, ["fd00:77::2"])]
    cfg = admin.get(f"/nodes/{node}/config").json()
    assert sorted(v["unicast_src"] for v in cfg["vips"]) == ["10.77.0.1", "fd00:77::1"]
    again = post(admin, node, body)
    assert {x["action"] for x in again.json()["resources"]} == {"unchanged"}
    cleanup(admin, r.json())
