// SPDX-License-Identifier: Apache-2.0
#include "SignInHistory.h"

#include <QRegularExpression>

namespace ehrs::server {
namespace {
QString withoutVersion(const QString& name)
{
    static const QRegularExpression version(QStringLiteral("[\\s/]+[0-9][0-9A-Za-z._/-]*.*$"));
    return QString(name).remove(version).trimmed();
}
} // namespace

QString SignInHistory::browserFamily(const QString& userAgent) const
{
    if (userAgent.trimmed().isEmpty())
        return {};
    const DeviceInfo d = m_parse(userAgent);
    const QString browser = withoutVersion(d.browser);
    const QString os = withoutVersion(d.os);
    if (browser.isEmpty())
        return os;
    return os.isEmpty() ? browser : browser + QStringLiteral(" on ") + os;
}

std::optional<SignInPlace> SignInHistory::placeOf(const QString& ipAddress) const
{
    if (!m_geo)
        return std::nullopt;
    const auto found = m_geo->lookup(ipAddress);
    if (!found)
        return std::nullopt;
    return SignInPlace{found->key(), found->label(), found->latitude, found->longitude};
}

Result<SignInSignals> SignInHistory::gather(const QString& userId, const QString& ipAddress,
                                            const QString& userAgent, bool knownDevice, qint64 nowMs,
                                            int failureWindowSeconds) const
{
    SignInSignals s;
    s.nowMs = nowMs;
    s.knownDevice = knownDevice;
    s.place = placeOf(ipAddress);
    s.browserFamily = browserFamily(userAgent);
    s.failureWindowSeconds = failureWindowSeconds;
    auto past = m_db.exec(QStringLiteral("SELECT occurred_at, ip_address, user_agent FROM audit_events "
                                         "WHERE user_id = ? AND event = 'login_success' "
                                         "ORDER BY occurred_at DESC LIMIT %1")
                              .arg(kHistoryRows),
                          {userId});
    if (!past)
        return fail(past.error());
    while ((*past)->next()) {
        QSqlQuery* q = *past;
        s.history.push_back(PastSignIn{q->value(0).toLongLong(), placeOf(q->value(1).toString()),
                                       browserFamily(q->value(2).toString())});
    }
    (*past)->finish();
    auto failures = m_db.exec(QStringLiteral("SELECT COUNT(*) FROM audit_events WHERE user_id = ? AND "
                                             "event = 'login_failure' AND occurred_at > ?"),
                              {userId, nowMs - qint64(failureWindowSeconds) * 1000});
    if (!failures)
        return fail(failures.error());
    if ((*failures)->next())
        s.recentFailures = (*failures)->value(0).toInt();
    (*failures)->finish();
    return s;
}

} // namespace ehrs::server
