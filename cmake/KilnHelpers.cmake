# Small helpers shared by every Kiln CMakeLists.

# kiln_library(NAME SRCS... [DEPS targets...] [LINK libs...])
# A static library of our own code, built warning-clean against libMLIR.so.
function(kiln_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;LINK" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS} ${ARG_UNPARSED_ARGUMENTS})
  target_compile_options(${name} PRIVATE ${KILN_WARNING_FLAGS})
  if(ARG_DEPS)
    add_dependencies(${name} ${ARG_DEPS})
  endif()
  target_link_libraries(${name} PUBLIC ${ARG_LINK})
endfunction()

# kiln_tool(NAME SRCS... [LINK libs...])
function(kiln_tool name)
  cmake_parse_arguments(ARG "" "" "SRCS;LINK" ${ARGN})
  add_executable(${name} ${ARG_SRCS} ${ARG_UNPARSED_ARGUMENTS})
  target_compile_options(${name} PRIVATE ${KILN_WARNING_FLAGS})
  target_link_libraries(${name} PRIVATE ${ARG_LINK})
endfunction()
