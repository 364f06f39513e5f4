# SPDX-License-Identifier: Apache-2.0
# One INTERFACE target carries the language standard, warnings and defines.
option(EHRS_BUILD_TESTS "Build the Qt Test executables" ON)
option(EHRS_BUILD_AGENT "Build ehr-sessions-agent (desktop side)" ON)
option(EHRS_BUILD_APP "Build the ehr-sessions desktop app (needs the agent)" ON)
option(EHRS_WERROR "Treat warnings as errors (on in CI)" OFF)

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

include(GNUInstallDirs)
include(${CMAKE_CURRENT_LIST_DIR}/ManPages.cmake)

add_library(ehrs_options INTERFACE)
add_library(ehrs::options ALIAS ehrs_options)
target_compile_features(ehrs_options INTERFACE cxx_std_20)
target_compile_options(ehrs_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                              -Wno-missing-field-initializers)
if(EHRS_WERROR)
  target_compile_options(ehrs_options INTERFACE -Werror)
endif()
target_compile_definitions(ehrs_options INTERFACE
  QT_NO_CAST_FROM_ASCII QT_NO_URL_CAST_FROM_STRING QT_NO_KEYWORDS
  EHRS_VERSION="${PROJECT_VERSION}")
