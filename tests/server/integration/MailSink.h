// SPDX-License-Identifier: Apache-2.0
#pragma once

// A real SMTP server on loopback for the account-email tests: Debian's python3-aiosmtpd, run by a
// small script that writes each message it receives to a directory. Start and stop it at will
// (the mail server being down is part of what the tests show).

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

namespace ehrs::test {

class MailSink
{
public:
    MailSink() : m_port(freePort()) {}
    ~MailSink() { stop(); }

    /// Debian's python3 (where python3-aiosmtpd installs), also when another python3 comes first
    /// in PATH.
    static QString python()
    {
        return QFile::exists(QStringLiteral("/usr/bin/python3")) ? QStringLiteral("/usr/bin/python3")
                                                                 : QStringLiteral("python3");
    }
    /// True when python3 has aiosmtpd (Debian python3-aiosmtpd).
    static bool available()
    {
        QProcess p;
        p.start(python(), {QStringLiteral("-c"), QStringLiteral("import aiosmtpd")});
        return p.waitForFinished(10000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    }
    static quint16 freePort()
    {
        QTcpServer s;
        s.listen(QHostAddress::LocalHost, 0);
        return s.serverPort();
    }

    quint16 port() const { return m_port; }
    QString url() const { return QStringLiteral("smtp://127.0.0.1:%1").arg(m_port); }

    bool start()
    {
        static const char script[] = R"(
import asyncio, os, sys, time
from aiosmtpd.controller import Controller
port, folder = int(sys.argv[1]), sys.argv[2]
class Sink:
    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(folder, "%d.eml" % time.time_ns())
        with open(name + ".tmp", "wb") as f:
            f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content)
        os.rename(name + ".tmp", name)
        return "250 Message accepted"
c = Controller(Sink(), hostname="127.0.0.1", port=port)
c.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    c.stop()
)";
        m_process = std::make_unique<QProcess>();
        m_process->setProcessChannelMode(QProcess::MergedChannels);
        m_process->start(python(), {QStringLiteral("-c"), QString::fromLatin1(script),
                                    QString::number(m_port), m_dir.path()});
        if (!m_process->waitForStarted(10000))
            return false;
        while (!m_output.contains("ready")) {
            if (!m_process->waitForReadyRead(10000)) {
                qWarning("smtp sink did not start: %s", m_process->readAll().constData());
                return false;
            }
            m_output += m_process->readAll();
        }
        return true;
    }
    void stop()
    {
        if (!m_process)
            return;
        m_process->terminate();
        if (!m_process->waitForFinished(5000)) {
            m_process->kill();
            m_process->waitForFinished(5000);
        }
        m_process.reset();
    }
    /// Every message received so far, oldest first.
    QList<QByteArray> messages() const
    {
        QList<QByteArray> out;
        const QDir dir(m_dir.path());
        for (const QString& name : dir.entryList({QStringLiteral("*.eml")}, QDir::Files, QDir::Name)) {
            QFile f(dir.filePath(name));
            if (f.open(QIODevice::ReadOnly))
                out << f.readAll();
        }
        return out;
    }
    /// The messages whose subject line contains `subject`.
    QList<QByteArray> withSubject(const QByteArray& subject) const
    {
        QList<QByteArray> out;
        for (const QByteArray& m : messages()) {
            if (m.contains("Subject: " + subject))
                out << m;
        }
        return out;
    }

private:
    quint16 m_port;
    QTemporaryDir m_dir;
    std::unique_ptr<QProcess> m_process;
    QByteArray m_output;
};

} // namespace ehrs::test

/// In initTestCase(): aiosmtpd is a test dependency (scripts/install-deps.sh test).
#define EHRS_REQUIRE_SMTP_SINK()                                                                             \
    do {                                                                                                     \
        if (!ehrs::test::MailSink::available()) {                                                            \
            if (ehrs::test::servicesRequired())                                                              \
                QFAIL("python3-aiosmtpd missing; run scripts/install-deps.sh test");                         \
            QSKIP("no python3-aiosmtpd");                                                                    \
        }                                                                                                    \
    } while (false)
