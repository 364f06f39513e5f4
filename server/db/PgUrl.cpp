// SPDX-License-Identifier: Apache-2.0
#include "PgUrl.h"

#include <QUrl>

namespace ehrs::server {
namespace {
Error invalid(const QString& what)
{
    return Error{ErrorCode::InvalidRequest, QStringLiteral("DATABASE_URL: %1").arg(what)};
}

QString decode(const QString& s)
{
    return QUrl::fromPercentEncoding(s.toUtf8());
}

/// The libpq parameters a DATABASE_URL may carry. The server sets the rest itself (statement and
/// lock timeouts, client_min_messages), and libpq refuses a URI with a parameter it does not know.
const QStringList& allowedParams()
{
    static const QStringList keys{
        QStringLiteral("sslmode"),
        QStringLiteral("sslrootcert"),
        QStringLiteral("sslcert"),
        QStringLiteral("sslkey"),
        QStringLiteral("sslcrl"),
        QStringLiteral("sslpassword"),
        QStringLiteral("application_name"),
        QStringLiteral("connect_timeout"),
        QStringLiteral("target_session_attrs"),
        QStringLiteral("keepalives"),
        QStringLiteral("keepalives_idle"),
        QStringLiteral("keepalives_interval"),
        QStringLiteral("keepalives_count"),
        QStringLiteral("tcp_user_timeout"),
        QStringLiteral("channel_binding"),
        QStringLiteral("gssencmode"),
        QStringLiteral("krbsrvname"),
        QStringLiteral("passfile"),
    };
    return keys;
}
} // namespace

QString PgUrl::param(const QString& key) const
{
    for (const auto& [k, v] : params) {
        if (k == key)
            return v;
    }
    return {};
}

QString PgUrl::hostList() const
{
    QStringList out;
    for (qsizetype i = 0; i < hosts.size(); ++i) {
        const QString h = hosts[i].contains(u':') ? u'[' + hosts[i] + u']' : hosts[i];
        out << h + u':' + QString::number(ports.value(i, 5432));
    }
    return out.join(u',');
}

Result<PgUrl> PgUrl::parse(const QString& url)
{
    QString rest;
    if (url.startsWith(u"postgres://"))
        rest = url.mid(11);
    else if (url.startsWith(u"postgresql://"))
        rest = url.mid(13);
    else
        return fail(invalid(QStringLiteral("must start with postgres:// or postgresql://")));

    PgUrl u;
    QString query;
    if (const qsizetype q = rest.indexOf(u'?'); q >= 0) {
        query = rest.mid(q + 1);
        rest.truncate(q);
    }
    QString authority = rest;
    QString path;
    if (const qsizetype slash = rest.indexOf(u'/'); slash >= 0) {
        authority = rest.left(slash);
        path = rest.mid(slash + 1);
    }
    if (const qsizetype at = authority.lastIndexOf(u'@'); at >= 0) {
        const QString userInfo = authority.left(at);
        authority = authority.mid(at + 1);
        const qsizetype colon = userInfo.indexOf(u':');
        u.user = decode(colon >= 0 ? userInfo.left(colon) : userInfo);
        if (colon >= 0)
            u.password = decode(userInfo.mid(colon + 1));
    }
    if (authority.isEmpty())
        return fail(invalid(
            QStringLiteral("no host (postgres://user:pass@host:5432/db, or several hosts: "
                           "postgres://user:pass@db1:5432,db2:5432/db?target_session_attrs=read-write)")));
    for (const QString& entry : authority.split(u',')) {
        QString host;
        QString port;
        if (entry.startsWith(u'[')) {
            const qsizetype close = entry.indexOf(u']');
            if (close < 0)
                return fail(invalid(QStringLiteral("unclosed [ in host \"%1\"").arg(entry)));
            host = entry.mid(1, close - 1);
            const QString after = entry.mid(close + 1);
            if (!after.isEmpty()) {
                if (!after.startsWith(u':'))
                    return fail(invalid(QStringLiteral("unexpected text after ] in host \"%1\"").arg(entry)));
                port = after.mid(1);
            }
        } else {
            const qsizetype colon = entry.indexOf(u':');
            host = colon >= 0 ? entry.left(colon) : entry;
            if (colon >= 0)
                port = entry.mid(colon + 1);
        }
        host = decode(host);
        if (host.isEmpty())
            return fail(invalid(QStringLiteral("empty host in the host list \"%1\"").arg(authority)));
        int portNumber = 5432;
        if (!port.isNull()) {
            bool ok = false;
            portNumber = port.toInt(&ok);
            if (!ok || portNumber < 1 || portNumber > 65535)
                return fail(invalid(QStringLiteral("port \"%1\" of host %2 is not a number from 1 to 65535")
                                        .arg(port, host)));
        }
        if (u.hosts.contains(host) && u.ports.value(u.hosts.indexOf(host)) == portNumber)
            return fail(invalid(QStringLiteral("host %1:%2 is listed twice").arg(host).arg(portNumber)));
        u.hosts << host;
        u.ports << portNumber;
    }
    u.dbname = decode(path);
    if (u.dbname.contains(u'/'))
        return fail(invalid(QStringLiteral("the database name \"%1\" contains a /").arg(u.dbname)));
    if (!query.isEmpty()) {
        for (const QString& item : query.split(u'&', Qt::SkipEmptyParts)) {
            const qsizetype eq = item.indexOf(u'=');
            const QString key = decode(eq >= 0 ? item.left(eq) : item);
            const QString value = eq >= 0 ? decode(item.mid(eq + 1)) : QString();
            if (!allowedParams().contains(key))
                return fail(invalid(QStringLiteral("unknown parameter \"%1\" (allowed: %2)")
                                        .arg(key, allowedParams().join(QStringLiteral(", ")))));
            if (value.isEmpty() || value.contains(u' ') || value.contains(u';') || value.contains(u'\''))
                return fail(
                    invalid(QStringLiteral("parameter %1 needs a value without spaces, ; or '").arg(key)));
            u.params.append({key, value});
        }
    }
    const QString attrs = u.param(QStringLiteral("target_session_attrs"));
    static const QStringList knownAttrs{QStringLiteral("any"),       QStringLiteral("read-write"),
                                        QStringLiteral("read-only"), QStringLiteral("primary"),
                                        QStringLiteral("standby"),   QStringLiteral("prefer-standby")};
    if (!attrs.isEmpty() && !knownAttrs.contains(attrs))
        return fail(
            invalid(QStringLiteral("target_session_attrs must be read-write or primary (or one of %1)")
                        .arg(knownAttrs.join(QStringLiteral(", ")))));
    // The server writes on every connection: with several hosts, one that is a standby must be
    // skipped, or the connection lands on a read-only server and every write fails.
    if (u.multiHost() && attrs != u"read-write" && attrs != u"primary")
        return fail(
            invalid(QStringLiteral("several hosts need ?target_session_attrs=read-write (or primary), so "
                                   "that every connection finds the writable primary")));
    if (!u.multiHost() && (attrs == u"read-only" || attrs == u"standby" || attrs == u"prefer-standby"))
        return fail(invalid(
            QStringLiteral("target_session_attrs=%1 would connect to a read-only server").arg(attrs)));
    return u;
}

} // namespace ehrs::server
