// SPDX-License-Identifier: Apache-2.0
#include "ClientConfig.h"

#include <QSettings>

namespace ehrs {

QString clientConfigPath()
{
    const QString overridden = qEnvironmentVariable("EHRS_CLIENT_CONFIG");
    return overridden.isEmpty() ? QStringLiteral("/etc/ehr-sessions/client.conf") : overridden;
}

QUrl presetServerUrl()
{
    const QSettings settings(clientConfigPath(), QSettings::IniFormat);
    const QUrl url(settings.value(QStringLiteral("server/url")).toString().trimmed(), QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty() || (url.scheme() != u"https" && url.scheme() != u"http"))
        return {};
    return url;
}

} // namespace ehrs
