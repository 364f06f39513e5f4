// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QObject>
#include <QString>
#include <memory>
#include <optional>

namespace ehrs::agent {

/// What the desktop says about the person in front of it (issue 14): how long since the last
/// keyboard or mouse input, and whether the session is locked. The Linux implementation reads
/// logind's session object on the system bus (IdleHint, IdleSinceHint, LockedHint, Lock/Unlock)
/// and, where present, org.freedesktop.ScreenSaver and GNOME's org.gnome.Mutter.IdleMonitor on the
/// session bus; tests use a fake.
class DesktopActivity : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    /// Whether any desktop source answered: without one, only local apps' token requests tell the
    /// agent that the clinician is there.
    virtual bool isAvailable() const = 0;
    /// "logind", "logind+screensaver", "screensaver", ...; empty when not available.
    virtual QString sources() const = 0;
    /// Milliseconds since the last input, as far as the desktop knows now: 0 while the desktop is
    /// in use (logind's IdleHint false), the idle time while it is idle; empty when unknown.
    virtual std::optional<qint64> idleMs() const = 0;
    virtual bool isLocked() const = 0;

Q_SIGNALS:
    /// The desktop went idle or came back (input after idleness).
    void idleChanged(bool idle);
    void lockedChanged(bool locked);
};

struct AgentConfig;
/// The platform's desktop activity source (platform/DesktopActivity_<os>.cpp).
std::unique_ptr<DesktopActivity> createDesktopActivity(const AgentConfig& config);

} // namespace ehrs::agent
