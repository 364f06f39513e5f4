// SPDX-License-Identifier: Apache-2.0
#include "WorkstationService.h"

#include "sessions/TokenService.h"

#include <QCryptographicHash>
#include <QRegularExpression>
#include <QUuid>
#include <nlohmann/json.hpp>

namespace ehrs::server {
namespace {
QByteArray unusableHash()
{
    // The access hash of a parked session: the hash of nothing anyone holds.
    return QCryptographicHash::hash(QUuid::createUuid().toRfc4122() + QUuid::createUuid().toRfc4122(),
                                    QCryptographicHash::Sha256)
        .toHex();
}

int policyValue(const SessionRecord& s, const char* key, int fallback)
{
    const auto j = nlohmann::json::parse(s.policy.toStdString(), nullptr, false);
    if (j.is_object()) {
        if (const auto it = j.find(key); it != j.end() && it->is_number_integer() && it->get<int>() > 0)
            return it->get<int>();
    }
    return fallback;
}
} // namespace

Result<void> WorkstationService::checkPin(const QString& pin)
{
    static const QRegularExpression digits(QStringLiteral("^[0-9]{4,8}$"));
    if (!digits.match(pin).hasMatch())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("The PIN must be 4 to 8 digits"));
    bool same = true, up = true, down = true, pairs = pin.size() % 2 == 0;
    for (qsizetype i = 1; i < pin.size(); ++i) {
        const int step = pin.at(i).unicode() - pin.at(i - 1).unicode();
        same = same && step == 0;
        up = up && (step == 1 || step == -9);
        down = down && (step == -1 || step == 9);
        pairs = pairs && pin.at(i) == pin.at(i % 2);
    }
    if (same || up || down || (pairs && pin.size() > 2))
        return fail(
            ErrorCode::InvalidRequest,
            QStringLiteral("This PIN is too easy to guess (repeated digits or a sequence); choose another"));
    return {};
}

bool WorkstationService::isValidWorkstationId(const QString& id)
{
    static const QRegularExpression re(QStringLiteral("^[A-Za-z0-9._:-]{8,64}$"));
    return re.match(id).hasMatch();
}

int WorkstationService::shiftWindowOf(const SessionRecord& s)
{
    return policyValue(s, "shiftWindowSeconds", kDefaultShiftWindowSeconds);
}

int WorkstationService::maxFailuresOf(const SessionRecord& s)
{
    return policyValue(s, "pinMaxFailures", kDefaultPinMaxFailures);
}

AuditActor WorkstationService::actorOf(const SessionRecord& s, const RequestInfo& info) const
{
    return AuditActor{s.userId, s.id, info.ipAddress, info.userAgent};
}

std::optional<WorkstationService::Refusal> WorkstationService::fullSignIn(const QString& message) const
{
    return Refusal{Error{ErrorCode::Forbidden, message}, kFullSignInRequired};
}

Result<std::optional<WorkstationService::PinRow>> WorkstationService::pinOf(const QString& sessionId)
{
    auto q = d.db.exec(QStringLiteral("SELECT workstation_id, pin_hash, valid_until, failures FROM "
                                      "workstation_pins WHERE session_id = ?"),
                       {sessionId});
    if (!q)
        return fail(q.error());
    std::optional<PinRow> out;
    if ((*q)->next())
        out = PinRow{(*q)->value(0).toString(), (*q)->value(1).toString().toLatin1(),
                     (*q)->value(2).toLongLong(), (*q)->value(3).toInt()};
    (*q)->finish();
    return out;
}

Result<void> WorkstationService::clearPin(const QString& sessionId)
{
    auto r = d.db.execute(QStringLiteral("DELETE FROM workstation_pins WHERE session_id = ?"), {sessionId});
    if (!r)
        return fail(r.error());
    return {};
}

Result<qint64> WorkstationService::setPin(const AuthContext& who, const QString& pin,
                                          const QString& workstationId, const RequestInfo& info)
{
    if (!isValidWorkstationId(workstationId))
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral(
                        "workstationId must be 8 to 64 characters of letters, digits, '.', '_', ':', '-'"));
    if (auto ok = checkPin(pin); !ok)
        return fail(ok.error());
    auto found = d.sessions.find(who.sessionId);
    if (!found)
        return fail(found.error());
    if (!*found || (*found)->revokedAt || (*found)->userId != who.userId)
        return fail(ErrorCode::SessionRevoked, QStringLiteral("This session has ended"));
    const SessionRecord& s = **found;
    if (s.deviceClass != QStringLiteral("shared_workstation"))
        return fail(ErrorCode::Conflict,
                    QStringLiteral("A PIN can only be set on a shared workstation session (deviceClass "
                                   "\"shared_workstation\" at sign-in)"));
    auto hash = d.hasher.hash(pin);
    if (!hash)
        return fail(hash.error());
    const qint64 now = d.clock.nowMs();
    // The shift starts with the full sign-in: setting the PIN again does not extend it.
    const qint64 validUntil = qMin(s.createdAt + qint64(shiftWindowOf(s)) * 1000, s.expiresAt);
    if (validUntil <= now)
        return fail(ErrorCode::Forbidden,
                    QStringLiteral("This session's shift window is over; sign in again with your password"));
    Transaction tx(d.db);
    if (auto b = tx.begin(); !b)
        return fail(b.error());
    auto up = d.db.execute(
        QStringLiteral(
            "INSERT INTO workstation_pins (session_id, user_id, workstation_id, pin_hash, set_at, "
            "valid_until, failures) VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT (session_id) DO UPDATE SET "
            "workstation_id = excluded.workstation_id, pin_hash = excluded.pin_hash, "
            "set_at = excluded.set_at, valid_until = excluded.valid_until, failures = 0"),
        {s.id, s.userId, workstationId, QString::fromLatin1(*hash), now, validUntil});
    if (!up)
        return fail(up.error());
    auto bound = d.db.execute(QStringLiteral("UPDATE user_sessions SET workstation_id = ? WHERE id = ?"),
                              {workstationId, s.id});
    if (!bound)
        return fail(bound.error());
    if (auto c = tx.commit(); !c)
        return fail(c.error());
    d.audit.record(QStringLiteral("workstation_pin_set"), actorOf(s, info),
                   {{"workstationId", workstationId.toStdString()}, {"validUntil", validUntil}}, now);
    return validUntil;
}

Result<void> WorkstationService::park(const AuthContext& who, const RequestInfo& info)
{
    auto found = d.sessions.find(who.sessionId);
    if (!found)
        return fail(found.error());
    if (!*found || (*found)->revokedAt || (*found)->userId != who.userId)
        return fail(ErrorCode::SessionRevoked, QStringLiteral("This session has ended"));
    const SessionRecord& s = **found;
    auto pin = pinOf(s.id);
    if (!pin)
        return fail(pin.error());
    if (!*pin)
        return fail(ErrorCode::Conflict,
                    QStringLiteral("Set a PIN (PUT /api/workstation/pin) before switching user"));
    const qint64 now = d.clock.nowMs();
    // Two rotations to hashes nobody holds: the first one's overlap (SessionCache::kRotationOverlapMs)
    // then belongs to a token that does not exist, so the parked session's own access token is
    // refused at once on every instance (live tables through the feed, Redis through the
    // blacklist, the database through parked_at).
    const QByteArray first = unusableHash();
    const QByteArray second = unusableHash();
    auto n = d.db.execute(
        QStringLiteral(
            "UPDATE user_sessions SET parked_at = ?, access_token_hash = ?, refresh_retry_sealed = NULL "
            "WHERE id = ? AND revoked_at IS NULL AND parked_at IS NULL"),
        {now, QString::fromLatin1(second), s.id});
    if (!n)
        return fail(n.error());
    if (*n == 0)
        return fail(ErrorCode::Conflict, QStringLiteral("This session is already parked or has ended"));
    d.cache.rotated(s.id, s.accessHash, s.refreshHash, first, d.accessTtlSeconds);
    d.cache.rotated(s.id, first, {}, second, d.accessTtlSeconds);
    d.audit.record(QStringLiteral("workstation_parked"), actorOf(s, info),
                   {{"workstationId", (*pin)->workstationId.toStdString()}}, now);
    return {};
}

std::optional<WorkstationService::Refusal>
WorkstationService::resume(const QByteArray& refreshToken, const QString& pin, const RequestInfo& info)
{
    auto sessionId = TokenService::refreshTokenSession(refreshToken);
    if (!sessionId)
        return Refusal{sessionId.error()};
    if (d.limiter) {
        if (auto r = d.limiter->hit("pin-ip", RateLimiter::addressSubject(info.ipAddress),
                                    RateLimitRule{kResumesPerAddressPerMinute, 60});
            !r)
            return Refusal{r.error()};
        if (auto r = d.limiter->hit("pin-session", sessionId->toLatin1(),
                                    RateLimitRule{kResumesPerSessionPerMinute, 60});
            !r)
            return Refusal{r.error()};
    }
    auto found = d.sessions.find(*sessionId);
    if (!found)
        return Refusal{found.error()};
    const qint64 now = d.clock.nowMs();
    if (!*found || (*found)->revokedAt || (*found)->expiresAt <= now)
        return fullSignIn(QStringLiteral("This session has ended; sign in with your password"));
    const SessionRecord& s = **found;
    const QByteArray presented = TokenService::hash(refreshToken);
    if (presented != s.refreshHash) {
        // The token a refresh replaced: SessionService::refresh() treats it as re-use (theft).
        if (!s.prevRefreshHash.isEmpty() && presented == s.prevRefreshHash)
            return std::nullopt;
        return Refusal{Error{ErrorCode::Unauthenticated, QStringLiteral("Invalid refresh token")}};
    }
    if (!s.parkedAt)
        return Refusal{
            Error{ErrorCode::Conflict, QStringLiteral("This session is not parked; refresh it as usual")}};
    auto row = pinOf(s.id);
    if (!row)
        return Refusal{row.error()};
    if (!*row)
        return fullSignIn(QStringLiteral("No PIN is set for this session; sign in with your password"));
    const PinRow& p = **row;
    const AuditActor actor = actorOf(s, info);
    auto endWith = [&](const char* reason, const QString& message) -> std::optional<Refusal> {
        (void)clearPin(s.id);
        auto ended = d.sessions.revoke(s.id, s.userId, QString::fromLatin1(reason), now);
        if (ended && *ended)
            d.cache.revoked(s.id, s.accessHash, s.refreshHash, d.accessTtlSeconds);
        d.audit.record(QStringLiteral("workstation_pin_locked"), actor,
                       {{"workstationId", p.workstationId.toStdString()}, {"reason", reason}}, now);
        return fullSignIn(message);
    };
    if (p.validUntil <= now)
        return endWith(
            "shift_window_over",
            QStringLiteral("The shift window of this sign-in is over; sign in with your password"));
    if (!d.hasher.verify(p.hash, pin)) {
        const int failures = p.failures + 1;
        auto r = d.db.execute(QStringLiteral("UPDATE workstation_pins SET failures = ? WHERE session_id = ?"),
                              {failures, s.id});
        if (!r)
            return Refusal{r.error()};
        d.audit.record(QStringLiteral("workstation_pin_failed"), actor,
                       {{"workstationId", p.workstationId.toStdString()}, {"failures", failures}}, now);
        const int max = maxFailuresOf(s);
        if (failures >= max)
            return endWith("pin_failures", QStringLiteral("Too many wrong PINs; sign in with your password"));
        Error e{ErrorCode::Unauthenticated, QStringLiteral("Wrong PIN")};
        e.attemptsLeft = max - failures;
        return Refusal{e, kInvalidPin};
    }
    auto r =
        d.db.execute(QStringLiteral("UPDATE user_sessions SET parked_at = NULL WHERE id = ? AND parked_at IS "
                                    "NOT NULL AND refresh_token_hash = ? AND revoked_at IS NULL"),
                     {s.id, QString::fromLatin1(presented)});
    if (!r)
        return Refusal{r.error()};
    if (*r == 0)
        return Refusal{
            Error{ErrorCode::Conflict, QStringLiteral("This session was resumed or ended meanwhile")}};
    (void)d.db.execute(QStringLiteral("UPDATE workstation_pins SET failures = 0 WHERE session_id = ?"),
                       {s.id});
    d.audit.record(QStringLiteral("workstation_resumed"), actor,
                   {{"workstationId", p.workstationId.toStdString()}, {"parkedForMs", now - *s.parkedAt}},
                   now);
    return std::nullopt;
}

Result<std::vector<WorkstationService::Handover>> WorkstationService::handovers(const QString& workstationId,
                                                                                qint64 sinceMs)
{
    auto q = d.db.exec(
        QStringLiteral(
            "SELECT a.occurred_at, a.event, a.user_id, a.session_id, a.details, u.email FROM audit_events a "
            "LEFT JOIN users u ON u.id = a.user_id WHERE a.event IN ('workstation_pin_set', "
            "'workstation_parked', 'workstation_resumed', 'workstation_pin_locked') AND a.occurred_at >= ? "
            "ORDER BY a.occurred_at, a.id"),
        {sinceMs});
    if (!q)
        return fail(q.error());
    std::vector<Handover> out;
    QHash<QString, size_t> open; // session id -> its open stretch in `out`
    while ((*q)->next()) {
        const auto details = nlohmann::json::parse((*q)->value(4).toString().toStdString(), nullptr, false);
        if (!details.is_object() ||
            details.value("workstationId", std::string()) != workstationId.toStdString())
            continue;
        const qint64 at = (*q)->value(0).toLongLong();
        const QString event = (*q)->value(1).toString();
        const QString session = (*q)->value(3).toString();
        if (event == u"workstation_pin_set" || event == u"workstation_resumed") {
            if (open.contains(session))
                continue; // a PIN set again while active: the same stretch
            // Whoever was active here before is not any more.
            for (auto it = open.begin(); it != open.end(); ++it)
                out[it.value()].toMs = out[it.value()].toMs ? out[it.value()].toMs : at;
            open.clear();
            open.insert(session, out.size());
            out.push_back(Handover{(*q)->value(2).toString(), (*q)->value(5).toString(), session, at, 0,
                                   event == u"workstation_resumed" ? QStringLiteral("resumed")
                                                                   : QStringLiteral("signed_in")});
        } else if (open.contains(session)) {
            out[open.take(session)].toMs = at;
        }
    }
    (*q)->finish();
    return out;
}

} // namespace ehrs::server
