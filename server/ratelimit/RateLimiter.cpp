// SPDX-License-Identifier: Apache-2.0
#include "RateLimiter.h"

#include "Clock.h"
#include "Crypto.h"

#include <QHostAddress>
#include <algorithm>
#include <cmath>

namespace ehrs::server {

Result<RateLimitRule> RateLimitRule::parse(const QString& text)
{
    const QStringList parts = text.trimmed().split(u'/');
    bool okLimit = false, okWindow = false;
    RateLimitRule rule;
    if (parts.size() == 2) {
        rule.limit = parts[0].trimmed().toInt(&okLimit);
        rule.windowSeconds = parts[1].trimmed().toInt(&okWindow);
    }
    if (!okLimit || !okWindow || rule.limit < 0 || rule.windowSeconds < 1 || rule.windowSeconds > 86400)
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("'%1' is not a rate limit; use COUNT/SECONDS, e.g. 10/900 (0/1 disables)")
                        .arg(text));
    return rule;
}

QByteArray RateLimiter::accountSubject(const QString& email)
{
    return crypto::sha256Hex(email.trimmed().toLower().toUtf8()).left(32);
}

QByteArray RateLimiter::addressSubject(const QString& address)
{
    QHostAddress a;
    if (!a.setAddress(address))
        return address.toLatin1().left(64);
    bool isV4 = false;
    const quint32 v4 = a.toIPv4Address(&isV4);
    if (isV4)
        return QHostAddress(v4).toString().toLatin1();
    // One end site usually gets a whole /64 (RFC 6177): counting per address would hand an
    // attacker 2^64 fresh budgets.
    Q_IPV6ADDR bytes = a.toIPv6Address();
    for (int i = 8; i < 16; ++i)
        bytes[i] = 0;
    return QHostAddress(bytes).toString().toLatin1() + "/64";
}

Result<void> RateLimiter::hit(const QByteArray& scope, const QByteArray& subject, const RateLimitRule& rule)
{
    return evaluate(scope, subject, rule, true);
}

Result<void> RateLimiter::check(const QByteArray& scope, const QByteArray& subject, const RateLimitRule& rule)
{
    return evaluate(scope, subject, rule, false);
}

RateLimiter::Window RateLimiter::windowOf(const QByteArray& scope, const QByteArray& subject,
                                          const RateLimitRule& rule) const
{
    const qint64 nowMs = m_clock.nowMs();
    const qint64 windowMs = qint64(rule.windowSeconds) * 1000;
    const qint64 index = nowMs / windowMs;
    const QByteArray base = "ratelimit:" + scope + ':' + subject + ':';
    return Window{base + QByteArray::number(index), base + QByteArray::number(index - 1),
                  rule.windowSeconds * 2 + 1, nowMs - index * windowMs, windowMs};
}

Result<void> RateLimiter::verdict(QPair<qint64, qint64> counts, const Window& w, const RateLimitRule& rule,
                                  bool count)
{
    const double elapsed = double(w.offsetMs) / double(w.windowMs);
    const double weighted = double(counts.first) + double(counts.second) * (1.0 - elapsed);
    // When checking, the event about to happen counts too.
    const double total = count ? weighted : weighted + 1.0;
    if (total <= double(rule.limit))
        return {};
    const int retryAfter = retryAfterSeconds(counts.first, counts.second, rule.limit, w.offsetMs, w.windowMs);
    return fail(ErrorCode::RateLimited,
                QStringLiteral("Too many attempts; try again in %1 seconds").arg(retryAfter), retryAfter);
}

Result<void> RateLimiter::evaluate(const QByteArray& scope, const QByteArray& subject,
                                   const RateLimitRule& rule, bool count)
{
    if (rule.limit <= 0)
        return {};
    const Window w = windowOf(scope, subject, rule);
    QPair<qint64, qint64> counts;
    auto fromStore = [&](KeyValueStore& store) -> bool {
        if (count) {
            auto r = store.incrementWindow(w.current, w.previous, w.ttl);
            if (!r)
                return false;
            counts = *r;
            return true;
        }
        auto r = store.get({w.current, w.previous});
        if (!r)
            return false;
        counts = qMakePair((*r)[0] ? (*r)[0]->toLongLong() : 0, (*r)[1] ? (*r)[1]->toLongLong() : 0);
        return true;
    };
    if (!m_shared || !fromStore(*m_shared))
        (void)fromStore(m_local); // Redis down: still limited, per instance
    return verdict(counts, w, rule, count);
}

std::optional<int> RateLimiter::remaining(const QByteArray& scope, const QByteArray& subject,
                                          const RateLimitRule& rule)
{
    if (rule.limit <= 0)
        return std::nullopt;
    const Window w = windowOf(scope, subject, rule);
    QPair<qint64, qint64> counts{0, 0};
    auto read = [&w, &counts](KeyValueStore& store) {
        auto r = store.get({w.current, w.previous});
        if (!r)
            return false;
        counts = qMakePair((*r)[0] ? (*r)[0]->toLongLong() : 0, (*r)[1] ? (*r)[1]->toLongLong() : 0);
        return true;
    };
    if (!(m_shared && read(*m_shared)) && !read(m_local))
        return std::nullopt;
    // The same estimate verdict() judges by: what is left before the next event is refused.
    const double elapsed = double(w.offsetMs) / double(w.windowMs);
    const double weighted = double(counts.first) + double(counts.second) * (1.0 - elapsed);
    return std::max(0, int(std::floor(double(rule.limit) - weighted)));
}

void RateLimiter::hitAsync(const QByteArray& scope, const QByteArray& subject, const RateLimitRule& rule,
                           std::function<void(Result<void>)> done)
{
    if (rule.limit <= 0)
        return done({});
    const Window w = windowOf(scope, subject, rule);
    auto fromLocal = [this, w, rule](std::function<void(Result<void>)>& answer) {
        auto counts = m_local.incrementWindow(w.current, w.previous, w.ttl); // Redis down: per instance
        answer(verdict(counts ? *counts : QPair<qint64, qint64>{}, w, rule, true));
    };
    if (!m_shared)
        return fromLocal(done);
    m_shared->incrementWindowAsync(
        w.current, w.previous, w.ttl,
        [w, rule, fromLocal, done = std::move(done)](Result<QPair<qint64, qint64>> counts) mutable {
            if (!counts)
                return fromLocal(done);
            done(verdict(*counts, w, rule, true));
        });
}

int RateLimiter::retryAfterSeconds(qint64 current, qint64 previous, int limit, qint64 offsetMs,
                                   qint64 windowMs)
{
    // The next attempt passes when the estimate, without new events, leaves room for it:
    // estimate(t) + 1 <= limit. While still in this window the estimate is
    // current + previous * (1 - (offset + t) / window); in the next one it is
    // current * (1 - s / window), s being the time into that window. Both only fall.
    const double budget = double(limit) - 1.0;
    double waitMs = 0;
    if (double(current) <= budget) {
        if (previous > 0) {
            const double keep = (budget - double(current)) / double(previous); // share of `previous` allowed
            waitMs = std::max(0.0, double(windowMs) * (1.0 - keep) - double(offsetMs));
        }
    } else {
        const double rest = double(windowMs - offsetMs);
        waitMs =
            rest + (current > 0 ? double(windowMs) * (1.0 - std::max(budget, 0.0) / double(current)) : 0.0);
    }
    return int(std::clamp(std::ceil(waitMs / 1000.0), 1.0, 2.0 * double(windowMs) / 1000.0 + 1.0));
}

} // namespace ehrs::server
