#!/usr/bin/env bash
# Clang's thread-safety analysis over lib/: every library translation unit
# (not the *_test.cc files) compiled with clang-14 -fsyntax-only
# -Wthread-safety -Werror=thread-safety, with the flags of the debug build
# (its compile_commands.json). Fails on any thread-safety warning: a
# GUARDED_BY member touched without its lock, a REQUIRES function called
# without it, a lock not released (pmemd/thread_annotations.h).
#
#   scripts/thread-safety.sh [BUILD_DIR [REGEX]]
# BUILD_DIR defaults to build/debug (configured); REGEX checks only the
# sources whose path matches it (while fixing one file).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/debug}
only=${2:-}
db=$build/compile_commands.json
clang=${PMEMD_TSA_CLANG:-clang++-14}
[[ -f $db ]] || { echo "thread-safety: no $db; run: cmake --preset debug" >&2; exit 1; }
command -v "$clang" >/dev/null || { echo "thread-safety: no $clang; run scripts/deps.sh" >&2; exit 1; }

# The compile database is JSON; CMake reads it, so no other tool is needed.
# One line per translation unit under lib/: "<directory>\t<command>".
helper=$(mktemp --suffix=.cmake)
list=$(mktemp)
trap 'rm -f "$helper" "$list"' EXIT
cat >"$helper" <<'CMAKE'
file(READ "${DB}" db)
string(JSON n LENGTH "${db}")
math(EXPR last "${n} - 1")
set(out "")
foreach(i RANGE ${last})
  string(JSON file GET "${db}" ${i} file)
  if(NOT file MATCHES "/lib/[^/]+/[^/]+\\.cc$" OR file MATCHES "_test\\.cc$")
    continue()
  endif()
  string(JSON dir GET "${db}" ${i} directory)
  string(JSON cmd GET "${db}" ${i} command)
  string(APPEND out "${dir}\t${cmd}\n")
endforeach()
file(WRITE "${OUT}" "${out}")
CMAKE
cmake -DDB="$db" -DOUT="$list" -P "$helper"
if [[ -n $only ]]; then grep -E "$only" "$list" >"$list.only" || true; mv "$list.only" "$list"; fi
[[ -s $list ]] || { echo "thread-safety: no lib/ sources in $db" >&2; exit 1; }

# Each command, as the shell would run it (its quoting is the shell's), with
# the compiler swapped for clang and the output dropped.
check() {
  local dir=${1%%$'\t'*} cmd=${1#*$'\t'}
  eval "set -- $cmd"
  shift  # the compiler (CMake leaves the launcher out of the database)
  local args=() a
  while (($#)); do
    a=$1; shift
    case $a in
      -o) shift ;;
      -c) ;;
      *) args+=("$a") ;;
    esac
  done
  (cd "$dir" && "$PMEMD_TSA_CLANG_BIN" -fsyntax-only -ferror-limit=0 -Wthread-safety -Werror=thread-safety "${args[@]}")
}
export -f check
export PMEMD_TSA_CLANG_BIN=$clang
n=$(wc -l <"$list")
echo "thread-safety: $n translation units of lib/ with $clang -Wthread-safety"
if ! tr '\n' '\0' <"$list" | xargs -0 -n1 -P"${PMEMD_TSA_JOBS:-2}" bash -c 'check "$1"' check; then
  echo "thread-safety: FAILED (warnings above)" >&2
  exit 1
fi
echo "thread-safety: ok"
