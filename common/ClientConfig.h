// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QString>
#include <QUrl>

namespace ehrs {

/// The system-wide settings IT gives the agent and the app on every desktop: an INI file,
/// `/etc/ehr-sessions/client.conf` (the desktop package installs it, all commented out), or the
/// file named by EHRS_CLIENT_CONFIG (tests, unusual layouts).
///
///   [server]
///   url=https://sessions.hospital.example
QString clientConfigPath();

/// The server address IT preset, or an empty URL when none is (or it is not an http(s) URL).
/// When set, the app's sign-in page hides its server field and the agent signs in there.
QUrl presetServerUrl();

} // namespace ehrs
