"""Fixtures for the black-box API tests.

- `server`: one vigild per test module (own database), VIGIL_ADMIN_TOKEN set to a random secret.
  Stopped with SIGTERM after the module; a non-zero exit or a sanitizer report on stderr fails.
- `admin`: a Client with the bootstrap admin token of `server`. `client.mint(role, node=...)`
  gives Clients of the other roles.
- `make_server(*args, admin_token=..., tls_cert=...)`: more servers (own database) for
  restart/kill tests; stopped and checked at the end of the test.
- After every test, each running server's stderr is scanned for new sanitizer reports, so that the
  report fails the test that caused it.

Env VIGILD names the binary (default build/vigild, relative to the repository root).
Env VIGIL_BACKEND=etcd runs every server on the etcd backend: one three-member etcd lab
(tests/etcd/etcdlab.py) for the session, a fresh key prefix per server. Tests of what only SQLite
has (its file, its schema) are marked `sqlite_only` and skipped there.
"""

import os
import sys

import pytest

import vigiltest
from vigiltest import VigilServer


sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "etcd"))


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(reason): needs the SQLite backend")


def pytest_collection_modifyitems(config, items):
    if vigiltest.BACKEND != "etcd":
        return
    for item in items:
        mark = item.get_closest_marker("sqlite_only")
        if mark is not None:
            reason = mark.kwargs.get("reason") or (mark.args[0] if mark.args else "SQLite only")
            item.add_marker(pytest.mark.skip(reason=f"SQLite backend only: {reason}"))


@pytest.fixture(scope="session", autouse=True)
def etcd_lab(tmp_path_factory):
    """With VIGIL_BACKEND=etcd, a three-member etcd for the whole session (else None)."""
    if vigiltest.BACKEND != "etcd":
        yield None
        return
    from etcdlab import EtcdLab
    # a write of many objects is one txn: allow more operations than etcd's default 128
    lab = EtcdLab(tmp_path_factory.mktemp("etcd"), extra_args=["--max-txn-ops", "8192"])
    lab.start()
    vigiltest.ETCD_ENDPOINTS = lab.endpoints()
    yield lab
    lab.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    mod = request.module.__name__.rsplit(".", 1)[-1]
    args = getattr(request.module, "SERVER_ARGS", ())
    srv = VigilServer(tmp_path_factory.mktemp(mod), args=args, name=mod)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(server):
    return server.client()


@pytest.fixture
def make_server(tmp_path):
    made = []

    def make(*args, admin_token="generate", env=None, start=True, tls_cert=None):
        srv = VigilServer(tmp_path / f"srv{len(made)}", args=args, admin_token=admin_token,
                          env=env, name=f"extra{len(made)}", tls_cert=tls_cert)
        made.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    errors = []
    for srv in made:
        try:
            srv.stop()
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        pytest.fail("\n\n".join(errors))


@pytest.fixture(autouse=True)
def _sanitizer_watch():
    yield
    for srv in vigiltest.running_servers():
        proc = srv.proc
        if proc is not None and proc.poll() is not None:
            srv._forget()
            srv.proc = None
            pytest.fail(f"{srv.name} died during this test (exit {proc.returncode}):\n"
                        + srv.stderr_text()[-4000:])
        rep = srv.sanitizer_report()
        if rep:
            pytest.fail(f"sanitizer report on stderr of {srv.name} during this test:\n{rep}")
