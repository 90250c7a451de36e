# `cpack -G DEB` (in the build tree) makes tconv_<version>_<arch>.deb: the command, the shared
# and static library, the public headers, the CMake package and tconv.pc, under /usr.
#   apt install ./tconv_*.deb      apt remove tconv
# Depends: is computed by dpkg-shlibdeps from what the binaries link (libgomp1, libzip4,
# zlib1g, libpng16-16, libc6); the package's shlibs file and ldconfig trigger come with it.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tconv)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "tconv developers <tconv@invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "transposed-convolution networks with TensorFlow 1 semantics: C library and command")
set(CPACK_PACKAGE_DESCRIPTION
    "A C11 library (libtconv) and the tconv command for training networks built on TF1's
Conv2DTranspose on the CPU: autograd runtime, optimizers, .npz checkpoints.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
set(CPACK_STRIP_FILES ON)
include(CPack)
