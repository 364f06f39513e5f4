// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QByteArrayView>

namespace ehrs::crypto {

/// Cryptographically secure random bytes from OpenSSL's CSPRNG.
QByteArray randomBytes(int count);
/// SHA-256 digest (32 raw bytes).
QByteArray sha256(QByteArrayView data);
/// Lower-case hex SHA-256: the form in which tokens are stored and used as cache keys.
QByteArray sha256Hex(QByteArrayView data);
/// HMAC with SHA-256 (32 bytes) or SHA-384 (48 bytes).
QByteArray hmacSha256(QByteArrayView key, QByteArrayView data);
QByteArray hmacSha384(QByteArrayView key, QByteArrayView data);
/// base64url without padding (RFC 4648 §5), as used by JWTs and refresh tokens.
QByteArray base64UrlEncode(QByteArrayView data);
/// Strict base64url decoding: any character outside the alphabet is an error.
[[nodiscard]] Result<QByteArray> base64UrlDecode(QByteArrayView text);
/// Compares in time independent of where the inputs differ.
bool constantTimeEquals(QByteArrayView a, QByteArrayView b);

} // namespace ehrs::crypto
