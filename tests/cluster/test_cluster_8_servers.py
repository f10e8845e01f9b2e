"""`vigil-agent --server URL,URL`: an agent given several vigild URLs moves to the next one when
the one it talks to fails, and keeps its VIPs throughout (issue 12's agent side). The session's
agent on lb2 is restarted with a first URL where nothing listens (connection refused), then the
real vigild; then with the real one first and a dead one second while vigild is stopped and
started again. A malformed list is refused at start-up."""

import signal
import subprocess
import time
from datetime import datetime

import netlab as nl
from conftest import SERVER_PORT

DEAD_PORT = SERVER_PORT + 1  # nothing listens there


def _with_servers(c, node, servers):
    """A Proc like the session's agent of node, with --server replaced (not started)."""
    argv = list(c.agents[node].argv)
    argv[argv.index("--server") + 1] = servers
    return c.lab.proc(f"agent-{node}-servers", node, argv, env=c.agents[node].env, cwd=c.dir)


def _fresh_report(c, node, after, timeout):
    """Waits for a status report of node newer than `after` (epoch seconds)."""
    def seen():
        st = c.node_status(node)
        t = st.get("last_seen")
        return st.get("agent") == "up" and t and datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() > after
    return nl.wait_for(seen, timeout, 0.1)


def test_agent_moves_past_a_dead_server(steady):
    c, lab = steady, steady.lab
    dead = f"http://{nl.mgmt_addr_of('srv')}:{DEAD_PORT}"
    assert c.term_agent("lb2") == 0
    p = _with_servers(c, "lb2", f"{dead},{c.base}/").start()
    try:
        t0 = time.time()
        assert _fresh_report(c, "lb2", t0, 10), p.log(3000)
        assert c.wait_vrrp("lb2", "web", "BACKUP", 5)
        log = p.log(6000)
        assert f"server {dead}: " in log and f"moving to {c.base}" in log, log

        # vigild gone: both servers fail in turn; the agent keeps its state and VIPs (the
        # master's too: lb1 holds web all along) and comes back once vigild does.
        c.stop_server()
        time.sleep(2)
        assert lab.holders(nl.WEB) == ["lb1"]
        t1 = time.time()
        c.start_server()
        assert _fresh_report(c, "lb2", t1, 15), p.log(6000)
        assert lab.holders(nl.WEB) == ["lb1"]
    finally:
        rc = p.stop(signal.SIGTERM, timeout=5)
        assert rc == 0, p.log(3000)
    c.start_agent("lb2")
    c.ensure_steady()


def test_malformed_server_list_is_refused(cluster):
    c = cluster
    for bad in ("ftp://198.18.0.1:8080", f"{c.base},", f"{c.base},,{c.base}",
                ",".join([c.base] * 9)):
        argv = list(c.agents["lb2"].argv)
        argv[argv.index("--server") + 1] = bad
        r = subprocess.run(["ip", "netns", "exec", nl.ns_of("lb2"), *argv], capture_output=True,
                           text=True, timeout=10)
        assert r.returncode == 2, (bad, r.returncode, r.stderr)
        assert "--server: up to 8 http:// or https:// URLs, comma-separated" in r.stderr, r.stderr
