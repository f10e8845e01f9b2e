"""CORS for the origins given with --cors-origin: preflight and exposed headers."""

import pytest

from vigiltest import NO_TOKEN, node_body

DASH = "http://dash.example"
OPS = "https://ops.example:8443"
SERVER_ARGS = ("--cors-origin", DASH, "--cors-origin", OPS)


def _list(value):
    return {v.strip().lower() for v in (value or "").split(",") if v.strip()}


@pytest.mark.parametrize("origin", [DASH, OPS])
@pytest.mark.parametrize("path,method", [("/nodes", "POST"), ("/nodes/x", "PUT"),
                                         ("/vips/x/holder", "PUT"), ("/nodes/x", "PATCH")])
def test_preflight_is_204_without_auth(admin, origin, path, method):
    r = admin.options(path, token=NO_TOKEN, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, if-match"})
    assert r.status_code == 204, r.text
    assert r.headers.get("Access-Control-Allow-Origin") == origin
    assert method.lower() in _list(r.headers.get("Access-Control-Allow-Methods"))
    assert {"authorization", "content-type", "if-match", "if-none-match"} <= \
        _list(r.headers.get("Access-Control-Allow-Headers"))
    assert r.headers.get("Access-Control-Max-Age") == "600"
    assert "origin" in _list(r.headers.get("Vary"))


def test_get_with_allowed_origin_exposes_headers(admin):
    n = admin.node()["name"]
    r = admin.get(f"/nodes/{n}", headers={"Origin": DASH})
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") == DASH
    assert {"etag", "link", "location", "last-modified"} <= \
        _list(r.headers.get("Access-Control-Expose-Headers"))
    assert {"accept", "authorization", "origin"} <= _list(r.headers.get("Vary"))


def test_post_with_allowed_origin_exposes_location(admin):
    r = admin.post("/nodes", json=node_body(), headers={"Origin": OPS})
    assert r.status_code == 201
    assert r.headers.get("Access-Control-Allow-Origin") == OPS
    assert "location" in _list(r.headers.get("Access-Control-Expose-Headers"))


def test_error_with_allowed_origin_is_readable(admin):
    r = admin.get("/nodes", token=NO_TOKEN, headers={"Origin": DASH})
    assert r.status_code == 401
    assert r.headers.get("Access-Control-Allow-Origin") == DASH


@pytest.mark.parametrize("origin", ["http://evil.example", "http://dash.example:8080",
                                    "https://dash.example"])
def test_other_origin_gets_no_cors_headers(admin, origin):
    r = admin.get("/nodes", headers={"Origin": origin})
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers
    p = admin.options("/nodes", token=NO_TOKEN, headers={
        "Origin": origin, "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in p.headers


@pytest.mark.parametrize("origin,acrm", [("http://evil.example", "GET"), (DASH, None)],
                         ids=["other-origin", "no-request-method"])
def test_options_that_is_no_allowed_preflight_needs_a_token(admin, origin, acrm):
    """Only a preflight (with Access-Control-Request-Method) from a listed origin skips the
    token; any other OPTIONS is a request like GET: 401 without a token, 403 for a role that may
    not read the resource."""
    headers = {"Origin": origin, "Access-Control-Request-Method": acrm}
    r = admin.options("/tokens", token=NO_TOKEN, headers=headers)
    assert r.status_code == 401, r.text
    assert "Allow" not in r.headers
    viewer = admin.mint("viewer")
    assert viewer.options("/tokens", headers=headers).status_code == 403


def test_no_origin_no_cors_headers(admin):
    r = admin.get("/nodes")
    assert "Access-Control-Allow-Origin" not in r.headers


def test_without_cors_flag_no_cors_headers(make_server):
    srv = make_server()
    c = srv.client()
    r = c.get("/nodes", headers={"Origin": DASH})
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers
    p = c.options("/tokens", token=NO_TOKEN,
                  headers={"Origin": DASH, "Access-Control-Request-Method": "GET"})
    assert p.status_code == 401  # no origin is allowed, so there is no preflight to answer
