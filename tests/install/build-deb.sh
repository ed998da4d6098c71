#!/usr/bin/env bash
# Build the Debian package of a build tree (cpack -G DEB, cmake/package.cmake)
# into OUT_DIR and print its path. The tree's targets must be built: cpack
# installs what is there, it builds nothing.
#
# Usage: build-deb.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=$(readlink -f "${1:?usage: build-deb.sh BUILD_DIR OUT_DIR}")
out=${2:?usage: build-deb.sh BUILD_DIR OUT_DIR}
mkdir -p "$out"
out=$(readlink -f "$out")
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || { echo "build-deb: $tool is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
# CPack's own scratch tree stays out of the build tree, so parallel runs
# (a debug and a release test) do not share it.
log=$out/cpack.log
rm -f "$out"/*.deb
if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$out" >"$log" 2>&1; then
  cat "$log" >&2
  echo "build-deb: cpack failed" >&2
  exit 1
fi
deb=$(ls "$out"/*.deb 2>/dev/null | head -n1)
[[ -n $deb ]] || { cat "$log" >&2; echo "build-deb: cpack made no .deb in $out" >&2; exit 1; }
rm -rf "$out/_CPack_Packages"
echo "$deb"
