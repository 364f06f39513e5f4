// SPDX-License-Identifier: Apache-2.0
#pragma once

// Turns two-step verification on for an account over HTTP, as a person would on another device,
// for the agent's and the app's end-to-end tests (which link the server's Totp for the code).

#include "ApiClient.h"
#include "mfa/Totp.h"

#include <QDateTime>
#include <QStringList>
#include <QUrl>

namespace ehrs::test {

/// Signs in with `password`, sets TOTP up and turns it on; the backup codes (each works once, so a
/// test can type one at every second step without waiting for the next TOTP time step). Empty on
/// any failure.
inline QStringList turnOnTwoStep(const QUrl& server, const QString& email, const QString& password)
{
    ApiClient api(server);
    auto first = api.request("POST", "/api/auth/login",
                             {{"email", email.toStdString()}, {"password", password.toStdString()}});
    if (first.status != 200)
        return {};
    const QByteArray access = QByteArray::fromStdString(first.str("accessToken"));
    auto setup = api.request("POST", "/api/auth/mfa/setup", {{"password", password.toStdString()}}, access);
    const auto secret = ehrs::server::Totp::base32Decode(QString::fromStdString(setup.str("secret")));
    if (setup.status != 200 || !secret)
        return {};
    const QString code = ehrs::server::Totp::code(*secret, QDateTime::currentSecsSinceEpoch());
    auto enabled = api.request("POST", "/api/auth/mfa/enable", {{"code", code.toStdString()}}, access);
    QStringList backupCodes;
    if (enabled.status == 200 && enabled.json.contains("backupCodes")) {
        for (const auto& c : enabled.json["backupCodes"])
            backupCodes << QString::fromStdString(c.get<std::string>());
    }
    return backupCodes;
}

} // namespace ehrs::test
