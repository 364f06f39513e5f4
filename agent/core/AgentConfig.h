// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "DeviceInfo.h"

#include <QUrl>

namespace ehrs::agent {

/// Settings of the daemon. Read from `$XDG_CONFIG_HOME/ehr-sessions/agent.conf` (INI, keys below),
/// then overridden by environment variables, by loadAgentConfig(). A server address IT preset in
/// the system-wide client.conf (common/ClientConfig.h) comes before the user's own.
///
///   [server]   url=https://sessions.example-hospital.org       (EHRS_SERVER_URL)
///   [notifications] newSignIn=true                              (EHRS_AGENT_NOTIFY=0 turns off)
struct AgentConfig
{
    QUrl defaultServerUrl;
    bool notifyNewSignIns = true;
    /// Keep the server's account event stream open while signed in (SessionEventWatcher): the
    /// agent learns of its own session's end at once. Unit tests with a fake server turn it off.
    bool watchServerEvents = true;
    /// Sent with every login so the server lists this device properly.
    DeviceInfo deviceInfo;
    /// Test hook (EHRS_AGENT_TEST_CRASH_AFTER_ROTATION=1): _exit() right after a refresh response
    /// arrives and before the rotated token reaches the keychain — the worst moment for a crash.
    bool crashAfterRotationForTesting = false;
};

AgentConfig loadAgentConfig();

} // namespace ehrs::agent
