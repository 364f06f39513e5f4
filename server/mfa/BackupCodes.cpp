// SPDX-License-Identifier: Apache-2.0
#include "BackupCodes.h"

#include "Crypto.h"

#include <QSet>

namespace ehrs::server {
namespace {

constexpr QStringView kAlphabet = u"abcdefghjkmnpqrstuvwxyz23456789";
constexpr int kCodeLength = 8;
constexpr int kGroupLength = 4;

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
        code.reserve(kCodeLength + 1);
        for (int i = 0; i < kCodeLength; ++i) {
            if (i == kGroupLength)
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

QByteArray BackupCodes::hash(QByteArrayView pepper, QStringView code)
{
    return crypto::hmacSha256(pepper, normalize(code).toUtf8()).toHex();
}

} // namespace ehrs::server
