# CPACK_PRE_BUILD_SCRIPTS for the DEB generator (cmake/package.cmake): runs
# after the install rules have filled the staging tree, before dpkg-deb.
#   - conffiles: every regular file under etc/ (the admin's to edit: dpkg
#     keeps their edits on upgrade and asks before replacing them);
#   - usr/share/doc/pmemd/copyright and changelog.gz (changelog.gz, not
#     changelog.Debian.gz: a native package, no Debian revision), which
#     Debian requires of every package and `cmake --install` does not need.
set(stage "${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
if(NOT IS_DIRECTORY "${stage}/usr")
  message(FATAL_ERROR "pre-build: no usr/ in the staging tree ${stage}")
endif()

file(GLOB_RECURSE etc_files LIST_DIRECTORIES false RELATIVE "${stage}" "${stage}/etc/*")
list(SORT etc_files)
set(conffiles "")
foreach(f IN LISTS etc_files)
  string(APPEND conffiles "/${f}\n")
endforeach()
file(WRITE "${CPACK_PMEMD_DEB_DIR}/conffiles" "${conffiles}")

set(doc "${stage}/${CPACK_PACKAGING_INSTALL_PREFIX}/${CPACK_PMEMD_DOCDIR}")
string(REPLACE "//" "/" doc "${doc}")
file(MAKE_DIRECTORY "${doc}")
file(COPY_FILE "${CPACK_PMEMD_DEB_SOURCE_DIR}/copyright" "${doc}/copyright")
set(ENV{SOURCE_DATE_EPOCH} "${CPACK_PMEMD_DEB_EPOCH}")
string(TIMESTAMP date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE "${CPACK_PMEMD_DEB_DIR}/changelog"
"pmemd (${CPACK_PACKAGE_VERSION}) unstable; urgency=medium

  * Built from the pmemd source tree by CPack (no Debian source package).

 -- ${CPACK_DEBIAN_PACKAGE_MAINTAINER}  ${date}
")
execute_process(COMMAND gzip -9nc "${CPACK_PMEMD_DEB_DIR}/changelog"
                OUTPUT_FILE "${doc}/changelog.gz" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pre-build: gzip failed")
endif()
file(CHMOD "${doc}/copyright" "${doc}/changelog.gz" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# A release pmemctl is linked statically (ctl/CMakeLists.txt, PMEMCTL_STATIC):
# in a QEMU TCG guest a dynamic program spends ~35 ms in the loader, the
# difference between pmemctl list missing and meeting 5x ndctl list
# (docs/performance.md). lintian calls that an error; the override says why.
# The cost, a glibc or libstdc++ fix reaching pmemctl only when the package is
# rebuilt, is stated in docs/service.md. A debug build is dynamic: no override.
set(ctl "${stage}/${CPACK_PACKAGING_INSTALL_PREFIX}/bin/pmemctl")
string(REPLACE "//" "/" ctl "${ctl}")
execute_process(COMMAND file -b "${ctl}" OUTPUT_VARIABLE ctl_kind RESULT_VARIABLE rc)
if(rc EQUAL 0 AND ctl_kind MATCHES "statically linked")
  set(overrides "${stage}/${CPACK_PACKAGING_INSTALL_PREFIX}/share/lintian/overrides")
  string(REPLACE "//" "/" overrides "${overrides}")
  file(MAKE_DIRECTORY "${overrides}")
  file(WRITE "${overrides}/pmemd"
"# pmemctl starts in a few ms without the dynamic loader (docs/performance.md).
pmemd: statically-linked-binary [usr/bin/pmemctl]
")
  file(CHMOD "${overrides}/pmemd" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
