#!/usr/bin/env bash
# Prepare, once, the root disk of the systemd guest (scenarios with
# guest=systemd): a minimal Debian 12 userspace with systemd as PID 1, built
# by mmdebstrap from the same archive the host's apt uses, as an ext2 image
# (genext2fs: no root, no loop device, no mount needed to make it).
#
#   <cache>/rootfs-<key>/rootfs.ext2   the image; run-vm-test boots it with
#                                      snapshot=on, so a run never changes it
#   <cache>/rootfs-<key>/packages      what is installed (dpkg -l), for logs
#
# Contents: --variant=minbase, systemd, udev, dbus (systemctl and
# systemd-analyze security talk to the manager through it), kmod, ndctl,
# daxctl, jq, and EXTRA_PACKAGES (run-vm-test passes the .deb's Depends:, so
# that `dpkg -i` in the offline guest finds them). The pmem module closure of
# the base initramfs is copied into /usr/lib/modules and listed in
# modules-load.d, so systemd-modules-load loads it as on a real host. Units
# that only slow a TCG boot down (gettys, timers) are masked.
#
# <key> hashes the inputs: this script, the package list, the host's apt
# sources and the base directory (kernel + modules, from build-base.sh). It
# is not rebuilt when the archive moves on: delete the cache to refresh it.
# Prints the directory on stdout; all else goes to stderr.
#
# Usage: build-rootfs.sh BASE_DIR [EXTRA_PACKAGES...]
# Env:   PMEMD_VM_CACHE  as build-base.sh
set -euo pipefail

base=${1:?usage: build-rootfs.sh BASE_DIR [EXTRA_PACKAGES...]}
shift
cache=${PMEMD_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pmemd-vm}
self=$(readlink -f "${BASH_SOURCE[0]}")

kSuite=bookworm
kPackages=(systemd udev dbus kmod ndctl daxctl jq)
# Units a test boot does not need: gettys (nobody logs in; the console is the
# scenario's), periodic jobs, e2scrub (LVM snapshots), and ndctl's monitor
# (it fails without DIMMs that report health events, which would leave the
# boot "degraded").
kMasked=(getty.target serial-getty@ttyS0.service apt-daily.timer apt-daily-upgrade.timer
         dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer
         systemd-tmpfiles-clean.timer ndctl-monitor.service)
# A fixed machine id: no first-boot machinery, reproducible journals.
kMachineId=8d2f1c5e0b7a4e3f9c6d5b4a39281706
# Free space in the image for what a scenario installs and writes (ext2
# blocks of 1 KiB are what genext2fs makes; resize2fs grows it).
kImageSize=1G

log() { echo "vm-rootfs: $*" >&2; }
die() { echo "vm-rootfs: error: $*" >&2; exit 1; }

[[ -f $base/base.cpio ]] || die "$base has no base.cpio (run build-base.sh)"
for tool in mmdebstrap genext2fs e2fsck resize2fs cpio; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh --vm installs it)"
done

# The host's apt sources, so the guest gets the versions the host built
# against (dpkg-shlibdeps computed the .deb's Depends: from them).
sources=()
[[ -s /etc/apt/sources.list ]] && grep -q '^[[:space:]]*deb ' /etc/apt/sources.list && sources+=(/etc/apt/sources.list)
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
  [[ -s $f ]] && sources+=("$f")
done
((${#sources[@]})) || die "the host has no apt sources (/etc/apt/sources.list{,.d})"

mapfile -t packages < <(printf '%s\n' "${kPackages[@]}" "$@" | LC_ALL=C sort -u)
key=$( {
  cat "$self"
  printf '%s\n' "${packages[@]}"
  cat "${sources[@]}"
  basename "$base"
} | sha256sum | cut -c1-16)
out=$cache/rootfs-$key
[[ -f $out/ok ]] && { echo "$out"; exit 0; }

mkdir -p "$cache"
exec 9>"$cache/.rootfs.lock"
flock 9
[[ -f $out/ok ]] && { echo "$out"; exit 0; }

tmp=$(mktemp -d "$cache/.rootfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
kver=$(cat "$base/kernel-version")
log "building a $kSuite root with systemd ($(IFS=,; echo "${packages[*]}")) for kernel $kver"
start=$SECONDS

# Customize hooks run on the host with the root directory as $1.
hook_modules="mkdir -p \"\$1/etc/modules-load.d\" && cd \"\$1\" && cpio -idm --quiet 'usr/lib/modules/*' <'$base/base.cpio' &&
  { cat '$base/base.cpio' | cpio -i --quiet --to-stdout etc/vmtest-modules; } >\"\$1/etc/modules-load.d/vmtest.conf\""
hook_system="echo $kMachineId >\"\$1/etc/machine-id\" && echo vmtest >\"\$1/etc/hostname\" &&
  for u in ${kMasked[*]}; do ln -sf /dev/null \"\$1/etc/systemd/system/\$u\"; done &&
  dpkg-query --admindir=\"\$1/var/lib/dpkg\" -W -f='\${Package} \${Version}\n' >'$tmp/packages'"

# Documentation, man pages and translations are left out (a smaller image
# boots no slower, but builds and copies faster); pmemd's own docs stay.
mmdebstrap --variant=minbase --format=ext2 \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/pmemd/*' \
  --include="$(IFS=,; echo "${packages[*]}")" \
  --customize-hook="$hook_modules" --customize-hook="$hook_system" \
  "$kSuite" "$tmp/rootfs.ext2" "${sources[@]}" </dev/null >&2 ||
  die "mmdebstrap failed (it needs the Debian archive the host's apt sources name)"

# genext2fs leaves almost no free space; the guest installs the .deb and
# writes state and journals.
e2fsck -fy "$tmp/rootfs.ext2" >/dev/null 2>&1 || true
e2fsck -fn "$tmp/rootfs.ext2" >&2 || die "the image from genext2fs does not check clean"
resize2fs "$tmp/rootfs.ext2" "$kImageSize" >&2 2>&1 || die "resize2fs failed"

mkdir -p "$out"
mv "$tmp/rootfs.ext2" "$tmp/packages" "$out/"
touch "$out/ok"
log "root image: $(du -h --apparent-size "$out/rootfs.ext2" | cut -f1) ($(du -h "$out/rootfs.ext2" | cut -f1) used), ${#packages[@]} packages asked, built in $((SECONDS - start)) s"
# Older images are a few hundred MB each.
find "$cache" -mindepth 1 -maxdepth 1 -type d -name 'rootfs-*' ! -name "$(basename "$out")" -exec rm -rf {} +
echo "$out"
