// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringList>
#include <QStringView>

namespace ehrs::server {

/// Single-use recovery codes for users who lost their authenticator, shown once at enrolment
/// and stored only as peppered hashes.
///
/// A code is 8 characters from a 31-character lower-case alphabet without the look-alikes
/// 0, o, 1, l and i, grouped 4-4 (`k7qd-9xme`): 31^8 ≈ 2^39.6 possibilities per code. Guessing is
/// bounded by the login rate limits, and a leaked table of hashes is useless without the pepper.
class BackupCodes
{
public:
    /// The characters codes are made of, in alphabet order.
    static QStringView alphabet();

    /// `count` new codes (none for count <= 0), each uniformly random from the CSPRNG and all
    /// different from each other, in the display form `xxxx-xxxx`. They are shown to the user once
    /// and never logged; only hash() of each is stored.
    static QStringList generate(int count = 10);

    /// The canonical form of a code as typed: lower case, with whitespace and '-' removed, so
    /// "K7QD 9XME", "k7qd-9xme" and "k7qd9xme" are the same code. Does not validate the result.
    static QString normalize(QStringView code);

    /// The stored form of a code: lower-case hex HMAC-SHA256(pepper, UTF-8 of normalize(code)),
    /// 64 characters. Deterministic, so a typed code can be looked up by its hash; the pepper is a
    /// server secret kept outside the database. Never log the result.
    static QByteArray hash(QByteArrayView pepper, QStringView code);
};

} // namespace ehrs::server
