-- SPDX-License-Identifier: Apache-2.0
-- POST /api/auth/login, cycling through the e-mail addresses in BENCH_EMAILS (all share
-- BENCH_PASSWORD). Every success creates a session, as a real sign-in does.
dofile(os.getenv("BENCH_WRK_DIR") .. "/lib.lua")

local reqs, i = {}, 0
ok, bad = 0, 0

function init(args)
    local password = os.getenv("BENCH_PASSWORD")
    for _, e in ipairs(bench.share(bench.lines(os.getenv("BENCH_EMAILS")))) do
        reqs[#reqs + 1] = wrk.format("POST", "/api/auth/login", {["Content-Type"] = "application/json"},
            '{"email":"' .. e .. '","password":"' .. password .. '"}')
    end
end

function request()
    i = i % #reqs + 1
    return reqs[i]
end

function response(status, hdrs, body)
    if status == 200 then ok = ok + 1 else bad = bad + 1 end
end
