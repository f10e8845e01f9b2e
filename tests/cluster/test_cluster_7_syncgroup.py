"""Issue 10, scenario 3: sync groups. Two VIPs of one `group` on two interfaces change state and
move together, between the session's agents and against Debian's keepalived 2.2.7 with a
`vrrp_sync_group`.

A second data link, `sg0`, joins lb1, lb2 and lb3 on a bridge of this module's own (`vgsgbr`,
198.19.2.0/24; the session's eth1 is the management network). Each part has a group of two VIPs,
one on eth0 and one on sg0, VRRPv3, preempt off:

  1. Agents (`sg`: sga 198.18.0.140 vrid 80, sgb 198.19.2.140 vrid 81; lb1 150, lb2 100):
     lb1 holds both, the status shows the group and its state, and the notify script of the
     group's first member ran `GROUP sg MASTER` on lb1 once. lb1's sg0 goes down: sgb is FAULT by
     its link, sga FAULT by the group, and both move to lb2. sg0 back: lb1 is Backup for both
     (no preempt). A holder PUT of sga to lb1 moves both back.
  2. keepalived on lb3 (`sgk`: sgka 198.18.0.142 vrid 82, sgkb 198.19.2.142 vrid 83; lb1 150,
     keepalived 100 with `vrrp_sync_group`): lb1 holds both; lb1's sg0 down moves both to
     keepalived; sg0 up, then a holder PUT of sgka to lb1 moves both back, keepalived's whole
     group steps down."""

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

import netlab as nl
from netlab import master_down_s

BR = "vgsgbr"
SG_ADDR = {"lb1": "198.19.2.11", "lb2": "198.19.2.12", "lb3": "198.19.2.13"}
SGA, SGB = "198.18.0.140", "198.19.2.140"
SGKA, SGKB = "198.18.0.142", "198.19.2.142"
HOSTS3 = ("lb1", "lb2", "lb3")
NOTIFY_SH = """#!/bin/sh
echo "$(readlink /proc/self/ns/net | tr -dc 0-9) $*" >> {log}
"""


def port(host):
    return f"vgsg-{host}"


def cleanup_links():
    for h in HOSTS3:
        nl.run("ip", "link", "del", port(h), check=False)
    nl.run("ip", "link", "del", BR, check=False)


def vip_spec(addr, ifname, vrid, group, members, **extra):
    return {"addresses": [f"{addr}/24"], "interface": ifname, "vrid": vrid, "version": 3,
            "advert_int_ms": 1000, "preempt": False, "group": group,
            "members": [{"node": n, "priority": p} for n, p in members], **extra}


@pytest.fixture(scope="module")
def sg(cluster, net):
    """The sg0 links, the notify script; afterwards the VIPs, keepalived, links and addresses
    go."""
    c, lab = cluster, cluster.lab
    c.ensure_steady()
    cleanup_links()
    nl.run("ip", "link", "add", BR, "type", "bridge", "stp_state", "0", "forward_delay", "0",
           "mcast_snooping", "0")
    nl.run("ip", "link", "set", BR, "up")
    for h in HOSTS3:
        ns = nl.ns_of(h)
        nl.run("ip", "link", "add", port(h), "type", "veth", "peer", "name", "sg0", "netns", ns)
        nl.run("ip", "link", "set", port(h), "master", BR)
        nl.run("ip", "link", "set", port(h), "up")
        nl.run("ip", "-n", ns, "addr", "add", f"{SG_ADDR[h]}/24", "dev", "sg0")
        nl.run("ip", "-n", ns, "link", "set", "sg0", "up")
    assert nl.wait_for(lambda: all(lab.carrier(h, "sg0") for h in HOSTS3), 5, 0.05)
    logdir = Path(tempfile.mkdtemp(prefix="vgsync-", dir="/tmp"))
    logdir.chmod(0o1777)
    script = c.script_dir / "sgnotify.sh"
    script.write_text(NOTIFY_SH.format(log=logdir / "log"))
    os.chown(script, 0, 0)
    script.chmod(0o755)
    ns_ids = {nl.nsrun(h, "readlink", "/proc/self/ns/net").stdout.strip().strip("net:[]"): h
              for h in HOSTS3}
    yield {"c": c, "lab": lab, "net": net, "log": logdir / "log", "ns": ns_ids}
    for v in ("sga", "sgb", "sgka", "sgkb"):
        c.api.request("DELETE", f"/vips/{v}/holder")
        c.api.request("DELETE", f"/vips/{v}")
    net.stop_keepalived("lb3")
    for h in HOSTS3:
        nl.nsrun(h, "ip", "link", "set", "sg0", "up", check=False)
        for a in (SGA, SGKA):
            lab.del_addr(h, a)
    cleanup_links()
    script.unlink(missing_ok=True)
    shutil.rmtree(logdir, ignore_errors=True)


def on(lab, host, addr, dev):
    return addr in lab.addrs(host, dev)


def holders(lab, addr, dev):
    return [h for h in HOSTS3 if on(lab, h, addr, dev)]


def both_on(lab, host, a, b):
    return holders(lab, a, "eth0") == [host] and holders(lab, b, "sg0") == [host]


def sg0(host, up):
    nl.nsrun(host, "ip", "link", "set", "sg0", "up" if up else "down")


def entry(c, node, vip):
    return (c.node_status(node).get("vrrp") or {}).get(vip) or {}


def notified(s, node):
    """The notify script's argument lines that ran on node."""
    if not s["log"].exists():
        return []
    out = []
    for line in s["log"].read_text().splitlines():
        ns, _, args = line.partition(" ")
        if s["ns"].get(ns) == node:
            out.append(args)
    return out


def test_agents_move_a_sync_group_together(sg):
    c, lab = sg["c"], sg["lab"]
    members = [("lb1", 150), ("lb2", 100)]
    c.api.put("/vips/sga", vip_spec(SGA, "eth0", 80, "sg", members, notify=["sgnotify.sh"]),
              expect=(200, 201))
    c.api.put("/vips/sgb", vip_spec(SGB, "sg0", 81, "sg", members), expect=(200, 201))
    ok = nl.wait_for(lambda: both_on(lab, "lb1", SGA, SGB) and
                     entry(c, "lb2", "sgb").get("group_state") == "BACKUP" and
                     entry(c, "lb1", "sgb").get("group_state") == "MASTER", 15, 0.1)
    assert ok, f"{holders(lab, SGA, 'eth0')} {holders(lab, SGB, 'sg0')}\n{c.logs()}"
    e = entry(c, "lb1", "sga")
    assert (e["state"], e["group"], e["group_state"]) == ("MASTER", "sg", "MASTER")
    # One GROUP run per group change, from sga (the first member, the only one with notify).
    assert nl.wait_for(lambda: "GROUP sg MASTER" in notified(sg, "lb1"), 5, 0.1), \
        notified(sg, "lb1")
    assert notified(sg, "lb1").count("GROUP sg MASTER") == 1
    assert "INSTANCE sga MASTER 150" in notified(sg, "lb1")
    assert "GROUP sg BACKUP" in notified(sg, "lb2")

    # lb1's sg0 down: sgb FAULT by its link, sga FAULT with it; both move to lb2.
    t0 = time.monotonic()
    sg0("lb1", False)
    ok = nl.wait_for(lambda: both_on(lab, "lb2", SGA, SGB), master_down_s(100) + 3, 0.02)
    took = time.monotonic() - t0
    assert ok, f"{holders(lab, SGA, 'eth0')} {holders(lab, SGB, 'sg0')}\n{c.logs()}"
    assert took < master_down_s(100) + 1.5, took
    ok = nl.wait_for(lambda: entry(c, "lb1", "sga").get("state") == "FAULT" and
                     entry(c, "lb1", "sgb").get("state") == "FAULT" and
                     entry(c, "lb1", "sga").get("group_state") == "FAULT" and
                     entry(c, "lb2", "sga").get("group_state") == "MASTER", 5, 0.1)
    assert ok, f"{c.node_status('lb1').get('vrrp')}\n{c.logs('lb1')}"
    assert "sync group sg" in c.agents["lb1"].log(200000)
    assert nl.wait_for(lambda: "GROUP sg FAULT" in notified(sg, "lb1") and
                       "GROUP sg MASTER" in notified(sg, "lb2"), 5, 0.1), notified(sg, "lb2")

    # sg0 back: the group leaves FAULT together, Backup (no preempt); lb2 keeps both.
    sg0("lb1", True)
    ok = nl.wait_for(lambda: entry(c, "lb1", "sga").get("state") == "BACKUP" and
                     entry(c, "lb1", "sgb").get("state") == "BACKUP", 8, 0.1)
    assert ok, f"{c.node_status('lb1').get('vrrp')}\n{c.logs('lb1')}"
    time.sleep(master_down_s(150) + 0.5)
    assert both_on(lab, "lb2", SGA, SGB), c.logs()

    # A holder PUT of one moves both, at once.
    t0 = time.monotonic()
    c.api.put("/vips/sga/holder", {"node": "lb1"}, expect=202)
    ok = nl.wait_for(lambda: both_on(lab, "lb1", SGA, SGB), 5, 0.02)
    assert ok, f"{holders(lab, SGA, 'eth0')} {holders(lab, SGB, 'sg0')}\n{c.logs()}"
    assert time.monotonic() - t0 < 3
    ok = nl.wait_for(lambda: entry(c, "lb2", "sga").get("state") == "BACKUP" and
                     entry(c, "lb2", "sgb").get("state") == "BACKUP", 5, 0.1)
    assert ok, c.logs()
    time.sleep(2)  # no ping-pong afterwards
    assert both_on(lab, "lb1", SGA, SGB), c.logs()
    for v in ("sga", "sgb"):
        c.api.request("DELETE", f"/vips/{v}/holder")
        c.api.delete(f"/vips/{v}", expect=204)
    assert nl.wait_for(lambda: not holders(lab, SGA, "eth0") and not holders(lab, SGB, "sg0"),
                       5, 0.1)


def ka_conf():
    inst = ""
    for name, dev, vrid, addr in (("KA_A", "eth0", 82, SGKA), ("KA_B", "sg0", 83, SGKB)):
        inst += (f"vrrp_instance {name} {{\n    state BACKUP\n    interface {dev}\n"
                 f"    virtual_router_id {vrid}\n    priority 100\n    advert_int 1\n"
                 f"    nopreempt\n    virtual_ipaddress {{\n        {addr}/24\n    }}\n}}\n")
    return ("global_defs {\n    router_id lb3\n    vrrp_version 3\n}\n"
            "vrrp_sync_group SGK {\n    group {\n        KA_A\n        KA_B\n    }\n}\n" + inst)


def test_sync_group_against_keepalived_vrrp_sync_group(sg):
    c, lab, net = sg["c"], sg["lab"], sg["net"]
    members = [("lb1", 150)]
    c.api.put("/vips/sgka", vip_spec(SGKA, "eth0", 82, "sgk", members), expect=(200, 201))
    c.api.put("/vips/sgkb", vip_spec(SGKB, "sg0", 83, "sgk", members), expect=(200, 201))
    assert nl.wait_for(lambda: both_on(lab, "lb1", SGKA, SGKB), 10, 0.1), c.logs("lb1")
    net.keepalived("lb3", ka_conf())

    def logs():
        return f"{c.logs('lb1')}\n=== keepalived lb3 ===\n{net.keepalived_log('lb3')}"

    time.sleep(master_down_s(100) + 0.5)  # keepalived hears lb1 and stays Backup
    assert both_on(lab, "lb1", SGKA, SGKB), logs()

    # lb1's sg0 down: keepalived's group takes both over.
    sg0("lb1", False)
    ok = nl.wait_for(lambda: both_on(lab, "lb3", SGKA, SGKB), master_down_s(100) + 4, 0.05)
    assert ok, f"{holders(lab, SGKA, 'eth0')} {holders(lab, SGKB, 'sg0')}\n{logs()}"
    assert entry(c, "lb1", "sgka").get("state") == "FAULT" or nl.wait_for(
        lambda: entry(c, "lb1", "sgka").get("state") == "FAULT", 3, 0.1), logs()

    # sg0 back: lb1 Backup for both (no preempt), keepalived keeps them.
    sg0("lb1", True)
    ok = nl.wait_for(lambda: entry(c, "lb1", "sgka").get("state") == "BACKUP" and
                     entry(c, "lb1", "sgkb").get("state") == "BACKUP", 8, 0.1)
    assert ok, logs()
    time.sleep(master_down_s(150) + 0.5)
    assert both_on(lab, "lb3", SGKA, SGKB), logs()

    # A holder PUT of one: lb1 takes both, keepalived's whole group steps down.
    c.api.put("/vips/sgka/holder", {"node": "lb1"}, expect=202)
    ok = nl.wait_for(lambda: both_on(lab, "lb1", SGKA, SGKB), 5, 0.02)
    assert ok, f"{holders(lab, SGKA, 'eth0')} {holders(lab, SGKB, 'sg0')}\n{logs()}"
    time.sleep(3)  # and stays so: no ping-pong with keepalived
    assert both_on(lab, "lb1", SGKA, SGKB), logs()
    assert "Syncing instances to BACKUP" in net.keepalived_log("lb3") or \
        "Entering BACKUP STATE" in net.keepalived_log("lb3"), logs()
