// SPDX-License-Identifier: Apache-2.0
#include "ServerUrl.h"

#include <QHostAddress>

namespace ehrs {

bool isLoopbackHost(const QString& host)
{
    const QString h = host.toLower();
    return h == u"localhost" || h.endsWith(u".localhost") || QHostAddress(h).isLoopback();
}

Result<QUrl> parseServerUrl(const QString& text)
{
    const QString typed = text.trimmed();
    if (typed.isEmpty())
        return fail(
            ErrorCode::InvalidRequest,
            QStringLiteral("no server address (use --server https://... or set server/url in agent.conf)"));
    if (!typed.contains(QStringLiteral("://"))) {
        const QUrl guess(QStringLiteral("http://") + typed, QUrl::StrictMode);
        if (guess.isValid() && !guess.host().isEmpty()) {
            const QString scheme =
                isLoopbackHost(guess.host()) ? QStringLiteral("http") : QStringLiteral("https");
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("'%1' is not a server URL: did you mean %2://%1?").arg(typed, scheme));
        }
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("'%1' is not a server URL (expected https://host[:port])").arg(typed));
    }
    const QUrl url(typed, QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty())
        return fail(
            ErrorCode::InvalidRequest,
            QStringLiteral("'%1' is not a valid server URL (expected https://host[:port])").arg(typed));
    if (url.scheme() != u"https" && url.scheme() != u"http")
        return fail(
            ErrorCode::InvalidRequest,
            QStringLiteral("'%1': the server URL must start with https:// (or http:// for this computer)")
                .arg(typed));
    return url;
}

} // namespace ehrs
