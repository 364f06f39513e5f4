// SPDX-License-Identifier: Apache-2.0
// The real server binary writing to journald (LOG_FORMAT=journal, sd_journal_sendv): the entries
// of a sign-in carry REQUEST_ID, and the audit line EVENT, USER_ID and SESSION_ID, and no
// secret. journald's native socket is played by this test (it binds
// /run/systemd/journal/socket when no journald runs there, which needs root); with a journald
// already listening, or without root, the test is skipped, visibly. (The fallback to stderr
// without a journal is in TestLogHandler.)
#include "ApiClient.h"
#include "ServerProcess.h"

#include <QDir>
#include <QFile>
#include <QMap>
#include <QTest>
#include <atomic>
#include <cstring>
#include <mutex>
#include <poll.h>
#include <thread>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace ehrs::test;

namespace {
const char kSocketDir[] = "/run/systemd/journal";
const char kSocketPath[] = "/run/systemd/journal/socket";
const QByteArray kPassword = "a long enough password";

using Entry = QMap<QByteArray, QByteArray>;

// journald's native protocol: "NAME=value\n", or "NAME\n" + 64-bit little-endian length +
// value + "\n" for values with newlines.
Entry parseEntry(const QByteArray& d)
{
    Entry e;
    qsizetype pos = 0;
    while (pos < d.size()) {
        const qsizetype nl = d.indexOf('\n', pos);
        const qsizetype eq = d.indexOf('=', pos);
        if (nl < 0)
            break;
        if (eq >= 0 && eq < nl) {
            e.insert(d.mid(pos, eq - pos), d.mid(eq + 1, nl - eq - 1));
            pos = nl + 1;
        } else {
            const QByteArray name = d.mid(pos, nl - pos);
            quint64 length = 0;
            if (nl + 9 > d.size())
                break;
            std::memcpy(&length, d.constData() + nl + 1, 8);
            e.insert(name, d.mid(nl + 9, qsizetype(length)));
            pos = nl + 9 + qsizetype(length) + 1;
        }
    }
    return e;
}
} // namespace

class TestJournalLogging : public QObject
{
    Q_OBJECT

    int m_fd = -1;
    bool m_createdDir = false;
    QList<Entry> m_entries;

    // The journal socket is read on a thread of its own from before the server starts: the
    // kernel queues only net.unix.max_dgram_qlen datagrams (10 on Debian), and a server whose
    // start-up lines fill the queue blocks in sendmsg() while ServerProcess::start() waits for it
    // without an event loop.
    std::thread m_reader;
    std::atomic<bool> m_stop{false};
    std::mutex m_lock;
    QList<QByteArray> m_raw;

    void startReader()
    {
        m_reader = std::thread([this] {
            std::vector<char> buf(65536);
            while (!m_stop) {
                pollfd p{m_fd, POLLIN, 0};
                if (poll(&p, 1, 50) <= 0)
                    continue;
                const ssize_t n = recv(m_fd, buf.data(), buf.size(), MSG_DONTWAIT);
                if (n > 0) {
                    std::lock_guard guard(m_lock);
                    m_raw += QByteArray(buf.data(), qsizetype(n));
                }
            }
        });
    }

    void drain()
    {
        std::lock_guard guard(m_lock);
        for (const QByteArray& datagram : std::as_const(m_raw))
            m_entries += parseEntry(datagram);
        m_raw.clear();
    }

    // Entries of the server process whose EVENT is `event`.
    QList<Entry> withEvent(const QByteArray& event) const
    {
        QList<Entry> out;
        for (const Entry& e : m_entries) {
            if (e.value("EVENT") == event)
                out += e;
        }
        return out;
    }

private Q_SLOTS:
    void entriesCarryStructuredFields()
    {
        if (QFile::exists(QString::fromLatin1(kSocketPath)))
            QSKIP("journald listens here; this test plays journald itself on a machine without one");
        if (geteuid() != 0)
            QSKIP("binding journald's socket path needs root");
        m_createdDir = !QDir(QString::fromLatin1(kSocketDir)).exists();
        QVERIFY(QDir().mkpath(QString::fromLatin1(kSocketDir)));
        m_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        QVERIFY(m_fd >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, kSocketPath, sizeof addr.sun_path - 1);
        QVERIFY2(bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, std::strerror(errno));
        int size = 8 * 1024 * 1024;
        setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);

        startReader();
        ServerProcess server;
        server.setEnv(QStringLiteral("LOG_FORMAT"), QStringLiteral("journal"));
        QVERIFY(server.start());
        QVERIFY(server.addUser(QStringLiteral("journal@example.org"), QString::fromLatin1(kPassword)));
        auto r = ApiClient(server.url())
                     .request("POST", "/api/auth/login",
                              {{"email", "journal@example.org"}, {"password", kPassword.toStdString()}});
        QCOMPARE(r.status, 200);
        const QByteArray userId = QByteArray::fromStdString(r.json["user"]["id"].get<std::string>());
        const QByteArray sessionId = QByteArray::fromStdString(r.str("sessionId"));
        const QByteArray requestId = r.header("x-request-id");
        QVERIFY(!requestId.isEmpty());

        QTRY_VERIFY((drain(), !withEvent("login_success").isEmpty()));
        server.stop();
        drain();

        const Entry audit = withEvent("login_success").first();
        QCOMPARE(audit.value("USER_ID"), userId);
        QCOMPARE(audit.value("SESSION_ID"), sessionId);
        QCOMPARE(audit.value("REQUEST_ID"), requestId);
        QCOMPARE(audit.value("PRIORITY"), QByteArray("6"));
        QCOMPARE(audit.value("SYSLOG_IDENTIFIER"), QByteArray("ehr-sessions-server"));
        QCOMPARE(audit.value("EHRS_CATEGORY"), QByteArray("ehrs.server.audit"));
        QVERIFY(audit.value("MESSAGE").contains("login_success"));
        // Nothing secret went to the journal, and nothing went to stderr instead.
        for (const Entry& e : std::as_const(m_entries)) {
            for (const QByteArray& value : e) {
                QVERIFY(!value.contains(QByteArray::fromStdString(r.str("accessToken"))));
                QVERIFY(!value.contains(QByteArray::fromStdString(r.str("refreshToken"))));
                QVERIFY(!value.contains(kPassword));
            }
        }
        QVERIFY2(!server.log().contains("audit login_success"), server.log().constData());
    }

    void cleanup()
    {
        m_stop = true;
        if (m_reader.joinable())
            m_reader.join();
        if (m_fd >= 0) {
            ::close(m_fd);
            m_fd = -1;
            QFile::remove(QString::fromLatin1(kSocketPath));
            if (m_createdDir)
                QDir().rmdir(QString::fromLatin1(kSocketDir));
        }
    }
};

QTEST_GUILESS_MAIN(TestJournalLogging)
#include "TestJournalLogging.moc"
