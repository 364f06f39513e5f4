// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"
#include "ratelimit/RateLimiter.h"

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QMap>
#include <QPair>
#include <QString>
#include <QStringList>

namespace ehrs::server {

/// The header a trusted reverse proxy writes the client chain into (TRUSTED_PROXY_HEADER). Only
/// that one is read: the other is whatever the client sent, since the proxy leaves it alone.
enum class ForwardedHeader { XForwardedFor, Forwarded };

/// One configuration setting: its environment / config-file name, its command-line flag and
/// what it means (shown by --help).
struct ConfigOption
{
    QString key;     // "DATABASE_URL": environment variable and config-file key
    QString flag;    // "database-url" (empty: not settable by flag, e.g. secrets)
    QString valueName;
    QString help;
};

/// The server's settings. Sources, later ones winning: environment, `--config` file
/// (KEY=VALUE lines, as in /etc/ehr-sessions/server.env), command-line flags.
struct ServerConfig
{
    QString databaseUrl; // postgres://... or sqlite:///path; empty: embedded SQLite in dataDir
    QString redisUrl;    // empty: in-process cache, single instance
    QByteArray jwtSecret; // the root secret (KeyHierarchy); empty with SQLite: generated and kept in dataDir
    QString dataDir;
    QHostAddress host = QHostAddress::LocalHost;
    QString hostName = QStringLiteral("127.0.0.1");
    quint16 port = 8000;
    int accessTokenTtl = 900;          // seconds
    int refreshTokenTtl = 604800;      // seconds, absolute session lifetime
    int idleTimeout = 43200;           // seconds without a refresh or request before a session ends
    int refreshGraceSeconds = 10;      // a rotated refresh token back within this is a lost-response retry
    int cleanupInterval = 3600;        // seconds between in-process cleanup runs; 0 disables
    int sessionRetention = 604800;     // keep expired/revoked sessions this long before deleting
    int databasePoolSize = 2;          // PostgreSQL connections per worker (request path)
    int databaseQueryTimeoutMs = 2000; // deadline of each request-path query
    int workerThreads = 0;             // 0: one per CPU
    int hashingThreads = 0;            // password hashing threads (argon2id); 0: one per CPU
    int hashingQueue = 64;             // password checks waiting beyond the busy threads; more get 503
    qint64 maxBodyBytes = 64 * 1024;
    int httpIdleTimeout = 60;                       // seconds without progress before a connection is closed
    int maxConnectionsPerClient = 256;              // per client address (IPv6 /64), all workers; 0: no cap
    QList<QPair<QHostAddress, int>> trustedProxies; // X-Forwarded-For is believed only from these
    ForwardedHeader forwardedHeader = ForwardedHeader::XForwardedFor;
    QString issuer = QStringLiteral("ehr-sessions");
    QString audience = QStringLiteral("ehr");
    RateLimitRule loginPerAccount{10, 900};  // failed logins per account
    RateLimitRule loginPerIp{100, 60};       // login attempts per client address
    RateLimitRule mfaPerAccount{5, 300};     // MFA verification attempts per account
    RateLimitRule refreshPerSession{30, 60}; // refreshes per session
    int deviceCredentialTtl = 90 * 86400;    // seconds a device credential lives unused; renewed on use
    int deviceCredentialMaxFailures = 5;     // wrong passwords in a row that revoke a device credential
    QMap<QString, QByteArray> introspectionClients; // client id -> secret (HTTP Basic on /introspect)
    QStringList corsOrigins;                         // exact origins allowed to call the API from a browser
    bool jsonLogs = false;
    /// LOG_FORMAT: auto, text, json or journal (LogHandler.h, chooseLogOutput()).
    QString logFormat = QStringLiteral("auto");
    QString tlsCertFile; // PEM certificate chain; with tlsKeyFile the listener speaks HTTPS
    QString tlsKeyFile;  // PEM private key (RSA or EC)
    QString geoipDatabase; // MaxMind-format .mmdb for session locations; empty: "Local network" or nothing
    QString networkLocations; // NETWORK_LOCATIONS: "CIDR=Name;..." shown instead of "Local network"
    /// SHARED_WORKSTATION_NETWORKS: sign-ins from these networks are shared-workstation sessions,
    /// whatever the client claims (docs/workstation-policy.md).
    QList<QPair<QHostAddress, int>> sharedWorkstationNetworks;
    QString lockoutHelpText;  // LOCKOUT_HELP_TEXT: what to do when sign-in is paused (in the 429's body)
    QString jwtKeysDir;      // set: access tokens are EdDSA-signed with the keys in this directory
    QByteArray metricsToken; // when set, /metrics needs "Authorization: Bearer <token>"
    QString readyFile; // written with the base URL once listening (tests, supervisors)
    // Account emails (server/mail): off while smtpUrl is empty.
    QString smtpUrl;  // smtp://host:587 (STARTTLS when offered) or smtps://host:465; may hold user:password
    QString smtpUser; // SMTP_USER, when not in the URL
    QByteArray smtpPassword;        // SMTP_PASSWORD, when not in the URL
    QString smtpFrom;               // the From address
    int smtpRetryMinSeconds = 30;   // first retry after a failed send; doubles each time
    int smtpRetryMaxSeconds = 3600; // longest wait between retries
    int smtpMaxAttempts = 12;       // then the mail is given up (metric ehrs_mail_total{result="failed"})
    int smtpTimeoutSeconds = 30;    // one delivery attempt
    int notifyPollSeconds = 5;      // how often the notifier looks for new account events and due mails
    // Remember this device (after a second factor): days it then satisfies it; 0: off.
    int rememberDeviceDays = 30;
    // Suspicious sign-ins (server/risk/SignInRisk): a score at or above the threshold is suspicious.
    int suspiciousThreshold = 50;
    int suspiciousMaxKmh = 900;        // faster travel between two sign-ins is impossible travel
    int suspiciousFailureBurst = 3;    // wrong passwords for the account within the window before a success
    int suspiciousFailureWindow = 900; // seconds
    bool mailEnabled() const { return !smtpUrl.isEmpty(); }

    bool usesPostgres() const { return databaseUrl.startsWith(u"postgres"); }
    /// The effective database URL (the embedded SQLite default spelled out).
    QString effectiveDatabaseUrl() const;

    static const QList<ConfigOption>& options();
    /// Default data dir: $EHRS_DATA_DIR, $XDG_DATA_HOME/ehr-sessions or ~/.local/share/ehr-sessions.
    static QString defaultDataDir(const QMap<QString, QString>& env);

    /// Merges the three sources and validates every value; errors name the offending setting.
    [[nodiscard]] static Result<ServerConfig> load(const QMap<QString, QString>& environment,
                                                   const QString& configFile,
                                                   const QMap<QString, QString>& flagValues);
    /// Reads KEY=VALUE lines (# comments, optional quotes, `export ` prefix allowed).
    [[nodiscard]] static Result<QMap<QString, QString>> readConfigFile(const QString& path);
};

} // namespace ehrs::server
