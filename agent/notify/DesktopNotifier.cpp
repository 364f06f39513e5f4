// SPDX-License-Identifier: Apache-2.0
#include "DesktopNotifier.h"

#include "Logging.h"

#include <QDBusMessage>
#include <QDBusPendingCall>
#include <QVariantMap>

namespace ehrs::agent {
namespace {
constexpr qsizetype kMaxFieldLength = 120;
constexpr qsizetype kMaxReasons = 5; // the server has five signals

/// Daemons with the "body-markup" capability render tags (links too, with "body-hyperlinks"), and
/// a line break or a bidi override could fake a reassuring line or reorder the address. Drops
/// markup characters, turns control and format characters into spaces, keeps one line.
QString plainText(const QString& untrusted)
{
    QString out;
    out.reserve(untrusted.size());
    for (const QChar c : untrusted) {
        if (c == u'<' || c == u'>' || c == u'&')
            continue;
        out += c.isPrint() || c.isSurrogate() ? c : QChar(u' ');
    }
    out = out.simplified();
    if (out.size() > kMaxFieldLength)
        out = out.left(kMaxFieldLength - 1) + QChar(0x2026);
    return out;
}
} // namespace

DesktopNotifier::DesktopNotifier(QDBusConnection bus, QObject* parent)
    : QObject(parent), m_bus(std::move(bus))
{
}

QString DesktopNotifier::newSignInBody(const ipc::NewSignInEvent& signIn)
{
    QString body = plainText(signIn.device);
    if (body.isEmpty())
        body = QStringLiteral("Unknown device");
    if (const QString ip = plainText(signIn.ipAddress); !ip.isEmpty())
        body += QStringLiteral(", ") + ip;
    if (const QString location = plainText(signIn.location); !location.isEmpty())
        body += QStringLiteral(" (") + location + QLatin1Char(')');
    return body + QStringLiteral("\nNot you? Revoke it in EHR Sessions and change your password.");
}

QString DesktopNotifier::suspiciousSignInBody(const ipc::SuspiciousSignInEvent& signIn)
{
    QStringList where;
    if (const QString location = plainText(signIn.location); !location.isEmpty())
        where << location;
    if (const QString device = plainText(signIn.device); !device.isEmpty())
        where << device;
    QString body =
        where.isEmpty() ? QStringLiteral("A sign-in with your password") : where.join(QStringLiteral(", "));
    QStringList reasons;
    for (const QString& reason : signIn.reasons) {
        if (reasons.size() == kMaxReasons)
            break;
        if (const QString plain = plainText(reason); !plain.isEmpty())
            reasons << plain;
    }
    if (!reasons.isEmpty())
        body += QStringLiteral("\nUnusual: ") + reasons.join(QStringLiteral("; "));
    return body + QStringLiteral("\nNot you? Change your password in EHR Sessions and tell IT.");
}

void DesktopNotifier::onEvent(const ipc::Event& event)
{
    if (const auto* signIn = std::get_if<ipc::NewSignInEvent>(&event)) {
        if (m_newSignIn)
            notify(QStringLiteral("New sign-in"), newSignInBody(*signIn));
        return;
    }
    if (const auto* suspicious = std::get_if<ipc::SuspiciousSignInEvent>(&event)) {
        if (m_suspiciousSignIn)
            notify(QStringLiteral("Unusual sign-in to your account"), suspiciousSignInBody(*suspicious));
        return;
    }
    if (!m_newSignIn)
        return;
    // The server ended the session because an old refresh token came back after its grace:
    // someone else holds (or held) this device's sign-in. Worth telling the person at once.
    const auto* signedOut = std::get_if<ipc::SignedOutEvent>(&event);
    if (signedOut && signedOut->reason == u"refresh_token_reused")
        notify(QStringLiteral("Signed out: your sign-in was used elsewhere"),
               QStringLiteral("This device's session was ended because a copy of its sign-in was used from "
                              "somewhere else. Sign in again, and tell IT if you did not expect this."));
}

void DesktopNotifier::notify(const QString& summary, const QString& body)
{
    if (!m_bus.isConnected()) {
        qCInfo(lcAgent) << "no session bus: cannot show the notification" << summary;
        return;
    }
    QDBusMessage call = QDBusMessage::createMethodCall(
        QStringLiteral("org.freedesktop.Notifications"), QStringLiteral("/org/freedesktop/Notifications"),
        QStringLiteral("org.freedesktop.Notifications"), QStringLiteral("Notify"));
    call << QStringLiteral("EHR Sessions") << 0u << QStringLiteral("dialog-password") << summary << body
         << QStringList() << QVariantMap{{QStringLiteral("urgency"), QVariant::fromValue<uchar>(1)}} << -1;
    m_bus.asyncCall(call); // no reply needed; a missing daemon just yields an error reply nobody reads
}

} // namespace ehrs::agent
