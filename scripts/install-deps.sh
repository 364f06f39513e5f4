#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages EHR Sessions needs. Usage: install-deps.sh [build|run|test|all]
set -euo pipefail
what=${1:-build}

build_pkgs=(build-essential cmake ninja-build pkg-config
  qt6-base-dev qt6-base-dev-tools qt6-svg-dev libqt6sql6-psql libqt6sql6-sqlite libgl-dev
  qtkeychain-qt6-dev libssl-dev nlohmann-json3-dev libpq-dev libhiredis-dev libargon2-dev
  libexpected-dev libqrencode-dev libhttp-parser-dev libmaxminddb-dev help2man dpkg-dev
  liboath-dev prometheus-cpp-dev libsystemd-dev libcrypt-dev libcurl4-openssl-dev)
run_pkgs=(dbus-user-session gnome-keyring libsecret-tools)
test_pkgs=(postgresql-15 postgresql-client-15 redis-server redis-tools
  dbus dbus-x11 gnome-keyring libsecret-tools procps curl openssl python3
  wrk nginx-light argon2 xvfb xauth
  systemd oathtool prometheus bash-completion apache2-utils python3-aiosmtpd)
# The OpenAPI checks install their validators from npm into build/npm (tests/openapi); Node.js
# comes from Debian unless the machine already has one.
command -v node >/dev/null && command -v npm >/dev/null || test_pkgs+=(nodejs npm)

pkgs=("${build_pkgs[@]}")
case "$what" in
  run) pkgs+=("${run_pkgs[@]}") ;;
  test|all) pkgs+=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
