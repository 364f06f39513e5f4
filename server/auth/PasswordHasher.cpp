// SPDX-License-Identifier: Apache-2.0
#include "PasswordHasher.h"

#include "Crypto.h"

#include <QRegularExpression>
#include <argon2.h>
#include <crypt.h>
#include <openssl/crypto.h>

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

namespace {
bool verifyBcrypt(const QByteArray& stored, const QByteArray& password)
{
    // libxcrypt's bcrypt ($2a$, $2b$, $2y$): crypt_rn hashes the password with the stored
    // setting (cost and salt); the result must equal the stored hash.
    if (password.contains('\0'))
        return false;
    crypt_data data{};
    const char* out = crypt_rn(password.constData(), stored.constData(), &data, sizeof data);
    if (!out || out[0] == '*' || qsizetype(qstrlen(out)) != stored.size())
        return false;
    return CRYPTO_memcmp(out, stored.constData(), size_t(stored.size())) == 0;
}
} // namespace

PasswordHasher::Format PasswordHasher::formatOf(const QByteArray& storedHash)
{
    static const QRegularExpression bcrypt(
        QStringLiteral("^\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./A-Za-z0-9]{53}$"));
    static const QRegularExpression argon2id(
        QStringLiteral("^\\$argon2id\\$v=19\\$m=[0-9]{1,10},t=[0-9]{1,10},p=[0-9]{1,3}\\$[A-Za-z0-9+/"
                       "]{11,}\\$[A-Za-z0-9+/]{16,}$"));
    const QString text = QString::fromLatin1(storedHash);
    if (bcrypt.match(text).hasMatch())
        return Format::Bcrypt;
    if (argon2id.match(text).hasMatch())
        return Format::Argon2id;
    return Format::Unknown;
}

bool PasswordHasher::verify(const QByteArray& phcHash, const QString& password) const
{
    const QByteArray pwd = password.toUtf8();
    if (phcHash.startsWith("$2a$") || phcHash.startsWith("$2b$") || phcHash.startsWith("$2y$"))
        return verifyBcrypt(phcHash, pwd);
    if (!phcHash.startsWith("$argon2id$"))
        return false;
    return argon2id_verify(phcHash.constData(), pwd.constData(), size_t(pwd.size())) == ARGON2_OK;
}

bool PasswordHasher::needsRehash(const QByteArray& storedHash) const
{
    if (!storedHash.startsWith("$argon2id$"))
        return true;
    const QByteArray current = QByteArrayLiteral("$argon2id$v=19$m=") +
                               QByteArray::number(m_params.memoryKiB) +
                               ",t=" + QByteArray::number(m_params.iterations) +
                               ",p=" + QByteArray::number(m_params.parallelism) + '$';
    return !storedHash.startsWith(current);
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
