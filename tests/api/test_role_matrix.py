"""The role matrix: every route x method x caller gets exactly the status the spec declares.

MATRIX below is the one table. A row is a route template and a method; its cells are the status
each kind of caller gets:

  none         no Authorization header
  revoked      a token that was valid (an admin's) and has been deleted
  agent_self   the agent token of node N, on N's routes (/nodes/N/...)
  agent_other  the same agent token on another node's routes (/nodes/M/...)
  viewer, operator, admin   tokens of those roles

On routes without a node in the path the two agent columns make the same request.

Every method of GET HEAD POST PUT PATCH DELETE OPTIONS that a route does not have is 405 with
`Allow` (generated from the row set, see ROUTE_METHODS): 405 for public routes whatever the token,
but 401 without a valid token on the others, because authentication comes first (as before 404):
an anonymous client learns nothing about a protected route, not even its methods. RFC 9110 leaves
the order of these checks to the server (15.5.2, 15.5.6); the spec's introduction states ours.

test_matrix_covers_the_spec and test_matrix_agrees_with_spec_roles check the table against
api-spec/openapi.yaml (`security` and `x-roles` of each operation), so that the table, the spec
and the server cannot drift apart.
"""

import pytest

from vigiltest import (NO_TOKEN, Client, allow_set, assert_problem, backend_body, node_body,
                       uniq, vip_body)
import spec as specmod

# The nodes' agents must stay up through the module for holder moves to be accepted.
SERVER_ARGS = ("--agent-timeout", "3600")

COLUMNS = ("none", "revoked", "agent_self", "agent_other", "viewer", "operator", "admin")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

# fmt: off
#                                          none revoked self other viewer operator admin
MATRIX = {
    ("/",                      "GET"):     (401, 401,   200, 200,  200,   200,     200),
    ("/",                      "HEAD"):    (401, 401,   200, 200,  200,   200,     200),
    ("/",                      "OPTIONS"): (401, 401,   204, 204,  204,   204,     204),
    ("/healthz",               "GET"):     (200, 200,   200, 200,  200,   200,     200),
    ("/healthz",               "HEAD"):    (200, 200,   200, 200,  200,   200,     200),
    ("/healthz",               "OPTIONS"): (204, 204,   204, 204,  204,   204,     204),
    ("/openapi.yaml",          "GET"):     (200, 200,   200, 200,  200,   200,     200),
    ("/openapi.yaml",          "HEAD"):    (200, 200,   200, 200,  200,   200,     200),
    ("/openapi.yaml",          "OPTIONS"): (204, 204,   204, 204,  204,   204,     204),
    ("/ui",                    "GET"):     (308, 308,   308, 308,  308,   308,     308),
    ("/ui",                    "HEAD"):    (308, 308,   308, 308,  308,   308,     308),
    ("/ui",                    "OPTIONS"): (204, 204,   204, 204,  204,   204,     204),
    ("/ui/",                   "GET"):     (200, 200,   200, 200,  200,   200,     200),
    ("/ui/",                   "HEAD"):    (200, 200,   200, 200,  200,   200,     200),
    ("/ui/",                   "OPTIONS"): (204, 204,   204, 204,  204,   204,     204),
    ("/ui/{file}",             "GET"):     (200, 200,   200, 200,  200,   200,     200),
    ("/ui/{file}",             "HEAD"):    (200, 200,   200, 200,  200,   200,     200),
    ("/ui/{file}",             "OPTIONS"): (204, 204,   204, 204,  204,   204,     204),
    ("/rels/{rel}",            "GET"):     (200, 200,   200, 200,  200,   200,     200),
    ("/rels/{rel}",            "HEAD"):    (200, 200,   200, 200,  200,   200,     200),
    ("/rels/{rel}",            "OPTIONS"): (204, 204,   204, 204,  204,   204,     204),
    ("/problems/{slug}",       "GET"):     (200, 200,   200, 200,  200,   200,     200),
    ("/problems/{slug}",       "HEAD"):    (200, 200,   200, 200,  200,   200,     200),
    ("/problems/{slug}",       "OPTIONS"): (204, 204,   204, 204,  204,   204,     204),
    ("/metrics",               "GET"):     (401, 401,   403, 403,  200,   200,     200),
    ("/metrics",               "HEAD"):    (401, 401,   403, 403,  200,   200,     200),
    ("/metrics",               "OPTIONS"): (401, 401,   403, 403,  204,   204,     204),
    ("/events",                "GET"):     (401, 401,   403, 403,  200,   200,     200),
    ("/events",                "HEAD"):    (401, 401,   403, 403,  200,   200,     200),
    ("/events",                "OPTIONS"): (401, 401,   403, 403,  204,   204,     204),
    ("/nodes",                 "GET"):     (401, 401,   403, 403,  200,   200,     200),
    ("/nodes",                 "HEAD"):    (401, 401,   403, 403,  200,   200,     200),
    ("/nodes",                 "POST"):    (401, 401,   403, 403,  403,   201,     201),
    ("/nodes",                 "OPTIONS"): (401, 401,   403, 403,  204,   204,     204),
    ("/nodes/{name}",          "GET"):     (401, 401,   200, 403,  200,   200,     200),
    ("/nodes/{name}",          "HEAD"):    (401, 401,   200, 403,  200,   200,     200),
    ("/nodes/{name}",          "PUT"):     (401, 401,   403, 403,  403,   200,     200),
    ("/nodes/{name}",          "PATCH"):   (401, 401,   403, 403,  403,   200,     200),
    ("/nodes/{name}",          "DELETE"):  (401, 401,   403, 403,  403,   204,     204),
    ("/nodes/{name}",          "OPTIONS"): (401, 401,   204, 403,  204,   204,     204),
    ("/nodes/{name}/status",   "GET"):     (401, 401,   200, 403,  200,   200,     200),
    ("/nodes/{name}/status",   "HEAD"):    (401, 401,   200, 403,  200,   200,     200),
    ("/nodes/{name}/status",   "PUT"):     (401, 401,   200, 403,  403,   403,     200),
    ("/nodes/{name}/status",   "OPTIONS"): (401, 401,   204, 403,  204,   204,     204),
    ("/nodes/{name}/config",   "GET"):     (401, 401,   200, 403,  200,   200,     200),
    ("/nodes/{name}/config",   "HEAD"):    (401, 401,   200, 403,  200,   200,     200),
    ("/nodes/{name}/config",   "OPTIONS"): (401, 401,   204, 403,  204,   204,     204),
    ("/vips",                  "GET"):     (401, 401,   403, 403,  200,   200,     200),
    ("/vips",                  "HEAD"):    (401, 401,   403, 403,  200,   200,     200),
    ("/vips",                  "POST"):    (401, 401,   403, 403,  403,   201,     201),
    ("/vips",                  "OPTIONS"): (401, 401,   403, 403,  204,   204,     204),
    ("/vips/{name}",           "GET"):     (401, 401,   403, 403,  200,   200,     200),
    ("/vips/{name}",           "HEAD"):    (401, 401,   403, 403,  200,   200,     200),
    ("/vips/{name}",           "PUT"):     (401, 401,   403, 403,  403,   200,     200),
    ("/vips/{name}",           "PATCH"):   (401, 401,   403, 403,  403,   200,     200),
    ("/vips/{name}",           "DELETE"):  (401, 401,   403, 403,  403,   204,     204),
    ("/vips/{name}",           "OPTIONS"): (401, 401,   403, 403,  204,   204,     204),
    ("/vips/{name}/holder",    "GET"):     (401, 401,   403, 403,  200,   200,     200),
    ("/vips/{name}/holder",    "HEAD"):    (401, 401,   403, 403,  200,   200,     200),
    ("/vips/{name}/holder",    "PUT"):     (401, 401,   403, 403,  403,   202,     202),
    ("/vips/{name}/holder",    "DELETE"):  (401, 401,   403, 403,  403,   204,     204),
    ("/vips/{name}/holder",    "OPTIONS"): (401, 401,   403, 403,  204,   204,     204),
    ("/backends",              "GET"):     (401, 401,   403, 403,  200,   200,     200),
    ("/backends",              "HEAD"):    (401, 401,   403, 403,  200,   200,     200),
    ("/backends",              "POST"):    (401, 401,   403, 403,  403,   201,     201),
    ("/backends",              "OPTIONS"): (401, 401,   403, 403,  204,   204,     204),
    ("/backends/{name}",       "GET"):     (401, 401,   403, 403,  200,   200,     200),
    ("/backends/{name}",       "HEAD"):    (401, 401,   403, 403,  200,   200,     200),
    ("/backends/{name}",       "PUT"):     (401, 401,   403, 403,  403,   200,     200),
    ("/backends/{name}",       "PATCH"):   (401, 401,   403, 403,  403,   200,     200),
    ("/backends/{name}",       "DELETE"):  (401, 401,   403, 403,  403,   204,     204),
    ("/backends/{name}",       "OPTIONS"): (401, 401,   403, 403,  204,   204,     204),
    ("/checks",                "GET"):     (401, 401,   403, 403,  200,   200,     200),
    ("/checks",                "HEAD"):    (401, 401,   403, 403,  200,   200,     200),
    ("/checks",                "POST"):    (401, 401,   403, 403,  403,   201,     201),
    ("/checks",                "OPTIONS"): (401, 401,   403, 403,  204,   204,     204),
    ("/checks/{name}",         "GET"):     (401, 401,   403, 403,  200,   200,     200),
    ("/checks/{name}",         "HEAD"):    (401, 401,   403, 403,  200,   200,     200),
    ("/checks/{name}",         "PUT"):     (401, 401,   403, 403,  403,   200,     200),
    ("/checks/{name}",         "PATCH"):   (401, 401,   403, 403,  403,   200,     200),
    ("/checks/{name}",         "DELETE"):  (401, 401,   403, 403,  403,   204,     204),
    ("/checks/{name}",         "OPTIONS"): (401, 401,   403, 403,  204,   204,     204),
    ("/imports",               "POST"):    (401, 401,   403, 403,  403,   201,     201),
    ("/imports",               "OPTIONS"): (401, 401,   403, 403,  403,   204,     204),
    ("/imports/{id}",          "GET"):     (401, 401,   403, 403,  200,   200,     200),
    ("/imports/{id}",          "HEAD"):    (401, 401,   403, 403,  200,   200,     200),
    ("/imports/{id}",          "OPTIONS"): (401, 401,   403, 403,  204,   204,     204),
    ("/tokens",                "GET"):     (401, 401,   403, 403,  403,   403,     200),
    ("/tokens",                "HEAD"):    (401, 401,   403, 403,  403,   403,     200),
    ("/tokens",                "POST"):    (401, 401,   403, 403,  403,   403,     201),
    ("/tokens",                "OPTIONS"): (401, 401,   403, 403,  403,   403,     204),
    ("/tokens/{id}",           "GET"):     (401, 401,   403, 403,  403,   403,     200),
    ("/tokens/{id}",           "HEAD"):    (401, 401,   403, 403,  403,   403,     200),
    ("/tokens/{id}",           "DELETE"):  (401, 401,   403, 403,  403,   403,     204),
    ("/tokens/{id}",           "OPTIONS"): (401, 401,   403, 403,  403,   403,     204),
}
# fmt: on

ROUTE_METHODS = {}
for (_route, _method) in MATRIX:
    ROUTE_METHODS.setdefault(_route, set()).add(_method)


def _public(route):
    """A route whose GET every caller may do (no authentication at all)."""
    row = MATRIX.get((route, "GET"), MATRIX.get((route, "OPTIONS")))  # /imports has no GET
    return row[COLUMNS.index("none")] < 400


def _full_matrix():
    """MATRIX plus the generated 405 rows: every cell as (route, method, column, status)."""
    cells = []
    for route, methods in ROUTE_METHODS.items():
        for method in METHODS:
            row = MATRIX.get((route, method))
            if row is None:
                row = (405,) * 7 if _public(route) else (401, 401) + (405,) * 5
            cells += [(route, method, col, st) for col, st in zip(COLUMNS, row)]
    return cells


CELLS = _full_matrix()


# -- the world the cells act on -------------------------------------------------------------


@pytest.fixture(scope="module")
def world(admin):
    """Nodes lb1 and lb2 (lb1's agent up), VIP vip1 on both, backend be1, check chk1, and a
    client per column. lb1's agent is "agent_self" on lb1's routes and "agent_other" on lb2's."""
    for n in ("lb1", "lb2"):
        admin.node(n)
    admin.vip("vip1", members=[{"node": "lb1", "priority": 200},
                               {"node": "lb2", "priority": 100}])
    admin.backend("vip1", "be1")
    admin.check("chk1", backend="be1")
    agent = admin.mint("agent", node="lb1")
    assert agent.put("/nodes/lb1/status", json={"agent_version": "matrix"}).status_code == 200
    r = admin.request("POST", "/imports?node=lb1", data=b"",  # /imports/1: nothing to import
                      headers={"Content-Type": "text/plain"})
    assert r.status_code == 201 and r.headers["Location"] == "/imports/1"
    revoked = admin.mint("admin")
    assert admin.delete(f"/tokens/{revoked.token_id}").status_code == 204
    return {
        "admin": admin,
        "clients": {
            "none": Client(admin.server, NO_TOKEN),
            "revoked": revoked,
            "agent_self": agent,
            "agent_other": agent,
            "viewer": admin.mint("viewer"),
            "operator": admin.mint("operator"),
            "admin": admin,
        },
    }


WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _node_item(w, method, col, client):
    """/nodes/{name}: lb1 (lb2 for agent_other) to read; a fresh node to write, whose own agent
    token is agent_self, so that no cell can hurt lb1 whatever the server lets through."""
    admin = w["admin"]
    if method not in WRITES:
        return client, "/nodes/" + ("lb2" if col == "agent_other" else "lb1"), None
    n = admin.node()["name"]
    if col == "agent_self":
        client = admin.mint("agent", node=n)
    body = {"PUT": node_body(n), "PATCH": {"labels": {"matrix": "yes"}}}.get(method)
    return client, f"/nodes/{n}", body


def _fresh(w, method, read_name, make):
    """(path tail, body) for an item route: read_name to read, make() -> (name, put body, patch
    body) for a fresh item to write."""
    if method not in WRITES:
        return read_name, None
    name, put, patch = make()
    return name, {"PUT": put, "PATCH": patch}.get(method)


def _target(w, route, method, col):
    """(client, path, body) of the cell: a request valid for it, so that its status says who may,
    not what is malformed."""
    admin, client = w["admin"], w["clients"][col]
    node = "lb2" if col == "agent_other" else "lb1"

    def new_vip():
        v = admin.vip(members=[{"node": "lb1", "priority": 100}])["name"]
        return v, vip_body(v, members=[{"node": "lb1", "priority": 100}]), {"preempt": True}

    def new_backend():
        b = admin.backend("vip1")["name"]
        return b, backend_body("vip1", b), {"weight": 5}

    def new_check():
        c = admin.check(backend="be1")["name"]
        return c, {"name": c, "type": "tcp", "backend": "be1"}, {"rise": 2}

    if route == "/nodes/{name}":
        return _node_item(w, method, col, client)
    if route == "/nodes/{name}/status":
        return client, f"/nodes/{node}/status", {"agent_version": "matrix"}
    if route == "/nodes/{name}/config":
        return client, f"/nodes/{node}/config", None
    if route == "/vips/{name}/holder":
        v = new_vip()[0] if method in WRITES else "vip1"
        return client, f"/vips/{v}/holder", {"node": "lb1"}
    items = {
        "/vips/{name}": ("/vips/", "vip1", new_vip),
        "/backends/{name}": ("/backends/", "be1", new_backend),
        "/checks/{name}": ("/checks/", "chk1", new_check),
        "/tokens/{id}": ("/tokens/", w["clients"]["viewer"].token_id,
                         lambda: (admin.mint("viewer").token_id, None, None)),
    }
    if route in items:
        prefix, read_name, make = items[route]
        name, body = _fresh(w, method, read_name, make)
        return client, prefix + name, body
    creates = {
        "/nodes": lambda: node_body(),
        "/vips": lambda: vip_body(),
        "/backends": lambda: backend_body("vip1"),
        "/checks": lambda: {"name": uniq("chk"), "type": "tcp", "backend": "be1"},
        "/tokens": lambda: {"role": "viewer"},
    }
    if route == "/imports":
        return client, "/imports?node=lb1", b"" if method == "POST" else None
    if route in creates:
        return client, route, creates[route]() if method == "POST" else None
    fixed = {"/imports/{id}": "/imports/1", "/ui/{file}": "/ui/app.js", "/rels/{rel}": "/rels/failback",
             "/problems/{slug}": "/problems/forbidden"}
    return client, fixed.get(route, route), None


def _send(client, method, path, body):
    headers = None
    if method == "PATCH":
        headers = {"Content-Type": "application/merge-patch+json"}
    if isinstance(body, bytes):  # a keepalived.conf
        return client.request(method, path, data=body, headers={"Content-Type": "text/plain"})
    if body is None and method in ("POST", "PUT", "PATCH"):
        body = {}  # a 405 cell: the method is refused before the body is read
    return client.request(method, path, json=body, headers=headers,
                          accept=_ACCEPT.get(path, "*/*"))


_ACCEPT = {"/openapi.yaml": "application/yaml", "/rels/failback": "text/html",
           "/problems/forbidden": "text/html", "/metrics": "text/plain"}


def _admin_etag(w, path):
    """The ETag an admin's GET of path gets (None when the GET is not a 200): a refused write
    must leave it as it was."""
    r = w["admin"].get(path, accept=_ACCEPT.get(path, "*/*"))
    return r.headers.get("ETag") if r.status_code == 200 else None


def _cell_id(cell):
    route, method, col, status = cell
    return f"{method} {route} {col} {status}"


@pytest.mark.parametrize("route,method,col,status", CELLS, ids=[_cell_id(c) for c in CELLS])
def test_role_matrix(world, route, method, col, status):
    client, path, body = _target(world, route, method, col)
    refused_write = method in WRITES and status >= 400 and path != "/metrics"
    before = _admin_etag(world, path) if refused_write else None
    r = _send(client, method, path, body)
    what = f"{col} {method} {path}"
    assert r.status_code == status, f"{what}: want {status}, got {r.status_code}: {r.text[:400]}"
    if refused_write:
        assert _admin_etag(world, path) == before, f"{what} was refused but changed {path}"
    if status == 401:
        assert_problem(r, 401, "unauthorized")
        www = r.headers.get("WWW-Authenticate", "")
        assert www.startswith("Bearer ") and 'realm="vigil"' in www, f"{what}: {www!r}"
        assert ('error="invalid_token"' in www) == (col == "revoked"), f"{what}: {www!r}"
    elif status == 403:
        assert_problem(r, 403, "forbidden")
    elif status == 405:
        assert_problem(r, 405, "method-not-allowed")
        assert allow_set(r) == ROUTE_METHODS[route], f"{what}: Allow {r.headers.get('Allow')}"
    elif status == 204 and method == "OPTIONS":
        assert allow_set(r) == ROUTE_METHODS[route], f"{what}: Allow {r.headers.get('Allow')}"


# -- the table against the spec ---------------------------------------------------------------

# What each column needs in an operation's x-roles to succeed (the spec's vocabulary: `agent` is
# any agent token, `node-agent` the agent of the node named in the path).
COLUMN_ROLES = {
    "agent_self": {"agent", "node-agent"},
    "agent_other": {"agent"},
    "viewer": {"viewer"},
    "operator": {"operator"},
    "admin": {"admin"},
}


def _spec_operations():
    doc = specmod.get_spec().doc
    for path, item in doc["paths"].items():
        for m in METHODS:
            op = item.get(m.lower())
            if op is not None:
                yield path, m, op


def test_matrix_covers_the_spec():
    """The table has a row for every operation of the spec, and no row the spec lacks (so that
    the 405 rows, generated from the table, are the spec's missing methods)."""
    spec_ops = {(p, m) for p, m, _ in _spec_operations()}
    assert spec_ops - set(MATRIX) == set(), "operations of the spec missing from MATRIX"
    assert set(MATRIX) - spec_ops == set(), "MATRIX rows that the spec has no operation for"


@pytest.mark.parametrize("path,method", sorted((p, m) for p, m, _ in _spec_operations()))
def test_matrix_agrees_with_spec_roles(path, method):
    """A row agrees with the operation's declared security: `security: []` (public) is the
    success status in every column; otherwise no token or a revoked one is 401, and a role column
    succeeds exactly when `x-roles` lets it (else 403), with every status documented."""
    op = next(o for p, m, o in _spec_operations() if (p, m) == (path, method))
    row = dict(zip(COLUMNS, MATRIX[(path, method)]))
    documented = set((op.get("responses") or {}).keys())
    ok = {s for s in row.values() if s < 400}
    assert len(ok) <= 1, f"{method} {path}: more than one success status {ok}"
    for s in set(row.values()):
        assert str(s) in documented, f"{method} {path}: {s} not documented in the spec"
    if op.get("security") == []:
        assert "x-roles" not in op, f"{method} {path}: a public operation with x-roles"
        assert set(row.values()) == ok, f"{method} {path} is public in the spec: {row}"
        return
    roles = op.get("x-roles")
    assert isinstance(roles, list) and roles, f"{method} {path}: no x-roles in the spec"
    assert set(roles) <= {"admin", "operator", "viewer", "agent", "node-agent"}, roles
    assert row["none"] == 401 and row["revoked"] == 401, f"{method} {path}: {row}"
    for col, needs in COLUMN_ROLES.items():
        want_ok = bool(needs & set(roles))
        assert (row[col] < 400) == want_ok and (want_ok or row[col] == 403), \
            f"{method} {path}: {col} is {row[col]} but x-roles is {roles}"
