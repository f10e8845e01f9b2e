-- wrk script for `make bench`: a plain GET of the URL given to wrk, with the bearer token from
-- $BENCH_TOKEN (if set) and If-None-Match from $BENCH_INM (if set, for the 304 revalidation).
package.path = (os.getenv("BENCH_DIR") or ".") .. "/?.lua;" .. package.path
local report = require("report")

local token = os.getenv("BENCH_TOKEN")
local inm = os.getenv("BENCH_INM")
if token and token ~= "" then
	wrk.headers["Authorization"] = "Bearer " .. token
end
if inm and inm ~= "" then
	wrk.headers["If-None-Match"] = inm
end

done = report.done
