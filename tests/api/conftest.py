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
"""

import pytest

import vigiltest
from vigiltest import VigilServer


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
