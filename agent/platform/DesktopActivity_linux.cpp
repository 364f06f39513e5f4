// SPDX-License-Identifier: Apache-2.0
// Desktop idleness and screen lock on Linux (issue 14), from three D-Bus sources:
//  - logind (system bus): the session object's IdleHint, IdleSinceHint and LockedHint properties
//    (PropertiesChanged), and its Lock/Unlock signals;
//  - org.freedesktop.ScreenSaver (session bus): GetActive/ActiveChanged (a locking screensaver is
//    active while the screen is locked) and, where implemented (KDE), GetSessionIdleTime;
//  - GNOME's org.gnome.Mutter.IdleMonitor (session bus): GetIdletime, asked only when a decision
//    needs it (a refresh is due), so an idle agent does not wake up for it.
// Each source is optional; with none the agent counts local apps' token requests only.
#include "Logging.h"
#include "core/AgentConfig.h"
#include "core/DesktopActivity.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QDBusReply>
#include <QDBusVariant>
#include <QDateTime>
#include <QStringList>
#include <unistd.h>

namespace ehrs::agent {
namespace {
const QString kLogind = QStringLiteral("org.freedesktop.login1");
const QString kLogindPath = QStringLiteral("/org/freedesktop/login1");
const QString kManager = QStringLiteral("org.freedesktop.login1.Manager");
const QString kSession = QStringLiteral("org.freedesktop.login1.Session");
const QString kProperties = QStringLiteral("org.freedesktop.DBus.Properties");
const QString kScreenSaver = QStringLiteral("org.freedesktop.ScreenSaver");
const QString kScreenSaverPath = QStringLiteral("/org/freedesktop/ScreenSaver");
const QString kMutter = QStringLiteral("org.gnome.Mutter.IdleMonitor");
const QString kMutterPath = QStringLiteral("/org/gnome/Mutter/IdleMonitor/Core");
// A desktop service that does not answer within this is treated as absent; start-up and the
// moment a refresh is due must not hang on it.
constexpr int kCallTimeoutMs = 1500;

class LinuxDesktopActivity final : public DesktopActivity
{
    Q_OBJECT
public:
    explicit LinuxDesktopActivity(const AgentConfig& config)
        : m_system(QDBusConnection::systemBus()),
          m_session(config.screensaverBusAddress.isEmpty()
                        ? QDBusConnection::sessionBus()
                        : QDBusConnection::connectToBus(config.screensaverBusAddress,
                                                        QStringLiteral("ehrs-agent-screensaver-bus")))
    {
        initLogind();
        initScreenSaver();
    }

    bool isAvailable() const override { return !m_sessionPath.isEmpty() || m_hasScreenSaver || m_hasMutter; }

    QString sources() const override
    {
        QStringList s;
        if (!m_sessionPath.isEmpty())
            s << QStringLiteral("logind");
        if (m_hasScreenSaver)
            s << QStringLiteral("screensaver");
        if (m_hasMutter)
            s << QStringLiteral("mutter-idle-monitor");
        return s.join(u'+');
    }

    std::optional<qint64> idleMs() const override
    {
        // The compositor's own count is the most precise; logind's hint depends on the desktop
        // setting it. The first source that answers decides.
        if (m_hasMutter) {
            QDBusMessage call =
                QDBusMessage::createMethodCall(kMutter, kMutterPath, kMutter, QStringLiteral("GetIdletime"));
            const QDBusReply<qulonglong> reply = m_session.call(call, QDBus::Block, kCallTimeoutMs);
            if (reply.isValid())
                return static_cast<qint64>(reply.value());
        }
        if (m_hasScreenSaver && m_screenSaverIdleTime) {
            QDBusMessage call = QDBusMessage::createMethodCall(kScreenSaver, kScreenSaverPath, kScreenSaver,
                                                               QStringLiteral("GetSessionIdleTime"));
            const QDBusReply<uint> reply = m_session.call(call, QDBus::Block, kCallTimeoutMs);
            if (reply.isValid())
                return qint64(reply.value()) * 1000;
            m_screenSaverIdleTime = false; // not implemented here (GNOME): do not ask again
        }
        if (m_sessionPath.isEmpty())
            return std::nullopt;
        if (!m_idleHint)
            return 0;
        if (m_idleSinceUs == 0)
            return std::nullopt;
        const qint64 nowUs = QDateTime::currentMSecsSinceEpoch() * 1000;
        return std::max<qint64>(0, (nowUs - qint64(m_idleSinceUs)) / 1000);
    }

    bool isLocked() const override { return m_lockedHint || m_lockSignalled || m_screenSaverActive; }

private Q_SLOTS:
    void onLogindPropertiesChanged(const QString& interface, const QVariantMap& changed,
                                   const QStringList& invalidated)
    {
        if (interface != kSession)
            return;
        QVariantMap values = changed;
        for (const QString& name : invalidated) {
            if (name == u"IdleHint" || name == u"IdleSinceHint" || name == u"LockedHint")
                values.insert(name, getProperty(name));
        }
        applyLogind(values);
    }
    void onLock() { setLockSignalled(true); }
    void onUnlock() { setLockSignalled(false); }
    void onScreenSaverActiveChanged(bool active)
    {
        const bool was = isLocked();
        m_screenSaverActive = active;
        announceLock(was);
    }

private:
    void initLogind()
    {
        if (!m_system.isConnected()) {
            qCInfo(lcAgent) << "no system bus: logind's idle and lock hints are not available";
            return;
        }
        m_sessionPath = findSession();
        if (m_sessionPath.isEmpty())
            return;
        QDBusMessage getAll =
            QDBusMessage::createMethodCall(kLogind, m_sessionPath, kProperties, QStringLiteral("GetAll"));
        getAll << kSession;
        const QDBusReply<QVariantMap> props = m_system.call(getAll, QDBus::Block, kCallTimeoutMs);
        if (!props.isValid()) {
            qCInfo(lcAgent) << "logind session" << m_sessionPath << "unreadable:" << props.error().message();
            m_sessionPath.clear();
            return;
        }
        applyLogind(props.value(), false);
        m_system.connect(kLogind, m_sessionPath, kProperties, QStringLiteral("PropertiesChanged"), this,
                         SLOT(onLogindPropertiesChanged(QString, QVariantMap, QStringList)));
        m_system.connect(kLogind, m_sessionPath, kSession, QStringLiteral("Lock"), this, SLOT(onLock()));
        m_system.connect(kLogind, m_sessionPath, kSession, QStringLiteral("Unlock"), this, SLOT(onUnlock()));
    }

    /// This desktop session's object: XDG_SESSION_ID (set in the session's environment), else the
    /// session of this process, else the user's display session (a systemd user service belongs
    /// to no session of its own).
    QString findSession()
    {
        auto path = [this](const QString& method, const QVariant& arg) -> QString {
            QDBusMessage call = QDBusMessage::createMethodCall(kLogind, kLogindPath, kManager, method);
            call << arg;
            const QDBusReply<QDBusObjectPath> reply = m_system.call(call, QDBus::Block, kCallTimeoutMs);
            return reply.isValid() && reply.value().path() != u"/" ? reply.value().path() : QString();
        };
        if (const QString id = qEnvironmentVariable("XDG_SESSION_ID"); !id.isEmpty()) {
            if (QString p = path(QStringLiteral("GetSession"), id); !p.isEmpty())
                return p;
        }
        if (QString p = path(QStringLiteral("GetSessionByPID"), QVariant::fromValue(uint(::getpid())));
            !p.isEmpty())
            return p;
        QDBusMessage get = QDBusMessage::createMethodCall(
            kLogind, QStringLiteral("/org/freedesktop/login1/user/self"), kProperties, QStringLiteral("Get"));
        get << QStringLiteral("org.freedesktop.login1.User") << QStringLiteral("Display");
        const QDBusMessage reply = m_system.call(get, QDBus::Block, kCallTimeoutMs);
        if (reply.type() == QDBusMessage::ReplyMessage && !reply.arguments().isEmpty()) {
            const QVariant v = reply.arguments().constFirst().value<QDBusVariant>().variant();
            const QDBusArgument arg = v.value<QDBusArgument>();
            QString id;
            QDBusObjectPath p;
            arg.beginStructure();
            arg >> id >> p;
            arg.endStructure();
            if (!id.isEmpty() && p.path() != u"/")
                return p.path();
        }
        qCInfo(lcAgent) << "logind: no session found for this agent";
        return {};
    }

    QVariant getProperty(const QString& name) const
    {
        QDBusMessage get =
            QDBusMessage::createMethodCall(kLogind, m_sessionPath, kProperties, QStringLiteral("Get"));
        get << kSession << name;
        const QDBusReply<QDBusVariant> reply = m_system.call(get, QDBus::Block, kCallTimeoutMs);
        return reply.isValid() ? reply.value().variant() : QVariant();
    }

    void applyLogind(const QVariantMap& values, bool announce = true)
    {
        const bool wasLocked = isLocked();
        const bool wasIdle = m_idleHint;
        if (auto it = values.find(QStringLiteral("IdleHint")); it != values.end())
            m_idleHint = it->toBool();
        if (auto it = values.find(QStringLiteral("IdleSinceHint")); it != values.end())
            m_idleSinceUs = it->toULongLong();
        if (auto it = values.find(QStringLiteral("LockedHint")); it != values.end())
            m_lockedHint = it->toBool();
        if (!announce)
            return;
        if (wasIdle != m_idleHint)
            Q_EMIT idleChanged(m_idleHint);
        announceLock(wasLocked);
    }

    void setLockSignalled(bool locked)
    {
        const bool was = isLocked();
        m_lockSignalled = locked;
        announceLock(was);
    }

    void announceLock(bool was)
    {
        if (was != isLocked())
            Q_EMIT lockedChanged(isLocked());
    }

    void initScreenSaver()
    {
        if (!m_session.isConnected() || !m_session.interface())
            return;
        const auto registered = [this](const QString& name) {
            const QDBusReply<bool> r = m_session.interface()->isServiceRegistered(name);
            return r.isValid() && r.value();
        };
        if (registered(kScreenSaver)) {
            QDBusMessage call = QDBusMessage::createMethodCall(kScreenSaver, kScreenSaverPath, kScreenSaver,
                                                               QStringLiteral("GetActive"));
            const QDBusReply<bool> active = m_session.call(call, QDBus::Block, kCallTimeoutMs);
            if (active.isValid()) {
                m_hasScreenSaver = true;
                m_screenSaverActive = active.value();
                m_session.connect(kScreenSaver, kScreenSaverPath, kScreenSaver,
                                  QStringLiteral("ActiveChanged"), this,
                                  SLOT(onScreenSaverActiveChanged(bool)));
            }
        }
        m_hasMutter = registered(QStringLiteral("org.gnome.Mutter.IdleMonitor"));
    }

    QDBusConnection m_system;
    QDBusConnection m_session;
    QString m_sessionPath;
    bool m_idleHint = false;
    quint64 m_idleSinceUs = 0; // CLOCK_REALTIME, µs
    bool m_lockedHint = false;
    bool m_lockSignalled = false;
    bool m_hasScreenSaver = false;
    bool m_screenSaverActive = false;
    mutable bool m_screenSaverIdleTime = true;
    bool m_hasMutter = false;
};
} // namespace

std::unique_ptr<DesktopActivity> createDesktopActivity(const AgentConfig& config)
{
    return std::make_unique<LinuxDesktopActivity>(config);
}

} // namespace ehrs::agent

#include "DesktopActivity_linux.moc"
