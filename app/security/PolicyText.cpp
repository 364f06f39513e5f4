// SPDX-License-Identifier: Apache-2.0
#include "PolicyText.h"

#include <QCoreApplication>

namespace ehrs::app {
namespace {
QString tr(const char* text)
{
    return QCoreApplication::translate("PolicyText", text);
}

/// "1 minute" / "15 minutes" (without a translation loaded, "%n minute(s)" stays as it is).
QString counted(int n, const char* one, const char* many)
{
    return n == 1 ? tr(one) : tr(many).arg(n);
}
} // namespace

QString durationText(int seconds)
{
    if (seconds >= 86400 && seconds % 86400 == 0)
        return counted(seconds / 86400, "1 day", "%1 days");
    if (seconds >= 3600 && seconds % 3600 == 0)
        return counted(seconds / 3600, "1 hour", "%1 hours");
    if (seconds >= 60 && seconds % 60 == 0)
        return counted(seconds / 60, "1 minute", "%1 minutes");
    return counted(seconds, "1 second", "%1 seconds");
}

QString describePolicy(const SessionPolicyInfo& p)
{
    QStringList parts;
    if (p.idleTimeoutSeconds > 0)
        parts << tr("Signed out after %1 without activity").arg(durationText(p.idleTimeoutSeconds));
    if (p.absoluteLifetimeSeconds > 0)
        parts << tr("at most %1").arg(durationText(p.absoluteLifetimeSeconds));
    if (p.endOnLock)
        parts << tr("ends when the screen locks");
    if (p.mfaRequired)
        parts << tr("two-step verification required");
    if (p.maxSessions > 0)
        parts << counted(p.maxSessions, "at most 1 session", "at most %1 sessions");
    if (parts.isEmpty())
        return {};
    QString text = parts.join(QStringLiteral("; "));
    text[0] = text[0].toUpper();
    return text;
}

QString describePolicySource(const SessionPolicyInfo& p)
{
    const QString device =
        p.deviceClass == u"shared_workstation" ? tr("Shared workstation") : tr("Personal device");
    if (p.groups.isEmpty())
        return device;
    return tr("%1 · groups: %2").arg(device, p.groups.join(QStringLiteral(", ")));
}

} // namespace ehrs::app
