// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "AccessTokenSource.h"
#include "AccountDtos.h"
#include "ClientErrors.h"
#include "Result.h"
#include "WireModels.h"

#include <QFuture>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPromise>
#include <QUrl>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <vector>

namespace ehrs::app {

/// The server's HTTP API as the app uses it. Every call takes a bearer token from the
/// AccessTokenSource; a 401 makes it ask for a fresh token and retry once, and a second 401
/// ends in authenticationLost() (the page shows sign-in with the reason).
class ServerApi : public QObject
{
    Q_OBJECT
public:
    ServerApi(AccessTokenSource* tokens, QObject* parent = nullptr);

    void setServerUrl(const QUrl& url) { m_base = url; }
    QUrl serverUrl() const { return m_base; }

    QFuture<Result<std::vector<SessionDto>>> listSessions();
    QFuture<Result<void>> renameSession(const QString& id, const QString& name);
    QFuture<Result<void>> revokeSession(const QString& id);
    /// Ends every other session; the count of those ended.
    QFuture<Result<int>> revokeOtherSessions(const QString& password);

    QFuture<Result<AccountInfo>> account();
    /// Starts TOTP enrolment; the server asks for the current password first.
    QFuture<Result<MfaEnrolment>> startMfaSetup(const QString& password);
    QFuture<Result<QStringList>> enableMfa(const QString& code);
    QFuture<Result<void>> disableMfa(const QString& password, const QString& code);
    /// New backup codes while two-step verification stays on (password and a current code); the
    /// earlier ones stop working.
    QFuture<Result<QStringList>> newBackupCodes(const QString& password, const QString& code);
    /// The account's recent security activity, newest first (at most `limit` events).
    QFuture<Result<std::vector<ActivityEvent>>> activity(int limit);
    /// Remembered devices (they skip the second sign-in step), and forgetting one.
    QFuture<Result<std::vector<RememberedDeviceDto>>> rememberedDevices();
    QFuture<Result<void>> forgetDevice(const QString& id);
    /// Changes the password (`code`: a current 2FA or backup code, needed when 2FA is on); the
    /// count of other sessions the server ended.
    QFuture<Result<int>> changePassword(const QString& currentPassword, const QString& code,
                                        const QString& newPassword);

Q_SIGNALS:
    /// The server refused even a fresh token: session revoked, expired or signed out.
    void authenticationLost(const ehrs::Error& error);
    /// The agent has no session to give a token for (it signed out, or is signing out: its
    /// signed-out event, with the reason, may arrive just before or after this).
    void agentSignedOut(const ehrs::Error& error);

private:
    struct Call
    {
        std::shared_ptr<QPromise<Result<nlohmann::json>>> promise;
        QByteArray method;
        QString path;
        QByteArray payload;
    };
    QFuture<Result<nlohmann::json>> send(const QByteArray& method, const QString& path,
                                         const nlohmann::json& body);
    void attempt(Call call, bool retried);

    AccessTokenSource* m_tokens;
    QNetworkAccessManager m_network;
    QUrl m_base;
};

// describeError(), isCodeError(), asSentence() and describeWait() are the clients' shared texts
// (common/ClientErrors.h), found here as ehrs::...
} // namespace ehrs::app
