"""The etcd client (server/etcd*.c) against a real three-member etcd on loopback (issue 12).

One cluster for the whole sequence; the C program (tests/etcd/test_etcd_client.c, built by
`make etcd-test`, env ETCD_TEST_BIN) runs one phase at a time while this side changes the cluster:
healthy -> member 0 killed by the C side under a watch -> restarted, then the leader killed ->
a second member killed (no quorum) -> both restarted -> etcd auth enabled. Its measurements go to stdout (-s).
"""

import os
import subprocess
import time

import pytest

from etcdlab import ETCDCTL, EtcdLab

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.join(ROOT, os.environ.get("ETCD_TEST_BIN", "build/tests/etcd/test_etcd_client"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    # simple auth tokens live 1 s, so that the auth phase sees one expire
    lab = EtcdLab(tmp_path_factory.mktemp("etcd"), extra_args=["--auth-token-ttl", "1"])
    t0 = time.monotonic()
    lab.start()
    print(f"\netcd: 3 members up in {time.monotonic() - t0:.2f} s, leader m{lab.leader()}")
    yield lab
    lab.stop()


def run_phase(lab, phase, **extra_env):
    env = dict(os.environ, ETCD_ENDPOINTS=lab.endpoints(), **extra_env,
               ETCD_PIDS=",".join(str(p.pid if p else 0) for p in lab.procs))
    t0 = time.monotonic()
    out = subprocess.run([BIN, phase], env=env, capture_output=True, text=True, timeout=120)
    print(f"== {phase} ({time.monotonic() - t0:.2f} s)")
    print("\n".join(line for line in (out.stdout + out.stderr).splitlines()
                    if not line.startswith(("[ RUN", "[       OK", "[  PASSED"))
                    and not line.startswith("[=")
                    and not line.startswith("[-")) or "")
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_operation_on_a_healthy_cluster(lab):
    run_phase(lab, "ops")


def test_member_killed_under_a_watch(lab):
    run_phase(lab, "failover")  # the C side kills member 0
    assert not lab.alive(0)
    lab.restart(0)
    lab.wait_healthy()


def test_leader_killed(lab):
    killed = lab.kill_leader()
    print(f"killed leader m{killed}")
    run_phase(lab, "one_down")


def test_two_of_three_down_is_unavailable_then_recovers(lab):
    down = [i for i in range(3) if not lab.alive(i)]
    assert len(down) == 1
    second = lab.leader()  # the new leader: the survivor must first notice it is gone
    lab.kill(second)
    print(f"killed m{down[0]} and m{second}")
    run_phase(lab, "no_quorum")
    for i in down + [second]:
        lab.restart(i, wait=False)
    lab.wait_healthy()
    run_phase(lab, "recovered")


def test_auth_token_and_its_renewal(lab):
    ctl = [ETCDCTL, "--endpoints", lab.endpoints()]
    env = dict(os.environ, ETCDCTL_API="3")
    subprocess.run(ctl + ["user", "add", "root:secret", "--interactive=false"], env=env,
                   check=True, capture_output=True)
    subprocess.run(ctl + ["auth", "enable"], env=env, check=True, capture_output=True)
    run_phase(lab, "auth", ETCD_USER="root", ETCD_PASSWORD="secret")


def test_tls_client_certificates(tmp_path):
    tls = EtcdLab(tmp_path, members=1, tls=True)  # ports apart from the running lab's
    tls.start()
    try:
        run_phase(tls, "tls", ETCD_CACERT=tls.certs["ca"], ETCD_CERT=tls.certs["client_cert"],
                  ETCD_KEY=tls.certs["client_key"])
    finally:
        tls.stop()
