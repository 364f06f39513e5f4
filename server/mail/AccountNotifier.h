// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Clock.h"
#include "Result.h"
#include "config/ServerConfig.h"
#include "mail/SmtpSender.h"
#include "metrics/MetricsRegistry.h"

#include <QObject>
#include <QThread>
#include <memory>

namespace prometheus {
class Counter;
}

namespace ehrs::server {

class Database;

/// The account notifier: one thread per server process that follows the audit log (from the
/// `notification_cursor` row, so that no event is handled twice across restarts or instances)
/// and
///  - forgets every remembered device of an account whose password was changed, whose two-step
///    verification was turned off or reset, or whose refresh token was reused;
///  - with SMTP_URL set, puts the account emails (MailComposer) in the `mail_outbox` table and
///    sends the due ones through SMTP (SmtpSender), retrying with exponential back-off
///    (SMTP_RETRY_MIN_SECONDS doubling up to SMTP_RETRY_MAX_SECONDS, SMTP_MAX_ATTEMPTS).
/// Nothing of this runs on a request: a sign-in only writes its audit row, as before, so a slow or
/// absent mail server delays nothing. Several instances share the work safely: the cursor row is
/// locked (FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite) and each mail is
/// claimed by one instance (claimed_by / claimed_until) before it is sent.
class AccountNotifier
{
public:
    AccountNotifier(const ServerConfig& config, const Clock& clock, MetricsRegistry& metrics);
    ~AccountNotifier();
    AccountNotifier(const AccountNotifier&) = delete;
    AccountNotifier& operator=(const AccountNotifier&) = delete;

    void start();
    void stop();

    /// One round in the calling thread (tests): read new events, then send what is due.
    void runOnce(Database& db);

private:
    [[nodiscard]] Result<int> readEvents(Database& db);
    [[nodiscard]] Result<int> sendDue(Database& db);
    qint64 backoffMs(int attempts) const;

    const ServerConfig& m_config;
    const Clock& m_clock;
    std::unique_ptr<SmtpSender> m_sender; // null without SMTP_URL
    QByteArray m_instance;                // claims name it: "<host>-<pid>-<random>"
    quint64 m_claims = 0;
    int m_rounds = 0;
    prometheus::Counter* m_queued = nullptr;
    prometheus::Counter* m_sent = nullptr;
    prometheus::Counter* m_failed = nullptr;  // attempts the server did not take
    prometheus::Counter* m_givenUp = nullptr; // mails dropped after SMTP_MAX_ATTEMPTS
    prometheus::Counter* m_forgotten = nullptr;
    QThread m_thread;
    QObject* m_context = nullptr;   // lives in m_thread
    std::unique_ptr<Database> m_db; // m_thread's connection
};

} // namespace ehrs::server
