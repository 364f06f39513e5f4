-- SPDX-License-Identifier: Apache-2.0
-- POST /api/sessions/refresh, walking rotation chains. BENCH_TOKENS holds one refresh token per
-- line (one per session, from real logins); each thread takes its share into a queue. A request
-- takes the oldest token; its 200 response carries the session's next refresh token, which goes to
-- the back of the queue. With more tokens than connections per thread, a connection never waits
-- for a token and no token is ever presented twice (a second use would be re-use -> 401).
dofile(os.getenv("BENCH_WRK_DIR") .. "/lib.lua")

local queue, head, tail = {}, 1, 0
local headers = {["Content-Type"] = "application/json"}
ok, bad, starved = 0, 0, 0

function init(args)
    for _, t in ipairs(bench.share(bench.lines(os.getenv("BENCH_TOKENS")))) do
        tail = tail + 1
        queue[tail] = t
    end
end

function request()
    if head > tail then
        starved = starved + 1
        wrk.thread:stop()
        return wrk.format("POST", "/api/sessions/refresh", headers, '{"refreshToken":"starved"}')
    end
    local t = queue[head]
    queue[head] = nil
    head = head + 1
    return wrk.format("POST", "/api/sessions/refresh", headers, '{"refreshToken":"' .. t .. '"}')
end

function response(status, hdrs, body)
    if status == 200 then
        local t = body:match('"refreshToken"%s*:%s*"([^"]+)"')
        if t then
            ok = ok + 1
            tail = tail + 1
            queue[tail] = t
            return
        end
    end
    bad = bad + 1
end
