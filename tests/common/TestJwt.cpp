// SPDX-License-Identifier: Apache-2.0
#include "Crypto.h"
#include "Ed25519JwtKey.h"
#include "Jwt.h"

#include <QTest>

#include <nlohmann/json.hpp>

using namespace ehrs;

class TestJwt : public QObject
{
    Q_OBJECT

    static JwtCodec codec(const QByteArray& secret = "0123456789abcdef0123456789abcdef", const QByteArray& kid = "k1")
    {
        return JwtCodec({std::make_shared<HmacJwtKey>(secret, kid)}, kid, QStringLiteral("ehr-sessions"), QStringLiteral("ehr"));
    }
    static JwtClaims claims()
    {
        return JwtClaims{QStringLiteral("user-1"), QStringLiteral("session-1"), QStringLiteral("jti-1"), {}, {}, 1000, 1900};
    }
    static QByteArray part(const nlohmann::json& j)
    {
        const std::string s = j.dump();
        return crypto::base64UrlEncode(QByteArrayView(s.data(), qsizetype(s.size())));
    }

private Q_SLOTS:
    void roundTrip()
    {
        const auto c = codec();
        const QByteArray token = c.sign(claims());
        auto verified = c.verify(token, 1500);
        QVERIFY(verified);
        QCOMPARE(verified->sub, QStringLiteral("user-1"));
        QCOMPARE(verified->sid, QStringLiteral("session-1"));
        QCOMPARE(verified->iss, QStringLiteral("ehr-sessions"));
        QCOMPARE(verified->exp, 1900);
        // Deterministic: the same claims give the same token.
        QCOMPARE(c.sign(claims()), token);
    }

    void expiry()
    {
        const auto c = codec();
        const QByteArray token = c.sign(claims());
        QVERIFY(c.verify(token, 1899));
        QVERIFY(!c.verify(token, 1900));
        QCOMPARE(c.verify(token, 5000).error().code, ErrorCode::Unauthenticated);
        // Issued in the future beyond the allowed clock skew.
        QVERIFY(!c.verify(token, 900));
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("token");
        const auto c = codec();
        const QByteArray good = c.sign(claims());
        const QList<QByteArray> p = good.split('.');
        const auto payload = nlohmann::json::parse(crypto::base64UrlDecode(p[1])->toStdString());
        auto signHs = [&](const QByteArray& key, const nlohmann::json& header, const nlohmann::json& body) {
            const QByteArray input = part(header) + '.' + part(body);
            return input + '.' + crypto::base64UrlEncode(crypto::hmacSha256(key, input));
        };
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("two parts") << (p[0] + '.' + p[1]);
        QTest::newRow("four parts") << (good + ".x");
        QTest::newRow("alg none, no signature") << (part({{"alg", "none"}, {"kid", "k1"}}) + '.' + p[1] + '.');
        QTest::newRow("alg none, old signature") << (part({{"alg", "none"}, {"kid", "k1"}}) + '.' + p[1] + '.' + p[2]);
        QTest::newRow("alg RS256") << (part({{"alg", "RS256"}, {"kid", "k1"}}) + '.' + p[1] + '.' + p[2]);
        QTest::newRow("alg lower case") << signHs("0123456789abcdef0123456789abcdef", {{"alg", "hs256"}, {"kid", "k1"}}, payload);
        QTest::newRow("unknown kid") << signHs("0123456789abcdef0123456789abcdef", {{"alg", "HS256"}, {"kid", "k2"}}, payload);
        QTest::newRow("other secret") << signHs("another secret another secret 123", {{"alg", "HS256"}, {"kid", "k1"}}, payload);
        auto tampered = payload;
        tampered["sub"] = "admin";
        QTest::newRow("tampered payload") << (p[0] + '.' + part(tampered) + '.' + p[2]);
        auto wrongAud = payload;
        wrongAud["aud"] = "other";
        QTest::newRow("wrong audience") << signHs("0123456789abcdef0123456789abcdef", {{"alg", "HS256"}, {"kid", "k1"}}, wrongAud);
        auto wrongIss = payload;
        wrongIss["iss"] = "evil";
        QTest::newRow("wrong issuer") << signHs("0123456789abcdef0123456789abcdef", {{"alg", "HS256"}, {"kid", "k1"}}, wrongIss);
        auto noSid = payload;
        noSid.erase("sid");
        QTest::newRow("missing sid") << signHs("0123456789abcdef0123456789abcdef", {{"alg", "HS256"}, {"kid", "k1"}}, noSid);
        auto stringExp = payload;
        stringExp["exp"] = "1900";
        QTest::newRow("exp as string") << signHs("0123456789abcdef0123456789abcdef", {{"alg", "HS256"}, {"kid", "k1"}}, stringExp);
        QTest::newRow("header not json") << (crypto::base64UrlEncode("{{{") + '.' + p[1] + '.' + p[2]);
        QTest::newRow("bad base64") << (p[0] + ".*&^%." + p[2]);
        QTest::newRow("oversized") << QByteArray(JwtCodec::kMaxTokenLength + 1, 'a');
    }

    void rejects()
    {
        QFETCH(QByteArray, token);
        auto r = codec().verify(token, 1500);
        QVERIFY(!r);
        QCOMPARE(r.error().code, ErrorCode::Unauthenticated);
    }

    void eddsaVerifiesWithThePublicJwkAlone()
    {
        auto key = Ed25519JwtKey::generate();
        QVERIFY(key);
        JwtCodec signer({*key}, (*key)->kid(), QStringLiteral("ehr-sessions"), QStringLiteral("ehr"));
        const QByteArray token = signer.sign(claims());
        QCOMPARE(signer.sign(claims()), token); // Ed25519 is deterministic
        const auto jwk = nlohmann::json::parse((*key)->publicJwk().toStdString());
        QCOMPARE(jwk["kty"].get<std::string>(), std::string("OKP"));
        QCOMPARE(jwk["crv"].get<std::string>(), std::string("Ed25519"));
        QVERIFY(!jwk.contains("d")); // never the private part
        auto pub = Ed25519JwtKey::fromPublicJwk(QByteArray::fromStdString(jwk["x"].get<std::string>()),
                                                QByteArray::fromStdString(jwk["kid"].get<std::string>()));
        QVERIFY(pub);
        QVERIFY(!(*pub)->canSign());
        JwtCodec verifier({*pub}, (*pub)->kid(), QStringLiteral("ehr-sessions"), QStringLiteral("ehr"));
        QVERIFY(verifier.verify(token, 1500));
        // PEM round trip keeps the key.
        auto again = Ed25519JwtKey::fromPrivatePem((*key)->privatePem(), (*key)->kid());
        QVERIFY(again);
        QCOMPARE((*again)->publicKeyRaw(), (*key)->publicKeyRaw());
    }

    void eddsaRejectsAlgorithmConfusion()
    {
        auto key = *Ed25519JwtKey::generate(QByteArray("ed1"));
        JwtCodec codec({key}, "ed1", QStringLiteral("ehr-sessions"), QStringLiteral("ehr"));
        const QByteArray good = codec.sign(claims());
        const QList<QByteArray> p = good.split('.');
        // HS256 "signed" with the public key as the HMAC secret: the classic confusion attack.
        const QByteArray input = part({{"alg", "HS256"}, {"kid", "ed1"}, {"typ", "JWT"}}) + '.' + p[1];
        const QByteArray forged = input + '.' + crypto::base64UrlEncode(crypto::hmacSha256(key->publicKeyRaw(), input));
        QVERIFY(!codec.verify(forged, 1500));
        QVERIFY(!codec.verify(part({{"alg", "none"}, {"kid", "ed1"}}) + '.' + p[1] + '.', 1500));
        QByteArray flipped = good;
        flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
        QVERIFY(!codec.verify(flipped, 1500));
        QVERIFY(!Ed25519JwtKey::fromPrivatePem("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n", "x"));
        QVERIFY(!Ed25519JwtKey::fromPublicJwk("short", "x"));
    }

    void rotatedKeyStillVerifies()
    {
        auto oldKey = std::make_shared<HmacJwtKey>("old-secret-old-secret-old-secret!", "old");
        auto newKey = std::make_shared<HmacJwtKey>("new-secret-new-secret-new-secret!", "new");
        JwtCodec before({oldKey}, "old", QStringLiteral("ehr-sessions"), QStringLiteral("ehr"));
        JwtCodec after({newKey, oldKey}, "new", QStringLiteral("ehr-sessions"), QStringLiteral("ehr"));
        QVERIFY(after.verify(before.sign(claims()), 1500));
        QVERIFY(!before.verify(after.sign(claims()), 1500));
    }
};

QTEST_GUILESS_MAIN(TestJwt)
#include "TestJwt.moc"
