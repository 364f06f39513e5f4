// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "ipc/AgentMessages.h"

#include <QDBusConnection>
#include <QObject>

namespace ehrs::agent {

/// Shows "New sign-in" / "Chrome 120 on Windows 10/11, 203.0.113.7" through the freedesktop
/// Notifications service (org.freedesktop.Notifications) on the session bus. Fire and forget: no
/// notification daemon means no popup, and the event still reaches subscribed apps.
class DesktopNotifier : public QObject
{
    Q_OBJECT
public:
    /// The bus is injected for tests; the agent passes the session bus.
    explicit DesktopNotifier(QDBusConnection bus = QDBusConnection::sessionBus(), QObject* parent = nullptr);

    /// Notifies about new-sign-in events and about a sign-out because the session's refresh token
    /// was used again elsewhere (theft detection); other events are ignored.
    void onEvent(const ipc::Event& event);
    void notify(const QString& summary, const QString& body);

    /// Text shown for a new sign-in: summary "New sign-in", body starting with
    /// "<device>, <ip> (<location>)". Device and location come from whoever signed in, possibly
    /// the attacker this warns about, so they are reduced to plain one-line text.
    static QString newSignInBody(const ipc::NewSignInEvent& signIn);

private:
    QDBusConnection m_bus;
};

} // namespace ehrs::agent
