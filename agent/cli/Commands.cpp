// SPDX-License-Identifier: Apache-2.0
#include "Commands.h"

#include "ClientErrors.h"
#include "PasswordPrompt.h"
#include "ServerUrl.h"
#include "core/AgentService.h"
#include "core/Await.h"
#include "ipc/AgentClient.h"

#include <QTextStream>
#include <cstdio>
#include <cstdlib>

namespace ehrs::agent::cli {
namespace {
constexpr int kExitFailure = 1;
constexpr int kExitNoAgent = 2;
constexpr int kExitLocked = 4; // `token` while the workstation is locked (3: `status` signed out)
constexpr int kExitNobodyActive = 5; // `token` on a shared workstation after switch user
constexpr int kExitWrongPin = 5;     // `resume`
constexpr int kExitFullSignIn = 6;   // `resume`: too many wrong PINs, shift over, session ended

void err(const QString& line)
{
    std::fprintf(stderr, "ehr-sessions-agent: %s\n", qPrintable(line));
}

void out(const QString& line)
{
    std::fprintf(stdout, "%s\n", qPrintable(line));
    std::fflush(stdout);
}

// How long a sub-command waits for an agent that is not listening yet (starting, or restarting
// after a crash or an upgrade) before it says that none is running.
constexpr int kWaitForAgentMs = 2000;

/// Connects or explains why not; the client is ready to use when this returns 0.
int connectTo(ipc::AgentClient& client, const QString& socketPath)
{
    auto connected = await(client.connectToAgent(socketPath, kWaitForAgentMs));
    if (!connected) {
        err(QStringLiteral("the agent is not running (no answer within %1 seconds on %2: %3); start it with "
                           "`systemctl --user start ehr-sessions-agent` or `ehr-sessions-agent run`")
                .arg(kWaitForAgentMs / 1000)
                .arg(socketPath, connected.error().message));
        return kExitNoAgent;
    }
    return 0;
}

/// Runs a request that is safe to repeat (token, status). When the connection drops before the
/// answer (the agent crashed or is being restarted: systemd restarts it, and its socket keeps
/// queueing connections meanwhile), it is asked once more on a new connection.
template <typename T, typename Ask>
Result<T> askWithRetry(ipc::AgentClient& client, const QString& socketPath, Ask ask, int* exitCode)
{
    *exitCode = 0;
    auto reply = await(ask(client));
    if (reply || client.isConnected())
        return reply;
    if ((*exitCode = connectTo(client, socketPath)) != 0)
        return reply;
    return await(ask(client));
}

/// A moment as people read it, with its zone: "2026-12-02 09:14:03 CET (+01:00)".
QString when(const QDateTime& t)
{
    if (!t.isValid())
        return QStringLiteral("-");
    const QDateTime local = t.toLocalTime();
    const int offset = local.offsetFromUtc();
    const QString sign = offset < 0 ? QStringLiteral("-") : QStringLiteral("+");
    const QString hhmm = QStringLiteral("%1%2:%3")
                             .arg(sign)
                             .arg(std::abs(offset) / 3600, 2, 10, QLatin1Char('0'))
                             .arg(std::abs(offset) % 3600 / 60, 2, 10, QLatin1Char('0'));
    const QString zone = local.timeZoneAbbreviation();
    if (zone.isEmpty() || zone.startsWith(u'+') || zone.startsWith(u'-') || zone.startsWith(u"UTC+") ||
        zone.startsWith(u"UTC-"))
        return local.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss ")) + QStringLiteral("(UTC%1)").arg(hhmm);
    return local.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss ")) + QStringLiteral("%1 (%2)").arg(zone, hhmm);
}
} // namespace

Result<int> parseMinValid(const QString& text)
{
    bool ok = false;
    const qlonglong seconds = text.trimmed().toLongLong(&ok);
    if (!ok || seconds < 0 || seconds > 86400)
        return fail(
            ErrorCode::InvalidRequest,
            QStringLiteral("--min-valid takes whole seconds from 0 to 86400 (24 hours), not '%1'").arg(text));
    return static_cast<int>(seconds);
}

int token(const QString& socketPath, int minValidSeconds)
{
    ipc::AgentClient client;
    if (int rc = connectTo(client, socketPath))
        return rc;
    int rc = 0;
    auto reply = askWithRetry<ipc::TokenReply>(
        client, socketPath, [minValidSeconds](ipc::AgentClient& c) { return c.token(minValidSeconds); }, &rc);
    if (rc)
        return rc;
    if (!reply) {
        // The session's end in the server's words ("This session ended after 30 minutes without
        // activity"), the lock as the agent says it; other failures as they are.
        if (ipc::isWorkstationLocked(reply.error())) {
            err(asSentence(reply.error().message));
            return kExitLocked;
        }
        if (ipc::isNoActiveClinician(reply.error())) {
            err(asSentence(reply.error().message));
            return kExitNobodyActive;
        }
        err(reply.error().code == ErrorCode::SessionExpired ? describeError(reply.error())
                                                            : reply.error().message);
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
    int rc = 0;
    auto raw = askWithRetry<QByteArray>(
        client, socketPath,
        [](ipc::AgentClient& c) {
            ipc::Request request;
            request.type = ipc::RequestType::Status;
            return c.request(request);
        },
        &rc);
    if (rc)
        return rc;
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
    const QString storage =
        s->storageNote.isEmpty() ? s->storage : QStringLiteral("%1 (%2)").arg(s->storage, s->storageNote);
    const bool shared = s->deviceClass == u"shared_workstation";
    auto workstationLines = [&s, shared] {
        if (!shared)
            return;
        out(QStringLiteral("Device class:    shared workstation (%1)").arg(s->workstationId));
        if (s->signedIn)
            out(QStringLiteral("PIN:             %1")
                    .arg(s->pinSet
                             ? QStringLiteral("set, valid until %1").arg(when(s->pinValidUntil))
                             : QStringLiteral("not set (ehr-sessions-agent pin): needed to switch user")));
        for (const auto& p : s->parkedAccounts)
            out(QStringLiteral("Parked:          %1 since %2").arg(p.email, when(p.parkedAt)));
    };
    if (!s->signedIn && !s->parkedAccounts.empty()) {
        out(QStringLiteral(
            "Nobody is active on this workstation (switch user): ehr-sessions-agent resume EMAIL"));
        workstationLines();
        out(QStringLiteral("Storage:         %1").arg(storage));
        return 3;
    }
    if (!s->signedIn) {
        out(QStringLiteral("Signed out%1")
                .arg(s->signedOutReason.isEmpty() ? QString()
                                                  : QStringLiteral(" (%1)").arg(s->signedOutReason)));
        if (const QString why = signedOutMessage(s->signedOutReason, s->lastError); !why.isEmpty())
            out(QStringLiteral("Why:             %1").arg(why));
        if (!s->lastError.isEmpty())
            out(QStringLiteral("Last error:      %1").arg(s->lastError));
        out(QStringLiteral("Storage:         %1").arg(storage));
        return 3;
    }
    out(QStringLiteral("Signed in as:    %1").arg(s->email));
    out(QStringLiteral("Server:          %1").arg(s->serverUrl));
    out(QStringLiteral("Session:         %1").arg(s->sessionId));
    out(QStringLiteral("State:           %1").arg(s->state));
    if (s->locked)
        out(QStringLiteral("Workstation:     locked: no tokens until it is unlocked"));
    else if (s->idle)
        out(QStringLiteral("Activity:        none since the last refresh: not refreshing (the server's idle "
                           "timeout runs; the next activity refreshes)"));
    if (!s->activitySource.isEmpty())
        out(QStringLiteral("Activity from:   %1").arg(s->activitySource));
    out(QStringLiteral("Token expires:   %1").arg(when(s->accessTokenExpiresAt)));
    out(QStringLiteral("Last refresh:    %1").arg(when(s->lastRefreshAt)));
    out(QStringLiteral("Next refresh:    %1").arg(when(s->nextRefreshAt)));
    out(QStringLiteral("Last error:      %1")
            .arg(s->lastError.isEmpty() ? QStringLiteral("-") : s->lastError));
    out(QStringLiteral("Storage:         %1").arg(storage));
    workstationLines();
    return 0;
}

int login(const QString& socketPath, const QString& serverUrl, const QString& email, bool passwordFromStdin,
          bool allowInsecureHttp, bool rememberDevice)
{
    // Said before the password is typed; the agent checks again (and checks its default server).
    if (!serverUrl.isEmpty()) {
        const auto url = parseServerUrl(serverUrl);
        if (!url) {
            err(url.error().message);
            return kExitFailure;
        }
        if (auto transport = AgentService::checkTransport(*url, allowInsecureHttp); !transport) {
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
    if (password->isEmpty()) {
        err(passwordFromStdin
                ? QStringLiteral("sign-in failed: the password is empty (--password-stdin reads "
                                 "it from the first line of standard input)")
                : QStringLiteral("sign-in failed: the password is empty"));
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
        reply = await(client.verifyMfa(*code, rememberDevice));
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
    // Said only after a code was asked for: a sign-in that needed none has nothing to remember.
    if (reply->deviceRemembered)
        std::fprintf(
            stderr, "%s\n",
            *reply->deviceRemembered
                ? "This device is remembered: its next sign-ins skip the code (unless one looks unusual)"
                : "The server did not remember this device (remembering devices is off there): the "
                  "next sign-in asks for the code again");
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

namespace ehrs::agent::cli {
namespace {
/// A PIN from standard input (one line) or typed at the terminal without echo.
Result<QString> readPin(bool fromStdin, const QString& prompt)
{
    auto pin = fromStdin ? readStdinLine() : promptHidden(prompt);
    if (!pin)
        return pin;
    *pin = pin->trimmed();
    if (pin->isEmpty())
        return fail(ErrorCode::InvalidRequest,
                    fromStdin
                        ? QStringLiteral("the PIN is empty (--pin-stdin reads it from the first line of "
                                         "standard input)")
                        : QStringLiteral("the PIN is empty"));
    return pin;
}
} // namespace

int pin(const QString& socketPath, bool pinFromStdin)
{
    ipc::AgentClient client;
    if (int rc = connectTo(client, socketPath))
        return rc;
    auto who = await(client.status());
    if (!who) {
        err(who.error().message);
        return kExitFailure;
    }
    if (!who->signedIn) {
        err(QStringLiteral(
            "nobody is signed in: sign in first (ehr-sessions-agent login EMAIL), then set the PIN"));
        return kExitFailure;
    }
    auto first = readPin(pinFromStdin, QStringLiteral("New PIN for %1 (4 to 8 digits): ").arg(who->email));
    if (!first) {
        err(first.error().message);
        return kExitFailure;
    }
    if (!pinFromStdin) {
        auto again = readPin(false, QStringLiteral("The same PIN again: "));
        if (!again) {
            err(again.error().message);
            return kExitFailure;
        }
        const bool same = *again == *first;
        again->fill(u'\0');
        if (!same) {
            first->fill(u'\0');
            err(QStringLiteral("the two PINs differ; the PIN was not changed"));
            return kExitFailure;
        }
    }
    auto reply = await(client.setPin(*first));
    first->fill(u'\0');
    if (!reply) {
        err(QStringLiteral("the PIN was not set: %1").arg(reply.error().message));
        return kExitFailure;
    }
    std::fprintf(stderr, "PIN set for %s until %s (the end of this shift's sign-in)\n",
                 qPrintable(who->email), qPrintable(when(reply->validUntil)));
    return 0;
}

int switchUser(const QString& socketPath)
{
    ipc::AgentClient client;
    if (int rc = connectTo(client, socketPath))
        return rc;
    auto reply = await(client.switchUser());
    if (!reply) {
        err(QStringLiteral("cannot switch user: %1").arg(reply.error().message));
        return kExitFailure;
    }
    std::fprintf(stderr,
                 "Parked the session of %s; nobody is active now. Back with: ehr-sessions-agent resume %s\n",
                 qPrintable(reply->email), qPrintable(reply->email));
    return 0;
}

int resume(const QString& socketPath, const QString& email, bool pinFromStdin)
{
    ipc::AgentClient client;
    if (int rc = connectTo(client, socketPath))
        return rc;
    auto pin = readPin(pinFromStdin, QStringLiteral("PIN for %1: ").arg(email));
    if (!pin) {
        err(pin.error().message);
        return kExitFailure;
    }
    auto reply = await(client.resume(email, *pin));
    pin->fill(u'\0');
    if (!reply) {
        const Error& e = reply.error();
        if (ipc::isInvalidPin(e)) {
            err(e.attemptsLeft >= 0
                    ? QStringLiteral("wrong PIN for %1 (%2 more attempt(s) before the password is "
                                     "needed)")
                          .arg(email)
                          .arg(e.attemptsLeft)
                    : QStringLiteral("wrong PIN for %1").arg(email));
            return kExitWrongPin;
        }
        if (ipc::isFullSignInRequired(e)) {
            err(QStringLiteral("%1 Sign in with the password: ehr-sessions-agent login %2")
                    .arg(asSentence(e.message), email));
            return kExitFullSignIn;
        }
        QString reason = e.message;
        if (e.retryAfterSeconds > 0)
            reason += QStringLiteral(" (try again in %1)").arg(describeWait(e.retryAfterSeconds));
        err(QStringLiteral("cannot resume the session of %1: %2").arg(email, reason));
        return kExitFailure;
    }
    std::fprintf(stderr, "Resumed the session of %s (session %s)\n", qPrintable(reply->email),
                 qPrintable(reply->sessionId));
    return 0;
}

} // namespace ehrs::agent::cli
