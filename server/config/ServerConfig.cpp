// SPDX-License-Identifier: Apache-2.0
#include "ServerConfig.h"

#include "cache/RedisEndpoint.h"
#include "db/PgUrl.h"
#include "geo/GeoLocator.h"
#include "policy/SessionPolicy.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QUrl>

namespace ehrs::server {
namespace {
Result<int> intSetting(const QMap<QString, QString>& v, const QString& key, int fallback, int min, int max)
{
    if (!v.contains(key) || v.value(key).trimmed().isEmpty())
        return fallback;
    bool ok = false;
    const int value = v.value(key).trimmed().toInt(&ok);
    if (!ok || value < min || value > max)
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("%1 must be a whole number from %2 to %3").arg(key).arg(min).arg(max));
    return value;
}
} // namespace

const QList<ConfigOption>& ServerConfig::options()
{
    static const QList<ConfigOption> opts = {
        {QStringLiteral("DATABASE_URL"), QStringLiteral("database-url"), QStringLiteral("url"),
         QStringLiteral("postgres://user:pass@host:5432/db or sqlite:///path/file.db. Default: an embedded "
                        "SQLite file in the data dir. Failover: several hosts, "
                        "postgres://user:pass@db1:5432,db2:5432/db?target_session_attrs=read-write.")},
        {QStringLiteral("DATABASE_POOL_SIZE"), QStringLiteral("database-pool-size"), QStringLiteral("n"),
         QStringLiteral(
             "PostgreSQL connections per worker thread for the request path (default 2): concurrent "
             "requests pipeline their queries on them and commit together.")},
        {QStringLiteral("DATABASE_QUERY_TIMEOUT_MS"), QStringLiteral("database-query-timeout-ms"),
         QStringLiteral("ms"),
         QStringLiteral(
             "Deadline of each PostgreSQL query on the request path (default 2000); past it the request "
             "gets 503 + Retry-After and the connection is replaced.")},
        {QStringLiteral("REDIS_URL"), QStringLiteral("redis-url"), QStringLiteral("url"),
         QStringLiteral("redis://[:password@]host:6379/0, or through Sentinel "
                        "redis-sentinel://[:password@]s1:26379,s2:26379,s3:26379/mymaster[/db]. Unset: an "
                        "in-process cache (single instance). "
                        "When Redis is down the server works from the database and reconnects by itself.")},
        {QStringLiteral("JWT_SECRET"), QString(), QString(),
         QStringLiteral(
             "The root secret, at least 32 bytes: the HS256 signing key and the other secret keys are "
             "derived from it (HKDF). Required with PostgreSQL; with the embedded default one is "
             "generated and kept in the data dir. Environment or config file only.")},
        {QStringLiteral("JWT_SECRET_FILE"), QStringLiteral("jwt-secret-file"), QStringLiteral("path"),
         QStringLiteral("Read JWT_SECRET from this file instead.")},
        {QStringLiteral("JWT_KEYS_DIR"), QStringLiteral("jwt-keys-dir"), QStringLiteral("dir"),
         QStringLiteral(
             "Sign access tokens with Ed25519 (EdDSA) keys kept in this directory (shared by every instance; "
             "the first key is created on start; rotate with `keys rotate`); public keys at "
             "/.well-known/jwks.json. Unset: HS256 with JWT_SECRET.")},
        {QStringLiteral("ACCESS_TOKEN_TTL"), QStringLiteral("access-token-ttl"), QStringLiteral("seconds"),
         QStringLiteral("Access token lifetime (default 900).")},
        {QStringLiteral("REFRESH_TOKEN_TTL"), QStringLiteral("refresh-token-ttl"), QStringLiteral("seconds"),
         QStringLiteral("Absolute session lifetime; each refresh token is valid this long after login "
                        "(default 604800 = 7 days).")},
        {QStringLiteral("REFRESH_GRACE_SECONDS"), QStringLiteral("refresh-grace"), QStringLiteral("seconds"),
         QStringLiteral(
             "A refresh token presented again within this many seconds of its rotation (a client that "
             "lost the response) gets the same new pair; later, it counts as stolen and ends the session "
             "(default 10, 0-60).")},
        {QStringLiteral("SESSION_IDLE_TIMEOUT"), QStringLiteral("idle-timeout"), QStringLiteral("seconds"),
         QStringLiteral("A session with no refresh or request for this long ends (default 43200 = 12 h).")},
        {QStringLiteral("CLEANUP_INTERVAL"), QStringLiteral("cleanup-interval"), QStringLiteral("seconds"),
         QStringLiteral("How often the in-process job deletes old sessions (default 3600; 0 disables).")},
        {QStringLiteral("SESSION_RETENTION"), QStringLiteral("session-retention"), QStringLiteral("seconds"),
         QStringLiteral("How long expired or revoked sessions are kept for review before deletion "
                        "(default 604800).")},
        {QStringLiteral("HOST"), QStringLiteral("host"), QStringLiteral("address"),
         QStringLiteral("Address to listen on (default 127.0.0.1).")},
        {QStringLiteral("PORT"), QStringLiteral("port"), QStringLiteral("port"),
         QStringLiteral("TCP port (default 8000; 0 picks a free one).")},
        {QStringLiteral("EHRS_DATA_DIR"), QStringLiteral("data-dir"), QStringLiteral("dir"),
         QStringLiteral("Where the embedded database and generated keys live (default "
                        "$XDG_DATA_HOME/ehr-sessions).")},
        {QStringLiteral("WORKER_THREADS"), QStringLiteral("threads"), QStringLiteral("n"),
         QStringLiteral(
             "HTTP worker threads, each with its own listener and connections (default: CPU count).")},
        {QStringLiteral("HASHING_THREADS"), QStringLiteral("hashing-threads"), QStringLiteral("n"),
         QStringLiteral("Threads that check and hash passwords (argon2id), shared by all workers "
                        "(default: CPU count).")},
        {QStringLiteral("HASHING_QUEUE"), QStringLiteral("hashing-queue"), QStringLiteral("n"),
         QStringLiteral("Password checks allowed to wait for a hashing thread (default 64); more get 503 "
                        "with Retry-After.")},
        {QStringLiteral("MAX_BODY_BYTES"), QStringLiteral("max-body-bytes"), QStringLiteral("bytes"),
         QStringLiteral("Largest accepted request body (default 65536); larger ones get 413.")},
        {QStringLiteral("HTTP_IDLE_TIMEOUT"), QStringLiteral("http-idle-timeout"), QStringLiteral("seconds"),
         QStringLiteral(
             "A connection that makes no progress for this long is closed: no request coming, or answers "
             "the client does not read (default 60).")},
        {QStringLiteral("MAX_CONNECTIONS_PER_CLIENT"), QStringLiteral("max-connections-per-client"),
         QStringLiteral("n"),
         QStringLiteral(
             "Open connections allowed per client address (IPv6: per /64) across all workers; more get 429. "
             "Trusted proxies are exempt. 0: no cap (default 256).")},
        {QStringLiteral("TRUSTED_PROXIES"), QStringLiteral("trusted-proxies"), QStringLiteral("cidrs"),
         QStringLiteral("Comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For "
                        "is believed (default: none).")},
        {QStringLiteral("TRUSTED_PROXY_HEADER"), QStringLiteral("trusted-proxy-header"),
         QStringLiteral("name"),
         QStringLiteral(
             "Header the trusted proxies write the client address into: X-Forwarded-For (default) or "
             "Forwarded (RFC 7239). Only that one is read; all its lines count.")},
        {QStringLiteral("RATE_LIMIT_LOGIN_ACCOUNT"), QStringLiteral("rate-limit-login-account"),
         QStringLiteral("n/s"),
         QStringLiteral(
             "Failed logins allowed per account per window (default 10/900); then 429 with Retry-After.")},
        {QStringLiteral("RATE_LIMIT_LOGIN_IP"), QStringLiteral("rate-limit-login-ip"), QStringLiteral("n/s"),
         QStringLiteral("Login attempts allowed per client address per window (default 100/60).")},
        {QStringLiteral("LOCKOUT_HELP_TEXT"), QStringLiteral("lockout-help-text"), QStringLiteral("text"),
         QStringLiteral(
             "What a person whose sign-in is paused by RATE_LIMIT_LOGIN_ACCOUNT or RATE_LIMIT_LOGIN_IP "
             "should do, shown by the app and returned as helpText in the 429, e.g. \"Call the service "
             "desk on 4444.\" At most 500 characters. Default: none.")},
        {QStringLiteral("RATE_LIMIT_MFA_ACCOUNT"), QStringLiteral("rate-limit-mfa-account"),
         QStringLiteral("n/s"),
         QStringLiteral("MFA code attempts allowed per account per window (default 5/300).")},
        {QStringLiteral("DEVICE_CREDENTIAL_TTL"), QStringLiteral("device-credential-ttl"),
         QStringLiteral("seconds"),
         QStringLiteral(
             "Lifetime of the device credential a client gets at sign-in, renewed on each use (default "
             "7776000, 90 days). A client presenting one is not locked out by other clients' failures.")},
        {QStringLiteral("DEVICE_CREDENTIAL_MAX_FAILURES"), QStringLiteral("device-credential-max-failures"),
         QStringLiteral("n"),
         QStringLiteral("Wrong passwords in a row that revoke a device credential (default 5).")},
        {QStringLiteral("RATE_LIMIT_REFRESH_SESSION"), QStringLiteral("rate-limit-refresh-session"),
         QStringLiteral("n/s"),
         QStringLiteral(
             "Refreshes allowed per session per window (default 30/60). Limits are shared through Redis.")},
        {QStringLiteral("INTROSPECTION_CLIENTS"), QString(), QString(),
         QStringLiteral("Services allowed to call POST /api/sessions/introspect (RFC 7662) with HTTP Basic "
                        "credentials: id:secret[,id:secret...]; secrets of at least 16 characters.")},
        {QStringLiteral("CORS_ORIGINS"), QStringLiteral("cors-origins"), QStringLiteral("origins"),
         QStringLiteral(
             "Comma-separated exact origins (https://ehr.example.org) allowed to call the API from a "
             "browser. Default: none.")},
        {QStringLiteral("LOG_FORMAT"), QStringLiteral("log-format"), QStringLiteral("auto|text|json|journal"),
         QStringLiteral(
             "json: one JSON object per log line (for log shippers); journal: journald entries with "
             "structured fields (REQUEST_ID, EVENT, USER_ID, SESSION_ID). Default: auto, the journal "
             "when stderr is connected to it (under systemd), else text.")},
        {QStringLiteral("TLS_CERT_FILE"), QStringLiteral("tls-cert"), QStringLiteral("pem"),
         QStringLiteral(
             "Serve HTTPS with this PEM certificate chain (with TLS_KEY_FILE). Default: plain HTTP, for a "
             "TLS-terminating load balancer in front.")},
        {QStringLiteral("TLS_KEY_FILE"), QStringLiteral("tls-key"), QStringLiteral("pem"),
         QStringLiteral("The PEM private key (RSA or EC) of TLS_CERT_FILE.")},
        {QStringLiteral("GEOIP_DB"), QStringLiteral("geoip-db"), QStringLiteral("mmdb"),
         QStringLiteral(
             "A MaxMind-format city database (e.g. GeoLite2-City.mmdb) to show where sessions are. "
             "Unset: private addresses show \"Local network\", others nothing.")},
        {QStringLiteral("NETWORK_LOCATIONS"), QStringLiteral("network-locations"),
         QStringLiteral("cidr=name;..."),
         QStringLiteral(
             "Names for the hospital's networks, shown instead of \"Local network\": "
             "CIDR=Name entries separated by ';', e.g. \"10.20.0.0/16=St Mary's, Ward 3;10.30.0.0/16="
             "Outpatients\". The most specific range wins. Default: none.")},
        {QStringLiteral("SHARED_WORKSTATION_NETWORKS"), QStringLiteral("shared-workstation-networks"),
         QStringLiteral("cidr,..."),
         QStringLiteral(
             "Networks of shared workstations (nurse stations), CIDRs separated by commas: a "
             "sign-in from them is a shared-workstation session whatever the client claims, so "
             "the device-class policy of shared workstations applies (docs/workstation-policy.md). "
             "Default: none.")},
        {QStringLiteral("METRICS_TOKEN"), QString(), QString(),
         QStringLiteral(
             "When set, GET /metrics requires Authorization: Bearer <token> from any address. Unset: "
             "/metrics answers only direct (not proxied) connections from loopback.")},
        {QStringLiteral("JWT_ISSUER"), QStringLiteral("issuer"), QStringLiteral("iss"),
         QStringLiteral("The iss claim of access tokens (default ehr-sessions).")},
        {QStringLiteral("JWT_AUDIENCE"), QStringLiteral("audience"), QStringLiteral("aud"),
         QStringLiteral("The aud claim of access tokens (default ehr).")},
        {QStringLiteral("SMTP_URL"), QString(), QString(),
         QStringLiteral(
             "Send account emails (new sign-in, suspicious sign-in, password or two-step change, "
             "refresh-token reuse) through this server: smtp://host:587 (STARTTLS when offered) or "
             "smtps://host:465, optionally smtp://user:password@host. Unset (default): no emails.")},
        {QStringLiteral("SMTP_USER"), QString(), QString(),
         QStringLiteral("SMTP user name, when not in SMTP_URL.")},
        {QStringLiteral("SMTP_PASSWORD"), QString(), QString(),
         QStringLiteral("SMTP password, when not in SMTP_URL.")},
        {QStringLiteral("SMTP_FROM"), QStringLiteral("smtp-from"), QStringLiteral("address"),
         QStringLiteral("The From address of account emails (required with SMTP_URL).")},
        {QStringLiteral("SMTP_RETRY_MIN_SECONDS"), QStringLiteral("smtp-retry-min"),
         QStringLiteral("seconds"),
         QStringLiteral(
             "Wait before retrying a mail the server did not take; doubles each time (default 30).")},
        {QStringLiteral("SMTP_RETRY_MAX_SECONDS"), QStringLiteral("smtp-retry-max"),
         QStringLiteral("seconds"), QStringLiteral("Longest wait between retries (default 3600).")},
        {QStringLiteral("SMTP_MAX_ATTEMPTS"), QStringLiteral("smtp-max-attempts"), QStringLiteral("n"),
         QStringLiteral("Delivery attempts before a mail is given up (default 12).")},
        {QStringLiteral("SMTP_TIMEOUT_SECONDS"), QStringLiteral("smtp-timeout"), QStringLiteral("seconds"),
         QStringLiteral("Deadline of one delivery attempt (default 30).")},
        {QStringLiteral("NOTIFY_POLL_SECONDS"), QStringLiteral("notify-poll"), QStringLiteral("seconds"),
         QStringLiteral("How often the notifier reads new account events and sends due mails (default 5).")},
        {QStringLiteral("REMEMBER_DEVICE_DAYS"), QStringLiteral("remember-device-days"),
         QStringLiteral("days"),
         QStringLiteral("After a second factor, a device may be remembered for this many days: its device "
                        "credential then satisfies the second factor unless the sign-in is suspicious. "
                        "0 turns remembering off (default 30).")},
        {QStringLiteral("SUSPICIOUS_SIGNIN_THRESHOLD"), QStringLiteral("suspicious-threshold"),
         QStringLiteral("score"),
         QStringLiteral("A sign-in scoring at least this is suspicious (default 50; signals: new device 20, "
                        "new place 30, impossible travel 50, failure burst 30, new browser family 15).")},
        {QStringLiteral("SUSPICIOUS_SIGNIN_MAX_KMH"), QStringLiteral("suspicious-max-kmh"),
         QStringLiteral("km/h"),
         QStringLiteral("Travel between two sign-ins faster than this is impossible travel (default 900).")},
        {QStringLiteral("SUSPICIOUS_SIGNIN_FAILURES"), QStringLiteral("suspicious-failures"),
         QStringLiteral("n"),
         QStringLiteral("This many wrong passwords within SUSPICIOUS_SIGNIN_FAILURE_WINDOW before a success "
                        "are a failure burst (default 3).")},
        {QStringLiteral("SUSPICIOUS_SIGNIN_FAILURE_WINDOW"), QStringLiteral("suspicious-failure-window"),
         QStringLiteral("seconds"), QStringLiteral("See SUSPICIOUS_SIGNIN_FAILURES (default 900).")},
    };
    return opts;
}

QString ServerConfig::defaultDataDir(const QMap<QString, QString>& env)
{
    if (!env.value(QStringLiteral("EHRS_DATA_DIR")).isEmpty())
        return env.value(QStringLiteral("EHRS_DATA_DIR"));
    if (!env.value(QStringLiteral("XDG_DATA_HOME")).isEmpty())
        return env.value(QStringLiteral("XDG_DATA_HOME")) + QStringLiteral("/ehr-sessions");
    return QDir::homePath() + QStringLiteral("/.local/share/ehr-sessions");
}

QString ServerConfig::effectiveDatabaseUrl() const
{
    if (!databaseUrl.isEmpty())
        return databaseUrl;
    return QStringLiteral("sqlite://") + QDir(dataDir).absoluteFilePath(QStringLiteral("ehr-sessions.db"));
}

Result<QMap<QString, QString>> ServerConfig::readConfigFile(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text))
        return fail(ErrorCode::InvalidRequest, QStringLiteral("cannot read config file %1: %2").arg(path, f.errorString()));
    QMap<QString, QString> out;
    int lineNo = 0;
    while (!f.atEnd()) {
        ++lineNo;
        QString line = QString::fromUtf8(f.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        if (line.startsWith(u"export "))
            line = line.mid(7).trimmed();
        const qsizetype eq = line.indexOf(u'=');
        if (eq <= 0)
            return fail(ErrorCode::InvalidRequest, QStringLiteral("%1:%2: expected KEY=VALUE").arg(path).arg(lineNo));
        const QString key = line.left(eq).trimmed();
        QString value = line.mid(eq + 1).trimmed();
        if (value.size() >= 2 && (value.front() == u'"' || value.front() == u'\'') && value.back() == value.front())
            value = value.mid(1, value.size() - 2);
        bool known = false;
        for (const auto& o : options())
            known = known || o.key == key;
        if (!known)
            return fail(ErrorCode::InvalidRequest, QStringLiteral("%1:%2: unknown setting %3").arg(path).arg(lineNo).arg(key));
        out.insert(key, value);
    }
    return out;
}

Result<ServerConfig> ServerConfig::load(const QMap<QString, QString>& environment, const QString& configFile,
                                        const QMap<QString, QString>& flagValues)
{
    QMap<QString, QString> v;
    for (const auto& o : options()) {
        if (environment.contains(o.key))
            v.insert(o.key, environment.value(o.key));
    }
    if (!configFile.isEmpty()) {
        auto file = readConfigFile(configFile);
        if (!file)
            return fail(file.error());
        for (auto it = file->cbegin(); it != file->cend(); ++it)
            v.insert(it.key(), it.value());
    }
    for (const auto& o : options()) {
        if (!o.flag.isEmpty() && flagValues.contains(o.flag))
            v.insert(o.key, flagValues.value(o.flag));
    }

    for (auto it = v.cbegin(); it != v.cend(); ++it) {
        if (it.value().contains(QChar(0)))
            return fail(ErrorCode::InvalidRequest, QStringLiteral("%1 contains a NUL character").arg(it.key()));
    }
    ServerConfig c;
    c.databaseUrl = v.value(QStringLiteral("DATABASE_URL")).trimmed();
    c.redisUrl = v.value(QStringLiteral("REDIS_URL")).trimmed();
    QMap<QString, QString> envForDir = environment;
    if (v.contains(QStringLiteral("EHRS_DATA_DIR")))
        envForDir.insert(QStringLiteral("EHRS_DATA_DIR"), v.value(QStringLiteral("EHRS_DATA_DIR")));
    c.dataDir = defaultDataDir(envForDir);

    if (!c.databaseUrl.isEmpty() && !c.databaseUrl.startsWith(u"postgres://") &&
        !c.databaseUrl.startsWith(u"postgresql://") && !c.databaseUrl.startsWith(u"sqlite://"))
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("DATABASE_URL must start with postgres://, postgresql:// or sqlite://"));
    if (c.usesPostgres()) {
        if (auto pg = PgUrl::parse(c.databaseUrl); !pg)
            return fail(pg.error());
    }
    if (!c.redisUrl.isEmpty() && !c.redisUrl.startsWith(u"redis://") &&
        !c.redisUrl.startsWith(u"redis-sentinel://"))
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("REDIS_URL must start with redis:// or redis-sentinel://"));
    if (!c.redisUrl.isEmpty()) {
        if (auto redis = RedisEndpoint::parse(c.redisUrl); !redis)
            return fail(redis.error());
    }

    c.jwtSecret = v.value(QStringLiteral("JWT_SECRET")).toUtf8();
    const QString secretFile = v.value(QStringLiteral("JWT_SECRET_FILE"));
    if (c.jwtSecret.isEmpty() && !secretFile.isEmpty()) {
        QFile f(secretFile);
        if (!f.open(QIODevice::ReadOnly))
            return fail(ErrorCode::InvalidRequest, QStringLiteral("cannot read JWT_SECRET_FILE %1").arg(secretFile));
        c.jwtSecret = f.readAll().trimmed();
    }
    if (!c.jwtSecret.isEmpty() && c.jwtSecret.size() < 32)
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("JWT_SECRET is too weak: use at least 32 random bytes (e.g. openssl rand -base64 48)"));
    if (c.jwtSecret.isEmpty() && c.usesPostgres())
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("JWT_SECRET is required with PostgreSQL (at least 32 random bytes), so that every "
                                   "instance signs with the same key"));

    auto num = [&](const char* key, int fallback, int min, int max, int& out) -> Result<void> {
        auto r = intSetting(v, QString::fromLatin1(key), fallback, min, max);
        if (!r)
            return fail(r.error());
        out = *r;
        return {};
    };
    int port = 8000;
    for (auto r : {num("ACCESS_TOKEN_TTL", 900, 1, 86400, c.accessTokenTtl),
                   num("REFRESH_TOKEN_TTL", 604800, 1, 31536000, c.refreshTokenTtl),
                   num("SESSION_IDLE_TIMEOUT", 43200, 1, 31536000, c.idleTimeout),
                   num("REFRESH_GRACE_SECONDS", 10, 0, 60, c.refreshGraceSeconds),
                   num("CLEANUP_INTERVAL", 3600, 0, 604800, c.cleanupInterval),
                   num("SESSION_RETENTION", 604800, 0, 31536000 * 10, c.sessionRetention),
                   num("PORT", 8000, 0, 65535, port), num("WORKER_THREADS", 0, 0, 256, c.workerThreads)}) {
        if (!r)
            return fail(r.error());
    }
    c.port = quint16(port);
    int maxBody = 64 * 1024;
    if (auto r = num("MAX_BODY_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024, maxBody); !r)
        return fail(r.error());
    c.maxBodyBytes = maxBody;
    if (auto r = num("HTTP_IDLE_TIMEOUT", 60, 1, 3600, c.httpIdleTimeout); !r)
        return fail(r.error());
    if (auto r = num("DATABASE_POOL_SIZE", 2, 1, 64, c.databasePoolSize); !r)
        return fail(r.error());
    if (auto r = num("DATABASE_QUERY_TIMEOUT_MS", 2000, 100, 600000, c.databaseQueryTimeoutMs); !r)
        return fail(r.error());
    if (auto r = num("MAX_CONNECTIONS_PER_CLIENT", 256, 0, 1'000'000, c.maxConnectionsPerClient); !r)
        return fail(r.error());
    for (auto r : {num("HASHING_THREADS", 0, 0, 256, c.hashingThreads),
                   num("HASHING_QUEUE", 64, 0, 100'000, c.hashingQueue)}) {
        if (!r)
            return fail(r.error());
    }
    for (auto r : {num("DEVICE_CREDENTIAL_TTL", 90 * 86400, 60, 31536000, c.deviceCredentialTtl),
                   num("DEVICE_CREDENTIAL_MAX_FAILURES", 5, 1, 100, c.deviceCredentialMaxFailures)}) {
        if (!r)
            return fail(r.error());
    }
    if (c.refreshTokenTtl < c.accessTokenTtl)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("REFRESH_TOKEN_TTL must not be shorter than ACCESS_TOKEN_TTL"));

    const QString host = v.value(QStringLiteral("HOST"), QStringLiteral("127.0.0.1")).trimmed();
    c.hostName = host;
    if (host == u"localhost")
        c.host = QHostAddress::LocalHost;
    else if (!c.host.setAddress(host))
        return fail(ErrorCode::InvalidRequest, QStringLiteral("HOST must be an IP address, e.g. 127.0.0.1 or 0.0.0.0"));

    const QString proxies = v.value(QStringLiteral("TRUSTED_PROXIES")).trimmed();
    if (!proxies.isEmpty()) {
        for (const QString& item : proxies.split(u',', Qt::SkipEmptyParts)) {
            const QString t = item.trimmed();
            // Strict: a full address and an in-range prefix (QHostAddress::parseSubnet also takes
            // abbreviations like "10.0", with surprising prefixes).
            const qsizetype slash = t.indexOf(u'/');
            QHostAddress address;
            const bool addressOk = address.setAddress(slash < 0 ? t : t.left(slash)) &&
                                   (address.protocol() == QAbstractSocket::IPv6Protocol ||
                                    (slash < 0 ? t : t.left(slash)).count(u'.') == 3);
            const int maxPrefix = address.protocol() == QAbstractSocket::IPv6Protocol ? 128 : 32;
            bool prefixOk = true;
            const int prefix = slash < 0 ? maxPrefix : t.mid(slash + 1).toInt(&prefixOk);
            if (!addressOk || !prefixOk || prefix < 0 || prefix > maxPrefix)
                return fail(ErrorCode::InvalidRequest, QStringLiteral("TRUSTED_PROXIES: '%1' is not an address or CIDR").arg(t));
            c.trustedProxies.append({address, prefix});
        }
    }
    const QString proxyHeader = v.value(QStringLiteral("TRUSTED_PROXY_HEADER")).trimmed().toLower();
    if (proxyHeader == u"forwarded")
        c.forwardedHeader = ForwardedHeader::Forwarded;
    else if (!proxyHeader.isEmpty() && proxyHeader != u"x-forwarded-for")
        return fail(ErrorCode::InvalidRequest, QStringLiteral("TRUSTED_PROXY_HEADER must be X-Forwarded-For or Forwarded"));
    for (auto [key, rule] : {std::pair{"RATE_LIMIT_LOGIN_ACCOUNT", &c.loginPerAccount},
                             std::pair{"RATE_LIMIT_LOGIN_IP", &c.loginPerIp},
                             std::pair{"RATE_LIMIT_MFA_ACCOUNT", &c.mfaPerAccount},
                             std::pair{"RATE_LIMIT_REFRESH_SESSION", &c.refreshPerSession}}) {
        const QString text = v.value(QString::fromLatin1(key)).trimmed();
        if (text.isEmpty())
            continue;
        auto parsed = RateLimitRule::parse(text);
        if (!parsed)
            return fail(ErrorCode::InvalidRequest, QString::fromLatin1(key) + QStringLiteral(": ") + parsed.error().message);
        *rule = *parsed;
    }
    c.metricsToken = v.value(QStringLiteral("METRICS_TOKEN")).toUtf8();
    c.jwtKeysDir = v.value(QStringLiteral("JWT_KEYS_DIR")).trimmed();
    c.geoipDatabase = v.value(QStringLiteral("GEOIP_DB")).trimmed();
    c.lockoutHelpText = v.value(QStringLiteral("LOCKOUT_HELP_TEXT")).simplified();
    if (c.lockoutHelpText.size() > 500)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("LOCKOUT_HELP_TEXT: at most 500 characters"));
    c.networkLocations = v.value(QStringLiteral("NETWORK_LOCATIONS")).trimmed();
    if (auto named = GeoLocator::parseNetworkLocations(c.networkLocations); !named)
        return fail(named.error());
    if (auto shared = PolicyResolver::parseNetworks(v.value(QStringLiteral("SHARED_WORKSTATION_NETWORKS")));
        shared)
        c.sharedWorkstationNetworks = *shared;
    else
        return fail(shared.error());
    for (const QString& item : v.value(QStringLiteral("INTROSPECTION_CLIENTS")).split(u',', Qt::SkipEmptyParts)) {
        const qsizetype colon = item.indexOf(u':');
        const QString id = item.left(colon).trimmed();
        const QByteArray secret = item.mid(colon + 1).trimmed().toUtf8();
        if (colon <= 0 || id.isEmpty() || secret.size() < 16)
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("INTROSPECTION_CLIENTS: use id:secret pairs with secrets of at least 16 characters"));
        c.introspectionClients.insert(id, secret);
    }
    for (const QString& item : v.value(QStringLiteral("CORS_ORIGINS")).split(u',', Qt::SkipEmptyParts)) {
        const QString origin = item.trimmed();
        // Exactly as browsers serialise an Origin header (lower case, no default port, nothing
        // after the authority), or it would never match one.
        const QUrl url(origin, QUrl::StrictMode);
        const bool web = url.scheme() == u"https" || url.scheme() == u"http";
        const int defaultPort = url.scheme() == u"https" ? 443 : 80;
        // Browsers send internationalised hosts in their ASCII (punycode) form.
        const QString originHost = url.host(QUrl::FullyEncoded);
        QString serialised = url.scheme() + QStringLiteral("://") +
                             (originHost.contains(u':') ? u'[' + originHost + u']' : originHost);
        if (url.port() != -1)
            serialised += u':' + QString::number(url.port());
        if (!url.isValid() || !web || url.host().isEmpty() || url.port() == defaultPort || url.hasQuery() ||
            url.hasFragment() || !url.userInfo().isEmpty() || origin != serialised)
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("CORS_ORIGINS: '%1' is not an origin like https://ehr.example.org").arg(origin));
        c.corsOrigins << origin;
    }
    const QString logFormat = v.value(QStringLiteral("LOG_FORMAT"), QStringLiteral("auto")).trimmed();
    if (logFormat != u"text" && logFormat != u"json" && logFormat != u"journal" && logFormat != u"auto")
        return fail(ErrorCode::InvalidRequest, QStringLiteral("LOG_FORMAT must be auto, text, json or journal"));
    c.jsonLogs = logFormat == u"json";
    c.logFormat = logFormat;
    c.tlsCertFile = v.value(QStringLiteral("TLS_CERT_FILE")).trimmed();
    c.tlsKeyFile = v.value(QStringLiteral("TLS_KEY_FILE")).trimmed();
    if (c.tlsCertFile.isEmpty() != c.tlsKeyFile.isEmpty())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("TLS_CERT_FILE and TLS_KEY_FILE go together"));
    for (auto r : {num("SMTP_RETRY_MIN_SECONDS", 30, 1, 86400, c.smtpRetryMinSeconds),
                   num("SMTP_RETRY_MAX_SECONDS", 3600, 1, 7 * 86400, c.smtpRetryMaxSeconds),
                   num("SMTP_MAX_ATTEMPTS", 12, 1, 100, c.smtpMaxAttempts),
                   num("SMTP_TIMEOUT_SECONDS", 30, 1, 600, c.smtpTimeoutSeconds),
                   num("NOTIFY_POLL_SECONDS", 5, 1, 3600, c.notifyPollSeconds),
                   num("REMEMBER_DEVICE_DAYS", 30, 0, 365, c.rememberDeviceDays),
                   num("SUSPICIOUS_SIGNIN_THRESHOLD", 50, 1, 1000, c.suspiciousThreshold),
                   num("SUSPICIOUS_SIGNIN_MAX_KMH", 900, 1, 100000, c.suspiciousMaxKmh),
                   num("SUSPICIOUS_SIGNIN_FAILURES", 3, 1, 1000, c.suspiciousFailureBurst),
                   num("SUSPICIOUS_SIGNIN_FAILURE_WINDOW", 900, 1, 86400, c.suspiciousFailureWindow)}) {
        if (!r)
            return fail(r.error());
    }
    c.smtpUrl = v.value(QStringLiteral("SMTP_URL")).trimmed();
    c.smtpUser = v.value(QStringLiteral("SMTP_USER"));
    c.smtpPassword = v.value(QStringLiteral("SMTP_PASSWORD")).toUtf8();
    c.smtpFrom = v.value(QStringLiteral("SMTP_FROM")).trimmed();
    if (!c.smtpUrl.isEmpty()) {
        // Never echo the URL: it may carry the SMTP password.
        const QUrl smtp(c.smtpUrl, QUrl::StrictMode);
        if (!smtp.isValid() || (smtp.scheme() != u"smtp" && smtp.scheme() != u"smtps") ||
            smtp.host().isEmpty())
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("SMTP_URL must look like smtp://host:587 or smtps://host:465"));
        static const QRegularExpression address(QStringLiteral("^[^@\\s<>\"]+@[^@\\s<>\"]+$"));
        if (!address.match(c.smtpFrom).hasMatch())
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("SMTP_FROM must be an email address (required with SMTP_URL)"));
    }
    c.issuer = v.value(QStringLiteral("JWT_ISSUER"), c.issuer);
    c.audience = v.value(QStringLiteral("JWT_AUDIENCE"), c.audience);
    if (c.issuer.isEmpty() || c.audience.isEmpty())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("JWT_ISSUER and JWT_AUDIENCE must not be empty"));
    return c;
}

} // namespace ehrs::server
