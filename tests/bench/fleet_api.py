"""The admin side of `make bench-fleet` (tests/bench/fleet.sh); standard library only.

  load    POSTs the fleet that `fleet layout N` prints on stdin (one "PATH JSON" a line), a few
          connections at once, and prints "NODE SECRET" for every agent token it created
  events  counts the change-feed entries of a measurement window and how many of them the
          writer's PATCHes caused (a VIP it patched, updated). The window is revisions SINCE+1 to
          UNTIL when the simulator could read both, else the entries timed within it

The admin token comes from VIGIL_ADMIN_TOKEN. Exits non-zero when vigild refuses or fails a
request: then the fleet could not be set up or measured."""

import argparse
import collections
import datetime
import http.client
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

local = threading.local()


def request(port, method, path, body=None, timeout=60):
    """One request on this thread's keep-alive connection; returns (status, body bytes)."""
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Authorization": "Bearer " + os.environ["VIGIL_ADMIN_TOKEN"]}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        local.conn = None
        raise


def load(a):
    groups = []  # [(path, [body...])]: nodes, then VIPs (they need the nodes), then tokens
    for line in sys.stdin:
        path, body = line.rstrip("\n").split(" ", 1)
        if not groups or groups[-1][0] != path:
            groups.append((path, []))
        groups[-1][1].append(body)
    t0 = time.monotonic()
    with ThreadPoolExecutor(a.conns) as pool:
        for path, bodies in groups:
            def post(body, path=path):
                status, out = request(a.port, "POST", path, body.encode())
                if status != 201:
                    raise RuntimeError(f"POST {path} {body}: {status} {out[:300]!r}")
                return json.loads(out).get("secret")
            for body, secret in zip(bodies, pool.map(post, bodies)):
                if path == "/tokens":
                    print(json.loads(body)["node"], secret)
    n = sum(len(b) for _, b in groups)
    print(f"fleet_api: {n} POSTs in {time.monotonic() - t0:.1f} s", file=sys.stderr)


def unix_ms(rfc3339):
    return datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000


def get_until(a, path, deadline):
    """GET path, again after each timeout until the monotonic deadline: a vigild that the fleet
    left overloaded may take a while to answer (its parked long-polls wait out their time)."""
    while True:
        try:
            return request(a.port, "GET", path, timeout=15)
        except (OSError, http.client.HTTPException) as e:
            if time.monotonic() >= deadline:
                raise RuntimeError(f"GET {path}: no answer within {a.deadline} s ({e})")
            time.sleep(1)


def events(a):
    """Pages the feed from revision a.since (following `next`) until past the window."""
    with open(a.patched) as f:
        patched = set(f.read().split())
    total = writer = 0
    first = last = None  # the window's revisions, as the feed saw them
    kinds = collections.Counter()

    def place(e):  # -1 before the window, 0 in it, 1 after it
        if a.until is not None:
            return 0 if e["revision"] <= a.until else 1
        t = unix_ms(e["time"])
        return -1 if t < a.from_ms else 0 if t < a.to_ms else 1

    path = f"/events?since={a.since}&limit=500"
    deadline = time.monotonic() + a.deadline
    while True:
        status, out = get_until(a, path, deadline)
        if status == 410:  # the feed no longer holds the window: unmeasured, not fatal
            print(f"fleet_api: /events since {a.since}: 410 Gone", file=sys.stderr)
            return
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {out[:300]!r}")
        doc = json.loads(out)
        page = doc["_embedded"]["events"]
        places = [place(e) for e in page]
        for e in (e for e, p in zip(page, places) if p == 0):
            total += 1
            first = e["revision"] if first is None else first
            last = e["revision"]
            kinds[f'{e["kind"]}/{e["change"]}'] += 1
            writer += e["kind"] == "vip" and e["change"] == "updated" and e["name"] in patched
        if not page or 1 in places:
            break
        path = doc["_links"]["next"]["href"] + "&limit=500"
    print(f"events_total {total}")
    print(f"events_writer {writer}")
    if first is not None:
        print(f"events_revisions {last - first + 1}")
    print("events_by_kind " + (",".join(f"{k}:{n}" for k, n in sorted(kinds.items())) or "-"))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pl = sub.add_parser("load")
    pl.add_argument("--port", type=int, required=True)
    pl.add_argument("--conns", type=int, default=8)
    pe = sub.add_parser("events")
    pe.add_argument("--port", type=int, required=True)
    pe.add_argument("--since", type=int, default=0)
    pe.add_argument("--until", type=int, help="the last revision in the window")
    pe.add_argument("--from-ms", type=int, help="else: the window's start, Unix time in ms")
    pe.add_argument("--to-ms", type=int, help="and its end")
    pe.add_argument("--patched", required=True, help="the VIP names the writer PATCHed")
    pe.add_argument("--deadline", type=int, default=90, help="s to wait for vigild in all")
    a = p.parse_args()
    try:
        load(a) if a.cmd == "load" else events(a)
    except (OSError, RuntimeError, http.client.HTTPException, ValueError, KeyError) as e:
        sys.exit(f"fleet_api {a.cmd}: {e}")


if __name__ == "__main__":
    main()
