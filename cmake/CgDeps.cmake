# Third-party dependencies, all from Debian packages. Each becomes an imported target cg::NAME
# so modules link by name and never repeat flags.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

pkg_check_modules(DPDK REQUIRED IMPORTED_TARGET libdpdk>=22.11)
add_library(cg::dpdk ALIAS PkgConfig::DPDK)

pkg_check_modules(NDPI REQUIRED IMPORTED_TARGET libndpi>=4.2)
add_library(cg::ndpi ALIAS PkgConfig::NDPI)

pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)
add_library(cg::pcap ALIAS PkgConfig::PCAP)

pkg_check_modules(NETSNMP REQUIRED IMPORTED_TARGET netsnmp)
add_library(cg::netsnmp ALIAS PkgConfig::NETSNMP)

find_package(yaml-cpp REQUIRED)
add_library(cg::yaml INTERFACE IMPORTED)
target_link_libraries(cg::yaml INTERFACE yaml-cpp)

find_package(nlohmann_json 3.10 REQUIRED)
add_library(cg::json ALIAS nlohmann_json::nlohmann_json)

find_package(CLI11 CONFIG QUIET)
if(TARGET CLI11::CLI11)
  add_library(cg::cli11 ALIAS CLI11::CLI11)
else()
  add_library(cg::cli11 INTERFACE IMPORTED)
endif()

if(CG_TESTS)
  find_package(GTest REQUIRED)
endif()
if(CG_BENCH)
  find_package(benchmark REQUIRED)
endif()

# Area-specific dependencies (one file per area, so parallel work never edits this file).
file(GLOB _cg_dep_files CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/deps/*.cmake)
list(SORT _cg_dep_files)
foreach(_f IN LISTS _cg_dep_files)
  include(${_f})
endforeach()
