"""Long-poll part of `make bench`: parks N GET long-polls on one resource at once (a VIP, or a
node's config; asyncio, raw sockets, one event loop, no threads), checks that vigild holds them all
(no answer yet, the vigil_longpoll_parked gauge) without growing its thread count, times plain GETs
while they wait, then makes one change (a PATCH of the VIP, or of --change) and times how long
until every parked request has its 200.

Prints human lines and a final "LONGPOLL {json}" line that bench.sh parses. Exit status 0 even
when vigild falls short: the numbers are the finding."""

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard == resource.RLIM_INFINITY else max(soft, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        sys.exit(f"longpoll: RLIMIT_NOFILE is {soft}, need about {need}")


def thread_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return None


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


class Client:
    def __init__(self, host, port, token):
        self.host, self.port, self.token = host, port, token

    def request_bytes(self, method, path, headers=None, body=b""):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Authorization: Bearer {self.token}"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        if body:
            lines.append(f"Content-Length: {len(body)}")
        lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    @staticmethod
    async def read_response(reader):
        """Reads one HTTP/1.1 response; returns (status, headers dict lower-case, body)."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        body = await reader.readexactly(n) if n else b""
        return status, headers, body

    async def open(self):
        return await asyncio.open_connection(self.host, self.port)

    async def request(self, method, path, headers=None, body=b""):
        """One request on a new connection, like curl. Returns (status, headers, body)."""
        reader, writer = await self.open()
        try:
            writer.write(self.request_bytes(method, path, headers, body))
            await writer.drain()
            return await self.read_response(reader)
        finally:
            writer.close()

    async def timed_gets(self, path, n):
        """n sequential GETs of path; returns the latencies in ms (raises on a non-200)."""
        out = []
        for _ in range(n):
            t0 = time.monotonic()
            status, _, _ = await self.request("GET", path)
            out.append((time.monotonic() - t0) * 1000)
            if status != 200:
                raise RuntimeError(f"GET {path}: {status}")
        return out

    async def parked_gauge(self):
        status, _, body = await self.request("GET", "/metrics")
        if status != 200:
            return None
        for line in body.decode().splitlines():
            if line.startswith("vigil_longpoll_parked"):
                return int(float(line.split()[-1]))
        return None


class Parked:
    """One long-poll connection: sent at t_sent, answered at t_done with status."""

    def __init__(self):
        self.t_sent = self.t_done = None
        self.status = None
        self.error = None


async def park_one(client, lp, req):
    try:
        reader, writer = await client.open()
    except OSError as e:
        lp.error = f"connect: {e}"
        return
    try:
        writer.write(req)
        await writer.drain()
        lp.t_sent = time.monotonic()
        lp.status, _, _ = await Client.read_response(reader)
        lp.t_done = time.monotonic()
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
        lp.error = f"{type(e).__name__}: {e}"
        lp.t_done = time.monotonic()
    finally:
        writer.close()


async def main_async(a):
    client = Client("127.0.0.1", a.port, a.token)
    res = {"n": a.n, "wait_s": a.wait}
    status, headers, _ = await client.request("GET", a.path)
    if status != 200:
        raise SystemExit(f"longpoll: GET {a.path}: {status}")
    etag = headers["etag"]

    idle = await client.timed_gets(a.probe, a.samples)
    res["get_idle_p50_ms"], res["get_idle_p99_ms"] = pct(idle, 50), pct(idle, 99)
    res["threads_before"] = thread_count(a.pid)
    print(f"  plain GET {a.probe}, {a.samples} sequential, idle: median {pct(idle, 50):.2f} ms, "
          f"p99 {pct(idle, 99):.2f} ms; vigild threads: {res['threads_before']}")

    req = client.request_bytes("GET", f"{a.path}?wait={a.wait}", {"If-None-Match": etag})
    polls = [Parked() for _ in range(a.n)]
    tasks = []
    t0 = time.monotonic()
    for i in range(0, a.n, a.batch):  # batches keep the listen backlog from overflowing
        batch = [asyncio.ensure_future(park_one(client, lp, req)) for lp in polls[i:i + a.batch]]
        tasks += batch
        while any(lp.t_sent is None and lp.error is None for lp in polls[i:i + a.batch]):
            await asyncio.sleep(0.005)
    res["park_send_s"] = time.monotonic() - t0
    errors = [lp.error for lp in polls if lp.error]
    gauge = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        gauge = await client.parked_gauge()
        if gauge is not None and gauge >= a.n - len(errors):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # any premature answer would show up now
    early = [lp for lp in polls if lp.t_done is not None]
    res["connect_errors"] = len(errors)
    res["parked_gauge"] = await client.parked_gauge()
    res["answered_early"] = len(early)
    res["threads_during"] = thread_count(a.pid)
    print(f"  {a.n} long-polls sent in {res['park_send_s']:.2f} s; connect errors {len(errors)}"
          f"{' (first: ' + errors[0] + ')' if errors else ''}; answered before the change: "
          f"{len(early)}; vigil_longpoll_parked = {res['parked_gauge']}; vigild threads: "
          f"{res['threads_during']}")
    if early:
        kinds = {}
        for lp in early:
            k = lp.status if lp.status is not None else lp.error
            kinds[k] = kinds.get(k, 0) + 1
        print(f"  early answers by status: {kinds}")

    busy = await client.timed_gets(a.probe, a.samples)
    res["get_parked_p50_ms"], res["get_parked_p99_ms"] = pct(busy, 50), pct(busy, 99)
    res["get_parked_max_ms"] = max(busy)
    print(f"  plain GET {a.probe}, {a.samples} sequential, with the long-polls parked: median "
          f"{pct(busy, 50):.2f} ms, p99 {pct(busy, 99):.2f} ms, max {max(busy):.2f} ms")

    body = json.dumps({"preempt_delay_ms": int(time.time()) % 3600000 + 1}).encode()
    t_change = time.monotonic()
    status, _, _ = await client.request("PATCH", a.change or a.path,
                                        {"Content-Type": "application/merge-patch+json"}, body)
    res["patch_ms"] = (time.monotonic() - t_change) * 1000
    res["patch_status"] = status
    waiting = [t for t, lp in zip(tasks, polls) if lp.t_done is None]
    if waiting:
        await asyncio.wait(waiting, timeout=a.wake_timeout)
    early_ids = {id(lp) for lp in early}
    woke = [lp for lp in polls if id(lp) not in early_ids and lp.t_done is not None]
    ok = [lp for lp in woke if lp.status == 200]
    res["woke_200"] = len(ok)
    res["woke_other"] = len(woke) - len(ok)
    res["not_woken"] = a.n - len(early) - len(woke)
    if ok:
        lat = [(lp.t_done - t_change) * 1000 for lp in ok]
        res["wake_all_ms"] = max(lat)
        res["wake_p50_ms"] = pct(lat, 50)
    else:
        res["wake_all_ms"] = res["wake_p50_ms"] = None
    print(f"  one PATCH ({status}, {res['patch_ms']:.1f} ms) woke {len(ok)} with 200 "
          f"({res['woke_other']} other answers, {res['not_woken']} not answered within "
          f"{a.wake_timeout} s); last 200 after "
          + (f"{res['wake_all_ms']:.0f} ms, median {res['wake_p50_ms']:.0f} ms" if ok else "-"))
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0.3)
    res["parked_gauge_after"] = await client.parked_gauge()
    res["threads_after"] = thread_count(a.pid)
    print(f"  afterwards: vigil_longpoll_parked = {res['parked_gauge_after']}, vigild threads: "
          f"{res['threads_after']}")
    print("LONGPOLL " + json.dumps(res))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--pid", type=int, required=True, help="vigild's pid, for its thread count")
    p.add_argument("--path", default="/vips/vip-007", help="resource the long-polls wait on")
    p.add_argument("--probe", default="/vips/vip-002", help="resource for the plain GETs")
    p.add_argument("--change", default=None,
                   help="the VIP to PATCH (default: --path itself), e.g. one in the config")
    p.add_argument("-n", type=int, default=2000)
    p.add_argument("--wait", type=int, default=60)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--batch", type=int, default=250)
    p.add_argument("--wake-timeout", type=float, default=30)
    a = p.parse_args()
    raise_nofile(a.n + 200)
    asyncio.run(main_async(a))


if __name__ == "__main__":
    main()
