# simdr_catch.cmake - Catch2 test discovery with tags as ctest labels.
#
# catch_discover_tests(... ADD_TAGS_AS_LABELS) does this in newer Catch2 releases, but Debian
# 12's Catch2 2.13 ignores the option. simdr_discover_tests() discovers the tests, then after
# each build asks the executable which tests carry each tag (cmake/catch_tag_labels.cmake) and
# writes set_tests_properties(... LABELS ...) lines that ctest reads after the discovered tests.
#
#   simdr_discover_tests(target [KERNEL_RUNS k...] [KERNEL_RUN_SPEC spec] [PROPERTIES ...])
# KERNEL_RUNS registers the suite once more per kernel set k, with SIMDR_KERNELS=k in the
# environment, the test names prefixed "kernels=k:" and the extra label kernels_k; those runs
# are limited to the Catch2 test spec KERNEL_RUN_SPEC (e.g. "~[large]~[crash]") when given.
include_guard(GLOBAL)
include(Catch)

function(simdr_discover_tests target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "KERNEL_RUN_SPEC" "KERNEL_RUNS;PROPERTIES")
  catch_discover_tests(${target} WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}
    PROPERTIES ${arg_PROPERTIES})
  set(prefixes "")
  foreach(k IN LISTS arg_KERNEL_RUNS)
    # A distinct suite name per run (Catch2 --name, harmless) keeps Catch.cmake's generated
    # files apart: it names them after a hash of the spec and extra arguments, not the prefix.
    catch_discover_tests(${target} WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}
      TEST_SPEC ${arg_KERNEL_RUN_SPEC}
      EXTRA_ARGS --name simdr-kernels-${k}
      TEST_PREFIX "kernels=${k}:"
      PROPERTIES ${arg_PROPERTIES} ENVIRONMENT SIMDR_KERNELS=${k})
    list(APPEND prefixes "kernels=${k}:")
  endforeach()
  string(REPLACE ";" "|" prefixes "${prefixes}")
  set(labels_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake)
  # Cross builds run the executable through the emulator (CMAKE_CROSSCOMPILING_EMULATOR, e.g.
  # qemu-aarch64;-L;...), as catch_discover_tests does. The list travels as one argument.
  get_property(emulator TARGET ${target} PROPERTY CROSSCOMPILING_EMULATOR)
  string(REPLACE ";" "$<SEMICOLON>" emulator "${emulator}")
  add_custom_command(TARGET ${target} POST_BUILD
    BYPRODUCTS ${labels_file}
    COMMAND ${CMAKE_COMMAND} -D TEST_EXECUTABLE=$<TARGET_FILE:${target}>
            "-DTEST_EXECUTOR=${emulator}"
            -D OUT_FILE=${labels_file} "-DKERNEL_PREFIXES=${prefixes}"
            "-DKERNEL_RUN_SPEC=${arg_KERNEL_RUN_SPEC}"
            -P ${PROJECT_SOURCE_DIR}/cmake/catch_tag_labels.cmake
    VERBATIM)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/${target}_labels_include.cmake
    "if(EXISTS \"${labels_file}\")\n  include(\"${labels_file}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES
    ${CMAKE_CURRENT_BINARY_DIR}/${target}_labels_include.cmake)
endfunction()
