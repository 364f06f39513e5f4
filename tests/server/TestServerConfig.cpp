// SPDX-License-Identifier: Apache-2.0
#include "cache/RedisStore.h"
#include "config/ServerConfig.h"
#include "db/PgUrl.h"

#include <QTemporaryDir>
#include <QTest>

using namespace ehrs;
using namespace ehrs::server;

using Settings = QMap<QString, QString>;

class TestServerConfig : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    QString writeFile(const QByteArray& text)
    {
        const QString path = m_dir.filePath(QStringLiteral("server.env"));
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            qFatal("cannot write config file");
        f.write(text);
        return path;
    }

private Q_SLOTS:
    void defaults()
    {
        auto c = ServerConfig::load({{QStringLiteral("HOME"), QStringLiteral("/home/x")}}, {}, {});
        QVERIFY(c);
        QCOMPARE(c->port, 8000);
        QCOMPARE(c->host, QHostAddress(QHostAddress::LocalHost));
        QCOMPARE(c->accessTokenTtl, 900);
        QCOMPARE(c->refreshTokenTtl, 604800);
        QVERIFY(c->databaseUrl.isEmpty());
        QVERIFY(c->effectiveDatabaseUrl().startsWith(u"sqlite://"));
        QVERIFY(c->jwtSecret.isEmpty()); // generated later in the data dir
        QCOMPARE(c->refreshGraceSeconds, 10);
        auto noGrace = ServerConfig::load({{QStringLiteral("REFRESH_GRACE_SECONDS"), QStringLiteral("0")}}, {}, {});
        QVERIFY(noGrace);
        QCOMPARE(noGrace->refreshGraceSeconds, 0);
    }

    void precedenceEnvThenFileThenFlags()
    {
        const QString file = writeFile("# comment\nPORT=9001\nexport ACCESS_TOKEN_TTL=\"600\"\nHOST='0.0.0.0'\n");
        const Settings env{{QStringLiteral("PORT"), QStringLiteral("9000")}, {QStringLiteral("ACCESS_TOKEN_TTL"), QStringLiteral("300")},
                           {QStringLiteral("REFRESH_TOKEN_TTL"), QStringLiteral("7200")}};
        auto fromFile = ServerConfig::load(env, file, {});
        QVERIFY(fromFile);
        QCOMPARE(fromFile->port, 9001);
        QCOMPARE(fromFile->accessTokenTtl, 600);
        QCOMPARE(fromFile->refreshTokenTtl, 7200); // only in the environment
        QCOMPARE(fromFile->host, QHostAddress(QHostAddress::AnyIPv4));
        auto fromFlags = ServerConfig::load(env, file, {{QStringLiteral("port"), QStringLiteral("9002")}});
        QVERIFY(fromFlags);
        QCOMPARE(fromFlags->port, 9002);
        QCOMPARE(fromFlags->accessTokenTtl, 600);
    }

    void errors_data()
    {
        QTest::addColumn<Settings>("env");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("weak secret") << Settings{{QStringLiteral("JWT_SECRET"), QStringLiteral("short")}} << QStringLiteral("JWT_SECRET");
        QTest::newRow("postgres without secret")
            << Settings{{QStringLiteral("DATABASE_URL"), QStringLiteral("postgres://u@h/db")}} << QStringLiteral("JWT_SECRET");
        QTest::newRow("bad scheme") << Settings{{QStringLiteral("DATABASE_URL"), QStringLiteral("mysql://x")}} << QStringLiteral("DATABASE_URL");
        for (const char* url :
             {"postgres://u:p@db1:5432,db2:5432/ehr", // no target_session_attrs
              "postgres://u:p@db1:5432,db2:5432/ehr?target_session_attrs=any",
              "postgres://u:p@db1:5432,,db2/ehr?target_session_attrs=read-write", // empty host
              "postgres://u:p@db1:54x2/ehr",                                      // port text
              "postgres://u:p@db1:70000/ehr",                                     // port range
              "postgres://u:p@[::1:5432/ehr",                                     // unclosed [
              "postgres://u:p@/ehr",                                              // no host
              "postgres://u:p@db1/ehr?sslmode=require&colour=blue",               // unknown parameter
              "postgres://u:p@db1/ehr?target_session_attrs=read-only",
              "postgres://u:p@db1:5432,db1:5432/ehr?target_session_attrs=read-write"})
            QTest::newRow(url) << Settings{{QStringLiteral("DATABASE_URL"), QString::fromLatin1(url)},
                                           {QStringLiteral("JWT_SECRET"),
                                            QStringLiteral("0123456789abcdef0123456789abcdef")}}
                               << QStringLiteral("DATABASE_URL");
        for (const char* url : {"redis-sentinel://s1:26379,s2:26379",           // no master name
                                "redis-sentinel://s1:26379,,s2:26379/mymaster", // empty host
                                "redis-sentinel:///mymaster",                   // no Sentinel
                                "redis-sentinel://s1:2637x/mymaster",           // port text
                                "redis-sentinel://s1/mymaster/zero",            // database text
                                "redis-sentinel://s1/mymaster/0/extra", "redis://localhost:6379/db"})
            QTest::newRow(url) << Settings{{QStringLiteral("REDIS_URL"), QString::fromLatin1(url)}}
                               << QStringLiteral("REDIS_URL");
        QTest::newRow("bad redis") << Settings{{QStringLiteral("REDIS_URL"), QStringLiteral("http://x")}} << QStringLiteral("REDIS_URL");
        QTest::newRow("port text") << Settings{{QStringLiteral("PORT"), QStringLiteral("eighty")}} << QStringLiteral("PORT");
        QTest::newRow("port range") << Settings{{QStringLiteral("PORT"), QStringLiteral("70000")}} << QStringLiteral("PORT");
        QTest::newRow("grace too long") << Settings{{QStringLiteral("REFRESH_GRACE_SECONDS"), QStringLiteral("61")}}
                                        << QStringLiteral("REFRESH_GRACE_SECONDS");
        QTest::newRow("grace negative") << Settings{{QStringLiteral("REFRESH_GRACE_SECONDS"), QStringLiteral("-1")}}
                                        << QStringLiteral("REFRESH_GRACE_SECONDS");
        QTest::newRow("ttl zero") << Settings{{QStringLiteral("ACCESS_TOKEN_TTL"), QStringLiteral("0")}} << QStringLiteral("ACCESS_TOKEN_TTL");
        QTest::newRow("refresh shorter than access")
            << Settings{{QStringLiteral("ACCESS_TOKEN_TTL"), QStringLiteral("900")}, {QStringLiteral("REFRESH_TOKEN_TTL"), QStringLiteral("60")}}
            << QStringLiteral("REFRESH_TOKEN_TTL");
        QTest::newRow("host name") << Settings{{QStringLiteral("HOST"), QStringLiteral("example.org")}} << QStringLiteral("HOST");
        QTest::newRow("rate limit") << Settings{{QStringLiteral("RATE_LIMIT_LOGIN_IP"), QStringLiteral("ten per minute")}}
                                    << QStringLiteral("RATE_LIMIT_LOGIN_IP");
        QTest::newRow("proxy") << Settings{{QStringLiteral("TRUSTED_PROXIES"), QStringLiteral("10.0.0.0/8,nonsense")}}
                               << QStringLiteral("TRUSTED_PROXIES");
        QTest::newRow("cors upper case") << Settings{{QStringLiteral("CORS_ORIGINS"), QStringLiteral("https://EHR.example.org")}}
                                         << QStringLiteral("CORS_ORIGINS");
        QTest::newRow("cors query") << Settings{{QStringLiteral("CORS_ORIGINS"), QStringLiteral("https://ehr.example.org?x=1")}}
                                    << QStringLiteral("CORS_ORIGINS");
        QTest::newRow("cors default port") << Settings{{QStringLiteral("CORS_ORIGINS"), QStringLiteral("https://ehr.example.org:443")}}
                                           << QStringLiteral("CORS_ORIGINS");
        QTest::newRow("proxy abbreviation") << Settings{{QStringLiteral("TRUSTED_PROXIES"), QStringLiteral("10.0")}}
                                            << QStringLiteral("TRUSTED_PROXIES");
        QTest::newRow("network location without a name")
            << Settings{{QStringLiteral("NETWORK_LOCATIONS"), QStringLiteral("10.20.0.0/16")}}
            << QStringLiteral("NETWORK_LOCATIONS");
        QTest::newRow("network location range")
            << Settings{{QStringLiteral("NETWORK_LOCATIONS"), QStringLiteral("10.20.0.0/40=Ward 3")}}
            << QStringLiteral("NETWORK_LOCATIONS");
        QTest::newRow("network location abbreviation")
            << Settings{{QStringLiteral("NETWORK_LOCATIONS"), QStringLiteral("10.20=Ward 3")}}
            << QStringLiteral("NETWORK_LOCATIONS");
        QTest::newRow("proxy prefix") << Settings{{QStringLiteral("TRUSTED_PROXIES"), QStringLiteral("10.0.0.0/33")}}
                                      << QStringLiteral("TRUSTED_PROXIES");
    }

    void errors()
    {
        QFETCH(Settings, env);
        QFETCH(QString, mentions);
        auto c = ServerConfig::load(env, {}, {});
        QVERIFY(!c);
        QVERIFY2(c.error().message.contains(mentions), qPrintable(c.error().message));
    }

    void strongSecretWithPostgres()
    {
        auto c = ServerConfig::load({{QStringLiteral("DATABASE_URL"), QStringLiteral("postgres://u:p@db:5432/ehr")},
                                     {QStringLiteral("JWT_SECRET"), QStringLiteral("0123456789abcdef0123456789abcdef")}},
                                    {}, {});
        QVERIFY(c);
        QVERIFY(c->usesPostgres());
    }

    void multiHostPostgres()
    {
        const QString url = QStringLiteral(
            "postgresql://ehr:p%40ss@db1.example.org:5432,[2001:db8::5],10.0.0.3:5433/ehr_sessions"
            "?target_session_attrs=read-write&sslmode=require");
        auto c = ServerConfig::load(
            {{QStringLiteral("DATABASE_URL"), url},
             {QStringLiteral("JWT_SECRET"), QStringLiteral("0123456789abcdef0123456789abcdef")}},
            {}, {});
        QVERIFY2(c, c ? "" : qPrintable(c.error().message));
        auto pg = PgUrl::parse(url);
        QVERIFY(pg);
        QCOMPARE(pg->hosts, (QStringList{QStringLiteral("db1.example.org"), QStringLiteral("2001:db8::5"),
                                         QStringLiteral("10.0.0.3")}));
        QCOMPARE(pg->ports, (QList<int>{5432, 5432, 5433}));
        QCOMPARE(pg->user, QStringLiteral("ehr"));
        QCOMPARE(pg->password, QStringLiteral("p@ss"));
        QCOMPARE(pg->dbname, QStringLiteral("ehr_sessions"));
        QCOMPARE(pg->param(QStringLiteral("sslmode")), QStringLiteral("require"));
        QCOMPARE(pg->hostList(), QStringLiteral("db1.example.org:5432,[2001:db8::5]:5432,10.0.0.3:5433"));
        // A single host keeps working without target_session_attrs, and an error never shows the password.
        QVERIFY(PgUrl::parse(QStringLiteral("postgres://u@h/db")));
        auto bad = PgUrl::parse(QStringLiteral("postgres://u:secretpw@db1,db2/db"));
        QVERIFY(!bad);
        QVERIFY2(!bad.error().message.contains(QStringLiteral("secretpw")), qPrintable(bad.error().message));
        QVERIFY2(bad.error().message.contains(QStringLiteral("target_session_attrs=read-write")),
                 qPrintable(bad.error().message));
    }

    void sentinelRedisUrl()
    {
        auto c = ServerConfig::load(
            {{QStringLiteral("REDIS_URL"),
              QStringLiteral("redis-sentinel://:p%40ss@s1:26379,[::1]:26380,s3/ehr-cache/2")}},
            {}, {});
        QVERIFY2(c, c ? "" : qPrintable(c.error().message));
        auto e = RedisEndpoint::parse(c->redisUrl);
        QVERIFY(e);
        QVERIFY(e->usesSentinel());
        QCOMPARE(e->sentinels, (QList<QPair<QString, int>>{{QStringLiteral("s1"), 26379},
                                                           {QStringLiteral("::1"), 26380},
                                                           {QStringLiteral("s3"), 26379}}));
        QCOMPARE(e->masterName, QStringLiteral("ehr-cache"));
        QCOMPARE(e->password, QStringLiteral("p@ss"));
        QCOMPARE(e->db, 2);
        auto noDb = RedisEndpoint::parse(QStringLiteral("redis-sentinel://s1:26379/mymaster"));
        QVERIFY(noDb);
        QCOMPARE(noDb->db, 0);
        // An error never shows the password.
        auto bad = RedisEndpoint::parse(QStringLiteral("redis-sentinel://:secretpw@s1:x/mymaster"));
        QVERIFY(!bad);
        QVERIFY2(!bad.error().message.contains(QStringLiteral("secretpw")), qPrintable(bad.error().message));
    }

    void configFileErrors()
    {
        auto unknown = ServerConfig::load({}, writeFile("NOT_A_SETTING=1\n"), {});
        QVERIFY(!unknown);
        QVERIFY(unknown.error().message.contains(QStringLiteral("NOT_A_SETTING")));
        auto garbage = ServerConfig::load({}, writeFile("just words\n"), {});
        QVERIFY(!garbage);
        QVERIFY(garbage.error().message.contains(QStringLiteral(":1:")));
        auto missing = ServerConfig::load({}, m_dir.filePath(QStringLiteral("absent.env")), {});
        QVERIFY(!missing);
    }

    void rateLimits()
    {
        auto c = ServerConfig::load({{QStringLiteral("RATE_LIMIT_LOGIN_ACCOUNT"), QStringLiteral("5/60")}}, {}, {});
        QVERIFY(c);
        QCOMPARE(c->loginPerAccount.limit, 5);
        QCOMPARE(c->loginPerAccount.windowSeconds, 60);
        QCOMPARE(c->loginPerIp.limit, 100); // default kept
    }

    void trustedProxies()
    {
        auto c = ServerConfig::load({{QStringLiteral("TRUSTED_PROXIES"), QStringLiteral("10.0.0.0/8, 192.168.1.5")}}, {}, {});
        QVERIFY(c);
        QCOMPARE(c->trustedProxies.size(), 2);
        QVERIFY(QHostAddress(QStringLiteral("10.2.3.4")).isInSubnet(c->trustedProxies[0]));
        QVERIFY(QHostAddress(QStringLiteral("192.168.1.5")).isInSubnet(c->trustedProxies[1]));
        QVERIFY(!QHostAddress(QStringLiteral("192.168.1.6")).isInSubnet(c->trustedProxies[1]));
    }
};

QTEST_GUILESS_MAIN(TestServerConfig)
#include "TestServerConfig.moc"
