// SPDX-License-Identifier: Apache-2.0
#include "AgentConfig.h"

#include "ClientConfig.h"
#include "LocalDeviceInfo.h"

#include <QDir>
#include <QSettings>
#include <QStandardPaths>

namespace ehrs::agent {

AgentConfig loadAgentConfig()
{
    AgentConfig config;
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation);
    QSettings settings(QDir(dir).filePath(QStringLiteral("ehr-sessions/agent.conf")), QSettings::IniFormat);
    // IT's preset (system-wide) wins over the user's own file: the app hides the field then too.
    config.defaultServerUrl = presetServerUrl();
    if (config.defaultServerUrl.isEmpty())
        config.defaultServerUrl = QUrl(settings.value(QStringLiteral("server/url")).toString());
    config.notifyNewSignIns = settings.value(QStringLiteral("notifications/newSignIn"), true).toBool();

    if (const QString url = qEnvironmentVariable("EHRS_SERVER_URL"); !url.isEmpty())
        config.defaultServerUrl = QUrl(url);
    config.notifySuspiciousSignIns =
        settings.value(QStringLiteral("notifications/suspiciousSignIn"), true).toBool();
    if (qEnvironmentVariableIsSet("EHRS_AGENT_NOTIFY")) {
        config.notifyNewSignIns = qEnvironmentVariable("EHRS_AGENT_NOTIFY") != u"0";
        config.notifySuspiciousSignIns = config.notifyNewSignIns;
    }
    config.endOnLock = settings.value(QStringLiteral("session/endOnLock"), false).toBool();
    if (qEnvironmentVariableIsSet("EHRS_END_ON_LOCK")) {
        const QString v = qEnvironmentVariable("EHRS_END_ON_LOCK").trimmed().toLower();
        config.endOnLock = v == u"1" || v == u"true" || v == u"yes" || v == u"on";
    }
    config.screensaverBusAddress = settings.value(QStringLiteral("desktop/screensaverBus")).toString();
    if (qEnvironmentVariableIsSet("EHRS_AGENT_SCREENSAVER_BUS"))
        config.screensaverBusAddress = qEnvironmentVariable("EHRS_AGENT_SCREENSAVER_BUS");
    config.desktopActivity = qEnvironmentVariable("EHRS_AGENT_DESKTOP_ACTIVITY") != u"0";
    config.crashAfterRotationForTesting = qEnvironmentVariable("EHRS_AGENT_TEST_CRASH_AFTER_ROTATION") == u"1";
    config.deviceInfo = localDeviceInfo();
    return config;
}

} // namespace ehrs::agent
