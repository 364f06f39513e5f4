// SPDX-License-Identifier: Apache-2.0
#include "BackupCodes.h"

#include "Crypto.h"

#include <QSet>

namespace ehrs::server {
namespace {

constexpr QStringView kAlphabet = u"abcdefghjkmnpqrstuvwxyz23456789";
constexpr int kCodeLength = BackupCodes::kCodeLength;
constexpr int kGroupLength = BackupCodes::kGroupLength;
constexpr QByteArrayView kSealPrefix = "v2$";
constexpr int kSaltBytes = 16;

QByteArray mac(QByteArrayView pepper, QByteArrayView salt, QStringView code)
{
    return crypto::hmacSha256(pepper, salt.toByteArray() + BackupCodes::normalize(code).toUtf8()).toHex();
}

// One uniformly random alphabet index: bytes at or above the largest multiple of the alphabet
// size are rejected so that the modulo does not favour the first characters.
int randomIndex(QByteArray& pool, qsizetype& used)
{
    const int size = static_cast<int>(kAlphabet.size());
    const int limit = 256 - 256 % size;
    for (;;) {
        if (used == pool.size()) {
            pool = crypto::randomBytes(64);
            used = 0;
        }
        const int byte = static_cast<quint8>(pool.at(used++));
        if (byte < limit)
            return byte % size;
    }
}

} // namespace

QStringView BackupCodes::alphabet()
{
    return kAlphabet;
}

QStringList BackupCodes::generate(int count)
{
    QStringList codes;
    if (count <= 0)
        return codes;
    codes.reserve(count);
    QSet<QString> seen;
    QByteArray pool;
    qsizetype used = 0;
    while (codes.size() < count) {
        QString code;
        code.reserve(kCodeLength + kCodeLength / kGroupLength);
        for (int i = 0; i < kCodeLength; ++i) {
            if (i > 0 && i % kGroupLength == 0)
                code.append(u'-');
            code.append(kAlphabet.at(randomIndex(pool, used)));
        }
        if (seen.contains(code))
            continue;
        seen.insert(code);
        codes.append(code);
    }
    return codes;
}

QString BackupCodes::normalize(QStringView code)
{
    QString out;
    out.reserve(code.size());
    for (QChar c : code) {
        if (c.isSpace() || c == u'-')
            continue;
        out.append(c.toLower());
    }
    return out;
}

QByteArray BackupCodes::legacyHash(QByteArrayView pepper, QStringView code)
{
    return crypto::hmacSha256(pepper, normalize(code).toUtf8()).toHex();
}

QByteArray BackupCodes::seal(QByteArrayView pepper, QStringView code)
{
    const QByteArray salt = crypto::randomBytes(kSaltBytes);
    return kSealPrefix.toByteArray() +
           salt.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals) + '$' +
           mac(pepper, salt, code);
}

bool BackupCodes::matches(QByteArrayView pepper, QByteArrayView stored, QStringView typed)
{
    if (!stored.startsWith(kSealPrefix))
        return crypto::constantTimeEquals(legacyHash(pepper, typed), stored);
    const QByteArrayView rest = stored.sliced(kSealPrefix.size());
    const qsizetype dollar = rest.indexOf('$');
    if (dollar <= 0)
        return false;
    const auto salt = QByteArray::fromBase64Encoding(rest.first(dollar).toByteArray(),
                                                     QByteArray::Base64UrlEncoding |
                                                         QByteArray::AbortOnBase64DecodingErrors);
    if (!salt || salt.decoded.size() != kSaltBytes)
        return false;
    return crypto::constantTimeEquals(mac(pepper, salt.decoded, typed), rest.sliced(dollar + 1));
}

} // namespace ehrs::server
