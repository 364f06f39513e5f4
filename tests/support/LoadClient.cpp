// SPDX-License-Identifier: Apache-2.0
#include "LoadClient.h"

#include <QEventLoop>
#include <QMap>
#include <QStringList>
#include <QTcpSocket>
#include <algorithm>
#include <chrono>
#include <cmath>

namespace ehrs::test {

qint64 monotonicUs()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void runEventLoopFor(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, Qt::PreciseTimer, &loop, &QEventLoop::quit);
    loop.exec();
}

bool runEventLoopUntil(const std::function<bool()>& done, int timeoutMs)
{
    if (done())
        return true;
    QEventLoop loop;
    QTimer check;
    check.setInterval(10);
    QObject::connect(&check, &QTimer::timeout, &loop, [&] {
        if (done())
            loop.quit();
    });
    QTimer::singleShot(timeoutMs, Qt::PreciseTimer, &loop, &QEventLoop::quit);
    check.start();
    loop.exec();
    return done();
}

LatencySummary LatencySummary::of(QList<qint64> latenciesUs)
{
    LatencySummary s;
    s.count = latenciesUs.size();
    if (latenciesUs.isEmpty())
        return s;
    std::sort(latenciesUs.begin(), latenciesUs.end());
    // Nearest rank: the smallest value with at least p% of the samples at or below it.
    auto rank = [&](double p) {
        const auto index = qsizetype(std::ceil(p * double(latenciesUs.size()))) - 1;
        return double(latenciesUs[std::clamp<qsizetype>(index, 0, latenciesUs.size() - 1)]) / 1000.0;
    };
    s.p50Ms = rank(0.50);
    s.p99Ms = rank(0.99);
    s.maxMs = double(latenciesUs.last()) / 1000.0;
    return s;
}

QString LatencySummary::toString() const
{
    return QStringLiteral("n=%1 p50 %2 ms p99 %3 ms max %4 ms")
        .arg(count)
        .arg(p50Ms, 0, 'f', 2)
        .arg(p99Ms, 0, 'f', 2)
        .arg(maxMs, 0, 'f', 2);
}

QString statusCounts(const QList<LoadSample>& samples)
{
    QMap<int, int> counts;
    for (const LoadSample& s : samples)
        counts[s.status]++;
    QStringList out;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        out << QStringLiteral("%1:%2")
                   .arg(it.key() == 0 ? QStringLiteral("no-answer") : QString::number(it.key()))
                   .arg(it.value());
    return out.isEmpty() ? QStringLiteral("none") : out.join(u' ');
}

LoadClient::LoadClient(QUrl base, NextRequest next, int pauseMs, int timeoutMs)
    : m_base(std::move(base)), m_next(std::move(next)), m_pauseMs(pauseMs), m_timeoutMs(timeoutMs)
{
    m_pause.setSingleShot(true);
    m_pause.setTimerType(Qt::PreciseTimer);
    connect(&m_pause, &QTimer::timeout, this, [this] { send(); });
    m_timeout.setSingleShot(true);
    connect(&m_timeout, &QTimer::timeout, this, [this] { finish(0, {}, true); });
}

LoadClient::~LoadClient()
{
    dropConnection();
}

QByteArray LoadClient::request(const QUrl& base, const QByteArray& method, const QByteArray& path,
                               const nlohmann::json& body, const QByteArray& bearer)
{
    QByteArray bytes = ApiClient::build(method, path, ApiClient(base).hostHeader(), body, bearer, {});
    return bytes.replace("\r\nConnection: close\r\n", "\r\nConnection: keep-alive\r\n");
}

void LoadClient::start()
{
    m_running = true;
    if (!m_inFlight && !m_pause.isActive())
        send();
}

void LoadClient::stop()
{
    m_running = false;
    m_pause.stop();
}

void LoadClient::send()
{
    if (!m_running || m_inFlight)
        return;
    m_request = m_next();
    m_buffer.clear();
    m_inFlight = true;
    m_current = LoadSample{};
    m_current.sentUs = monotonicUs();
    m_timeout.start(m_timeoutMs);
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->write(m_request);
    else
        connectAndWrite();
}

void LoadClient::connectAndWrite()
{
    dropConnection();
    m_socket = std::make_unique<QTcpSocket>();
    QTcpSocket* socket = m_socket.get();
    connect(socket, &QTcpSocket::connected, this, [this, socket] {
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        if (m_inFlight)
            socket->write(m_request);
    });
    connect(socket, &QTcpSocket::readyRead, this, [this] { onReadyRead(); });
    // A connection that ends before the answer is complete is a failed request; one that ends
    // between requests is simply reopened for the next.
    connect(socket, &QTcpSocket::disconnected, this, [this] {
        if (m_inFlight)
            finish(0, {}, true);
    });
    connect(socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError) {
        if (m_inFlight)
            finish(0, {}, true);
    });
    socket->connectToHost(m_base.host(), quint16(m_base.port()));
}

void LoadClient::onReadyRead()
{
    m_buffer += m_socket->readAll();
    if (!m_inFlight)
        return;
    const qsizetype headerEnd = m_buffer.indexOf("\r\n\r\n");
    if (headerEnd < 0)
        return;
    qsizetype length = 0;
    bool serverCloses = false;
    for (const QByteArray& line : m_buffer.left(headerEnd).split('\n')) {
        const QByteArray lower = line.trimmed().toLower();
        if (lower.startsWith("content-length:"))
            length = lower.mid(15).trimmed().toLongLong();
        else if (lower.startsWith("connection:"))
            serverCloses = lower.contains("close");
    }
    if (m_buffer.size() < headerEnd + 4 + length)
        return;
    const ApiResponse response = ApiClient::parse(m_buffer.left(headerEnd + 4 + length));
    finish(response.status, response, serverCloses);
}

void LoadClient::finish(int status, const ApiResponse& response, bool serverCloses)
{
    if (!m_inFlight)
        return;
    m_timeout.stop();
    m_inFlight = false;
    m_current.latencyUs = monotonicUs() - m_current.sentUs;
    m_current.status = status;
    m_current.retryAfter = !response.header("retry-after").isEmpty();
    m_samples.append(m_current);
    if (serverCloses)
        dropConnection();
    if (m_answered)
        m_answered(m_current, response);
    if (m_running)
        m_pause.start(m_pauseMs);
}

void LoadClient::dropConnection()
{
    if (!m_socket)
        return;
    m_socket->disconnect(this);
    m_socket->abort();
    m_socket.release()->deleteLater();
}

} // namespace ehrs::test
