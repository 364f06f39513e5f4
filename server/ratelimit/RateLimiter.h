// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"
#include "cache/KeyValueStore.h"

#include <QByteArray>
#include <QString>
#include <functional>
#include <optional>

namespace ehrs {
class Clock;
}

namespace ehrs::server {

/// "At most `limit` events per `windowSeconds`", parsed from settings like "10/900".
struct RateLimitRule
{
    int limit = 0; // 0: unlimited
    int windowSeconds = 60;

    [[nodiscard]] static Result<RateLimitRule> parse(const QString& text);
};

/// Sliding-window rate limiting (the two-window approximation: the current fixed window plus
/// the previous one weighted by how much of it still overlaps). Counts live in Redis, shared by
/// every instance; without Redis, or while it is down, in a process-local store (still limited,
/// per instance). Keys carry no secrets: accounts appear only as a SHA-256 of the email.
class RateLimiter
{
public:
    RateLimiter(KeyValueStore* shared, KeyValueStore& local, const Clock& clock)
        : m_shared(shared), m_local(local), m_clock(clock)
    {
    }

    /// Counts one event for `scope`/`subject` and says whether it is over the limit: then an
    /// ErrorCode::RateLimited error whose retryAfterSeconds tells when to try again.
    [[nodiscard]] Result<void> hit(const QByteArray& scope, const QByteArray& subject,
                                   const RateLimitRule& rule);
    /// hit() for the request path: the verdict goes to `done` once the shared count is in (from
    /// the event loop with Redis), so the thread keeps serving meanwhile.
    void hitAsync(const QByteArray& scope, const QByteArray& subject, const RateLimitRule& rule,
                  std::function<void(Result<void>)> done);
    /// Checks without counting (e.g. failed logins are counted only when they fail).
    [[nodiscard]] Result<void> check(const QByteArray& scope, const QByteArray& subject,
                                     const RateLimitRule& rule);

    /// Events still allowed for `scope`/`subject` in the current window (the sliding estimate,
    /// rounded down, never below 0); nullopt when `rule` is unlimited or no count could be read.
    [[nodiscard]] std::optional<int> remaining(const QByteArray& scope, const QByteArray& subject,
                                               const RateLimitRule& rule);

    static QByteArray accountSubject(const QString& email);
    /// Subject of per-address limits: an IPv4 address as it is, an IPv6 address by its /64
    /// ("2001:db8:1:2::/64"), IPv4-mapped IPv6 as IPv4.
    static QByteArray addressSubject(const QString& address);

    /// Seconds until one more event fits under `limit`, if none happens meanwhile: what a 429's
    /// Retry-After says, so that trying again then works (and not much earlier would).
    /// `offsetMs`: how far into the current window we are.
    static int retryAfterSeconds(qint64 current, qint64 previous, int limit, qint64 offsetMs,
                                 qint64 windowMs);

private:
    struct Window
    {
        QByteArray current;
        QByteArray previous;
        int ttl = 0;
        qint64 offsetMs = 0; // how far into the current window we are
        qint64 windowMs = 0;
    };
    Window windowOf(const QByteArray& scope, const QByteArray& subject, const RateLimitRule& rule) const;
    static Result<void> verdict(QPair<qint64, qint64> counts, const Window& w, const RateLimitRule& rule,
                                bool count);
    Result<void> evaluate(const QByteArray& scope, const QByteArray& subject, const RateLimitRule& rule,
                          bool count);

    KeyValueStore* m_shared;
    KeyValueStore& m_local;
    const Clock& m_clock;
};

} // namespace ehrs::server
