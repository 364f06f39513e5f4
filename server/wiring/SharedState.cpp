// SPDX-License-Identifier: Apache-2.0
#include "SharedState.h"

#include "Crypto.h"
#include "Logging.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QSaveFile>
#include <QSslCertificate>
#include <QSslKey>

namespace ehrs::server {
namespace {
/// The embedded default's own secret: generated once, kept 0600 in the data dir.
Result<QByteArray> loadOrCreateSecret(const QString& dataDir)
{
    if (!QDir().mkpath(dataDir))
        return fail(ErrorCode::StorageError, QStringLiteral("cannot create data dir %1").arg(dataDir));
    QFile::setPermissions(dataDir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    const QString path = QDir(dataDir).filePath(QStringLiteral("jwt-secret"));
    QFile existing(path);
    if (existing.open(QIODevice::ReadOnly)) {
        const QByteArray secret = existing.readAll().trimmed();
        if (secret.size() >= 32)
            return secret;
        return fail(ErrorCode::StorageError, QStringLiteral("%1 is damaged (too short); remove it to generate a new "
                                                            "one (this signs everyone out)").arg(path));
    }
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly))
        return fail(ErrorCode::StorageError, QStringLiteral("cannot write %1").arg(path));
    out.setPermissions(QFile::ReadOwner | QFile::WriteOwner);
    const QByteArray secret = crypto::base64UrlEncode(crypto::randomBytes(48));
    out.write(secret + '\n');
    if (!out.commit())
        return fail(ErrorCode::StorageError, QStringLiteral("cannot write %1").arg(path));
    qCInfo(lcServer) << "generated a signing secret in" << path;
    return secret;
}
Result<QSslConfiguration> loadTls(const QString& certFile, const QString& keyFile)
{
    const QList<QSslCertificate> chain = QSslCertificate::fromPath(certFile, QSsl::Pem);
    if (chain.isEmpty())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("TLS_CERT_FILE %1 holds no PEM certificate").arg(certFile));
    QFile f(keyFile);
    if (!f.open(QIODevice::ReadOnly))
        return fail(ErrorCode::InvalidRequest, QStringLiteral("cannot read TLS_KEY_FILE %1").arg(keyFile));
    const QByteArray pem = f.readAll();
    QSslKey key(pem, QSsl::Rsa, QSsl::Pem);
    if (key.isNull())
        key = QSslKey(pem, QSsl::Ec, QSsl::Pem);
    if (key.isNull())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("TLS_KEY_FILE %1 is not an RSA or EC key in PEM form").arg(keyFile));
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificateChain(chain);
    tls.setPrivateKey(key);
    tls.setProtocol(QSsl::TlsV1_2OrLater);
    tls.setPeerVerifyMode(QSslSocket::VerifyNone); // clients authenticate with tokens, not certificates
    return tls;
}
} // namespace

SharedState::SharedState(ServerConfig config, std::shared_ptr<const Clock> clock)
    : m_config(std::move(config)), m_clock(std::move(clock)),
      m_hashingPool(m_config.hashingThreads, m_config.hashingQueue),
      m_sqlPool(kSqlPoolThreads, kSqlPoolQueue, /*yieldToEventLoops=*/false)
{
}

Result<std::unique_ptr<SharedState>> SharedState::create(ServerConfig config, std::shared_ptr<const Clock> clock)
{
    if (!clock)
        clock = std::make_shared<SystemClock>();
    if (config.jwtSecret.isEmpty()) {
        auto secret = loadOrCreateSecret(config.dataDir);
        if (!secret)
            return fail(secret.error());
        config.jwtSecret = *secret;
    }
    std::unique_ptr<SharedState> s(new SharedState(std::move(config), std::move(clock)));
    const ServerConfig& c = s->m_config;
    // JWT_SECRET is the root: no purpose uses it directly, each gets its own derived key.
    s->m_keys = KeyHierarchy::fromRoot(c.jwtSecret);
    if (c.jwtKeysDir.isEmpty()) {
        s->m_keyRing = KeyRing::hmac(s->m_keys.accessTokenHs256, c.issuer, c.audience);
    } else {
        auto ring = KeyRing::ed25519(c.jwtKeysDir, c.issuer, c.audience);
        if (!ring)
            return fail(ring.error());
        s->m_keyRing = std::move(*ring);
    }
    if (!c.tlsCertFile.isEmpty()) {
        auto tls = loadTls(c.tlsCertFile, c.tlsKeyFile);
        if (!tls)
            return fail(tls.error());
        s->m_tls = *tls;
    }
    auto geo = GeoLocator::open(c.geoipDatabase, c.networkLocations);
    if (!geo)
        return fail(geo.error());
    s->m_geo = std::move(*geo);
    s->m_tokens = std::make_unique<TokenService>(*s->m_keyRing, s->m_keys, c.accessTokenTtl);
    s->m_localRates = std::make_unique<MemoryStore>(*s->m_clock);
    // TOTP secrets sealed before the key hierarchy keep opening under their old key (an HMAC of
    // the root); new ones are sealed with the HKDF-derived key. The backup-code pepper stays the
    // old HMAC-of-the-root value until the backup-code scheme moves to keys().backupCodes, so that
    // codes already handed out keep working.
    s->m_mfaKeys = MfaKeys{s->m_keys.totpEncryption, crypto::hmacSha256(c.jwtSecret, "ehrs-totp-encryption-v1"),
                           crypto::hmacSha256(c.jwtSecret, "ehrs-backup-codes-v1"), s->m_keys.mfaChallenge};
    s->m_mfaChallenges = std::make_unique<MfaChallengeCodec>(s->m_mfaKeys.challengeKey);
    SharedState* self = s.get();
    s->m_metrics = std::make_unique<HttpMetrics>(s->m_registry);
    s->m_metrics->watchActiveSessions([self] { return self->m_activeSessions.load(); });
    s->m_metrics->watchRedisUp([self] { return self->m_redisHealth.up.load(); });
    s->m_registry.gaugeCallback("ehrs_revocation_feed_up",
                                "1 while the Redis revocation feed is subscribed (validation needs no round trip)",
                                [self] { return self->m_feed && self->m_feed->isUp() ? 1.0 : 0.0; });
    s->m_registry.gaugeCallback("ehrs_pending_cache_invalidations",
                                "Cache invalidations waiting for Redis to come back",
                                [self] { return double(self->m_pending.size()); });
    if (c.redisUrl.isEmpty()) {
        s->m_memory = std::make_unique<MemoryStore>(*s->m_clock);
    } else {
        auto endpoint = RedisEndpoint::parse(c.redisUrl);
        if (!endpoint)
            return fail(endpoint.error());
        s->m_redis = *endpoint;
        static std::atomic<int> instances{0}; // several instances share a process in tests
        s->m_redisClientName = "ehrs-" + QByteArray::number(QCoreApplication::applicationPid()) + '-' +
                               QByteArray::number(++instances);
        s->m_redisHealth.configured = true;
        s->m_feed = std::make_unique<RevocationFeed>(*endpoint, s->m_live);
        // Account events reach the other instances' streams through the same channel.
        EventHub* hub = &s->m_events;
        s->m_feed->setEventListener([hub](const QByteArray& kind, const QString& id) {
            if (kind == "user")
                hub->remoteUserChanged(id);
            else if (kind == "revoke")
                hub->sessionEnded(id);
            else
                hub->wakeAll();
        });
        hub->setPublisher([feed = s->m_feed.get()](const QByteArray& message) { feed->publish(message); });
    }
    return s;
}

} // namespace ehrs::server
