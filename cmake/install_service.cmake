# Runs at install time (install(SCRIPT), see the top CMakeLists.txt): the
# unit, the config, sysusers.d and tmpfiles.d entries go where the prefix
# chosen *now* puts them, so `cmake --install build --prefix /usr` gives a
# unit whose paths are /usr/sbin/pmemd and /etc/pmemd/pmemd.json, and any
# other prefix keeps everything under it. Configure-time values:
#   PMEMD_SOURCE_DIR, PMEMD_BINARY_DIR, PMEMD_SBINDIR (relative, e.g. sbin),
#   PMEMD_DOCDIR (relative), PMEMD_SYSTEMD_UNITDIR, PMEMD_SYSUSERSDIR,
#   PMEMD_TMPFILESDIR (from pkg-config systemd; used for prefix /usr).
set(prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/+$" "" prefix "${prefix}")
if(prefix STREQUAL "/usr")
  # As GNUInstallDirs does for /usr: configuration in /etc, the unit and
  # the sysusers/tmpfiles entries where systemd on this system reads them.
  set(sysconfdir "/etc")
  set(unitdir "${PMEMD_SYSTEMD_UNITDIR}")
  set(sysusersdir "${PMEMD_SYSUSERSDIR}")
  set(tmpfilesdir "${PMEMD_TMPFILESDIR}")
else()
  set(sysconfdir "${prefix}/etc")
  set(unitdir "${prefix}/lib/systemd/system")
  set(sysusersdir "${prefix}/lib/sysusers.d")
  set(tmpfilesdir "${prefix}/lib/tmpfiles.d")
endif()
set(PMEMD_UNIT_SBINDIR "${prefix}/${PMEMD_SBINDIR}")
set(PMEMD_UNIT_SYSCONFDIR "${sysconfdir}")
set(PMEMD_UNIT_DOCDIR "${prefix}/${PMEMD_DOCDIR}")

function(pmemd_install_file src dest_dir name)
  set(dest "$ENV{DESTDIR}${dest_dir}/${name}")
  message(STATUS "Installing: ${dest}")
  file(MAKE_DIRECTORY "$ENV{DESTDIR}${dest_dir}")
  file(COPY_FILE "${src}" "${dest}")
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${dest_dir}/${name}")
  set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
endfunction()

configure_file("${PMEMD_SOURCE_DIR}/systemd/pmemd.service.in" "${PMEMD_BINARY_DIR}/install/pmemd.service" @ONLY)
pmemd_install_file("${PMEMD_BINARY_DIR}/install/pmemd.service" "${unitdir}" pmemd.service)
pmemd_install_file("${PMEMD_SOURCE_DIR}/systemd/pmemd.sysusers" "${sysusersdir}" pmemd.conf)
pmemd_install_file("${PMEMD_SOURCE_DIR}/systemd/pmemd.tmpfiles" "${tmpfilesdir}" pmemd.conf)
# The config is the admin's once installed: never overwritten by a reinstall.
if(EXISTS "$ENV{DESTDIR}${sysconfdir}/pmemd/pmemd.json")
  message(STATUS "Up-to-date (kept, the admin's): $ENV{DESTDIR}${sysconfdir}/pmemd/pmemd.json")
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${sysconfdir}/pmemd/pmemd.json")
else()
  pmemd_install_file("${PMEMD_SOURCE_DIR}/config/pmemd.json" "${sysconfdir}/pmemd" pmemd.json)
endif()
