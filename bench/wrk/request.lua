-- SPDX-License-Identifier: Apache-2.0
-- One fixed request, optionally cycling through bearer tokens (one per line in BENCH_TOKENS).
-- BENCH_METHOD (GET), BENCH_PATH (/), BENCH_BODY (JSON, optional). With BENCH_EXPECT=<status>,
-- responses are checked (ok / unexpected); without it, wrk's own non-2xx/3xx count is the error count
-- and no response callback runs (the cheapest client path, used for the nginx reference).
dofile(os.getenv("BENCH_WRK_DIR") .. "/lib.lua")

local reqs = {}
local i = 0

function init(args)
    local method = os.getenv("BENCH_METHOD") or "GET"
    local path = os.getenv("BENCH_PATH") or "/"
    local body = os.getenv("BENCH_BODY")
    if body == "" then body = nil end
    local tokens = os.getenv("BENCH_TOKENS")
    local function headers(token)
        local h = {}
        if body then h["Content-Type"] = "application/json" end
        if token then h["Authorization"] = "Bearer " .. token end
        return h
    end
    if tokens and tokens ~= "" then
        for _, t in ipairs(bench.lines(tokens)) do
            reqs[#reqs + 1] = wrk.format(method, path, headers(t), body)
        end
    else
        reqs[1] = wrk.format(method, path, headers(nil), body)
    end
    i = tid % #reqs
end

function request()
    i = i % #reqs + 1
    return reqs[i]
end

-- BENCH_ALLOW=<status>: a second accepted answer, counted apart (`allowed`); a 503 is accepted
-- only with a Retry-After header (the PostgreSQL-frozen scenario).
local expect = tonumber(os.getenv("BENCH_EXPECT") or "")
local allow = tonumber(os.getenv("BENCH_ALLOW") or "")
if expect then
    ok, bad, allowed = 0, 0, 0
    function response(status, headers, body)
        if status == expect then
            ok = ok + 1
        elseif allow and status == allow and (status ~= 503 or headers["Retry-After"]) then
            allowed = allowed + 1
        else
            bad = bad + 1
        end
    end
end
