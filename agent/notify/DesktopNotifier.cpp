// SPDX-License-Identifier: Apache-2.0
#include "DesktopNotifier.h"

#include "Logging.h"

#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusPendingCall>
#include <QVariantMap>

namespace ehrs::agent {

DesktopNotifier::DesktopNotifier(QObject* parent) : QObject(parent) {}

void DesktopNotifier::onEvent(const ipc::Event& event)
{
    const auto* signIn = std::get_if<ipc::NewSignInEvent>(&event);
    if (!signIn)
        return;
    QString body = signIn->device;
    if (!signIn->ipAddress.isEmpty())
        body += QStringLiteral(", ") + signIn->ipAddress;
    if (!signIn->location.isEmpty())
        body += QStringLiteral(" (") + signIn->location + QLatin1Char(')');
    notify(QStringLiteral("New sign-in"),
           body + QStringLiteral("\nNot you? Revoke it in EHR Sessions and change your password."));
}

void DesktopNotifier::notify(const QString& summary, const QString& body)
{
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (!bus.isConnected()) {
        qCInfo(lcAgent) << "no session bus: cannot show the notification" << summary;
        return;
    }
    QDBusMessage call = QDBusMessage::createMethodCall(
        QStringLiteral("org.freedesktop.Notifications"), QStringLiteral("/org/freedesktop/Notifications"),
        QStringLiteral("org.freedesktop.Notifications"), QStringLiteral("Notify"));
    call << QStringLiteral("EHR Sessions") << 0u << QStringLiteral("dialog-password") << summary << body
         << QStringList() << QVariantMap{{QStringLiteral("urgency"), QVariant::fromValue<uchar>(1)}} << -1;
    bus.asyncCall(call); // no reply needed; a missing daemon just yields an error reply nobody reads
}

} // namespace ehrs::agent
