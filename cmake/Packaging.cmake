# SPDX-License-Identifier: Apache-2.0
# Debian packages with CPack, one per component:
#   ehr-sessions-server  (component "server")  server binary, migrations, systemd system unit,
#                        /etc/ehr-sessions/server.env (conffile), maintainer scripts, bash completion
#   ehr-sessions         (component "desktop") agent (+ app when the ehr-sessions target exists),
#                        systemd user unit, XDG autostart entry, .desktop file, hicolor icon,
#                        the agent's bash completion
# Build them from a configured and built tree:  cpack -G DEB -B <output dir>   (in the build dir)
#
# The package layout is defined here, with install rules of their own components. They are
# EXCLUDE_FROM_ALL, so a plain `cmake --install` (the per-directory rules, component
# "Unspecified") is unchanged, and the packages do not depend on CMAKE_INSTALL_PREFIX.
include_guard(GLOBAL)

if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  return()
endif()

set(EHRS_PACKAGE_RELEASE "1" CACHE STRING "Debian revision of the packages (VERSION-RELEASE)")
set(EHRS_PACKAGE_MAINTAINER "EHR Sessions maintainers <ehr-sessions@example.org>"
    CACHE STRING "Maintainer field of the Debian packages")

set(_ehrs_pkg ${PROJECT_SOURCE_DIR}/packaging)
# Relative destinations land under CPACK_PACKAGING_INSTALL_PREFIX (/usr); absolute ones as given.
set(_ehrs_bindir bin)
set(_ehrs_datadir share)

# --- ehr-sessions-server -------------------------------------------------------------------------
install(TARGETS ehr-sessions-server RUNTIME DESTINATION ${_ehrs_bindir}
        COMPONENT server EXCLUDE_FROM_ALL)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/migrations/ DESTINATION ${_ehrs_datadir}/ehr-sessions/migrations
        COMPONENT server EXCLUDE_FROM_ALL FILES_MATCHING PATTERN "*.sql")
install(FILES ${_ehrs_pkg}/server/ehr-sessions-server.service DESTINATION lib/systemd/system
        COMPONENT server EXCLUDE_FROM_ALL)
# Conffile (packaging/debian/server/conffiles); postinst makes it root:ehr-sessions 0640.
install(FILES ${_ehrs_pkg}/server/server.env DESTINATION /etc/ehr-sessions
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
        COMPONENT server EXCLUDE_FROM_ALL)
install(FILES ${_ehrs_pkg}/debian/copyright DESTINATION ${_ehrs_datadir}/doc/ehr-sessions-server
        COMPONENT server EXCLUDE_FROM_ALL)
# Alerting rules and a Grafana dashboard for IT's Prometheus (docs/operations.md, "Alerts").
install(FILES ${_ehrs_pkg}/prometheus/ehr-sessions.rules.yml ${_ehrs_pkg}/prometheus/ehr-sessions.grafana.json
        DESTINATION ${_ehrs_datadir}/ehr-sessions/prometheus COMPONENT server EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/api.md
              ${PROJECT_SOURCE_DIR}/docs/openapi.yaml
        DESTINATION ${_ehrs_datadir}/doc/ehr-sessions-server COMPONENT server EXCLUDE_FROM_ALL OPTIONAL)
# Man pages, where cmake/ManPages.cmake generates them (help2man present at configure time),
# gzip-compressed as Debian policy wants.
function(_ehrs_package_manpage target component)
  if(TARGET ${target}_manpage)
    install(FILES $<TARGET_FILE_DIR:${target}>/${target}.1 DESTINATION ${_ehrs_datadir}/man/man1
            COMPONENT ${component} EXCLUDE_FROM_ALL)
    install(CODE "execute_process(COMMAND gzip -9nf \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${_ehrs_datadir}/man/man1/${target}.1\" COMMAND_ERROR_IS_FATAL ANY)"
            COMPONENT ${component} EXCLUDE_FROM_ALL)
  endif()
endfunction()
_ehrs_package_manpage(ehr-sessions-server server)
# Loaded on demand by bash-completion (docs/operations.md, "Shell completion").
install(FILES ${_ehrs_pkg}/bash-completion/ehr-sessions-server DESTINATION ${_ehrs_datadir}/bash-completion/completions
        COMPONENT server EXCLUDE_FROM_ALL)

set(EHRS_PACKAGE_COMPONENTS server)

# --- ehr-sessions (desktop) -------------------------------------------------------------------------
if(TARGET ehr-sessions-agent)
  install(TARGETS ehr-sessions-agent RUNTIME DESTINATION ${_ehrs_bindir}
          COMPONENT desktop EXCLUDE_FROM_ALL)
  install(FILES ${_ehrs_pkg}/agent/ehr-sessions-agent.service ${_ehrs_pkg}/agent/ehr-sessions-agent.socket
          DESTINATION lib/systemd/user COMPONENT desktop EXCLUDE_FROM_ALL)
  # Conffile (packaging/debian/desktop/conffiles).
  install(FILES ${_ehrs_pkg}/agent/ehr-sessions-agent.desktop DESTINATION /etc/xdg/autostart
          COMPONENT desktop EXCLUDE_FROM_ALL)
  # Conffile: IT's preset server address for the agent and the app (common/ClientConfig.h).
  install(FILES ${_ehrs_pkg}/desktop/client.conf DESTINATION /etc/ehr-sessions
          COMPONENT desktop EXCLUDE_FROM_ALL)
  install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/ehr-sessions.svg
          DESTINATION ${_ehrs_datadir}/icons/hicolor/scalable/apps COMPONENT desktop EXCLUDE_FROM_ALL OPTIONAL)
  install(FILES ${_ehrs_pkg}/debian/copyright DESTINATION ${_ehrs_datadir}/doc/ehr-sessions
          COMPONENT desktop EXCLUDE_FROM_ALL)
  # The agent unit's Documentation= points here.
  install(FILES ${PROJECT_SOURCE_DIR}/docs/agent-api.md DESTINATION ${_ehrs_datadir}/doc/ehr-sessions
          COMPONENT desktop EXCLUDE_FROM_ALL OPTIONAL)
  _ehrs_package_manpage(ehr-sessions-agent desktop)
  install(FILES ${_ehrs_pkg}/bash-completion/ehr-sessions-agent DESTINATION ${_ehrs_datadir}/bash-completion/completions
          COMPONENT desktop EXCLUDE_FROM_ALL)
  if(TARGET ehr-sessions)
    install(TARGETS ehr-sessions RUNTIME DESTINATION ${_ehrs_bindir} COMPONENT desktop EXCLUDE_FROM_ALL)
    install(FILES ${_ehrs_pkg}/app/ehr-sessions.desktop DESTINATION ${_ehrs_datadir}/applications
            COMPONENT desktop EXCLUDE_FROM_ALL)
    _ehrs_package_manpage(ehr-sessions desktop)
  endif()
  list(APPEND EHRS_PACKAGE_COMPONENTS desktop)
endif()

# --- CPack -----------------------------------------------------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_PACKAGE_NAME "ehr-sessions")
set(CPACK_PACKAGE_VENDOR "EHR Sessions")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
# Each package's Description comes from CPACK_DEBIAN_<COMPONENT>_DESCRIPTION (first line: the
# synopsis). CPack 3.25 prepends CPACK_PACKAGE_DESCRIPTION_SUMMARY to both unless it has CPack's
# default value, so it keeps that value (used by no other part of the .debs).
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
set(CPACK_PACKAGE_CONTACT "${EHRS_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL ${EHRS_PACKAGE_COMPONENTS})
set(CPACK_DEB_COMPONENT_INSTALL ON)

set(CPACK_DEBIAN_PACKAGE_RELEASE "${EHRS_PACKAGE_RELEASE}")
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT") # <name>_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${EHRS_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Depends from the ELF files' shared libraries (dpkg-shlibdeps, package dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_COMPONENT_SERVER_DISPLAY_NAME "EHR Sessions server")
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME "ehr-sessions-server")
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION "net")
# Qt SQL drivers are plugins (dlopen), invisible to dpkg-shlibdeps; adduser for postinst.
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser, libqt6sql6-psql, libqt6sql6-sqlite")
set(CPACK_DEBIAN_SERVER_PACKAGE_SUGGESTS "postgresql, redis-server")
set(CPACK_DEBIAN_SERVER_DESCRIPTION "EHR Sessions server: session API for clinicians' devices
Issues short-lived access tokens and rotating refresh tokens with theft
detection, lists each user's signed-in devices and revokes them, with audit.
PostgreSQL is the source of truth and Redis the cache and revocation feed;
without them it runs on an embedded SQLite default in /var/lib/ehr-sessions.

Runs as the ehr-sessions system user under a hardened systemd unit,
configured in /etc/ehr-sessions/server.env.")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    "${_ehrs_pkg}/debian/server/postinst;${_ehrs_pkg}/debian/server/prerm;${_ehrs_pkg}/debian/server/postrm;${_ehrs_pkg}/debian/server/conffiles")

set(CPACK_COMPONENT_DESKTOP_DISPLAY_NAME "EHR Sessions desktop")
set(CPACK_DEBIAN_DESKTOP_PACKAGE_NAME "ehr-sessions")
set(CPACK_DEBIAN_DESKTOP_PACKAGE_SECTION "utils")
# The agent keeps the refresh token in the Secret Service (GNOME Keyring) or KWallet.
set(CPACK_DEBIAN_DESKTOP_PACKAGE_RECOMMENDS "gnome-keyring | kwalletmanager")
if(TARGET ehr-sessions)
  # The app's run-time plugins: xcb comes with libqt6gui6 and the SVG icon engine with
  # libqt6svg6 (both found by dpkg-shlibdeps); Wayland's is a separate package.
  set(CPACK_DEBIAN_DESKTOP_PACKAGE_RECOMMENDS "${CPACK_DEBIAN_DESKTOP_PACKAGE_RECOMMENDS}, qt6-wayland")
  set(_ehrs_desktop_what "the desktop app (ehr-sessions) and the per-user agent")
else()
  set(_ehrs_desktop_what "the per-user agent (ehr-sessions-agent)")
endif()
set(CPACK_DEBIAN_DESKTOP_DESCRIPTION "EHR Sessions desktop: stay signed in to the EHR
Contains ${_ehrs_desktop_what}.
The agent keeps the refresh token in the desktop keychain and hands fresh
access tokens to local applications; it starts with the desktop session
(systemd user unit ehr-sessions-agent.service, or XDG autostart).")
set(CPACK_DEBIAN_DESKTOP_PACKAGE_CONTROL_EXTRA
    "${_ehrs_pkg}/debian/desktop/postinst;${_ehrs_pkg}/debian/desktop/postrm;${_ehrs_pkg}/debian/desktop/conffiles")

include(CPack)
