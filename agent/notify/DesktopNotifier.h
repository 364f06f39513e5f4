// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "ipc/AgentMessages.h"

#include <QObject>

namespace ehrs::agent {

/// Shows "New sign-in: Chrome on Windows, 203.0.113.7" through the freedesktop Notifications
/// service on the session bus. Fire and forget: no notification daemon means no popup, and the
/// event still reaches subscribed apps.
class DesktopNotifier : public QObject
{
    Q_OBJECT
public:
    explicit DesktopNotifier(QObject* parent = nullptr);

    /// Notifies about new-sign-in events; others are ignored.
    void onEvent(const ipc::Event& event);
    void notify(const QString& summary, const QString& body);
};

} // namespace ehrs::agent
