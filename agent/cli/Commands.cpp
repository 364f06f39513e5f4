// SPDX-License-Identifier: Apache-2.0
#include "Commands.h"

#include "PasswordPrompt.h"
#include "core/AgentService.h"
#include "core/Await.h"
#include "ipc/AgentClient.h"

#include <QTextStream>
#include <cstdio>

namespace ehrs::agent::cli {
namespace {
constexpr int kExitFailure = 1;
constexpr int kExitNoAgent = 2;

void err(const QString& line)
{
    std::fprintf(stderr, "ehr-sessions-agent: %s\n", qPrintable(line));
}

void out(const QString& line)
{
    std::fprintf(stdout, "%s\n", qPrintable(line));
    std::fflush(stdout);
}

/// Connects or explains why not; the client is ready to use when this returns 0.
int connectTo(ipc::AgentClient& client, const QString& socketPath)
{
    auto connected = await(client.connectToAgent(socketPath));
    if (!connected) {
        err(QStringLiteral("the agent is not running (%1); start it with `systemctl --user start "
                           "ehr-sessions-agent` or `ehr-sessions-agent run`")
                .arg(connected.error().message));
        return kExitNoAgent;
    }
    return 0;
}

QString when(const QDateTime& t)
{
    return t.isValid() ? t.toLocalTime().toString(Qt::ISODate) : QStringLiteral("-");
}
} // namespace

int token(const QString& socketPath, int minValidSeconds)
{
    ipc::AgentClient client;
    if (int rc = connectTo(client, socketPath))
        return rc;
    auto reply = await(client.token(minValidSeconds));
    if (!reply) {
        err(reply.error().message);
        return kExitFailure;
    }
    out(reply->accessToken); // nothing else on stdout: `$(ehr-sessions-agent token)` must work
    return 0;
}

int status(const QString& socketPath, bool json)
{
    ipc::AgentClient client;
    if (int rc = connectTo(client, socketPath))
        return rc;
    ipc::Request request;
    request.type = ipc::RequestType::Status;
    auto raw = await(client.request(request));
    if (!raw) {
        err(raw.error().message);
        return kExitFailure;
    }
    if (json) {
        out(QString::fromUtf8(*raw));
        return 0;
    }
    auto s = ipc::statusReplyFromPayload(*raw);
    if (!s) {
        err(s.error().message);
        return kExitFailure;
    }
    if (!s->signedIn) {
        out(QStringLiteral("Signed out%1")
                .arg(s->signedOutReason.isEmpty() ? QString()
                                                  : QStringLiteral(" (%1)").arg(s->signedOutReason)));
        if (!s->lastError.isEmpty())
            out(QStringLiteral("Last error:      %1").arg(s->lastError));
        out(QStringLiteral("Storage:         %1").arg(s->storage));
        return 3;
    }
    out(QStringLiteral("Signed in as:    %1").arg(s->email));
    out(QStringLiteral("Server:          %1").arg(s->serverUrl));
    out(QStringLiteral("Session:         %1").arg(s->sessionId));
    out(QStringLiteral("State:           %1").arg(s->state));
    out(QStringLiteral("Token expires:   %1").arg(when(s->accessTokenExpiresAt)));
    out(QStringLiteral("Last refresh:    %1").arg(when(s->lastRefreshAt)));
    out(QStringLiteral("Next refresh:    %1").arg(when(s->nextRefreshAt)));
    out(QStringLiteral("Last error:      %1")
            .arg(s->lastError.isEmpty() ? QStringLiteral("-") : s->lastError));
    out(QStringLiteral("Storage:         %1").arg(s->storage));
    return 0;
}

int login(const QString& socketPath, const QString& serverUrl, const QString& email, bool passwordFromStdin,
          bool allowInsecureHttp)
{
    // Said before the password is typed; the agent checks again (and checks its default server).
    if (!serverUrl.isEmpty()) {
        if (auto transport = AgentService::checkTransport(QUrl(serverUrl), allowInsecureHttp); !transport) {
            err(transport.error().message);
            return kExitFailure;
        }
    }
    ipc::AgentClient client;
    if (int rc = connectTo(client, socketPath))
        return rc;
    auto password =
        passwordFromStdin ? readStdinLine() : promptHidden(QStringLiteral("Password for %1: ").arg(email));
    if (!password) {
        err(password.error().message);
        return kExitFailure;
    }
    auto reply = await(client.login(serverUrl, email, *password, allowInsecureHttp));
    password->fill(u'\0');
    while (reply && reply->requiresMfa) {
        auto code = passwordFromStdin ? readStdinLine()
                                      : promptVisible(QStringLiteral("Authentication code (%1): ")
                                                          .arg(reply->methods.join(QStringLiteral(" or "))));
        if (!code) {
            err(code.error().message);
            return kExitFailure;
        }
        reply = await(client.verifyMfa(*code));
    }
    if (!reply) {
        QString reason = reply.error().message;
        if (const int wait = reply.error().retryAfterSeconds; wait > 0)
            reason += wait < 120 ? QStringLiteral(" (try again in %1 seconds)").arg(wait)
                                 : QStringLiteral(" (try again in %1 minutes)").arg((wait + 59) / 60);
        err(QStringLiteral("sign-in failed: %1").arg(reason));
        return kExitFailure;
    }
    std::fprintf(stderr, "Signed in as %s (session %s)\n", qPrintable(reply->email),
                 qPrintable(reply->sessionId));
    return 0;
}

int logout(const QString& socketPath)
{
    ipc::AgentClient client;
    if (int rc = connectTo(client, socketPath))
        return rc;
    auto reply = await(client.logout());
    if (!reply) {
        err(reply.error().message);
        return kExitFailure;
    }
    std::fprintf(stderr, "Signed out\n");
    return 0;
}

} // namespace ehrs::agent::cli
