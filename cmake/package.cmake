# The Debian package: `cpack -G DEB` in a build tree (tests/install/build-deb.sh
# wraps it), from the same install() rules as `cmake --install`, so whatever
# is installed (binaries, unit, config, sysusers.d/tmpfiles.d, docs, man
# pages, completion) is packaged without a second list to keep in step.
# Why CPack and not a debian/ directory: docs/service.md, "The Debian package".
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pmemd)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "pmemd")
set(PMEMD_DEB_MAINTAINER "pmemd developers <pmemd-devel@example.org>" CACHE STRING
    "Maintainer: field of the Debian package")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${PMEMD_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "persistent-memory management daemon")
# CPack indents the extended description; lintian wants lines under 80.
set(CPACK_PACKAGE_DESCRIPTION "pmemd is one owner for a host's persistent memory (NVDIMMs or memmap=
emulation): it manages fsdax and devdax namespaces through libndctl and
libdaxctl, moves dax devices into system RAM and back, and keeps pools of
memory blocks that it leases to clients, with its state persisted
crash-safely. It serves a versioned JSON-RPC API on a Unix socket, used by
the pmemctl command line, whose verbs follow ndctl and daxctl.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Library dependencies from dpkg-shlibdeps over the packaged ELF files; the
# rest is what the maintainer scripts and the unit run: systemd-sysusers,
# systemd-tmpfiles and deb-systemd-helper (systemd, init-system-helpers),
# /bin/kill for ExecReload (procps).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd, init-system-helpers (>= 1.54~), procps")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "ndctl, daxctl")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Binaries stripped as Debian ships them (lintian: unstripped-binary-or-object).
set(CPACK_STRIP_FILES ON)
# Install with DESTDIR and the real prefix: cmake/install_service.cmake
# places /etc and the unit directory by the prefix it sees.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
# cpack installs what is built; it does not build every target first (a
# release tree builds only pmemd and pmemctl).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(pmemd_deb_dir "${PROJECT_BINARY_DIR}/deb")
file(MAKE_DIRECTORY "${pmemd_deb_dir}")
foreach(script postinst prerm postrm)
  file(COPY "${PROJECT_SOURCE_DIR}/packaging/deb/${script}" DESTINATION "${pmemd_deb_dir}"
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                        WORLD_READ WORLD_EXECUTE)
endforeach()
# conffiles: every file the package puts under /etc, listed by
# packaging/deb/pre-build.cmake from the staged tree (it runs after the
# install rules, before dpkg-deb).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${pmemd_deb_dir}/postinst;${pmemd_deb_dir}/prerm;${pmemd_deb_dir}/postrm;${pmemd_deb_dir}/conffiles")
set(CPACK_PRE_BUILD_SCRIPTS "${PROJECT_SOURCE_DIR}/packaging/deb/pre-build.cmake")
set(PMEMD_DEB_DIR "${pmemd_deb_dir}")
set(PMEMD_DEB_SOURCE_DIR "${PROJECT_SOURCE_DIR}/packaging/deb")
# The changelog's date: the last commit's, so the package is reproducible.
execute_process(COMMAND git -C "${PROJECT_SOURCE_DIR}" log -1 --format=%ct
                OUTPUT_VARIABLE PMEMD_DEB_EPOCH OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT PMEMD_DEB_EPOCH)
  set(PMEMD_DEB_EPOCH 0)
endif()
# Variables named CPACK_* reach the pre-build script.
set(CPACK_PMEMD_DEB_DIR "${pmemd_deb_dir}")
set(CPACK_PMEMD_DEB_SOURCE_DIR "${PROJECT_SOURCE_DIR}/packaging/deb")
set(CPACK_PMEMD_DEB_EPOCH "${PMEMD_DEB_EPOCH}")
set(CPACK_PMEMD_DOCDIR "${CMAKE_INSTALL_DOCDIR}")
include(CPack)
