#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets of tests/fuzz/ with clang (ASan + UBSan) in build-fuzz/, replays
# the saved regression inputs, then fuzzes each target for a bounded time over a copy of its seed
# corpus. Prints one line per target and exits non-zero if any target crashed.
#
#   scripts/fuzz.sh [--seconds N] [--ci] [--jobs N] [TARGET...]
#
#   --seconds N  fuzzing time per target (default 60); longer runs: --seconds 3600
#   --ci         30 s per target
#   --jobs N     build jobs, and targets fuzzed at the same time (default $EHRS_JOBS or 1)
#   TARGET       fuzz_jwt fuzz_json_bodies fuzz_user_agent fuzz_ipc_frames fuzz_config
#                fuzz_http_request (default: all)
#
# A crash, leak, timeout or out-of-memory input is written to tests/fuzz/crashes/<target>/ and
# copied to tests/fuzz/regressions/<target>/, whose files every later run replays first (commit
# them with the fix). While a regression input still fails, its target is not fuzzed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EHRS_FUZZ_BUILD_DIR:-$root/build-fuzz}
fuzzdir=$root/tests/fuzz
all_targets=(fuzz_jwt fuzz_json_bodies fuzz_user_agent fuzz_ipc_frames fuzz_config fuzz_http_request)

seconds=60
jobs=${EHRS_JOBS:-1}
targets=()
usage() { sed -n '7,13p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --seconds) seconds=${2:-}; shift 2 || shift ;;
    --ci) seconds=30; shift ;;
    --jobs) jobs=${2:-}; shift 2 || shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *)
      if [[ " ${all_targets[*]} " != *" $1 "* ]]; then
        echo "fuzz.sh: unknown target $1 (known: ${all_targets[*]})" >&2
        exit 2
      fi
      targets+=("$1"); shift ;;
  esac
done
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --seconds needs a positive number" >&2; exit 2; }
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --jobs needs a positive number" >&2; exit 2; }
((${#targets[@]})) || targets=("${all_targets[@]}")

log() { echo "fuzz.sh: $*" >&2; }

# Toolchain: Debian's clang 14 with its compiler-rt (libFuzzer and the sanitizer runtimes), plus
# the project's build dependencies.
bash "$root/scripts/install-deps.sh" build >&2
missing=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$build/logs"
start=$SECONDS
if ! { CC=clang CXX=clang++ cmake -S "$fuzzdir" -B "$build" -G Ninja &&
       cmake --build "$build" -j "$jobs" --target "${targets[@]}"; } >"$build/logs/build.log" 2>&1; then
  tail -n 40 "$build/logs/build.log" >&2
  log "build failed (full log: $build/logs/build.log)"
  exit 1
fi
log "built ${#targets[@]} targets in $((SECONDS - start)) s; fuzzing each for $seconds s"

# ASan's default 256 MB quarantine makes a long run's RSS creep towards -rss_limit_mb; 64 MB
# still catches use-after-free of anything these targets allocate.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# What went wrong, from a libFuzzer log: a harness check, a sanitizer report or libFuzzer's own.
reason() {
  local logfile=$1 line
  if line=$(grep -m1 -A1 '^==FUZZ_CHECK failed==' "$logfile"); then
    line=$(tr -s ' \n' ' ' <<<"$line" | sed 's/^==FUZZ_CHECK failed== //')
  elif line=$(grep -m1 'runtime error:' "$logfile"); then :
  elif line=$(grep -m1 '^SUMMARY: ' "$logfile"); then :
  elif line=$(grep -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)' "$logfile"); then :
  else line="no report, see ${logfile#"$root"/}"
  fi
  line=$(sed "s|$root/||g; s/^ *//; s/ *$//" <<<"$line")
  ((${#line} <= 240)) || line="${line:0:240}..."
  echo "$line"
}

runs_of() { # executed inputs, from -print_final_stats or else the last status line
  local n
  n=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$1" | tail -n1)
  [ -n "$n" ] || n=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$1" | tail -n1)
  echo "${n:-0}"
}

# Replays, then fuzzes, one target; writes its one-line result to $build/logs/<target>.result
# and returns non-zero when it failed.
run_target() {
  local t=$1
  local bin=$build/$t tlog=$build/logs/$t.log result=$build/logs/$t.result
  local crashes=$fuzzdir/crashes/$t regressions=$fuzzdir/regressions/$t corpus=$build/corpus/$t
  mkdir -p "$crashes"

  # 1. Every input that once crashed must pass now.
  local input broken=() first_reason=""
  if [ -d "$regressions" ]; then
    while IFS= read -r -d '' input; do
      if ! "$bin" -timeout=10 -rss_limit_mb=2048 "$input" >"$tlog.replay" 2>&1; then
        broken+=("$input")
        [ -n "$first_reason" ] || first_reason=$(reason "$tlog.replay")
      fi
    done < <(find "$regressions" -type f ! -name '.*' -print0 | sort -z)
  fi
  if ((${#broken[@]})); then
    echo "$t: ${#broken[@]} regression input(s) fail, e.g. ${broken[0]#"$root"/}: $first_reason (not fuzzed)" >"$result"
    return 1
  fi

  # 2. Fuzz over a working copy of the seeds (it also keeps what earlier local runs found); the
  #    committed seeds stay as they are.
  mkdir -p "$corpus"
  cp -n "$fuzzdir/corpus/$t"/* "$corpus"/ 2>/dev/null || true
  local dict=()
  [ -f "$fuzzdir/dict/$t.dict" ] && dict=(-dict="$fuzzdir/dict/$t.dict")
  local stamp=$build/logs/$t.stamp status=0
  touch "$stamp"
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "${dict[@]}" "$corpus" >"$tlog" 2>&1 || status=$?
  local runs
  runs=$(runs_of "$tlog")
  if [ "$status" -eq 0 ]; then
    echo "$t: $runs runs, ok" >"$result"
    return 0
  fi
  local new
  new=$(find "$crashes" -type f -newer "$stamp" ! -name 'slow-unit-*' | head -n1)
  if [ -n "$new" ]; then
    mkdir -p "$regressions"
    cp "$new" "$regressions/"
    echo "$t: CRASH after $runs runs: $(reason "$tlog"); input ${new#"$root"/} (now also a regression input)" >"$result"
  else
    echo "$t: CRASH after $runs runs (exit $status): $(reason "$tlog")" >"$result"
  fi
  return 1
}

failed=0
if ((jobs == 1)); then
  for t in "${targets[@]}"; do
    run_target "$t" || failed=1
    cat "$build/logs/$t.result"
  done
else
  running=0
  for t in "${targets[@]}"; do
    if ((running >= jobs)); then
      wait -n || failed=1
      running=$((running - 1))
    fi
    run_target "$t" &
    running=$((running + 1))
  done
  while ((running > 0)); do
    wait -n || failed=1
    running=$((running - 1))
  done
  for t in "${targets[@]}"; do cat "$build/logs/$t.result"; done
fi
log "done in $((SECONDS - start)) s"
exit "$failed"
