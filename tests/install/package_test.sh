#!/usr/bin/env bash
# The Debian package (CTest: package, label package). Builds it from the
# build tree (build-deb.sh: cpack -G DEB) and checks:
#   - it holds exactly what `cmake --install --prefix /usr` installs, plus
#     Debian's copyright and changelog: every install() rule is packaged;
#   - the binaries, the unit, the sysusers.d/tmpfiles.d entries, the config;
#   - conffiles lists every file under /etc;
#   - Depends: was computed by dpkg-shlibdeps (the libraries pmemd links);
#   - the maintainer scripts enable the unit (deb-systemd-helper) and never
#     start it on a first install;
#   - lintian finds no error (warnings are printed; each one left is
#     explained in docs/service.md).
# Prints the package's size and lintian's findings.
set -euo pipefail
build=${1:?usage: package_test.sh BUILD_DIR}
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "package_test: FAIL: $*" >&2; exit 1; }

deb=$("$here/build-deb.sh" "$build" "$scratch/out")
echo "package_test: $(basename "$deb"), $(stat -c %s "$deb") bytes"
dpkg-deb -I "$deb"

# What the package holds vs what the install rules install.
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print "/" $6 }' | LC_ALL=C sort >"$scratch/deb.files"
DESTDIR=$scratch/dest cmake --install "$build" --prefix /usr >/dev/null
(cd "$scratch/dest" && find . ! -type d | sed 's|^\.||' | LC_ALL=C sort) >"$scratch/install.files"
doc=/usr/share/doc/pmemd
printf '%s\n' "$doc/changelog.gz" "$doc/copyright" | cat - "$scratch/install.files" | LC_ALL=C sort >"$scratch/expected.files"
if ! diff -u "$scratch/expected.files" "$scratch/deb.files"; then
  fail "the package's files differ from the install rules' (- installed, + packaged)"
fi
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
for f in /usr/sbin/pmemd /usr/bin/pmemctl "$unitdir/pmemd.service" /etc/pmemd/pmemd.json \
         /usr/lib/sysusers.d/pmemd.conf /usr/lib/tmpfiles.d/pmemd.conf "$doc/README.md"; do
  grep -qxF "$f" "$scratch/deb.files" || fail "$f is not in the package"
done
dpkg-deb -c "$deb" >"$scratch/deb.list"
grep -q '^-rwxr-xr-x root/root .* \./usr/sbin/pmemd$' "$scratch/deb.list" || fail "/usr/sbin/pmemd is not 0755 root:root"

# The unit names the paths it is packaged with.
mkdir -p "$scratch/x"
dpkg-deb -x "$deb" "$scratch/x"
grep -qx 'ExecStart=/usr/sbin/pmemd --config /etc/pmemd/pmemd.json' "$scratch/x$unitdir/pmemd.service" ||
  fail "packaged unit: $(grep ExecStart= "$scratch/x$unitdir/pmemd.service")"
if file "$scratch/x/usr/sbin/pmemd" | grep -q 'not stripped'; then fail "pmemd is not stripped"; fi

# Control files.
mkdir -p "$scratch/control"
dpkg-deb -e "$deb" "$scratch/control"
grep '^/etc/' "$scratch/deb.files" >"$scratch/etc.files" || true
diff -u "$scratch/etc.files" <(LC_ALL=C sort "$scratch/control/conffiles") ||
  fail "conffiles is not the package's files under /etc (- packaged, + conffiles)"
depends=$(dpkg-deb -f "$deb" Depends)
# (libsystemd0's symbols file asks for no minimum version.)
for lib in libndctl6 libdaxctl1 libpmem2 libstdc++6 libc6; do
  [[ $depends =~ (^|, )${lib//+/\\+}\ \(\>=\  ]] || fail "Depends: has no versioned $lib (not computed by dpkg-shlibdeps?): $depends"
done
[[ $depends =~ (^|, )libsystemd0(,|$) ]] || fail "Depends: lacks libsystemd0: $depends"
for pkg in systemd init-system-helpers; do
  [[ $depends =~ (^|, )$pkg( |,|$) ]] || fail "Depends: lacks $pkg (the maintainer scripts run its tools): $depends"
done
for s in postinst prerm postrm; do
  [[ -x $scratch/control/$s ]] || fail "$s is missing or not executable"
  sh -n "$scratch/control/$s" || fail "$s: syntax error"
done
grep -q "systemd-sysusers .*pmemd.conf" "$scratch/control/postinst" || fail "postinst does not create the group"
grep -q "systemd-tmpfiles .*--create pmemd.conf" "$scratch/control/postinst" || fail "postinst does not apply tmpfiles.d"
grep -q "deb-systemd-helper enable 'pmemd.service'" "$scratch/control/postinst" || fail "postinst does not enable the unit"
if grep -Eq "deb-systemd-invoke (start|restart) " "$scratch/control/postinst"; then
  fail "postinst starts pmemd (it must be started by the admin; an upgrade only try-restarts)"
fi

# lintian: errors fail, everything else is shown.
command -v lintian >/dev/null || fail "lintian is missing (scripts/deps.sh installs it)"
findings=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v 'running with root privileges' || true)
echo "package_test: lintian: ${findings:-no findings}"
if grep -q '^E: ' <<<"$findings"; then
  fail "lintian reports errors"
fi
echo "package_test: ok"
