"""Notify scripts and track_interfaces (issue 10, scenarios 4 and 5's track_interface), with the
session's agents on lb1 and lb2 and a VIP of their own, `nt` (198.18.0.120/24, vrid 60, VRRPv3,
advert 200 ms, preempt on, lb1 120 / lb2 100) that tracks `trk0`, a veth pair inside each of
lb1 and lb2, and notifies `notify.sh`.

notify.sh logs its start and end with the namespace it runs in and creates a marker file
exclusively while it runs (noclobber), so two runs at once on a node are seen without flock. The
agents kill a notify script after 1.5 s (conftest: --notify-timeout-ms 1500)."""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import netlab as nl

NT = "198.18.0.120"
HANG_ARG = f"300.{os.getpid()}7"  # hang.sh's sleep, unique to this run (pgrep)
NODES2 = ("lb1", "lb2")

NOTIFY_SH = """#!/bin/sh
d={logdir}
ns=$(readlink /proc/self/ns/net | tr -dc 0-9)
m="$d/running.$ns"
if ! (set -C; : > "$m") 2>/dev/null; then echo "$ns OVERLAP $*" >> "$d/log"; fi
echo "$ns start $(date +%s.%N) $*" >> "$d/log"
sleep 0.3
echo "$ns end $(date +%s.%N) $*" >> "$d/log"
rm -f "$m"
echo "notified $*"
"""
HANG_SH = f"#!/bin/sh\necho starting\nsleep {HANG_ARG}\n"
EVIL_SH = "#!/bin/sh\ntouch {logdir}/evil-ran\n"


def _write(path, text, mode=0o755):
    path.write_text(text)
    os.chown(path, 0, 0)
    path.chmod(mode)


@pytest.fixture(scope="module")
def nt(cluster):
    """The VIP nt, trk0 on lb1 and lb2, the scripts; removed at the end."""
    c, lab = cluster, cluster.lab
    c.ensure_steady()  # every agent running
    logdir = Path(tempfile.mkdtemp(prefix="vgnotify-", dir="/tmp"))
    logdir.chmod(0o1777)  # nobody writes the log and its markers
    outside = Path(tempfile.mkdtemp(prefix="vgnotify-out-", dir="/tmp"))
    outside.chmod(0o777)  # not sticky: a script under it is refused
    _write(c.script_dir / "notify.sh", NOTIFY_SH.format(logdir=logdir))
    _write(c.script_dir / "hang.sh", HANG_SH)
    _write(outside / "evil.sh", EVIL_SH.format(logdir=logdir))
    link = c.script_dir / "outside.sh"
    link.unlink(missing_ok=True)
    link.symlink_to(outside / "evil.sh")
    ns_ids = {}
    for h in NODES2:
        nl.nsrun(h, "ip", "link", "add", "trk0", "type", "veth", "peer", "name", "trk0p")
        nl.nsrun(h, "ip", "link", "set", "trk0p", "up")
        nl.nsrun(h, "ip", "link", "set", "trk0", "up")
        ns_ids[nl.nsrun(h, "readlink", "/proc/self/ns/net").stdout.strip().strip("net:[]")] = h
    spec = {"addresses": [f"{NT}/24"], "interface": "eth0", "vrid": 60, "advert_int_ms": 200,
            "preempt": True, "members": [{"node": "lb1", "priority": 120},
                                         {"node": "lb2", "priority": 100}],
            "notify": ["notify.sh"], "track_interfaces": [{"interface": "trk0", "weight": 0}]}
    c.api.put("/vips/nt", spec, expect=(200, 201))
    ok = nl.wait_for(lambda: lab.holders(NT) == ["lb1"] and c.vrrp("lb2", "nt")[0] == "BACKUP",
                     10, 0.1)
    assert ok, f"nt on {lab.holders(NT)}\n{c.logs()}"
    yield {"logdir": logdir, "ns": ns_ids, "c": c, "lab": lab}
    c.api.delete("/vips/nt", expect=204)
    for h in NODES2:
        nl.nsrun(h, "ip", "link", "del", "trk0", check=False)
    for f in ("notify.sh", "hang.sh", "outside.sh"):
        (c.script_dir / f).unlink(missing_ok=True)
    nl.wait_for(lambda: lab.holders(NT) == [], 5, 0.1)
    shutil.rmtree(logdir, ignore_errors=True)
    shutil.rmtree(outside, ignore_errors=True)


def runs(nt, node, after=0.0):
    """notify.sh's log for node: [(kind, t, args)] with kind start|end|OVERLAP."""
    out = []  # from the first start at or after `after`: a run under way then is left out
    p = nt["logdir"] / "log"
    if not p.exists():
        return out
    for line in p.read_text().splitlines():
        parts = line.split()
        if len(parts) < 2 or nt["ns"].get(parts[0]) != node:
            continue
        if parts[1] == "OVERLAP":
            out.append(("OVERLAP", 0.0, parts[2:]))
            continue
        t = float(parts[2])
        if t >= after and (out or parts[1] == "start"):
            out.append((parts[1], t, parts[3:]))
    return out


def transitions(c, node, vip, since_line=0):
    """The agent's logged transitions of vip after line since_line: ["FAULT", "BACKUP", ...]."""
    log = c.agents[node].log(200000).splitlines()[since_line:]
    pat = re.compile(rf"vigil-agent: {vip}: (\w+) -> (\w+) ")
    return [m.group(2) for line in log if (m := pat.search(line))]


def log_len(c, node):
    return len(c.agents[node].log(200000).splitlines())


def notify_status(c, node, vip="nt"):
    return (c.node_status(node).get("notify") or {}).get(vip)


def set_trk(lab, node, up):
    nl.nsrun(node, "ip", "link", "set", "trk0", "up" if up else "down")


def test_flapping_instance_notifies_in_order_never_two_at_once(nt):
    c, lab = nt["c"], nt["lab"]
    mark = log_len(c, "lb1")
    t0 = time.time()
    for _ in range(3):  # 6 transitions on lb1 within ~0.6 s; each run takes 0.3 s
        set_trk(lab, "lb1", False)
        time.sleep(0.1)
        set_trk(lab, "lb1", True)
        time.sleep(0.1)
    assert c.wait_holder(NT, "lb1", 8), lab.holders(NT)  # preempt brings nt back to lb1
    expected = None

    def settled():
        nonlocal expected
        expected = transitions(c, "lb1", "nt", mark)
        r = [x for x in runs(nt, "lb1", t0) if x[0] == "start"]
        ends = [x for x in runs(nt, "lb1", t0) if x[0] == "end"]
        return (len(expected) >= 7 and expected[-1] == "MASTER" and len(r) == len(expected)
                and len(ends) == len(r))

    ok = nl.wait_for(settled, 15, 0.2)
    got = runs(nt, "lb1", t0)
    assert ok, f"transitions {expected}, runs {got}\n{c.logs('lb1')}"
    assert not [x for x in runs(nt, "lb1") if x[0] == "OVERLAP"], got
    # in transition order, each with keepalived's generic arguments
    starts = [x for x in got if x[0] == "start"]
    assert [x[2][2] for x in starts] == expected, (starts, expected)
    assert all(x[2][0] == "INSTANCE" and x[2][1] == "nt" for x in starts), starts
    # one at a time: each run ends before the next starts
    seq = [x[0] for x in got]
    assert seq == ["start", "end"] * len(starts), seq
    for a, b in zip(got[1::2], got[2::2]):
        assert a[1] <= b[1], (a, b)
    st = notify_status(c, "lb1")
    assert st is not None and st["result"] == "exit" and st["exit_status"] == 0, st
    assert st["state"] == expected[-1] and st["output"].startswith("notified INSTANCE nt"), st
    # the VIP shows each member's last run
    vst = c.vip("nt")["status"]
    assert vst["members"]["lb1"]["notify"]["state"] == expected[-1], vst
    assert vst["last_notify"]["node"] in NODES2, vst


def test_hung_notify_is_killed_after_the_timeout(nt):
    c, lab = nt["c"], nt["lab"]
    c.api.patch("/vips/nt", {"notify": ["hang.sh"]})
    time.sleep(1.0)  # the agents apply the config
    t0 = time.monotonic()
    set_trk(lab, "lb1", False)
    ok = nl.wait_for(lambda: (notify_status(c, "lb1") or {}).get("result") == "timeout", 8, 0.1)
    took = time.monotonic() - t0
    st = notify_status(c, "lb1")
    set_trk(lab, "lb1", True)
    assert ok, f"{st}\n{c.logs('lb1')}"
    assert st["state"] == "FAULT" and st["signal"] == 9 and st["exit_status"] is None, st
    assert st["output"] == "starting", st
    assert 1.4 <= st["duration_ms"] / 1000 < 3.0, st
    assert took < 5, took
    time.sleep(0.2)
    ps = subprocess.run(["pgrep", "-f", f"sleep {HANG_ARG}"], capture_output=True, text=True)
    # lb1's is gone with its process group; lb2's run (its BACKUP -> MASTER) may still be on
    # its way to its own timeout
    assert len(ps.stdout.split()) <= 2, ps.stdout
    assert c.wait_holder(NT, "lb1", 8), lab.holders(NT)


def test_notify_outside_the_script_dir_is_refused_and_never_run(nt):
    c, lab = nt["c"], nt["lab"]
    c.api.patch("/vips/nt", {"notify": ["outside.sh"]})
    time.sleep(1.0)
    set_trk(lab, "lb1", False)
    ok = nl.wait_for(lambda: (notify_status(c, "lb1") or {}).get("result") == "refused", 5, 0.1)
    st = notify_status(c, "lb1")
    set_trk(lab, "lb1", True)
    assert ok, f"{st}\n{c.logs('lb1')}"
    assert "refused" in st["output"] and "writable by others" in st["output"], st
    assert st["exit_status"] is None and st["signal"] is None
    assert not (nt["logdir"] / "evil-ran").exists()
    vst = c.vip("nt")["status"]
    assert vst["members"]["lb1"]["notify"]["result"] == "refused", vst
    assert c.wait_holder(NT, "lb1", 8), lab.holders(NT)
    c.api.patch("/vips/nt", {"notify": ["notify.sh"]})


def test_tracked_link_down_faults_with_weight_0(nt):
    c, lab = nt["c"], nt["lab"]
    assert c.wait_holder(NT, "lb1", 8)
    set_trk(lab, "lb1", False)
    assert c.wait_holder(NT, "lb2", 4), lab.holders(NT)
    assert nl.wait_for(lambda: c.vrrp("lb1", "nt")[0] == "FAULT", 3, 0.1)
    st = c.node_status("lb1")
    assert st["vrrp"]["nt"]["track"] == [{"interface": "trk0", "weight": 0, "state": "down"}]
    assert st["last_transition"]["reason"] == "tracked interface trk0 down", st
    assert c.vip("nt")["status"]["members"]["lb1"]["track"][0]["state"] == "down"
    set_trk(lab, "lb1", True)
    assert c.wait_holder(NT, "lb1", 8), lab.holders(NT)  # preempt: link up restores
    assert c.node_status("lb1")["vrrp"]["nt"]["track"][0]["state"] == "up"


def test_tracked_link_down_with_weight_lowers_priority(nt):
    c, lab = nt["c"], nt["lab"]
    c.api.patch("/vips/nt", {"track_interfaces": [{"interface": "trk0", "weight": -50}]})
    assert nl.wait_for(lambda: (c.node_status("lb1")["vrrp"]["nt"].get("track") or [{}])[0]
                       .get("weight") == -50, 5, 0.1)
    assert c.wait_holder(NT, "lb1", 8)
    set_trk(lab, "lb1", False)
    # 120 - 50 = 70 < 100: lb2 preempts; lb1 stays BACKUP, not FAULT
    assert c.wait_holder(NT, "lb2", 4), lab.holders(NT)
    assert nl.wait_for(lambda: c.vrrp("lb1", "nt") == ("BACKUP", 70), 3, 0.1), \
        c.vrrp("lb1", "nt")
    set_trk(lab, "lb1", True)
    assert c.wait_holder(NT, "lb1", 8), lab.holders(NT)
    assert nl.wait_for(lambda: c.vrrp("lb1", "nt") == ("MASTER", 120), 3, 0.1)


def test_sigterm_runs_stop_notifies(nt):
    c, lab = nt["c"], nt["lab"]
    t0 = time.time()
    assert c.term_agent("lb2", timeout=8) == 0
    stops = [x for x in runs(nt, "lb2", t0) if x[0] == "end" and x[2][2] == "STOP"]
    assert stops and stops[-1][2][:2] == ["INSTANCE", "nt"], runs(nt, "lb2", t0)
    c.start_agent("lb2")
    assert nl.wait_for(lambda: c.vrrp("lb2", "nt")[0] == "BACKUP", 8, 0.1)
