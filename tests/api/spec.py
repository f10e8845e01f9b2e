"""Checks HTTP responses against api-spec/openapi.yaml (OpenAPI 3.1).

For a response to (method, path) this finds the path template that matches the path, the operation
by method (HEAD falls back to GET, whose responses it shares), the response by status code (then the
`1XX`..`5XX` range, then `default`), the media type by the response's Content-Type (parameters
stripped) and validates a JSON body with a Draft 2020-12 validator (the dialect of OpenAPI 3.1),
resolving `#/components/...` references against the whole spec. A status code the operation does
not document is a failure, as is a JSON body the spec gives no schema for.

jsonschema 4.10 (Debian 12) has no `referencing` package: references go through
jsonschema.RefResolver with the spec as the referrer document.
"""

import json
import re
import warnings
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO / "api-spec" / "openapi.yaml"

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecError(AssertionError):
    """A response that the spec does not allow."""


def _media_type(content_type):
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def is_json_type(mt):
    return mt == "application/json" or mt.endswith("+json")


class Spec:
    """One loaded spec. check() raises SpecError for a non-conforming response."""

    def __init__(self, path=SPEC_PATH):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        if not isinstance(self.doc, dict) or "paths" not in self.doc:
            raise SpecError(f"{path}: not an OpenAPI document (no paths)")
        self.resolver = jsonschema.RefResolver(base_uri="", referrer=self.doc)
        self.templates = []
        for tmpl, item in (self.doc.get("paths") or {}).items():
            regex, literal = self._compile(tmpl)
            self.templates.append((literal, tmpl, regex, item))
        # Most literal characters first, so /nodes/{name}/config beats a more general template.
        self.templates.sort(key=lambda t: -t[0])
        self._validators = {}

    @staticmethod
    def _compile(tmpl):
        parts = re.split(r"(\{[^}/]+\})", tmpl)
        out, literal = "", 0
        for p in parts:
            if p.startswith("{") and p.endswith("}"):
                out += "[^/]+"
            else:
                out += re.escape(p)
                literal += len(p)
        return re.compile("^" + out + "$"), literal

    def deref(self, node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            _, node = self.resolver.resolve(node["$ref"])
            seen += 1
        return node

    def find_path(self, path):
        for _, tmpl, regex, item in self.templates:
            if regex.match(path):
                return tmpl, self.deref(item)
        return None, None

    def find_operation(self, method, path):
        tmpl, item = self.find_path(path)
        if item is None:
            return tmpl, None
        m = method.lower()
        op = item.get(m)
        if op is None and m == "head":
            op = item.get("get")
        return tmpl, op

    def find_response(self, op, status):
        responses = op.get("responses") or {}
        for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
            if key in responses:
                return key, self.deref(responses[key])
        return None, None

    def _validator(self, schema_key, schema):
        v = self._validators.get(schema_key)
        if v is None:
            v = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
            self._validators[schema_key] = v
        return v

    def check(self, method, path, status, headers, body):
        """Raises SpecError unless (status, headers, body) is what the spec allows for method
        on path (path without the query string). body is bytes (empty for none)."""
        where = f"{method} {path} -> {status}"
        tmpl, op = self.find_operation(method, path)
        ct = headers.get("Content-Type", "")
        mt = _media_type(ct)
        if op is None:
            # No operation to look up: allowed only for error answers about the request itself
            # (unknown path 404, method not allowed 405, unknown method 501, auth, limits), and a
            # 204 to OPTIONS when the spec does not describe OPTIONS.
            if status >= 400 or (method.upper() == "OPTIONS" and status == 204):
                if body and is_json_type(mt):
                    self._check_problem_anywhere(where, mt, body)
                return
            raise SpecError(f"{where}: the spec has no operation {method.upper()} "
                            f"{tmpl or path} but the server answered {status}")
        key, resp = self.find_response(op, status)
        if resp is None:
            raise SpecError(f"{where}: status {status} is not documented for "
                            f"{method.upper()} {tmpl} (documented: "
                            f"{sorted((op.get('responses') or {}).keys())})")
        for hname, hdef in (resp.get("headers") or {}).items():
            hdef = self.deref(hdef)
            if hdef.get("required") and hname.lower() != "content-type" and \
                    hname not in headers:
                raise SpecError(f"{where}: required header {hname} (response {key}) missing")
        if method.upper() == "HEAD" or not body:
            return
        content = resp.get("content") or {}
        if not content:
            raise SpecError(f"{where}: response {key} documents no body, but got {ct!r} "
                            f"({len(body)} bytes)")
        media = self._find_media(content, mt)
        if media is None:
            raise SpecError(f"{where}: media type {mt!r} not documented for response {key} "
                            f"(documented: {sorted(content)})")
        if not is_json_type(mt):
            return
        try:
            doc = json.loads(body)
        except ValueError as e:
            raise SpecError(f"{where}: body is not JSON: {e}: {body[:200]!r}") from None
        schema = media.get("schema")
        if schema is None:
            raise SpecError(f"{where}: response {key} {mt} has no schema")
        v = self._validator((tmpl, method.lower(), key, mt), schema)
        errs = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errs:
            msgs = []
            for e in errs[:5]:
                at = "/" + "/".join(str(p) for p in e.absolute_path)
                msgs.append(f"  at {at}: {e.message[:300]} (schema "
                            f"{'/'.join(str(p) for p in e.absolute_schema_path)})")
            raise SpecError(f"{where}: body does not match the spec (response {key}, {mt}):\n"
                            + "\n".join(msgs))

    @staticmethod
    def _find_media(content, mt):
        if mt in content:
            return content[mt]
        # application/json is the same body as application/hal+json (CONTRACT "Media types").
        twins = {"application/json": "application/hal+json",
                 "application/hal+json": "application/json"}
        if mt in twins and twins[mt] in content:
            return content[twins[mt]]
        major = mt.split("/", 1)[0]
        for cand in (major + "/*", "*/*"):
            if cand in content:
                return content[cand]
        return None

    def _check_problem_anywhere(self, where, mt, body):
        """A problem body outside any documented operation: validate against the Problem schema
        when the spec has one in components/schemas."""
        if mt != "application/problem+json":
            raise SpecError(f"{where}: error body with media type {mt!r}, not problem+json")
        schemas = (self.doc.get("components") or {}).get("schemas") or {}
        name = next((n for n in schemas if n.lower() in ("problem", "problemdetails")), None)
        try:
            doc = json.loads(body)
        except ValueError as e:
            raise SpecError(f"{where}: body is not JSON: {e}") from None
        if name is None:
            return
        v = self._validator(("#problem",), {"$ref": f"#/components/schemas/{name}"})
        errs = list(v.iter_errors(doc))
        if errs:
            raise SpecError(f"{where}: problem body does not match components/schemas/{name}: "
                            f"{errs[0].message[:300]}")


_SPEC = None
_WARNED = False


def get_spec():
    """The loaded spec, or None (with one pytest warning) while the file does not exist."""
    global _SPEC, _WARNED
    if _SPEC is not None:
        return _SPEC
    if not SPEC_PATH.exists():
        if not _WARNED:
            _WARNED = True
            warnings.warn(pytest.PytestWarning(
                f"{SPEC_PATH} does not exist yet: responses are NOT checked against the spec"))
        return None
    _SPEC = Spec(SPEC_PATH)
    return _SPEC


def check_response(method, path, status, headers, body):
    """Validates one response against the spec (no-op with a warning while there is no spec)."""
    spec = get_spec()
    if spec is None:
        return
    spec.check(method, path.split("?", 1)[0], status, headers, body)
