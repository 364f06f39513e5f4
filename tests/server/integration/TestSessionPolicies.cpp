// SPDX-License-Identifier: Apache-2.0
// Issue 14, point 3, against the real server binary on the embedded SQLite default and on
// PostgreSQL + Redis: session policies that IT sets per group and per device class with
// `ehr-sessions-server policy ...` are enforced by the server (idle timeout and absolute lifetime
// from the policy end sessions; the stricter of two groups wins; a `personal` claim from a
// SHARED_WORKSTATION_NETWORKS address is a shared workstation), the session limit ends the oldest
// session (its owner hears `session_limit` on refresh and on its event stream) or refuses, a
// policy that requires two-step verification refuses users without it, the login, refresh and
// /api/auth/me answers carry the policy, a change reaches open event streams as `policy-changed`,
// and the CLI refuses bad input readably without changing anything.
#include "ApiClient.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"

#include <QElapsedTimer>
#include <QTcpSocket>
#include <QTest>
#include <nlohmann/json.hpp>

using namespace ehrs::test;
using Json = nlohmann::json;

namespace {
const QByteArray kPassword = "a long enough password";
const QByteArray kWardAddress = "10.20.1.5"; // in SHARED_WORKSTATION_NETWORKS below
const QByteArray kHomeAddress = "192.0.2.9"; // not

/// The events of GET /api/sessions/events as they arrive (type and JSON data).
class EventReader
{
public:
    bool open(const QUrl& url, const QByteArray& token)
    {
        m_socket.connectToHost(url.host(), quint16(url.port()));
        if (!m_socket.waitForConnected(5000))
            return false;
        QObject::connect(&m_socket, &QTcpSocket::readyRead, &m_socket, [this] {
            m_buffer += m_socket.readAll();
            qsizetype end;
            while ((end = m_buffer.indexOf("\n\n")) >= 0) {
                QByteArray type;
                Json data;
                for (const QByteArray& line : m_buffer.left(end).split('\n')) {
                    if (line.startsWith("event: "))
                        type = line.mid(7);
                    else if (line.startsWith("data: "))
                        data = Json::parse(line.mid(6).toStdString(), nullptr, false);
                }
                m_buffer.remove(0, end + 2);
                if (!type.isEmpty())
                    m_events.append({type, data});
            }
        });
        m_socket.write("GET /api/sessions/events HTTP/1.1\r\nHost: " + url.host().toLatin1() +
                       "\r\nAccept: text/event-stream\r\nAuthorization: Bearer " + token + "\r\n\r\n");
        return true;
    }
    QList<Json> of(const QByteArray& type) const
    {
        QList<Json> out;
        for (const auto& [t, data] : m_events) {
            if (t == type)
                out << data;
        }
        return out;
    }

private:
    QTcpSocket m_socket;
    QByteArray m_buffer;
    QList<QPair<QByteArray, Json>> m_events;
};

struct Login
{
    ApiResponse response;
    QByteArray access;
    QByteArray refresh;
    QString sessionId;
    Json policy;
};

Login login(const QUrl& url, const QString& email, const QByteArray& from, const char* deviceClass = nullptr)
{
    Json body{{"email", email.toStdString()}, {"password", kPassword.toStdString()}};
    if (deviceClass)
        body["deviceClass"] = deviceClass;
    auto r = ApiClient(url).request("POST", "/api/auth/login", body, {}, {{"X-Forwarded-For", from}});
    Login l{r, QByteArray::fromStdString(r.str("accessToken")),
            QByteArray::fromStdString(r.str("refreshToken")), QString::fromStdString(r.str("sessionId")),
            r.json.is_object() ? r.json.value("policy", Json()) : Json()};
    return l;
}

ApiResponse refresh(const QUrl& url, QByteArray& token)
{
    auto r = ApiClient(url).request("POST", "/api/sessions/refresh", {{"refreshToken", token.toStdString()}});
    if (r.status == 200)
        token = QByteArray::fromStdString(r.str("refreshToken"));
    return r;
}

QByteArray dump(const ApiResponse& r)
{
    return QByteArray::number(r.status) + ' ' + r.body;
}
} // namespace

class TestSessionPolicies : public QObject
{
    Q_OBJECT

    /// A server with a shared-workstation network, behind a "proxy" (the test) that names the
    /// client address, and the users: a nurse in nurses and ward-3, a physician.
    bool prepare(ServerProcess& server)
    {
        if (!server.useBackendUnderTest())
            return false;
        server.setEnv(QStringLiteral("TRUSTED_PROXIES"), QStringLiteral("127.0.0.1/32"));
        server.setEnv(QStringLiteral("SHARED_WORKSTATION_NETWORKS"), QStringLiteral("10.20.0.0/16"));
        server.setEnv(QStringLiteral("SESSION_IDLE_TIMEOUT"), QStringLiteral("3600"));
        server.setEnv(QStringLiteral("REFRESH_TOKEN_TTL"), QStringLiteral("86400"));
        server.setEnv(QStringLiteral("REFRESH_GRACE_SECONDS"), QStringLiteral("0"));
        return server.addUser(QStringLiteral("nurse@example.org"), QString::fromLatin1(kPassword),
                              QStringLiteral("Nurse"),
                              {QStringLiteral("--groups"), QStringLiteral("nurses,Ward-3")}) &&
               server.addUser(QStringLiteral("physician@example.org"), QString::fromLatin1(kPassword),
                              QStringLiteral("Physician"),
                              {QStringLiteral("--groups"), QStringLiteral("physicians")});
    }

    int policy(ServerProcess& server, const std::vector<const char*>& args, QByteArray* out = nullptr)
    {
        QStringList list{QStringLiteral("policy")};
        for (const char* a : args)
            list << QString::fromUtf8(a);
        QByteArray ignored;
        return server.run(list, {}, out ? out : &ignored);
    }

private Q_SLOTS:
    void initTestCase() { EHRS_REQUIRE_BACKEND_UNDER_TEST(); }

    void policiesOfGroupsAndDeviceClassesAreEnforced()
    {
        ServerProcess server;
        QVERIFY(prepare(server));
        QByteArray out;
        QCOMPARE(policy(server,
                        {"set", "--group", "nurses", "--idle-timeout", "1h", "--absolute-lifetime", "6"},
                        &out),
                 0);
        QCOMPARE(policy(server, {"set", "--group", "ward-3", "--idle-timeout", "3"}, &out), 0); // stricter
        QCOMPARE(policy(server,
                        {"set", "--device-class", "shared_workstation", "--end-on-lock", "yes",
                         "--idle-timeout", "15m"},
                        &out),
                 0);
        QVERIFY2(out.contains("device class shared_workstation: idle-timeout=900"), out.constData());
        QVERIFY(server.start());

        // The nurse at home: the stricter of her two groups' idle timeouts; the nurses' lifetime.
        Login home = login(server.url(), QStringLiteral("nurse@example.org"), kHomeAddress);
        QVERIFY2(home.response.status == 200, dump(home.response).constData());
        QCOMPARE(home.policy.value("idleTimeoutSeconds", 0), 3);
        QCOMPARE(home.policy.value("absoluteLifetimeSeconds", 0), 6);
        QCOMPARE(home.policy.value("endOnLock", true), false);
        QCOMPARE(home.policy.value("maxSessions", -1), 0);
        QCOMPARE(home.policy.value("mfaRequired", true), false);
        QCOMPARE(home.policy.value("deviceClass", std::string()), std::string("personal"));
        QVERIFY(home.policy.value("groups", Json()) == Json::array({"nurses", "ward-3"}));
        // /api/auth/me says the same.
        auto me = ApiClient(server.url()).request("GET", "/api/auth/me", nullptr, home.access);
        QCOMPARE(me.status, 200);
        QVERIFY2(me.json.value("policy", Json()) == home.policy, me.body.constData());

        // Idle longer than 3 s: the session ended, and the answer says after how long.
        QTest::qWait(4000);
        auto idle = refresh(server.url(), home.refresh);
        QCOMPARE(idle.status, 401);
        QCOMPARE(idle.str("error"), std::string("session_expired"));
        QCOMPARE(idle.str("message"),
                 std::string("This session ended after 3 seconds without activity; sign in again"));

        // Active all along (a refresh every second): the 6 s absolute lifetime still ends it.
        Login busy = login(server.url(), QStringLiteral("nurse@example.org"), kHomeAddress);
        QCOMPARE(busy.response.status, 200);
        QElapsedTimer t;
        t.start();
        ApiResponse last;
        while (t.elapsed() < 9000) {
            QTest::qWait(1000);
            last = refresh(server.url(), busy.refresh);
            if (last.status != 200)
                break;
            QCOMPARE(last.json.value("policy", Json()).value("absoluteLifetimeSeconds", 0),
                     6); // refresh carries it
        }
        QCOMPARE(last.status, 401);
        QVERIFY2(t.elapsed() >= 5000, dump(last).constData());
        QCOMPARE(last.str("error"), std::string("session_expired"));
        QVERIFY2(last.str("message").find("maximum lifetime") != std::string::npos, last.body.constData());

        // At a nurse station: a `personal` claim from a pinned network is a shared workstation.
        Login ward = login(server.url(), QStringLiteral("nurse@example.org"), kWardAddress, "personal");
        QCOMPARE(ward.response.status, 200);
        QCOMPARE(ward.policy.value("deviceClass", std::string()), std::string("shared_workstation"));
        QCOMPARE(ward.policy.value("endOnLock", false), true);
        QCOMPARE(ward.policy.value("idleTimeoutSeconds", 0), 3);
        // A client may make itself stricter anywhere.
        Login claimed =
            login(server.url(), QStringLiteral("physician@example.org"), kHomeAddress, "shared_workstation");
        QCOMPARE(claimed.policy.value("deviceClass", std::string()), std::string("shared_workstation"));
        QCOMPARE(claimed.policy.value("idleTimeoutSeconds", 0), 900);
        // No rule for physicians on their own devices: the server-wide settings.
        Login physician = login(server.url(), QStringLiteral("physician@example.org"), kHomeAddress);
        QCOMPARE(physician.policy.value("idleTimeoutSeconds", 0), 3600);
        QCOMPARE(physician.policy.value("absoluteLifetimeSeconds", 0), 86400);
        QCOMPARE(physician.policy.value("endOnLock", true), false);
        // An unknown class is bad input.
        Login bogus = login(server.url(), QStringLiteral("physician@example.org"), kHomeAddress, "kiosk");
        QCOMPARE(bogus.response.status, 400);
        QVERIFY2(bogus.response.str("message").find("shared_workstation") != std::string::npos,
                 bogus.response.body.constData());
    }

    void theSessionLimitEndsTheOldestOrRefuses()
    {
        ServerProcess server;
        QVERIFY(prepare(server));
        QCOMPARE(policy(server, {"set", "--group", "nurses", "--max-sessions", "2"}), 0);
        QVERIFY(server.start());
        const QString nurse = QStringLiteral("nurse@example.org");
        Login first = login(server.url(), nurse, kHomeAddress);
        QCOMPARE(first.policy.value("maxSessions", 0), 2);
        Login second = login(server.url(), nurse, kWardAddress);
        EventReader stream;
        QVERIFY(stream.open(server.url(), first.access));
        QTest::qWait(300);
        Login third = login(server.url(), nurse, kHomeAddress);
        QVERIFY2(third.response.status == 200, dump(third.response).constData());

        // The oldest one ended: its stream and its refresh say why.
        QTRY_VERIFY_WITH_TIMEOUT(!stream.of("revoked").isEmpty(), 5000);
        const Json revoked = stream.of("revoked").front();
        QCOMPARE(revoked.value("reason", std::string()), std::string("session_limit"));
        QCOMPARE(revoked.value("message", std::string()),
                 std::string("Signed out because you signed in on another device (limit: 2 sessions)"));
        auto ended = refresh(server.url(), first.refresh);
        QCOMPARE(ended.status, 401);
        QCOMPARE(ended.str("error"), std::string("session_revoked"));
        QCOMPARE(ended.str("message"),
                 std::string("Signed out because you signed in on another device (limit: 2 sessions)"));
        QCOMPARE(ApiClient(server.url()).request("GET", "/api/sessions", nullptr, first.access).status, 401);
        // The other two live on.
        auto list = ApiClient(server.url()).request("GET", "/api/sessions", nullptr, third.access);
        QCOMPARE(list.status, 200);
        QCOMPARE(list.json.value("total", 0), 2);
        QCOMPARE(refresh(server.url(), second.refresh).status, 200);

        // `refuse`: the new sign-in is turned away instead, and nothing ends.
        QCOMPARE(policy(server, {"set", "--group", "nurses", "--on-limit", "refuse"}), 0);
        Login fourth = login(server.url(), nurse, kHomeAddress);
        QCOMPARE(fourth.response.status, 409);
        QCOMPARE(fourth.response.str("error"), std::string("conflict"));
        QVERIFY2(fourth.response.str("message").find("2 sessions") != std::string::npos,
                 fourth.response.body.constData());
        QCOMPARE(refresh(server.url(), second.refresh).status, 200);
        list = ApiClient(server.url()).request("GET", "/api/sessions", nullptr, third.access);
        QCOMPARE(list.json.value("total", 0), 2);
    }

    void twoStepVerificationRequiredRefusesUsersWithoutIt()
    {
        ServerProcess server;
        QVERIFY(prepare(server));
        QCOMPARE(policy(server, {"set", "--device-class", "shared_workstation", "--mfa-required", "yes"}), 0);
        QVERIFY(server.start());
        Login ward = login(server.url(), QStringLiteral("nurse@example.org"), kWardAddress);
        QCOMPARE(ward.response.status, 403);
        QCOMPARE(ward.response.str("error"), std::string("forbidden"));
        QVERIFY2(ward.response.str("message").find("requires two-step verification") != std::string::npos &&
                     ward.response.str("message").find("personal") != std::string::npos,
                 ward.response.body.constData());
        QVERIFY(ward.access.isEmpty());
        // On her own device no rule requires it: she signs in (and can enrol there).
        Login home = login(server.url(), QStringLiteral("nurse@example.org"), kHomeAddress);
        QCOMPARE(home.response.status, 200);
        QCOMPARE(home.policy.value("mfaRequired", true), false);
    }

    void aPolicyChangeReachesOpenStreamsAndRefreshes()
    {
        ServerProcess server;
        QVERIFY(prepare(server));
        QVERIFY(server.start());
        Login nurse = login(server.url(), QStringLiteral("nurse@example.org"), kWardAddress);
        QCOMPARE(nurse.policy.value("idleTimeoutSeconds", 0), 3600);
        Login physician = login(server.url(), QStringLiteral("physician@example.org"), kHomeAddress);
        EventReader nurseStream, physicianStream;
        QVERIFY(nurseStream.open(server.url(), nurse.access));
        QVERIFY(physicianStream.open(server.url(), physician.access));
        QTest::qWait(300);
        QByteArray out;
        QCOMPARE(policy(server,
                        {"set", "--group", "nurses", "--idle-timeout", "10m", "--max-sessions", "3",
                         "--mfa-required", "no"},
                        &out),
                 0);
        QVERIFY2(out.contains("sessions of 1 user(s) updated"), out.constData());
        // Without Redis the stream finds it at its next check (20 s); with Redis at once.
        QTRY_VERIFY_WITH_TIMEOUT(!nurseStream.of("policy-changed").isEmpty(), 30000);
        const Json changed = nurseStream.of("policy-changed").front();
        QVERIFY2(changed.size() == 1 && changed.contains("policy"), changed.dump().c_str());
        QCOMPARE(changed["policy"].value("idleTimeoutSeconds", 0), 600);
        QCOMPARE(changed["policy"].value("maxSessions", 0), 3);
        QCOMPARE(changed["policy"].value("deviceClass", std::string()), std::string("shared_workstation"));
        QVERIFY(physicianStream.of("policy-changed").isEmpty()); // not a nurse
        // The session's refresh and /me carry the new policy too.
        auto r = refresh(server.url(), nurse.refresh);
        QCOMPARE(r.status, 200);
        QVERIFY2(r.json.value("policy", Json()) == changed["policy"], r.body.constData());
    }

    void theCliRefusesBadInputAndChangesNothing()
    {
        ServerProcess server;
        QVERIFY(prepare(server));
        QCOMPARE(policy(server, {"set", "--group", "nurses", "--idle-timeout", "15m"}), 0);
        const std::vector<std::pair<std::vector<const char*>, QByteArray>> bad{
            {{"set", "--group", "nurses", "--idle-timeout", "soon"}, "is not a duration"},
            {{"set", "--group", "nurses", "--idle-timeout", "0"}, "out of range"},
            {{"set", "--group", "Nurses!", "--idle-timeout", "15m"}, "is not a group name"},
            {{"set", "--device-class", "kiosk", "--end-on-lock", "yes"},
             "neither personal nor shared_workstation"},
            {{"set", "--group", "nurses", "--device-class", "personal", "--end-on-lock", "yes"},
             "exactly one"},
            {{"set", "--group", "nurses"}, "give at least one"},
            {{"set", "--group", "nurses", "--end-on-lock", "perhaps"}, "use yes or no"},
            {{"set", "--group", "nurses", "--max-sessions", "-1"}, "is not a number"},
            {{"set", "--group", "nurses", "--on-limit", "kick"}, "neither end_oldest nor refuse"},
            {{"frobnicate"}, "use set, unset, show or list"},
        };
        QByteArray before;
        QCOMPARE(policy(server, {"list"}, &before), 0);
        for (const auto& [args, message] : bad) {
            QByteArray out;
            QCOMPARE(policy(server, args, &out), 2);
            QVERIFY2(out.contains(message), (QByteArray(args.front()) + ": " + out).constData());
        }
        QByteArray missing;
        QCOMPARE(policy(server, {"unset", "--group", "physicians"}, &missing), 1);
        QVERIFY2(missing.contains("no policy for group physicians"), missing.constData());
        QByteArray after;
        QCOMPARE(policy(server, {"list"}, &after), 0);
        QCOMPARE(after, before);
        QVERIFY2(after.contains("group nurses: idle-timeout=900"), after.constData());
        // `user groups` refuses a bad name too.
        QByteArray out;
        QCOMPARE(server.run({QStringLiteral("user"), QStringLiteral("groups"),
                             QStringLiteral("nurse@example.org"), QStringLiteral("nurses,Bad Name")},
                            {}, &out),
                 2);
        QVERIFY2(out.contains("is not a group name"), out.constData());
        QCOMPARE(policy(server, {"show", "--user", "nurse@example.org"}, &out), 0);
        QVERIFY2(out.contains("\"groups\":[\"nurses\",\"ward-3\"]") &&
                     out.contains("\"idleTimeoutSeconds\":900"),
                 out.constData());
    }
};

QTEST_GUILESS_MAIN(TestSessionPolicies)
#include "TestSessionPolicies.moc"
