// SPDX-License-Identifier: Apache-2.0
#include "InProcessServer.h"

#include <QUuid>

namespace ehrs::test {

const QByteArray InProcessServer::kPassword = "correct horse battery staple";

InProcessServer::InProcessServer() : m_backend(qEnvironmentVariable("EHRS_TEST_BACKEND", QStringLiteral("sqlite"))) {}

InProcessServer::~InProcessServer()
{
    stop();
}

bool InProcessServer::start(QString* skipReason, const std::function<void(server::ServerConfig&)>& adjust)
{
    server::ServerConfig config;
    config.dataDir = m_dataDir.path();
    config.port = 0;
    config.workerThreads = 2;
    config.sessionRetention = 0;
    config.cleanupInterval = 0;
    config.loginPerIp = {2000, 60}; // whole suites log in from 127.0.0.1
    if (adjust)
        adjust(config);
    if (postgres()) {
        if (config.databaseUrl.isEmpty())
            config.databaseUrl = createPostgresDatabase();
        if (config.databaseUrl.isEmpty()) {
            *skipReason = QStringLiteral("no test PostgreSQL (EHRS_TEST_DATABASE_URL); scripts/test.sh provides one");
            return false;
        }
        m_redis = std::make_unique<RedisProcess>();
        if (!m_redis->start(/*appendOnly=*/true)) {
            qWarning("cannot start redis-server");
            return false;
        }
        config.redisUrl = m_redis->url();
        config.jwtSecret = "integration-test-secret-0123456789abcdef0123456789";
    }
    m_clock = std::make_shared<OffsetClock>();
    auto shared = server::SharedState::create(config, m_clock);
    if (!shared) {
        qWarning("%s", qPrintable(shared.error().message));
        return false;
    }
    m_app = std::make_unique<server::ServerApp>(std::move(*shared));
    if (auto started = m_app->start(); !started) {
        qWarning("%s", qPrintable(started.error().message));
        return false;
    }
    m_api = std::make_unique<ApiClient>(m_app->url());
    auto services = server::ServiceBundle::create(m_app->shared());
    if (!services)
        return false;
    m_services = std::move(*services);
    return true;
}

void InProcessServer::stop()
{
    m_services.reset();
    m_api.reset();
    m_app.reset();
}

QString InProcessServer::newUser(const QString& role)
{
    const QString email = QStringLiteral("user-%1@example.org").arg(QUuid::createUuid().toString(QUuid::Id128).left(10));
    auto hash = m_app->shared().hasher().hash(QString::fromLatin1(kPassword));
    auto user = m_services->users.create(email, QStringLiteral("Test"), *hash, role, QDateTime::currentMSecsSinceEpoch());
    if (!user)
        qFatal("cannot create user: %s", qPrintable(user.error().message));
    return email;
}

InProcessServer::Login InProcessServer::login(const QString& email, const QByteArray& userAgent, const nlohmann::json& device,
                                              const QByteArray& password)
{
    nlohmann::json body{{"email", email.toStdString()}, {"password", password.toStdString()}};
    if (!device.is_null())
        body["deviceInfo"] = device;
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!userAgent.isEmpty())
        headers.append({"User-Agent", userAgent});
    auto r = api().request("POST", "/api/auth/login", body, {}, headers);
    Login l;
    l.access = QByteArray::fromStdString(r.str("accessToken"));
    l.refresh = QByteArray::fromStdString(r.str("refreshToken"));
    l.sessionId = QString::fromStdString(r.str("sessionId"));
    if (r.json.is_object() && r.json.contains("user") && r.json["user"].is_object())
        l.userId = QString::fromStdString(r.json["user"].value("id", std::string()));
    l.response = std::move(r);
    return l;
}

ApiResponse InProcessServer::refresh(const QByteArray& refreshToken)
{
    return api().request("POST", "/api/sessions/refresh", {{"refreshToken", refreshToken.toStdString()}});
}

int InProcessServer::listStatus(const QByteArray& access)
{
    return api().request("GET", "/api/sessions", nullptr, access).status;
}

int InProcessServer::count(const QString& sql, const QVariantList& params)
{
    auto q = db().exec(sql, params);
    if (!q || !(*q)->next())
        return -1;
    const int n = (*q)->value(0).toInt();
    (*q)->finish();
    return n;
}

} // namespace ehrs::test
