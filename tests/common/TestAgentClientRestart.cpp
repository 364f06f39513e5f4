// SPDX-License-Identifier: Apache-2.0
// Issue 13, point 3: an ask in flight when the agent goes away (a crash, an upgrade) does not
// reach the caller. A stand-in agent on a real local socket reads the first `token` request and
// closes the connection without answering, as a killed agent would; the client asks once more
// on a new connection (waiting for the "restarted" agent) and gets the answer. A request that
// changes something (logout) is not repeated.
#include "FutureHelpers.h"
#include "ipc/AgentClient.h"
#include "ipc/AgentMessages.h"
#include "ipc/FrameDecoder.h"

#include <QDeadlineTimer>
#include <QLocalServer>
#include <QLocalSocket>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace ehrs;
using namespace ehrs::ipc;

namespace {
/// Accepts connections; drops the first `dropFirst` requests unanswered (closing the connection),
/// answers the others: `token` with a fixed token, anything else with ok.
class StandInAgent : public QObject
{
public:
    StandInAgent(const QString& path, int dropFirst) : m_dropLeft(dropFirst)
    {
        m_server.listen(path);
        connect(&m_server, &QLocalServer::newConnection, this, [this] {
            while (QLocalSocket* s = m_server.nextPendingConnection()) {
                ++connections;
                auto decoder = std::make_shared<FrameDecoder>();
                connect(s, &QLocalSocket::readyRead, this, [this, s, decoder] {
                    if (!decoder->feed(s->readAll()))
                        return s->abort();
                    while (auto payload = decoder->next()) {
                        ++requests;
                        const qint64 id = requestHeaderOf(*payload).id;
                        if (m_dropLeft > 0) {
                            --m_dropLeft;
                            s->abort(); // killed before answering
                            return;
                        }
                        const QByteArray reply =
                            payload->contains("\"token\"")
                                ? replyPayload(id, TokenReply{QStringLiteral("tok-123"), {}})
                                : okPayload(id);
                        s->write(encodeFrame(reply).value());
                    }
                });
            }
        });
    }
    bool listening() const { return m_server.isListening(); }
    int connections = 0;
    int requests = 0;

private:
    QLocalServer m_server;
    int m_dropLeft;
};

bool connectTo(AgentClient& client, const QString& path)
{
    auto f = client.connectToAgent(path);
    QDeadlineTimer deadline(10000);
    while (!f.isFinished() && !deadline.hasExpired())
        QTest::qWait(10);
    return f.isFinished() && f.result().has_value();
}
} // namespace

class TestAgentClientRestart : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aTokenAskSurvivesADroppedConnection()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("agent.sock"));
        StandInAgent agent(path, 1);
        QVERIFY(agent.listening());
        AgentClient client;
        QVERIFY(connectTo(client, path));
        auto token = client.token();
        QTRY_VERIFY_WITH_TIMEOUT(token.isFinished(), 10000);
        const auto reply = token.result();
        QVERIFY2(reply.has_value(), qPrintable(reply ? QString() : reply.error().message));
        QCOMPARE(reply->accessToken, QStringLiteral("tok-123"));
        QCOMPARE(agent.requests, 2);
        QCOMPARE(agent.connections, 2);
    }

    void aLogoutIsNotRepeated()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("agent.sock"));
        StandInAgent agent(path, 1);
        AgentClient client;
        QVERIFY(connectTo(client, path));
        auto logout = client.logout();
        QTRY_VERIFY_WITH_TIMEOUT(logout.isFinished(), 10000);
        QVERIFY(!logout.result().has_value());
        QCOMPARE(logout.result().error().code, ErrorCode::NetworkError);
        QCOMPARE(agent.requests, 1);
    }
};

QTEST_GUILESS_MAIN(TestAgentClientRestart)
#include "TestAgentClientRestart.moc"
