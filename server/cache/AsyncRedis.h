// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"
#include "cache/RedisStore.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

struct redisAsyncContext;

namespace ehrs::server {

/// One Redis reply as a value. A top-level error reply never becomes a RedisReply (the command's
/// Result carries it instead); errors nested in an array (EXEC) keep type Error and their text.
struct RedisReply
{
    enum class Type { Nil, Integer, String, Status, Array, Error };
    Type type = Type::Nil;
    qint64 integer = 0;
    QByteArray string; // String, Status and Error
    QList<RedisReply> elements;

    bool isNil() const { return type == Type::Nil; }
    /// The integer, or the number a String holds (GET of a counter); 0 for anything else.
    qint64 toInteger() const;
};

/// A Lua script, sent by SHA-1 (EVALSHA) and by text only when Redis does not know it yet.
struct RedisScript
{
    explicit RedisScript(QByteArray source);
    QByteArray source;
    QByteArray sha1; // lower-case hex
};

struct AsyncRedisOptions
{
    /// Every command's bound, from the call to its answer. A missed deadline means Redis or the
    /// network is stuck: the connection is dropped and every pending command fails.
    std::chrono::milliseconds deadline{250};
    /// Bound on connecting plus AUTH/SELECT.
    std::chrono::milliseconds connectTimeout{1000};
    /// An idle connection is checked this often (PING, or a re-SUBSCRIBE on a subscriber)...
    std::chrono::milliseconds keepaliveInterval{15000};
    /// ...and dropped when that check is not answered within this bound.
    std::chrono::milliseconds keepaliveDeadline{2000};
    /// While Redis is down, at most one connection attempt per this interval.
    std::chrono::milliseconds retryInterval{1000};
    /// CLIENT SETNAME on connect, so that `CLIENT LIST` tells this process's connections apart.
    QByteArray clientName;
};

/// One non-blocking hiredis connection on the event loop of the thread that owns this object.
/// Commands are written as soon as they are issued, so back-to-back commands are pipelined and
/// answered in order; each answer goes to its callback on the owner's thread, unless the callback's
/// context object (which must live on the same thread) has been deleted by then. Every command has
/// a deadline: on a missed deadline or a lost connection every pending callback gets
/// ErrorCode::Unavailable exactly once, the connection is dropped and re-established in the
/// background or by the next command (at most one attempt per retryInterval; commands issued
/// while no attempt is allowed fail at once, never synchronously). Each (re)connection sends AUTH and SELECT
/// from the endpoint before any command. Destroying the client drops its pending callbacks without calling
/// them.
///
/// With Sentinel, a connection moves to the new primary as soon as the endpoint's Primary hears of a
/// switch (`+switch-master`, SentinelWatch), and a READONLY answer (a replica: an old primary that
/// came back as one, or a stale address) drops the connection: that command fails as unavailable
/// and the next connection asks the Sentinels.
///
/// After subscribe() the connection is a subscriber and takes no other commands; it re-subscribes
/// after every reconnect and reports each channel up (subscription confirmed: from here on no
/// message is missed) and down (connection lost: messages may be missed until it is up again).
class AsyncRedis final : public QObject
{
    Q_OBJECT
public:
    using Done = std::function<void(Result<RedisReply>)>;

    AsyncRedis(RedisEndpoint endpoint, AsyncRedisOptions options = {}, RedisHealth* health = nullptr,
               QObject* parent = nullptr);
    ~AsyncRedis() override;
    AsyncRedis(const AsyncRedis&) = delete;
    AsyncRedis& operator=(const AsyncRedis&) = delete;

    /// Connects now rather than on the first command.
    void start();
    void command(QList<QByteArray> argv, QObject* context, Done done);
    /// EVALSHA, falling back to EVAL when Redis answers NOSCRIPT (after a restart or SCRIPT FLUSH).
    void evalScript(const RedisScript& script, const QList<QByteArray>& keys, const QList<QByteArray>& args,
                    QObject* context, Done done);
    /// Makes this a subscriber connection (see the class comment). onStateChange(true) is called each
    /// time the subscription is confirmed, before any message it covers; onStateChange(false) once
    /// per loss of a confirmed subscription.
    void subscribe(const QByteArray& channel, QObject* context,
                   std::function<void(const QByteArray&)> onMessage,
                   std::function<void(bool up)> onStateChange);

    /// Connected and set up (and, for a subscriber, every channel confirmed).
    bool isUp() const { return m_state == State::Up && m_unconfirmed == 0; }
    /// How many times a connection was set up (tests, metrics).
    int connects() const { return m_connects; }
    /// Commands sent or waiting for the connection, not yet answered.
    qsizetype pendingCount() const { return qsizetype(m_inFlight.size() + m_held.size()); }

    // hiredis callbacks (C linkage needs no access to internals beyond these).
    void onConnected(redisAsyncContext* ac, int status);
    void onDisconnected(redisAsyncContext* ac);
    void onReply(redisAsyncContext* ac, void* reply, void* privdata);

Q_SIGNALS:
    void upChanged(bool up);

private:
    enum class State { Idle, Connecting, Up, Down };
    struct Pending
    {
        qint64 deadlineMs = 0;
        QPointer<QObject> context;
        Done done;              // empty for our own setup and keepalive commands
        QList<QByteArray> argv; // kept only while held back during setup
    };
    struct Channel
    {
        QByteArray name;
        QPointer<QObject> context;
        std::function<void(const QByteArray&)> onMessage;
        std::function<void(bool)> onStateChange;
        bool up = false;
    };
    struct Confirmation
    {
        qsizetype channel; // index into m_channels, or kKeepaliveChannel
        qint64 deadlineMs;
    };
    static constexpr qsizetype kKeepaliveChannel = -1;

    qint64 nowMs() const { return m_clock.elapsed(); }
    void connectNow();
    void send(const QList<QByteArray>& argv, Pending pending);
    void sendSubscribe(qsizetype channel);
    void setupDone();
    void reportUp();
    void lost(const char* why, bool hiredisFreesContext);
    void scheduleRetry();
    void armDeadline(qint64 deadlineMs);
    void checkDeadlines();
    void keepalive();
    void handleSubscribeReply(qsizetype channel, const void* reply);
    void primarySwitched(const RedisEndpoint::Address& address);
    static void deliver(std::vector<Pending> failed);

    RedisEndpoint m_endpoint;
    AsyncRedisOptions m_options;
    RedisHealth* m_health;
    QElapsedTimer m_clock;
    redisAsyncContext* m_ac = nullptr;
    RedisEndpoint::Address m_connectedTo; // with Sentinel: the primary m_ac was made for
    int m_primaryListener = 0;
    qint64 m_lastWrongServerMs = -1'000'000;
    State m_state = State::Idle;
    int m_setupLeft = 0;
    int m_connects = 0;
    qint64 m_lastAttemptMs = -1'000'000;
    qint64 m_lastHeardMs = 0;
    bool m_hadOutage = false;
    bool m_upReported = false;
    std::deque<Pending> m_inFlight; // written to the connection, answered in this order
    std::deque<Pending> m_held;     // issued while connecting: written once AUTH/SELECT succeeded
    // Subscriber state
    bool m_subscriber = false;
    QByteArray m_keepaliveChannel;
    std::vector<std::unique_ptr<Channel>> m_channels;
    std::deque<Confirmation> m_confirmations; // SUBSCRIBEs sent and not yet confirmed, in order
    qsizetype m_unconfirmed = 0;              // channels (not keepalives) among them
    QTimer m_deadlineTimer;
    qint64 m_deadlineTargetMs = 0;
    QTimer m_retryTimer;
    QTimer m_keepaliveTimer;
};

} // namespace ehrs::server
