-- Shared by the wrk scripts of `make bench`: after the run, prints one machine-readable line
-- (requests/s, p50/p99 latency in ms, error counts) that bench.sh parses.
local M = {}

function M.done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"BENCH rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		summary.requests, e.connect, e.read, e.write, e.status, e.timeout))
end

return M
