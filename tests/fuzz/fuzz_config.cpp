// SPDX-License-Identifier: Apache-2.0
// Server configuration parsing: ServerConfig::readConfigFile on arbitrary files (KEY=VALUE lines),
// ServerConfig::load on what it read, and RateLimitRule::parse. A setting must mean the same from
// the config file as from the environment, and whatever load() accepts must be within the bounds
// it documents.

#include "FuzzSupport.h"

#include "config/ServerConfig.h"
#include "ratelimit/RateLimiter.h"

#include <QUrl>

#include <sys/mman.h>
#include <unistd.h>

using namespace ehrs;
using namespace ehrs::server;

namespace {
// The input goes to a file for every run: an anonymous in-memory file (memfd), opened by its
// /proc path, so that nothing touches a disk or is left behind when libFuzzer exits.
struct MemoryFile
{
    int fd = -1;
    QString path;
};

MemoryFile memoryFile(const char* name)
{
    const int fd = memfd_create(name, 0);
    if (fd < 0)
        std::abort();
    return {fd, QStringLiteral("/proc/self/fd/%1").arg(fd)};
}

void write(const MemoryFile& file, QByteArrayView bytes)
{
    if (ftruncate(file.fd, 0) != 0)
        std::abort();
    qsizetype done = 0;
    while (done < bytes.size()) {
        const ssize_t n = pwrite(file.fd, bytes.data() + done, size_t(bytes.size() - done), off_t(done));
        if (n <= 0)
            std::abort();
        done += n;
    }
}

struct Files
{
    MemoryFile config = memoryFile("server.env");
    MemoryFile secret = memoryFile("jwt-secret");
};

Files& files()
{
    static Files f;
    return f;
}

void checkRule(const QString& text)
{
    const auto rule = RateLimitRule::parse(text);
    if (!rule)
        return;
    FUZZ_CHECK(rule->limit >= 0 && rule->windowSeconds >= 1 && rule->windowSeconds <= 86400,
               QStringLiteral("rule %1/%2 from \"%3\"").arg(rule->limit).arg(rule->windowSeconds).arg(fuzz::shown(text)));
    const auto again = RateLimitRule::parse(QStringLiteral("%1/%2").arg(rule->limit).arg(rule->windowSeconds));
    FUZZ_CHECK(again && again->limit == rule->limit && again->windowSeconds == rule->windowSeconds,
               QStringLiteral("rule round trip for \"%1\"").arg(fuzz::shown(text)));
}

bool isSerializedOrigin(const QString& origin)
{
    const QUrl url(origin, QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != u"https" && url.scheme() != u"http") || url.host().isEmpty() ||
        !url.userInfo().isEmpty() || !url.path().isEmpty() || url.hasQuery() || url.hasFragment())
        return false;
    const int defaultPort = url.scheme() == u"https" ? 443 : 80;
    // Browsers write the host in ASCII (punycode for IDN) and IPv6 addresses in brackets.
    const QString host = url.host(QUrl::FullyEncoded);
    QString serialized = url.scheme() + QStringLiteral("://") + (host.contains(u':') ? u'[' + host + u']' : host);
    if (url.port() != -1 && url.port() != defaultPort)
        serialized += u':' + QString::number(url.port());
    return origin == serialized;
}

void checkRuleBounds(const RateLimitRule& r, const char* name)
{
    FUZZ_CHECK(r.limit >= 0 && r.windowSeconds >= 1 && r.windowSeconds <= 86400, QString::fromLatin1(name));
}

void checkConfig(const ServerConfig& c)
{
    FUZZ_CHECK(c.accessTokenTtl >= 1 && c.accessTokenTtl <= 86400, QStringLiteral("ACCESS_TOKEN_TTL %1").arg(c.accessTokenTtl));
    FUZZ_CHECK(c.refreshTokenTtl >= c.accessTokenTtl && c.refreshTokenTtl <= 31536000,
               QStringLiteral("REFRESH_TOKEN_TTL %1").arg(c.refreshTokenTtl));
    FUZZ_CHECK(c.idleTimeout >= 1 && c.idleTimeout <= 31536000, QStringLiteral("SESSION_IDLE_TIMEOUT"));
    FUZZ_CHECK(c.cleanupInterval >= 0 && c.sessionRetention >= 0, QStringLiteral("cleanup settings"));
    FUZZ_CHECK(c.workerThreads >= 0 && c.workerThreads <= 256, QStringLiteral("WORKER_THREADS"));
    FUZZ_CHECK(c.maxBodyBytes >= 1024 && c.maxBodyBytes <= 16 * 1024 * 1024, QStringLiteral("MAX_BODY_BYTES"));
    FUZZ_CHECK(c.jwtSecret.isEmpty() || c.jwtSecret.size() >= 32, QStringLiteral("weak JWT_SECRET accepted"));
    FUZZ_CHECK(!c.usesPostgres() || !c.jwtSecret.isEmpty(), QStringLiteral("PostgreSQL without JWT_SECRET"));
    FUZZ_CHECK(c.databaseUrl.isEmpty() || c.databaseUrl.startsWith(u"postgres://") ||
                   c.databaseUrl.startsWith(u"postgresql://") || c.databaseUrl.startsWith(u"sqlite://"),
               QStringLiteral("DATABASE_URL ") + fuzz::shown(c.databaseUrl));
    FUZZ_CHECK(c.redisUrl.isEmpty() || c.redisUrl.startsWith(u"redis://"), QStringLiteral("REDIS_URL"));
    FUZZ_CHECK(!c.host.isNull(), QStringLiteral("HOST accepted without an address"));
    FUZZ_CHECK(!c.issuer.isEmpty() && !c.audience.isEmpty(), QStringLiteral("empty issuer or audience"));
    for (const auto& proxy : c.trustedProxies)
        FUZZ_CHECK(!proxy.first.isNull() && proxy.second >= 0 &&
                       proxy.second <= (proxy.first.protocol() == QAbstractSocket::IPv6Protocol ? 128 : 32),
                   QStringLiteral("TRUSTED_PROXIES entry %1/%2").arg(proxy.first.toString()).arg(proxy.second));
    for (auto it = c.introspectionClients.cbegin(); it != c.introspectionClients.cend(); ++it)
        FUZZ_CHECK(!it.key().isEmpty() && it.value().size() >= 16, QStringLiteral("INTROSPECTION_CLIENTS entry"));
    // Worker.cpp compares the Origin header with these strings exactly, and browsers send an origin
    // serialized per RFC 6454 (lower-case scheme and host, no default port): an entry in another
    // form is accepted but can never match.
    for (const QString& origin : c.corsOrigins)
        FUZZ_CHECK(isSerializedOrigin(origin), QStringLiteral("CORS origin that no browser sends: ") + fuzz::shown(origin));
    checkRuleBounds(c.loginPerAccount, "RATE_LIMIT_LOGIN_ACCOUNT");
    checkRuleBounds(c.loginPerIp, "RATE_LIMIT_LOGIN_IP");
    checkRuleBounds(c.mfaPerAccount, "RATE_LIMIT_MFA_ACCOUNT");
    checkRuleBounds(c.refreshPerSession, "RATE_LIMIT_REFRESH_SESSION");
}

bool sameConfig(const ServerConfig& a, const ServerConfig& b)
{
    const auto sameRule = [](const RateLimitRule& x, const RateLimitRule& y) {
        return x.limit == y.limit && x.windowSeconds == y.windowSeconds;
    };
    return a.databaseUrl == b.databaseUrl && a.redisUrl == b.redisUrl && a.jwtSecret == b.jwtSecret &&
           a.dataDir == b.dataDir && a.host == b.host && a.port == b.port && a.accessTokenTtl == b.accessTokenTtl &&
           a.refreshTokenTtl == b.refreshTokenTtl && a.idleTimeout == b.idleTimeout &&
           a.cleanupInterval == b.cleanupInterval && a.sessionRetention == b.sessionRetention &&
           a.workerThreads == b.workerThreads && a.maxBodyBytes == b.maxBodyBytes &&
           a.trustedProxies == b.trustedProxies && a.issuer == b.issuer && a.audience == b.audience &&
           sameRule(a.loginPerAccount, b.loginPerAccount) && sameRule(a.loginPerIp, b.loginPerIp) &&
           sameRule(a.mfaPerAccount, b.mfaPerAccount) && sameRule(a.refreshPerSession, b.refreshPerSession) &&
           a.introspectionClients == b.introspectionClients && a.corsOrigins == b.corsOrigins &&
           a.jsonLogs == b.jsonLogs && a.jwtKeysDir == b.jwtKeysDir && a.metricsToken == b.metricsToken;
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    fuzz::quietQtMessages();
    (void)files();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char*>(data), qsizetype(size));
    Files& f = files();

    const QString text = QString::fromUtf8(input);
    checkRule(text);
    for (const QString& line : text.split(u'\n'))
        checkRule(line.section(u'=', -1));

    write(f.config, input);
    const auto settings = ServerConfig::readConfigFile(f.config.path);
    if (!settings)
        return 0;
    for (auto it = settings->cbegin(); it != settings->cend(); ++it) {
        bool known = false;
        for (const ConfigOption& o : ServerConfig::options())
            known = known || o.key == it.key();
        FUZZ_CHECK(known, QStringLiteral("unknown key read: ") + fuzz::shown(it.key()));
        FUZZ_CHECK(!it.value().contains(u'\n'), QStringLiteral("value spans lines"));
    }

    // The same settings from the environment. JWT_SECRET_FILE would name any file of this machine
    // (/dev/zero...): point it at a file holding what the fuzzer wrote as its path instead.
    QMap<QString, QString> environment = *settings;
    const QString secretFile = QStringLiteral("JWT_SECRET_FILE");
    if (environment.contains(secretFile)) {
        write(f.secret, environment.value(secretFile).toUtf8());
        environment.insert(secretFile, f.secret.path);
    }
    const auto fromEnvironment = ServerConfig::load(environment, QString(), {});
    if (fromEnvironment)
        checkConfig(*fromEnvironment);
    if (!settings->contains(secretFile)) {
        const auto fromFile = ServerConfig::load({}, f.config.path, {});
        if (fromFile)
            checkConfig(*fromFile);
        FUZZ_CHECK(fromFile.has_value() == fromEnvironment.has_value() &&
                       (!fromFile || sameConfig(*fromFile, *fromEnvironment)),
                   QStringLiteral("the config file and the environment disagree: %1 / %2")
                       .arg(fromFile ? QStringLiteral("ok") : fromFile.error().message,
                            fromEnvironment ? QStringLiteral("ok") : fromEnvironment.error().message));
    }
    return 0;
}
