# shellcheck shell=bash
# Host-side helpers shared by build-base.sh and run-vm-test (bash, sourced).

# The guest tree is merged-/usr like Debian 12: /bin, /sbin, /lib and /lib64
# are symlinks into /usr, so every path a host tool reports lands in one
# place. canon maps a host path to that single spelling.
canon() {
  local p=$1
  case $p in
    /bin/*|/sbin/*|/lib/*|/lib64/*) p=/usr$p ;;
  esac
  echo "$p"
}

# elf_libs FILE: absolute paths of the shared libraries FILE loads, including
# the dynamic loader (nothing for a static binary).
elf_libs() {
  local out
  # ldd exits 1 on a static binary ("not a dynamic executable").
  out=$(ldd "$1" 2>&1) || { grep -q 'not a dynamic executable' <<<"$out" && return 0; echo "$out" >&2; return 1; }
  if grep -q 'not found' <<<"$out"; then
    echo "host-common: $1 needs libraries the host does not have:" >&2
    grep 'not found' <<<"$out" >&2
    return 1
  fi
  awk '/=> \// { print $3 } /^\t\// { print $1 }' <<<"$out"
}

# copy_elf ROOT FILE DEST [HAVE]: install FILE as ROOT/DEST plus every library
# it loads that is neither in ROOT yet nor listed in the file HAVE (the paths
# of an archive the guest already gets), dereferencing symlinks.
copy_elf() {
  local root=$1 file=$2 dest=$3 have=${4:-/dev/null} lib libs
  install -D -m 0755 "$(readlink -f "$file")" "$root$dest"
  libs=$(elf_libs "$file") || return 1
  for lib in $libs; do
    lib=$(canon "$lib")
    [[ -e $root$lib ]] && continue
    grep -qxF "$lib" "$have" && continue
    install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
  done
}

# make_cpio ROOT OUT: a newc archive of ROOT, entries sorted and owned by root
# (so the archive does not depend on who built it).
make_cpio() {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
     cpio -o -H newc --quiet --owner=0:0 --reproducible) >"$2"
}
