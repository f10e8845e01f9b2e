"""HTTPS with --tls-cert/--tls-key (GnuTLS through libmicrohttpd)."""

import socket
import ssl
import subprocess

import pytest
import requests

from vigiltest import ServerFailure, VigilServer


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return crt, key


def test_https_serves_the_api(make_server, cert):
    crt, key = cert
    srv = make_server("--tls-cert", str(crt), "--tls-key", str(key), tls_cert=crt)
    assert srv.base.startswith("https://")
    c = srv.client()
    n = c.node()["name"]
    r = c.get(f"/nodes/{n}")
    assert r.status_code == 200 and r.json()["name"] == n
    ctx = ssl.create_default_context(cafile=str(crt))
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            assert t.version() in ("TLSv1.2", "TLSv1.3")


def test_https_port_does_not_speak_plain_http(make_server, cert):
    crt, key = cert
    srv = make_server("--tls-cert", str(crt), "--tls-key", str(key), tls_cert=crt)
    with pytest.raises(requests.RequestException):
        r = requests.get(f"http://127.0.0.1:{srv.port}/healthz", timeout=3)
        # A TLS server may answer garbage rather than close: that is not an HTTP 200 either.
        if r.status_code != 200:
            raise requests.RequestException(r.status_code)


def test_missing_key_file_fails_at_start(tmp_path, cert):
    crt, _ = cert
    srv = VigilServer(tmp_path, args=("--tls-cert", str(crt), "--tls-key",
                                      str(tmp_path / "nope.pem")), tls_cert=crt)
    with pytest.raises(ServerFailure, match="exited with"):
        srv.start(timeout=5)
    assert srv.proc.returncode != 0


def test_https_client_that_sends_its_whole_oversized_body_gets_the_413(make_server, cert):
    """The lingering close after an early answer works under TLS too: the client writes 16 MiB
    before reading and still reads the 413."""
    import http.client
    crt, key = cert
    srv = make_server("--tls-cert", str(crt), "--tls-key", str(key), tls_cert=crt)
    admin = srv.client()
    ctx = ssl.create_default_context(cafile=str(crt))
    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=20)
    try:
        conn.request("POST", "/nodes", body=b"x" * (16 << 20),
                     headers={"Authorization": f"Bearer {admin.token}",
                              "Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 413
        assert b"payload-too-large" in resp.read()
    finally:
        conn.close()
