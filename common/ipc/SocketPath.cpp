// SPDX-License-Identifier: Apache-2.0
#include "SocketPath.h"

#include <QDir>
#include <QFileInfo>

namespace ehrs::ipc {

Result<QString> socketDirectory()
{
    const QString runtime = qEnvironmentVariable("XDG_RUNTIME_DIR");
    if (runtime.isEmpty() || !QDir::isAbsolutePath(runtime))
        return fail(ErrorCode::Unavailable,
                    QStringLiteral("XDG_RUNTIME_DIR is not set; the agent needs a per-user runtime directory"));
    return QDir(runtime).filePath(QStringLiteral("ehr-sessions"));
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
