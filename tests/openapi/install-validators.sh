#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the OpenAPI checks' npm packages (package.json + package-lock.json here) into DIR,
# once: a later run with the same lock file reuses them. Usage: install-validators.sh DIR
# Without node/npm it says so and exits 0: the tests that need the packages then show as Skipped.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$1
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install-validators: node/npm missing; the OpenAPI checks will be skipped" >&2
  exit 0
fi
stamp=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$stamp" ] && [ -d "$dir/node_modules" ]; then
  exit 0
fi
mkdir -p "$dir"
cp "$here/package.json" "$here/package-lock.json" "$dir/"
rm -f "$dir/.installed"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
echo "$stamp" >"$dir/.installed"
echo "install-validators: OpenAPI validators installed in $dir"
