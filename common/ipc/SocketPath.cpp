// SPDX-License-Identifier: Apache-2.0
#include "SocketPath.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <sys/stat.h>
#include <unistd.h>

namespace ehrs::ipc {
namespace {
/// A directory that exists and is ours alone: owned by this user, a real directory (not a
/// symlink), no access for group or others.
bool isPrivateDirectory(const QString& dir, struct stat* st)
{
    return ::lstat(QFile::encodeName(dir).constData(), st) == 0 && S_ISDIR(st->st_mode) &&
           st->st_uid == ::geteuid() && (st->st_mode & 077) == 0;
}
} // namespace

Result<QString> socketDirectory()
{
    const QString runtime = qEnvironmentVariable("XDG_RUNTIME_DIR");
    if (!runtime.isEmpty() && QDir::isAbsolutePath(runtime))
        return QDir(runtime).filePath(QStringLiteral("ehr-sessions"));
    // No XDG_RUNTIME_DIR (su, sudo -u, a container, a shell that did not come through a login
    // manager): the runtime directory systemd-logind made for this user, when there is one ...
    const QString uid = QString::number(::geteuid());
    struct stat st
    {
    };
    const QString userRuntime = QStringLiteral("/run/user/") + uid;
    if (isPrivateDirectory(userRuntime, &st))
        return QDir(userRuntime).filePath(QStringLiteral("ehr-sessions"));
    // ... else a directory of our own in the temporary directory. Anyone can create that name
    // first, so it is used only while it is ours alone (the agent creates it 0700 and both sides
    // check): a squatter can keep the agent from starting, but never pose as it.
    const QString fallback = QDir(QDir::tempPath()).filePath(QStringLiteral("ehr-sessions-") + uid);
    if (::lstat(QFile::encodeName(fallback).constData(), &st) == 0 && !isPrivateDirectory(fallback, &st))
        return fail(
            ErrorCode::Forbidden,
            QStringLiteral("XDG_RUNTIME_DIR is not set, and %1 is not a private directory of this user "
                           "(another user may have created it): set XDG_RUNTIME_DIR, or remove it")
                .arg(fallback));
    return fallback;
}

Result<QString> socketPath()
{
    const QString overridePath = qEnvironmentVariable("EHRS_AGENT_SOCKET");
    if (!overridePath.isEmpty())
        return overridePath;
    auto dir = socketDirectory();
    if (!dir)
        return fail(dir.error());
    return QDir(*dir).filePath(QStringLiteral("agent.sock"));
}

} // namespace ehrs::ipc
