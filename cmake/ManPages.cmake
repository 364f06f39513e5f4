# SPDX-License-Identifier: Apache-2.0
# ehrs_add_manpage(<target> "<one-line description>"): man page generated from the program's own
# --help and --version by help2man, installed to share/man/man1. Skipped (with a note) without
# help2man, which scripts/install-deps.sh installs.
find_program(HELP2MAN_EXECUTABLE help2man)
function(ehrs_add_manpage target description)
  if(NOT HELP2MAN_EXECUTABLE)
    message(STATUS "help2man not found: no man page for ${target}")
    return()
  endif()
  set(page ${CMAKE_CURRENT_BINARY_DIR}/${target}.1)
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen
            ${HELP2MAN_EXECUTABLE} --no-info --name=${description}
            --output=${page} $<TARGET_FILE:${target}>
    DEPENDS ${target}
    COMMENT "Generating the ${target}(1) man page"
    VERBATIM)
  add_custom_target(${target}_manpage ALL DEPENDS ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endfunction()
