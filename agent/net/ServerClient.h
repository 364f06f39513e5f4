// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "PolicyInfo.h"
#include "Result.h"
#include "WireModels.h"

#include <QFuture>
#include <QObject>
#include <QUrl>
#include <nlohmann/json_fwd.hpp>
#include <variant>
#include <vector>

class QNetworkAccessManager;
class QNetworkReply;

namespace ehrs::agent {

/// A login step's outcome: signed in, or a second factor is needed.
using LoginOutcome = std::variant<AuthTokens, MfaChallenge>;

/// HTTP client of the EHR Sessions server API (docs/api.md), one future per call. Errors keep
/// the server's code (session_revoked, refresh_token_reused, ...) and Retry-After; transport
/// failures are NetworkError. Bodies are the shared models of common/WireModels.h.
class ServerClient : public QObject
{
    Q_OBJECT
public:
    /// The manager is injected so tests and the app can share or replace it.
    explicit ServerClient(QNetworkAccessManager& network, QObject* parent = nullptr);

    /// `deviceClass` ("personal", "shared_workstation"; empty: not said) goes with the body.
    QFuture<Result<LoginOutcome>> login(const QUrl& server, const LoginRequest& request,
                                        const QString& deviceClass = {});
    QFuture<Result<LoginOutcome>> verifyMfa(const QUrl& server, const QString& mfaToken, const QString& code,
                                            const QString& deviceCredential = {},
                                            bool rememberDevice = false);
    QFuture<Result<AuthTokens>> refresh(const QUrl& server, const QString& refreshToken);
    QFuture<Result<void>> logout(const QUrl& server, const QString& accessToken);
    QFuture<Result<std::vector<SessionDto>>> sessions(const QUrl& server, const QString& accessToken);
    /// GET /api/auth/me: whether 2FA is on and when it last changed (empty: never).
    struct MfaState
    {
        bool enabled = false;
        QString changedAt;
    };
    QFuture<Result<MfaState>> mfaState(const QUrl& server, const QString& accessToken);

    // Shared workstations (issue 14; docs/api.md, "Shared workstations"). Errors keep the routes'
    // own names in Error::name (invalid_pin with attemptsLeft, full_sign_in_required).
    /// PUT /api/workstation/pin: the PIN's end (the shift window's), in ms since the epoch.
    QFuture<Result<qint64>> setWorkstationPin(const QUrl& server, const QString& accessToken,
                                              const QString& pin, const QString& workstationId);
    /// POST /api/workstation/park: the session's tokens stop working until it is resumed.
    QFuture<Result<void>> parkSession(const QUrl& server, const QString& accessToken);
    /// POST /api/workstation/resume: a new pair, as a refresh, when the PIN is right.
    QFuture<Result<AuthTokens>> resumeSession(const QUrl& server, const QString& refreshToken,
                                              const QString& pin);

    /// The manager the calls go through (the account event stream shares it).
    QNetworkAccessManager& network() const { return m_network; }
    /// Per-request transfer timeout; a hung server must not hold a refresh forever.
    void setTimeoutMs(int ms) { m_timeoutMs = ms; }

Q_SIGNALS:
    /// A login, refresh or /api/auth/me answer carried IT's session policy (issue 14). Emitted
    /// before the call's future finishes, so its consumer already knows the policy.
    void policyReceived(const ehrs::SessionPolicyInfo& policy);

private:
    QFuture<Result<nlohmann::json>> send(const QByteArray& verb, const QUrl& url, const QByteArray& body,
                                         const QString& bearer);
    void notePolicy(const Result<nlohmann::json>& body);
    /// A refresh-like answer (refresh, resume): the new pair.
    Result<AuthTokens> toTokens(const Result<nlohmann::json>& body);
    static QUrl endpoint(const QUrl& server, const QString& path);

    QNetworkAccessManager& m_network;
    int m_timeoutMs = 20000;
};

} // namespace ehrs::agent
