// SPDX-License-Identifier: Apache-2.0
#include "KeyRing.h"

#include "Crypto.h"
#include "Ed25519JwtKey.h"
#include "Logging.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QSaveFile>

#include <nlohmann/json.hpp>

namespace ehrs::server {
namespace {
struct KeyFile
{
    qint64 created;
    QByteArray kid;
    QString path;
};

QList<KeyFile> listKeys(const QString& dir)
{
    QList<KeyFile> out;
    for (const QFileInfo& fi : QDir(dir).entryInfoList({QStringLiteral("*.pem")}, QDir::Files, QDir::Name)) {
        const QString base = fi.completeBaseName();
        const qsizetype dash = base.indexOf(u'-');
        bool ok = false;
        const qint64 created = base.left(dash).toLongLong(&ok);
        if (dash <= 0 || !ok)
            continue;
        out.append({created, base.mid(dash + 1).toLatin1(), fi.absoluteFilePath()});
    }
    std::sort(out.begin(), out.end(), [](const KeyFile& a, const KeyFile& b) {
        return a.created != b.created ? a.created < b.created : a.path < b.path;
    });
    return out;
}

Result<QByteArray> writeNewKey(const QString& dir)
{
    if (!QDir().mkpath(dir))
        return fail(ErrorCode::StorageError, QStringLiteral("cannot create key directory %1").arg(dir));
    auto key = Ed25519JwtKey::generate();
    if (!key)
        return fail(key.error());
    const qint64 now = QDateTime::currentMSecsSinceEpoch(); // ms: two rotations in one second stay ordered
    QSaveFile f(QDir(dir).filePath(QStringLiteral("%1-%2.pem").arg(now).arg(QString::fromLatin1((*key)->kid()))));
    if (!f.open(QIODevice::WriteOnly))
        return fail(ErrorCode::StorageError, QStringLiteral("cannot write a key in %1").arg(dir));
    f.setPermissions(QFile::ReadOwner | QFile::WriteOwner);
    f.write((*key)->privatePem());
    if (!f.commit())
        return fail(ErrorCode::StorageError, QStringLiteral("cannot write a key in %1").arg(dir));
    return (*key)->kid();
}
} // namespace

KeyRing::KeyRing(QString dir, QString issuer, QString audience)
    : m_dir(std::move(dir)), m_issuer(std::move(issuer)), m_audience(std::move(audience))
{
}

std::unique_ptr<KeyRing> KeyRing::hmac(const QByteArray& secret, const QString& issuer, const QString& audience)
{
    std::unique_ptr<KeyRing> ring(new KeyRing({}, issuer, audience));
    const QByteArray kid = crypto::sha256Hex(secret).left(16);
    auto key = std::make_shared<HmacJwtKey>(secret, kid);
    ring->m_codec = std::make_shared<JwtCodec>(std::vector<std::shared_ptr<const JwtKey>>{key}, kid, issuer, audience);
    ring->m_jwks = QByteArrayLiteral("{\"keys\":[]}");
    return ring;
}

Result<std::unique_ptr<KeyRing>> KeyRing::ed25519(const QString& dir, const QString& issuer, const QString& audience)
{
    if (listKeys(dir).isEmpty()) {
        auto kid = writeNewKey(dir);
        if (!kid)
            return fail(kid.error());
        qCInfo(lcServer) << "created the first EdDSA signing key" << *kid << "in" << dir;
    }
    std::unique_ptr<KeyRing> ring(new KeyRing(dir, issuer, audience));
    if (auto r = ring->load(); !r)
        return fail(r.error());
    return ring;
}

Result<void> KeyRing::load()
{
    const QList<KeyFile> files = listKeys(m_dir);
    std::vector<std::shared_ptr<const JwtKey>> keys;
    nlohmann::json jwks{{"keys", nlohmann::json::array()}};
    for (const KeyFile& kf : files) {
        QFile f(kf.path);
        if (!f.open(QIODevice::ReadOnly))
            continue;
        auto key = Ed25519JwtKey::fromPrivatePem(f.readAll(), kf.kid);
        if (!key) {
            qCWarning(lcServer) << "ignoring unreadable key file" << kf.path;
            continue;
        }
        jwks["keys"].push_back(nlohmann::json::parse((*key)->publicJwk().toStdString()));
        keys.push_back(*key);
    }
    if (keys.empty())
        return fail(ErrorCode::StorageError, QStringLiteral("no usable Ed25519 key in %1").arg(m_dir));
    const QByteArray signer = keys.back()->kid();
    auto codec = std::make_shared<JwtCodec>(std::move(keys), signer, m_issuer, m_audience);
    QMutexLocker lock(&m_mutex);
    m_codec = std::move(codec);
    m_jwks = QByteArray::fromStdString(jwks.dump());
    m_loadedAtMs = QDateTime::currentMSecsSinceEpoch();
    return {};
}

std::shared_ptr<const JwtCodec> KeyRing::codec() const
{
    QMutexLocker lock(&m_mutex);
    return m_codec;
}

void KeyRing::reloadIfOlderThan(qint64 maxAgeMs)
{
    if (m_dir.isEmpty())
        return;
    {
        QMutexLocker lock(&m_mutex);
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        if (now - m_loadedAtMs < maxAgeMs)
            return;
        m_loadedAtMs = now; // one reader reloads; the others keep the current codec meanwhile
    }
    if (auto r = load(); !r)
        qCWarning(lcServer) << "key reload failed:" << r.error().message;
}

QByteArray KeyRing::jwks() const
{
    QMutexLocker lock(&m_mutex);
    return m_jwks;
}

Result<QByteArray> KeyRing::rotate(const QString& dir, int accessTokenTtl)
{
    auto kid = writeNewKey(dir);
    if (!kid)
        return fail(kid.error());
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QList<KeyFile> files = listKeys(dir);
    // A key may go once its successor has signed for a full token lifetime: no token of it is left.
    for (qsizetype i = 0; i + 1 < files.size(); ++i) {
        if (files[i + 1].created + (qint64(accessTokenTtl) + 60) * 1000 < now) {
            QFile::remove(files[i].path);
            qCInfo(lcServer) << "removed retired key" << files[i].kid;
        }
    }
    return *kid;
}

} // namespace ehrs::server
