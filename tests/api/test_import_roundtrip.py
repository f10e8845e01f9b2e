"""keepalived.conf round trip (issue 11): every file of ../shared/keepalived-corpus that Debian's
keepalived accepts is imported, rendered back (GET /nodes/{name}/config as text/plain), and the
rendering is accepted by keepalived --config-test too and means the same for VRRP: the same vrids,
priorities, addresses, authentication, peers, sync groups and tracked scripts with their weights,
read from both by an independent small reader (kareader.py)."""

import os
import re
import shutil
import subprocess

import pytest

import kareader
from test_imports import CORPUS, FILES, REFUSED, cleanup, post
from vigiltest import uniq

needs_keepalived = pytest.mark.skipif(
    shutil.which("keepalived") is None or shutil.which("unshare") is None
    or subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode != 0,
    reason="needs keepalived and unshare --net (root)")

# keepalived --config-test exits 0 (clean), 5 (problems in the file it works around: unknown
# keywords, scripts it cannot find, values out of range) or 6 (script security): it would run
# with all three. The rendering must be clean: 0 and not a word of output.
ACCEPTED = (0, 5, 6)
# Where keepalived's model is still finer than vigil's (the import reports these as gaps).
GAPS = {}
# @ID lines apply when ID is the node's name: file 15 is node nfs1's.
CONFIG_ID = {"15-nfs-conditional-at-prefix.conf": "nfs1"}


def config_test(text, ifaces, address, config_id, tmp_path, scripts=()):
    """keepalived --config-test -i config_id on text in new network and mount namespaces holding
    ifaces (veth; address on the first) and, under an overlay of /etc, the named scripts as
    stubs in /etc/vigil/scripts (where a rendering points); keepalived runs as PID 1 of a new PID
    namespace (see test_vip_fields.py). Returns the CompletedProcess."""
    conf = tmp_path / f"k{len(list(tmp_path.iterdir()))}.conf"
    conf.write_text(text)
    ovl = tmp_path / f"ovl{len(list(tmp_path.iterdir()))}"
    ovl.mkdir()
    setup = (f"mount -t tmpfs t {ovl} && mkdir {ovl}/up {ovl}/work && mount -t overlay "
             f"overlay -o lowerdir=/etc,upperdir={ovl}/up,workdir={ovl}/work /etc && "
             "mkdir -p /etc/vigil/scripts && ip link set lo up")
    for name in scripts:
        setup += (f" && printf '#!/bin/sh\\nexit 0\\n' > /etc/vigil/scripts/{name}"
                  f" && chmod 755 /etc/vigil/scripts/{name}")
    for i, name in enumerate(sorted(ifaces)):
        setup += f" && ip link add {name} type veth peer name vfp{i} && ip link set {name} up"
        if i == 0:
            setup += f" && ip addr add {address}/16 dev {name}"
    return subprocess.run(
        ["unshare", "--net", "--mount", "sh", "-c", f"{setup} && exec unshare --pid --fork "
         f"keepalived --config-test -i {config_id} -f {conf}"],
        capture_output=True, text=True, timeout=30)


def own_address(text, config_id):
    for kw, args, sub in kareader.tree(text, config_id):
        for k, a, _ in sub if kw == "vrrp_instance" else ():
            if k == "unicast_src_ip" and a and kareader.plain(a[0]):
                return kareader.plain(a[0])
    return "10.9.0.1"


def comparable(s):
    """What must survive: priorities up to 254 (vigil's member range), the addresses with the
    excluded ones (an address of the other family moves there), v2 authentication, peers,
    groups and the weights of the tracked scripts (their names are vigil's)."""
    return {vrid: {"priority": min(i["priority"], 254),
                   "addresses": sorted(i["addresses"] | i["excluded"]),
                   "auth": i["auth"] if i["version"] in (None, "2") else None,
                   "peers": sorted(i["peers"]), "group": i["group"],
                   "weights": sorted(w for _, w in i["scripts"])}
            for vrid, i in s.items()}


@needs_keepalived
@pytest.mark.skipif(not FILES, reason="no corpus")
@pytest.mark.parametrize("name", [
    pytest.param(f, marks=pytest.mark.xfail(reason=GAPS[f], strict=True)) if f in GAPS else f
    for f in FILES if f not in REFUSED])
def test_corpus_file_round_trips_through_keepalived(admin, name, tmp_path):
    text = open(os.path.join(CORPUS, name), "rb").read().decode("utf-8", "replace")
    cid = CONFIG_ID.get(name, "lb")
    own = own_address(text, cid)
    orig = config_test(text, kareader.interfaces(text, cid) or {"eth0"}, own, cid, tmp_path)
    if orig.returncode not in ACCEPTED:
        pytest.skip(f"keepalived refuses the original: {orig.stderr[-300:]}")
    node = cid if cid != "lb" else uniq("lb")
    r = post(admin, node, text.encode(), address=own)
    assert r.status_code == 201, r.text
    try:
        agent = admin.mint("agent", node=node)  # the agent's rendering carries auth_pass
        rendered = agent.get(f"/nodes/{node}/config", accept="text/plain").text
        if os.environ.get("ROUNDTRIP_SHOW"):
            print(rendered)
        res = config_test(rendered, kareader.interfaces(rendered, cid) or {"eth0"}, own, cid,
                          tmp_path, {x["name"] for x in r.json()["scripts"]})
        assert (res.returncode, res.stdout + res.stderr) == (0, ""), \
            f"{res.stdout}\n{res.stderr}\n{rendered}"
        assert comparable(kareader.summary(rendered, cid, own)) == \
            comparable(kareader.summary(text, cid, own)), rendered
    finally:
        cleanup(admin, r.json())
