# check_isa_leaks.cmake - fails when a weak (link-once) function of the AVX2 kernel object holds
# a VEX-encoded (AVX) instruction.
#   cmake -D OBJECT=kernels_avx2.cpp.o -D NM=nm -D OBJDUMP=objdump -P check_isa_leaks.cmake
#   (or -D "OBJECTS=a.o|b.o|..." : the one named kernels_avx2.* is checked)
# Why: inline functions and template instantiations are emitted in every object that uses them
# and the linker keeps ONE copy for the whole program. If the copy compiled with -mavx2 used AVX
# instructions and won, baseline code would call it and die with SIGILL on a CPU without AVX2,
# a bug no test on an AVX2 machine can see. core/src/simd/kernels_impl.inl keeps the rule; this
# checks it. Weak functions with integer code only (bytes::data(), atomic loads at -O0) are fine.
if(NOT OBJECT)
  string(REPLACE "|" ";" OBJECTS "${OBJECTS}")
  list(FILTER OBJECTS INCLUDE REGEX "kernels_avx2[.]")
  list(LENGTH OBJECTS n)
  if(NOT n EQUAL 1)
    message(FATAL_ERROR "expected one kernels_avx2 object, got: ${OBJECTS}")
  endif()
  set(OBJECT "${OBJECTS}")
endif()
execute_process(COMMAND ${NM} --defined-only ${OBJECT} OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} ${OBJECT} failed: ${rc}")
endif()
string(REGEX MATCHALL "[0-9a-f]+ [WV] [^\n]+" weak "${syms}")
execute_process(COMMAND ${OBJDUMP} -d --no-show-raw-insn ${OBJECT} OUTPUT_VARIABLE dis
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} ${OBJECT} failed: ${rc}")
endif()
# Split the disassembly into functions: "<symbol>:" headers.
string(REPLACE ";" "\\;" dis "${dis}")
string(REGEX REPLACE "\n([0-9a-f]+ <[^>\n]+>:)" ";\\1" blocks "${dis}")
set(bad "")
set(checked 0)
foreach(entry IN LISTS weak)
  string(REGEX REPLACE "^[0-9a-f]+ [WV] " "" sym "${entry}")
  foreach(block IN LISTS blocks)
    string(FIND "${block}" "<${sym}>:" at)
    if(at EQUAL -1)
      continue()
    endif()
    math(EXPR checked "${checked} + 1")
    if(block MATCHES "\n[ \t]*[0-9a-f]+:[ \t]+v[a-z0-9]+[ \t]")
      list(APPEND bad "${sym}")
    endif()
  endforeach()
endforeach()
list(LENGTH weak nweak)
if(bad)
  message(FATAL_ERROR "AVX instructions in weak functions of ${OBJECT}: ${bad} (see "
    "core/src/simd/kernels_impl.inl, RULES)")
endif()
message(STATUS "${OBJECT}: ${nweak} weak symbols, ${checked} weak functions checked, no AVX in any")
