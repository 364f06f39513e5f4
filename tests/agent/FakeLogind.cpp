// SPDX-License-Identifier: Apache-2.0
#include "FakeLogind.h"

#include <QDBusConnectionInterface>
#include <QDBusError>
#include <QDeadlineTimer>
#include <QStandardPaths>

namespace ehrs::agent::test {
namespace {
const QString kLogind = QStringLiteral("org.freedesktop.login1");
} // namespace

FakeLogindSession::FakeLogindSession(QDBusConnection bus, const QString& id) : m_bus(std::move(bus)), m_id(id)
{
}

QString FakeLogindSession::path() const
{
    return QStringLiteral("/org/freedesktop/login1/session/") + m_id;
}

void FakeLogindSession::announce(const QVariantMap& changed)
{
    QDBusMessage signal = QDBusMessage::createSignal(
        path(), QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("PropertiesChanged"));
    signal << QStringLiteral("org.freedesktop.login1.Session") << changed << QStringList();
    m_bus.send(signal);
}

void FakeLogindSession::setIdle(bool idle, const QDateTime& since)
{
    const qulonglong sinceUs = qulonglong(since.toMSecsSinceEpoch()) * 1000;
    m_idle = idle;
    m_idleSinceUs = sinceUs;
    announce({{QStringLiteral("IdleHint"), QVariant::fromValue(idle)},
              {QStringLiteral("IdleSinceHint"), QVariant::fromValue(sinceUs)}});
}

void FakeLogindSession::signal(const QString& name)
{
    m_bus.send(QDBusMessage::createSignal(path(), QStringLiteral("org.freedesktop.login1.Session"), name));
}

void FakeLogindSession::setLocked(bool locked)
{
    m_locked = locked;
    announce({{QStringLiteral("LockedHint"), QVariant::fromValue(locked)}});
    signal(locked ? QStringLiteral("Lock") : QStringLiteral("Unlock"));
}

QDBusObjectPath FakeLogindManager::GetSession(const QString& id, const QDBusMessage& message)
{
    Q_UNUSED(message);
    // No such session: "/", which the agent takes as none.
    QMutexLocker lock(&m_mutex);
    return QDBusObjectPath(m_paths.value(id, QStringLiteral("/")));
}

QDBusObjectPath FakeLogindManager::GetSessionByPID(uint, const QDBusMessage& message)
{
    Q_UNUSED(message);
    return QDBusObjectPath(QStringLiteral("/")); // an agent under test is in no session
}

void FakeDesktopBus::setScreenSaverActive(bool active)
{
    m_screenSaver.active = active;
    QDBusMessage changed = QDBusMessage::createSignal(QStringLiteral("/org/freedesktop/ScreenSaver"),
                                                      QStringLiteral("org.freedesktop.ScreenSaver"),
                                                      QStringLiteral("ActiveChanged"));
    changed << active;
    m_bus.send(changed);
}

FakeDesktopBus::~FakeDesktopBus()
{
    if (m_bus.isConnected())
        QDBusConnection::disconnectFromBus(m_bus.name());
    m_thread.quit();
    m_thread.wait();
    if (m_daemon.state() != QProcess::NotRunning) {
        m_daemon.terminate();
        if (!m_daemon.waitForFinished(3000))
            m_daemon.kill();
        m_daemon.waitForFinished(3000);
    }
}

bool FakeDesktopBus::start(bool withScreenSaver, QString* error)
{
    const QString daemon = QStandardPaths::findExecutable(QStringLiteral("dbus-daemon"));
    if (daemon.isEmpty()) {
        *error = QStringLiteral("dbus-daemon not found (Debian: apt install dbus-daemon)");
        return false;
    }
    m_daemon.setProgram(daemon);
    m_daemon.setArguments({QStringLiteral("--session"), QStringLiteral("--nofork"),
                           QStringLiteral("--nopidfile"),
                           QStringLiteral("--address=unix:path=") + m_dir.filePath(QStringLiteral("bus")),
                           QStringLiteral("--print-address")});
    m_daemon.start();
    if (!m_daemon.waitForStarted(5000)) {
        *error = m_daemon.errorString();
        return false;
    }
    QDeadlineTimer deadline(10000);
    while (!m_daemon.canReadLine() && !deadline.hasExpired() && m_daemon.state() == QProcess::Running)
        m_daemon.waitForReadyRead(200);
    m_address = QString::fromUtf8(m_daemon.readLine()).trimmed();
    if (m_address.isEmpty()) {
        *error = QString::fromUtf8(m_daemon.readAllStandardError());
        return false;
    }
    // One connection per bus (a name already in use would return that other bus's connection).
    m_bus = QDBusConnection::connectToBus(m_address, QStringLiteral("ehrs-test-desktop-bus-") + m_address);
    m_thread.start();
    m_manager.moveToThread(&m_thread);
    m_screenSaver.moveToThread(&m_thread);
    if (!m_bus.isConnected()) {
        *error = m_bus.lastError().message();
        return false;
    }
    if (!m_bus.registerObject(QStringLiteral("/org/freedesktop/login1"), &m_manager,
                              QDBusConnection::ExportAllSlots) ||
        !m_bus.registerService(kLogind)) {
        *error = m_bus.lastError().message();
        return false;
    }
    if (withScreenSaver && (!m_bus.registerObject(QStringLiteral("/org/freedesktop/ScreenSaver"),
                                                  &m_screenSaver, QDBusConnection::ExportAllSlots) ||
                            !m_bus.registerService(QStringLiteral("org.freedesktop.ScreenSaver")))) {
        *error = m_bus.lastError().message();
        return false;
    }
    return true;
}

FakeLogindSession& FakeDesktopBus::addSession(const QString& id)
{
    m_sessions.push_back(std::make_unique<FakeLogindSession>(m_bus, id));
    FakeLogindSession& s = *m_sessions.back();
    s.moveToThread(&m_thread);
    m_bus.registerObject(s.path(), &s, QDBusConnection::ExportAllProperties);
    m_manager.addSession(id, s.path());
    return s;
}

} // namespace ehrs::agent::test
