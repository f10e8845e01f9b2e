"""systemd readiness (Type=notify): with $NOTIFY_SOCKET set, vigild sends READY=1 once requests are
answered and STOPPING=1 on SIGTERM; vigil-agent READY=1 once its sockets are open. Both from the
main process, as NotifyAccess=main requires."""

import os
import secrets
import signal
import socket
import sqlite3
import struct
import subprocess
import time

import pytest
import requests

from vigiltest import REPO, free_port, vigild_path


def _listen(tmp_path, kind):
    """A datagram socket like systemd's, receiving credentials; returns (sock, NOTIFY_SOCKET)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if kind == "abstract":
        name = "vigil-test-" + secrets.token_hex(6)
        s.bind("\0" + name)
        value = "@" + name
    else:
        value = str(tmp_path / "notify.sock")
        s.bind(value)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    return s, value


def _recv(s, timeout):
    """(message, sender pid), or (None, None) after timeout seconds."""
    s.settimeout(timeout)
    try:
        data, anc, _flags, _addr = s.recvmsg(4096, socket.CMSG_SPACE(12))
    except socket.timeout:
        return None, None
    pid = None
    for level, typ, payload in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    return data.decode(), pid


@pytest.mark.parametrize("kind", ["path", "abstract"])
def test_vigild_ready_only_when_serving_and_stopping_on_sigterm(tmp_path, kind):
    s, value = _listen(tmp_path, kind)
    port = free_port()
    env = dict(os.environ, NOTIFY_SOCKET=value, VIGIL_ADMIN_TOKEN="n" * 64)
    proc = subprocess.Popen([str(vigild_path()), "--listen", f"127.0.0.1:{port}", "--db",
                             str(tmp_path / "v.db")], env=env, stderr=subprocess.DEVNULL)
    try:
        msg, pid = _recv(s, 15)
        assert msg is not None, "no READY=1 within 15 s"
        assert "READY=1" in msg.split("\n"), msg
        assert pid == proc.pid
        # Ready means ready: migrations done, the very next request answered at once.
        db = sqlite3.connect(f"file:{tmp_path / 'v.db'}?mode=ro", uri=True)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        db.close()
        # the newest migration's number (numbers may have gaps while branches add theirs)
        assert version == max(int(p.name[:3]) for p in (REPO / "schema").glob("*.sql"))
        r = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
        assert r.status_code == 200
        assert _recv(s, 0.2)[0] is None, "more than one message before stopping"

        proc.send_signal(signal.SIGTERM)
        msg, pid = _recv(s, 10)
        assert msg is not None and "STOPPING=1" in msg.split("\n"), msg
        assert pid == proc.pid
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        s.close()


def test_vigild_serves_when_notify_socket_is_gone(tmp_path):
    env = dict(os.environ, NOTIFY_SOCKET=str(tmp_path / "nobody-listens"),
               VIGIL_ADMIN_TOKEN="n" * 64)
    port = free_port()
    proc = subprocess.Popen([str(vigild_path()), "--listen", f"127.0.0.1:{port}", "--db",
                             str(tmp_path / "v.db")], env=env, stderr=subprocess.PIPE)
    try:
        deadline, ok = time.monotonic() + 15, False
        while time.monotonic() < deadline and not ok and proc.poll() is None:
            try:
                ok = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
            except requests.RequestException:
                time.sleep(0.05)
        assert ok
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
    assert "NOTIFY_SOCKET" in proc.stderr.read().decode()


@pytest.mark.skipif(os.geteuid() != 0, reason="the agent opens raw sockets")
def test_agent_ready_once_sockets_are_up_and_stopping_on_sigterm(tmp_path, server, admin):
    agent_bin = REPO / os.environ.get("VIGIL_AGENT", "build/vigil-agent")
    if not agent_bin.exists():
        pytest.skip(f"{agent_bin} not built")
    node = admin.node()["name"]
    token = admin.mint("agent", node=node).token
    (tmp_path / "token").write_text(token + "\n")
    s, value = _listen(tmp_path, "abstract")
    env = dict(os.environ, NOTIFY_SOCKET=value)
    proc = subprocess.Popen([str(agent_bin), "--server", server.base, "--node", node,
                             "--token-file", str(tmp_path / "token"), "--state-dir",
                             str(tmp_path / "state")], env=env, stderr=subprocess.PIPE)
    try:
        msg, pid = _recv(s, 15)
        assert msg is not None and "READY=1" in msg.split("\n"), \
            proc.stderr.read1().decode() if proc.poll() is not None else msg
        assert pid == proc.pid
        assert (tmp_path / "state").is_dir()
        proc.send_signal(signal.SIGTERM)
        msg, pid = _recv(s, 10)
        assert msg is not None and "STOPPING=1" in msg.split("\n"), msg
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        s.close()
