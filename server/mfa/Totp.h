// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringView>
#include <optional>

namespace ehrs::server {

/// The HMAC hash of a one-time password. Authenticator apps widely support only SHA1, so that is
/// what enrolment uses; SHA256 and SHA512 exist for RFC 6238 conformance.
enum class TotpAlgorithm {
    Sha1,
    Sha256,
    Sha512,
};

/// How codes are derived: hash, number of digits (6..8) and time step in seconds (> 0). Declared
/// outside Totp so that `TotpParameters params = {}` can be a default argument of its members.
struct TotpParameters
{
    TotpAlgorithm algorithm = TotpAlgorithm::Sha1;
    int digits = 6;
    int period = 30;
};

/// Time-based one-time passwords (RFC 6238) on top of HOTP (RFC 4226), with the base32 and
/// `otpauth://` forms authenticator apps use at enrolment. The HMAC and truncation are liboath's;
/// the window, replay and rate-limit rules are ours (here and in MfaService). Pure functions of
/// their arguments: the caller supplies the clock and stores the secret (sealed) and the last
/// accepted time step.
class Totp
{
public:
    /// A new shared secret: 20 bytes (160 bits, the HMAC-SHA1 block-size recommendation of
    /// RFC 4226) from the CSPRNG. The caller seals it before storing it and never logs it.
    static QByteArray generateSecret();

    /// RFC 4648 base32 of `data` in upper case without '=' padding, the form of the `secret`
    /// parameter of otpauth URIs and of secrets typed in by hand.
    static QString base32Encode(QByteArrayView data);

    /// Decodes RFC 4648 base32 case-insensitively, ignoring whitespace and '=' anywhere, so that
    /// secrets copied with grouping spaces or padding are accepted. Any other character, or a
    /// length no encoder can produce (1, 3 or 6 characters modulo 8), is an InvalidRequest error.
    [[nodiscard]] static Result<QByteArray> base32Decode(QStringView text);

    /// The enrolment URI shown as a QR code:
    /// `otpauth://totp/Issuer:account?secret=...&issuer=Issuer&algorithm=SHA1&digits=6&period=30`.
    /// Issuer and account are percent-encoded (everything but RFC 3986 unreserved characters, so a
    /// ':' inside either cannot split the label); an empty issuer leaves out the prefix and the
    /// parameter. The result contains the secret: it must never be logged.
    static QString otpauthUri(QByteArrayView secret, const QString& account, const QString& issuer,
                              TotpParameters params = {});

    /// The HOTP value (RFC 4226) of `counter`: dynamic truncation of HMAC(secret, counter) to
    /// `params.digits` decimal digits, zero-padded, computed by liboath; `params.period` is not
    /// used. Returns an empty string for an empty secret or a digit count outside 6..8 (liboath's
    /// range; authenticator apps show 6 or 8).
    static QString hotp(QByteArrayView secret, quint64 counter, TotpParameters params = {});

    /// The TOTP code at `unixSeconds`: hotp() of the time step floor(unixSeconds / period).
    /// Returns an empty string for invalid parameters (see hotp(), period <= 0) or a negative time.
    static QString code(QByteArrayView secret, qint64 unixSeconds, TotpParameters params = {});

    /// The time step of `unixSeconds` (unixSeconds / period), the value verify() returns and the
    /// caller stores as the last used step; -1 for a negative time or a period <= 0.
    static qint64 timeStep(qint64 unixSeconds, int period = 30);

    /// Checks a code typed by the user against the steps current-window .. current+window (window
    /// 1 tolerates 30 s of clock drift either way) and returns the matching step, which the caller
    /// must store and pass back as `lastUsedStep`: steps <= lastUsedStep are never accepted, so a
    /// code works once and an older one cannot be replayed after a newer one (pass -1 when no code
    /// has been used yet). Whitespace in `code` is ignored; anything but exactly `params.digits`
    /// ASCII digits is rejected. Every candidate is compared in constant time, with no early exit.
    static std::optional<qint64> verify(QByteArrayView secret, QStringView code, qint64 unixSeconds,
                                        qint64 lastUsedStep, int window = 1, TotpParameters params = {});

    /// The `algorithm` parameter value of otpauth URIs: "SHA1", "SHA256" or "SHA512".
    static QString algorithmName(TotpAlgorithm algorithm);
};

} // namespace ehrs::server
