#!/usr/bin/env bash
# Installs the Debian 12 packages pmemd builds and tests with. As root,
# missing packages are installed with apt-get; otherwise the exact command
# is printed and the script fails.
#
#   scripts/deps.sh          build and unit/integration test dependencies
#   scripts/deps.sh --vm     also what the QEMU real-kernel tests need
set -euo pipefail

pkgs=(build-essential cmake pkg-config
      libndctl-dev libdaxctl-dev libpmem2-dev libboost-dev libspdlog-dev nlohmann-json3-dev
      libgtest-dev libgmock-dev libbenchmark-dev libsystemd-dev uuid-dev
      clang-14 libfuzzer-14-dev util-linux systemd groff-base
      dpkg-dev lintian file python3 python3-prometheus-client python3-jsonschema)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "deps: missing packages; run as root:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [[ ${1:-} == --vm ]]; then
  exec "$(dirname "$0")/vm-deps.sh"
fi
