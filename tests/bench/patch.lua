-- wrk script for `make bench`: durable writes. Each request is a merge-patch (RFC 7396) of one
-- of $BENCH_VIPS VIPs named vip-000.., spread round-robin, setting preempt_delay_ms to a value
-- unique to the thread and request so that every PATCH really changes the stored VIP.
package.path = (os.getenv("BENCH_DIR") or ".") .. "/?.lua;" .. package.path
local report = require("report")

local threads = {}
local next_id = 0

function setup(thread)
	thread:set("id", next_id)
	next_id = next_id + 1
	table.insert(threads, thread)
end

local counter = 0
local nvips = tonumber(os.getenv("BENCH_VIPS") or "200")
local headers = {
	["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or ""),
	["Content-Type"] = "application/merge-patch+json",
}

function request()
	counter = counter + 1
	-- id is set by setup() before the thread starts (up to 16 threads keep values unique).
	local t = id or 0
	local path = string.format("/vips/vip-%03d", (counter + t * 97) % nvips)
	local body = string.format('{"preempt_delay_ms":%d}', (counter * 16 + t) % 3600000)
	return wrk.format("PATCH", path, headers, body)
end

done = report.done
