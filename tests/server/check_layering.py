#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that the server's folders depend one way (docs/architecture.md, "Server folders").

Reads the quoted #include lines of server/**/*.{h,cpp}, resolves each the way the compiler does
(the including file's folder, then server/, then common/) and fails when:
  1. a folder includes a folder of the same tier or of a higher one (TIERS below, bottom first);
  2. a .cpp defines what a header of another folder declares (its own header, by name, lives
     elsewhere: server/app/Logging.cpp once defined the categories of server/Logging.h);
  3. a header of common/ is used by the server alone (nothing in agent/ or app/ reaches it):
     common/ is what the three programs share; the server's own code lives in server/.
Usage: check_layering.py [REPO_ROOT]; exits 1 and prints one line per violation.
"""
import pathlib
import re
import sys

# Bottom first. A folder may include folders of lower tiers only; folders of one tier are
# independent of each other. "<top>" is server/*.h|cpp (logging), "<main>" is server/main.cpp.
TIERS = [
    ["<top>"],
    ["http", "db", "cache", "metrics", "geo", "keys"],
    ["ratelimit", "audit", "policy"],  # policy: the session-policy model and its table
    ["config"],  # ServerConfig carries the RateLimitRule values
    ["auth", "risk"],  # risk/: suspicious sign-in scoring, used by sessions/
    ["sessions"],
    ["mfa", "mail"],  # mail/: account emails from the audit log (sessions/SessionEvents' rows)
    ["account"],  # the user's own account changes: password change needs sessions/ and mfa/
    ["workstation"],  # shared workstations: PIN, park, resume (uses sessions/ and cache/)
    ["api"],
    ["wiring"],
    ["app"],
    ["cli"],  # `serve` runs the ServerApp
    ["<main>"],
]
RANK = {folder: rank for rank, tier in enumerate(TIERS) for folder in tier}

# common/ headers the design puts there although only the server uses them today (DESIGN.md:
# "token and crypto helpers").
COMMON_SERVER_ONLY_ALLOWED = {"Jwt.h", "Ed25519JwtKey.h"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def includes(path):
    return INCLUDE.findall(path.read_text(encoding="utf-8", errors="replace"))


def resolve(root, source, name):
    """The file a quoted include names, or None for one outside the tree (generated, system).
    Searched like the compiler does: the including file's folder, then its program's folder
    (server/, agent/ or app/), then common/."""
    program = root / source.relative_to(root).parts[0]
    for base in (source.parent, program, root / "common"):
        candidate = (base / name).resolve()
        if candidate.is_file():
            return candidate
    return None


def server_folder(root, path):
    rel = path.relative_to(root / "server")
    if len(rel.parts) == 1:
        return "<main>" if rel.name == "main.cpp" else "<top>"
    return rel.parts[0]


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parents[2]).resolve()
    server, common = root / "server", root / "common"
    problems = []

    files = sorted(p for p in server.rglob("*") if p.suffix in (".h", ".cpp"))
    for source in files:
        folder = server_folder(root, source)
        where = source.relative_to(root)
        if folder not in RANK:
            problems.append(f"{where}: folder '{folder}' has no tier in {pathlib.Path(__file__).name}")
            continue
        for name in includes(source):
            target = resolve(root, source, name)
            if target is None:
                continue
            if target.is_relative_to(server):
                to = server_folder(root, target)
                if to == folder:
                    continue
                if to not in RANK or RANK[to] >= RANK[folder]:
                    problems.append(f'{where}: {folder} includes "{name}" of {to}: '
                                    f"a folder includes only lower tiers")
                if source.suffix == ".cpp" and target.stem == source.stem:
                    problems.append(f"{where}: defines what {target.relative_to(root)} declares: "
                                    f"keep it next to its header")
            elif not target.is_relative_to(common):
                problems.append(f'{where}: includes "{name}" from outside server/ and common/')

    # Headers of common/ that agent/ or app/ reach, directly or through other common files.
    reached, queue = set(), []
    for program in ("agent", "app"):
        for source in (root / program).rglob("*"):
            if source.suffix in (".h", ".cpp"):
                queue += [resolve(root, source, n) for n in includes(source)]
    while queue:
        target = queue.pop()
        if target is None or not target.is_relative_to(common) or target in reached:
            continue
        reached.add(target)
        for companion in (target, target.with_suffix(".cpp")):
            if companion.is_file():
                queue += [resolve(root, companion, n) for n in includes(companion)]
    for header in sorted(common.rglob("*.h")):
        if header not in reached and header.name not in COMMON_SERVER_ONLY_ALLOWED:
            problems.append(f"{header.relative_to(root)}: neither agent/ nor app/ uses it: "
                            "what only the server uses belongs in server/, what nothing uses nowhere")

    for line in problems:
        print(line)
    print(f"{len(problems)} layering problem(s) in {len(files)} server files", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
