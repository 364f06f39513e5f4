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
///   [notifications] suspiciousSignIn=true                       (EHRS_AGENT_NOTIFY=0 turns off)
///   [session]  endOnLock=false                                  (EHRS_END_ON_LOCK=1)
///   [desktop]  screensaverBus=<D-Bus address>                   (EHRS_AGENT_SCREENSAVER_BUS)
///   [workstation] deviceClass=personal|shared_workstation       (EHRS_AGENT_DEVICE_CLASS)
///                 (the workstation id: EHRS_AGENT_WORKSTATION_ID, else derived from /etc/machine-id)
///
/// logind is read on the system bus (DBUS_SYSTEM_BUS_ADDRESS, as every D-Bus client).
struct AgentConfig
{
    QUrl defaultServerUrl;
    bool notifyNewSignIns = true;
    /// Desktop notification for the server's suspicious-sign-in event (issue 18).
    bool notifySuspiciousSignIns = true;
    /// Keep the server's account event stream open while signed in (SessionEventWatcher): the
    /// agent learns of its own session's end at once. Unit tests with a fake server turn it off.
    bool watchServerEvents = true;
    /// Sent with every login so the server lists this device properly.
    DeviceInfo deviceInfo;
    /// Test hook (EHRS_AGENT_TEST_CRASH_AFTER_ROTATION=1): _exit() right after a refresh response
    /// arrives and before the rotated token reaches the keychain — the worst moment for a crash.
    bool crashAfterRotationForTesting = false;
    /// Sign the session out when the desktop locks, whatever the server's policy says (issue 14);
    /// the stricter of this and the server's `endOnLock` wins.
    bool endOnLock = false;
    /// The bus of org.freedesktop.ScreenSaver and GNOME's idle monitor: empty for the session bus.
    /// Tests point it at a private bus, since the keychain lives on the session bus they run under.
    QString screensaverBusAddress;
    /// Whether to read the desktop at all (EHRS_AGENT_DESKTOP_ACTIVITY=0: local apps only).
    bool desktopActivity = true;
    /// What this machine is, said to the server at every sign-in (issue 14): "personal" (one
    /// clinician's own device) or "shared_workstation" (a nurse station: several clinicians
    /// switch with PINs). The server may still class a personal claim as shared by its network.
    QString deviceClass = QStringLiteral("personal");
    /// A stable, non-secret name of this machine for the server's hand-over audit: "ws-" and 16
    /// hex characters of an HMAC of /etc/machine-id (the machine-id itself is not revealed).
    QString workstationId;
};

AgentConfig loadAgentConfig();

/// The device classes the server knows; anything else in the settings is refused with a warning.
bool isKnownDeviceClass(const QString& deviceClass);
/// "ws-" + the first 16 hex characters of HMAC-SHA256(machine-id, an application-specific
/// string), as sd_id128_get_machine_app_specific() derives ids: stable per machine, unlinkable to
/// the machine-id and to other applications' ids. Empty for an empty machine-id.
QString workstationIdFromMachineId(QByteArrayView machineId);
/// Whether `id` is acceptable to the server: 8 to 64 characters of [A-Za-z0-9._:-].
bool isValidWorkstationId(const QString& id);

} // namespace ehrs::agent
