#!/usr/bin/env bash
# README command 1: install what is missing, build, and start pmemd in the
# foreground on its embedded defaults (the emulated platform: one sparse
# 8 GiB region file under the per-user state directory, the socket in the
# per-user runtime directory). No root needed. Extra arguments go to pmemd.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target pmemd pmemctl

bin=$PWD/build/release
echo
echo "pmemctl is $bin/ctl/pmemctl; in another terminal:"
echo "  export PATH=$bin/ctl:\$PATH"
echo "  pmemctl list            # regions, namespaces, dax devices, memory blocks"
echo "  pmemctl version"
echo
# --platform emulated: the tour, also when run as root (where auto would
# choose the real platform, empty on a machine without pmem).
exec "$bin/daemon/pmemd" --platform emulated "$@"
