// SPDX-License-Identifier: Apache-2.0
#include "MailComposer.h"

#include "risk/DeviceLabel.h"
#include "sessions/UserAgentParser.h"

#include <QDateTime>
#include <QStringList>

namespace ehrs::server {
namespace {
QString text(const nlohmann::json& j, const char* key)
{
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString();
}

QString when(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC)
        .toString(QStringLiteral("dddd d MMMM yyyy, HH:mm 'UTC'"));
}

QString deviceOf(const AccountEventRow& row)
{
    const QString label = text(row.details, "deviceLabel");
    return label.isEmpty() ? deviceLabel(parseUserAgent(row.userAgent)) : label;
}

QString placeOf(const AccountEventRow& row)
{
    const QString place = text(row.details, "place");
    if (place.isEmpty())
        return row.ipAddress.isEmpty() ? QStringLiteral("unknown") : row.ipAddress;
    return row.ipAddress.isEmpty() ? place : place + QStringLiteral(" (") + row.ipAddress + u')';
}

const QString kEndSession = QStringLiteral(
    "If this was not you: on a computer you trust, open the EHR Sessions app (ehr-sessions), go to "
    "Active Sessions, find this session by its device, place and time, and choose Revoke (or \"Sign out "
    "all other devices\"). Then change your password on the app's Security page, and tell IT.");
const QString kSignature = QStringLiteral(
    "\n\n-- \nThis message was sent automatically by EHR Sessions. It never contains a sign-in link or a "
    "code; do not answer anyone who asks you for one.\n");
} // namespace

bool MailComposer::mayNotify(const QString& e)
{
    static const QStringList events{
        QStringLiteral("login_success"),         QStringLiteral("suspicious_login"),
        QStringLiteral("password_changed"),      QStringLiteral("mfa_enabled"),
        QStringLiteral("mfa_disabled"),          QStringLiteral("mfa_reset"),
        QStringLiteral("refresh_reuse_detected")};
    return events.contains(e);
}

std::optional<OutgoingMail> MailComposer::compose(const AccountEventRow& row, const QString& email,
                                                  const QString& name)
{
    if (email.isEmpty() || !mayNotify(row.event))
        return std::nullopt;
    const QString hello = QStringLiteral("Hello %1,\n\n").arg(name.isEmpty() ? email : name);
    const QString facts = QStringLiteral("Device: %1\nPlace: %2\nTime: %3\n")
                              .arg(deviceOf(row), placeOf(row), when(row.occurredAt));
    OutgoingMail m{email, {}, {}};
    const QString& e = row.event;
    if (e == u"login_success") {
        if (!row.details.value("newDevice", false))
            return std::nullopt; // a device that signed in before: no mail for a routine sign-in
        m.subject = QStringLiteral("New sign-in to your EHR account");
        m.body = hello +
                 QStringLiteral("Your account %1 was signed in on a device it has not used before.\n\n")
                     .arg(email) +
                 facts + QStringLiteral("\nIf this was you, there is nothing to do.\n\n") + kEndSession;
    } else if (e == u"suspicious_login") {
        QStringList reasons;
        if (const auto it = row.details.find("reasons"); it != row.details.end() && it->is_array()) {
            for (const auto& r : *it) {
                if (r.is_string())
                    reasons << QString::fromStdString(r.get<std::string>());
            }
        }
        m.subject = QStringLiteral("Unusual sign-in to your EHR account");
        const bool stepUp = row.details.value("stepUp", false);
        m.body =
            hello +
            QStringLiteral("Someone signed in to your account %1 with your password, and the sign-in looks "
                           "unusual:\n\n")
                .arg(email) +
            QStringLiteral("  - ") + reasons.join(QStringLiteral("\n  - ")) + QStringLiteral("\n\n") + facts +
            (stepUp ? QStringLiteral("\nThe second sign-in step (your authenticator code) was asked for "
                                     "before the sign-in could go on.\n\n")
                    : QStringLiteral("\nYour account has no second sign-in step, so the sign-in went "
                                     "ahead. Turning on two-step verification on the Security page "
                                     "protects you from this.\n\n")) +
            QStringLiteral("If this was you, there is nothing to do. ") + kEndSession;
    } else if (e == u"password_changed") {
        m.subject = QStringLiteral("Your EHR password was changed");
        m.body = hello +
                 QStringLiteral("The password of your account %1 was changed. Your other sessions were "
                                "ended and remembered devices forgotten.\n\n")
                     .arg(email) +
                 facts + QStringLiteral("\nIf you did not do this, call IT now.");
    } else if (e == u"mfa_enabled" || e == u"mfa_disabled" || e == u"mfa_reset") {
        m.subject = QStringLiteral("Two-step verification changed on your EHR account");
        const QString what = e == u"mfa_enabled"    ? QStringLiteral("was turned on")
                             : e == u"mfa_disabled" ? QStringLiteral("was turned off")
                                                    : QStringLiteral("was reset by IT");
        m.body = hello + QStringLiteral("Two-step verification of your account %1 %2.\n\n").arg(email, what) +
                 facts + QStringLiteral("\nIf you did not expect this, call IT now.");
    } else if (e == u"refresh_reuse_detected") {
        m.subject = QStringLiteral("A session of your EHR account was ended for your protection");
        m.body =
            hello +
            QStringLiteral("An old sign-in token of one of your sessions was used again, which happens when "
                           "a copy of it is in someone else's hands. That session was ended at once and "
                           "remembered devices were forgotten.\n\n") +
            facts + QStringLiteral("\nSign in again on your device. ") + kEndSession;
    }
    m.body += kSignature;
    return m;
}

} // namespace ehrs::server
