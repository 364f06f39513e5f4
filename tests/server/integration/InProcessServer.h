// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "ApiClient.h"
#include "Clock.h"
#include "TestEnvironment.h"
#include "app/ServerApp.h"

#include <QTemporaryDir>

#include <atomic>
#include <memory>

namespace ehrs::test {

/// System time plus an adjustable offset, shared with the server's threads.
class OffsetClock final : public Clock
{
public:
    qint64 nowMs() const override { return QDateTime::currentMSecsSinceEpoch() + m_offset.load(); }
    void advance(qint64 ms) { m_offset += ms; }
    void reset() { m_offset = 0; }

private:
    std::atomic<qint64> m_offset{0};
};

/// The whole server in this process, on the backend EHRS_TEST_BACKEND names: "postgres"
/// (a fresh database on the test PostgreSQL, plus a private Redis) or "sqlite" (the embedded
/// default: a SQLite file and the in-process cache). Gives the test its own database connection
/// to look at rows, and helpers for users and logins.
class InProcessServer
{
public:
    struct Login
    {
        QByteArray access;
        QByteArray refresh;
        QString sessionId;
        QString userId;
        ApiResponse response;
    };

    static const QByteArray kPassword;

    InProcessServer();
    ~InProcessServer();

    /// Starts the server; false with a QWARN on failure. `skipReason` is set when the backend is
    /// not available here (no PostgreSQL outside scripts/test.sh).
    bool start(QString* skipReason, const std::function<void(server::ServerConfig&)>& adjust = {});
    void stop();

    bool postgres() const { return m_backend == u"postgres"; }
    ApiClient& api() { return *m_api; }
    OffsetClock& clock() { return *m_clock; }
    server::ServerApp& app() { return *m_app; }
    server::ServiceBundle& services() { return *m_services; }
    server::Database& db() { return *m_services->db; }
    RedisProcess* redis() { return m_redis.get(); }

    /// A new user with kPassword; returns the email.
    QString newUser(const QString& role = QStringLiteral("user"));
    Login login(const QString& email, const QByteArray& userAgent = {}, const nlohmann::json& device = nullptr,
                const QByteArray& password = kPassword);
    ApiResponse refresh(const QByteArray& refreshToken);
    int listStatus(const QByteArray& access);
    /// First column of the first row, as int (-1 when the query fails).
    int count(const QString& sql, const QVariantList& params = {});

private:
    QString m_backend;
    QTemporaryDir m_dataDir;
    std::unique_ptr<RedisProcess> m_redis;
    std::shared_ptr<OffsetClock> m_clock;
    std::unique_ptr<server::ServerApp> m_app;
    std::unique_ptr<server::ServiceBundle> m_services;
    std::unique_ptr<ApiClient> m_api;
};

} // namespace ehrs::test
