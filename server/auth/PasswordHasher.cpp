// SPDX-License-Identifier: Apache-2.0
#include "PasswordHasher.h"

#include "Crypto.h"

#include <argon2.h>

namespace ehrs::server {

PasswordHasher::PasswordHasher() : PasswordHasher(Params{}) {}

PasswordHasher::PasswordHasher(Params params) : m_params(params)
{
    m_dummyHash = hash(QString::fromLatin1(crypto::randomBytes(24).toBase64())).value_or(QByteArray());
}

Result<QByteArray> PasswordHasher::hash(const QString& password) const
{
    const QByteArray pwd = password.toUtf8();
    const QByteArray salt = crypto::randomBytes(16);
    constexpr size_t kHashLen = 32;
    const size_t encodedLen = argon2_encodedlen(m_params.iterations, m_params.memoryKiB, m_params.parallelism,
                                                uint32_t(salt.size()), kHashLen, Argon2_id);
    QByteArray encoded(qsizetype(encodedLen), '\0');
    const int rc = argon2id_hash_encoded(m_params.iterations, m_params.memoryKiB, m_params.parallelism, pwd.constData(),
                                         size_t(pwd.size()), salt.constData(), size_t(salt.size()), kHashLen,
                                         encoded.data(), encodedLen);
    if (rc != ARGON2_OK)
        return fail(ErrorCode::Internal, QStringLiteral("password hashing failed: %1").arg(QString::fromLatin1(argon2_error_message(rc))));
    encoded.truncate(qsizetype(qstrlen(encoded.constData())));
    return encoded;
}

bool PasswordHasher::verify(const QByteArray& phcHash, const QString& password) const
{
    if (!phcHash.startsWith("$argon2id$"))
        return false;
    const QByteArray pwd = password.toUtf8();
    return argon2id_verify(phcHash.constData(), pwd.constData(), size_t(pwd.size())) == ARGON2_OK;
}

void PasswordHasher::verifyDummy(const QString& password) const
{
    (void)verify(m_dummyHash, password);
}

Result<void> PasswordHasher::checkPolicy(const QString& password)
{
    if (password.size() < 12)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("Password must be at least 12 characters long"));
    if (password.size() > 1024)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("Password must be at most 1024 characters long"));
    return {};
}

} // namespace ehrs::server
