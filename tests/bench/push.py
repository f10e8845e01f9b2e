"""Push latency for `make bench` (tests/bench/backends.sh): a long-poll parked on one vigild
(GET PATH?wait=30 with If-None-Match) and a merge-patch of PATH sent through another (or the
same); the time from sending the PATCH until the long-poll has its 200. Prints one line,
"PUSH n=N p50_ms=.. p90_ms=.. max_ms=.. patch_p50_ms=..", for the script to parse.

    push.py --poll http://127.0.0.1:P1 --write http://127.0.0.1:P2 --token T --path /vips/vip-001
"""

import argparse
import http.client
import json
import statistics
import threading
import time
from urllib.parse import urlsplit


def request(base, method, path, token, body=None, headers=None, timeout=40):
    u = urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    h = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("ETag"), data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--poll", required=True)
    ap.add_argument("--write", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--path", default="/vips/vip-001")
    ap.add_argument("-n", type=int, default=30)
    a = ap.parse_args()
    woke, patched = [], []
    for i in range(a.n):
        status, etag, _ = request(a.poll, "GET", a.path, a.token)
        assert status == 200, status
        got = {}

        def poll():
            got["r"] = request(a.poll, "GET", f"{a.path}?wait=30", a.token,
                               headers={"If-None-Match": etag})
            got["t"] = time.monotonic()

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.15)  # parked by now
        t0 = time.monotonic()
        st, _, body = request(a.write, "PATCH", a.path, a.token,
                              body=json.dumps({"preempt_delay_ms": 1000 + i}),
                              headers={"Content-Type": "application/merge-patch+json"})
        patched.append(time.monotonic() - t0)
        assert st == 200, (st, body[:200])
        t.join(35)
        assert got["r"][0] == 200, got["r"][0]
        woke.append(got["t"] - t0)
    ms = sorted(x * 1000 for x in woke)
    print(f"PUSH n={len(ms)} p50_ms={statistics.median(ms):.1f} "
          f"p90_ms={ms[int(0.9 * (len(ms) - 1))]:.1f} max_ms={ms[-1]:.1f} "
          f"patch_p50_ms={statistics.median(patched) * 1000:.1f}")


if __name__ == "__main__":
    main()
