#!/usr/bin/env bash
# Prepare the parts of a real-kernel test VM that do not change between test
# runs, once, into a cache directory:
#
#   <cache>/<dir>/vmlinux      the Debian kernel, uncompressed (QEMU boots it
#                              directly through PVH, ~2 s faster under TCG
#                              than letting the guest decompress bzImage)
#   <cache>/<dir>/base.cpio    busybox, kmod, ndctl, daxctl, jq, their
#                              libraries and the pmem module closure
#   <cache>/<dir>/base.files   the paths in base.cpio, so the per-run overlay
#                              only adds libraries the base lacks
#   <cache>/<dir>/kernel-version
#   <cache>/debs/              the downloaded kernel package
#
# <dir> is <kernel version>-<key>; <key> hashes everything the result depends
# on (the kernel package and version, the versions of the userspace packages,
# the module lists, this script and host-common.sh), so an apt upgrade or an
# edit of the recipe rebuilds it, and nothing else does. Prints the prepared directory on stdout; all else goes to stderr.
#
# Usage: build-base.sh [CACHE_DIR]   (default $PMEMD_VM_CACHE, else
#                                     ${XDG_CACHE_HOME:-$HOME/.cache}/pmemd-vm)
# Env:   PMEMD_VM_KERNEL_PKG  a linux-image-* package to use instead of the
#                             one linux-image-amd64 depends on
set -euo pipefail

cache=${1:-${PMEMD_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pmemd-vm}}
self=$(readlink -f "${BASH_SOURCE[0]}")

# Drivers the scenarios need: the ACPI NFIT bus (emulated NVDIMMs), the legacy
# e820 bus (memmap=), the pmem/btt namespace drivers, device-dax and kmem
# (system-ram). /init loads them all on every boot.
kModules=(nfit nd_pmem nd_btt dax_pmem device_dax kmem nd_e820)
# virtio + 9p give a scenario a host directory that survives its reboots;
# loaded only by the scenarios that ask for it (persist=yes).
kPersistModules=(virtio_pci 9pnet_virtio 9p)
# virtio-blk + ext4 (which mounts ext2) mount the systemd guest's root disk
# (build-rootfs.sh, guest/init-systemd); loaded only in that guest.
kRootModules=(virtio_blk ext4)
# Userspace copied into the guest with their libraries (besides busybox).
kTools=(/usr/bin/ndctl /usr/bin/daxctl /usr/bin/jq /bin/kmod)
kUserPackages=(busybox-static kmod ndctl daxctl jq libc6)

log() { echo "vm-base: $*" >&2; }
die() { echo "vm-base: error: $*" >&2; exit 1; }

# --- which kernel --------------------------------------------------------
resolve_kernel() {
  # apt-cache reads all package lists on every call (2-3 s here: the images
  # have no pkgcache.bin), so remember the answer until the lists change.
  local stamp memo=$cache/.kernel-resolved
  stamp=$( { echo "${PMEMD_VM_KERNEL_PKG:-}"; stat -c '%n %Y %s' /var/lib/apt/lists/* 2>/dev/null; } |
          sha256sum | cut -c1-16)
  if [[ -f $memo ]] && read -r memo_stamp kernel_pkg kernel_deb_version <"$memo" &&
     [[ $memo_stamp == "$stamp" && -n $kernel_deb_version ]]; then
    kver=${kernel_pkg#linux-image-}
    return 0
  fi

  # (|| true: an apt-cache failure must reach the messages below, not set -e)
  if [[ -n ${PMEMD_VM_KERNEL_PKG:-} ]]; then
    kernel_pkg=$PMEMD_VM_KERNEL_PKG
    kernel_deb_version=$(apt-cache show --no-all-versions "$kernel_pkg" 2>/dev/null |
                         awk '$1 == "Version:" { print $2; exit }' || true)
    [[ -n $kernel_deb_version ]] || die "apt-cache knows no package $kernel_pkg" \
      "(a typo in PMEMD_VM_KERNEL_PKG, or stale package lists: run apt-get update)"
  else
    # The metapackage pins its kernel: "Depends: linux-image-6.1.0-N-amd64 (= V)".
    read -r kernel_pkg kernel_deb_version < <(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
      sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*/\1 \2/p' | head -n1 || true) || true
    [[ -n ${kernel_deb_version:-} ]] || die "apt-cache shows no linux-image-amd64 with a pinned" \
      "kernel dependency (are the Debian package lists present? run: apt-get update)"
  fi
  kver=${kernel_pkg#linux-image-}
  mkdir -p "$cache"
  echo "$stamp $kernel_pkg $kernel_deb_version" >"$memo"
}

compute_key() {
  key=$( {
    echo "$kernel_pkg=$kernel_deb_version"
    dpkg-query -W -f='${Package}=${Version}\n' "${kUserPackages[@]}"
    echo "${kModules[*]} / ${kPersistModules[*]} / ${kRootModules[*]}"
    cat "$self" "$(dirname "$self")/host-common.sh" | sha256sum
  } | sha256sum | cut -c1-16)
  out=$cache/$kver-$key
}

# --- extract-vmlinux -----------------------------------------------------
# vmlinuz is a small decompressor followed by the compressed kernel. Find each
# place one of the known compression magics occurs and try to decompress from
# there; the first result that is an ELF file is vmlinux (the same approach as
# the kernel's scripts/extract-vmlinux).
extract_vmlinux() {
  local vmlinuz=$1 dest=$2 magic tool offset
  local -a formats=(
    '\xfd\x37\x7a\x58\x5a\x00:xz -dcq'
    '\x28\xb5\x2f\xfd:zstd -dcq'
    '\x1f\x8b\x08:gzip -dcq'
    '\x02\x21\x4c\x18:lz4 -dcq'
    '\x5d\x00\x00\x00:xz -dcq --format=lzma'
    'BZh:bzip2 -dcq'
  )
  for entry in "${formats[@]}"; do
    magic=${entry%%:*} tool=${entry#*:}
    command -v "${tool%% *}" >/dev/null || continue
    for offset in $(LC_ALL=C grep -obUaP "$magic" "$vmlinuz" | cut -d: -f1); do
      # Trailing data after the stream makes the decompressors complain;
      # the ELF check below decides, not their exit status.
      tail -c "+$((offset + 1))" "$vmlinuz" | $tool >"$dest" 2>/dev/null || true
      if [[ $(head -c4 "$dest" | od -An -c | tr -d ' ') == '177ELF' ]]; then
        log "vmlinux: ${tool%% *} stream at offset $offset"
        return 0
      fi
    done
  done
  die "no compressed ELF kernel found in $vmlinuz"
}

# canon, copy_elf, make_cpio: shared with run-vm-test.
# shellcheck source=host-common.sh
source "$(dirname "$self")/host-common.sh"

# --- build ------------------------------------------------------------------
build() {
  local tmp=$1 deb kroot root mod path
  mkdir -p "$cache/debs"

  deb=$(ls "$cache/debs/${kernel_pkg}_${kernel_deb_version//:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
  if [[ -z $deb ]]; then
    log "downloading $kernel_pkg=$kernel_deb_version"
    # As root apt drops to the _apt user for downloads, which cannot write
    # into a private cache; the sandbox buys nothing for a file we only unpack.
    (cd "$cache/debs" && apt-get download -q -o APT::Sandbox::User=root \
       "$kernel_pkg=$kernel_deb_version" >&2) || return 1
    deb=$(ls "$cache/debs/${kernel_pkg}_"*.deb | head -n1)
  fi

  kroot=$tmp/kernel
  log "unpacking $(basename "$deb")"
  dpkg -x "$deb" "$kroot"          # unpacked only, never installed
  [[ -d $kroot/lib/modules/$kver ]] || die "$deb has no lib/modules/$kver"
  depmod -b "$kroot" "$kver"       # the .deb ships no modules.dep
  extract_vmlinux "$kroot/boot/vmlinuz-$kver" "$tmp/vmlinux"

  root=$tmp/root
  mkdir -p "$root"/usr/{bin,sbin,lib,lib64} "$root"/{proc,sys,dev,run,tmp,etc,root,mnt,persist,var/lib}
  for path in bin sbin lib lib64; do
    ln -s "usr/$path" "$root/$path"
  done

  install -m 0755 /bin/busybox "$root/usr/bin/busybox"
  for path in $(/bin/busybox --list-full); do
    path=$(canon "/$path")
    [[ -e $root$path ]] || ln -s /usr/bin/busybox "$root$path"
  done
  for tool in "${kTools[@]}"; do
    copy_elf "$root" "$tool" "$(canon "$tool")"
  done
  # The real kmod tools, as on the systems pmemd runs on; busybox's modprobe
  # is a reimplementation with its own rules (ndctl/daxctl use libkmod).
  for path in /usr/sbin/{modprobe,insmod,rmmod,depmod,modinfo,lsmod} /usr/bin/lsmod; do
    ln -sf /usr/bin/kmod "$root$path"
  done
  # libkmod and ndctl look here; an empty directory keeps the host's
  # configuration (e.g. ndctl's modprobe rule) out of the guest.
  mkdir -p "$root/etc/modprobe.d"

  # The module closure. An empty -C directory for the same reason.
  mkdir -p "$tmp/empty-conf" "$root/usr/lib/modules/$kver"
  for mod in "${kModules[@]}" "${kPersistModules[@]}" "${kRootModules[@]}"; do
    modprobe -d "$kroot" -S "$kver" -C "$tmp/empty-conf" --show-depends "$mod" ||
      die "module $mod not found in $kernel_pkg"
  done | awk '$1 == "insmod" { print $2 }' | sort -u | while read -r path; do
    install -D -m 0644 "$path" "$root/usr/lib/modules/$kver/${path#"$kroot/lib/modules/$kver/"}"
  done
  cp "$kroot/lib/modules/$kver"/modules.{builtin,builtin.modinfo,order} "$root/usr/lib/modules/$kver/"
  depmod -b "$root" "$kver"
  printf '%s\n' "${kModules[@]}" >"$root/etc/vmtest-modules"
  printf '%s\n' "${kPersistModules[@]}" >"$root/etc/vmtest-modules-persist"
  printf '%s\n' "${kRootModules[@]}" >"$root/etc/vmtest-modules-root"
  echo "$kver" >"$root/etc/vmtest-kernel"

  # Uncompressed: the host loads it into guest RAM for free, while inflating
  # a compressed one would cost TCG time on every boot.
  make_cpio "$root" "$tmp/base.cpio"
  (cd "$root" && find . -mindepth 1 ! -type d | sed 's|^\.||' | LC_ALL=C sort) >"$tmp/base.files"
  echo "$kver" >"$tmp/kernel-version"
  log "base initramfs: $(du -h "$tmp/base.cpio" | cut -f1), kernel $kver"
}

main() {
  resolve_kernel
  compute_key
  [[ -f $out/ok ]] && { echo "$out"; return 0; }

  mkdir -p "$cache"
  # Parallel CTest runs share the cache: one builds, the others wait.
  exec 9>"$cache/.lock"
  flock 9
  [[ -f $out/ok ]] && { echo "$out"; return 0; }

  tmp=$(mktemp -d "$cache/.build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  if ! build "$tmp"; then
    # A kernel download failing usually means the package lists are older
    # than the mirror (Debian drops superseded kernel ABIs). Refresh once.
    ((EUID == 0)) || die "could not download $kernel_pkg=$kernel_deb_version;" \
      "the package lists may be stale: run 'apt-get update' as root"
    log "download failed; running apt-get update and retrying"
    apt-get update -q >&2 || die "apt-get update failed"
    resolve_kernel
    compute_key
    rm -rf "$tmp"; tmp=$(mktemp -d "$cache/.build.XXXXXX")
    build "$tmp" || die "could not download $kernel_pkg=$kernel_deb_version"
  fi

  mkdir -p "$out"
  mv "$tmp/vmlinux" "$tmp/base.cpio" "$tmp/base.files" "$tmp/kernel-version" "$out/"
  touch "$out/ok"

  # Keep only what the current key uses: older kernels and bases are ~100 MB.
  # (rootfs-*: build-rootfs.sh keys its images by this directory and
  # removes the stale ones itself.)
  find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name debs ! -name "$(basename "$out")" \
    ! -name '.build.*' ! -name 'rootfs-*' -exec rm -rf {} +
  find "$cache/debs" -name '*.deb' ! -name "${kernel_pkg}_*" -delete
  echo "$out"
}

main
