// SPDX-License-Identifier: Apache-2.0
#include "localapi/PeerCredentials.h"

#include <QFile>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace ehrs::agent {

Result<uint> peerUid(qintptr socketDescriptor)
{
    ucred cred{};
    socklen_t len = sizeof cred;
    if (socketDescriptor < 0 ||
        getsockopt(static_cast<int>(socketDescriptor), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        len != sizeof cred)
        return fail(ErrorCode::Forbidden,
                    QStringLiteral("cannot read the peer's credentials: %1").arg(QString::fromLocal8Bit(strerror(errno))));
    return static_cast<uint>(cred.uid);
}

uint currentUid()
{
    return static_cast<uint>(geteuid());
}

Result<void> preparePrivateDirectory(const QString& dir)
{
    const QByteArray path = QFile::encodeName(dir);
    if (::mkdir(path.constData(), 0700) != 0 && errno != EEXIST)
        return fail(ErrorCode::StorageError,
                    QStringLiteral("cannot create %1: %2").arg(dir, QString::fromLocal8Bit(strerror(errno))));
    struct stat st{};
    // lstat: a symlink planted by someone else must not redirect us.
    if (::lstat(path.constData(), &st) != 0)
        return fail(ErrorCode::StorageError, QStringLiteral("cannot inspect %1").arg(dir));
    if (!S_ISDIR(st.st_mode))
        return fail(ErrorCode::Forbidden, QStringLiteral("%1 is not a directory").arg(dir));
    if (st.st_uid != geteuid())
        return fail(ErrorCode::Forbidden, QStringLiteral("%1 belongs to another user; refusing to use it").arg(dir));
    if ((st.st_mode & 0077) != 0 && ::chmod(path.constData(), 0700) != 0)
        return fail(ErrorCode::Forbidden, QStringLiteral("cannot make %1 private").arg(dir));
    return {};
}

Result<void> restrictToOwner(const QString& path)
{
    if (::chmod(QFile::encodeName(path).constData(), 0600) != 0)
        return fail(ErrorCode::StorageError, QStringLiteral("cannot restrict %1 to its owner").arg(path));
    return {};
}

} // namespace ehrs::agent
