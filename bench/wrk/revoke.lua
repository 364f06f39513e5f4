-- SPDX-License-Identifier: Apache-2.0
-- DELETE /api/sessions/:id, each request ending a different live session. BENCH_PAIRS holds
-- "accessToken sessionId" lines: the token of a signed-in user and one of that user's other
-- sessions (seeded in PostgreSQL). Each pair is used once; a thread that runs out stops early.
dofile(os.getenv("BENCH_WRK_DIR") .. "/lib.lua")

local pairs_, n = {}, 0
ok, bad, starved = 0, 0, 0

function init(args)
    pairs_ = bench.share(bench.lines(os.getenv("BENCH_PAIRS")))
end

function request()
    n = n + 1
    local line = pairs_[n]
    if not line then
        starved = starved + 1
        wrk.thread:stop()
        line = pairs_[#pairs_]
    end
    local token, sid = line:match("^(%S+)%s+(%S+)$")
    return wrk.format("DELETE", "/api/sessions/" .. sid, {["Authorization"] = "Bearer " .. token}, nil)
end

function response(status, hdrs, body)
    if status == 200 then ok = ok + 1 else bad = bad + 1 end
end
