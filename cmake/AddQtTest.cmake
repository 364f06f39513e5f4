# SPDX-License-Identifier: Apache-2.0
# ehrs_add_test(TestName SOURCES a.cpp ... LIBS lib ... [LABELS l ...] [ENV K=V ...] [TIMEOUT s])
# A Qt Test executable whose every function skipped (typically initTestCase: no PostgreSQL, not
# root, a back end the test does not apply to) shows as skipped in CTest, not as passed. Qt Test
# counts initTestCase and cleanupTestCase as passed when only the functions between them skip, so
# "2 passed" with skips and no failure is all skipped too (a test with one function that really
# passed says 3).
set(EHRS_QTEST_ALL_SKIPPED "Totals: [0-2] passed, 0 failed, [1-9][0-9]* skipped")

function(ehrs_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;ENV" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ehrs::options Qt6::Test ${T_LIBS})
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen;${T_ENV}"
    SKIP_REGULAR_EXPRESSION "${EHRS_QTEST_ALL_SKIPPED}")
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
