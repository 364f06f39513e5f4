// SPDX-License-Identifier: Apache-2.0
// sd_listen_fds() without libsystemd: the protocol is three environment variables and fd 3.
#include "localapi/SocketActivation.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace ehrs::agent {
namespace {
constexpr int kListenFdsStart = 3; // SD_LISTEN_FDS_START

std::optional<long> envNumber(const char* name)
{
    const char* value = std::getenv(name);
    if (!value || !*value)
        return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(value, &end, 10);
    if (errno != 0 || *end != '\0' || n < 0)
        return std::nullopt;
    return n;
}

/// The path of a listening AF_UNIX stream socket, or an error saying what it is instead.
Result<QString> unixListenerPath(int fd)
{
    int type = 0;
    int listening = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("fd %1 is not a stream socket").arg(fd));
    len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("fd %1 is not listening").arg(fd));
    sockaddr_un address{};
    len = sizeof address;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len) != 0 || address.sun_family != AF_UNIX)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("fd %1 is not a Unix socket").arg(fd));
    const size_t pathLength =
        len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    if (pathLength == 0 || address.sun_path[0] == '\0')
        return fail(ErrorCode::InvalidRequest, QStringLiteral("fd %1 is not bound to a file").arg(fd));
    return QString::fromLocal8Bit(address.sun_path,
                                  static_cast<qsizetype>(strnlen(address.sun_path, pathLength)));
}
} // namespace

std::optional<Result<ActivatedSocket>> takeActivatedSocket()
{
    const auto pid = envNumber("LISTEN_PID");
    const auto count = envNumber("LISTEN_FDS");
    const bool forUs = pid && count && *pid == long(getpid()) && *count > 0;
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (!forUs)
        return std::nullopt;
    std::optional<Result<ActivatedSocket>> found;
    for (int fd = kListenFdsStart; fd < kListenFdsStart + int(*count); ++fd) {
        if (const int flags = fcntl(fd, F_GETFD); flags >= 0)
            fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        if (found && *found)
            continue;
        auto path = unixListenerPath(fd);
        found = path ? Result<ActivatedSocket>(ActivatedSocket{fd, *path})
                     : Result<ActivatedSocket>(fail(path.error()));
    }
    return found;
}

} // namespace ehrs::agent
