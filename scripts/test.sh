#!/usr/bin/env bash
# README command 2 (and what CI runs): install what is missing, build, and
# run every test through CTest:
#   1. debug build, Clang's thread-safety analysis over lib/
#      (scripts/thread-safety.sh), then unit, integration, package (the
#      .deb and lintian) and benchmark smoke tests (not the mutation check,
#      label mutation: scripts/mutate-persist.sh);
#   2. the QEMU real-kernel tests (label vm) against the debug binaries,
#      then against release binaries (a verdict must not depend on how
#      fast the build is: a release pmemd finishes operations a debug one
#      is still in);
#   3. the unit tests under AddressSanitizer+UBSan, then ThreadSanitizer;
#   4. each libFuzzer target for PMEMD_FUZZ_SECONDS (default 60) from its
#      checked-in corpus (clang-14, ASan+UBSan; tests/fuzz/README.md).
# Set PMEMD_SKIP_VM=1 to leave out step 2 on a machine where you know QEMU
# cannot run (CI never sets it: there a missing QEMU is a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

step() { printf '\n=== %s ===\n' "$*"; }

# ctest, then a check that nothing was skipped unless scripts/skip-allowlist
# says it may be: a skipped test is a test that did not run.
run_ctest() {
  local log
  log=$(mktemp)
  local rc=0
  ctest "$@" 2>&1 | tee "$log" || rc=$?
  ((rc == 0)) || { rm -f "$log"; return "$rc"; }
  local skipped allowed=() bad=()
  skipped=$(sed -n 's/^[[:space:]]*[0-9]\+ - \([^ ]*\) (Skipped)$/\1/p' "$log")
  rm -f "$log"
  [[ -z $skipped ]] && return 0
  while read -r entry _; do
    [[ -z $entry || $entry == \#* ]] && continue
    if [[ $entry == nonroot:* ]]; then
      [[ $(id -u) -ne 0 ]] && allowed+=("${entry#nonroot:}")
    else
      allowed+=("$entry")
    fi
  done < scripts/skip-allowlist
  echo "skipped: $(echo $skipped)"
  for t in $skipped; do
    local ok=0 pattern
    for pattern in "${allowed[@]}"; do
      # shellcheck disable=SC2053  # the entry is a glob
      [[ $t == $pattern ]] && ok=1 && break
    done
    ((ok)) || bad+=("$t")
  done
  if ((${#bad[@]})); then
    echo "FAIL: skipped and not in scripts/skip-allowlist: ${bad[*]}" >&2
    return 1
  fi
}

step "dependencies"
if [[ ${PMEMD_SKIP_VM:-0} == 1 ]]; then scripts/deps.sh; else scripts/deps.sh --vm; fi

step "debug build"
cmake --preset debug >/dev/null
cmake --build --preset debug -j"$jobs"

step "thread-safety analysis (clang-14 -Wthread-safety over lib/)"
PMEMD_TSA_JOBS=$jobs scripts/thread-safety.sh build/debug

step "unit, integration, package and benchmark smoke tests"
run_ctest --preset debug -LE 'vm|mutation' -j"$jobs"

if [[ ${PMEMD_SKIP_VM:-0} != 1 ]]; then
  step "real-kernel tests in QEMU, debug binaries"
  run_ctest --preset debug -L vm
  step "real-kernel tests in QEMU, release binaries"
  cmake --preset release >/dev/null
  cmake --build --preset release -j"$jobs" --target pmemd pmemctl pmemd_docs
  run_ctest --test-dir build/release -L vm
fi

for san in asan tsan; do
  step "unit tests under $san"
  cmake --preset "$san" >/dev/null
  cmake --build --preset "$san" -j"$jobs"
  run_ctest --preset "$san" -j"$jobs"
done

step "fuzzing, ${PMEMD_FUZZ_SECONDS:-60} s per target"
cmake --preset fuzz -DPMEMD_FUZZ_SECONDS="${PMEMD_FUZZ_SECONDS:-60}" >/dev/null
cmake --build --preset fuzz -j"$jobs"
run_ctest --preset fuzz

step "all tests passed"
