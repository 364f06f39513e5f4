// SPDX-License-Identifier: Apache-2.0
#include "AgentConfig.h"

#include "ClientConfig.h"
#include "Crypto.h"
#include "LocalDeviceInfo.h"
#include "Logging.h"

#include <QDir>
#include <QFile>
#include <QSettings>
#include <QStandardPaths>
#include <algorithm>

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

    QString deviceClass = settings.value(QStringLiteral("workstation/deviceClass")).toString().trimmed();
    if (qEnvironmentVariableIsSet("EHRS_AGENT_DEVICE_CLASS"))
        deviceClass = qEnvironmentVariable("EHRS_AGENT_DEVICE_CLASS").trimmed();
    if (isKnownDeviceClass(deviceClass))
        config.deviceClass = deviceClass;
    else if (!deviceClass.isEmpty())
        qCWarning(lcAgent).noquote() << "ignoring deviceClass" << deviceClass
                                     << "(personal or shared_workstation): using personal";
    config.workstationId = qEnvironmentVariable("EHRS_AGENT_WORKSTATION_ID").trimmed();
    if (!config.workstationId.isEmpty() && !isValidWorkstationId(config.workstationId)) {
        qCWarning(lcAgent).noquote()
            << "ignoring EHRS_AGENT_WORKSTATION_ID: it must be 8 to 64 characters of "
               "letters, digits, '.', '_', ':', '-'";
        config.workstationId.clear();
    }
    if (config.workstationId.isEmpty()) {
        QFile machineId(QStringLiteral("/etc/machine-id"));
        if (machineId.open(QIODevice::ReadOnly))
            config.workstationId = workstationIdFromMachineId(machineId.readAll().trimmed());
    }
    return config;
}

bool isKnownDeviceClass(const QString& deviceClass)
{
    return deviceClass == u"personal" || deviceClass == u"shared_workstation";
}

QString workstationIdFromMachineId(QByteArrayView machineId)
{
    if (machineId.isEmpty())
        return {};
    // Keyed by the machine-id, the message fixed per application (as systemd's app-specific ids).
    static constexpr char kAppSpecific[] = "ehr-sessions workstation id v1";
    const QByteArray mac = crypto::hmacSha256(machineId, QByteArrayView(kAppSpecific));
    return QStringLiteral("ws-") + QString::fromLatin1(mac.toHex().left(16));
}

bool isValidWorkstationId(const QString& id)
{
    if (id.size() < 8 || id.size() > 64)
        return false;
    return std::all_of(id.begin(), id.end(), [](QChar c) {
        return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') ||
               c == u'.' || c == u'_' || c == u':' || c == u'-';
    });
}

} // namespace ehrs::agent
