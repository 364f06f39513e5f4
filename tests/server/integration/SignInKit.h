// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the issue-18 tests (account mail, remembered devices, suspicious sign-ins) share: a real
// server process pointed at a loopback SMTP server, sign-ins from a chosen address (through
// TRUSTED_PROXIES), two-step enrolment, and reading the server's own database.

#include "ApiClient.h"
#include "MailSink.h"
#include "ServerProcess.h"
#include "db/Database.h"
#include "mfa/Totp.h"

#include <QDateTime>
#include <QTcpSocket>

namespace ehrs::test {

inline const QByteArray kKitPassword = "a long enough password";

/// The settings that make the account notifier quick enough to watch.
inline void useMail(ServerProcess& server, const MailSink& sink)
{
    server.setEnv(QStringLiteral("SMTP_URL"), sink.url());
    server.setEnv(QStringLiteral("SMTP_FROM"), QStringLiteral("ehr-sessions@hospital.example"));
    server.setEnv(QStringLiteral("NOTIFY_POLL_SECONDS"), QStringLiteral("1"));
    server.setEnv(QStringLiteral("SMTP_RETRY_MIN_SECONDS"), QStringLiteral("1"));
    server.setEnv(QStringLiteral("SMTP_RETRY_MAX_SECONDS"), QStringLiteral("2"));
    server.setEnv(QStringLiteral("SMTP_TIMEOUT_SECONDS"), QStringLiteral("5"));
}

/// One number from the server's database (-1 on error).
inline qint64 scalar(const ServerProcess& server, const QString& sql, const QVariantList& params = {})
{
    auto db = ehrs::server::Database::open(server.databaseUrl());
    if (!db)
        return -1;
    auto q = (*db)->exec(sql, params);
    if (!q || !(*q)->next())
        return -1;
    const qint64 n = (*q)->value(0).toLongLong();
    (*q)->finish();
    return n;
}

/// Text from the server's database (empty on error).
inline QByteArray text(const ServerProcess& server, const QString& sql, const QVariantList& params = {})
{
    auto db = ehrs::server::Database::open(server.databaseUrl());
    if (!db)
        return {};
    auto q = (*db)->exec(sql, params);
    if (!q || !(*q)->next())
        return {};
    const QByteArray s = (*q)->value(0).toString().toUtf8();
    (*q)->finish();
    return s;
}

/// The notifier has read every audit row written so far.
inline bool notifierCaughtUp(const ServerProcess& server)
{
    const qint64 last = scalar(server, QStringLiteral("SELECT COALESCE(MAX(id), 0) FROM audit_events"));
    return last >= 0 &&
           scalar(server, QStringLiteral("SELECT last_id FROM notification_cursor WHERE name = 'account'")) >=
               last;
}

/// Every queued mail was sent.
inline bool outboxEmpty(const ServerProcess& server)
{
    return scalar(server,
                  QStringLiteral(
                      "SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL")) == 0;
}

inline QList<QPair<QByteArray, QByteArray>> from(const QByteArray& address)
{
    if (address.isEmpty())
        return {};
    return {{"X-Forwarded-For", address}};
}

inline ApiResponse signIn(const ServerProcess& server, const QString& email, const QByteArray& address = {},
                          const std::string& deviceCredential = {})
{
    nlohmann::json body{{"email", email.toStdString()}, {"password", kKitPassword.toStdString()}};
    if (!deviceCredential.empty())
        body["deviceCredential"] = deviceCredential;
    return ApiClient(server.url()).request("POST", "/api/auth/login", body, {}, from(address));
}

inline ApiResponse secondStep(const ServerProcess& server, const ApiResponse& challenge, const QString& code,
                              const std::string& deviceCredential, bool remember,
                              const QByteArray& address = {})
{
    nlohmann::json body{{"mfaToken", challenge.str("mfaToken")}, {"code", code.toStdString()}};
    if (!deviceCredential.empty())
        body["deviceCredential"] = deviceCredential;
    if (remember)
        body["rememberDevice"] = true;
    return ApiClient(server.url()).request("POST", "/api/auth/verify-mfa", body, {}, from(address));
}

/// Turns two-step verification on with `access`; gives the backup codes (one per later sign-in:
/// a TOTP code can be used once per 30 s).
inline QStringList enableMfa(const ServerProcess& server, const QByteArray& access,
                             const QByteArray& address = {})
{
    ApiClient api(server.url());
    auto setup = api.request("POST", "/api/auth/mfa/setup", {{"password", kKitPassword.toStdString()}},
                             access, from(address));
    const auto secret = ehrs::server::Totp::base32Decode(QString::fromStdString(setup.str("secret")));
    if (!secret)
        return {};
    const QString code = ehrs::server::Totp::code(*secret, QDateTime::currentSecsSinceEpoch());
    auto enabled =
        api.request("POST", "/api/auth/mfa/enable", {{"code", code.toStdString()}}, access, from(address));
    QStringList codes;
    if (enabled.json.contains("backupCodes")) {
        for (const auto& c : enabled.json["backupCodes"])
            codes << QString::fromStdString(c.get<std::string>());
    }
    return codes;
}

/// The raw text of GET /api/sessions/events as it arrives.
class EventStreamText
{
public:
    bool open(const QUrl& url, const QByteArray& access)
    {
        m_socket.connectToHost(url.host(), quint16(url.port()));
        if (!m_socket.waitForConnected(5000))
            return false;
        m_socket.write("GET /api/sessions/events HTTP/1.1\r\nHost: " + url.host().toLatin1() +
                       "\r\nAccept: text/event-stream\r\nAuthorization: Bearer " + access + "\r\n\r\n");
        return m_socket.waitForBytesWritten(5000);
    }
    /// Everything received so far (reads what is waiting).
    QByteArray received()
    {
        m_socket.waitForReadyRead(100);
        m_text += m_socket.readAll();
        return m_text;
    }

private:
    QTcpSocket m_socket;
    QByteArray m_text;
};

} // namespace ehrs::test
