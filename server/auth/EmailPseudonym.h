// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace ehrs::server {

/// What the audit keeps of an email that matched no account: a keyed hash, never the text. People
/// type passwords into the email box; an unkeyed hash of a short password is found by guessing,
/// a keyed one only with the server's key. The same email always gives the same pseudonym under
/// one key, so repeated attempts on one address can still be told apart from a spray.
class EmailPseudonym
{
public:
    /// The pseudonym key, derived from the server's root secret with its own label. The one place
    /// to re-point when the server gets a key hierarchy.
    static QByteArray keyFrom(QByteArrayView rootSecret);
    /// "hmac-sha256:" + the first 32 hex digits of HMAC-SHA256(key, normalised email).
    static QString of(QByteArrayView key, const QString& email);
    /// HKDF-SHA256 (RFC 5869) with an empty salt, 32 bytes of output.
    static QByteArray hkdfSha256(QByteArrayView inputKey, QByteArrayView info, QByteArrayView salt = {});
};

} // namespace ehrs::server
