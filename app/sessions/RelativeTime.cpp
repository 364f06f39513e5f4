// SPDX-License-Identifier: Apache-2.0
#include "RelativeTime.h"

#include <QCoreApplication>

namespace ehrs::app {
namespace {
QString ago(qint64 n, const char* one, const char* many)
{
    return n == 1 ? QCoreApplication::translate("RelativeTime", one)
                  : QCoreApplication::translate("RelativeTime", many).arg(n);
}
} // namespace

QString relativeTime(const QDateTime& then, const QDateTime& now)
{
    if (!then.isValid())
        return QCoreApplication::translate("RelativeTime", "at an unknown time");
    const qint64 s = then.secsTo(now);
    if (s < 60)
        return QCoreApplication::translate("RelativeTime", "just now");
    if (s < 3600)
        return ago(s / 60, "1 minute ago", "%1 minutes ago");
    if (s < 86400)
        return ago(s / 3600, "1 hour ago", "%1 hours ago");
    if (s < 86400 * 30)
        return ago(s / 86400, "yesterday", "%1 days ago");
    if (s < 86400 * 365)
        return ago(s / (86400 * 30), "1 month ago", "%1 months ago");
    return ago(s / (86400 * 365), "1 year ago", "%1 years ago");
}

} // namespace ehrs::app
