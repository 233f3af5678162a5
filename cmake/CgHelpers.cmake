# cg_add_module / cg_add_program / cg_add_test / cg_add_bench / cg_add_fuzz: the only ways a
# target enters the build, so flags, include roots and labels are set in one place.

set(CG_WARNINGS -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wcast-align -Wno-unused-parameter)
if(CG_WERROR)
  list(APPEND CG_WARNINGS -Werror)
endif()

add_library(cg_options INTERFACE)
target_compile_options(cg_options INTERFACE ${CG_WARNINGS})
target_include_directories(cg_options INTERFACE ${CMAKE_SOURCE_DIR})
target_compile_features(cg_options INTERFACE cxx_std_20)
if(CG_SANITIZER)
  target_compile_options(cg_options INTERFACE -fsanitize=address,undefined
                         -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(cg_options INTERFACE -fsanitize=address,undefined)
endif()
if(CG_FUZZ)
  # Coverage instrumentation for every library a fuzz target links; the targets add the driver.
  target_compile_options(cg_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                         -fno-omit-frame-pointer)
  target_link_options(cg_options INTERFACE -fsanitize=address,undefined)
endif()

# cg_add_module(NAME SOURCES a.cc ... [DEPS x y])  -> static library NAME
function(cg_add_module name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  if(A_SOURCES)
    add_library(${name} STATIC ${A_SOURCES})
    target_link_libraries(${name} PUBLIC cg_options ${A_DEPS})
  else()
    add_library(${name} INTERFACE)
    target_link_libraries(${name} INTERFACE cg_options ${A_DEPS})
  endif()
endfunction()

# cg_add_program(NAME SOURCES ... DEPS ...) -> build/bin/NAME
function(cg_add_program name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE cg_options ${A_DEPS})
endfunction()

# cg_add_test(NAME SOURCES ... DEPS ... [LABELS unit|pcap|integration|fuzz ...] [TIMEOUT s]
#             [ENV K=V ...])
# GoogleTest executable registered as one CTest test (labels drive which suites run where).
function(cg_add_test name)
  cmake_parse_arguments(A "" "TIMEOUT" "SOURCES;DEPS;LABELS;ENV;ARGS" ${ARGN})
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  add_executable(${name} ${A_SOURCES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(${name} PRIVATE cg_options ${A_DEPS} GTest::gtest GTest::gmock
                        GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name} ${A_ARGS} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(${name} PROPERTIES LABELS "${A_LABELS}" TIMEOUT ${A_TIMEOUT}
    ENVIRONMENT "CG_SOURCE_DIR=${CMAKE_SOURCE_DIR};CG_BUILD_DIR=${CMAKE_BINARY_DIR};${A_ENV}")
endfunction()

# cg_add_script_test(NAME COMMAND ... [LABELS ...] [TIMEOUT s]): a test that is a script
# (integration tests drive real processes from bash/python).
function(cg_add_script_test name)
  cmake_parse_arguments(A "" "TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 600)
  endif()
  add_test(NAME ${name} COMMAND ${A_COMMAND} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(${name} PROPERTIES LABELS "${A_LABELS}" TIMEOUT ${A_TIMEOUT}
    ENVIRONMENT "CG_SOURCE_DIR=${CMAKE_SOURCE_DIR};CG_BUILD_DIR=${CMAKE_BINARY_DIR}")
endfunction()

# cg_add_bench(NAME SOURCES ... DEPS ...) -> build/bin/perf/NAME (Google Benchmark)
function(cg_add_bench name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin/perf)
  target_link_libraries(${name} PRIVATE cg_options ${A_DEPS})
endfunction()

# cg_add_fuzz(NAME SOURCES ... DEPS ...): a libFuzzer target when CG_FUZZ is on (clang);
# otherwise the same entry point is linked with a small driver that runs the seed corpus, so
# the target stays compiled and the seeds stay exercised in every build.
function(cg_add_fuzz name)
  cmake_parse_arguments(A "" "CORPUS" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  target_link_libraries(${name} PRIVATE cg_options ${A_DEPS})
  if(CG_FUZZ)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    target_sources(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/fuzz/seed_driver.cc)
    if(A_CORPUS AND CG_TESTS)
      add_test(NAME ${name}_seeds COMMAND ${name} ${A_CORPUS}
               WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
      set_tests_properties(${name}_seeds PROPERTIES LABELS "fuzz" TIMEOUT 300)
    endif()
  endif()
endfunction()
