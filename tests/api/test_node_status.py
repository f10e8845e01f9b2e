"""/nodes/{name}/status: agent reports, validation, liveness, and what the server derives from them
(VIP status, holder, check results, the vg:failback link)."""

import json
import re
import time

import pytest

from vigiltest import assert_422, assert_problem, uniq, wait_until

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
NOW = "2024-01-02T03:04:05Z"


@pytest.fixture
def trio(admin):
    """Nodes a, b, c with agents; VIP v with members a (200) and b (100)."""
    names = [admin.node()["name"] for _ in range(3)]
    agents = {n: admin.mint("agent", node=n) for n in names}
    a, b, _ = names
    v = admin.vip(members=[{"node": a, "priority": 200}, {"node": b, "priority": 100}])["name"]
    return names, agents, v


def report(agent, **body):
    r = agent.put(f"/nodes/{agent.bound_node}/status", json=body)
    assert r.status_code == 200, f"status PUT by {agent.bound_node}: {r.status_code} {r.text[:500]}"
    return r.json()


def test_agent_put_own_status(admin, trio):
    (a, _, _), agents, v = trio
    body = {"agent_version": "0.1.0", "ip_nonlocal_bind": True,
            "vrrp": {v: {"state": "MASTER", "priority": 200}}, "vips_held": [v],
            "last_transition": {"vip": v, "from": "BACKUP", "to": "MASTER",
                                "reason": "higher priority", "at": NOW}}
    doc = report(agents[a], **body)
    assert doc["agent"] == "up"
    assert RFC3339.match(doc["last_seen"]), doc
    assert doc["agent_version"] == "0.1.0"
    assert doc["ip_nonlocal_bind"] is True
    assert doc["vrrp"][v]["state"] == "MASTER"
    assert doc["vrrp"][v]["priority"] == 200
    assert RFC3339.match(doc["vrrp"][v]["since"])
    assert doc["vips_held"] == [v]
    assert doc["last_transition"]["to"] == "MASTER"
    g = admin.get(f"/nodes/{a}/status")
    assert g.status_code == 200
    for k in ("agent", "last_seen", "agent_version", "ip_nonlocal_bind", "vrrp", "vips_held",
              "last_transition"):
        assert g.json()[k] == doc[k], k
    node_status = admin.get(f"/nodes/{a}").json()["status"]
    assert node_status["agent"] == "up" and node_status["vips_held"] == [v]


def test_realtime_is_kept_until_the_next_report_that_carries_it(admin, trio):
    (a, _, _), agents, _ = trio
    rt = {"policy": "SCHED_RR", "priority": 10, "memory_locked": False,
          "reason": "mlockall: Cannot allocate memory"}
    doc = report(agents[a], agent_version="0.1.0", realtime=rt)
    assert doc["realtime"] == rt
    assert report(agents[a], agent_version="0.1.0")["realtime"] == rt
    off = {"policy": "SCHED_OTHER", "priority": 0, "memory_locked": False,
           "reason": "--no-realtime"}
    assert report(agents[a], realtime=off)["realtime"] == off
    assert admin.get(f"/nodes/{a}").json()["status"]["realtime"] == off


def test_empty_report_marks_agent_up(admin, trio):
    (a, _, _), agents, _ = trio
    assert admin.get(f"/nodes/{a}/status").json()["agent"] == "unknown"
    doc = report(agents[a])
    assert doc["agent"] == "up" and doc["last_seen"] is not None


def test_since_is_stamped_only_when_state_changes(trio):
    (a, _, _), agents, v = trio
    s1 = report(agents[a], vrrp={v: {"state": "BACKUP", "priority": 200}})["vrrp"][v]["since"]
    time.sleep(1.1)
    s2 = report(agents[a], vrrp={v: {"state": "BACKUP", "priority": 200}})["vrrp"][v]["since"]
    assert s2 == s1
    s3 = report(agents[a], vrrp={v: {"state": "MASTER", "priority": 200}})["vrrp"][v]["since"]
    assert s3 > s1


def test_agent_cannot_put_other_nodes_status(admin, trio):
    (a, b, _), agents, _ = trio
    before = admin.get(f"/nodes/{b}/status").json()
    r = agents[a].put(f"/nodes/{b}/status", json={"agent_version": "forged"})
    assert_problem(r, 403, "forbidden")
    assert admin.get(f"/nodes/{b}/status").json() == before


def test_status_of_missing_node_is_404(admin):
    n = uniq("nope")
    assert_problem(admin.get(f"/nodes/{n}/status"), 404, "not-found")
    assert_problem(admin.put(f"/nodes/{n}/status", json={}), 404, "not-found")


BAD = [
    ({"foo": 1}, "/foo"),
    ({"agent": "up"}, "/agent"),
    ({"agent_version": 1}, "/agent_version"),
    ({"ip_nonlocal_bind": "1"}, "/ip_nonlocal_bind"),
    ({"vrrp": []}, "/vrrp"),
    ({"vrrp": {"V": {"state": "LEADER", "priority": 1}}}, "/vrrp/V/state"),
    ({"vrrp": {"V": {"state": "MASTER", "priority": 256}}}, "/vrrp/V/priority"),
    ({"vrrp": {"V": {"state": "MASTER", "priority": -1}}}, "/vrrp/V/priority"),
    ({"vips_held": "V"}, "/vips_held"),
    ({"vips_held": [1]}, ["/vips_held/0", "/vips_held"]),
    ({"last_transition": "x"}, "/last_transition"),
    ({"moves_done": {"V": "one"}}, ["/moves_done/V", "/moves_done"]),
    ({"checks": {"C": {"state": "maybe", "output": "", "at": NOW}}}, "/checks/C/state"),
    ({"checks": []}, "/checks"),
    ({"notify": {"V": {"state": "UP", "result": "exit"}}}, "/notify/V/state"),
    ({"notify": {"V": {"state": "STOP", "result": "fine"}}}, "/notify/V/result"),
    ({"notify": {"V": {"state": "STOP", "result": "exit", "exit_status": 300}}},
     "/notify/V/exit_status"),
    ({"notify": {"V": {"state": "STOP", "result": "exit", "pid": 1}}}, "/notify/V/pid"),
    ({"vrrp": {"V": {"state": "FAULT", "track": [{"interface": "eth1", "state": "sideways"}]}}},
     "/vrrp/V/track/0/state"),
    ({"vrrp": {"V": {"state": "FAULT", "track": "eth1"}}}, "/vrrp/V/track"),
    ({"vrrp": {"V": {"state": "MASTER", "vmac": "vrrp/51"}}}, "/vrrp/V/vmac"),
    ({"vrrp": {"V": {"state": "MASTER", "vmac": "vrrp.51.1.too.long"}}}, "/vrrp/V/vmac"),
    ({"vrrp": {"V": {"state": "MASTER", "vmac": 51}}}, "/vrrp/V/vmac"),
    ({"vrrp": {"V": {"state": "FAULT", "group": "Not A Name"}}}, "/vrrp/V/group"),
    ({"vrrp": {"V": {"state": "FAULT", "group": "g", "group_state": "UP"}}},
     "/vrrp/V/group_state"),
    ({"notify": {"V": {"state": "STOP", "result": "exit", "group": 7}}}, "/notify/V/group"),
    ({"realtime": "SCHED_RR"}, "/realtime"),
    ({"realtime": {"policy": "SCHED_RT", "priority": 10, "memory_locked": True}},
     "/realtime/policy"),
    ({"realtime": {"policy": "SCHED_RR", "priority": 100, "memory_locked": True}},
     "/realtime/priority"),
    ({"realtime": {"policy": "SCHED_RR", "priority": 10}}, "/realtime/memory_locked"),
    ({"realtime": {"policy": "SCHED_RR", "priority": 10, "memory_locked": True, "nice": 0}},
     "/realtime/nice"),
]


@pytest.mark.parametrize("body,pointer", BAD, ids=[str(p) for _, p in BAD])
def test_invalid_status_report_is_422(trio, body, pointer):
    (a, _, _), agents, v = trio
    text = json.dumps(body).replace('"V"', json.dumps(v)).replace('"C"', '"chk"')
    pointers = [pointer] if isinstance(pointer, str) else pointer
    pointers = [p.replace("/V", "/" + v).replace("/C/", "/chk/") for p in pointers]
    r = agents[a].request("PUT", f"/nodes/{a}/status", data=text.encode(),
                          headers={"Content-Type": "application/json"})
    assert_422(r, pointers)


def test_check_results_appear_on_the_check(admin, trio):
    (a, _, _), agents, _ = trio
    chk = admin.check(type="script", node=a, script=["check_haproxy"])["name"]
    report(agents[a], checks={chk: {"state": "down", "output": "connection refused", "at": NOW}})
    res = admin.get(f"/checks/{chk}").json()["status"]["results"]
    assert res[a]["state"] == "down"
    assert res[a]["output"] == "connection refused"
    assert res[a]["since"] is not None


def test_agent_goes_down_after_timeout(make_server):
    srv = make_server("--agent-timeout", "1")
    c = srv.client()
    n = c.node()["name"]
    agent = c.mint("agent", node=n)
    assert report(agent)["agent"] == "up"
    wait_until(lambda: c.get(f"/nodes/{n}/status").json()["agent"] == "down", timeout=4,
               what="agent down")
    assert report(agent)["agent"] == "up"


# -- derived VIP status and vg:failback ----------------------------------------------------------

def test_vip_status_derived_from_reports(admin, trio):
    (a, b, _), agents, v = trio
    report(agents[a], vrrp={v: {"state": "BACKUP", "priority": 200}}, vips_held=[])
    report(agents[b], vrrp={v: {"state": "MASTER", "priority": 100}}, vips_held=[v])
    st = admin.get(f"/vips/{v}").json()["status"]
    assert st["holder"] == b
    assert st["preferred"] == a
    assert st["members"][a] == {"state": "BACKUP", "agent": "up", "priority": 200}
    assert st["members"][b] == {"state": "MASTER", "agent": "up", "priority": 100}
    assert RFC3339.match(st["since"])
    assert admin.get(f"/vips/{v}/holder").json()["node"] == b


def test_notify_runs_and_tracked_links_appear_on_node_and_vip(admin, trio):
    """Issue 10: each member's last notify run and tracked links reach the VIP's status; the
    newest run across members is its last_notify."""
    (a, b, _), agents, v = trio
    track = [{"interface": "eth1", "weight": 0, "state": "down"}]
    run_a = {"state": "FAULT", "priority": 200, "result": "refused", "exit_status": None,
             "signal": None, "output": "refused: \"x/y\" is not a bare file name",
             "transition_at": "2024-01-02T03:04:05.000Z", "at": "2024-01-02T03:04:05.010Z",
             "duration_ms": 0, "coalesced": 0}
    run_b = dict(run_a, state="MASTER", priority=100, result="timeout", signal=9, output="",
                 at="2024-01-02T03:04:07.000Z", duration_ms=2000, coalesced=3)
    doc = report(agents[a], vrrp={v: {"state": "FAULT", "priority": 200, "track": track}},
                 notify={v: run_a})
    assert doc["notify"] == {v: run_a}
    assert doc["vrrp"][v]["track"] == track
    report(agents[b], vrrp={v: {"state": "MASTER", "priority": 100}}, notify={v: run_b})
    st = admin.get(f"/vips/{v}").json()["status"]
    assert st["members"][a]["notify"] == run_a
    assert st["members"][a]["track"] == track
    assert st["members"][b]["notify"] == run_b
    assert "track" not in st["members"][b]
    assert st["last_notify"] == dict(run_b, node=b)
    # a report without notify keeps the last one (an agent that has nothing new to say)
    assert report(agents[a])["notify"] == {v: run_a}


def test_sync_group_state_and_group_notify_run_are_kept(admin, trio):
    """Issue 10 sync groups: the agent reports each VIP's group and the group's state, and a
    GROUP notify run names the group."""
    (a, _, _), agents, v = trio
    run = {"state": "MASTER", "priority": 0, "group": "dbpair", "result": "exit",
           "exit_status": 0, "signal": None, "output": "", "duration_ms": 3, "coalesced": 0,
           "transition_at": "2024-01-02T03:04:05.000Z", "at": "2024-01-02T03:04:05.010Z"}
    doc = report(agents[a], vrrp={v: {"state": "MASTER", "priority": 200, "group": "dbpair",
                                      "group_state": "MASTER"}}, notify={v: run})
    assert doc["vrrp"][v]["group"] == "dbpair"
    assert doc["vrrp"][v]["group_state"] == "MASTER"
    assert doc["notify"][v] == run


def test_failback_link_when_held_by_non_preferred_and_preferred_up(admin, trio):
    (a, b, _), agents, v = trio
    report(agents[a], vrrp={v: {"state": "BACKUP", "priority": 200}}, vips_held=[])
    report(agents[b], vrrp={v: {"state": "MASTER", "priority": 100}}, vips_held=[v])
    doc = admin.get(f"/vips/{v}").json()
    fb = doc["_links"]["vg:failback"]
    assert fb["href"] == f"/vips/{v}/holder"
    assert fb["name"] == a
    assert fb["title"] == f"Move to {a}"
    # The link is the action: PUT its href with the name.
    r = admin.put(fb["href"], json={"node": fb["name"]})
    assert r.status_code == 202, r.text


def test_no_failback_link_when_held_by_preferred(admin, trio):
    (a, b, _), agents, v = trio
    report(agents[a], vrrp={v: {"state": "MASTER", "priority": 200}}, vips_held=[v])
    report(agents[b], vrrp={v: {"state": "BACKUP", "priority": 100}}, vips_held=[])
    doc = admin.get(f"/vips/{v}").json()
    assert doc["status"]["holder"] == a
    assert "vg:failback" not in doc["_links"]


def test_no_failback_link_when_unheld(admin, trio):
    (a, b, _), agents, v = trio
    report(agents[a], vrrp={v: {"state": "BACKUP", "priority": 200}}, vips_held=[])
    report(agents[b], vrrp={v: {"state": "BACKUP", "priority": 100}}, vips_held=[])
    doc = admin.get(f"/vips/{v}").json()
    assert doc["status"]["holder"] is None
    assert "vg:failback" not in doc["_links"]


def test_no_failback_link_when_preferred_agent_never_reported(admin, trio):
    (a, b, c), agents, _ = trio
    v2 = admin.vip(members=[{"node": c, "priority": 250}, {"node": b, "priority": 100}])["name"]
    report(agents[b], vrrp={v2: {"state": "MASTER", "priority": 100}}, vips_held=[v2])
    doc = admin.get(f"/vips/{v2}").json()
    assert doc["status"]["holder"] == b
    assert doc["status"]["preferred"] == c
    assert doc["status"]["members"][c]["agent"] == "unknown"
    assert "vg:failback" not in doc["_links"]


def test_failback_link_disappears_when_preferred_agent_goes_down(make_server):
    srv = make_server("--agent-timeout", "1")
    c = srv.client()
    a, b = c.node()["name"], c.node()["name"]
    v = c.vip(members=[{"node": a, "priority": 200}, {"node": b, "priority": 100}])["name"]
    aa, ab = c.mint("agent", node=a), c.mint("agent", node=b)
    report(aa, vrrp={v: {"state": "BACKUP", "priority": 200}}, vips_held=[])
    report(ab, vrrp={v: {"state": "MASTER", "priority": 100}}, vips_held=[v])
    assert "vg:failback" in c.get(f"/vips/{v}").json()["_links"]

    def gone():
        report(ab, vrrp={v: {"state": "MASTER", "priority": 100}}, vips_held=[v])  # b stays up
        doc = c.get(f"/vips/{v}").json()
        return doc["status"]["members"][a]["agent"] == "down" and doc
    doc = wait_until(gone, timeout=4, interval=0.3, what="preferred agent down")
    assert doc["status"]["holder"] == b
    assert "vg:failback" not in doc["_links"]


def test_failback_link_follows_requested_holder(admin, trio):
    """preferred = the requested holder when set: a move to b, held by a, links back to b."""
    (a, b, _), agents, v = trio
    report(agents[b], vrrp={v: {"state": "BACKUP", "priority": 100}}, vips_held=[])
    report(agents[a], vrrp={v: {"state": "MASTER", "priority": 200}}, vips_held=[v])
    assert admin.put(f"/vips/{v}/holder", json={"node": b}).status_code == 202
    doc = admin.get(f"/vips/{v}").json()
    assert doc["status"]["preferred"] == b
    assert doc["_links"]["vg:failback"]["name"] == b


def test_backend_health_follows_its_check(admin, trio):
    (a, _, c), agents, v = trio
    be = admin.backend(v)["name"]
    chk = admin.check(backend=be)["name"]
    assert admin.get(f"/backends/{be}").json()["status"]["health"] == "unknown"
    report(agents[a], checks={chk: {"state": "up", "output": "connected", "at": NOW}})
    st = admin.get(f"/backends/{be}").json()["status"]
    assert st["health"] == "up"
    assert RFC3339.match(st["since"]), st
    report(agents[a], checks={chk: {"state": "down", "output": "connection refused", "at": NOW}})
    st = admin.get(f"/backends/{be}").json()["status"]
    assert st["health"] == "down"
    assert isinstance(st["reason"], str) and st["reason"], st
    assert admin.get(f"/checks/{chk}").json()["status"]["results"][a]["state"] == "down"


def test_results_for_a_check_the_node_does_not_run_are_ignored(admin, trio):
    (a, _, c), agents, v = trio  # c is not a member of v
    be = admin.backend(v)["name"]
    chk = admin.check(backend=be)["name"]
    report(agents[c], checks={chk: {"state": "down", "output": "forged", "at": NOW}})
    assert c not in admin.get(f"/checks/{chk}").json()["status"]["results"]
    assert admin.get(f"/backends/{be}").json()["status"]["health"] == "unknown"


def test_vmac_interface_appears_on_node_and_vip(admin, trio):
    """Issue 10: a member's macvlan (vmac) reaches the node's status and the VIP's member entry."""
    (a, b, _), agents, v = trio
    doc = report(agents[a], vrrp={v: {"state": "MASTER", "priority": 200, "vmac": "vrrp.51"}})
    assert doc["vrrp"][v]["vmac"] == "vrrp.51"
    report(agents[b], vrrp={v: {"state": "BACKUP", "priority": 100}})
    st = admin.get(f"/vips/{v}").json()["status"]
    assert st["members"][a]["vmac"] == "vrrp.51"
    assert "vmac" not in st["members"][b]
