# What `cmake --install` puts where (docs/api.md, "Using tconv from your project"):
#   bin/tconv                         the command (linked with the static floors; needs no lib)
#   lib/libtconv.so.MAJOR[.MINOR.PATCH], lib/libtconv.so, lib/libtconv.a
#   include/tconv/tconv.h             the umbrella; the public headers under include/tconv/<floor>/
#   lib/cmake/tconv/                  tconvConfig.cmake: find_package(tconv) -> tconv::tconv
#   lib/pkgconfig/tconv.pc            pkg-config tconv
# Internal headers (cmake/public_headers.cmake) are never installed.

set(TCONV_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tconv)

install(TARGETS tconv_shared tconv_static EXPORT tconvTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${TCONV_GENERATED_DIR}/tconv/tconv.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tconv)
install(FILES ${TCONV_GENERATED_DIR}/core/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tconv/core)
foreach(rel ${TCONV_PUBLIC_HEADERS})
  get_filename_component(dir ${rel} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${rel} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tconv/${dir})
endforeach()

include(CMakePackageConfigHelpers)
install(EXPORT tconvTargets NAMESPACE tconv:: DESTINATION ${TCONV_CMAKE_DIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/tconvConfig.cmake.in
               ${PROJECT_BINARY_DIR}/tconvConfig.cmake @ONLY)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tconvConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tconvConfig.cmake ${PROJECT_BINARY_DIR}/tconvConfigVersion.cmake
        DESTINATION ${TCONV_CMAKE_DIR})

# tconv.pc is written at install time, with the prefix it is installed under (cmake --install
# --prefix DIR, or /usr inside the .deb), so its paths are right wherever it lands.
install(CODE "
  set(PROJECT_VERSION \"${PROJECT_VERSION}\")
  set(CMAKE_INSTALL_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(CMAKE_INSTALL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(TCONV_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(pc \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/tconv.pc\")
  message(STATUS \"Installing: \${pc}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/cmake/tconv.pc.in\" \"\${pc}\" @ONLY)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${pc}\")
")
