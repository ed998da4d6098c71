#!/usr/bin/env bash
# Make sure the host has the Debian packages the QEMU real-kernel tests
# (tests/vm) need. As root, missing packages are installed with apt-get;
# otherwise the exact command to run is printed and the script fails, so a
# missing dependency is never mistaken for a passing (or skipped) test.
#
#   scripts/vm-deps.sh           check, install what is missing when root
#   scripts/vm-deps.sh --check   check only, never install
set -euo pipefail

# package -> a file it provides that the harness uses
declare -A kProvides=(
  [qemu-system-x86]=/usr/bin/qemu-system-x86_64
  [busybox-static]=/bin/busybox
  [kmod]=/bin/kmod
  [ndctl]=/usr/bin/ndctl
  [daxctl]=/usr/bin/daxctl
  [cpio]=/usr/bin/cpio
  [jq]=/usr/bin/jq
  [xz-utils]=/usr/bin/xz
  # the systemd guest's root disk (tests/vm/build-rootfs.sh)
  [mmdebstrap]=/usr/bin/mmdebstrap
  [genext2fs]=/usr/bin/genext2fs
  [e2fsprogs]=/sbin/resize2fs
)

check_only=0
[[ ${1:-} == --check ]] && check_only=1

missing=()
for pkg in "${!kProvides[@]}"; do
  # busybox-static and busybox both ship /bin/busybox; only the static one
  # runs in the guest without its own loader, so ask dpkg for the package.
  if [[ $pkg == busybox-static ]]; then
    dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  elif [[ ! -x ${kProvides[$pkg]} ]]; then
    missing+=("$pkg")
  fi
done

((${#missing[@]} == 0)) && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort)
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if ((check_only)) || ((EUID != 0)); then
  echo "vm-deps: missing Debian packages: ${missing[*]}" >&2
  echo "vm-deps: install them with:  sudo $cmd" >&2
  exit 1
fi

echo "vm-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $cmd >&2; then
  # Stale package lists are the usual reason; refresh once and retry.
  apt-get update >&2
  $cmd >&2
fi
