// SPDX-License-Identifier: Apache-2.0
#include "ForwardedChain.h"

namespace ehrs::server {
namespace {
/// Splits at `separator` outside double-quoted strings (RFC 7239 values may be quoted).
QList<QByteArray> splitOutsideQuotes(QByteArrayView text, char separator)
{
    QList<QByteArray> parts;
    QByteArray current;
    bool quoted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted && c == '\\' && i + 1 < text.size()) {
            current += c;
            current += text[++i];
            continue;
        }
        if (c == '"') {
            quoted = !quoted;
        } else if (c == separator && !quoted) {
            parts.append(current.trimmed());
            current.clear();
            continue;
        }
        current += c;
    }
    parts.append(current.trimmed());
    return parts;
}

QHostAddress normalized(const QHostAddress& address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4) : address;
}
} // namespace

QList<QByteArray> forwardedChain(const HttpRequest& request, ForwardedHeader header)
{
    QList<QByteArray> chain;
    if (header == ForwardedHeader::XForwardedFor) {
        for (const QByteArray& line : request.headerValues("x-forwarded-for")) {
            for (const QByteArray& entry : line.split(','))
                chain.append(entry.trimmed());
        }
        return chain;
    }
    for (const QByteArray& line : request.headerValues("forwarded")) {
        for (const QByteArray& element : splitOutsideQuotes(line, ',')) {
            QByteArray node;
            for (const QByteArray& pair : splitOutsideQuotes(element, ';')) {
                const qsizetype eq = pair.indexOf('=');
                if (eq > 0 && pair.left(eq).trimmed().toLower() == "for")
                    node = pair.mid(eq + 1).trimmed();
            }
            chain.append(node);
        }
    }
    return chain;
}

QHostAddress parseForwardedNode(QByteArrayView node)
{
    QByteArray text = node.trimmed().toByteArray();
    if (text.size() >= 2 && text.startsWith('"') && text.endsWith('"'))
        text = text.mid(1, text.size() - 2).trimmed();
    if (text.isEmpty() || text.size() > 64)
        return {};
    if (text.startsWith('[')) {
        // "[v6]" or "[v6]:port"
        const qsizetype close = text.indexOf(']');
        if (close < 0 || (close + 1 < text.size() && text[close + 1] != ':'))
            return {};
        text = text.mid(1, close - 1);
        QHostAddress a;
        if (!a.setAddress(QString::fromLatin1(text)) || a.protocol() != QAbstractSocket::IPv6Protocol)
            return {};
        return normalized(a);
    }
    if (text.count(':') == 1) // "v4:port"
        text = text.left(text.indexOf(':'));
    const QString s = QString::fromLatin1(text);
    QHostAddress a;
    // Strict IPv4 (four dotted parts): QHostAddress also reads "10.1" or "1" as addresses.
    if (!a.setAddress(s) || (a.protocol() == QAbstractSocket::IPv4Protocol && text.count('.') != 3))
        return {};
    if (a.protocol() == QAbstractSocket::IPv6Protocol && !a.scopeId().isEmpty())
        return {};
    return normalized(a);
}

QHostAddress resolveClientAddress(const HttpRequest& request,
                                  const QList<QPair<QHostAddress, int>>& trustedProxies,
                                  ForwardedHeader header)
{
    QHostAddress peer = normalized(request.peerAddress);
    auto trusted = [&](const QHostAddress& a) {
        for (const auto& subnet : trustedProxies) {
            if (a.isInSubnet(subnet))
                return true;
        }
        return false;
    };
    if (trustedProxies.isEmpty() || !trusted(peer))
        return peer;
    const QList<QByteArray> hops = forwardedChain(request, header);
    for (auto it = hops.crbegin(); it != hops.crend(); ++it) {
        const QHostAddress hop = parseForwardedNode(*it);
        if (hop.isNull())
            break;
        if (!trusted(hop))
            return hop;
        peer = hop;
    }
    return peer;
}

} // namespace ehrs::server
