#!/usr/bin/env bash
# Mutation check of durability: for each call in lib/pool that makes pool
# state durable, build a mutant that removes it and one that persists only
# half its range, and run the crash tests against each. Every mutant must be
# killed (some test fails); one that survives is a persist no test guards.
#
#   scripts/mutate-persist.sh            all mutants (about 1 minute each on 2 cores)
#   scripts/mutate-persist.sh --list     only list them
#
# The mutants are built in a scratch copy of the tree (build/mutation/), so
# the checkout is never modified. CTest runs this as the test
# "mutate_persist" (label "mutation", left out of scripts/test.sh's runs:
# it takes several minutes). docs/pool-format.md records the last result.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/build/mutation
tests='PowerLoss*:PoolCrash*:PoolMemmap*'

mutants=$(python3 - "$root/lib/pool" <<'EOF'
import os, re, sys
# A call site: media->Persist(...), m->Persist(...), media->Write(...),
# m->Write(...), and Persist(...) inside Media::Write. Each gives "remove"
# and (for Persist) "halve"; Write's remove keeps the store, drops the persist.
root = sys.argv[1]
for name in sorted(os.listdir(root)):
    if not name.endswith(('.cc', '.h')) or '_test' in name:
        continue
    text = open(os.path.join(root, name)).read()
    for m in re.finditer(r'(?:\b(?:media|m)->)?\b(Persist|Write)\(', text):
        line = text.count('\n', 0, m.start()) + 1
        src = text.splitlines()[line - 1]
        if re.match(r'\s*(Status|//)', src) and 'return' not in src:
            continue  # the definitions themselves
        # Writes whose loss alone loses nothing, so no test can kill them:
        # who attached last (advisory: the OFD lock is what excludes); a
        # header copy rewritten from the good one (lost, it is rewritten at
        # the next attach); and either one of format's two header copies
        # (both were invalidated durably first, and attach takes the good
        # copy and repairs the other).
        if any(step in src for step in ('"attach-info"', '"detach-info"', '"header-repair-', '"format-header-')):
            continue
        kinds = ['remove', 'halve'] if m.group(1) == 'Persist' else ['remove']
        for k in kinds:
            print(f'{name}:{m.start()}:{line}:{m.group(1)}:{k}')
EOF
)

if [[ ${1:-} == --list ]]; then
  echo "$mutants"
  exit 0
fi

mkdir -p "$work"
rsync -a --delete --exclude build --exclude .git "$root/" "$work/src/"
# The sources as they were listed: edits to the checkout during the run
# must not move the mutation points.
rsync -a --delete "$root/lib/pool/" "$work/orig/"
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Debug -DPMEMD_BUILD_BENCH=OFF >/dev/null
total=0 killed=0 survived=() broken=()
for m in $mutants; do
  IFS=: read -r file offset line what kind <<<"$m"
  cp "$work/orig/$file" "$work/src/lib/pool/$file"
  python3 - "$work/src/lib/pool/$file" "$offset" "$what" "$kind" <<'EOF'
import sys
path, off, what, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = open(path).read()
start = s.index('(', off)
depth, i = 0, start
while True:  # the matching parenthesis
    depth += {'(': 1, ')': -1}.get(s[i], 0)
    if depth == 0:
        break
    i += 1
args, end = s[start + 1:i], i + 1
parts, depth, cur = [], 0, ''
for ch in args:
    if ch == ',' and depth == 0:
        parts.append(cur); cur = ''
        continue
    depth += {'(': 1, ')': -1}.get(ch, 0)
    cur += ch
parts.append(cur)
if what == 'Persist' and kind == 'remove':
    new = 'Status::Ok()'
    s = s[:off] + new + s[end:]
elif what == 'Persist':
    parts[1] = f' ({parts[1].strip()}) / 2'
    s = s[:start + 1] + ','.join(parts) + s[i:]
else:  # Write -> Store: the bytes are stored, never persisted
    call = s[off:start]
    s = s[:off] + call.replace('Write', 'Store') + '(' + ','.join(parts[:3]) + ')' + s[end:]
open(path, 'w').write(s)
EOF
  total=$((total + 1))
  label="$file:$line $what $kind"
  if ! cmake --build "$work/build" -j"$(nproc)" --target pmemd_unit_tests >"$work/build.log" 2>&1; then
    echo "mutant $label: DOES NOT COMPILE (a bug in this script's mutator)"; broken+=("$label")
  elif "$work/build/lib/pmemd_unit_tests" --gtest_filter="$tests" >"$work/test.log" 2>&1; then
    echo "mutant $label: SURVIVED"; survived+=("$label")
  else
    by=$(sed -n 's/^\[  FAILED  \] \([A-Za-z]*\.[A-Za-z]*\) .*/\1/p' "$work/test.log" | head -1)
    echo "mutant $label: killed by ${by:-a failing test}"
    killed=$((killed + 1))
  fi
  cp "$work/orig/$file" "$work/src/lib/pool/$file"
done
echo "mutation check: $killed of $total persist mutants killed"
((${#broken[@]} == 0)) || { printf 'did not compile: %s\n' "${broken[@]}" >&2; exit 1; }
((${#survived[@]} == 0)) || { printf 'survived: %s\n' "${survived[@]}" >&2; exit 1; }
