// SPDX-License-Identifier: Apache-2.0
#include "EmailPseudonym.h"

#include "Crypto.h"
#include "auth/UserStore.h"

namespace ehrs::server {

QByteArray EmailPseudonym::hkdfSha256(QByteArrayView inputKey, QByteArrayView info, QByteArrayView salt)
{
    // Extract, then the first block of expand (32 bytes is all a purpose key needs).
    const QByteArray prk =
        crypto::hmacSha256(salt.isEmpty() ? QByteArrayView(QByteArray(32, '\0')) : salt, inputKey);
    return crypto::hmacSha256(prk, info.toByteArray() + '\x01');
}

QByteArray EmailPseudonym::keyFrom(QByteArrayView rootSecret)
{
    return hkdfSha256(rootSecret, "ehrs audit email pseudonym v1");
}

QString EmailPseudonym::of(QByteArrayView key, const QString& email)
{
    const QByteArray mac = crypto::hmacSha256(key, UserStore::normalizeEmail(email).toUtf8());
    return QStringLiteral("hmac-sha256:") + QString::fromLatin1(mac.toHex().left(32));
}

} // namespace ehrs::server
