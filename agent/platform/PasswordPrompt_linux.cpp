// SPDX-License-Identifier: Apache-2.0
#include "cli/PasswordPrompt.h"

#include <cstdio>
#include <fcntl.h>
#include <string>
#include <termios.h>
#include <unistd.h>

namespace ehrs::agent {
namespace {
Result<QString> promptOnTty(const QString& prompt, bool echo)
{
    const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("no terminal to prompt on; use --password-stdin"));
    const QByteArray text = prompt.toLocal8Bit();
    (void)!::write(fd, text.constData(), static_cast<size_t>(text.size()));
    termios saved{};
    const bool isTty = tcgetattr(fd, &saved) == 0;
    if (isTty && !echo) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    std::string line;
    char c = 0;
    while (::read(fd, &c, 1) == 1 && c != '\n')
        line.push_back(c);
    if (isTty && !echo)
        tcsetattr(fd, TCSAFLUSH, &saved);
    ::close(fd);
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    QString result = QString::fromLocal8Bit(line.data(), static_cast<qsizetype>(line.size()));
    std::fill(line.begin(), line.end(), '\0');
    return result;
}
} // namespace

Result<QString> promptHidden(const QString& prompt)
{
    return promptOnTty(prompt, false);
}

Result<QString> promptVisible(const QString& prompt)
{
    return promptOnTty(prompt, true);
}

Result<QString> readStdinLine()
{
    std::string line;
    int c = 0;
    while ((c = std::fgetc(stdin)) != EOF && c != '\n')
        line.push_back(static_cast<char>(c));
    if (line.empty() && c == EOF)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("nothing on standard input"));
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return QString::fromLocal8Bit(line.data(), static_cast<qsizetype>(line.size()));
}

} // namespace ehrs::agent
