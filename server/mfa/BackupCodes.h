// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringList>
#include <QStringView>

namespace ehrs::server {

/// Single-use recovery codes for users who lost their authenticator, shown once at enrolment
/// and stored only as salted, peppered hashes.
///
/// A code is 15 characters from a 31-character lower-case alphabet without the look-alikes
/// 0, o, 1, l and i, grouped 5-5-5 (`k7qd9-xmeab-fgh2k`): 31^15 ≈ 2^74.3 possibilities per code,
/// so even a stolen table of hashes together with the pepper cannot be searched exhaustively.
/// Each stored entry has its own random salt, so equal codes never share a hash and one
/// computation tests one entry only.
///
/// Codes made before this format (8 characters, HMAC with the pepper and no salt, ≈ 2^39.6) stay
/// verifiable through matches() until they are used; turning 2FA off and on again replaces them.
class BackupCodes
{
public:
    /// Characters per code (without the group separators).
    static constexpr int kCodeLength = 15;
    static constexpr int kGroupLength = 5;

    /// The characters codes are made of, in alphabet order.
    static QStringView alphabet();

    /// `count` new codes (none for count <= 0), each uniformly random from the CSPRNG and all
    /// different from each other, in the display form `xxxxx-xxxxx-xxxxx`. They are shown to the
    /// user once and never logged; only seal() of each is stored.
    static QStringList generate(int count = 10);

    /// The canonical form of a code as typed: lower case, with whitespace and '-' removed, so
    /// "K7QD9 XMEAB" and "k7qd9-xmeab" are the same code. Does not validate the result.
    static QString normalize(QStringView code);

    /// The stored form of a code: `v2$<salt>$<mac>`, where salt is 16 random bytes (base64url) and
    /// mac the lower-case hex HMAC-SHA256(pepper, salt || UTF-8 of normalize(code)). A new salt
    /// each call. The pepper is a server secret kept outside the database. Never log the result.
    static QByteArray seal(QByteArrayView pepper, QStringView code);

    /// Whether `typed` is the code behind the stored entry `stored` (a seal() entry or a legacy
    /// legacyHash() entry). Compares in constant time.
    static bool matches(QByteArrayView pepper, QByteArrayView stored, QStringView typed);

    /// The unsalted form stored before salts: lower-case hex HMAC-SHA256(pepper, normalize(code)).
    static QByteArray legacyHash(QByteArrayView pepper, QStringView code);
};

} // namespace ehrs::server
