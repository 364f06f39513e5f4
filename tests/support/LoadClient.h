// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "ApiClient.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>
#include <QUrl>
#include <functional>
#include <memory>

class QTcpSocket;

namespace ehrs::test {

/// Microseconds on the monotonic clock that every load sample is stamped with.
qint64 monotonicUs();

/// Runs this thread's event loop for `ms` (a precise timer ends it). QTest::qWait and the QTRY
/// macros sleep up to 10 ms between passes over the events, which would show up in every latency
/// a LoadClient measures; a real event loop wakes the moment an answer arrives.
void runEventLoopFor(int ms);
/// Runs the event loop until `done()` holds (checked every 10 ms) or `timeoutMs` passes; returns
/// whether `done()` held.
bool runEventLoopUntil(const std::function<bool()>& done, int timeoutMs);

/// One request of a load run, as the client saw it.
struct LoadSample
{
    qint64 sentUs = 0;    // monotonicUs() when the request was handed to the socket
    qint64 latencyUs = 0; // until the whole answer was read (or the request failed)
    int status = 0;       // 0: no answer: the request timed out or the connection dropped first
    bool retryAfter = false;
};

/// Nearest-rank percentiles of a set of latencies, in milliseconds.
struct LatencySummary
{
    qsizetype count = 0;
    double p50Ms = 0;
    double p99Ms = 0;
    double maxMs = 0;

    static LatencySummary of(QList<qint64> latenciesUs);
    QString toString() const;
};

/// "400:3912 503:4 no-answer:1": how many samples got each status.
QString statusCounts(const QList<LoadSample>& samples);

/// A closed-loop HTTP/1.1 client on one keep-alive connection, for load that runs beside a test
/// on the test's own event loop: it sends a request, reads the whole answer, pauses, sends the
/// next one, and reconnects when the server closes. Each request has its own timeout; one that
/// passes it (or whose connection drops before the answer) is recorded with status 0. Many run
/// side by side on one thread, like the connections of a load generator.
class LoadClient : public QObject
{
public:
    /// Builds the next request (called just before it is sent, so it can use the latest tokens).
    using NextRequest = std::function<QByteArray()>;
    /// Called with each sample and the parsed answer (status 0: an empty response).
    using Answered = std::function<void(const LoadSample&, const ApiResponse&)>;

    LoadClient(QUrl base, NextRequest next, int pauseMs, int timeoutMs = 15000);
    ~LoadClient() override;

    void onAnswer(Answered answered) { m_answered = std::move(answered); }
    void start();
    /// Sends nothing more; a request in flight still completes or times out.
    void stop();
    bool busy() const { return m_inFlight; }
    const QList<LoadSample>& samples() const { return m_samples; }

    /// A keep-alive HTTP/1.1 request (ApiClient::build asks the server to close after each one).
    static QByteArray request(const QUrl& base, const QByteArray& method, const QByteArray& path,
                              const nlohmann::json& body = nullptr, const QByteArray& bearer = {});

private:
    void send();
    void connectAndWrite();
    void onReadyRead();
    void finish(int status, const ApiResponse& response, bool serverCloses);
    void dropConnection();

    QUrl m_base;
    NextRequest m_next;
    Answered m_answered;
    int m_pauseMs;
    int m_timeoutMs;
    bool m_running = false;
    bool m_inFlight = false;
    QByteArray m_request;
    QByteArray m_buffer;
    LoadSample m_current;
    QList<LoadSample> m_samples;
    QTimer m_pause;
    QTimer m_timeout;
    std::unique_ptr<QTcpSocket> m_socket;
};

} // namespace ehrs::test
