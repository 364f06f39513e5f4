// SPDX-License-Identifier: Apache-2.0
#include "MfaChallengeCodec.h"

#include "Crypto.h"

#include <nlohmann/json.hpp>

namespace ehrs::server {

QByteArray MfaChallengeCodec::issue(const QString& userId, const std::optional<DeviceInfo>& device,
                                    qint64 nowSeconds, const QString& deviceClass) const
{
    nlohmann::json payload{{"u", userId.toStdString()},
                           {"e", nowSeconds + m_lifetime},
                           {"n", crypto::base64UrlEncode(crypto::randomBytes(16)).toStdString()}};
    if (device)
        payload["d"] = *device;
    if (!deviceClass.isEmpty())
        payload["c"] = deviceClass.toStdString();
    const std::string text = payload.dump();
    const QByteArray body = crypto::base64UrlEncode(QByteArrayView(text.data(), qsizetype(text.size())));
    return body + '.' + crypto::base64UrlEncode(crypto::hmacSha256(m_key, "mfa-challenge-v1." + body));
}

Result<MfaChallengeCodec::Challenge> MfaChallengeCodec::verify(QByteArrayView token, qint64 nowSeconds) const
{
    auto invalid = [] {
        return fail(ErrorCode::Unauthenticated, QStringLiteral("The sign-in step expired or is invalid; sign in again"));
    };
    const qsizetype dot = token.indexOf('.');
    if (token.size() > 2048 || dot <= 0)
        return invalid();
    const QByteArray body = token.first(dot).toByteArray();
    auto mac = crypto::base64UrlDecode(token.sliced(dot + 1));
    if (!mac || !crypto::constantTimeEquals(*mac, crypto::hmacSha256(m_key, "mfa-challenge-v1." + body)))
        return invalid();
    auto raw = crypto::base64UrlDecode(body);
    if (!raw)
        return invalid();
    const auto j = nlohmann::json::parse(raw->begin(), raw->end(), nullptr, false);
    if (!j.is_object() || !j.contains("u") || !j["u"].is_string() || !j.contains("e") || !j["e"].is_number_integer() ||
        !j.contains("n") || !j["n"].is_string())
        return invalid();
    Challenge c;
    c.userId = QString::fromStdString(j["u"].get<std::string>());
    c.expiresAt = j["e"].get<qint64>();
    c.nonce = QByteArray::fromStdString(j["n"].get<std::string>());
    if (c.expiresAt <= nowSeconds)
        return invalid();
    if (j.contains("c") && j["c"].is_string())
        c.deviceClass = QString::fromStdString(j["c"].get<std::string>());
    if (j.contains("d")) {
        if (auto d = deviceInfoFromJson(j["d"]))
            c.device = *d;
    }
    return c;
}

} // namespace ehrs::server
