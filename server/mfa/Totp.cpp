// SPDX-License-Identifier: Apache-2.0
#include "Totp.h"

#include "Crypto.h"

#include <QUrl>
#include <array>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace ehrs::server {
namespace {

constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr int kMinDigits = 6;  // RFC 4226 §5.3: at least 6
constexpr int kMaxDigits = 10; // the truncated value has 31 bits, i.e. at most 10 digits

const EVP_MD* messageDigest(TotpAlgorithm algorithm)
{
    switch (algorithm) {
    case TotpAlgorithm::Sha1:
        return EVP_sha1();
    case TotpAlgorithm::Sha256:
        return EVP_sha256();
    case TotpAlgorithm::Sha512:
        return EVP_sha512();
    }
    return EVP_sha1();
}

// Value of a base32 character, or -1.
int base32Value(char16_t c)
{
    if (c >= u'A' && c <= u'Z')
        return c - u'A';
    if (c >= u'a' && c <= u'z')
        return c - u'a';
    if (c >= u'2' && c <= u'7')
        return c - u'2' + 26;
    return -1;
}

bool validParameters(const TotpParameters& params)
{
    return params.digits >= kMinDigits && params.digits <= kMaxDigits && params.period > 0;
}

} // namespace

QByteArray Totp::generateSecret()
{
    return crypto::randomBytes(20);
}

QString Totp::base32Encode(QByteArrayView data)
{
    QString out;
    out.reserve((data.size() * 8 + 4) / 5);
    quint32 buffer = 0;
    int bits = 0;
    for (char byte : data) {
        buffer = (buffer << 8) | static_cast<quint8>(byte);
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.append(QLatin1Char(kBase32Alphabet[(buffer >> bits) & 0x1f]));
        }
    }
    if (bits > 0)
        out.append(QLatin1Char(kBase32Alphabet[(buffer << (5 - bits)) & 0x1f]));
    return out;
}

Result<QByteArray> Totp::base32Decode(QStringView text)
{
    QByteArray out;
    out.reserve(text.size() * 5 / 8);
    quint32 buffer = 0;
    int bits = 0;
    qsizetype symbols = 0;
    for (QChar c : text) {
        if (c.isSpace() || c == u'=')
            continue;
        const int value = base32Value(c.unicode());
        if (value < 0)
            return fail(ErrorCode::InvalidRequest, QStringLiteral("not base32"));
        ++symbols;
        buffer = (buffer << 5) | static_cast<quint32>(value);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.append(static_cast<char>((buffer >> bits) & 0xff));
        }
    }
    // Whole bytes end after 0, 2, 4, 5 or 7 symbols of a group of 8; other lengths are truncated.
    const qsizetype rest = symbols % 8;
    if (rest == 1 || rest == 3 || rest == 6)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("not base32: impossible length"));
    return out;
}

QString Totp::otpauthUri(QByteArrayView secret, const QString& account, const QString& issuer,
                         TotpParameters params)
{
    const QString encodedAccount = QString::fromLatin1(QUrl::toPercentEncoding(account));
    const QString encodedIssuer = QString::fromLatin1(QUrl::toPercentEncoding(issuer));
    QString uri = QStringLiteral("otpauth://totp/");
    if (!issuer.isEmpty())
        uri += encodedIssuer + u':';
    uri += encodedAccount;
    uri += QStringLiteral("?secret=") + base32Encode(secret);
    if (!issuer.isEmpty())
        uri += QStringLiteral("&issuer=") + encodedIssuer;
    uri += QStringLiteral("&algorithm=") + algorithmName(params.algorithm);
    uri += QStringLiteral("&digits=") + QString::number(params.digits);
    uri += QStringLiteral("&period=") + QString::number(params.period);
    return uri;
}

QString Totp::hotp(QByteArrayView secret, quint64 counter, TotpParameters params)
{
    if (secret.isEmpty() || params.digits < kMinDigits || params.digits > kMaxDigits)
        return {};
    std::array<unsigned char, 8> message{};
    for (int i = 7; i >= 0; --i) {
        message[static_cast<size_t>(i)] = static_cast<unsigned char>(counter & 0xff);
        counter >>= 8;
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int macLength = 0;
    if (!HMAC(messageDigest(params.algorithm), secret.data(), static_cast<int>(secret.size()), message.data(),
              message.size(), mac.data(), &macLength) ||
        macLength < 20)
        return {};
    // RFC 4226 §5.3 dynamic truncation: 31 bits at the offset named by the low nibble of the last byte.
    const unsigned offset = mac[macLength - 1] & 0x0f;
    const quint32 binary =
        (static_cast<quint32>(mac[offset] & 0x7f) << 24) | (static_cast<quint32>(mac[offset + 1]) << 16) |
        (static_cast<quint32>(mac[offset + 2]) << 8) | static_cast<quint32>(mac[offset + 3]);
    quint64 modulus = 1;
    for (int i = 0; i < params.digits; ++i)
        modulus *= 10;
    return QStringLiteral("%1").arg(static_cast<quint64>(binary) % modulus, params.digits, 10,
                                    QLatin1Char('0'));
}

qint64 Totp::timeStep(qint64 unixSeconds, int period)
{
    if (unixSeconds < 0 || period <= 0)
        return -1;
    return unixSeconds / period;
}

QString Totp::code(QByteArrayView secret, qint64 unixSeconds, TotpParameters params)
{
    if (!validParameters(params) || unixSeconds < 0)
        return {};
    return hotp(secret, static_cast<quint64>(timeStep(unixSeconds, params.period)), params);
}

std::optional<qint64> Totp::verify(QByteArrayView secret, QStringView code, qint64 unixSeconds,
                                   qint64 lastUsedStep, int window, TotpParameters params)
{
    if (!validParameters(params) || secret.isEmpty() || unixSeconds < 0 || window < 0)
        return std::nullopt;

    QByteArray typed;
    typed.reserve(params.digits);
    for (QChar c : code) {
        if (c.isSpace())
            continue;
        // QChar::isDigit() would also accept other scripts' digits; only ASCII ones are codes.
        if (c < u'0' || c > u'9')
            return std::nullopt;
        typed.append(static_cast<char>(c.unicode()));
    }
    if (typed.size() != params.digits)
        return std::nullopt;

    const qint64 current = timeStep(unixSeconds, params.period);
    std::optional<qint64> matched;
    // No early exit: every candidate in the window costs the same whatever matches.
    for (qint64 step = current - window; step <= current + window; ++step) {
        if (step < 0)
            continue;
        const QByteArray expected = hotp(secret, static_cast<quint64>(step), params).toLatin1();
        const bool equal = crypto::constantTimeEquals(expected, typed);
        // The highest matching step wins, so a chance collision never lets an older step through later.
        if (equal && step > lastUsedStep)
            matched = step;
    }
    return matched;
}

QString Totp::algorithmName(TotpAlgorithm algorithm)
{
    switch (algorithm) {
    case TotpAlgorithm::Sha1:
        return QStringLiteral("SHA1");
    case TotpAlgorithm::Sha256:
        return QStringLiteral("SHA256");
    case TotpAlgorithm::Sha512:
        return QStringLiteral("SHA512");
    }
    return QStringLiteral("SHA1");
}

} // namespace ehrs::server
