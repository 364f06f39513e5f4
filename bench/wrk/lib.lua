-- SPDX-License-Identifier: Apache-2.0
-- Shared by bench/wrk/*.lua (loaded with dofile; bench/run sets BENCH_WRK_DIR).
-- setup() numbers the threads (global `tid` in each thread, 1-based); done() prints one line
-- "BENCHJSON {...}" with wrk's counters, latency percentiles in microseconds and, for scripts that
-- check statuses in response(), the per-thread counters `ok` (expected status), `bad` (anything
-- else) and `starved` (requests sent after the script ran out of single-use tokens).
bench = {}
local threads = {}

function bench.setup(thread)
    threads[#threads + 1] = thread
    thread:set("tid", #threads)
end

function bench.lines(path)
    local t = {}
    for l in io.lines(path) do
        if l ~= "" then t[#t + 1] = l end
    end
    return t
end

-- this thread's share of a list: items i with i % n == tid - 1
function bench.share(items)
    local n = tonumber(os.getenv("BENCH_THREADS") or "1")
    local mine = {}
    for i, v in ipairs(items) do
        if (i - 1) % n == tid - 1 then mine[#mine + 1] = v end
    end
    return mine
end

function bench.done(summary, latency, requests)
    local ok, bad, starved, allowed, counted = 0, 0, 0, 0, false
    for _, t in ipairs(threads) do
        local o = t:get("ok")
        if o ~= nil then
            counted = true
            ok = ok + o
            bad = bad + (t:get("bad") or 0)
            starved = starved + (t:get("starved") or 0)
            allowed = allowed + (t:get("allowed") or 0)
        end
    end
    local e = summary.errors
    io.write(string.format(
        'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
        '"write_errors":%d,"status_errors":%d,"timeouts":%d,"counted":%s,"ok":%d,"unexpected":%d,"starved":%d,"allowed":%d,' ..
        '"p50_us":%.1f,"p90_us":%.1f,"p99_us":%.1f,"p999_us":%.1f,"mean_us":%.1f,"max_us":%.1f}\n',
        summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
        tostring(counted), ok, bad, starved, allowed,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
        latency.mean, latency.max))
end

setup = bench.setup
done = bench.done
