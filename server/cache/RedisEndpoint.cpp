// SPDX-License-Identifier: Apache-2.0
#include "RedisEndpoint.h"

#include <QUrl>

namespace ehrs::server {

Result<RedisEndpoint> RedisEndpoint::parse(const QString& text)
{
    if (text.startsWith(u"redis-sentinel://"))
        return parseSentinel(text);
    const QUrl url(text);
    if (!url.isValid() || url.scheme() != u"redis" || url.host().isEmpty())
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("REDIS_URL must look like redis://[:password@]host:6379/0"));
    RedisEndpoint e;
    e.host = url.host();
    e.port = url.port(6379);
    e.user = url.userName(QUrl::FullyDecoded);
    e.password = url.password(QUrl::FullyDecoded);
    const QString path = url.path().mid(1);
    if (!path.isEmpty()) {
        bool ok = false;
        e.db = path.toInt(&ok);
        if (!ok || e.db < 0)
            return fail(ErrorCode::InvalidRequest, QStringLiteral("REDIS_URL database must be a number"));
    }
    return e;
}

Result<RedisEndpoint> RedisEndpoint::parseSentinel(const QString& text)
{
    const QString form =
        QStringLiteral("redis-sentinel://[:password@]s1:26379,s2:26379,s3:26379/mymaster[/db]");
    auto invalid = [&form](const QString& what) {
        return Error{ErrorCode::InvalidRequest,
                     QStringLiteral("REDIS_URL: %1 (the form is %2)").arg(what, form)};
    };
    QString rest = text.mid(QStringLiteral("redis-sentinel://").size());
    const qsizetype slash = rest.indexOf(u'/');
    if (slash < 0)
        return fail(invalid(QStringLiteral("no master name after the Sentinels")));
    QString authority = rest.left(slash);
    const QStringList path = rest.mid(slash + 1).split(u'/');
    RedisEndpoint e;
    if (const qsizetype at = authority.lastIndexOf(u'@'); at >= 0) {
        const QString userInfo = authority.left(at);
        authority = authority.mid(at + 1);
        const qsizetype colon = userInfo.indexOf(u':');
        e.user = QUrl::fromPercentEncoding(userInfo.left(colon >= 0 ? colon : userInfo.size()).toUtf8());
        if (colon >= 0)
            e.password = QUrl::fromPercentEncoding(userInfo.mid(colon + 1).toUtf8());
    }
    if (authority.isEmpty())
        return fail(invalid(QStringLiteral("no Sentinel address")));
    for (const QString& entry : authority.split(u',')) {
        QString host = entry;
        QString port;
        if (entry.startsWith(u'[')) {
            const qsizetype close = entry.indexOf(u']');
            if (close < 0)
                return fail(invalid(QStringLiteral("unclosed [ in \"%1\"").arg(entry)));
            host = entry.mid(1, close - 1);
            if (entry.size() > close + 1) {
                if (entry.at(close + 1) != u':')
                    return fail(invalid(QStringLiteral("unexpected text after ] in \"%1\"").arg(entry)));
                port = entry.mid(close + 2);
            }
        } else if (const qsizetype colon = entry.indexOf(u':'); colon >= 0) {
            host = entry.left(colon);
            port = entry.mid(colon + 1);
        }
        if (host.isEmpty())
            return fail(invalid(QStringLiteral("empty Sentinel host in \"%1\"").arg(authority)));
        int portNumber = 26379;
        if (!port.isNull()) {
            bool ok = false;
            portNumber = port.toInt(&ok);
            if (!ok || portNumber < 1 || portNumber > 65535)
                return fail(invalid(
                    QStringLiteral("Sentinel port \"%1\" is not a number from 1 to 65535").arg(port)));
        }
        e.sentinels.append({host, portNumber});
    }
    e.masterName = path.value(0);
    if (e.masterName.isEmpty())
        return fail(invalid(QStringLiteral("no master name after the Sentinels")));
    if (path.size() > 2)
        return fail(invalid(QStringLiteral("too many path segments")));
    if (path.size() == 2 && !path[1].isEmpty()) {
        bool ok = false;
        e.db = path[1].toInt(&ok);
        if (!ok || e.db < 0)
            return fail(invalid(QStringLiteral("the database \"%1\" is not a number").arg(path[1])));
    }
    e.host.clear();
    e.port = 0;
    e.primary = std::make_shared<Primary>();
    return e;
}

QList<QList<QByteArray>> RedisEndpoint::setupCommands() const
{
    QList<QList<QByteArray>> setup;
    if (!password.isEmpty()) {
        if (user.isEmpty())
            setup.append({"AUTH", password.toUtf8()});
        else
            setup.append({"AUTH", user.toUtf8(), password.toUtf8()});
    }
    if (db != 0)
        setup.append({"SELECT", QByteArray::number(db)});
    return setup;
}

int RedisEndpoint::Primary::listen(Listener listener)
{
    QMutexLocker lock(&m_mutex);
    const int token = ++m_nextToken;
    m_listeners.emplace(token, std::move(listener));
    return token;
}

void RedisEndpoint::Primary::unlisten(int token)
{
    QMutexLocker lock(&m_mutex);
    m_listeners.erase(token);
}

void RedisEndpoint::Primary::announce(const Address& address)
{
    if (address.first.isEmpty())
        return;
    QMutexLocker lock(&m_mutex);
    m_trusted = true;
    if (address == m_address)
        return;
    const bool first = m_address.first.isEmpty();
    m_address = address;
    if (first)
        return; // the first answer is no switch: every connection asked for it
    ++m_generation;
    for (auto& [token, listener] : m_listeners)
        listener(address);
}

std::optional<RedisEndpoint::Address> RedisEndpoint::Primary::trusted() const
{
    QMutexLocker lock(&m_mutex);
    if (!m_trusted)
        return std::nullopt;
    return m_address;
}

void RedisEndpoint::Primary::distrust(const Address& address)
{
    QMutexLocker lock(&m_mutex);
    if (address == m_address)
        m_trusted = false;
}

quint64 RedisEndpoint::Primary::generation() const
{
    QMutexLocker lock(&m_mutex);
    return m_generation;
}

} // namespace ehrs::server
