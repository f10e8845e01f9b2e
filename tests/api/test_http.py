"""HTTP-level behaviour shared by every resource: negotiation, body limits, methods, HEAD, OPTIONS,
?pretty and malformed JSON (CONTRACT "Media types and errors")."""

import json

import pytest

from vigiltest import (allow_set, assert_problem, media_type, node_body, raw_head,
                       raw_request, uniq)

ONE_MIB = 1048576


@pytest.fixture(scope="module")
def node(admin):
    return admin.node()


# -- content negotiation ----------------------------------------------------------------------

def test_get_without_accept_is_hal_json(admin, node):
    r = admin.get(f"/nodes/{node['name']}", accept=None)
    assert r.status_code == 200
    assert media_type(r) == "application/hal+json"


@pytest.mark.parametrize("accept", ["*/*", "application/*", "application/hal+json",
                                    "text/html, application/*;q=0.1"])
def test_get_with_acceptable_accept_is_hal_json(admin, node, accept):
    r = admin.get(f"/nodes/{node['name']}", accept=accept)
    assert r.status_code == 200, r.text
    assert media_type(r) == "application/hal+json"


def test_accept_application_json_gets_same_body_as_json(admin, node):
    hal = admin.get(f"/nodes/{node['name']}")
    plain = admin.get(f"/nodes/{node['name']}", accept="application/json")
    assert plain.status_code == 200
    assert media_type(plain) == "application/json"
    assert plain.json() == hal.json()


def test_accept_q_values_are_honoured(admin, node):
    r = admin.get(f"/nodes/{node['name']}",
                  accept="application/json;q=0.9, application/hal+json;q=0.5")
    assert media_type(r) == "application/json"
    r = admin.get(f"/nodes/{node['name']}",
                  accept="application/json;q=0.2, application/hal+json;q=0.8")
    assert media_type(r) == "application/hal+json"


def test_accept_q_zero_excludes_type(admin, node):
    r = admin.get(f"/nodes/{node['name']}", accept="application/hal+json;q=0, */*;q=0.1")
    assert r.status_code == 200
    assert media_type(r) == "application/json"


@pytest.mark.parametrize("accept", ["text/html", "image/png, text/*",
                                    "application/hal+json;q=0, application/json;q=0"])
def test_unacceptable_accept_is_406(admin, node, accept):
    r = admin.get(f"/nodes/{node['name']}", accept=accept)
    assert_problem(r, 406, "not-acceptable")


def test_unacceptable_accept_on_collection_is_406(admin):
    assert_problem(admin.get("/nodes", accept="text/csv"), 406, "not-acceptable")


# -- request body media types -------------------------------------------------------------------

def test_post_with_text_plain_body_is_415(admin):
    r = admin.post("/nodes", data=json.dumps(node_body()).encode(),
                   headers={"Content-Type": "text/plain"})
    assert_problem(r, 415, "unsupported-media-type")


def test_post_without_content_type_is_415(admin):
    r = admin.post("/nodes", data=json.dumps(node_body()).encode())
    assert_problem(r, 415, "unsupported-media-type")


def test_post_with_hal_json_content_type_is_accepted(admin):
    body = node_body()
    r = admin.post("/nodes", data=json.dumps(body).encode(),
                   headers={"Content-Type": "application/hal+json"})
    assert r.status_code == 201, r.text


def test_post_with_json_charset_parameter_is_accepted(admin):
    body = node_body()
    r = admin.post("/nodes", data=json.dumps(body).encode(),
                   headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text


def test_patch_with_application_json_is_415_with_accept_patch(admin, node):
    r = admin.request("PATCH", f"/nodes/{node['name']}", json={"labels": {}})
    assert_problem(r, 415, "unsupported-media-type")
    assert "application/merge-patch+json" in r.headers.get("Accept-Patch", "")


# -- size limits --------------------------------------------------------------------------------

def _padded_node(total):
    """A valid node body padded with spaces to exactly total bytes."""
    b = json.dumps(node_body()).encode()
    return b[:-1] + b" " * (total - len(b)) + b"}"


def test_body_over_1mib_is_413(server):
    body = _padded_node(ONE_MIB + 1)
    head = raw_head(server, "POST", "/nodes", {"Content-Type": "application/json"},
                    body_len=len(body))
    r = raw_request(server, head, body)
    assert_problem(r, 413, "payload-too-large")


def test_body_over_1mib_with_expect_100_continue_is_413(server):
    body = _padded_node(2 * ONE_MIB)
    head = raw_head(server, "POST", "/nodes",
                    {"Content-Type": "application/json", "Expect": "100-continue"},
                    body_len=len(body))
    r = raw_request(server, head, body, wait_100=True)
    assert_problem(r, 413, "payload-too-large")


def test_chunked_body_over_1mib_is_413(server):
    payload = _padded_node(ONE_MIB + 4096)
    chunks = b""
    for i in range(0, len(payload), 32768):
        part = payload[i:i + 32768]
        chunks += b"%x\r\n" % len(part) + part + b"\r\n"
    chunks += b"0\r\n\r\n"
    head = raw_head(server, "POST", "/nodes", {"Content-Type": "application/json",
                                               "Transfer-Encoding": "chunked"})
    r = raw_request(server, head, chunks)
    assert_problem(r, 413, "payload-too-large")


def test_body_of_exactly_1mib_is_not_413(admin):
    body = _padded_node(ONE_MIB)
    assert len(body) == ONE_MIB
    r = admin.post("/nodes", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text[:500]


def test_request_target_over_4096_is_414(admin):
    path = "/nodes/" + "a" * (4097 - len("/nodes/"))
    assert len(path) == 4097
    assert_problem(admin.get(path), 414, "uri-too-long")


def test_request_target_of_4096_is_not_414(admin):
    path = "/nodes/" + "a" * (4096 - len("/nodes/"))
    # A name longer than 63 characters cannot exist: 404.
    assert_problem(admin.get(path), 404, "not-found")


# -- methods ------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["FOO", "BREW", "TRACE", "PROPFIND"])
def test_unknown_method_is_501(server, method):
    r = raw_request(server, raw_head(server, method, "/nodes"))
    assert_problem(r, 501, "not-implemented", instance="/nodes")


@pytest.mark.parametrize("method,path,allowed", [
    ("DELETE", "/nodes", {"GET", "HEAD", "POST", "OPTIONS"}),
    ("PUT", "/vips", {"GET", "HEAD", "POST", "OPTIONS"}),
    ("POST", "/", {"GET", "HEAD", "OPTIONS"}),
    ("POST", "/events", {"GET", "HEAD", "OPTIONS"}),
    ("DELETE", "/healthz", {"GET", "HEAD", "OPTIONS"}),
    ("PATCH", "/tokens", {"GET", "HEAD", "POST", "OPTIONS"}),
])
def test_known_method_not_allowed_on_collection_is_405_with_allow(admin, method, path, allowed):
    r = admin.request(method, path, json={} if method in ("PUT", "PATCH", "POST") else None)
    assert_problem(r, 405, "method-not-allowed")
    assert allow_set(r) == allowed


def test_post_to_item_is_405_with_allow(admin, node):
    r = admin.post(f"/nodes/{node['name']}", json=node_body())
    assert_problem(r, 405, "method-not-allowed")
    assert allow_set(r) == {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}


def test_patch_node_status_is_405_with_allow(admin, node):
    r = admin.patch(f"/nodes/{node['name']}/status", json={})
    assert_problem(r, 405, "method-not-allowed")
    assert allow_set(r) == {"GET", "HEAD", "PUT", "OPTIONS"}


def test_put_node_config_is_405_with_allow(admin, node):
    r = admin.put(f"/nodes/{node['name']}/config", json={})
    assert_problem(r, 405, "method-not-allowed")
    assert allow_set(r) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("path,allowed", [
    ("/", {"GET", "HEAD", "OPTIONS"}),
    ("/nodes", {"GET", "HEAD", "POST", "OPTIONS"}),
    ("/vips", {"GET", "HEAD", "POST", "OPTIONS"}),
    ("/backends", {"GET", "HEAD", "POST", "OPTIONS"}),
    ("/checks", {"GET", "HEAD", "POST", "OPTIONS"}),
    ("/tokens", {"GET", "HEAD", "POST", "OPTIONS"}),
    ("/events", {"GET", "HEAD", "OPTIONS"}),
    ("/metrics", {"GET", "HEAD", "OPTIONS"}),
    ("/nodes/any-name", {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}),
    ("/vips/any-name", {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}),
    ("/backends/any-name", {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}),
    ("/checks/any-name", {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}),
    ("/vips/any-name/holder", {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}),
    ("/nodes/any-name/status", {"GET", "HEAD", "PUT", "OPTIONS"}),
    ("/nodes/any-name/config", {"GET", "HEAD", "OPTIONS"}),
    ("/tokens/any-id", {"GET", "HEAD", "DELETE", "OPTIONS"}),
])
def test_options_is_204_with_allow(admin, path, allowed):
    r = admin.options(path)
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert allow_set(r) == allowed


# -- HEAD ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/nodes", "/healthz", "NODE"])
def test_head_has_get_headers_and_no_body(admin, node, path):
    if path == "NODE":
        path = f"/nodes/{node['name']}"
    g = admin.get(path)
    h = admin.head(path)
    assert h.status_code == 200 == g.status_code
    assert h.content == b""
    assert h.headers.get("Content-Type") == g.headers.get("Content-Type")
    assert h.headers.get("ETag") == g.headers.get("ETag")
    if "Content-Length" in h.headers:
        assert h.headers["Content-Length"] == str(len(g.content))


def test_head_of_missing_is_404_without_body(admin):
    r = admin.head(f"/nodes/{uniq('missing')}")
    assert r.status_code == 404
    assert r.content == b""


# -- ?pretty, unknown paths, cache headers ------------------------------------------------------

def test_pretty_indents_same_document(admin, node):
    compact = admin.get(f"/nodes/{node['name']}")
    pretty = admin.get(f"/nodes/{node['name']}?pretty")
    assert pretty.status_code == 200
    assert b"\n  " in pretty.content or b"\n\t" in pretty.content
    assert b"\n" not in compact.content.strip()
    assert pretty.json() == compact.json()


def test_pretty_on_collection(admin, node):
    r = admin.get("/nodes?pretty")
    assert r.status_code == 200
    assert r.content.count(b"\n") > 5


def test_unknown_path_is_404_problem(admin):
    assert_problem(admin.get("/nope"), 404, "not-found")
    assert_problem(admin.get("/nodes/x/nope"), 404, "not-found")


def test_get_of_bad_name_is_404(admin):
    assert_problem(admin.get("/nodes/Bad_Name"), 404, "not-found")
    assert_problem(admin.get("/vips/-x"), 404, "not-found")


@pytest.mark.parametrize("path", ["/", "/nodes", "NODE", "NODE/status", "NODE/config",
                                  "/events", "/tokens", "/vips", "/backends", "/checks"])
def test_200_get_has_cache_headers(admin, node, path):
    if path.startswith("NODE"):
        path = f"/nodes/{node['name']}" + path[4:]
    r = admin.get(path)
    assert r.status_code == 200, r.text
    assert r.headers.get("ETag", "").startswith('"'), f"no ETag on GET {path}"
    assert r.headers.get("Last-Modified"), f"no Last-Modified on GET {path}"
    assert r.headers.get("Cache-Control") == "no-cache", r.headers.get("Cache-Control")
    vary = {v.strip().lower() for v in r.headers.get("Vary", "").split(",")}
    assert {"accept", "authorization"} <= vary, r.headers.get("Vary")


# -- malformed JSON -----------------------------------------------------------------------------

def _malformed_cases():
    good = json.dumps(node_body(name="mal"))
    deep = '{"name":"deep","address":"198.18.9.9","interface":"eth0","labels":' + \
        '{"a":' * 12 + '"x"' + "}" * 12 + "}"
    deep_arr = '{"name":"deep","address":"198.18.9.9","interface":"eth0","labels":{"a":' + \
        "[" * 12 + "]" * 12 + "}}"
    return [
        ("syntax-error", b'{"name": "x", "address": '),
        ("unquoted-key", b'{name: "x"}'),
        ("empty-body", b""),
        ("duplicate-keys", b'{"name":"dup","name":"dup2","address":"198.18.1.1",'
                           b'"interface":"eth0"}'),
        ("nul-in-string", b'{"name":"nul","address":"198.18.1.1","interface":"eth0",'
                          b'"labels":{"k":"a\\u0000b"}}'),
        ("nul-in-key", b'{"name":"nul","address":"198.18.1.1","interface":"eth0",'
                       b'"labels":{"a\\u0000b":"v"}}'),
        ("invalid-utf8", b'{"name":"utf","address":"198.18.1.1","interface":"eth0",'
                         b'"labels":{"k":"\xff\xfe"}}'),
        ("overlong-utf8", b'{"name":"utf","address":"198.18.1.1","interface":"eth0",'
                          b'"labels":{"k":"\xc0\xaf"}}'),
        ("lone-surrogate", b'{"name":"sur","address":"198.18.1.1","interface":"eth0",'
                           b'"labels":{"k":"\\ud800"}}'),
        ("trailing-garbage", good.encode() + b" xyz"),
        ("two-objects", good.encode() + good.encode()),
        ("nesting-object-12", deep.encode()),
        ("nesting-array-12", deep_arr.encode()),
        ("array", b"[]"),
        ("string", b'"node"'),
        ("number", b"42"),
        ("null", b"null"),
    ]


@pytest.mark.parametrize("case,body", _malformed_cases(), ids=[c[0] for c in _malformed_cases()])
def test_malformed_json_post_is_400(admin, case, body):
    r = admin.post("/nodes", data=body, headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "malformed-json")


@pytest.mark.parametrize("case,body", _malformed_cases()[:12],
                         ids=[c[0] for c in _malformed_cases()[:12]])
def test_malformed_json_put_is_400_and_creates_nothing(admin, case, body):
    name = uniq("mal")
    r = admin.put(f"/nodes/{name}", data=body, headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "malformed-json")
    assert admin.get(f"/nodes/{name}").status_code == 404


def test_malformed_merge_patch_is_400(admin, node):
    r = admin.patch(f"/nodes/{node['name']}", data=b'{"labels": {"a": "b"}')
    assert_problem(r, 400, "malformed-json")
    r = admin.patch(f"/nodes/{node['name']}", data=b'{"labels":{},"labels":{}}')
    assert_problem(r, 400, "malformed-json")


def test_shallow_nesting_is_not_400(admin):
    """Depth 3 (body, labels, value) parses; the result is judged by validation (201)."""
    body = node_body(labels={"a": "b"})
    r = admin.post("/nodes", json=body)
    assert r.status_code == 201, r.text
