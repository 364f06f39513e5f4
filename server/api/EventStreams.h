// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Clock.h"
#include "auth/AuthContext.h"
#include "http/HttpRequest.h"
#include "http/HttpStream.h"
#include "http/Router.h"
#include "sessions/EventHub.h"
#include "sessions/SessionQueries.h"
#include "sessions/SessionService.h"

#include <QObject>
#include <QTimer>
#include <map>
#include <memory>

namespace ehrs::server {

/// The account event streams (GET /api/sessions/events, Server-Sent Events) of one worker. A
/// stream reads the account's events from the audit log (SessionEvents) after its last event id,
/// whenever the EventHub wakes it (a change committed here or announced by another instance), once
/// more shortly after (a row written inside a transaction is announced before its commit), and
/// when it opens (the backlog after Last-Event-ID). It ends after sending `revoked` when its own
/// session ends, and with `reauthenticate` when its access token expires or is no longer
/// accepted (checked read-only every revalidateMs: it records no activity, so an open stream does
/// not keep an idle session alive). A comment line every heartbeatMs keeps proxies and the
/// client's dead-connection timer content.
class EventStreams : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        int heartbeatMs = 60'000;
        int revalidateMs = 20'000;
        int lateSweepMs = 300;
        int batch = 200; // events per read; a longer backlog is read in several
    };

    EventStreams(SessionService& service, SessionQueries& queries, EventHub& hub, const Clock& clock,
                 Options options);
    ~EventStreams() override;

    /// Opens a stream for an authenticated request.
    void open(const HttpRequest& request, const AuthContext& who, Router::Respond respond);
    int size() const { return int(m_streams.size()); }

private:
    struct Stream
    {
        quint64 id = 0;
        AuthContext who;
        QByteArray token;
        HttpStream http;
        qint64 lastId = 0;
        bool started = false;
        bool reading = false;
        bool readAgain = false;
        QByteArray endType; // once set: end with this event after the next read
        nlohmann::json endData;
        std::unique_ptr<QTimer> expiry;
        std::unique_ptr<QTimer> sweep;
    };
    void start(quint64 id, qint64 lastId, Router::Respond respond);
    void wake(quint64 id);
    void read(quint64 id);
    void endAfterRead(quint64 id, QByteArray type, nlohmann::json data);
    void remove(quint64 id);
    void heartbeat();
    void revalidate();
    Stream* find(quint64 id);

    SessionService& m_service;
    SessionQueries& m_queries;
    EventHub& m_hub;
    const Clock& m_clock;
    Options m_options;
    std::map<quint64, std::unique_ptr<Stream>> m_streams;
    QTimer m_heartbeat;
    QTimer m_revalidate;
};

} // namespace ehrs::server
