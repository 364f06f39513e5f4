// SPDX-License-Identifier: Apache-2.0
// The account event stream (GET /api/sessions/events, issue 13) against the real server binary,
// on the embedded SQLite default and on PostgreSQL + Redis (two instances share the database and
// Redis there): what each change sends, its own session's end, resuming after a restart with
// Last-Event-ID, token expiry, the idle timeout, bounds.
#include "ApiClient.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <nlohmann/json.hpp>

using namespace ehrs::test;
using Json = nlohmann::json;

namespace {
const QByteArray kPassword = "a long enough password";

/// A Server-Sent Events reader on a raw socket: the head, then events as they arrive.
class SseReader : public QObject
{
    Q_OBJECT
public:
    struct Event
    {
        QByteArray id;
        QByteArray type;
        Json data;
    };

    bool open(const QUrl& url, const QByteArray& token, const QByteArray& lastEventId = {})
    {
        m_socket.connectToHost(url.host(), quint16(url.port()));
        if (!m_socket.waitForConnected(5000))
            return false;
        connect(&m_socket, &QTcpSocket::readyRead, this, &SseReader::onRead);
        connect(&m_socket, &QTcpSocket::disconnected, this, [this] {
            m_closed = true;
            Q_EMIT closed();
        });
        QByteArray request = "GET /api/sessions/events HTTP/1.1\r\nHost: " + url.host().toLatin1() +
                             "\r\nAccept: text/event-stream\r\n";
        if (!token.isEmpty())
            request += "Authorization: Bearer " + token + "\r\n";
        if (!lastEventId.isEmpty())
            request += "Last-Event-ID: " + lastEventId + "\r\n";
        m_socket.write(request + "\r\n");
        return true;
    }
    int status() const { return m_status; }
    QByteArray head() const { return m_head; }
    bool isClosed() const { return m_closed; }
    const QList<Event>& events() const { return m_events; }
    QList<Event> eventsOf(const QByteArray& type) const
    {
        QList<Event> out;
        for (const auto& e : m_events) {
            if (e.type == type)
                out << e;
        }
        return out;
    }
    QByteArray body() const { return m_body; }
    void close() { m_socket.abort(); }

Q_SIGNALS:
    void received();
    void closed();

private:
    void onRead()
    {
        m_buffer += m_socket.readAll();
        if (m_status == 0) {
            const qsizetype end = m_buffer.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            m_head = m_buffer.left(end);
            m_status = m_head.mid(9, 3).toInt();
            m_buffer.remove(0, end + 4);
        }
        m_body += m_buffer;
        qsizetype end;
        while ((end = m_buffer.indexOf("\n\n")) >= 0) {
            const QByteArray block = m_buffer.left(end);
            m_buffer.remove(0, end + 2);
            Event e;
            for (const QByteArray& line : block.split('\n')) {
                if (line.startsWith("id: "))
                    e.id = line.mid(4);
                else if (line.startsWith("event: "))
                    e.type = line.mid(7);
                else if (line.startsWith("data: "))
                    e.data = Json::parse(line.mid(6).toStdString(), nullptr, false);
            }
            if (!e.type.isEmpty())
                m_events << e;
        }
        Q_EMIT received();
    }

    QTcpSocket m_socket;
    QByteArray m_buffer;
    QByteArray m_head;
    QByteArray m_body;
    int m_status = 0;
    bool m_closed = false;
    QList<Event> m_events;
};

struct Login
{
    QByteArray access;
    QByteArray refresh;
    QString sessionId;
};

Login login(const QUrl& url, const QString& email)
{
    auto r = ApiClient(url).request("POST", "/api/auth/login",
                                    {{"email", email.toStdString()}, {"password", kPassword.toStdString()}});
    return {QByteArray::fromStdString(r.str("accessToken")), QByteArray::fromStdString(r.str("refreshToken")),
            QString::fromStdString(r.str("sessionId"))};
}

std::string str(const Json& j, const char* key)
{
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}
} // namespace

class TestEventStream : public QObject
{
    Q_OBJECT

    QString newUser(ServerProcess& server)
    {
        const QString email = QStringLiteral("stream%1@example.org").arg(++m_users);
        return server.addUser(email, QString::fromLatin1(kPassword)) ? email : QString();
    }
    bool startServer(ServerProcess& server, const QStringList& env = {})
    {
        if (!server.useBackendUnderTest())
            return false;
        for (const QString& kv : env)
            server.setEnv(kv.section(u'=', 0, 0), kv.section(u'=', 1));
        return server.start();
    }

private Q_SLOTS:
    void initTestCase() { EHRS_REQUIRE_BACKEND_UNDER_TEST(); }

    void ownRevocationEndsTheStreamWithItsReason()
    {
        ServerProcess server;
        QVERIFY(startServer(server));
        const QString email = newUser(server);
        QVERIFY(!email.isEmpty());
        Login a = login(server.url(), email);
        Login b = login(server.url(), email);
        SseReader stream;
        QVERIFY(stream.open(server.url(), b.access));
        QTRY_VERIFY(!stream.eventsOf("ready").isEmpty());
        QCOMPARE(stream.status(), 200);
        QVERIFY(stream.head().contains("text/event-stream"));
        QVERIFY(!stream.head().toLower().contains("content-length"));
        QCOMPARE(str(stream.eventsOf("ready").front().data, "sessionId"), b.sessionId.toStdString());

        QElapsedTimer sinceRevoke;
        sinceRevoke.start();
        QCOMPARE(ApiClient(server.url())
                     .request("DELETE", "/api/sessions/" + b.sessionId.toLatin1(), nullptr, a.access)
                     .status,
                 200);
        QTRY_VERIFY_WITH_TIMEOUT(!stream.eventsOf("revoked").isEmpty(), 2000);
        QVERIFY2(sinceRevoke.elapsed() < 1000, qPrintable(QString::number(sinceRevoke.elapsed())));
        const auto revoked = stream.eventsOf("revoked").front();
        QCOMPARE(str(revoked.data, "sessionId"), b.sessionId.toStdString());
        QCOMPARE(str(revoked.data, "reason"), std::string("revoked_by_user"));
        QVERIFY(!revoked.id.isEmpty());
        // ... and then it ends: the revocation is the last event.
        QTRY_VERIFY_WITH_TIMEOUT(stream.isClosed(), 3000);
        QCOMPARE(stream.events().back().type, QByteArray("revoked"));
        // A revoked session's token cannot open a new one.
        SseReader again;
        QVERIFY(again.open(server.url(), b.access));
        QTRY_COMPARE(again.status(), 401);
    }

    void changesOnTheAccountReachItsStreams()
    {
        ServerProcess server;
        QVERIFY(startServer(server));
        const QString email = newUser(server);
        Login a = login(server.url(), email);
        SseReader stream;
        QVERIFY(stream.open(server.url(), a.access));
        QTRY_VERIFY(!stream.eventsOf("ready").isEmpty());

        // A new sign-in elsewhere.
        Login c = login(server.url(), email);
        QTRY_VERIFY_WITH_TIMEOUT(!stream.eventsOf("session-created").isEmpty(), 2000);
        QCOMPARE(str(stream.eventsOf("session-created").front().data, "sessionId"),
                 c.sessionId.toStdString());
        // Renamed.
        QCOMPARE(ApiClient(server.url())
                     .request("PATCH", "/api/sessions/" + c.sessionId.toLatin1(), {{"name", "Ward laptop"}},
                              a.access)
                     .status,
                 200);
        QTRY_VERIFY_WITH_TIMEOUT(!stream.eventsOf("session-renamed").isEmpty(), 2000);
        QCOMPARE(str(stream.eventsOf("session-renamed").front().data, "name"), std::string("Ward laptop"));
        // Signed out there.
        QCOMPARE(ApiClient(server.url()).request("POST", "/api/auth/logout", nullptr, c.access).status, 200);
        QTRY_VERIFY_WITH_TIMEOUT(!stream.eventsOf("session-ended").isEmpty(), 2000);
        QCOMPARE(str(stream.eventsOf("session-ended").front().data, "reason"), std::string("logout"));
        // The password changes here: other sessions end (one per ended session), then the change.
        Login d = login(server.url(), email);
        QTRY_COMPARE_WITH_TIMEOUT(stream.eventsOf("session-created").size(), 2, 2000);
        QCOMPARE(ApiClient(server.url())
                     .request("POST", "/api/auth/password",
                              {{"currentPassword", kPassword.toStdString()},
                               {"newPassword", "another long password 2"}},
                              a.access)
                     .status,
                 200);
        QTRY_VERIFY_WITH_TIMEOUT(!stream.eventsOf("password-changed").isEmpty(), 3000);
        QTRY_COMPARE_WITH_TIMEOUT(stream.eventsOf("session-ended").size(), 2, 2000);
        QCOMPARE(str(stream.eventsOf("session-ended").back().data, "sessionId"), d.sessionId.toStdString());
        QCOMPARE(str(stream.eventsOf("session-ended").back().data, "reason"),
                 std::string("password_changed"));
        QVERIFY(!stream.isClosed()); // its own session stays
        // Ids only grow.
        qint64 last = 0;
        for (const auto& e : stream.events()) {
            QVERIFY(e.id.toLongLong() >= last);
            last = e.id.toLongLong();
        }
    }

    void resumeAfterARestartLosesNothing()
    {
        ServerProcess server;
        QVERIFY(startServer(server));
        const QString email = newUser(server);
        Login a = login(server.url(), email);
        QByteArray lastId;
        {
            SseReader stream;
            QVERIFY(stream.open(server.url(), a.access));
            QTRY_VERIFY(!stream.eventsOf("ready").isEmpty());
            lastId = stream.events().back().id;
            QVERIFY(!lastId.isEmpty());
            server.stop(); // the stream ends with the server
            QTRY_VERIFY(stream.isClosed());
        }
        QVERIFY(server.start());
        // Changes while the client was away.
        Login c = login(server.url(), email);
        QCOMPARE(ApiClient(server.url()).request("POST", "/api/auth/logout", nullptr, c.access).status, 200);
        Login d = login(server.url(), email);

        SseReader resumed;
        QVERIFY(resumed.open(server.url(), a.access, lastId));
        QTRY_COMPARE_WITH_TIMEOUT(resumed.eventsOf("session-created").size(), 2, 3000);
        QTRY_COMPARE_WITH_TIMEOUT(resumed.eventsOf("session-ended").size(), 1, 3000);
        QList<QByteArray> order;
        for (const auto& e : resumed.events())
            order << e.type;
        QCOMPARE(order, (QList<QByteArray>{"ready", "session-created", "session-ended", "session-created"}));
        QCOMPARE(str(resumed.events().at(1).data, "sessionId"), c.sessionId.toStdString());
        QCOMPARE(str(resumed.events().at(3).data, "sessionId"), d.sessionId.toStdString());
        // A malformed Last-Event-ID is refused.
        SseReader bad;
        QVERIFY(bad.open(server.url(), a.access, "12abc"));
        QTRY_COMPARE(bad.status(), 400);
    }

    void streamEndsWithItsToken()
    {
        // The idle timeout (1 s here) does not end a live stream; the token's expiry (4 s) does,
        // with `reauthenticate`, so the client reconnects with a fresh token.
        ServerProcess server;
        QVERIFY(startServer(server,
                            {QStringLiteral("ACCESS_TOKEN_TTL=4"), QStringLiteral("HTTP_IDLE_TIMEOUT=1")}));
        const QString email = newUser(server);
        Login a = login(server.url(), email);
        SseReader stream;
        QVERIFY(stream.open(server.url(), a.access));
        QTRY_VERIFY(!stream.eventsOf("ready").isEmpty());
        QSignalSpy closed(&stream, &SseReader::closed);
        QVERIFY(!closed.wait(2500)); // past the idle timeout: still open
        QTRY_VERIFY_WITH_TIMEOUT(!stream.eventsOf("reauthenticate").isEmpty(), 4000);
        QCOMPARE(str(stream.eventsOf("reauthenticate").front().data, "reason"), std::string("token_expired"));
        QTRY_VERIFY(stream.isClosed());
    }

    void streamsAreBoundedAndAuthenticated()
    {
        ServerProcess server;
        QVERIFY(startServer(server));
        SseReader anonymous;
        QVERIFY(anonymous.open(server.url(), {}));
        QTRY_COMPARE(anonymous.status(), 401);
        QVERIFY(anonymous.body().contains("\"error\""));

        const QString email = newUser(server);
        Login a = login(server.url(), email);
        std::vector<std::unique_ptr<SseReader>> streams;
        for (int i = 0; i < 8; ++i) {
            streams.push_back(std::make_unique<SseReader>());
            QVERIFY(streams.back()->open(server.url(), a.access));
            QTRY_VERIFY(!streams.back()->eventsOf("ready").isEmpty());
        }
        SseReader ninth;
        QVERIFY(ninth.open(server.url(), a.access));
        QTRY_COMPARE(ninth.status(), 429);
        // A stream that closes frees its place.
        streams.front()->close();
        streams.erase(streams.begin());
        SseReader tenth;
        QVERIFY(tenth.open(server.url(), a.access));
        QTRY_COMPARE(tenth.status(), 200);
    }

    void otherInstancesStreamsHearChanges()
    {
        if (!ServerProcess::onPostgres())
            QSKIP("two instances share Redis on the PostgreSQL run");
        ServerProcess one;
        QVERIFY(startServer(one));
        ServerProcess two;
        QVERIFY(two.useBackendUnderTest());
        two.setEnv(QStringLiteral("DATABASE_URL"), one.databaseUrl());
        QVERIFY(two.start());
        const QString email = newUser(one);
        Login a = login(one.url(), email);
        Login b = login(one.url(), email);
        SseReader stream;
        QVERIFY(stream.open(two.url(), b.access)); // on the other instance
        QTRY_VERIFY(!stream.eventsOf("ready").isEmpty());
        QElapsedTimer t;
        t.start();
        QCOMPARE(ApiClient(one.url())
                     .request("DELETE", "/api/sessions/" + b.sessionId.toLatin1(), nullptr, a.access)
                     .status,
                 200);
        QTRY_VERIFY_WITH_TIMEOUT(!stream.eventsOf("revoked").isEmpty(), 2000);
        QVERIFY2(t.elapsed() < 1000, qPrintable(QString::number(t.elapsed())));
    }

private:
    int m_users = 0;
};

QTEST_GUILESS_MAIN(TestEventStream)
#include "TestEventStream.moc"
