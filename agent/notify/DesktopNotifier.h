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

    /// Notifies about new-sign-in events, about a sign-out because the session's refresh token
    /// was used again elsewhere (theft detection) and about suspicious sign-ins; other events are
    /// ignored.
    void onEvent(const ipc::Event& event);
    /// The off switches: `[notifications] newSignIn` (new sign-ins and the reuse sign-out) and
    /// `[notifications] suspiciousSignIn`. Both on by default.
    void setNewSignInEnabled(bool on) { m_newSignIn = on; }
    void setSuspiciousSignInEnabled(bool on) { m_suspiciousSignIn = on; }
    void notify(const QString& summary, const QString& body);

    /// Text shown for a new sign-in: summary "New sign-in", body starting with
    /// "<device>, <ip> (<location>)". Device and location come from whoever signed in, possibly
    /// the attacker this warns about, so they are reduced to plain one-line text.
    static QString newSignInBody(const ipc::NewSignInEvent& signIn);
    /// Text shown for a suspicious sign-in (summary "Unusual sign-in to your account"): the place
    /// and device on the first line, the server's reasons on the second, then advice. The server
    /// writes the reasons from what the signer sent (places, browser names), so each is reduced to
    /// plain one-line text like the new-sign-in fields.
    static QString suspiciousSignInBody(const ipc::SuspiciousSignInEvent& signIn);

private:
    QDBusConnection m_bus;
    bool m_newSignIn = true;
    bool m_suspiciousSignIn = true;
};

} // namespace ehrs::agent
