# Area: detection and export (dataplane/detect, dataplane/export).
# libcrypto (OpenSSL) for the Community ID flow hash (SHA-1 + base64).
if(NOT TARGET cg::crypto)
  pkg_check_modules(CG_LIBCRYPTO REQUIRED IMPORTED_TARGET libcrypto)
  add_library(cg::crypto ALIAS PkgConfig::CG_LIBCRYPTO)
endif()
