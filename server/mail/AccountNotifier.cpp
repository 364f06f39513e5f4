// SPDX-License-Identifier: Apache-2.0
#include "AccountNotifier.h"

#include "Crypto.h"
#include "Logging.h"
#include "auth/DeviceCredentialStore.h"
#include "db/Database.h"
#include "mail/MailComposer.h"
#include "sessions/SessionEvents.h"

#include <QCoreApplication>
#include <QHostInfo>
#include <QTimer>
#include <prometheus/counter.h>
#include <prometheus/family.h>

namespace ehrs::server {
namespace {
// Audit rows younger than this are left for the next round: a PostgreSQL row may commit after a
// row with a higher id, and the cursor must not pass it.
constexpr qint64 kCommitLagMs = 1000;
constexpr int kEventsPerRound = 500;
constexpr int kMailsPerRound = 5;
// A sign-in that was reported as suspicious gets no second, plain "new sign-in" mail.
constexpr qint64 kSuspiciousCoversMs = 15 * 60 * 1000;
constexpr qint64 kKeepSentMs = 30LL * 86400 * 1000;

bool forgetsRememberedDevices(const QString& e)
{
    return e == u"password_changed" || e == u"mfa_disabled" || e == u"mfa_reset" ||
           e == u"refresh_reuse_detected";
}
} // namespace

AccountNotifier::AccountNotifier(const ServerConfig& config, const Clock& clock, MetricsRegistry& metrics)
    : m_config(config), m_clock(clock)
{
    if (config.mailEnabled())
        m_sender =
            std::make_unique<SmtpSender>(SmtpSettings{config.smtpUrl, config.smtpUser, config.smtpPassword,
                                                      config.smtpFrom, config.smtpTimeoutSeconds});
    m_instance = QHostInfo::localHostName().toUtf8().left(40) + '-' +
                 QByteArray::number(QCoreApplication::applicationPid()) + '-' +
                 crypto::base64UrlEncode(crypto::randomBytes(6));
    auto& mails = prometheus::BuildCounter()
                      .Name("ehrs_mail_total")
                      .Help("Account emails by outcome: queued, sent, failed (an attempt the mail server did "
                            "not take; retried), given_up (after SMTP_MAX_ATTEMPTS)")
                      .Register(metrics.registry());
    m_queued = &mails.Add({{"result", "queued"}});
    m_sent = &mails.Add({{"result", "sent"}});
    m_failed = &mails.Add({{"result", "failed"}});
    m_givenUp = &mails.Add({{"result", "given_up"}});
    m_forgotten =
        &prometheus::BuildCounter()
             .Name("ehrs_remembered_devices_forgotten_total")
             .Help("Remembered devices forgotten after a password change, two-step reset or token reuse")
             .Register(metrics.registry())
             .Add({});
}

AccountNotifier::~AccountNotifier()
{
    stop();
}

void AccountNotifier::start()
{
    if (m_context)
        return;
    m_context = new QObject;
    m_context->moveToThread(&m_thread);
    m_thread.setObjectName(QStringLiteral("notifier"));
    m_thread.start(QThread::LowPriority);
    QMetaObject::invokeMethod(m_context, [this] {
        auto* timer = new QTimer(m_context);
        timer->setInterval(std::chrono::seconds(m_config.notifyPollSeconds));
        auto round = [this] {
            if (!m_db) {
                auto db = Database::open(m_config.effectiveDatabaseUrl());
                if (!db) {
                    qCWarning(lcServer) << "notifier: no database:" << db.error().message;
                    return;
                }
                m_db = std::move(*db);
            }
            runOnce(*m_db);
        };
        QObject::connect(timer, &QTimer::timeout, m_context, round);
        timer->start();
        round();
    });
}

void AccountNotifier::stop()
{
    if (!m_context)
        return;
    QMetaObject::invokeMethod(
        m_context,
        [this] {
            m_db.reset(); // in its own thread
            delete m_context;
        },
        Qt::BlockingQueuedConnection);
    m_context = nullptr;
    m_thread.quit();
    m_thread.wait();
}

void AccountNotifier::runOnce(Database& db)
{
    // Read all there is before sending: a burst of events becomes mails in one round.
    for (int i = 0; i < 20; ++i) {
        auto n = readEvents(db);
        if (!n) {
            qCWarning(lcServer) << "notifier: cannot read account events:" << n.error().message;
            break;
        }
        if (*n < kEventsPerRound)
            break;
    }
    if (!m_sender)
        return;
    for (int i = 0; i < 20; ++i) {
        auto n = sendDue(db);
        if (!n) {
            qCWarning(lcServer) << "notifier: cannot send mail:" << n.error().message;
            break;
        }
        if (*n < kMailsPerRound)
            break;
    }
    if (++m_rounds % 500 == 1) {
        const qint64 before = m_clock.nowMs() - kKeepSentMs;
        (void)db.execute(QStringLiteral("DELETE FROM mail_outbox WHERE sent_at < ? OR failed_at < ?"),
                         {before, before});
    }
}

Result<int> AccountNotifier::readEvents(Database& db)
{
    const qint64 now = m_clock.nowMs();
    Transaction tx(db);
    if (auto r = tx.begin(); !r)
        return fail(r.error());
    // One reader at a time across instances; the others skip the round.
    auto cursor = db.exec(
        db.isPostgres() ? QStringLiteral("SELECT last_id FROM notification_cursor WHERE name = 'account' "
                                         "FOR UPDATE SKIP LOCKED")
                        : QStringLiteral("SELECT last_id FROM notification_cursor WHERE name = 'account'"));
    if (!cursor)
        return fail(cursor.error());
    if (!(*cursor)->next()) {
        (*cursor)->finish();
        return 0;
    }
    const qint64 from = (*cursor)->value(0).toLongLong();
    (*cursor)->finish();
    auto rows =
        db.exec(QStringLiteral("SELECT a.id, a.event, a.user_id, a.occurred_at, a.ip_address, a.user_agent, "
                               "a.details, u.email, u.name FROM audit_events a "
                               "LEFT JOIN users u ON u.id = a.user_id WHERE a.id > ? ORDER BY a.id LIMIT ?"),
                {from, kEventsPerRound});
    if (!rows)
        return fail(rows.error());
    struct Pending
    {
        AccountEventRow row;
        QString userId, email, name;
    };
    std::vector<Pending> todo;
    qint64 last = from;
    int seen = 0;
    while ((*rows)->next()) {
        QSqlQuery* q = *rows;
        const qint64 at = q->value(3).toLongLong();
        if (at > now - kCommitLagMs)
            break;
        ++seen;
        last = q->value(0).toLongLong();
        const QString event = q->value(1).toString();
        const QString userId = q->value(2).toString();
        if (userId.isEmpty() || (!MailComposer::mayNotify(event) && !forgetsRememberedDevices(event)))
            continue;
        AccountEventRow row{
            last, event, {}, at, q->value(4).toString(), q->value(5).toString(), nlohmann::json::object()};
        row.details = nlohmann::json::parse(q->value(6).toString().toStdString(), nullptr, false);
        if (!row.details.is_object())
            row.details = nlohmann::json::object();
        todo.push_back(Pending{std::move(row), userId, q->value(7).toString(), q->value(8).toString()});
    }
    (*rows)->finish();
    DeviceCredentialStore devices(db);
    for (const Pending& p : todo) {
        if (forgetsRememberedDevices(p.row.event)) {
            auto n = devices.forgetAll(p.userId, now);
            if (!n)
                return fail(n.error());
            if (*n > 0)
                m_forgotten->Increment(*n);
        }
        if (!m_sender)
            continue;
        if (p.row.event == u"login_success") {
            auto covered =
                db.exec(QStringLiteral("SELECT COUNT(*) FROM audit_events WHERE user_id = ? AND "
                                       "event = 'suspicious_login' AND occurred_at >= ? AND id < ?"),
                        {p.userId, p.row.occurredAt - kSuspiciousCoversMs, p.row.id});
            if (!covered)
                return fail(covered.error());
            const bool told = (*covered)->next() && (*covered)->value(0).toInt() > 0;
            (*covered)->finish();
            if (told)
                continue;
        }
        const auto mail = MailComposer::compose(p.row, p.email, p.name);
        if (!mail)
            continue;
        auto inserted = db.execute(
            QStringLiteral(
                "INSERT INTO mail_outbox (source_event, recipient, subject, body, created_at, "
                "next_attempt_at, attempts) VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT (source_event) "
                "DO NOTHING"),
            {p.row.id, mail->to, mail->subject, mail->body, now, now});
        if (!inserted)
            return fail(inserted.error());
        if (*inserted > 0)
            m_queued->Increment();
    }
    if (last != from) {
        if (auto r = db.execute(
                QStringLiteral("UPDATE notification_cursor SET last_id = ? WHERE name = 'account'"), {last});
            !r)
            return fail(r.error());
    }
    if (auto r = tx.commit(); !r)
        return fail(r.error());
    return seen;
}

qint64 AccountNotifier::backoffMs(int attempts) const
{
    qint64 wait = qint64(m_config.smtpRetryMinSeconds) * 1000;
    for (int i = 1; i < attempts && wait < qint64(m_config.smtpRetryMaxSeconds) * 1000; ++i)
        wait *= 2;
    return qMin(wait, qint64(m_config.smtpRetryMaxSeconds) * 1000);
}

Result<int> AccountNotifier::sendDue(Database& db)
{
    const qint64 now = m_clock.nowMs();
    const QString claim = QString::fromLatin1(m_instance + '-' + QByteArray::number(++m_claims));
    const qint64 lease = now + qint64(kMailsPerRound) * m_config.smtpTimeoutSeconds * 1000 + 60'000;
    // Claim a few due mails; a claim whose sender died expires with its lease.
    const QString pick =
        QStringLiteral(
            "SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ? "
            "AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT %1")
            .arg(kMailsPerRound);
    auto claimed = db.execute(
        QStringLiteral("UPDATE mail_outbox SET claimed_by = ?, claimed_until = ? WHERE id IN (") + pick +
            (db.isPostgres() ? QStringLiteral(" FOR UPDATE SKIP LOCKED)") : QStringLiteral(")")),
        {claim, lease, now, now});
    if (!claimed)
        return fail(claimed.error());
    if (*claimed == 0)
        return 0;
    auto rows = db.exec(QStringLiteral("SELECT id, recipient, subject, body, attempts FROM mail_outbox "
                                       "WHERE claimed_by = ? ORDER BY id"),
                        {claim});
    if (!rows)
        return fail(rows.error());
    struct Claimed
    {
        qint64 id;
        OutgoingMail mail;
        int attempts;
    };
    std::vector<Claimed> mails;
    while ((*rows)->next()) {
        QSqlQuery* q = *rows;
        mails.push_back(
            Claimed{q->value(0).toLongLong(),
                    OutgoingMail{q->value(1).toString(), q->value(2).toString(), q->value(3).toString()},
                    q->value(4).toInt()});
    }
    (*rows)->finish();
    for (const Claimed& c : mails) {
        const auto sent = m_sender->send(c.mail, m_clock.nowMs());
        const qint64 at = m_clock.nowMs();
        const int attempts = c.attempts + 1;
        Result<int> r;
        if (sent) {
            m_sent->Increment();
            r = db.execute(
                QStringLiteral("UPDATE mail_outbox SET sent_at = ?, attempts = ?, claimed_by = NULL, "
                               "claimed_until = NULL, last_error = NULL WHERE id = ? AND claimed_by = ?"),
                {at, attempts, c.id, claim});
        } else if (attempts >= m_config.smtpMaxAttempts) {
            m_failed->Increment();
            m_givenUp->Increment();
            qCWarning(lcServer) << "notifier: giving up mail" << c.id << "after" << attempts
                                << "attempts:" << sent.error().message;
            r = db.execute(
                QStringLiteral("UPDATE mail_outbox SET failed_at = ?, attempts = ?, claimed_by = NULL, "
                               "claimed_until = NULL, last_error = ? WHERE id = ? AND claimed_by = ?"),
                {at, attempts, sent.error().message.left(500), c.id, claim});
        } else {
            m_failed->Increment();
            qCInfo(lcServer) << "notifier: mail" << c.id << "not sent (attempt" << attempts
                             << "), retrying:" << sent.error().message;
            r = db.execute(
                QStringLiteral("UPDATE mail_outbox SET next_attempt_at = ?, attempts = ?, claimed_by = NULL, "
                               "claimed_until = NULL, last_error = ? WHERE id = ? AND claimed_by = ?"),
                {at + backoffMs(attempts), attempts, sent.error().message.left(500), c.id, claim});
        }
        if (!r)
            return fail(r.error());
    }
    return int(mails.size());
}

} // namespace ehrs::server
