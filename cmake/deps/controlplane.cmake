# Control plane (controlplane/*): store backends, REST server, password hashing, nftables.
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
add_library(cg::sqlite3 ALIAS PkgConfig::SQLITE3)

pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
add_library(cg::pq ALIAS PkgConfig::LIBPQ)

pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
add_library(cg::sodium ALIAS PkgConfig::SODIUM)

# Debian builds cpp-httplib as a library with OpenSSL, zlib and brotli support (the .pc file
# carries the matching CPPHTTPLIB_* defines, which the header needs to declare SSLServer).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(OpenSSL REQUIRED)
add_library(cg::httplib INTERFACE IMPORTED)
target_link_libraries(cg::httplib INTERFACE PkgConfig::HTTPLIB OpenSSL::SSL OpenSSL::Crypto
                      Threads::Threads)

pkg_check_modules(NFTABLES REQUIRED IMPORTED_TARGET libnftables)
add_library(cg::nftables ALIAS PkgConfig::NFTABLES)
