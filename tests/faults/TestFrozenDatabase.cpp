// SPDX-License-Identifier: Apache-2.0
// Issue 11.6, isolation: token validation needs no database. Under steady load on one instance
// (PostgreSQL + Redis, two workers), PostgreSQL is frozen (SIGSTOP to the postmaster and every
// process under it, so its sockets stay open and simply stop answering, as on a hung host) for
// 5 s and then continued. Asserted:
//  (a) validation-only requests (PATCH /api/sessions/<own id> with a bad body: 400 after
//      authentication, bench/run's val_only) keep answering during the freeze, p99 <= 10 ms;
//  (b) database-bound requests (GET /api/sessions, POST /api/sessions/refresh, and sign-ins and
//      renames, whose SQL is synchronous Qt SQL on the pool threads) sent during the freeze get
//      503 + Retry-After once their deadline passes, before the database comes back; never 500;
//  (c) after SIGCONT every kind of request answers 200 again within a few seconds, and no request
//      was left without an answer (each has its own 15 s timeout).
// A worker that runs its queries synchronously fails (a) and (b): the first database-bound
// request it takes during the freeze holds the whole worker, and every connection on it, until
// SIGCONT. A worker that runs sign-in's or rename's SQL itself fails (a) the same way. A pool
// thread whose blocking Qt SQL call has no deadline (QueryWatchdog) fails (b): its sign-in or
// rename waits for the thaw.
#include "ApiClient.h"
#include "LoadClient.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"

#include <QScopeGuard>
#include <QTest>
#include <memory>
#include <unistd.h>
#include <vector>

using namespace ehrs::test;

namespace {
const QByteArray kPassword = "frozen database password";
const QString kEmail = QStringLiteral("frozen-db@example.org");

constexpr int kValidationClients = 4;
constexpr int kListClients = 4;
constexpr int kRefreshClients = 4;
constexpr int kSignInClients = 2;
constexpr int kSignInPauseMs = 50;
constexpr int kValidationPauseMs = 5; // ~4 x 190 validations/s
constexpr int kDatabasePauseMs = 20;
constexpr int kFreezeMs = 5000;
// The server's per-query deadline is 2 s (PgConnection's default). A database-bound request sent
// this early in the freeze must have had its 503 before the thaw, half a second later at most.
constexpr int kDeadlineWindowMs = 2500;
constexpr qint64 kAnswerBoundMs = 5000; // no request, of any kind, takes longer than this
constexpr double kValidationP99Ms = 10.0;
constexpr qint64 kRecoveryBoundMs = 5000;

enum class Kind { Validation, List, Refresh, SignIn, Rename };

QString nameOf(Kind kind)
{
    switch (kind) {
    case Kind::Validation:
        return QStringLiteral("validation (PATCH, 400)");
    case Kind::List:
        return QStringLiteral("GET /api/sessions");
    case Kind::Refresh:
        return QStringLiteral("POST /api/sessions/refresh");
    case Kind::SignIn:
        return QStringLiteral("POST /api/auth/login");
    case Kind::Rename:
        return QStringLiteral("PATCH /api/sessions/<id>");
    }
    return {};
}

struct Session
{
    QByteArray access;
    QByteArray refresh;
    QByteArray id;
};

struct Client
{
    Kind kind;
    std::unique_ptr<LoadClient> load;
};
} // namespace

class TestFrozenDatabase : public QObject
{
    Q_OBJECT

    PostgresProcess m_pg;
    RedisProcess m_redis;
    std::unique_ptr<ServerProcess> m_server;

    std::optional<Session> login()
    {
        auto r = ApiClient(m_server->url())
                     .request("POST", "/api/auth/login",
                              {{"email", kEmail.toStdString()}, {"password", kPassword.toStdString()}});
        if (r.status != 200) {
            qWarning("login: %d %s", r.status, r.body.constData());
            return std::nullopt;
        }
        return Session{QByteArray::fromStdString(r.str("accessToken")),
                       QByteArray::fromStdString(r.str("refreshToken")),
                       QByteArray::fromStdString(r.str("sessionId"))};
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to run a private PostgreSQL as the postgres user (the test command runs as "
                  "root)");
        QVERIFY(m_pg.start());
        QVERIFY(m_redis.start());
        m_server = std::make_unique<ServerProcess>();
        m_server->setEnv(QStringLiteral("DATABASE_URL"), m_pg.url());
        m_server->setEnv(QStringLiteral("REDIS_URL"), m_redis.url());
        m_server->setEnv(QStringLiteral("JWT_SECRET"),
                         QStringLiteral("frozen-database-secret-0123456789abcdef"));
        m_server->setEnv(QStringLiteral("WORKER_THREADS"), QStringLiteral("2"));
        m_server->setEnv(QStringLiteral("RATE_LIMIT_LOGIN_IP"), QStringLiteral("100000/60"));
        m_server->setEnv(QStringLiteral("RATE_LIMIT_REFRESH_SESSION"), QStringLiteral("100000/60"));
        // A refresh whose commit raced the freeze answers 503 though it rotated; the client retries
        // the old token after the thaw and must get the same pair, not a re-use alarm.
        m_server->setEnv(QStringLiteral("REFRESH_GRACE_SECONDS"), QStringLiteral("60"));
        m_server->setEnv(QStringLiteral("CLEANUP_INTERVAL"), QStringLiteral("0"));
        QVERIFY(m_server->start());
        QVERIFY(m_server->addUser(kEmail, QString::fromLatin1(kPassword)));
    }

    void cleanupTestCase()
    {
        m_pg.thaw();
        m_server.reset();
    }

    void validationAnswersWhilePostgresIsFrozen()
    {
        std::vector<Session> validated;
        std::vector<Session> refreshed(kRefreshClients);
        for (int i = 0; i < kValidationClients; ++i) {
            auto s = login();
            QVERIFY(s);
            validated.push_back(*s);
        }
        for (Session& s : refreshed) {
            auto fresh = login();
            QVERIFY(fresh);
            s = *fresh;
        }

        const QUrl base = m_server->url();
        std::vector<Client> clients;
        for (const Session& s : validated) {
            clients.push_back({Kind::Validation, std::make_unique<LoadClient>(
                                                     base,
                                                     [base, s] {
                                                         return LoadClient::request(base, "PATCH",
                                                                                    "/api/sessions/" + s.id,
                                                                                    {{"name", 5}}, s.access);
                                                     },
                                                     kValidationPauseMs)});
        }
        for (int i = 0; i < kListClients; ++i) {
            const QByteArray token = validated[size_t(i) % validated.size()].access;
            clients.push_back({Kind::List, std::make_unique<LoadClient>(
                                               base,
                                               [base, token] {
                                                   return LoadClient::request(base, "GET", "/api/sessions",
                                                                              nullptr, token);
                                               },
                                               kDatabasePauseMs)});
        }
        for (Session& s : refreshed) {
            Session* session = &s; // `refreshed` is not resized from here on
            auto load = std::make_unique<LoadClient>(
                base,
                [base, session] {
                    return LoadClient::request(base, "POST", "/api/sessions/refresh",
                                               {{"refreshToken", session->refresh.toStdString()}});
                },
                kDatabasePauseMs);
            load->onAnswer([session](const LoadSample& sample, const ApiResponse& r) {
                if (sample.status == 200) {
                    session->access = QByteArray::fromStdString(r.str("accessToken"));
                    session->refresh = QByteArray::fromStdString(r.str("refreshToken"));
                }
            });
            clients.push_back({Kind::Refresh, std::move(load)});
        }
        const nlohmann::json credentials{{"email", kEmail.toStdString()},
                                         {"password", kPassword.toStdString()}};
        for (int i = 0; i < kSignInClients; ++i) {
            clients.push_back({Kind::SignIn, std::make_unique<LoadClient>(
                                                 base,
                                                 [base, credentials] {
                                                     return LoadClient::request(
                                                         base, "POST", "/api/auth/login", credentials);
                                                 },
                                                 kSignInPauseMs)});
        }
        {
            const Session s = validated.front();
            clients.push_back({Kind::Rename, std::make_unique<LoadClient>(
                                                 base,
                                                 [base, s] {
                                                     return LoadClient::request(
                                                         base, "PATCH", "/api/sessions/" + s.id,
                                                         {{"name", "Ward 3 station"}}, s.access);
                                                 },
                                                 kDatabasePauseMs)});
        }
        auto stopAll = qScopeGuard([&] {
            for (Client& c : clients)
                c.load->stop();
        });

        // Steady load first. Every validation token has been checked against the database by now
        // and sits in the server's live-session table: with Redis up, validating it needs no SQL.
        const qint64 startUs = monotonicUs();
        for (Client& c : clients)
            c.load->start();
        auto everyClientAnswered = [&](int n) {
            for (const Client& c : clients) {
                int answered = 0;
                for (const LoadSample& s : c.load->samples())
                    answered += s.status != 0 ? 1 : 0;
                if (answered < n)
                    return false;
            }
            return true;
        };
        QVERIFY2(runEventLoopUntil([&] { return everyClientAnswered(10); }, 20000),
                 "the load did not get going");
        runEventLoopFor(1000);

        // Freeze.
        const qint64 freezeSignalledUs = monotonicUs();
        auto thawGuard = qScopeGuard([this] { m_pg.thaw(); });
        QVERIFY(m_pg.freeze());
        QVERIFY(runEventLoopUntil([this] { return m_pg.isFrozen(); }, 5000));
        const qint64 frozenUs = monotonicUs();
        runEventLoopFor(kFreezeMs);
        const qint64 thawUs = monotonicUs();
        m_pg.thaw();
        thawGuard.dismiss();

        // Recovery: every database-bound client has a 200 for a request sent after the thaw.
        auto firstOkAfterThaw = [&](const Client& c) -> qint64 {
            for (const LoadSample& s : c.load->samples()) {
                if (s.sentUs >= thawUs && s.status == 200)
                    return s.sentUs + s.latencyUs;
            }
            return -1;
        };
        const bool recovered = runEventLoopUntil(
            [&] {
                for (const Client& c : clients) {
                    if (c.kind != Kind::Validation && firstOkAfterThaw(c) < 0)
                        return false;
                }
                return true;
            },
            30000);
        qint64 recoveredUs = thawUs;
        for (const Client& c : clients) {
            if (c.kind != Kind::Validation)
                recoveredUs = qMax(recoveredUs, firstOkAfterThaw(c));
        }
        runEventLoopFor(1000); // steady load after the recovery
        const qint64 endUs = monotonicUs();
        for (Client& c : clients)
            c.load->stop();
        QVERIFY2(runEventLoopUntil(
                     [&] {
                         for (const Client& c : clients) {
                             if (c.load->busy())
                                 return false;
                         }
                         return true;
                     },
                     30000),
                 "a request outlived its own timeout");

        // The numbers, per phase and kind, before anything is judged.
        auto collect = [&](Kind kind, qint64 fromUs, qint64 toUs) {
            QList<LoadSample> out;
            for (const Client& c : clients) {
                if (c.kind != kind)
                    continue;
                for (const LoadSample& s : c.load->samples()) {
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
        const struct
        {
            const char* name;
            qint64 from, to;
        } phases[] = {{"before the freeze", startUs, freezeSignalledUs},
                      {"frozen (5 s)", freezeSignalledUs, thawUs},
                      {"after the thaw", thawUs, endUs + 1}};
        for (const auto& phase : phases) {
            for (Kind kind : {Kind::Validation, Kind::List, Kind::Refresh, Kind::SignIn, Kind::Rename}) {
                const auto samples = collect(kind, phase.from, phase.to);
                qInfo("%-18s %-28s %-24s %s", phase.name, qPrintable(nameOf(kind)),
                      qPrintable(statusCounts(samples)),
                      qPrintable(LatencySummary::of(latencies(samples)).toString()));
            }
        }
        qInfo("recovery after SIGCONT: %s",
              recovered ? qPrintable(QStringLiteral("%1 ms").arg((recoveredUs - thawUs) / 1000))
                        : "none within 30 s");

        // (a) Validation kept answering, fast, all through.
        const LatencySummary frozenValidation =
            LatencySummary::of(latencies(collect(Kind::Validation, freezeSignalledUs, thawUs)));
        QVERIFY2(
            frozenValidation.p99Ms <= kValidationP99Ms,
            qPrintable(
                QStringLiteral("validation during the freeze: %1 (p99 must stay <= %2 ms: a worker waited on "
                               "the database)")
                    .arg(frozenValidation.toString())
                    .arg(kValidationP99Ms)));
        QVERIFY2(
            frozenValidation.count >= 200,
            qPrintable(QStringLiteral("only %1 validations were sent during the freeze: the load did not run")
                           .arg(frozenValidation.count)));
        for (const LoadSample& s : collect(Kind::Validation, startUs, endUs + 1)) {
            QVERIFY2(s.status == 400,
                     qPrintable(QStringLiteral("a validation-only request got %1 after %2 ms (sent %3 ms "
                                               "after the freeze began)")
                                    .arg(s.status)
                                    .arg(s.latencyUs / 1000)
                                    .arg((s.sentUs - frozenUs) / 1000)));
        }

        // (b) Database-bound requests sent early in the freeze met their deadline: a 503 with
        // Retry-After while the database was still frozen, not an answer once it came back.
        for (const Client& c : clients) {
            if (c.kind == Kind::Validation)
                continue;
            int early = 0;
            for (const LoadSample& s : c.load->samples()) {
                if (s.sentUs < frozenUs || s.sentUs >= frozenUs + kDeadlineWindowMs * 1000)
                    continue;
                ++early;
                const bool beforeThaw = s.sentUs + s.latencyUs < thawUs;
                QVERIFY2(
                    s.status == 503 && s.retryAfter && beforeThaw,
                    qPrintable(
                        QStringLiteral("%1 sent %2 ms into the freeze got %3%4 after %5 ms, %6 the thaw "
                                       "(%7 ms into the freeze): it waited for the database instead of its "
                                       "deadline")
                            .arg(nameOf(c.kind))
                            .arg((s.sentUs - frozenUs) / 1000)
                            .arg(s.status == 0 ? QStringLiteral("no answer") : QString::number(s.status))
                            .arg(s.status == 503 && !s.retryAfter ? QStringLiteral(" without Retry-After")
                                                                  : QString())
                            .arg(s.latencyUs / 1000)
                            .arg(beforeThaw ? QStringLiteral("before") : QStringLiteral("after"))
                            .arg((thawUs - frozenUs) / 1000)));
            }
            QVERIFY2(early >= 1,
                     qPrintable(nameOf(c.kind) + QStringLiteral(": a client sent nothing in the first "
                                                                "2.5 s of the freeze")));
        }

        // (c) Nothing hung, nothing failed with a 500, every 503 said when to come back.
        for (const Client& c : clients) {
            for (const LoadSample& s : c.load->samples()) {
                const QString where = QStringLiteral("%1 sent %2 ms after the freeze began")
                                          .arg(nameOf(c.kind))
                                          .arg((s.sentUs - frozenUs) / 1000);
                QVERIFY2(s.status != 0, qPrintable(where + QStringLiteral(": no answer within its timeout")));
                QVERIFY2(s.status < 500 || s.status == 503,
                         qPrintable(where + QStringLiteral(": %1").arg(s.status)));
                QVERIFY2(s.status != 503 || s.retryAfter,
                         qPrintable(where + QStringLiteral(": 503 without Retry-After")));
                QVERIFY2(
                    s.latencyUs <= kAnswerBoundMs * 1000,
                    qPrintable(where + QStringLiteral(": answered after %1 ms").arg(s.latencyUs / 1000)));
            }
        }
        QVERIFY2(recovered && recoveredUs - thawUs <= kRecoveryBoundMs * 1000,
                 qPrintable(QStringLiteral("service came back %1 ms after SIGCONT (bound: %2 ms)")
                                .arg(recovered ? (recoveredUs - thawUs) / 1000 : -1)
                                .arg(kRecoveryBoundMs)));
        for (Kind kind : {Kind::List, Kind::Refresh, Kind::SignIn, Kind::Rename}) {
            const auto after = collect(kind, recoveredUs, endUs + 1);
            QVERIFY(!after.isEmpty());
            for (const LoadSample& s : after)
                QVERIFY2(s.status == 200,
                         qPrintable(nameOf(kind) + QStringLiteral(" after the recovery: %1").arg(s.status)));
        }
    }
};

QTEST_GUILESS_MAIN(TestFrozenDatabase)
#include "TestFrozenDatabase.moc"
