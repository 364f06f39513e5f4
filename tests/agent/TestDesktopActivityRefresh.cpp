// SPDX-License-Identifier: Apache-2.0
// Issue 14's decisions in the agent, with a fake clock, desktop, keychain and server: refresh only
// after activity, no tokens and no refresh while locked, end on lock by the server's policy or the
// agent's setting, and local apps alone counting when there is no desktop source.
#include "FakeClock.h"
#include "FakeDesktopActivity.h"
#include "FakeHttpServer.h"
#include "FakeTokenStore.h"
#include "core/AgentService.h"
#include "core/ClinicianActivity.h"
#include "ipc/AgentMessages.h"
#include "net/ServerClient.h"
#include "refresh/RefreshScheduler.h"

#include <QNetworkAccessManager>
#include <QTest>
#include <nlohmann/json.hpp>

using namespace ehrs;
using namespace ehrs::agent;
using namespace ehrs::agent::test;

namespace {
// RefreshPolicy with u = 0.5 refreshes a 900 s token after 80% of it: 720 s.
constexpr qint64 kPastDueMs = 800 * 1000;

struct Harness
{
    FakeHttpServer http;
    FakeClock clock;
    FakeTokenStore store;
    QNetworkAccessManager network;
    ServerClient server{network};
    RefreshScheduler scheduler{clock, RefreshPolicy(), [] { return 0.5; }};
    FakeDesktopActivity desktop;
    std::unique_ptr<AgentService> service;
    std::optional<nlohmann::json> policy; // sent with every refresh answer when set
    QList<ipc::Event> events;

    bool start(bool withDesktop = true, bool endOnLockSetting = false)
    {
        http.handler = [this](const FakeHttpServer::Request& r) -> FakeHttpServer::Response {
            if (r.path == "/api/auth/logout")
                return {200, R"({"success":true})", {}};
            if (r.path != "/api/sessions/refresh")
                return {404, R"({"error":"not_found","message":"no"})", {}};
            const auto body = nlohmann::json::parse(r.body.begin(), r.body.end(), nullptr, false);
            const int n = std::stoi(body.value("refreshToken", std::string("rt-0")).substr(3));
            nlohmann::json j{{"success", true},
                             {"token", "at-" + std::to_string(n + 1)},
                             {"accessToken", "at-" + std::to_string(n + 1)},
                             {"refreshToken", "rt-" + std::to_string(n + 1)},
                             {"expiresIn", 900},
                             {"sessionId", "s1"}};
            if (policy)
                j["policy"] = *policy;
            return {200, QByteArray::fromStdString(j.dump()), {}};
        };
        if (!http.start())
            return false;
        store.stored = StoredAccount{http.url().toString(), QStringLiteral("u1"), QStringLiteral("a@b.c"),
                                     QStringLiteral("s1"), QStringLiteral("rt-0")};
        AgentConfig c;
        c.watchServerEvents = false;
        c.endOnLock = endOnLockSetting;
        service = std::make_unique<AgentService>(store, server, scheduler, clock, c);
        service->setDesktopActivity(withDesktop ? &desktop : nullptr);
        QObject::connect(service.get(), &AgentService::eventOccurred,
                         [this](const ipc::Event& e) { events << e; });
        return true;
    }
    int count(const QByteArray& path) const
    {
        int n = 0;
        for (const auto& r : http.requests)
            n += r.path == path;
        return n;
    }
    int refreshes() const { return count("/api/sessions/refresh"); }
    /// Moves past the refresh deadline and lets the scheduler look.
    void passDeadline()
    {
        clock.advance(kPastDueMs);
        scheduler.poll();
    }
};
/// The server's policy for a nurse on a shared workstation whose session ends on lock.
nlohmann::json endOnLockPolicy()
{
    return nlohmann::json{{"idleTimeoutSeconds", 900}, {"absoluteLifetimeSeconds", 43200},
                          {"endOnLock", true},         {"maxSessions", 3},
                          {"mfaRequired", false},      {"deviceClass", "shared_workstation"},
                          {"groups", {"nurses"}}};
}
} // namespace

class TestDesktopActivityRefresh : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void activitySince_data();
    void activitySince();
    void idleDesktopHoldsTheRefresh();
    void inputResumesAHeldRefresh();
    void desktopInUseRefreshes();
    void localAppRequestCountsAsActivity();
    void withoutDesktopOnlyLocalAppsCount();
    void lockedRefusesTokensAndHolds();
    void lockChangesAreToldSignedInOrNot();
    void endOnLockByServerPolicy();
    void endOnLockByLocalSetting();
    void noPolicyKeepsTheSessionOnLock();
    void lockedAnswerOnTheWire();
    void policyIsStoredWithTheAccount();
};

void TestDesktopActivityRefresh::activitySince_data()
{
    QTest::addColumn<QString>("what");
    QTest::addColumn<qint64>("idleMs"); // for "desktop"
    QTest::addColumn<qint64>("sinceAgoMs");
    QTest::addColumn<bool>("active");
    QTest::newRow("nothing yet") << QStringLiteral("none") << 0LL << 10'000LL << false;
    QTest::newRow("local request after") << QStringLiteral("local") << 0LL << 10'000LL << true;
    QTest::newRow("desktop in use") << QStringLiteral("desktop") << 0LL << 10'000LL << true;
    QTest::newRow("desktop input after") << QStringLiteral("desktop") << 5'000LL << 10'000LL << true;
    QTest::newRow("desktop input exactly then") << QStringLiteral("desktop") << 10'000LL << 10'000LL << true;
    QTest::newRow("desktop input before") << QStringLiteral("desktop") << 15'000LL << 10'000LL << false;
}

void TestDesktopActivityRefresh::activitySince()
{
    QFETCH(QString, what);
    QFETCH(qint64, idleMs);
    QFETCH(qint64, sinceAgoMs);
    QFETCH(bool, active);
    FakeClock clock;
    ClinicianActivity activity(clock);
    clock.advance(60'000);
    if (what == u"local")
        activity.localRequest();
    else if (what == u"desktop")
        activity.desktopIdleMs(idleMs);
    QCOMPARE(activity.activeSince(clock.elapsedMs() - sinceAgoMs), active);
    // An older, longer idleness reported later never moves the last activity back.
    activity.desktopIdleMs(1'000'000);
    QCOMPARE(activity.activeSince(clock.elapsedMs() - sinceAgoMs), active);
}

void TestDesktopActivityRefresh::idleDesktopHoldsTheRefresh()
{
    Harness h;
    QVERIFY(h.start());
    h.service->start();
    QTRY_COMPARE(h.refreshes(), 1); // restoring the session refreshes at once
    QTRY_COMPARE(h.service->state(), AgentService::State::SignedIn);
    // Nobody touched the desktop since: its idle time covers the whole token lifetime.
    h.desktop.setIdle(kPastDueMs + 10'000);
    h.passDeadline();
    QTest::qWait(200);
    QCOMPARE(h.refreshes(), 1);
    QVERIFY(h.service->status().idle);
    QVERIFY(!h.scheduler.isScheduled());
    // Staying idle: still nothing, however long.
    h.clock.advance(3600 * 1000);
    h.desktop.setIdle(kPastDueMs + 3600 * 1000);
    h.scheduler.poll();
    QTest::qWait(100);
    QCOMPARE(h.refreshes(), 1);
}

void TestDesktopActivityRefresh::inputResumesAHeldRefresh()
{
    Harness h;
    QVERIFY(h.start());
    h.service->start();
    QTRY_COMPARE(h.service->state(), AgentService::State::SignedIn);
    h.desktop.setIdle(kPastDueMs + 10'000);
    h.passDeadline();
    QTest::qWait(100);
    QCOMPARE(h.refreshes(), 1);
    h.desktop.setIdle(0); // a key press: logind's IdleHint back to false
    QTRY_COMPARE(h.refreshes(), 2);
    QTRY_VERIFY(!h.service->status().idle);
    QCOMPARE(h.store.stored->sessionId, QStringLiteral("s1")); // the same session, no new sign-in
    QCOMPARE(h.count("/api/auth/login"), 0);
}

void TestDesktopActivityRefresh::desktopInUseRefreshes()
{
    Harness h;
    QVERIFY(h.start());
    h.service->start();
    QTRY_COMPARE(h.service->state(), AgentService::State::SignedIn);
    // Input a minute before the deadline: after the last refresh, so the refresh goes ahead.
    h.desktop.idle = 60'000;
    h.passDeadline();
    QTRY_COMPARE(h.refreshes(), 2);
    QVERIFY(!h.service->status().idle);
}

void TestDesktopActivityRefresh::localAppRequestCountsAsActivity()
{
    Harness h;
    QVERIFY(h.start());
    h.service->start();
    QTRY_COMPARE(h.service->state(), AgentService::State::SignedIn);
    h.desktop.idle = kPastDueMs + 10'000; // the desktop is idle, but an app is at work
    h.clock.advance(100'000);
    auto t = h.service->token();
    QTRY_VERIFY(t.isFinished());
    QVERIFY(t.result());
    QCOMPARE(h.refreshes(), 1); // served from memory
    h.clock.advance(kPastDueMs - 100'000);
    h.scheduler.poll();
    QTRY_COMPARE(h.refreshes(), 2);
}

void TestDesktopActivityRefresh::withoutDesktopOnlyLocalAppsCount()
{
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("no desktop activity source")));
    Harness h;
    QVERIFY(h.start(/*withDesktop=*/false));
    QCOMPARE(h.service->status().activitySource, QStringLiteral("local-apps"));
    h.service->start();
    QTRY_COMPARE(h.service->state(), AgentService::State::SignedIn);
    h.passDeadline();
    QTest::qWait(100);
    QCOMPARE(h.refreshes(), 1);  // nobody asked: held
    auto t = h.service->token(); // an app asks: refresh at once
    QTRY_VERIFY(t.isFinished());
    QVERIFY(t.result());
    QTRY_COMPARE(h.refreshes(), 2);
}

void TestDesktopActivityRefresh::lockedRefusesTokensAndHolds()
{
    Harness h;
    QVERIFY(h.start());
    h.service->start();
    QTRY_COMPARE(h.service->state(), AgentService::State::SignedIn);
    h.desktop.setLocked(true);
    auto t = h.service->token();
    QVERIFY(t.isFinished());
    QVERIFY(!t.result());
    QVERIFY(ipc::isWorkstationLocked(t.result().error()));
    QCOMPARE(t.result().error().message, QStringLiteral("The workstation is locked; unlock it to continue"));
    QVERIFY(h.service->status().locked);
    h.desktop.idle = 0; // even with input reported (a screensaver's own animation), no refresh
    h.passDeadline();
    QTest::qWait(100);
    QCOMPARE(h.refreshes(), 1);
    QCOMPARE(h.count("/api/auth/logout"), 0);
    QVERIFY(h.service->isSignedIn());
    // Unlocked: the same session resumes with a refresh, no sign-in.
    h.desktop.setLocked(false);
    QTRY_COMPARE(h.refreshes(), 2);
    auto after = h.service->token();
    QTRY_VERIFY(after.isFinished());
    QVERIFY(after.result());
    QCOMPARE(after.result()->accessToken, QStringLiteral("at-2"));
    QCOMPARE(h.store.stored->sessionId, QStringLiteral("s1"));
}

void TestDesktopActivityRefresh::lockChangesAreToldSignedInOrNot()
{
    Harness h;
    QVERIFY(h.start());
    const auto lockEvents = [&h] {
        QList<bool> out;
        for (const auto& e : std::as_const(h.events)) {
            if (const auto* lock = std::get_if<ipc::LockChangedEvent>(&e))
                out << lock->locked;
        }
        return out;
    };
    // Nobody signed in: the app's lock screen still follows the desktop.
    h.store.stored.reset();
    h.service->start();
    QTRY_COMPARE(h.service->state(), AgentService::State::SignedOut);
    h.desktop.setLocked(true);
    QCOMPARE(lockEvents(), QList<bool>{true});
    h.desktop.setLocked(false);
    QCOMPARE(lockEvents(), (QList<bool>{true, false}));
    QCOMPARE(h.count("/api/auth/logout"), 0);

    // Signed in, with a policy that ends the session on lock: one lock-changed, then the end.
    Harness signedIn;
    signedIn.policy = endOnLockPolicy();
    QVERIFY(signedIn.start());
    signedIn.service->start();
    QTRY_COMPARE(signedIn.service->state(), AgentService::State::SignedIn);
    signedIn.desktop.setLocked(true);
    QTRY_VERIFY(!signedIn.service->isSignedIn());
    QList<QString> names;
    for (const auto& e : std::as_const(signedIn.events))
        names << ipc::eventName(e);
    QCOMPARE(names.count(QStringLiteral("lock-changed")), 1);
    QVERIFY2(names.indexOf(QStringLiteral("lock-changed")) < names.indexOf(QStringLiteral("signed-out")),
             qPrintable(names.join(u' ')));
}

void TestDesktopActivityRefresh::endOnLockByServerPolicy()
{
    Harness h;
    h.policy = endOnLockPolicy();
    QVERIFY(h.start());
    h.service->start();
    QTRY_COMPARE(h.service->state(), AgentService::State::SignedIn);
    // Remembered with the account (a restarted agent applies it before its first refresh).
    QVERIFY(h.store.stored && h.store.stored->policy);
    QVERIFY(h.store.stored->policy->endOnLock);
    QCOMPARE(h.store.stored->policy->deviceClass, QStringLiteral("shared_workstation"));
    QCOMPARE(h.store.stored->policy->groups, QStringList{QStringLiteral("nurses")});
    QVERIFY(h.service->endsOnLock());
    h.desktop.setLocked(true);
    QTRY_COMPARE(h.count("/api/auth/logout"), 1);
    QTRY_VERIFY(!h.service->isSignedIn());
    QTRY_VERIFY(!h.store.stored.has_value()); // keychain entry gone
    QTRY_VERIFY(!h.events.isEmpty() && std::holds_alternative<ipc::SignedOutEvent>(h.events.back()));
    QCOMPARE(std::get<ipc::SignedOutEvent>(h.events.back()).reason, QStringLiteral("ended_on_lock"));
    QCOMPARE(h.service->status().signedOutReason, QStringLiteral("ended_on_lock"));
    // The logout went out with the token in hand, not after a refresh.
    QCOMPARE(h.refreshes(), 1);
    // After unlocking, apps are told the session is over, not "locked".
    h.desktop.setLocked(false);
    auto t = h.service->token();
    QTRY_VERIFY(t.isFinished());
    QVERIFY(!t.result());
    QVERIFY(isSessionEnded(t.result().error()));
    QVERIFY(t.result().error().message.contains(u"ended_on_lock"));
}

void TestDesktopActivityRefresh::endOnLockByLocalSetting()
{
    Harness h;
    h.policy = nlohmann::json{{"endOnLock", false}}; // the stricter local setting wins
    QVERIFY(h.start(true, /*endOnLockSetting=*/true));
    h.service->start();
    QTRY_COMPARE(h.service->state(), AgentService::State::SignedIn);
    h.desktop.setLocked(true);
    QTRY_COMPARE(h.count("/api/auth/logout"), 1);
    QTRY_VERIFY(!h.store.stored.has_value());
    QCOMPARE(h.service->status().signedOutReason, QStringLiteral("ended_on_lock"));
}

void TestDesktopActivityRefresh::noPolicyKeepsTheSessionOnLock()
{
    Harness h;
    QVERIFY(h.start());
    h.service->start();
    QTRY_COMPARE(h.service->state(), AgentService::State::SignedIn);
    QVERIFY(!h.service->endsOnLock());
    h.desktop.setLocked(true);
    QTest::qWait(200);
    QCOMPARE(h.count("/api/auth/logout"), 0);
    QVERIFY(h.store.stored.has_value());
    // A policy-changed event turning end-on-lock on while locked ends it at once.
    SessionPolicyInfo strict;
    strict.endOnLock = true;
    h.service->policyChanged(strict);
    QTRY_COMPARE(h.count("/api/auth/logout"), 1);
    QTRY_VERIFY(!h.store.stored.has_value());
}

void TestDesktopActivityRefresh::lockedAnswerOnTheWire()
{
    const QByteArray payload = ipc::errorPayload(7, ipc::workstationLockedError());
    const auto j = nlohmann::json::parse(payload.begin(), payload.end());
    QCOMPARE(j["error"].get<std::string>(), std::string("workstation_locked"));
    QCOMPARE(j["message"].get<std::string>(),
             std::string("The workstation is locked; unlock it to continue"));
    auto in = ipc::incomingFromPayload(payload);
    QVERIFY(in && in->error);
    QVERIFY(ipc::isWorkstationLocked(*in->error));
    QCOMPARE(describeError(*in->error), QStringLiteral("The workstation is locked; unlock it to continue."));
    // Other Forbidden answers are not "locked".
    QVERIFY(
        !ipc::isWorkstationLocked(Error{ErrorCode::Forbidden, QStringLiteral("The code is not correct")}));
    // The idle timeout in the server's words, as the clients say it.
    const Error idle{
        ErrorCode::SessionExpired,
        QStringLiteral("signed out (session_expired): This session ended after 30 minutes without "
                       "activity")};
    QCOMPARE(
        describeError(idle),
        QStringLiteral("This session ended after 30 minutes without activity. Sign in again to continue."));
}

void TestDesktopActivityRefresh::policyIsStoredWithTheAccount()
{
    StoredAccount a{QStringLiteral("https://s.example"), QStringLiteral("u1"), QStringLiteral("a@b.c"),
                    QStringLiteral("s1"), QStringLiteral("rt-1")};
    auto plain = StoredAccount::fromJson(a.toJson());
    QVERIFY(plain);
    QVERIFY(!plain->policy); // an entry written before issue 14 (or without a policy) has none
    const auto policy = SessionPolicyInfo::fromJson(nlohmann::json{{"idleTimeoutSeconds", 1800},
                                                                   {"endOnLock", true},
                                                                   {"deviceClass", "personal"},
                                                                   {"groups", {"admins"}},
                                                                   {"maxSessions", "not a number"}});
    QVERIFY(policy);
    QCOMPARE(policy->maxSessions, 0); // wrong types fall back to the defaults
    a.policy = policy;
    auto back = StoredAccount::fromJson(a.toJson());
    QVERIFY(back);
    QCOMPARE(*back, a);
    QVERIFY(!SessionPolicyInfo::fromJson(nlohmann::json::array()));
}

QTEST_GUILESS_MAIN(TestDesktopActivityRefresh)
#include "TestDesktopActivityRefresh.moc"
