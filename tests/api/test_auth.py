"""Authentication (401 + WWW-Authenticate), roles (403), and the /tokens resource."""

import os
import re
import stat

import pytest

from vigiltest import (NO_TOKEN, Client, allow_set, assert_422, assert_problem, node_body, uniq,
                       vip_body)

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@pytest.fixture(scope="module")
def world(admin):
    """Two nodes N and M, a VIP V on both, a backend B, a check C; N's agent is up."""
    n = admin.node()["name"]
    m = admin.node()["name"]
    v = admin.vip(members=[{"node": n, "priority": 200}, {"node": m, "priority": 100}])["name"]
    b = admin.backend(v)["name"]
    c = admin.check(backend=b)["name"]
    agent = admin.mint("agent", node=n)
    r = agent.put(f"/nodes/{n}/status", json={"agent_version": "test"})
    assert r.status_code == 200, r.text
    return {"N": n, "M": m, "V": v, "B": b, "C": c, "agent": agent,
            "viewer": admin.mint("viewer"), "operator": admin.mint("operator")}


def fill(path, w):
    for k in ("N", "M", "V", "B", "C"):
        path = path.replace("{" + k + "}", w[k])
    return path


READ_PATHS = ["/", "/nodes", "/nodes/{N}", "/nodes/{N}/config", "/nodes/{N}/status", "/vips",
              "/vips/{V}", "/vips/{V}/holder", "/backends", "/backends/{B}", "/checks",
              "/checks/{C}", "/events", "/metrics"]


# -- 401 ----------------------------------------------------------------------------------------

def _assert_bearer_challenge(r, invalid):
    assert_problem(r, 401, "unauthorized")
    www = r.headers.get("WWW-Authenticate", "")
    assert www.startswith("Bearer "), www
    assert 'realm="vigil"' in www, www
    if invalid:
        assert 'error="invalid_token"' in www, www
    else:
        assert "error=" not in www, www


@pytest.mark.parametrize("path", READ_PATHS + ["/tokens", "/tokens/bootstrap"])
def test_missing_token_is_401_with_bearer_challenge(admin, world, path):
    r = admin.get(fill(path, world), token=NO_TOKEN)
    _assert_bearer_challenge(r, invalid=False)


def test_unknown_token_is_401_invalid_token(admin, world):
    r = admin.get("/nodes", token="0" * 64)
    _assert_bearer_challenge(r, invalid=True)


def test_wrong_scheme_is_401(admin, world):
    r = admin.get("/nodes", token=NO_TOKEN, headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert_problem(r, 401, "unauthorized")
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer ")


def test_missing_token_on_write_is_401_and_writes_nothing(admin, world):
    name = uniq("anon")
    r = admin.post("/nodes", json=node_body(name), token=NO_TOKEN)
    _assert_bearer_challenge(r, invalid=False)
    assert admin.get(f"/nodes/{name}").status_code == 404


def test_healthz_needs_no_token(admin):
    r = admin.get("/healthz", token=NO_TOKEN)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert isinstance(body["revision"], int)


def test_rels_and_openapi_need_no_token(admin):
    r = admin.get("/rels/failback", token=NO_TOKEN, accept="text/html")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("text/html")
    r = admin.get("/openapi.yaml", token=NO_TOKEN, accept=None)
    assert r.status_code == 200
    assert b"openapi: 3.1" in r.content or b'"openapi": "3.1' in r.content


# -- roles --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["viewer", "operator"])
@pytest.mark.parametrize("path", READ_PATHS)
def test_viewer_and_operator_can_read_everything_but_tokens(world, role, path):
    r = world[role].get(fill(path, world))
    assert r.status_code == 200, f"{role} GET {path}: {r.status_code} {r.text[:300]}"


@pytest.mark.parametrize("role", ["viewer", "operator", "agent"])
@pytest.mark.parametrize("method,path", [("GET", "/tokens"), ("GET", "/tokens/bootstrap"),
                                         ("POST", "/tokens"), ("DELETE", "/tokens/bootstrap")])
def test_only_admin_touches_tokens(world, role, method, path):
    r = world[role].request(method, path, json={"role": "viewer"} if method == "POST" else None)
    assert_problem(r, 403, "forbidden")


WRITES = [
    ("POST", "/nodes", "NODE"),
    ("PUT", "/nodes/{M}", "NODE_M"),
    ("PATCH", "/nodes/{M}", {"labels": {"x": "y"}}),
    ("DELETE", "/nodes/{M}", None),
    ("POST", "/vips", "VIP"),
    ("PATCH", "/vips/{V}", {"preempt": True}),
    ("DELETE", "/checks/{C}", None),
    ("PUT", "/vips/{V}/holder", {"node": "{N}"}),
    ("DELETE", "/vips/{V}/holder", None),
    ("PUT", "/nodes/{N}/status", {"agent_version": "x"}),
]


def _write(client, w, method, path, body):
    path = fill(path, w)
    if body == "NODE":
        body = node_body()
    elif body == "NODE_M":
        body = node_body(w["M"])
    elif body == "VIP":
        body = vip_body()
    elif isinstance(body, dict):
        body = {k: fill(v, w) if isinstance(v, str) else v for k, v in body.items()}
    if method == "PATCH":
        return client.patch(path, json=body)
    return client.request(method, path, json=body)


@pytest.mark.parametrize("method,path,body", WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_viewer_cannot_write(admin, world, method, path, body):
    before = admin.get(fill(path, world)).headers.get("ETag") if method != "POST" else None
    r = _write(world["viewer"], world, method, path, body)
    assert_problem(r, 403, "forbidden")
    if before is not None:
        assert admin.get(fill(path, world)).headers.get("ETag") == before


def test_operator_cannot_put_node_status(world):
    r = world["operator"].put(f"/nodes/{world['N']}/status", json={"agent_version": "x"})
    assert_problem(r, 403, "forbidden")


def test_operator_writes_resources(world):
    op = world["operator"]
    n = op.node()["name"]
    assert op.put(f"/nodes/{n}", json=node_body(n, labels={"a": "b"})).status_code == 200
    assert op.patch(f"/nodes/{n}", json={"labels": {"c": "d"}}).status_code == 200
    v = op.vip(members=[{"node": n, "priority": 100}])["name"]
    b = op.backend(v)["name"]
    c = op.check(backend=b)["name"]
    assert op.delete(f"/checks/{c}").status_code == 204
    assert op.delete(f"/backends/{b}").status_code == 204
    assert op.delete(f"/vips/{v}").status_code == 204
    assert op.delete(f"/nodes/{n}").status_code == 204


def test_operator_moves_vip(world):
    r = world["operator"].put(f"/vips/{world['V']}/holder", json={"node": world["N"]})
    assert r.status_code == 202, r.text
    assert world["operator"].delete(f"/vips/{world['V']}/holder").status_code == 204


def test_agent_reads_own_node_config_status_and_root(world):
    agent, n = world["agent"], world["N"]
    for path in ["/", f"/nodes/{n}", f"/nodes/{n}/config", f"/nodes/{n}/status"]:
        r = agent.get(path)
        assert r.status_code == 200, f"agent GET {path}: {r.status_code} {r.text[:300]}"


def test_agent_puts_own_status(world):
    r = world["agent"].put(f"/nodes/{world['N']}/status", json={"agent_version": "1.2.3"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("path", ["/nodes", "/nodes/{M}", "/nodes/{M}/config", "/nodes/{M}/status",
                                  "/vips", "/vips/{V}", "/vips/{V}/holder", "/backends",
                                  "/backends/{B}", "/checks", "/checks/{C}", "/events",
                                  "/metrics"])
def test_agent_reads_nothing_else(world, path):
    assert_problem(world["agent"].get(fill(path, world)), 403, "forbidden")


@pytest.mark.parametrize("method,path,body", [w for w in WRITES if w[1] != "/nodes/{N}/status"]
                         + [("PUT", "/nodes/{M}/status", {"agent_version": "x"}),
                            ("PUT", "/nodes/{N}", "NODE_N"), ("DELETE", "/nodes/{N}", None)],
                         ids=lambda x: str(x) if not isinstance(x, dict) else "body")
def test_agent_cannot_write_anything_but_its_status(admin, world, method, path, body):
    if body == "NODE_N":
        body = None
        r = world["agent"].put(fill(path, world), json=node_body(world["N"]))
    else:
        r = _write(world["agent"], world, method, path, body)
    assert_problem(r, 403, "forbidden")


def test_admin_may_put_node_status(admin, world):
    r = admin.put(f"/nodes/{world['M']}/status", json={"agent_version": "by-admin"})
    assert r.status_code == 200, r.text


# -- /tokens ------------------------------------------------------------------------------------

def test_token_create_shows_secret_once(admin):
    r = admin.post("/tokens", json={"role": "viewer", "description": "dashboard"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert re.fullmatch(r"[0-9a-f]{64}", body["secret"]), body
    tid = body["id"]
    assert r.headers["Location"] == f"/tokens/{tid}"
    assert body["role"] == "viewer"
    assert body["node"] is None
    assert body["description"] == "dashboard"
    assert RFC3339.match(body["created"]), body["created"]
    assert body["_links"]["self"]["href"] == f"/tokens/{tid}"
    g = admin.get(f"/tokens/{tid}")
    assert g.status_code == 200
    gb = g.json()
    assert "secret" not in gb
    assert {k: gb[k] for k in ("id", "role", "node", "description", "created")} == \
        {k: body[k] for k in ("id", "role", "node", "description", "created")}
    assert body["secret"] not in g.text


def test_token_list_has_no_secrets(admin):
    c = admin.mint("operator")
    r = admin.get("/tokens?limit=500")
    assert r.status_code == 200
    items = r.json()["_embedded"]["tokens"]
    ids = [t["id"] for t in items]
    assert "bootstrap" in ids and c.token_id in ids
    for t in items:
        assert "secret" not in t, t
    assert c.token not in r.text
    assert admin.token not in r.text


def test_bootstrap_token_is_admin(admin):
    r = admin.get("/tokens/bootstrap")
    assert r.status_code == 200
    assert r.json()["role"] == "admin"


def test_new_token_secrets_differ(admin):
    a, b = admin.mint("viewer"), admin.mint("viewer")
    assert a.token != b.token and a.token_id != b.token_id


def test_revoke_takes_effect_at_once(admin):
    v = admin.mint("viewer")
    assert v.get("/nodes").status_code == 200
    r = admin.delete(f"/tokens/{v.token_id}")
    assert r.status_code == 204
    assert r.content == b""
    _assert_bearer_challenge(v.get("/nodes"), invalid=True)
    assert_problem(admin.get(f"/tokens/{v.token_id}"), 404, "not-found")
    assert_problem(admin.delete(f"/tokens/{v.token_id}"), 404, "not-found")


def test_minted_admin_can_mint(admin):
    a2 = admin.mint("admin")
    v = a2.mint("viewer")
    assert v.get("/").status_code == 200


@pytest.mark.parametrize("body,pointer", [
    ({"role": "agent"}, "/node"),
    ({"role": "agent", "node": "no-such-node"}, "/node"),
    ({"role": "viewer", "node": "NODE"}, "/node"),
    ({"role": "root"}, "/role"),
    ({}, "/role"),
    ({"role": 1}, "/role"),
    ({"role": "viewer", "description": "x" * 201}, "/description"),
    ({"role": "viewer", "description": 5}, "/description"),
    ({"role": "viewer", "foo": 1}, "/foo"),
])
def test_token_create_validation_is_422(admin, world, body, pointer):
    body = {k: (world["N"] if v == "NODE" else v) for k, v in body.items()}
    assert_422(admin.post("/tokens", json=body), pointer)


def test_token_description_of_200_chars_is_ok(admin):
    r = admin.post("/tokens", json={"role": "viewer", "description": "d" * 200})
    assert r.status_code == 201, r.text


def test_agent_token_is_bound_to_node(admin, world):
    r = admin.post("/tokens", json={"role": "agent", "node": world["M"]})
    assert r.status_code == 201
    assert r.json()["node"] == world["M"]
    agent_m = Client(admin.server, r.json()["secret"])
    assert agent_m.get(f"/nodes/{world['M']}/config").status_code == 200
    assert_problem(agent_m.get(f"/nodes/{world['N']}/config"), 403, "forbidden")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_token_put_and_patch_are_405(admin, method):
    v = admin.mint("viewer")
    r = admin.request(method, f"/tokens/{v.token_id}", json={"role": "admin"},
                      headers={"Content-Type": "application/merge-patch+json"}
                      if method == "PATCH" else None)
    assert_problem(r, 405, "method-not-allowed")
    assert allow_set(r) == {"GET", "HEAD", "DELETE", "OPTIONS"}


def test_deleting_node_revokes_its_agent_tokens(admin):
    n = admin.node()["name"]
    agent = admin.mint("agent", node=n)
    assert agent.get(f"/nodes/{n}").status_code == 200
    assert admin.delete(f"/nodes/{n}").status_code == 204
    _assert_bearer_challenge(agent.get("/"), invalid=True)
    assert_problem(admin.get(f"/tokens/{agent.token_id}"), 404, "not-found")


# -- bootstrap without VIGIL_ADMIN_TOKEN ---------------------------------------------------------

def test_first_start_without_env_writes_admin_token_file(make_server):
    srv = make_server(admin_token=None)
    path = srv.admin_token_file
    assert path.exists(), os.listdir(path.parent)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(path) in srv.stderr_text() or path.name in srv.stderr_text()
    secret = path.read_text().strip()
    c = Client(srv, secret)
    r = c.get("/tokens")
    assert r.status_code == 200, r.text
    assert r.json()["_embedded"]["tokens"][0]["role"] == "admin"
    _assert_bearer_challenge(c.get("/tokens", token=NO_TOKEN), invalid=False)


def test_env_admin_token_works_after_restart_with_other_secret(make_server):
    srv = make_server()
    first = srv.admin_token
    srv.client().node()
    srv.stop()
    srv.admin_token = "f" * 64
    srv.start()
    assert srv.client().get("/nodes").status_code == 200
    # The bootstrap secret is whatever VIGIL_ADMIN_TOKEN says at start.
    assert srv.client(first).get("/nodes").status_code == 401
