"""Issue 11: the classic keepalived pair of the corpus (files 16 and 17: VRRPv2, PASS auth, a
vrrp_script tracked by the instance; master priority 101, backup 100) imported through
POST /imports into the session's nodes lb1 and lb2 becomes one VIP that two real agents serve,
failing over as keepalived does.

The files are read from ../shared/keepalived-corpus at run time. The lab may only use addresses
of its own, so the test changes two values before importing: the VIP 10.1.1.30 becomes
198.18.0.150 and vrid 51 (the session's `ka2`) becomes 61; nothing else of the files is touched.
The script the instance tracks, `/sbin/service haproxy status`, becomes a node check running
`service haproxy status` from the agents' script directory (the report says so); the test
places a `service` there that fails on a node while a marker file for that node's network
namespace exists.

  1. lb1's file, then lb2's: one VIP (instance VI_1), lb1 at 101 and lb2 at 100, version 2, PASS; the
     check moves only this VIP (weight 0: keepalived's FAULT).
  2. The agents elect lb1; lb2 is Backup.
  3. The tracked script fails on lb1: lb1 goes FAULT and lb2 takes the address, as keepalived's
     track_script does; it passes again: lb1 comes back and, preempting as keepalived does by
     default, takes it back.
  4. lb1 powered off: lb2 takes over within its Master_Down_Interval (3 x 1 s + skew)."""

import os
import time
from pathlib import Path

import pytest
import requests

import netlab as nl
from netlab import master_down_s

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "keepalived-corpus"
FILES = {"lb1": "16-classic-pair-haproxy-master.conf", "lb2": "17-classic-pair-haproxy-backup.conf"}
VIP_ADDR = "198.18.0.150"
MARKERS = Path("/tmp/vigil-import-test")
SERVICE_SH = f"""#!/bin/sh
ns=$(readlink /proc/self/ns/net | tr -dc 0-9)
if [ -e {MARKERS}/fail.$ns ]; then echo "haproxy is stopped"; exit 3; fi
echo "haproxy is running"
"""


def lab_file(node):
    """The node's corpus file with the lab's address and a free vrid (nothing else changed)."""
    text = (CORPUS / FILES[node]).read_text()
    assert "10.1.1.30" in text and "virtual_router_id 51" in text
    return text.replace("10.1.1.30", VIP_ADDR).replace("virtual_router_id 51",
                                                       "virtual_router_id 61")


def import_file(c, node, text):
    def do():
        return requests.post(f"{c.base}/imports?node={node}", data=text.encode(),
                             headers={"Authorization": f"Bearer {c.admin_token}",
                                      "Content-Type": "text/plain"}, timeout=10)
    return c.lab.call_in("srv", do)


def ns_inode(node):
    return os.stat(f"/run/netns/{nl.ns_of(node)}").st_ino


def holders(lab):
    return lab.holders(VIP_ADDR, hosts=("lb1", "lb2", "lb3"))


@pytest.fixture
def pair(steady):
    c = steady
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    MARKERS.mkdir(mode=0o755, exist_ok=True)
    script = c.script_dir / "service"
    script.write_text(SERVICE_SH)
    os.chown(script, 0, 0)
    script.chmod(0o755)
    reports = []
    try:
        yield c, reports
    finally:
        for f in MARKERS.glob("fail.*"):
            f.unlink()
        order = {"check": 0, "backend": 1, "vip": 2, "node": 3}
        made = [r for rep in reports for r in rep["resources"] if r["action"] == "created"]
        for r in sorted(made, key=lambda r: order[r["kind"]]):
            c.api.delete(r["_links"]["self"]["href"])
        script.unlink(missing_ok=True)
        nl.wait_for(lambda: holders(c.lab) == [], 5, 0.1)
        for h in nl.NODES:
            c.lab.del_addr(h, VIP_ADDR)
        c.ensure_steady()


def test_classic_pair_imports_into_one_vip_that_fails_over_like_keepalived(pair):
    c, reports = pair
    lab = c.lab
    for node in ("lb1", "lb2"):
        r = import_file(c, node, lab_file(node))
        assert r.status_code == 201, r.text
        reports.append(r.json())
    # lb1's statements: the instance applied, state MASTER noted as not needed, the mail
    # settings not applied; the script named for --script-dir.
    st = {(s["line"], s["keyword"]): s for s in reports[0]["statements"]}
    assert any(k == "state" and s["result"] == "not_applied" for (_, k), s in st.items()), st
    assert any(k == "notification_email" and s["result"] == "not_applied"
               for (_, k), s in st.items()), st
    names = {r["name"] for rep in reports for r in rep["resources"] if r["kind"] == "vip"}
    assert len(names) == 1, reports  # both files' instances became one VIP
    name = names.pop()
    vip = c.api.get(f"/vips/{name}")
    assert vip["version"] == 2 and vip["vrid"] == 61 and vip["addresses"] == [f"{VIP_ADDR}/32"]
    assert vip["preempt"] is True  # keepalived preempts unless nopreempt
    assert sorted((m["node"], m["priority"]) for m in vip["members"]) == [("lb1", 101),
                                                                         ("lb2", 100)]
    assert vip.get("auth_pass") is None or vip["auth_pass"] == "1111"
    checks = [r for rep in reports for r in rep["resources"] if r["kind"] == "check"]
    assert checks, reports
    chk = c.api.get(checks[0]["_links"]["self"]["href"])
    assert chk["type"] == "script" and chk["script"][0] == "service", chk
    assert [v["vip"] for v in chk.get("vips") or [{"vip": name}]] == [name], chk

    # 2. lb1 Master, lb2 Backup.
    ok = nl.wait_for(lambda: holders(lab) == ["lb1"] and c.vrrp("lb2", name)[0] == "BACKUP",
                     master_down_s(100) + 8, 0.1)
    assert ok, (holders(lab), c.vrrp("lb1", name), c.vrrp("lb2", name), c.logs())
    assert lab.holders(nl.WEB) == ["lb1"]

    # 3. The tracked script fails on lb1: FAULT there, lb2 takes over; back, lb1 preempts.
    marker = MARKERS / f"fail.{ns_inode('lb1')}"
    t0 = time.monotonic()
    marker.touch()
    assert nl.wait_for(lambda: holders(lab) == ["lb2"], 2 * 2 + master_down_s(100) + 5, 0.05), \
        (holders(lab), c.vrrp("lb1", name), c.logs("lb1"))
    print(f"\nscript failing on lb1: {VIP_ADDR} on lb2 after {time.monotonic() - t0:.2f} s")
    assert c.vrrp("lb1", name)[0] == "FAULT"
    assert lab.holders(nl.WEB) == ["lb1"]  # the check names VI_1 only
    marker.unlink()
    assert nl.wait_for(lambda: holders(lab) == ["lb1"], 2 * 2 + 5, 0.05), \
        (holders(lab), c.vrrp("lb1", name), c.logs("lb1"))

    # 4. lb1 powered off: lb2 takes over within its Master_Down_Interval.
    t1 = time.monotonic()
    c.power_off("lb1")
    # (a powered-off host keeps its addresses until its reboot flushes them: lb2's is what counts)
    assert nl.wait_for(lambda: "lb2" in holders(lab), master_down_s(100) + 3, 0.02), \
        (holders(lab), c.logs("lb2"))
    took = time.monotonic() - t1
    print(f"lb1 powered off: {VIP_ADDR} on lb2 after {took:.2f} s "
          f"(Master_Down_Interval {master_down_s(100):.2f} s)")
    assert took < master_down_s(100) + 1.0
    c.power_on("lb1")
