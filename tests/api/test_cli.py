"""The vigild command line: --help, --version, bad flags, a port already in use, IPv6; every flag
of vigild and vigil-agent documented in its man page."""

import os
import re
import socket
import subprocess
import time

import pytest
import requests

from vigiltest import REPO, vigild_path

FLAGS = ["--listen", "--db", "--tls-cert", "--tls-key", "--cors-origin", "--agent-timeout",
         "--require-if-match", "--threads", "--events-keep", "--max-parked", "--user", "--help",
         "--version"]


def run(*args, timeout=10, cwd=None):
    return subprocess.run([str(vigild_path()), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def test_help_documents_every_flag():
    p = run("--help")
    assert p.returncode == 0, p.stderr
    out = p.stdout + p.stderr
    for flag in FLAGS:
        assert flag in out, f"--help does not mention {flag}"


def test_version_matches_root_document(admin):
    p = run("--version")
    assert p.returncode == 0, p.stderr
    version = admin.get("/").json()["version"]
    assert version in (p.stdout + p.stderr)


@pytest.mark.parametrize("args", [["--no-such-flag"], ["--listen"], ["--agent-timeout", "x"],
                                  ["--events-keep", "-1"], ["--listen", "nonsense"]])
def test_bad_arguments_exit_non_zero(tmp_path, args):
    p = run(*args, "--db", str(tmp_path / "v.db"), cwd=tmp_path, timeout=10)
    assert p.returncode != 0
    assert p.stderr.strip(), "no message on stderr"


def test_port_in_use_exits_non_zero(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = run("--listen", f"127.0.0.1:{port}", "--db", str(tmp_path / "v.db"), cwd=tmp_path)
    assert p.returncode != 0
    assert p.stderr.strip()


def _ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
            return s.getsockname()[1]
    except OSError:
        return None


def test_listen_on_ipv6_loopback(tmp_path):
    port = _ipv6_loopback()
    if port is None:
        pytest.skip("no IPv6 loopback")
    env = dict(os.environ, VIGIL_ADMIN_TOKEN="a" * 64)
    errf = open(tmp_path / "stderr", "wb")
    p = subprocess.Popen([str(vigild_path()), "--listen", f"[::1]:{port}", "--db",
                          str(tmp_path / "v.db")], env=env, stderr=errf, stdout=errf)
    try:
        deadline, r = time.monotonic() + 10, None
        while time.monotonic() < deadline and p.poll() is None:
            try:
                r = requests.get(f"http://[::1]:{port}/nodes", timeout=1,
                                 headers={"Authorization": "Bearer " + "a" * 64})
                break
            except requests.RequestException:
                time.sleep(0.05)
        assert r is not None and r.status_code == 200, \
            (tmp_path / "stderr").read_text(errors="replace")[-2000:]
    finally:
        p.terminate()
        rc = p.wait(10)
        errf.close()
    assert rc == 0
    text = (tmp_path / "stderr").read_text(errors="replace")
    assert "runtime error:" not in text and "ERROR: AddressSanitizer" not in text, text


def _man_option_tags(page):
    """The flags a man page documents: the first word of each .TP entry's tag line."""
    lines = page.read_text().splitlines()
    tags = set()
    for i, line in enumerate(lines[:-1]):
        if line.strip() == ".TP":
            tag = re.sub(r"\\f[BIRP]|^\.[BIR]{1,2} *", "", lines[i + 1]).replace("\\-", "-")
            tags.add(tag.split()[0] if tag.split() else "")
    return tags


@pytest.mark.parametrize("binary", ["vigild", "vigil-agent"])
def test_every_help_flag_is_in_the_man_page(binary):
    path = vigild_path() if binary == "vigild" else REPO / "build" / "vigil-agent"
    if not path.exists():
        pytest.skip(f"{path} not built")
    p = subprocess.run([str(path), "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    flags = set(re.findall(r"^\s+(--[a-z][a-z0-9-]*)", p.stdout, re.M))
    assert "--help" in flags and len(flags) > 5, p.stdout
    documented = _man_option_tags(REPO / "docs" / "man" / f"{binary}.8")
    missing = sorted(flags - documented)
    assert not missing, f"{binary} --help has flags its man page does not document: {missing}"
