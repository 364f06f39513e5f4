#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks the bash completion the packages ship (packaging/bash-completion), with bash-completion:
#   - the Debian packages CPack makes from the build (dpkg-deb -c) hold
#     /usr/share/bash-completion/completions/<program> next to /usr/bin/<program>, for
#     ehr-sessions-server and ehr-sessions-agent;
#   - sourced into bash, each script offers every sub-command and every long option that the
#     packaged program's own --help prints (COMP_WORDS/COMP_CWORD set as bash sets them);
#   - a few options complete after their sub-command, option values are skipped.
# Usage: check_bash_completion.sh BUILD_DIR   (env CPACK: the cpack of the build's CMake)
# Exit 77 (CTest: Skipped) without bash-completion (Debian package bash-completion).
set -euo pipefail
build=$1
bash_completion=/usr/share/bash-completion/bash_completion
if [ ! -r "$bash_completion" ]; then
  echo "SKIP: $bash_completion missing (Debian package bash-completion)"
  exit 77
fi

work=$(mktemp -d /tmp/ehrs-completion.XXXXXX)
trap 'rm -rf "$work"' EXIT
"${CPACK:-cpack}" --config "$build/CPackConfig.cmake" -G DEB -B "$work/debs" >"$work/cpack.log" 2>&1 || {
  cat "$work/cpack.log"
  echo "FAIL: cpack could not build the packages"
  exit 1
}
root=$work/root
declare -A package_of # /usr/bin/<program> -> the .deb that ships it
for deb in "$work"/debs/*.deb; do
  dpkg-deb -x "$deb" "$root"
  while read -r path; do
    package_of[$path]=$(basename "$deb")
  done < <(dpkg-deb -c "$deb" | awk '{ print substr($6, 2) }')
done
completions=$root/usr/share/bash-completion/completions

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# Prints, one per line, what the completion of the words "$@" offers: the last word is the
# one being completed ("" after a space). Runs in a fresh bash with only bash-completion and
# the program's script loaded.
offered() {
  local program=$1
  shift
  bash --norc --noprofile -c '
    source "$1" || exit 3
    source "$2" || exit 3
    shift 2
    spec=$(complete -p "${1##*/}") || exit 3
    func=${spec#*-F }
    func=${func%% *}
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    "$func" "${1##*/}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf "%s\n" "${COMPREPLY[@]}"' \
    check "$bash_completion" "$completions/$program" "$@"
}

# expect PROGRAM "WORDS..." CANDIDATE...: each candidate is offered when completing WORDS.
expect() {
  local program=$1 words=$2
  shift 2
  local -a argv
  read -ra argv <<<"$words"
  [[ $words == *" " || -z $words ]] && argv+=("")
  local got
  got=$(offered "$program" "${argv[@]}") || {
    fail "$program: completing '$words' failed"
    return
  }
  for c in "$@"; do
    grep -qxF -- "$c" <<<"$got" || fail "$program $words<TAB> does not offer $c (offers: ${got//$'\n'/ })"
  done
}
# refuse PROGRAM "WORDS..." CANDIDATE...: none of the candidates is offered.
refuse() {
  local program=$1 words=$2
  shift 2
  local -a argv
  read -ra argv <<<"$words"
  [[ $words == *" " || -z $words ]] && argv+=("")
  local got
  got=$(offered "$program" "${argv[@]}") || true
  for c in "$@"; do
    if grep -qxF -- "$c" <<<"$got"; then fail "$program $words<TAB> offers $c"; fi
  done
}

# The sub-commands a program's --help prints, one per line ("user add", "keys rotate", "login").
help_commands() {
  case $1 in
    ehr-sessions-server) # a "Commands:" section: leading lower-case words of each entry
      awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
           on && /^  [a-z]/ { c = ""; for (i = 1; i <= NF && $i ~ /^[a-z][a-z-]*$/; i++) c = c (c == "" ? "" : " ") $i; print c }' ;;
    ehr-sessions-agent) # the "command" argument: "run (default) | login [--server URL] EMAIL | token | ..."
      awk '/^Arguments:/ { on = 1; next } on { sub(/^ *command /, ""); s = s " " $0 }
           END { n = split(s, part, "|"); for (i = 1; i <= n; i++) { split(part[i], w, " "); print w[1] } }' ;;
  esac
}

checked=0
for program in ehr-sessions-server ehr-sessions-agent; do
  binary=$root/usr/bin/$program
  deb=${package_of[/usr/bin/$program]:-}
  [ -n "$deb" ] || continue
  checked=$((checked + 1))
  file=/usr/share/bash-completion/completions/$program
  if [ "${package_of[$file]:-}" != "$deb" ]; then
    fail "$deb ships /usr/bin/$program but not $file"
    continue
  fi
  echo "ok: $deb ships $file"
  help=$("$binary" --help)

  mapfile -t commands < <(help_commands "$program" <<<"$help")
  if ((${#commands[@]} < 2)); then
    fail "$program: could not read the sub-commands from its --help"
    continue
  fi
  # Every word of every sub-command, offered after the words before it.
  for command in "${commands[@]}"; do
    read -ra w <<<"$command"
    prefix=$program
    for word in "${w[@]}"; do
      expect "$program" "$prefix " "$word"
      expect "$program" "$prefix ${word:0:2}" "$word"
      prefix="$prefix $word"
    done
  done
  echo "ok: $program offers its sub-commands: $(IFS=,; echo "${commands[*]}")"

  # Every long option of --help, offered at the top level or after one of the sub-commands.
  all_offered=$(
    offered "$program" "$program" "-"
    for command in "${commands[@]}"; do
      read -ra w <<<"$command"
      offered "$program" "$program" "${w[@]}" "-"
    done
  )
  mapfile -t options < <(grep -oE '^  (-[a-zA-Z], )?--[a-z0-9-]+' <<<"$help" | grep -oE -- '--[a-z0-9-]+')
  missing=()
  for option in "${options[@]}"; do
    grep -qxF -- "$option" <<<"$all_offered" || missing+=("$option")
  done
  if ((${#missing[@]})); then
    fail "$program: options of --help never offered: ${missing[*]}"
  else
    echo "ok: $program offers all ${#options[@]} options of its --help"
  fi
done
if ((checked == 0)); then
  fail "no package ships ehr-sessions-server or ehr-sessions-agent"
fi

# Options after their sub-command, option values.
if [ -f "$completions/ehr-sessions-server" ]; then
  s=ehr-sessions-server
  expect $s "$s user add alice@example.org --" --name --admin --password-stdin --config --database-url
  expect $s "$s user passwd --pass" --password-stdin
  expect $s "$s serve --" --ready-file --port --log-format --config
  refuse $s "$s serve --" --admin --name
  refuse $s "$s migrate --" --ready-file --password-stdin
  expect $s "$s --log-format " auto text json journal
  expect $s "$s --log-format=jo" journal
  expect $s "$s --trusted-proxy-header " Forwarded X-Forwarded-For
  expect $s "$s --port 8000 " serve migrate user
  expect $s "$s --config /etc/server.env user " add mfa-reset
  refuse $s "$s --port " serve migrate
  refuse $s "$s user add " add passwd serve
fi
if [ -f "$completions/ehr-sessions-agent" ]; then
  a=ehr-sessions-agent
  expect $a "$a login --" --server --password-stdin --allow-insecure-http --socket
  expect $a "$a status --" --json
  expect $a "$a token --m" --min-valid
  refuse $a "$a status --" --server --min-valid
  expect $a "$a --socket /run/x.sock " login token status
  refuse $a "$a --server " login
  refuse $a "$a login " login token
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures bash completion check(s) failed"
  exit 1
fi
echo "all bash completion checks passed"
