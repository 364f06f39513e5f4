#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers for bench/run (standard library only): logins, the revocation-propagation client, the
agent's IPC latency, parsers for pgbench / redis-benchmark / wrk output, and the Markdown report.
All traffic goes to 127.0.0.1."""
import argparse
import concurrent.futures
import glob
import http.client
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.parse


def pct(values, p):
    """Nearest-rank percentile of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def conn_for(url, timeout=10):
    u = urllib.parse.urlsplit(url)
    assert u.hostname in ("127.0.0.1", "localhost"), "loopback only"
    return http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)


def call(conn, method, path, body=None, token=None):
    headers = {}
    if body is not None:
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, data


# --- logins ---------------------------------------------------------------------------------------

def cmd_logins(a):
    """One login per line of --emails; writes email, sessionId, accessToken, refreshToken (TSV)."""
    emails = [l.strip() for l in open(a.emails) if l.strip()]
    local = threading.local()
    deadline = time.monotonic() + a.timeout

    def one(email):
        if time.monotonic() > deadline:
            raise RuntimeError("logins took longer than %d s" % a.timeout)
        if not hasattr(local, "c"):
            local.c = conn_for(a.url)
        for attempt in range(3):
            try:
                st, data = call(local.c, "POST", "/api/auth/login", {"email": email, "password": a.password})
                break
            except (OSError, http.client.HTTPException):
                local.c = conn_for(a.url)
                if attempt == 2:
                    raise
        if st != 200:
            raise RuntimeError("login %s: HTTP %d %s" % (email, st, data[:200]))
        j = json.loads(data)
        return "%s\t%s\t%s\t%s" % (email, j["sessionId"], j["accessToken"], j["refreshToken"])

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(a.concurrency) as ex:
        rows = list(ex.map(one, emails))
    with open(a.out, "w") as f:
        f.write("\n".join(rows) + "\n")
    print("%d logins in %.1f s" % (len(rows), time.monotonic() - t0), file=sys.stderr)


# --- revocation propagation -----------------------------------------------------------------------

def cmd_propagation(a):
    """For each signed-in session: validate it on B (so B holds it live), revoke it on A, then
    1. (the target's definition) poll B with its token from the moment A's DELETE response arrives
       until the first 401: latency = that 401's arrival minus the DELETE response's arrival;
    2. (the exposure window) a second client polls B continuously from before the DELETE is sent;
       window = its first 401 minus the moment the DELETE was sent.
    Polls use PATCH /api/sessions/:id with an invalid body: 400 after authentication while the
    session is live, 401 once B knows it is revoked; nothing is changed either way."""
    sys.setswitchinterval(0.0001)
    sessions = [l.rstrip("\n").split("\t") for l in open(a.sessions) if l.strip()]
    ca, cb, cp = conn_for(a.a), conn_for(a.b), conn_for(a.b)
    lat, window, rtts, first_poll_rejected, failures = [], [], [], 0, 0
    for email, sid, access, refresh in sessions:
        poll_path = "/api/sessions/" + sid
        t = time.perf_counter()
        st, _ = call(cb, "PATCH", poll_path, {"name": 5}, token=access)
        rtts.append(time.perf_counter() - t)
        if st != 400:
            failures += 1
            continue
        box = {}
        started = threading.Event()

        def poller():
            t_stop = time.perf_counter() + a.max_wait
            while time.perf_counter() < t_stop:
                s_, _ = call(cp, "PATCH", poll_path, {"name": 5}, token=access)
                started.set()
                if s_ == 401:
                    box["t"] = time.perf_counter()
                    return
        th = threading.Thread(target=poller)
        th.start()
        started.wait(2)
        t_send = time.perf_counter()
        st, _ = call(ca, "DELETE", "/api/sessions/" + sid, token=access)
        t0 = time.perf_counter()
        if st != 200:
            failures += 1
            th.join()
            continue
        polls, seen = 0, None
        while time.perf_counter() - t0 < a.max_wait:
            polls += 1
            st, _ = call(cb, "PATCH", poll_path, {"name": 5}, token=access)
            if st == 401:
                seen = time.perf_counter()
                break
        th.join()
        if seen is None or "t" not in box:
            failures += 1
            continue
        lat.append((seen - t0) * 1000.0)
        window.append((box["t"] - t_send) * 1000.0)
        if polls == 1:
            first_poll_rejected += 1
    out = {"samples": len(lat), "failures": failures,
           "p50_ms": pct(lat, 50) if lat else None, "p99_ms": pct(lat, 99) if lat else None,
           "max_ms": max(lat) if lat else None,
           "window_p50_ms": pct(window, 50) if window else None, "window_p99_ms": pct(window, 99) if window else None,
           "window_max_ms": max(window) if window else None,
           "first_poll_rejected": first_poll_rejected,
           "poll_rtt_p50_ms": pct(rtts, 50) * 1000.0 if rtts else None}
    print(json.dumps(out))


# --- agent ----------------------------------------------------------------------------------------

def frame(obj):
    b = json.dumps(obj).encode()
    return struct.pack(">I", len(b)) + b


def read_frame(s):
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise EOFError("agent closed the socket")
            buf += chunk
        return buf
    (n,) = struct.unpack(">I", exact(4))
    return json.loads(exact(n))


def cmd_agent(a):
    """`token` latency twice: over one kept-open local socket (the IPC request alone) and as the
    `ehr-sessions-agent token` command (process start + connect + request)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(a.socket)
    ipc = []
    for i in range(a.n):
        t = time.perf_counter()
        s.sendall(frame({"type": "token", "id": i + 1}))
        while True:
            r = read_frame(s)
            if r.get("type") == "reply" and r.get("id") == i + 1:
                break
        ipc.append((time.perf_counter() - t) * 1000.0)
        if not r.get("ok"):
            raise SystemExit("agent token failed: %s" % r)
    s.close()
    cli = []
    for i in range(a.n):
        t = time.perf_counter()
        p = subprocess.run([a.agent, "token"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        cli.append((time.perf_counter() - t) * 1000.0)
        if p.returncode != 0 or not p.stdout.strip():
            raise SystemExit("ehr-sessions-agent token failed: %s" % p.stderr.decode()[:300])
    out = {"n": a.n,
           "ipc_p50_ms": pct(ipc, 50), "ipc_p99_ms": pct(ipc, 99), "ipc_max_ms": max(ipc),
           "cli_p50_ms": pct(cli, 50), "cli_p99_ms": pct(cli, 99), "cli_max_ms": max(cli)}
    print(json.dumps(out))


def task_counters(pid):
    """{tid: voluntary + nonvoluntary context switches} for every live thread of pid."""
    res = {}
    for st in glob.glob("/proc/%d/task/*/status" % pid):
        n = 0
        try:
            for line in open(st):
                if line.startswith("voluntary_ctxt_switches") or line.startswith("nonvoluntary_ctxt_switches"):
                    n += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
        res[int(st.split("/")[4])] = n
    return res


def cmd_idle(a):
    """Wake-ups of an idle process: context switches summed over all its threads, sampled every
    0.5 s per thread id (a thread that appears counts from zero: its creation is a wake-up too; a
    thread that exits loses at most its last 0.5 s). Reading /proc does not wake the process."""
    main_tid = a.pid
    last = task_counters(a.pid)
    first = set(last)
    main0 = last.get(main_tid, 0)
    seen_tids, total, per_tid = set(last), 0, {}
    t_end = time.monotonic() + a.seconds
    while time.monotonic() < t_end:
        time.sleep(min(0.5, max(0.0, t_end - time.monotonic())))
        now = task_counters(a.pid)
        for tid, n in now.items():
            total += n - last.get(tid, 0)
            per_tid[tid] = per_tid.get(tid, 0) + n - last.get(tid, 0)
        seen_tids |= set(now)
        last.update(now)
        for tid in list(last):
            if tid not in now:
                del last[tid]
    rss = threads = None
    for line in open("/proc/%d/status" % a.pid):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    per_min = 60.0 / a.seconds
    steady = sum(v for tid, v in per_tid.items() if tid in first and tid in last)
    out = {"seconds": a.seconds, "rss_kib": rss, "threads": threads, "threads_seen": len(seen_tids),
           "wakeups_per_min_all_threads": total * per_min,
           "wakeups_per_min_steady_threads": steady * per_min,
           "wakeups_per_min_main_thread": (last.get(main_tid, 0) - main0) * per_min,
           "wakeups_per_min_busiest_thread": max([v for tid, v in per_tid.items() if tid in first and tid in last],
                                                 default=0) * per_min,
           "wakeups_per_min_busiest_other_thread": max(
               [v for tid, v in per_tid.items() if tid in first and tid in last and tid != main_tid], default=0) * per_min}
    print(json.dumps(out))


# --- parsers --------------------------------------------------------------------------------------

def cmd_wrk(a):
    """wrk output -> a result line: {req/s, percentiles in ms, errors} merged with --meta."""
    raw = None
    for line in open(a.file):
        if line.startswith("BENCHJSON "):
            raw = json.loads(line[len("BENCHJSON "):])
    if raw is None:
        raise SystemExit("no BENCHJSON line in %s" % a.file)
    secs = raw["duration_us"] / 1e6
    if raw["counted"]:
        good = raw["ok"]
        errors = raw["unexpected"] + raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"]
    else:
        good = raw["requests"] - raw["status_errors"]
        errors = raw["status_errors"] + raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"]
    res = {"requests": raw["requests"], "seconds": round(secs, 2), "rps": good / secs if secs else 0,
           "p50_ms": raw["p50_us"] / 1000, "p99_ms": raw["p99_us"] / 1000, "p999_ms": raw["p999_us"] / 1000,
           "max_ms": raw["max_us"] / 1000, "errors": errors, "starved": raw.get("starved", 0), "raw": raw}
    if raw.get("allowed"):
        res["allowed"] = raw["allowed"]
    if a.cpu_ticks is not None and a.hz and raw["requests"]:
        # all requests cost server CPU, answered well or not
        res["cpu_us"] = 1e6 * a.cpu_ticks / a.hz / raw["requests"]
    add_groups(res, a, secs)
    if a.machine_busy is not None:
        # the whole machine's CPU over the run (/proc/stat: everything but idle and iowait), in
        # cores: what a miss against a reference is measured against (2.0 = both cores busy)
        res["machine_cores"] = a.machine_busy
        if a.cpu_ticks is not None and a.hz and secs:
            res["server_cores"] = a.cpu_ticks / a.hz / secs
    res.update(json.loads(a.meta))
    print(json.dumps(res))


def proc_groups(server_pids, roots):
    """CPU ticks so far per group of processes: the server instances by pid (all threads), and
    each of `roots` (name -> pid: this run's PostgreSQL postmaster, Redis, nginx master) with its
    direct children, reaped ones included (cutime/cstime): PostgreSQL backends that exit during a
    run (pgbench's) still count, through the postmaster. Other processes of the same name on the
    machine are not counted."""
    groups = {}
    by_root = {str(pid): name for name, pid in roots.items()}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            raw = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        f = raw[raw.rindex(")") + 2:].split()
        ppid = f[1]
        own = int(f[11]) + int(f[12])  # utime stime
        reaped = int(f[13]) + int(f[14])  # cutime cstime
        if d in server_pids:
            groups["server"] = groups.get("server", 0) + own
        elif d in by_root:
            groups[by_root[d]] = groups.get(by_root[d], 0) + own + reaped
        elif ppid in by_root:
            groups[by_root[ppid]] = groups.get(by_root[ppid], 0) + own + reaped
    return groups


def add_groups(res, a, secs):
    """--groups F0,F1 (procticks before and after) -> res["groups"]: cores per group over the run;
    with --machine-busy (a reference run), the machine's cores too."""
    secs = getattr(a, "wall", None) or secs
    if getattr(a, "groups", None) and secs and a.hz:
        g0, g1 = (json.loads(open(f).read()) for f in a.groups.split(","))
        res["groups"] = {k: max(0, g1.get(k, 0) - g0.get(k, 0)) / a.hz / secs for k in g1}
    if getattr(a, "machine_busy", None) is not None and "machine_cores" not in res:
        res["machine_cores"] = a.machine_busy


def cpu_args(s):
    s.add_argument("--machine-busy", type=float); s.add_argument("--groups"); s.add_argument("--hz", type=int)
    s.add_argument("--wall", type=float)


def cmd_procticks(a):
    roots = dict(kv.split("=", 1) for kv in (a.root or []))
    print(json.dumps(proc_groups(set(a.server_pid or []), {k: int(v) for k, v in roots.items() if v.isdigit()})))


def cmd_pgbench(a):
    """pgbench -l logs (client txno latency_us script epoch_s epoch_us) -> percentiles."""
    lat = []
    for f in glob.glob(a.logs):
        for line in open(f):
            p = line.split()
            if len(p) >= 3 and p[2].isdigit():
                lat.append(int(p[2]) / 1000.0)
    summary = open(a.summary).read()
    tps = None
    for line in summary.splitlines():
        if line.startswith("tps =") :
            tps = float(line.split()[2])
    res = {"requests": len(lat), "rps": tps, "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
           "p999_ms": pct(lat, 99.9), "errors": 0}
    for line in summary.splitlines():
        if "number of failed transactions" in line:
            res["errors"] = int(line.split(":")[1].split()[0])
    add_groups(res, a, None)
    res.update(json.loads(a.meta))
    print(json.dumps(res))


def cmd_redis(a):
    """redis-benchmark (without --csv) -> rps and p50/p99/p99.9 from its percentile distribution."""
    text = open(a.file).read().replace("\r", "\n")
    rps, dist, n = None, [], None
    for line in text.splitlines():
        line = line.strip()
        if "requests completed in" in line:
            n = int(line.split()[0])
        if line.startswith("throughput summary:"):
            rps = float(line.split()[2])
        if "% <=" in line and "(cumulative count" in line:
            p = float(line.split("%")[0])
            v = float(line.split("<=")[1].split()[0])
            dist.append((p, v))

    def at(p):
        for q, v in dist:
            if q >= p:
                return v
        return dist[-1][1] if dist else None
    res = {"requests": n, "rps": rps, "p50_ms": at(50), "p99_ms": at(99), "p999_ms": at(99.9), "errors": 0}
    add_groups(res, a, None)
    res.update(json.loads(a.meta))
    print(json.dumps(res))


def cmd_argon2ref(a):
    """Reference for logins: argon2id with the server's parameters (t=2, m=19 MiB, p=1;
    server/auth/PasswordHasher.h) computed by libargon2 itself (the library the server links,
    called through ctypes), CPU time of this thread. Falls back to the argon2 CLI."""
    import ctypes
    import ctypes.util
    out = {"hashes": a.n}
    lib = None
    for name in ("libargon2.so.1", ctypes.util.find_library("argon2")):
        try:
            lib = ctypes.CDLL(name) if name else None
            if lib:
                break
        except OSError:
            lib = None
    if lib:
        # Without argtypes ctypes passes Python ints as C int: the size_t lengths would carry
        # garbage in their upper halves (seen: ARGON2_SALT_TOO_LONG, -7, now and then).
        f = lib.argon2id_hash_raw
        f.argtypes = [ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t,
                      ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]
        f.restype = ctypes.c_int
        h = ctypes.create_string_buffer(32)
        t0 = time.thread_time()
        for i in range(a.n):
            salt = b"benchsalt%07d" % i
            rc = lib.argon2id_hash_raw(2, 19456, 1, b"bench-password", 14, salt, len(salt), h, 32)
            if rc != 0:
                raise SystemExit("argon2id_hash_raw failed: %d" % rc)
        cpu = time.thread_time() - t0
        out["how"] = "libargon2 (ctypes)"
    else:
        r0 = os.times()
        for i in range(a.n):
            subprocess.run(["argon2", "benchsalt%04d" % i, "-id", "-t", "2", "-k", "19456", "-p", "1", "-r"],
                           input=b"bench-password", stdout=subprocess.DEVNULL, check=True, timeout=30)
        r1 = os.times()
        cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
        out["how"] = "argon2 CLI"
    out.update({"cpu_seconds": cpu, "hashes_per_cpu_second": a.n / cpu if cpu else None,
                "ms_per_hash_cpu": 1000.0 * cpu / a.n})
    out.update(json.loads(a.meta))
    print(json.dumps(out))


# --- report ---------------------------------------------------------------------------------------

def fmt(v, nd=2):
    if v is None:
        return "–"
    if isinstance(v, float):
        if v >= 1000:
            return "{:,.0f}".format(v)
        return ("{:.%df}" % nd).format(v)
    if isinstance(v, int):
        return "{:,}".format(v)
    return str(v)


def cmd_report(a):
    rows = [json.loads(l) for l in open(a.results) if l.strip()]
    by_id = {r["id"]: r for r in rows}
    quick = a.quick
    out = []
    out.append("| # | scenario | conns | req/s | server CPU µs/req | p50 ms | p99 ms | p99.9 ms | errors | vs reference (same run) "
               "| target | met |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    verdicts = []
    for r in rows:
        if r.get("hidden"):
            continue
        ratio = ""
        ref = by_id.get(r.get("ref", ""))
        if ref and ref.get("rps") and r.get("rps"):
            ratio = "%.1f%% of %s" % (100.0 * r["rps"] / ref["rps"], ref["short"])
            ref2 = by_id.get(r.get("ref2", ""))
            if ref2 and ref2.get("rps"):
                ratio += "; %.1f%% of %s" % (100.0 * r["rps"] / ref2["rps"], ref2["short"])
        elif r.get("ratio_text"):
            ratio = r["ratio_text"]
        met = ""
        checks = r.get("checks") or []
        if checks:
            ok = True
            for metric, op, limit in checks:
                if metric == "ratio":
                    v = (r["rps"] / ref["rps"]) if (ref and ref.get("rps") and r.get("rps")) else None
                else:
                    v = r.get(metric)
                good = v is not None and {"<": v < limit, "<=": v <= limit, ">=": v >= limit}[op] if v is not None else False
                ok = ok and good
            met = "n/a (quick)" if quick else ("yes" if ok else "**no**")
            verdicts.append((r["name"], met))
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r.get("num", ""), r["name"], fmt(r.get("conns")), fmt(r.get("rps"), 1), fmt(r.get("cpu_us"), 0),
            fmt(r.get("p50_ms"), 3),
            fmt(r.get("p99_ms"), 3), fmt(r.get("p999_ms"), 3), fmt(r.get("errors")), ratio, r.get("target", ""), met))
        if r.get("machine_cores") is not None:
            r["cpu_note"] = "machine CPU in use %.2f of %d cores%s" % (
                r["machine_cores"], os.cpu_count() or 0,
                (", server %.2f" % r["server_cores"]) if r.get("server_cores") is not None else "")
            groups = dict(r.get("groups") or {})
            if r.get("server_cores") is not None:
                groups.pop("server", None)
            shown = {k: v for k, v in groups.items() if v >= 0.005}
            if shown:
                rest = r["machine_cores"] - sum(groups.values()) - (r.get("server_cores") or 0)
                r["cpu_note"] += ", " + ", ".join("%s %.2f" % kv for kv in sorted(shown.items(), key=lambda kv: -kv[1]))
                r["cpu_note"] += ", the client (wrk, pgbench or redis-benchmark) and everything else %.2f" % max(0.0, rest)
            if r.get("rps"):
                r["cpu_note"] += "; **%.0f µs of machine CPU per request**" % (1e6 * r["machine_cores"] / r["rps"])
    for r in rows:
        if r.get("starved"):
            r["note"] = ((r.get("note") or "") + " the single-use token pool ran out (%d requests not sent): "
                         "req/s is a lower bound" % r["starved"]).strip()
    notes = [r for r in rows if r.get("note")]
    text = "\n".join(out) + "\n"
    if notes:
        text += "\n" + "\n".join("- %s: %s" % (r["name"], r["note"]) for r in notes) + "\n"
    busy = [r for r in rows if r.get("cpu_note") and not r.get("hidden")]
    if busy:
        text += "\nCPU during each run (`/proc/stat`; a scenario whose machine total is near the core count is CPU-bound):\n\n"
        text += "\n".join("- %s: %s" % (r["name"], r["cpu_note"]) for r in busy) + "\n"
    print(text, end="")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("logins"); s.add_argument("--url"); s.add_argument("--password"); s.add_argument("--emails")
    s.add_argument("--out"); s.add_argument("--concurrency", type=int, default=2); s.add_argument("--timeout", type=int, default=300)
    s.set_defaults(f=cmd_logins)
    s = sub.add_parser("propagation"); s.add_argument("--a"); s.add_argument("--b"); s.add_argument("--sessions")
    s.add_argument("--max-wait", type=float, default=2.0); s.set_defaults(f=cmd_propagation)
    s = sub.add_parser("agent"); s.add_argument("--socket"); s.add_argument("--agent"); s.add_argument("--n", type=int, default=100)
    s.set_defaults(f=cmd_agent)
    s = sub.add_parser("idle"); s.add_argument("--pid", type=int); s.add_argument("--seconds", type=float, default=60)
    s.set_defaults(f=cmd_idle)
    s = sub.add_parser("wrk"); s.add_argument("file"); s.add_argument("--meta", default="{}")
    s.add_argument("--cpu-ticks", type=int); cpu_args(s); s.set_defaults(f=cmd_wrk)
    s = sub.add_parser("procticks"); s.add_argument("--server-pid", action="append")
    s.add_argument("--root", action="append", help="NAME=PID: a process and its children")
    s.set_defaults(f=cmd_procticks)
    s = sub.add_parser("pgbench"); s.add_argument("--logs"); s.add_argument("--summary"); s.add_argument("--meta", default="{}")
    cpu_args(s); s.set_defaults(f=cmd_pgbench)
    s = sub.add_parser("redis"); s.add_argument("file"); s.add_argument("--meta", default="{}"); cpu_args(s)
    s.set_defaults(f=cmd_redis)
    s = sub.add_parser("argon2ref"); s.add_argument("--n", type=int, default=20); s.add_argument("--meta", default="{}")
    s.set_defaults(f=cmd_argon2ref)
    s = sub.add_parser("report"); s.add_argument("--results"); s.add_argument("--quick", action="store_true")
    s.set_defaults(f=cmd_report)
    a = p.parse_args()
    a.f(a)


if __name__ == "__main__":
    main()
