// SPDX-License-Identifier: Apache-2.0
#include "Totp.h"

#include "Crypto.h"

#include <QUrl>
#include <array>
#include <liboath/oath.h>
#include <limits>
#include <mutex>

namespace ehrs::server {
namespace {

constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr int kMinDigits = 6; // RFC 4226 §5.3: at least 6
constexpr int kMaxDigits = 8; // liboath's limit, and authenticator apps' (6 or 8)

int oathFlags(TotpAlgorithm algorithm)
{
    switch (algorithm) {
    case TotpAlgorithm::Sha1:
        return 0;
    case TotpAlgorithm::Sha256:
        return OATH_TOTP_HMAC_SHA256;
    case TotpAlgorithm::Sha512:
        return OATH_TOTP_HMAC_SHA512;
    }
    return 0;
}

// liboath wants oath_init() once per process before its first use; it is never undone because
// other threads may still be computing codes at exit.
void initOath()
{
    static std::once_flag once;
    std::call_once(once, [] { oath_init(); });
}

// The RFC 6238 value of time step `step`: liboath's TOTP with a one-second step and no offset
// computes HOTP(secret, step) with the algorithm's HMAC (its HOTP call knows only SHA1).
QString oathCode(QByteArrayView secret, quint64 step, const TotpParameters& params)
{
    if (secret.isEmpty() || params.digits < kMinDigits || params.digits > kMaxDigits ||
        step > static_cast<quint64>(std::numeric_limits<time_t>::max()))
        return {};
    initOath();
    std::array<char, kMaxDigits + 1> out{};
    const int rc =
        oath_totp_generate2(secret.data(), static_cast<size_t>(secret.size()), static_cast<time_t>(step), 1,
                            0, static_cast<unsigned>(params.digits), oathFlags(params.algorithm), out.data());
    if (rc != OATH_OK)
        return {};
    return QString::fromLatin1(out.data());
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
    return oathCode(secret, counter, params);
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
