// SPDX-License-Identifier: Apache-2.0
// JwtCodec::verify on arbitrary tokens, with an HS256 key, an Ed25519 key, and a rotation set of
// both; tokens whose header and payload the fuzzer chooses but that carry a valid signature (so
// that claims parsing is reached); and sign -> verify round trips of fuzz-derived claims.
//
// The keys are fixed so that the seed tokens (tests/fuzz/make_seeds.py) carry valid signatures,
// and "now" is fixed so that a run is reproducible.

#include "FuzzSupport.h"

#include "Crypto.h"
#include "Ed25519JwtKey.h"
#include "Jwt.h"

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>

using namespace ehrs;

namespace {
constexpr qint64 kNow = 1'800'000'000; // 2027-01-15
constexpr qint64 kSkew = 60;           // Jwt.cpp: iat may be this far in the future
const QString kIssuer = QStringLiteral("ehr-sessions");
const QString kAudience = QStringLiteral("ehr");

constexpr char kHsSecret[] = "fuzz-hs256-secret-not-for-production-0123456789";
constexpr char kEdPem1[] = "-----BEGIN PRIVATE KEY-----\n"
                           "MC4CAQAwBQYDK2VwBCIEINX0CAAiJwU+09/uGtrhblhH22W1EFZ/nttld3V3lbmS\n"
                           "-----END PRIVATE KEY-----\n";
constexpr char kEdPem2[] = "-----BEGIN PRIVATE KEY-----\n"
                           "MC4CAQAwBQYDK2VwBCIEIPAR4uXcytvnIFjQGLzLGa+jUJM/hnougoyL5/+8ImfQ\n"
                           "-----END PRIVATE KEY-----\n";

struct Fixture
{
    std::shared_ptr<const JwtKey> hs;    // kid hs1
    std::shared_ptr<const JwtKey> ed;    // kid ed1, private
    std::shared_ptr<const JwtKey> edPub; // kid ed1, verification only (from its JWK)
    std::shared_ptr<const JwtKey> ed2;   // kid ed2, private: the mixed set's current key
    std::unique_ptr<JwtCodec> hsCodec;
    std::unique_ptr<JwtCodec> edCodec;
    std::unique_ptr<JwtCodec> mixedCodec; // {ed2, hs1, ed1 public}: rotation from HS256 to EdDSA
};

const Fixture& fixture()
{
    static const Fixture f = [] {
        Fixture x;
        x.hs = std::make_shared<HmacJwtKey>(QByteArray(kHsSecret), QByteArrayLiteral("hs1"));
        auto ed = Ed25519JwtKey::fromPrivatePem(QByteArray(kEdPem1), QByteArrayLiteral("ed1"));
        auto ed2 = Ed25519JwtKey::fromPrivatePem(QByteArray(kEdPem2), QByteArrayLiteral("ed2"));
        if (!ed || !ed2)
            std::abort();
        x.ed = *ed;
        x.ed2 = *ed2;
        auto pub = Ed25519JwtKey::fromPublicJwk(crypto::base64UrlEncode((*ed)->publicKeyRaw()), QByteArrayLiteral("ed1"));
        if (!pub)
            std::abort();
        x.edPub = *pub;
        x.hsCodec = std::make_unique<JwtCodec>(std::vector{x.hs}, QByteArrayLiteral("hs1"), kIssuer, kAudience);
        x.edCodec = std::make_unique<JwtCodec>(std::vector{x.ed}, QByteArrayLiteral("ed1"), kIssuer, kAudience);
        x.mixedCodec = std::make_unique<JwtCodec>(std::vector{x.ed2, x.hs, x.edPub}, QByteArrayLiteral("ed2"), kIssuer,
                                                  kAudience);
        return x;
    }();
    return f;
}

// What every accepted token must satisfy, whoever signed it.
void checkAccepted(const Result<JwtClaims>& r, QByteArrayView token)
{
    if (!r)
        return;
    const QString t = fuzz::shown(token.toByteArray());
    FUZZ_CHECK(r->exp > kNow, QStringLiteral("expired token accepted: exp=%1 token=%2").arg(r->exp).arg(t));
    FUZZ_CHECK(r->iat <= kNow + kSkew, QStringLiteral("future token accepted: iat=%1 token=%2").arg(r->iat).arg(t));
    FUZZ_CHECK(r->iss == kIssuer, QStringLiteral("foreign issuer accepted: %1").arg(fuzz::shown(r->iss)));
    FUZZ_CHECK(r->aud == kAudience, QStringLiteral("foreign audience accepted: %1").arg(fuzz::shown(r->aud)));
    FUZZ_CHECK(token.size() <= JwtCodec::kMaxTokenLength, QStringLiteral("over-long token accepted"));
}

bool sameClaims(const JwtClaims& a, const JwtClaims& b)
{
    return a.sub == b.sub && a.sid == b.sid && a.jti == b.jti && a.iss == b.iss && a.aud == b.aud && a.iat == b.iat &&
           a.exp == b.exp;
}

// The `kid` of a token's header as the harness reads it independently; nullopt when absent or not a string.
std::optional<QByteArray> headerKid(QByteArrayView encodedHeader)
{
    auto bytes = crypto::base64UrlDecode(encodedHeader);
    if (!bytes)
        return std::nullopt;
    const auto h = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
    if (!h.is_object() || !h.contains("kid") || !h["kid"].is_string())
        return std::nullopt;
    return QByteArray::fromStdString(h["kid"].get<std::string>());
}

// A token with this signing input, signed by `key` (a key the codecs trust): verification then
// depends only on what header and payload say. Any codec that accepts it must have used `key`.
void checkResigned(QByteArrayView signingInput, const JwtKey& key)
{
    const Fixture& f = fixture();
    const QByteArray token = signingInput.toByteArray() + '.' + crypto::base64UrlEncode(key.sign(signingInput));
    const auto viaHs = f.hsCodec->verify(token, kNow);
    const auto viaEd = f.edCodec->verify(token, kNow);
    const auto viaMixed = f.mixedCodec->verify(token, kNow);
    checkAccepted(viaHs, token);
    checkAccepted(viaEd, token);
    checkAccepted(viaMixed, token);
    const QString t = fuzz::shown(token);
    FUZZ_CHECK(!viaHs || &key == f.hs.get(), QStringLiteral("HS256 codec accepted a token signed by %1: %2").arg(QString::fromLatin1(key.kid()), t));
    FUZZ_CHECK(!viaEd || &key == f.ed.get(), QStringLiteral("EdDSA codec accepted a token signed by %1: %2").arg(QString::fromLatin1(key.kid()), t));
    if (viaMixed) {
        // The rotation set picks the key by kid: the signer's kid must be the one in the header.
        const qsizetype dot = signingInput.indexOf('.');
        const auto kid = headerKid(signingInput.first(dot));
        FUZZ_CHECK(kid && *kid == key.kid(),
                   QStringLiteral("rotation set accepted a token signed by %1 under kid %2: %3")
                       .arg(QString::fromLatin1(key.kid()), kid ? fuzz::shown(*kid) : QStringLiteral("(none)"), t));
    }
}

// Claims chosen by the fuzzer must survive sign -> verify, exactly when they are current.
void checkRoundTrip(FuzzedDataProvider& fdp, const JwtCodec& codec)
{
    JwtClaims claims;
    claims.sub = QString::fromStdString(fdp.ConsumeRandomLengthString(80));
    claims.sid = QString::fromStdString(fdp.ConsumeRandomLengthString(80));
    claims.jti = QString::fromStdString(fdp.ConsumeRandomLengthString(80));
    claims.iss = QString::fromStdString(fdp.ConsumeRandomLengthString(16)); // ignored by sign()
    claims.aud = QString::fromStdString(fdp.ConsumeRandomLengthString(16)); // ignored by sign()
    switch (fdp.ConsumeIntegralInRange(0, 2)) {
    case 0: // around now: the interesting boundaries
        claims.iat = kNow + fdp.ConsumeIntegralInRange<qint64>(-100'000, 100'000);
        claims.exp = kNow + fdp.ConsumeIntegralInRange<qint64>(-100'000, 100'000);
        break;
    case 1:
        claims.iat = fdp.ConsumeIntegral<qint64>();
        claims.exp = fdp.ConsumeIntegral<qint64>();
        break;
    default: // a normal token
        claims.iat = kNow - fdp.ConsumeIntegralInRange<qint64>(0, 900);
        claims.exp = claims.iat + 900;
        break;
    }

    const QByteArray token = codec.sign(claims);
    FUZZ_CHECK(token == codec.sign(claims), QStringLiteral("signing is not deterministic"));
    const auto verified = codec.verify(token, kNow);
    const bool current = claims.exp > kNow && claims.iat <= kNow + kSkew;
    const bool fits = token.size() <= JwtCodec::kMaxTokenLength;
    const QString detail = QStringLiteral("iat=%1 exp=%2 length=%3 token=%4 error=%5")
                               .arg(claims.iat)
                               .arg(claims.exp)
                               .arg(token.size())
                               .arg(fuzz::shown(token), verified ? QString() : verified.error().message);
    FUZZ_CHECK(verified.has_value() == (current && fits), QStringLiteral("round trip: ") + detail);
    if (!verified)
        return;
    JwtClaims expected = claims;
    expected.iss = kIssuer;
    expected.aud = kAudience;
    FUZZ_CHECK(sameClaims(*verified, expected),
               QStringLiteral("claims changed in the round trip: sub %1 -> %2, sid %3 -> %4, jti %5 -> %6")
                   .arg(fuzz::shown(claims.sub), fuzz::shown(verified->sub), fuzz::shown(claims.sid),
                        fuzz::shown(verified->sid), fuzz::shown(claims.jti), fuzz::shown(verified->jti)));
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    fuzz::quietQtMessages();
    (void)fixture();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const Fixture& f = fixture();
    const QByteArrayView input(reinterpret_cast<const char*>(data), qsizetype(size));

    // 1. The input as a token.
    const auto viaHs = f.hsCodec->verify(input, kNow);
    const auto viaEd = f.edCodec->verify(input, kNow);
    const auto viaMixed = f.mixedCodec->verify(input, kNow);
    checkAccepted(viaHs, input);
    checkAccepted(viaEd, input);
    checkAccepted(viaMixed, input);
    FUZZ_CHECK(!(viaHs && viaEd), QStringLiteral("one token accepted under HS256 and EdDSA"));
    if (viaMixed && (viaHs || viaEd))
        FUZZ_CHECK(sameClaims(*viaMixed, viaHs ? *viaHs : *viaEd), QStringLiteral("codecs disagree on the claims"));

    // 2. Header and payload chosen by the fuzzer, with a genuine signature by each trusted key:
    //    reaches the claims checks, and any codec that accepts must have used the signer's key.
    if (size > 0 && data[0] == '{' && size <= 2048) {
        // A payload in clear JSON under the usual header.
        for (const auto& key : {f.hs, f.ed}) {
            const QByteArray header = QByteArrayLiteral("{\"alg\":\"") + key->alg() + "\",\"typ\":\"JWT\",\"kid\":\"" +
                                      key->kid() + "\"}";
            checkResigned(crypto::base64UrlEncode(header) + '.' + crypto::base64UrlEncode(input), *key);
        }
    } else if (const qsizetype dot1 = input.indexOf('.'); dot1 > 0 && size <= 2 * JwtCodec::kMaxTokenLength) {
        // A token's header and payload, whatever its signature was.
        const qsizetype dot2 = input.indexOf('.', dot1 + 1);
        const QByteArrayView signingInput = dot2 > dot1 ? input.first(dot2) : input;
        checkResigned(signingInput, *f.hs);
        checkResigned(signingInput, *f.ed);
        checkResigned(signingInput, *f.ed2);
    }

    // 3. A round trip of claims derived from the input, through one of the codecs (signing
    //    dominates the cost of an input).
    FuzzedDataProvider fdp(data, size);
    const JwtCodec* codecs[] = {f.hsCodec.get(), f.edCodec.get(), f.mixedCodec.get()};
    checkRoundTrip(fdp, *fdp.PickValueInArray(codecs));
    return 0;
}
