# cpack-check.cmake - read by cpack before it packages: a .deb installs
# under /usr, and ruched finds its web files under the prefix it was built
# for, so a build configured for another prefix would make a broken one.
if(CPACK_GENERATOR STREQUAL "DEB" AND NOT CPACK_PACKAGING_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "The .deb needs a build configured with -DCMAKE_INSTALL_PREFIX=/usr "
                      "(this one has ${CPACK_PACKAGING_INSTALL_PREFIX})")
endif()
