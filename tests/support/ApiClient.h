// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QUrl>

#include <nlohmann/json.hpp>

namespace ehrs::test {

struct ApiResponse
{
    int status = 0; // 0: no response (connection failed or timed out)
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    nlohmann::json json; // discarded value when the body is not JSON

    QByteArray header(const QByteArray& lowerName) const;
    std::string str(const char* field) const
    {
        return json.is_object() && json.contains(field) && json[field].is_string() ? json[field].get<std::string>()
                                                                                  : std::string();
    }
};

/// A deliberately plain HTTP/1.1 client over QTcpSocket (one connection per request, Connection:
/// close), so tests see exactly what the server sends and can send malformed requests too.
class ApiClient
{
public:
    explicit ApiClient(QUrl base) : m_base(std::move(base)) {}

    ApiResponse request(const QByteArray& method, const QByteArray& path, const nlohmann::json& body = nullptr,
                        const QByteArray& bearer = {}, const QList<QPair<QByteArray, QByteArray>>& headers = {}) const;
    /// Sends raw bytes and returns what came back before the server closed (or timeout).
    ApiResponse raw(const QByteArray& bytes, int timeoutMs = 10000) const;
    /// Sends all requests at once on separate connections and waits for every answer.
    QList<ApiResponse> parallel(const QList<QByteArray>& rawRequests, int timeoutMs = 30000) const;

    static QByteArray build(const QByteArray& method, const QByteArray& path, const QByteArray& host,
                            const nlohmann::json& body, const QByteArray& bearer,
                            const QList<QPair<QByteArray, QByteArray>>& headers);
    QByteArray hostHeader() const;
    static ApiResponse parse(const QByteArray& bytes);

private:
    QUrl m_base;
};

} // namespace ehrs::test
