// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>

class QNetworkAccessManager;
class QNetworkReply;

namespace ehrs {

/// Client of the server's account event stream (GET /api/sessions/events, Server-Sent Events),
/// shared by the agent and the app. Connects with a bearer token from `TokenSource` (asked before
/// every connection), parses the stream, and keeps it up: after a lost connection it reconnects
/// with exponential back-off and jitter (0.5 s doubling to 30 s; at once after the server's
/// `reauthenticate`, which ends a stream whose token expired) and resumes with Last-Event-ID, so
/// no event is lost across server restarts. A connection silent for 2.5 heartbeats (the `ready`
/// event says how often the server sends one) is treated as dead; restarting that watchdog costs
/// no wake-up, so an idle stream wakes its thread once per server heartbeat (about a minute).
class EventStreamClient : public QObject
{
    Q_OBJECT
public:
    /// The access token to connect with; empty: do not connect now (retried with back-off).
    using TokenSource = std::function<QString()>;

    explicit EventStreamClient(QNetworkAccessManager& network, QObject* parent = nullptr);
    ~EventStreamClient() override;

    /// Starts (or restarts) streaming from `server`. `lastEventId`: resume after it.
    void start(const QUrl& server, TokenSource token, const QString& lastEventId = {});
    void stop();
    /// Connects again now (a new token, the network is back), resetting the back-off.
    void reconnectNow();
    bool isRunning() const { return m_running; }
    bool isConnected() const { return m_connected; }
    QString lastEventId() const { return m_lastEventId; }
    /// Back-off bounds (tests shorten them).
    void setBackoff(int firstMs, int maxMs);

Q_SIGNALS:
    /// One event (`ready` included: sent first on every connection). `data` is the parsed JSON.
    void eventReceived(const QByteArray& type, const nlohmann::json& data, const QString& id);
    void connectedChanged(bool connected);
    /// The server refused the stream (401 with its code, 429, 503...): the owner may act
    /// (e.g. session_revoked); the client retries with back-off unless stopped.
    void refused(const ehrs::Error& error);

private:
    void connectNow();
    void onReadyRead();
    void onFinished();
    void scheduleReconnect(bool immediately);
    void dispatch();
    void setConnected(bool connected);
    void dropReply();

    QNetworkAccessManager& m_network;
    QUrl m_server;
    TokenSource m_token;
    QString m_lastEventId;
    bool m_running = false;
    bool m_connected = false;
    bool m_reconnectAtOnce = false;
    QPointer<QNetworkReply> m_reply;
    QByteArray m_buffer;
    // The event being parsed.
    QByteArray m_type;
    QByteArray m_data;
    QByteArray m_id;
    bool m_hasId = false;
    QTimer m_retry;
    QTimer m_watchdog;
    int m_firstBackoffMs = 500;
    int m_maxBackoffMs = 30'000;
    int m_backoffMs = 500;
    int m_heartbeatMs = 60'000;
    std::minstd_rand m_random{std::random_device{}()};
};

} // namespace ehrs
