// SPDX-License-Identifier: Apache-2.0
// Issue 18, "remember this device", from the agent's side: the agent binary, the real server on the
// back end under test (EHRS_TEST_BACKEND) and the real keychain. A device remembered at the
// two-step verification skips the code at its next sign-in on the same agent (its device
// credential is in that agent's keychain); another agent (another keychain: another device) and a
// sign-in whose code was sent without "remember" are still asked for it, and so is the device once
// forgotten.
#include "AgentProcess.h"
#include "ApiClient.h"
#include "ServerProcess.h"
#include "TwoStepAccount.h"
#include "core/Await.h"
#include "ipc/AgentClient.h"

#include <QTest>

using namespace ehrs;
using namespace ehrs::agent;
using ehrs::agent::test::AgentProcess;
using ehrs::test::ApiClient;
using ehrs::test::ServerProcess;

namespace {
const QString kPassword = QStringLiteral("Correct-horse-battery-9");
} // namespace

class TestRememberDevice : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void rememberedDeviceSkipsTheCodeUntilForgotten();
    void withoutRememberTheCodeIsAskedAgain();
    void cliRememberDeviceFlag();

private:
    /// A new account with two-step verification on; its backup codes (each works once).
    QString newUserWithTotp(QStringList* backupCodes);
    /// login on `client`'s agent: whether the server asked for a code (nullopt: the login failed).
    std::optional<bool> loginAsksForCode(ipc::AgentClient& client, const QString& email);
    /// A session of the account's own over HTTP (password, then `backupCode`): its access token.
    QByteArray httpSession(const QString& email, const QString& backupCode);
    /// GET /api/account/devices: how many remembered devices the server lists (-1: no answer).
    int rememberedDevices(const QByteArray& access, QString* firstId = nullptr);

    ServerProcess m_server;
    int m_users = 0;
};

void TestRememberDevice::initTestCase()
{
    if (const QString missing = AgentProcess::missingKeychain(); !missing.isEmpty()) {
        if (qEnvironmentVariable("EHRS_REQUIRE_SERVICES") == u"1")
            QFAIL(qPrintable(missing));
        QSKIP(qPrintable(missing));
    }
    EHRS_REQUIRE_BACKEND_UNDER_TEST();
    QVERIFY(m_server.useBackendUnderTest());
    QVERIFY(m_server.start());
}

QString TestRememberDevice::newUserWithTotp(QStringList* backupCodes)
{
    const QString email = QStringLiteral("remembered%1@example.org").arg(++m_users);
    if (!m_server.addUser(email, kPassword))
        return {};
    *backupCodes = ehrs::test::turnOnTwoStep(m_server.url(), email, kPassword);
    return backupCodes->size() >= 4 ? email : QString();
}

std::optional<bool> TestRememberDevice::loginAsksForCode(ipc::AgentClient& client, const QString& email)
{
    auto reply = await(client.login(m_server.url().toString(), email, kPassword));
    if (!reply) {
        qWarning("login failed: %s", qPrintable(reply.error().message));
        return std::nullopt;
    }
    return reply->requiresMfa;
}

QByteArray TestRememberDevice::httpSession(const QString& email, const QString& backupCode)
{
    ApiClient api(m_server.url());
    auto login = api.request("POST", "/api/auth/login",
                             {{"email", email.toStdString()}, {"password", kPassword.toStdString()}});
    if (login.status != 200 || !login.json.value("requiresMFA", false))
        return {};
    auto verified = api.request("POST", "/api/auth/verify-mfa",
                                {{"mfaToken", login.str("mfaToken")}, {"code", backupCode.toStdString()}});
    return verified.status == 200 ? QByteArray::fromStdString(verified.str("accessToken")) : QByteArray();
}

int TestRememberDevice::rememberedDevices(const QByteArray& access, QString* firstId)
{
    auto devices = ApiClient(m_server.url()).request("GET", "/api/account/devices", nullptr, access);
    if (devices.status != 200)
        return -1;
    if (firstId && !devices.json["devices"].empty())
        *firstId = QString::fromStdString(devices.json["devices"][0].value("id", std::string()));
    return int(devices.json["devices"].size());
}

void TestRememberDevice::rememberedDeviceSkipsTheCodeUntilForgotten()
{
    QStringList backup;
    const QString email = newUserWithTotp(&backup);
    QVERIFY(!email.isEmpty());
    AgentProcess agent;
    QVERIFY(agent.start());
    {
        ipc::AgentClient client;
        QVERIFY(await(client.connectToAgent(agent.socketPath())));
        QCOMPARE(loginAsksForCode(client, email), std::optional<bool>(true));
        auto verified = await(client.verifyMfa(backup.at(0), true));
        QVERIFY2(verified, verified ? "" : qPrintable(verified.error().message));
        QVERIFY(!verified->requiresMfa);
        QCOMPARE(verified->deviceRemembered, std::optional<bool>(true));
        QVERIFY(await(client.logout()));
        // The same agent (its keychain holds the device credential): no code this time.
        auto again = await(client.login(m_server.url().toString(), email, kPassword));
        QVERIFY2(again, again ? "" : qPrintable(again.error().message));
        QVERIFY2(!again->requiresMfa, agent.log().constData());
        QCOMPARE(again->email, email);
        QVERIFY(!again->deviceRemembered.has_value()); // only said in answer to rememberDevice
        QVERIFY(await(client.logout()));
    }
    // A restarted agent reads the credential from the keychain: still remembered.
    agent.stop();
    QVERIFY(agent.start());
    {
        ipc::AgentClient client;
        QVERIFY(await(client.connectToAgent(agent.socketPath())));
        QCOMPARE(loginAsksForCode(client, email), std::optional<bool>(false));
        QVERIFY(await(client.logout()));
    }
    // Another agent with its own keychain is another device: it is asked for the code.
    AgentProcess other;
    QVERIFY(other.keychainService() != agent.keychainService());
    QVERIFY(other.start());
    ipc::AgentClient otherClient;
    QVERIFY(await(otherClient.connectToAgent(other.socketPath())));
    QCOMPARE(loginAsksForCode(otherClient, email), std::optional<bool>(true));

    // Forgotten (as the app's Forget button does, with a session of the account's own): the first
    // agent is asked for the code again.
    const QByteArray access = httpSession(email, backup.at(1));
    QString id;
    QCOMPARE(rememberedDevices(access, &id), 1);
    QVERIFY(!id.isEmpty());
    QCOMPARE(ApiClient(m_server.url())
                 .request("DELETE", "/api/account/devices/" + id.toLatin1(), nullptr, access)
                 .status,
             200);
    ipc::AgentClient client;
    QVERIFY(await(client.connectToAgent(agent.socketPath())));
    QCOMPARE(loginAsksForCode(client, email), std::optional<bool>(true));
}

void TestRememberDevice::withoutRememberTheCodeIsAskedAgain()
{
    QStringList backup;
    const QString email = newUserWithTotp(&backup);
    QVERIFY(!email.isEmpty());
    AgentProcess agent;
    QVERIFY(agent.start());
    ipc::AgentClient client;
    QVERIFY(await(client.connectToAgent(agent.socketPath())));
    QCOMPARE(loginAsksForCode(client, email), std::optional<bool>(true));
    auto verified = await(client.verifyMfa(backup.at(0)));
    QVERIFY(verified);
    QVERIFY(!verified->deviceRemembered.has_value());
    QVERIFY(await(client.logout()));
    // The device credential alone (kept by the agent since this sign-in) is not a second factor.
    QCOMPARE(loginAsksForCode(client, email), std::optional<bool>(true));
    QCOMPARE(rememberedDevices(httpSession(email, backup.at(1))), 0);
}

void TestRememberDevice::cliRememberDeviceFlag()
{
    QStringList backup;
    const QString email = newUserWithTotp(&backup);
    QVERIFY(!email.isEmpty());
    AgentProcess agent;
    QVERIFY(agent.start());
    const QStringList login{QStringLiteral("login"),
                            QStringLiteral("--server"),
                            m_server.url().toString(),
                            QStringLiteral("--password-stdin"),
                            QStringLiteral("--remember-device"),
                            email};
    // --password-stdin reads the password, then the code from the next line.
    auto first = agent.cli(login, kPassword.toUtf8() + '\n' + backup.at(0).toUtf8() + '\n');
    QVERIFY2(first.exitCode == 0, first.err.constData());
    QVERIFY2(first.err.contains("This device is remembered"), first.err.constData());
    QCOMPARE(agent.cli({QStringLiteral("logout")}).exitCode, 0);
    // Only the password this time: were a code asked for, reading it would hit the end of input.
    auto second = agent.cli(login, kPassword.toUtf8() + '\n');
    QVERIFY2(second.exitCode == 0, second.err.constData());
    QVERIFY(second.err.contains("Signed in as"));
    QVERIFY2(!second.err.contains("This device is remembered") && !second.err.contains("did not remember"),
             second.err.constData()); // no code step, nothing to say
    QCOMPARE(agent.cli({QStringLiteral("logout")}).exitCode, 0);
}

QTEST_GUILESS_MAIN(TestRememberDevice)
#include "TestRememberDevice.moc"
