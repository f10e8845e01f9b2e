"""vigild --user NAME: binds and reads its TLS files as root, then runs as NAME for good, and every
file it creates (database, WAL, shared memory, admin-token file) belongs to NAME. Needs root."""

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

from vigiltest import VigilServer, vigild_path

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="--user needs root")

USER = "nobody"


def _status(pid):
    """/proc/PID/status as {key: [fields]}."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        out[k] = v.split()
    return out


@pytest.fixture
def user_dir():
    """A state directory owned by USER, outside pytest's root-only tmp tree."""
    pw = pwd.getpwnam(USER)
    d = Path(tempfile.mkdtemp(prefix="vigil-user-", dir="/tmp"))
    os.chown(d, pw.pw_uid, pw.pw_gid)
    yield d, pw
    shutil.rmtree(d, ignore_errors=True)


def _env(**extra):
    env = dict(os.environ)
    env.pop("VIGIL_ADMIN_TOKEN", None)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.update(extra)
    return env


@pytest.mark.sqlite_only(reason="checks the owner of the database files")
def test_user_serves_writes_durably_as_that_uid(user_dir):
    d, pw = user_dir
    srv = VigilServer(d, args=["--user", USER], admin_token=None, env=_env(), name="user")
    srv.start()
    try:
        st = _status(srv.proc.pid)
        assert st["Uid"] == [str(pw.pw_uid)] * 4, st["Uid"]
        assert st["Gid"] == [str(pw.pw_gid)] * 4, st["Gid"]
        assert "0" not in st.get("Groups", []), st.get("Groups")
        assert int(st["CapEff"][0], 16) == 0 and int(st["CapPrm"][0], 16) == 0, st
        # Every thread, not just the one that dropped (libmicrohttpd's started afterwards).
        for task in Path(f"/proc/{srv.proc.pid}/task").iterdir():
            assert _status(f"{srv.proc.pid}/task/{task.name}")["Uid"] == [str(pw.pw_uid)] * 4

        # The bootstrap token file was written by the user, 0600, and its secret works.
        token_file = d / "vigil.db.admin-token"
        assert token_file.stat().st_uid == pw.pw_uid
        assert token_file.stat().st_mode & 0o777 == 0o600
        srv.admin_token = token_file.read_text().strip()
        c = srv.client()
        name = c.node()["name"]
        for f in ("vigil.db", "vigil.db-wal", "vigil.db-shm"):
            assert (d / f).stat().st_uid == pw.pw_uid, f"{f} not owned by {USER}"

        srv.kill9()  # acknowledged means on disk, for the unprivileged user too
        srv.start()
        assert c.get(f"/nodes/{name}").status_code == 200
        assert c.node()["name"]
    finally:
        srv.stop()


def test_user_binds_a_privileged_port_before_dropping(user_dir):
    d, _pw = user_dir
    port = None
    for p in range(1000, 1024):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                port = p
                break
            except OSError:
                continue
    if port is None:
        pytest.skip("no free port below 1024")
    proc = subprocess.Popen([str(vigild_path()), "--listen", f"127.0.0.1:{port}", "--db",
                             str(d / "vigil.db"), "--user", USER],
                            env=_env(VIGIL_ADMIN_TOKEN="t" * 64), stderr=subprocess.PIPE)
    try:
        r = None
        for _ in range(200):
            try:
                r = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.RequestException:
                if proc.poll() is not None:
                    break
                subprocess.run(["sleep", "0.05"])
        assert r is not None and r.status_code == 200, proc.stderr.read1().decode()
        assert _status(proc.pid)["Uid"][1] != "0"
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_unknown_user_is_refused_before_anything_is_created(tmp_path):
    user = "no-such-user-" + secrets.token_hex(4)
    p = subprocess.run([str(vigild_path()), "--listen", "127.0.0.1:1", "--db",
                        str(tmp_path / "v.db"), "--user", user],
                       capture_output=True, text=True, timeout=10, env=_env())
    assert p.returncode == 2, p
    assert user in p.stderr and "no such user" in p.stderr
    assert not (tmp_path / "v.db").exists()


def test_state_dir_not_writable_by_user_is_a_clear_error(tmp_path):
    d = Path(tempfile.mkdtemp(prefix="vigil-root-", dir="/tmp"))  # root's, 0700
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        p = subprocess.run([str(vigild_path()), "--listen", f"127.0.0.1:{port}", "--db",
                            str(d / "vigil.db"), "--user", USER],
                           capture_output=True, text=True, timeout=10,
                           env=_env(VIGIL_ADMIN_TOKEN="t" * 64))
        assert p.returncode == 1, p
        assert f"writable by {USER}" in p.stderr, p.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)
