// SPDX-License-Identifier: Apache-2.0
// Issue 14, point 4, against the real server binary on the embedded SQLite default and on
// PostgreSQL + Redis: shared workstations with PIN switch-user. Two clinicians switch back and
// forth on one workstation with PINs (PUT /api/workstation/pin, POST /api/workstation/park,
// POST /api/workstation/resume); a parked session's refresh token and access token are refused
// while it is parked and work again after the resume; wrong PINs fall back to a full sign-in
// after the policy's limit; the shift window ends PIN use; `workstation handovers` shows who was
// active from when to when; PINs never reach the server's log; weak or garbage PINs get 400 and
// change nothing.
#include "ApiClient.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"

#include <QTest>
#include <nlohmann/json.hpp>

using namespace ehrs::test;
using Json = nlohmann::json;

namespace {
const QByteArray kPassword = "a long enough password";
const char* kStation = "ws-ward3-7f3a9c2e";
const char* kPinA = "48291736";
const char* kPinB = "51730942";

struct Session
{
    QByteArray access;
    QByteArray refresh;
    QString id;
};

QByteArray dump(const ApiResponse& r)
{
    return QByteArray::number(r.status) + ' ' + r.body;
}

Session signIn(const QUrl& url, const char* email, const char* deviceClass = "shared_workstation")
{
    auto r = ApiClient(url).request(
        "POST", "/api/auth/login",
        {{"email", email}, {"password", kPassword.toStdString()}, {"deviceClass", deviceClass}});
    if (r.status != 200)
        qWarning() << "sign-in failed:" << dump(r);
    return {QByteArray::fromStdString(r.str("accessToken")), QByteArray::fromStdString(r.str("refreshToken")),
            QString::fromStdString(r.str("sessionId"))};
}

ApiResponse setPin(const QUrl& url, const Session& s, const Json& pin, const Json& station = kStation)
{
    Json body = Json::object();
    if (!pin.is_null())
        body["pin"] = pin;
    if (!station.is_null())
        body["workstationId"] = station;
    return ApiClient(url).request("PUT", "/api/workstation/pin", body, s.access);
}

ApiResponse park(const QUrl& url, const Session& s)
{
    return ApiClient(url).request("POST", "/api/workstation/park", Json::object(), s.access);
}

/// Resumes with `pin`; on success `s` holds the new pair.
ApiResponse resume(const QUrl& url, Session& s, const char* pin)
{
    auto r = ApiClient(url).request("POST", "/api/workstation/resume",
                                    {{"refreshToken", s.refresh.toStdString()}, {"pin", pin}});
    if (r.status == 200) {
        s.access = QByteArray::fromStdString(r.str("accessToken"));
        s.refresh = QByteArray::fromStdString(r.str("refreshToken"));
    }
    return r;
}

ApiResponse refresh(const QUrl& url, Session& s)
{
    auto r =
        ApiClient(url).request("POST", "/api/sessions/refresh", {{"refreshToken", s.refresh.toStdString()}});
    if (r.status == 200) {
        s.access = QByteArray::fromStdString(r.str("accessToken"));
        s.refresh = QByteArray::fromStdString(r.str("refreshToken"));
    }
    return r;
}

int listStatus(const QUrl& url, const Session& s)
{
    return ApiClient(url).request("GET", "/api/sessions", nullptr, s.access).status;
}
} // namespace

class TestWorkstationSwitch : public QObject
{
    Q_OBJECT

    bool prepare(ServerProcess& server)
    {
        if (!server.useBackendUnderTest())
            return false;
        server.setEnv(QStringLiteral("REFRESH_GRACE_SECONDS"), QStringLiteral("0"));
        return server.addUser(QStringLiteral("alice@example.org"), QString::fromLatin1(kPassword),
                              QStringLiteral("Alice")) &&
               server.addUser(QStringLiteral("bob@example.org"), QString::fromLatin1(kPassword),
                              QStringLiteral("Bob"));
    }

private Q_SLOTS:
    void initTestCase() { EHRS_REQUIRE_BACKEND_UNDER_TEST(); }

    void twoCliniciansSwitchBackAndForth()
    {
        ServerProcess server;
        QVERIFY(prepare(server));
        QVERIFY(server.start());
        const QUrl url = server.url();

        Session a = signIn(url, "alice@example.org");
        QVERIFY(!a.access.isEmpty());
        auto pinSet = setPin(url, a, kPinA);
        QVERIFY2(pinSet.status == 200, dump(pinSet).constData());
        QVERIFY(!pinSet.str("validUntil").empty());
        QCOMPARE(listStatus(url, a), 200);
        auto parked = park(url, a);
        QVERIFY2(parked.status == 200, dump(parked).constData());
        // Parked: the access token is refused at once, the refresh token alone does not refresh.
        QCOMPARE(listStatus(url, a), 401);
        Session stale = a;
        auto refused = refresh(url, stale);
        QCOMPARE(refused.status, 403);
        QCOMPARE(refused.str("error"), std::string("session_parked"));
        QCOMPARE(refused.str("message"),
                 std::string("This session is parked on a shared workstation; enter your PIN to continue"));
        // Parking twice is a conflict, not a second audit row (the token is refused anyway).
        QCOMPARE(park(url, a).status, 401);

        Session b = signIn(url, "bob@example.org");
        QCOMPARE(setPin(url, b, kPinB).status, 200);
        QCOMPARE(listStatus(url, b), 200);
        QCOMPARE(park(url, b).status, 200);
        QCOMPARE(listStatus(url, b), 401);

        // Alice comes back with her PIN: a new pair (rotation), which works; the old one does not.
        const QByteArray aliceParkedRefresh = a.refresh;
        auto back = resume(url, a, kPinA);
        QVERIFY2(back.status == 200, dump(back).constData());
        QCOMPARE(back.str("sessionId"), a.id.toStdString());
        QVERIFY(a.refresh != aliceParkedRefresh);
        QCOMPARE(listStatus(url, a), 200);
        QCOMPARE(refresh(url, a).status, 200); // refreshes as usual again
        // Bob's PIN does not open Alice's session, and Bob is still parked.
        QCOMPARE(listStatus(url, b), 401);

        // Alice's Active Sessions list: her own session, on this workstation, not parked.
        auto list = ApiClient(url).request("GET", "/api/sessions", nullptr, a.access);
        QCOMPARE(list.status, 200);
        QCOMPARE(list.json.value("total", 0), 1);

        // Switch again: Alice parks, Bob resumes, then Alice again.
        QCOMPARE(park(url, a).status, 200);
        auto bobBack = resume(url, b, kPinB);
        QVERIFY2(bobBack.status == 200, dump(bobBack).constData());
        QCOMPARE(listStatus(url, b), 200);
        QCOMPARE(listStatus(url, a), 401);
        QCOMPARE(park(url, b).status, 200);
        QCOMPARE(resume(url, a, kPinA).status, 200);
        QCOMPARE(listStatus(url, a), 200);

        // The parked refresh token Alice used before her first resume (several rotations ago)
        // opens nothing, PIN or not; her session is unaffected (only the last rotated token is
        // tracked for theft detection, as for a refresh).
        Session thief = a;
        thief.refresh = aliceParkedRefresh;
        auto old = resume(url, thief, kPinA);
        QCOMPARE(old.status, 401);
        QCOMPARE(listStatus(url, a), 200);

        // The audit / CLI: who was active from when to when.
        QByteArray out;
        QCOMPARE(server.run({QStringLiteral("workstation"), QStringLiteral("handovers"),
                             QStringLiteral("--workstation"), QString::fromLatin1(kStation)},
                            {}, &out),
                 0);
        QVERIFY2(out.contains("5 hand-over(s)"), out.constData());
        const QList<QByteArray> lines = out.trimmed().split('\n');
        QCOMPARE(lines.size(), 6);
        QVERIFY2(lines.at(1).contains("alice@example.org") && lines.at(1).contains("(signed in)"),
                 out.constData());
        QVERIFY2(lines.at(2).contains("bob@example.org") && lines.at(2).contains("(signed in)"),
                 out.constData());
        QVERIFY2(lines.at(3).contains("alice@example.org") && lines.at(3).contains("(resumed with PIN)"),
                 out.constData());
        QVERIFY2(lines.at(4).contains("bob@example.org") && lines.at(4).contains("(resumed with PIN)"),
                 out.constData());
        QVERIFY2(lines.at(5).contains("alice@example.org"), out.constData());
        // Each stretch but the last has an end (an ISO time, not "active").
        for (int i = 1; i <= 4; ++i)
            QVERIFY2(!lines.at(i).contains("active"), lines.at(i).constData());
        QCOMPARE(server.run({QStringLiteral("workstation"), QStringLiteral("handovers"),
                             QStringLiteral("--workstation"), QStringLiteral("bad id!")},
                            {}, &out),
                 2);
        QCOMPARE(server.run({QStringLiteral("workstation"), QStringLiteral("handovers"),
                             QStringLiteral("--workstation"), QString::fromLatin1(kStation),
                             QStringLiteral("--since"), QStringLiteral("yesterday")},
                            {}, &out),
                 2);

        // No PIN, token or hash in the server's log.
        const QByteArray log = server.log();
        QVERIFY(!log.contains(kPinA));
        QVERIFY(!log.contains(kPinB));
        QVERIFY(!log.contains(a.refresh));
    }

    void wrongPinsFallBackToFullSignIn()
    {
        ServerProcess server;
        QVERIFY(prepare(server));
        QVERIFY(server.start());
        const QUrl url = server.url();
        Session a = signIn(url, "alice@example.org");
        QCOMPARE(setPin(url, a, kPinA).status, 200);
        QCOMPARE(park(url, a).status, 200);
        for (int left : {2, 1}) {
            auto wrong = resume(url, a, "97531864");
            QCOMPARE(wrong.status, 401);
            QCOMPARE(wrong.str("error"), std::string("invalid_pin"));
            QCOMPARE(wrong.json.value("attemptsLeft", -1), left);
        }
        auto locked = resume(url, a, "97531864");
        QCOMPARE(locked.status, 403);
        QCOMPARE(locked.str("error"), std::string("full_sign_in_required"));
        // The PIN is gone and the session with it: the right PIN no longer helps.
        auto late = resume(url, a, kPinA);
        QCOMPARE(late.status, 403);
        QCOMPARE(late.str("error"), std::string("full_sign_in_required"));
        QCOMPARE(refresh(url, a).status, 401);
        // A full sign-in works.
        Session again = signIn(url, "alice@example.org");
        QCOMPARE(listStatus(url, again), 200);
        // A session that is not parked: resume says so (refresh it as usual).
        auto notParked = resume(url, again, kPinA);
        QCOMPARE(notParked.status, 409);
    }

    void shiftWindowEndsPinUse()
    {
        ServerProcess server;
        QVERIFY(prepare(server));
        QByteArray out;
        QCOMPARE(
            server.run({QStringLiteral("policy"), QStringLiteral("set"), QStringLiteral("--device-class"),
                        QStringLiteral("shared_workstation"), QStringLiteral("--shift-window"),
                        QStringLiteral("3"), QStringLiteral("--pin-max-failures"), QStringLiteral("5")},
                       {}, &out),
            0);
        QVERIFY2(out.contains("shift-window=3 pin-max-failures=5"), out.constData());
        QVERIFY(server.start());
        const QUrl url = server.url();
        Session a = signIn(url, "alice@example.org");
        QCOMPARE(setPin(url, a, kPinA).status, 200);
        QCOMPARE(park(url, a).status, 200);
        // Within the window, with pin-max-failures 5: four wrong PINs leave one attempt.
        auto wrong = resume(url, a, "97531864");
        QCOMPARE(wrong.json.value("attemptsLeft", -1), 4);
        QTest::qWait(3500);
        auto over = resume(url, a, kPinA);
        QCOMPARE(over.status, 403);
        QCOMPARE(over.str("error"), std::string("full_sign_in_required"));
        QVERIFY2(over.str("message").find("shift window") != std::string::npos, over.body.constData());
        // A PIN cannot be set once the window is over either.
        Session b = signIn(url, "bob@example.org");
        QTest::qWait(3500);
        auto tooLate = setPin(url, b, kPinB);
        QCOMPARE(tooLate.status, 403);
    }

    void badPinsChangeNothing()
    {
        ServerProcess server;
        QVERIFY(prepare(server));
        QVERIFY(server.start());
        const QUrl url = server.url();
        Session a = signIn(url, "alice@example.org");
        const std::vector<std::pair<Json, Json>> bad{{"0000", kStation},
                                                     {"1234", kStation},
                                                     {"9876", kStation},
                                                     {"121212", kStation},
                                                     {"12", kStation},
                                                     {"123456789", kStation},
                                                     {"12a4", kStation},
                                                     {" 4829", kStation},
                                                     {4829, kStation},
                                                     {nullptr, kStation},
                                                     {Json::array(), kStation},
                                                     {kPinA, "short"},
                                                     {kPinA, "bad id with spaces"},
                                                     {kPinA, nullptr},
                                                     {kPinA, 12345678}};
        for (const auto& [pin, station] : bad) {
            auto r = setPin(url, a, pin, station);
            QVERIFY2(
                r.status == 400,
                (QByteArray::fromStdString(pin.dump() + " " + station.dump()) + ": " + dump(r)).constData());
            QCOMPARE(r.str("error"), std::string("invalid_request"));
            QVERIFY(!r.str("message").empty());
        }
        auto weak = setPin(url, a, "1111");
        QVERIFY2(weak.str("message").find("too easy to guess") != std::string::npos, weak.body.constData());
        auto garbage = ApiClient(url).raw(
            "PUT /api/workstation/pin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + a.access +
            "\r\nContent-Type: application/json\r\nContent-Length: 9\r\n"
            "Connection: close\r\n\r\n{not json");
        QCOMPARE(garbage.status, 400);
        // Nothing was set: parking needs a PIN first.
        auto noPin = park(url, a);
        QCOMPARE(noPin.status, 409);
        QCOMPARE(listStatus(url, a), 200);
        // A personal device gets no PIN.
        Session laptop = signIn(url, "bob@example.org", "personal");
        QCOMPARE(setPin(url, laptop, kPinB).status, 409);
        // Without a token: 401; a resume with a garbage token: 401, with a missing PIN: 400.
        QCOMPARE(ApiClient(url).request("PUT", "/api/workstation/pin", {{"pin", kPinA}}).status, 401);
        QCOMPARE(ApiClient(url).request("POST", "/api/workstation/park", Json::object()).status, 401);
        QCOMPARE(
            ApiClient(url)
                .request("POST", "/api/workstation/resume", {{"refreshToken", "garbage"}, {"pin", kPinA}})
                .status,
            401);
        QCOMPARE(ApiClient(url)
                     .request("POST", "/api/workstation/resume", {{"refreshToken", a.refresh.toStdString()}})
                     .status,
                 400);
        QVERIFY(!server.log().contains(kPinA));
    }
};

QTEST_GUILESS_MAIN(TestWorkstationSwitch)
#include "TestWorkstationSwitch.moc"
