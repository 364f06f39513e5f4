// SPDX-License-Identifier: Apache-2.0
// Under a steady mixed load on two server instances (logins, validations, refreshes, revocations):
// kill -9 Redis and restart it; stop PostgreSQL (fast) and restart it; kill -9 one instance and
// restart it. Asserted throughout: a revoked session is never accepted, no session a client saw
// created or rotated is lost, nothing answers 500, requests that cannot be served get 503 with
// Retry-After, and service recovers without restarting the survivors. Prints error counts and
// recovery times per phase.
#include "ApiClient.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"

#include <QElapsedTimer>
#include <QMap>
#include <QRandomGenerator>
#include <QTest>

#include <unistd.h>

using namespace ehrs::test;

namespace {
const QByteArray kPassword = "fault injection password";
const QString kEmail = QStringLiteral("faults@example.org");

struct Client
{
    QByteArray access;
    QByteArray refresh;
    QString sessionId;
};

struct Phase
{
    QString name;
    QMap<int, int> statuses; // status -> count (0: no answer)
    int missingRetryAfter = 0;
    qint64 recoveryMs = -1;
};
} // namespace

class TestFaultInjection : public QObject
{
    Q_OBJECT

    PostgresProcess m_pg;
    RedisProcess m_redis;
    std::unique_ptr<ServerProcess> m_a, m_b;
    QList<Client> m_clients;
    QList<QByteArray> m_revokedAccess; // tokens whose revocation a client saw succeed
    QList<Phase> m_phases;
    int m_acceptedRevoked = 0;
    int m_lostSessions = 0;

    std::unique_ptr<ServerProcess> startInstance()
    {
        auto s = std::make_unique<ServerProcess>();
        s->setEnv(QStringLiteral("DATABASE_URL"), m_pg.url());
        s->setEnv(QStringLiteral("REDIS_URL"), m_redis.url());
        s->setEnv(QStringLiteral("JWT_SECRET"), QStringLiteral("fault-injection-secret-0123456789abcdef01"));
        s->setEnv(QStringLiteral("RATE_LIMIT_LOGIN_IP"), QStringLiteral("100000/60"));
        s->setEnv(QStringLiteral("RATE_LIMIT_REFRESH_SESSION"), QStringLiteral("100000/60"));
        s->setEnv(QStringLiteral("WORKER_THREADS"), QStringLiteral("2"));
        if (!s->start())
            return nullptr;
        return s;
    }

    QList<ServerProcess*> alive()
    {
        QList<ServerProcess*> out;
        for (auto* s : {m_a.get(), m_b.get()}) {
            if (s && s->isRunning())
                out << s;
        }
        return out;
    }

    void record(Phase& phase, const ApiResponse& r)
    {
        phase.statuses[r.status]++;
        if ((r.status == 503 || r.status == 429) && r.header("retry-after").isEmpty())
            ++phase.missingRetryAfter;
    }

    std::optional<Client> login(ServerProcess& s, Phase* phase = nullptr)
    {
        auto r = ApiClient(s.url()).request("POST", "/api/auth/login",
                                            {{"email", kEmail.toStdString()}, {"password", kPassword.toStdString()}});
        if (phase)
            record(*phase, r);
        if (r.status != 200)
            return std::nullopt;
        return Client{QByteArray::fromStdString(r.str("accessToken")), QByteArray::fromStdString(r.str("refreshToken")),
                      QString::fromStdString(r.str("sessionId"))};
    }

    /// One round of mixed load against every live instance; returns false if a client's session
    /// was lost (a 401 on its own, unrevoked tokens).
    void round(Phase& phase)
    {
        const auto servers = alive();
        if (servers.isEmpty())
            return;
        QList<QByteArray> requests;
        QList<int> refreshOf; // index into m_clients, or -1
        for (int i = 0; i < m_clients.size(); ++i) {
            ServerProcess* s = servers[QRandomGenerator::global()->bounded(int(servers.size()))];
            ApiClient api(s->url());
            const bool doRefresh = QRandomGenerator::global()->bounded(3) == 0;
            if (doRefresh)
                requests << ApiClient::build("POST", "/api/sessions/refresh", api.hostHeader(),
                                             {{"refreshToken", m_clients[i].refresh.toStdString()}}, {}, {});
            else
                requests << ApiClient::build("GET", "/api/sessions", api.hostHeader(), nullptr, m_clients[i].access, {});
            refreshOf << (doRefresh ? i : -1);
        }
        // Each request goes to the instance whose Host header it names.
        QList<ApiResponse> responses;
        for (qsizetype i = 0; i < requests.size(); ++i) {
            const QByteArray host = requests[i].split('\n').value(1).mid(6).trimmed();
            ServerProcess* target = servers.first();
            for (auto* s : servers) {
                if (ApiClient(s->url()).hostHeader() == host)
                    target = s;
            }
            responses << ApiClient(target->url()).raw(requests[i], 15000);
        }
        for (qsizetype i = 0; i < responses.size(); ++i) {
            const ApiResponse& r = responses[i];
            record(phase, r);
            if (r.status == 200 && refreshOf[i] >= 0) {
                m_clients[refreshOf[i]].access = QByteArray::fromStdString(r.str("accessToken"));
                m_clients[refreshOf[i]].refresh = QByteArray::fromStdString(r.str("refreshToken"));
            } else if (r.status == 401) {
                qWarning("session lost: %s", r.body.constData());
                ++m_lostSessions;
            }
        }
        // Revoked sessions stay revoked everywhere.
        for (const QByteArray& token : m_revokedAccess) {
            for (auto* s : servers) {
                const int status = ApiClient(s->url()).request("GET", "/api/sessions", nullptr, token).status;
                if (status == 200) {
                    qWarning("%s: revoked session #%lld accepted by instance %s", qPrintable(phase.name),
                             qlonglong(m_revokedAccess.indexOf(token)), s == m_a.get() ? "A" : "B");
                    ++m_acceptedRevoked;
                }
            }
        }
    }

    /// Load for `ms`, revoking one fresh session along the way.
    void load(Phase& phase, int ms)
    {
        QElapsedTimer t;
        t.start();
        bool revoked = false;
        while (t.elapsed() < ms) {
            round(phase);
            if (!revoked && !alive().isEmpty()) {
                if (auto victim = login(*alive().first(), &phase)) {
                    auto r = ApiClient(alive().first()->url())
                                 .request("DELETE", "/api/sessions/" + victim->sessionId.toLatin1(), nullptr, m_clients.first().access);
                    record(phase, r);
                    if (r.status == 200) {
                        m_revokedAccess << victim->access;
                        revoked = true;
                    }
                }
            }
            QTest::qWait(20);
        }
    }

    /// Milliseconds until every live instance serves a listing again.
    qint64 recovery(int limitMs = 30000)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < limitMs) {
            bool all = !alive().isEmpty();
            for (auto* s : alive())
                all = all && ApiClient(s->url()).request("GET", "/api/sessions", nullptr, m_clients.first().access).status == 200;
            if (all)
                return t.elapsed();
            QTest::qWait(50);
        }
        return -1;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to run a private PostgreSQL as the postgres user (the test command runs as root)");
        QVERIFY(m_pg.start());
        QVERIFY(m_redis.start());
        m_a = startInstance();
        QVERIFY(m_a);
        QVERIFY(m_a->addUser(kEmail, QString::fromLatin1(kPassword)));
        m_b = startInstance();
        QVERIFY(m_b);
        for (int i = 0; i < 6; ++i) {
            auto c = login(i % 2 ? *m_b : *m_a);
            QVERIFY(c);
            m_clients << *c;
        }
    }

    void cleanupTestCase()
    {
        for (const Phase& p : m_phases) {
            QStringList counts;
            for (auto it = p.statuses.cbegin(); it != p.statuses.cend(); ++it)
                counts << QStringLiteral("%1:%2").arg(it.key() == 0 ? QStringLiteral("no-answer") : QString::number(it.key())).arg(it.value());
            qInfo("%-28s %s; recovery %lld ms", qPrintable(p.name), qPrintable(counts.join(u' ')), p.recoveryMs);
        }
        m_a.reset();
        m_b.reset();
    }

    void steadyLoad()
    {
        Phase p{QStringLiteral("baseline")};
        load(p, 2000);
        m_phases << p;
        QCOMPARE(p.statuses.value(500), 0);
        QCOMPARE(p.statuses.value(503), 0);
    }

    void redisKilledAndRestarted()
    {
        Phase p{QStringLiteral("redis kill -9 + restart")};
        m_redis.kill();
        load(p, 3000);
        QVERIFY(m_redis.start());
        QElapsedTimer t;
        t.start();
        load(p, 2000);
        p.recoveryMs = recovery();
        m_phases << p;
        QCOMPARE(p.statuses.value(500), 0);
        QCOMPARE(p.statuses.value(503), 0); // Redis down costs nothing: PostgreSQL serves
        QVERIFY(p.recoveryMs >= 0);
    }

    void postgresStoppedAndRestarted()
    {
        Phase p{QStringLiteral("postgres stop -m fast + start")};
        QVERIFY(m_pg.stop());
        load(p, 3000);
        QVERIFY(p.statuses.value(503) > 0); // what needs the database says so
        QVERIFY(m_pg.start());
        p.recoveryMs = recovery();
        load(p, 2000);
        m_phases << p;
        QCOMPARE(p.statuses.value(500), 0);
        QCOMPARE(p.missingRetryAfter, 0);
        QVERIFY(p.recoveryMs >= 0 && p.recoveryMs < 15000);
    }

    void oneInstanceKilled()
    {
        Phase p{QStringLiteral("instance B kill -9 + restart")};
        m_b->kill();
        load(p, 2000);
        m_b = startInstance();
        QVERIFY(m_b);
        p.recoveryMs = recovery();
        load(p, 2000);
        m_phases << p;
        QCOMPARE(p.statuses.value(500), 0);
        QVERIFY(p.recoveryMs >= 0);
    }

    void nothingLostNothingResurrected()
    {
        QCOMPARE(m_acceptedRevoked, 0);
        QCOMPARE(m_lostSessions, 0);
        QVERIFY(!m_revokedAccess.isEmpty());
        // Every client's session still works on both instances, and still refreshes.
        for (Client& c : m_clients) {
            for (auto* s : alive())
                QCOMPARE(ApiClient(s->url()).request("GET", "/api/sessions", nullptr, c.access).status, 200);
            auto r = ApiClient(m_a->url()).request("POST", "/api/sessions/refresh", {{"refreshToken", c.refresh.toStdString()}});
            QCOMPARE(r.status, 200);
        }
    }
};

QTEST_GUILESS_MAIN(TestFaultInjection)
#include "TestFaultInjection.moc"
