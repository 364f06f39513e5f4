#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks packaging/prometheus with Prometheus's own tool:
#   promtool check rules   ehr-sessions.rules.yml (syntax, PromQL, templates)
#   promtool test rules    ehr-sessions.rules.test.yml (the alerts fire when, and only when, meant to)
#   the Grafana dashboard's queries, parsed by promtool as recording rules
# and that the rules and the dashboard name only metrics docs/operations.md documents, and the
# dashboard shows every one of them. Usage: check_prometheus_rules.sh SOURCE_DIR
# Exit 77 (CTest: Skipped) without promtool (Debian package prometheus).
set -euo pipefail
src=$1
dir=$src/packaging/prometheus
if ! command -v promtool >/dev/null; then
  echo "SKIP: promtool not installed (Debian package prometheus)"
  exit 77
fi
work=$(mktemp -d /tmp/ehrs-promtool.XXXXXX)
trap 'rm -rf "$work"' EXIT

promtool check rules "$dir/ehr-sessions.rules.yml"
(cd "$dir" && promtool test rules ehr-sessions.rules.test.yml)

python3 - "$dir/ehr-sessions.grafana.json" "$dir/ehr-sessions.rules.yml" "$src/docs/operations.md" "$work/dashboard.rules.yml" <<'PY'
import json, re, sys
dash_path, rules_path, ops_path, out_path = sys.argv[1:]
dash = json.load(open(dash_path))
exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
# Grafana's variables, as Grafana would substitute them.
subst = {"$__rate_interval": "5m", "$__range": "1h", "$instance": ".*"}
with open(out_path, "w") as out:
    out.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        for k, v in subst.items():
            e = e.replace(k, v)
        out.write(f"      - record: dashboard:panel_{i}\n        expr: {json.dumps(e)}\n")

metric = re.compile(r"\behrs_[a-z_]+")
def base(name):
    return re.sub(r"_(bucket|sum|count)$", "", name)
ops = open(ops_path).read()
section = ops[ops.index("## Metrics"):]
section = section[:section.index("\n## ", 3)]
documented = {m for m in metric.findall(section)}
used_rules = {base(m) for m in metric.findall(open(rules_path).read())}
used_dash = {base(m) for e in exprs for m in metric.findall(e)}
errors = []
for name in sorted((used_rules | used_dash) - documented):
    errors.append(f"{name} is used by the rules or the dashboard but not documented in docs/operations.md")
for name in sorted(documented - used_dash):
    errors.append(f"{name} is documented but the dashboard does not show it")
for e in errors:
    print("FAIL:", e)
print(f"{len(exprs)} dashboard queries; {len(documented)} documented metrics")
sys.exit(1 if errors else 0)
PY
promtool check rules "$work/dashboard.rules.yml"
echo "all Prometheus checks passed"
