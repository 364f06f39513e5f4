// SPDX-License-Identifier: Apache-2.0
// Issue 11.7, CPU-heavy work off the event loops: while 8 connections sign in continuously
// (argon2id, ~55 ms of CPU each, correct password), validation-only requests on the same
// instance (PATCH /api/sessions/<own id> with a bad body: 400 after authentication, bench/run's
// val_only) keep p99 <= 10 ms. A worker that checks passwords itself holds every other
// connection it serves for the length of a check, tens of milliseconds at a time.
// (tests/server/integration/TestRequestPath checks one health check against one pipelined burst
// on one worker; this one measures percentiles under a sustained storm on two.)
#include "ApiClient.h"
#include "LoadClient.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"

#include <QScopeGuard>
#include <QTest>
#include <memory>
#include <vector>

using namespace ehrs::test;

namespace {
const QByteArray kPassword = "login storm password";
const QString kEmail = QStringLiteral("storm@example.org");

constexpr int kLoginClients = 8;
constexpr int kValidationClients = 4;
constexpr int kValidationPauseMs = 5;
constexpr int kStormMs = 8000;
// The figure is 10 ms, met on a quiet machine (p99 5.7-6.4 ms since the hashing threads run
// at nice 10); the assertion allows twice that, because CI shares its two cores with whatever else
// runs there, and argon2id on the worker (the failure this catches) gives ~1.5 s.
constexpr double kValidationP99Ms = 20.0;
// Two cores check ~30 passwords a second; well under that still proves the hashing threads were
// kept busy the whole time, on a machine that other work shares.
constexpr double kMinLoginsPerSecond = 5.0;
} // namespace

class TestLoginStorm : public QObject
{
    Q_OBJECT

    // A Redis of its own: login rate-limit counters live in Redis, keyed by client address, and
    // hundreds of sign-ins from 127.0.0.1 would push other tests sharing a Redis over the limit.
    RedisProcess m_redis;
    std::unique_ptr<ServerProcess> m_server;

private Q_SLOTS:
    void initTestCase()
    {
        if (postgresAdminUrl().isEmpty()) {
            if (servicesRequired())
                QFAIL("EHRS_TEST_DATABASE_URL missing; run through scripts/test.sh");
            QSKIP("no test PostgreSQL");
        }
        const QString database = createPostgresDatabase();
        QVERIFY(!database.isEmpty());
        QVERIFY(m_redis.start());
        m_server = std::make_unique<ServerProcess>();
        m_server->setEnv(QStringLiteral("DATABASE_URL"), database);
        m_server->setEnv(QStringLiteral("REDIS_URL"), m_redis.url());
        m_server->setEnv(QStringLiteral("JWT_SECRET"),
                         QStringLiteral("login-storm-secret-0123456789abcdef0123"));
        m_server->setEnv(QStringLiteral("WORKER_THREADS"), QStringLiteral("2"));
        m_server->setEnv(QStringLiteral("RATE_LIMIT_LOGIN_IP"), QStringLiteral("100000/60"));
        m_server->setEnv(QStringLiteral("RATE_LIMIT_LOGIN_ACCOUNT"), QStringLiteral("100000/60"));
        m_server->setEnv(QStringLiteral("CLEANUP_INTERVAL"), QStringLiteral("0"));
        QVERIFY(m_server->start());
        QVERIFY(m_server->addUser(kEmail, QString::fromLatin1(kPassword)));
    }

    void cleanupTestCase() { m_server.reset(); }

    void validationStaysFastDuringALoginStorm()
    {
        const QUrl base = m_server->url();
        const nlohmann::json credentials{{"email", kEmail.toStdString()},
                                         {"password", kPassword.toStdString()}};
        std::vector<std::unique_ptr<LoadClient>> validators;
        for (int i = 0; i < kValidationClients; ++i) {
            auto r = ApiClient(base).request("POST", "/api/auth/login", credentials);
            QCOMPARE(r.status, 200);
            const QByteArray access = QByteArray::fromStdString(r.str("accessToken"));
            const QByteArray path = "/api/sessions/" + QByteArray::fromStdString(r.str("sessionId"));
            validators.push_back(std::make_unique<LoadClient>(
                base,
                [base, path, access] {
                    return LoadClient::request(base, "PATCH", path, {{"name", 5}}, access);
                },
                kValidationPauseMs));
        }
        std::vector<std::unique_ptr<LoadClient>> logins;
        for (int i = 0; i < kLoginClients; ++i) {
            logins.push_back(std::make_unique<LoadClient>(
                base,
                [base, credentials] {
                    return LoadClient::request(base, "POST", "/api/auth/login", credentials);
                },
                0));
        }
        auto stopAll = qScopeGuard([&] {
            for (auto& c : validators)
                c->stop();
            for (auto& c : logins)
                c->stop();
        });
        auto answered = [](const std::vector<std::unique_ptr<LoadClient>>& clients) {
            qsizetype n = 0;
            for (const auto& c : clients)
                n += c->samples().size();
            return n;
        };

        // Validation alone first (the baseline on this machine, right now).
        const qint64 startUs = monotonicUs();
        for (auto& c : validators)
            c->start();
        QVERIFY(runEventLoopUntil([&] { return answered(validators) >= 10 * kValidationClients; }, 20000));
        runEventLoopFor(1000);

        // The storm: once every login connection has had an answer, the hashing threads are busy.
        const qint64 stormSignalledUs = monotonicUs();
        for (auto& c : logins)
            c->start();
        QVERIFY2(runEventLoopUntil(
                     [&] {
                         for (const auto& c : logins) {
                             if (c->samples().isEmpty())
                                 return false;
                         }
                         return true;
                     },
                     30000),
                 "not every login connection got an answer");
        const qint64 stormUs = monotonicUs();
        runEventLoopFor(kStormMs);
        const qint64 endUs = monotonicUs();
        stopAll.dismiss();
        for (auto& c : validators)
            c->stop();
        for (auto& c : logins)
            c->stop();
        QVERIFY2(runEventLoopUntil(
                     [&] {
                         for (const auto* group : {&validators, &logins}) {
                             for (const auto& c : *group) {
                                 if (c->busy())
                                     return false;
                             }
                         }
                         return true;
                     },
                     30000),
                 "a request outlived its own timeout");

        auto collect = [](const std::vector<std::unique_ptr<LoadClient>>& clients, qint64 fromUs,
                          qint64 toUs) {
            QList<LoadSample> out;
            for (const auto& c : clients) {
                for (const LoadSample& s : c->samples()) {
                    if (s.sentUs >= fromUs && s.sentUs < toUs)
                        out << s;
                }
            }
            return out;
        };
        auto latencies = [](const QList<LoadSample>& samples) {
            QList<qint64> out;
            for (const LoadSample& s : samples)
                out << s.latencyUs;
            return out;
        };
        const auto baseline = collect(validators, startUs, stormSignalledUs);
        const auto storm = collect(validators, stormUs, endUs);
        const auto stormLogins = collect(logins, stormUs, endUs);
        const LatencySummary stormSummary = LatencySummary::of(latencies(storm));
        const double loginsPerSecond = double(stormLogins.size()) * 1e6 / double(endUs - stormUs);
        qInfo("validation alone          %-16s %s", qPrintable(statusCounts(baseline)),
              qPrintable(LatencySummary::of(latencies(baseline)).toString()));
        qInfo("validation in the storm   %-16s %s", qPrintable(statusCounts(storm)),
              qPrintable(stormSummary.toString()));
        qInfo("logins in the storm       %-16s %s, %.1f/s", qPrintable(statusCounts(stormLogins)),
              qPrintable(LatencySummary::of(latencies(stormLogins)).toString()), loginsPerSecond);

        QVERIFY2(loginsPerSecond >= kMinLoginsPerSecond,
                 qPrintable(QStringLiteral("only %1 logins/s: no storm").arg(loginsPerSecond, 0, 'f', 1)));
        for (const LoadSample& s : collect(logins, startUs, endUs + 1))
            QVERIFY2(s.status == 200, qPrintable(QStringLiteral("a login got %1").arg(s.status)));
        QVERIFY2(stormSummary.p99Ms <= kValidationP99Ms,
                 qPrintable(QStringLiteral("validation during the login storm: %1 (p99 must stay <= %2 ms)")
                                .arg(stormSummary.toString())
                                .arg(kValidationP99Ms)));
        QVERIFY2(storm.size() >= 200,
                 qPrintable(QStringLiteral("only %1 validations in the storm").arg(storm.size())));
        for (const LoadSample& s : collect(validators, startUs, endUs + 1))
            QVERIFY2(s.status == 400,
                     qPrintable(QStringLiteral("a validation-only request got %1").arg(s.status)));
    }
};

QTEST_GUILESS_MAIN(TestLoginStorm)
#include "TestLoginStorm.moc"
