// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QString>

namespace ehrs::server {

/// One email to one recipient: plain UTF-8 text.
struct OutgoingMail
{
    QString to;
    QString subject;
    QString body;
};

/// Where and how account emails are delivered (SMTP_URL, SMTP_USER, SMTP_PASSWORD, SMTP_FROM).
struct SmtpSettings
{
    QString url; // smtp://host:port or smtps://host:port, maybe with user:password
    QString user;
    QByteArray password;
    QString from;
    int timeoutSeconds = 30;
};

/// Delivers mail through libcurl's SMTP client: smtps:// is TLS from the start, smtp:// upgrades
/// with STARTTLS when the server offers it; certificates are verified. Blocking: one call is one
/// SMTP conversation, bounded by the timeout; for the notifier's own thread, never the request path.
class SmtpSender
{
public:
    explicit SmtpSender(SmtpSettings settings);

    [[nodiscard]] Result<void> send(const OutgoingMail& mail, qint64 nowMs) const;

    /// The RFC 5322 message (CRLF line ends, RFC 2047 subject when it is not ASCII).
    static QByteArray message(const QString& from, const OutgoingMail& mail, qint64 nowMs,
                              const QByteArray& messageId);

private:
    SmtpSettings m_settings;
};

} // namespace ehrs::server
