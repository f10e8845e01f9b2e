"""The spec checker itself: it must reject what the spec does not allow, or every other test's
spec check would prove nothing."""

import json

import pytest

import spec as specmod


@pytest.fixture(scope="module")
def spec():
    s = specmod.get_spec()
    if s is None:
        pytest.skip("api-spec/openapi.yaml does not exist yet")
    return s


HAL = {"Content-Type": "application/hal+json"}


def test_real_node_response_passes(admin, spec):
    n = admin.node()["name"]
    r = admin.get(f"/nodes/{n}", check_spec=False)
    spec.check("GET", f"/nodes/{n}", r.status_code, r.headers, r.content)


def test_wrong_body_is_rejected(admin, spec):
    n = admin.node()["name"]
    r = admin.get(f"/nodes/{n}", check_spec=False)
    doc = r.json()
    doc["address"] = 12
    with pytest.raises(specmod.SpecError, match="does not match"):
        spec.check("GET", f"/nodes/{n}", 200, r.headers, json.dumps(doc).encode())


def test_undocumented_status_is_rejected(spec):
    with pytest.raises(specmod.SpecError, match="not documented"):
        spec.check("GET", "/nodes/x", 418, HAL, b"")


def test_undocumented_media_type_is_rejected(admin, spec):
    n = admin.node()["name"]
    r = admin.get(f"/nodes/{n}", check_spec=False)
    headers = dict(r.headers)
    headers["Content-Type"] = "text/csv"
    with pytest.raises(specmod.SpecError, match="media type"):
        spec.check("GET", f"/nodes/{n}", 200, headers, b"a,b")


def test_refs_are_resolved(spec):
    """A problem body is checked through #/components references."""
    with pytest.raises(specmod.SpecError):
        spec.check("GET", "/nodes/x", 404, {"Content-Type": "application/problem+json"},
                   b'{"type": 5}')
