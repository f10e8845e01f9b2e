#!/usr/bin/python3
"""Writes the seed corpora of the fuzz harnesses into tests/fuzz/corpus/<harness>/seed-*.

Run from the repository root after changing a seed; the files are committed. Inputs that a
fuzzer found (crashes turned regression inputs, FUZZ_MERGE=1) live beside them under other names
and are left alone. Each harness's input format is described at the top of its .c file."""

import base64
import json
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(harness, name, data):
    d = os.path.join(ROOT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def cursor(direction, name):
    return base64.urlsafe_b64encode(f"{direction}:{name}".encode()).decode().rstrip("=")


# --- fuzz_http: requests in HTTP/1.1 form, "\n###\n" between requests --------------------------

def req(method, target, body=None, **headers):
    lines = [f"{method} {target}"]
    if body is not None and "Content_Type" not in headers:
        headers["Content_Type"] = ("application/merge-patch+json" if method == "PATCH"
                                   else "application/json")
    for k, v in headers.items():
        lines.append(f"{k.replace('_', '-')}: {v}")
    text = "\n".join(lines) + "\n\n"
    if body is not None:
        text += body if isinstance(body, str) else json.dumps(body)
    return text


def seq(*reqs):
    return "\n###\n".join(reqs)


NODE = {"name": "lb3", "address": "198.18.0.3", "interface": "eth1", "labels": {"rack": "b"},
        "ip_nonlocal_bind": True, "haproxy_socket": "/run/haproxy/admin.sock"}
VIP6 = {"name": "api", "addresses": ["2001:db8::100/64"], "interface": "eth0", "vrid": 52,
        "version": 3, "advert_int_ms": 500, "preempt": True, "preempt_delay_ms": 2000,
        "members": [{"node": "lb1", "priority": 150}, {"node": "lb2", "priority": 100}]}
VIP2 = {"name": "db", "addresses": ["198.18.0.200/24"], "interface": "eth0", "vrid": 60,
        "version": 2, "advert_int_ms": 1000, "auth_pass": "7388",
        "members": [{"node": "lb1", "priority": 100}]}
BACKEND = {"name": "web2", "vip": "web", "address": "198.18.1.2", "port": 8443, "weight": 10,
           "admin_state": "drain", "haproxy_backend": "be_web", "haproxy_server": "web2"}
CHECK_SCRIPT = {"name": "lb1-script", "type": "script", "node": "lb1",
                "script": ["check_haproxy", "--quiet"], "interval_ms": 2000, "timeout_ms": 1000,
                "rise": 2, "fall": 3, "weight": 0}
CHECK_HTTPS = {"name": "web1-https", "type": "https", "backend": "web1", "path": "/",
               "expect_status": 204, "verify_tls": False, "port": 8443}
STATUS = {"agent_version": "0.1.0", "ip_nonlocal_bind": True, "vips_held": ["web"],
          "moves_done": {}, "counters": {},
          "vrrp": {"web": {"state": "MASTER", "priority": 200}},
          "checks": {"lb1-haproxy": {"state": "up", "output": "connected", "at": "2024-01-01T00:00:00Z"}}}

HTTP = {
    "root": req("GET", "/?pretty"),
    "healthz": req("GET", "/healthz", Authorization="-"),
    "openapi": req("GET", "/openapi.yaml", Accept="application/yaml"),
    "rel": req("GET", "/rels/failback", Accept="text/html"),
    "problem": req("GET", "/problems/not-found", Accept="text/html"),
    "ui": req("GET", "/ui/", Authorization="-"),
    "metrics": req("GET", "/metrics", Authorization="viewer"),
    "events": req("GET", "/events?since=0&limit=2"),
    "events-wait": req("GET", "/events?since=3&wait=0"),
    "nodes-page": seq(req("GET", "/nodes?limit=1"),
                      req("GET", f"/nodes?limit=1&cursor={cursor('a', 'lb1')}"),
                      req("GET", f"/nodes?limit=1&cursor={cursor('b', 'lb2')}")),
    "node-post": seq(req("POST", "/nodes", NODE), req("GET", "/nodes/lb3")),
    "node-put": req("PUT", "/nodes/lb3", {k: v for k, v in NODE.items() if k != "name"},
                    If_None_Match="*"),
    "node-patch": req("PATCH", "/nodes/lb1", {"labels": {"rack": None, "row": "7"}}),
    "node-delete-referenced": req("DELETE", "/nodes/lb2"),
    "node-status": seq(req("PUT", "/nodes/lb1/status", STATUS, Authorization="agent"),
                       req("GET", "/nodes/lb1/status", Authorization="agent"),
                       req("GET", "/vips/web")),
    "node-config": seq(req("GET", "/nodes/lb1/config", Authorization="agent"),
                       req("GET", "/nodes/lb1/config", Accept="text/plain")),
    "vip-post": seq(req("POST", "/vips", VIP6), req("POST", "/vips", VIP2),
                    req("GET", "/vips?node=lb1"), req("GET", "/nodes/lb1/config")),
    "vip-patch": seq(req("GET", "/vips/web"),
                     req("PATCH", "/vips/web", {"members": [{"node": "lb2", "priority": 250}],
                                                "preempt": True}),
                     req("PATCH", "/vips/web", {"auth_pass": None, "version": 2})),
    "vip-if-match": req("PUT", "/vips/web", {"addresses": ["198.18.0.101/24"], "interface": "eth0",
                                             "vrid": 51}, If_Match='"0123456789abcdef"'),
    "vip-holder": seq(req("GET", "/vips/web/holder"),
                      req("PUT", "/vips/web/holder", {"node": "lb2"}),
                      req("DELETE", "/vips/web/holder")),
    "backend": seq(req("POST", "/backends", BACKEND), req("GET", "/backends?vip=web"),
                   req("PATCH", "/backends/web1", {"admin_state": "disabled", "weight": 0}),
                   req("DELETE", "/backends/web2")),
    "check": seq(req("POST", "/checks", CHECK_SCRIPT), req("POST", "/checks", CHECK_HTTPS),
                 req("GET", "/checks?node=lb1"), req("GET", "/checks?backend=web1"),
                 req("PATCH", "/checks/web1-http", {"path": "/ready", "rise": 1})),
    "tokens": seq(req("POST", "/tokens", {"role": "agent", "node": "lb2",
                                          "description": "lb2 agent"}),
                  req("GET", "/tokens?limit=2"), req("DELETE", "/tokens/fuzz-viewer"),
                  req("GET", "/nodes", Authorization="viewer")),
    "options-cors": req("OPTIONS", "/vips/web", Origin="https://ui.example"),
    "head-conditional": req("HEAD", "/vips", If_None_Match="*",
                            If_Modified_Since="Mon, 01 Jan 2024 00:00:00 GMT"),
    "forbidden": req("DELETE", "/vips/web", Authorization="viewer"),
    "not-acceptable": req("GET", "/vips", Accept="text/csv;q=1, application/xml;q=0.5"),
    "unsupported": req("POST", "/vips", "name=web", Content_Type="text/plain"),
    "bad-json": req("POST", "/nodes", '{"name":"x","name":"y"}'),
    "delete-all": seq(req("DELETE", "/checks/web1-http"), req("DELETE", "/backends/web1"),
                      req("DELETE", "/checks/lb1-haproxy"), req("DELETE", "/vips/web"),
                      req("DELETE", "/nodes/lb2"), req("GET", "/events?since=0")),
}

HTTP_DICT = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "\n###\n",
             "Content-Type: ", "application/json", "application/merge-patch+json",
             "application/hal+json", "text/plain", "Accept: ", "If-Match: ", "If-None-Match: ",
             "If-Modified-Since: ", "Authorization: ", "Origin: ", "operator", "viewer", "agent",
             "/nodes", "/vips", "/backends", "/checks", "/tokens", "/events", "/config",
             "/status", "/holder", "/metrics", "/healthz", "/rels/", "/problems/", "/ui/",
             "?limit=", "&cursor=", "?since=", "&wait=", "?node=", "?vip=", "?backend=",
             "?pretty", "lb1", "lb2", "web", "web1", "%00", "%2F", "null", "true", "false",
             "{}", "[]", "\"name\":", "\"address\":", "\"interface\":", "\"vrid\":",
             "\"version\":", "\"advert_int_ms\":", "\"preempt\":", "\"preempt_delay_ms\":",
             "\"auth_pass\":", "\"members\":", "\"node\":", "\"priority\":", "\"labels\":",
             "\"ip_nonlocal_bind\":", "\"haproxy_socket\":", "\"vip\":", "\"port\":",
             "\"weight\":", "\"admin_state\":", "\"haproxy_backend\":", "\"haproxy_server\":",
             "\"type\":", "\"backend\":", "\"interval_ms\":", "\"timeout_ms\":", "\"rise\":",
             "\"fall\":", "\"path\":", "\"expect_status\":", "\"verify_tls\":", "\"script\":",
             "\"role\":", "\"description\":", "\"status\":", "\"_links\":", "\"vips_held\":",
             "\"moves_done\":", "\"counters\":", "\"vrrp\":", "\"checks\":", "\"state\":",
             "\"MASTER\"", "\"BACKUP\"", "\"FAULT\"", "\"drain\"", "\"disabled\"", "\"tcp\"",
             "\"http\"", "\"https\"", "\"script\"", "\"admin\"", "\"2001:db8::1/64\"",
             "\"198.18.0.9/24\"", "\"eth0\"", "\\u0000", "1e400", "-0", "18446744073709551616"]


def dict_file(harness, entries):
    path = os.path.join(os.path.dirname(ROOT), harness + ".dict")
    with open(path, "w") as f:
        f.write(f"# libFuzzer dictionary for {harness} (written by seeds.py)\n")
        for e in entries:
            if isinstance(e, str):
                e = e.encode()
            f.write('"' + "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\'
                                  else f"\\x{b:02x}" for b in e) + '"\n')


def main():
    for name, text in HTTP.items():
        write("fuzz_http", name, text)
    dict_file("fuzz_http", HTTP_DICT)
    for fn in EXTRA:
        fn()
    return 0


EXTRA = []  # the other harnesses' writers, registered below


# --- fuzz_validate: a kind/write byte, then the JSON body --------------------------------------

def validate_seeds():
    kinds = {"node": 0, "vip": 1, "backend": 2, "check": 3}
    writes = {"create": 0, "put": 4, "patch": 8}
    bodies = {
        "node": [{k: v for k, v in NODE.items() if k != "name"},
                 {"address": "2001:db8::3", "interface": "bond0.100", "labels": {}}],
        "vip": [{k: v for k, v in VIP6.items() if k != "name"},
                {k: v for k, v in VIP2.items() if k != "name"},
                {"addresses": ["198.18.0.100/24"], "interface": "eth0", "vrid": 51,
                 "members": [{"node": "lb1", "priority": 255}]}],
        "backend": [{k: v for k, v in BACKEND.items() if k != "name"}],
        "check": [{k: v for k, v in CHECK_SCRIPT.items() if k not in ("name", "node")},
                  {k: v for k, v in CHECK_HTTPS.items() if k != "name"},
                  {"type": "tcp", "node": "lb2", "port": 443, "weight": -10}],
    }
    for kind, lst in bodies.items():
        for i, body in enumerate(lst):
            for w in ("create", "put"):
                write("fuzz_validate", f"{kind}-{w}-{i}",
                      bytes([kinds[kind] | writes[w]]) + json.dumps(body).encode())
    patches = {"node": {"labels": {"rack": None, "x": "y"}},
               "vip": {"auth_pass": "secret", "version": 2, "members": None},
               "backend": {"admin_state": "drain", "weight": 256},
               "check": {"rise": 5, "path": None, "expect_status": 301}}
    for kind, body in patches.items():
        write("fuzz_validate", f"{kind}-patch",
              bytes([kinds[kind] | writes["patch"]]) + json.dumps(body).encode())
    dict_file("fuzz_validate", [e for e in HTTP_DICT if e.startswith('"') or e in
                                ("null", "true", "false", "{}", "[]", "1e400", "-0")])


EXTRA.append(validate_seeds)


# --- fuzz_vrrp_packet: flags, 8 password bytes, the VRRP message -------------------------------

def vrrp_seeds():
    # keepalived 2.2.7 captures from tests/unit/test_vrrp_packet.c
    ka = {"v2-pass": (0x04, "2133c8010101dfe7c61200643733383800000000"),
          "v2-pass-prio0": (0x04, "213300010101a7e8c61200643733383800000000"),
          "v3": (0x02, "3133c8010064994dc6120064"),
          "v3-prio0": (0x02, "313300010064614ec6120064"),
          "v3-ipv6": (0x03, "3134960100325cbe20010db8000000000000000000000100"),
          "v3-ipv6-prio0": (0x03, "313400010032f2be20010db8000000000000000000000100")}
    pw = b"7388\0\0\0\0"
    for name, (flags, hexs) in ka.items():
        write("fuzz_vrrp_packet", name, bytes([flags]) + pw + bytes.fromhex(hexs))
    # built as the unit test's round trips build them; the harness fixes the checksum (bit 3)
    v2none = bytes([0x21, 7, 254, 2, 0, 3, 0, 0]) + bytes([198, 18, 1, 1, 198, 18, 1, 2]) + bytes(8)
    write("fuzz_vrrp_packet", "v2-none-2addr", bytes([0x08]) + bytes(8) + v2none)
    v3six = bytes([0x31, 200, 1, 3, 0x0f, 0xff, 0, 0]) + b"".join(
        bytes.fromhex(h) for h in ("fe800000000000000000000000000001",
                                   "20010db8000000000000000000000001",
                                   "20010db800000000000000000000ffff"))
    write("fuzz_vrrp_packet", "v3-ipv6-3addr", bytes([0x0b]) + bytes(8) + v3six)
    write("fuzz_vrrp_packet", "bad-ttl", bytes([0x12]) + bytes(8) + bytes.fromhex(ka["v3"][1]))
    write("fuzz_vrrp_packet", "too-short", bytes([0x02]) + bytes(8) + bytes.fromhex("3133c801"))


EXTRA.append(vrrp_seeds)


# --- fuzz_haproxy: backends and health, then the answers -------------------------------------

INFO = ("Name: HAProxy\nVersion: 2.6.12-1+deb12u1\nRelease_date: 2023/12/16\nNbthread: 2\n"
        "Nbproc: 1\nProcess_num: 1\nPid: 4242\nUptime: 0d 0h01m13s\nUptime_sec: 73\n"
        "Memmax_MB: 0\nPoolAlloc_MB: 0\nMaxsock: 8037\nMaxconn: 4000\nCurrConns: 1\n\n")


def haproxy_seeds():
    backends = [{"name": "web1", "vip": "web", "haproxy_server": "web1", "admin_state": "enabled",
                 "weight": 10},
                {"name": "web2", "vip": "web", "admin_state": "drain"},
                {"name": "web3", "vip": "web", "haproxy_backend": "be_web", "weight": 256,
                 "admin_state": "disabled"},
                {"name": "bad", "vip": "web", "haproxy_server": "x;shutdown"}]
    cfg = json.dumps({"backends": backends, "health": {"web1": "up", "web2": "down"}})
    sep = "\n%%\n"
    write("fuzz_haproxy", "apply", sep.join([cfg, INFO] + ["\n"] * 9))
    write("fuzz_haproxy", "no-such-server",
          sep.join([cfg, INFO, "No such server.\n\n", "Require 'operator' level.\n\n",
                    "Backend not found.\n"]))
    write("fuzz_haproxy", "restart",
          sep.join([cfg, INFO, "\n", "\n", INFO.replace("4242", "4243"), "\n"]))
    write("fuzz_haproxy", "bad-info", sep.join([cfg, "Unknown command.\n", INFO]))
    write("fuzz_haproxy", "info-only", INFO)
    dict_file("fuzz_haproxy", ["\n%%\n", "Pid: ", "Uptime_sec: ", "Name: HAProxy\n",
                               "No such server.\n", "\"admin_state\":", "\"haproxy_backend\":",
                               "\"haproxy_server\":", "\"weight\":", "\"health\":",
                               "\"backends\":", "\"down\"", "\"drain\"", "\"disabled\""])


EXTRA.append(haproxy_seeds)


# --- fuzz_node_config: a node config document ------------------------------------------------
# rendered-* beside these seeds are GET /nodes/{lb1,lb2}/config answers of a vigild with two
# nodes, a v2 and a v3 IPv6 VIP, a backend and three checks, before and after a holder move.

def node_config_seeds():
    vip = {"name": "web", "addresses": ["198.18.0.100/24"], "advert_int_ms": 1000,
           "interface": "eth0", "preempt": True, "preempt_delay_ms": 3000, "version": 2,
           "vrid": 51, "priority": 200, "auth_pass": "7388",
           "peers": [{"node": "lb2", "address": "198.18.0.2", "priority": 100}], "move": None}
    kinds = {
        "v6-no-linklocal": dict(vip, name="v6", addresses=["2001:db8::1/64"], interface="eth2",
                                version=3, advert_int_ms=10),
        "link-down": dict(vip, interface="eth3"),
        "no-such-interface": dict(vip, interface="bond7"),
        "owner": dict(vip, priority=255, move={"id": 2, "target": "lb1"}),
        "move-away": dict(vip, move={"id": 3, "target": "lb2"}),
    }
    for name, v in kinds.items():
        write("fuzz_node_config", name, json.dumps({"node": "lb1", "vips": [v]}))
    many = [dict(vip, name=f"v{i}", vrid=i + 1, addresses=[f"198.18.2.{i + 1}/24"])
            for i in range(66)]
    write("fuzz_node_config", "too-many-vips", json.dumps({"node": "lb1", "vips": many}))
    write("fuzz_node_config", "checks-only", json.dumps({
        "node": "lb1", "backends": [{"name": "b", "address": "::1", "port": 1}],
        "checks": [{"name": "c1", "type": "https", "backend": "b", "port": 8443,
                    "verify_tls": False, "interval_ms": 1, "timeout_ms": 1, "rise": 1, "fall": 1},
                   {"name": "c2", "type": "script", "node": "lb1", "script": ["../x"],
                    "weight": 0},
                   {"name": "c3", "type": "tcp", "node": "lb2", "port": 22}]}))
    dict_file("fuzz_node_config", [e for e in HTTP_DICT if e.startswith('"')] + [
        '"peers":', '"move":', '"target":', '"id":', '"vips":', '"backends":', '"checks":',
        '"eth0"', '"eth2"', '"eth3"', '"lo"', '"lb1"', '"lb2"'])


EXTRA.append(node_config_seeds)


# --- fuzz_cursor and fuzz_merge_patch: small hand-written seeds ----------------------------

def small_seeds():
    write("fuzz_cursor", "after", f"{cursor('a', 'lb1')}\n10\nlb1\n")
    write("fuzz_cursor", "before", f"{cursor('b', 'web')}\n500\n")
    write("fuzz_cursor", "long-name", f"{cursor('a', 'n' * 63)}\n1\n%&=\n")
    dict_file("fuzz_cursor", ["YT", "Yj", "YTo", "Yjo", "\n", "500", "501", "0", "-1", "=="])
    write("fuzz_merge_patch", "rfc7396",
          '{"a":{"b":1,"c":[1,null]},"d":"x"} {"a":{"b":null,"e":{"f":2}},"d":[null],"g":null}')
    write("fuzz_merge_patch", "vip",
          json.dumps(dict(VIP2, members=[{"node": "lb1", "priority": 100}])) + " " +
          json.dumps({"auth_pass": None, "members": [{"node": "lb2"}], "version": 3}))
    write("fuzz_merge_patch", "scalar-patch", '{"a":1} [1,2]')
    dict_file("fuzz_merge_patch", ["null", "true", "false", "{}", "[]", "{\"a\":", "\"\\u0000\"",
                                   "1e400", "-0", " "])


EXTRA.append(small_seeds)

if __name__ == "__main__":
    sys.exit(main())
