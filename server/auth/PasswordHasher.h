// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QString>

namespace ehrs::server {

/// argon2id password hashing (libargon2). Parameters live in the PHC string, so raising them
/// later keeps old hashes verifiable. Thread-safe.
class PasswordHasher
{
public:
    struct Params
    {
        quint32 memoryKiB = 19 * 1024; // OWASP 2023 minimum for argon2id
        quint32 iterations = 2;
        quint32 parallelism = 1;
    };

    PasswordHasher();
    explicit PasswordHasher(Params params);

    [[nodiscard]] Result<QByteArray> hash(const QString& password) const;
    /// argon2id PHC strings, and the bcrypt hashes (`$2a$`, `$2b$`, `$2y$`) of users imported
    /// from the replaced system (`user import`), which are rehashed at their first sign-in.
    bool verify(const QByteArray& phcHash, const QString& password) const;
    /// True for a stored hash that is not argon2id with this hasher's parameters (an imported
    /// bcrypt hash, or older argon2id parameters): replace it after a successful verification.
    bool needsRehash(const QByteArray& storedHash) const;

    enum class Format { Argon2id, Bcrypt, Unknown };
    /// What `user import` accepts: a well-formed bcrypt or argon2id hash.
    static Format formatOf(const QByteArray& storedHash);
    /// Spends the same time as a real verification, for unknown accounts (no timing oracle).
    void verifyDummy(const QString& password) const;

    /// Password policy: 12..1024 characters (NIST 800-63B length rules).
    [[nodiscard]] static Result<void> checkPolicy(const QString& password);

private:
    Params m_params;
    QByteArray m_dummyHash;
};

} // namespace ehrs::server
