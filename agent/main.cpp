// SPDX-License-Identifier: Apache-2.0
// ehr-sessions-agent: argument parsing and the one composition root of the daemon.

#include "Logging.h"
#include "UnixSignals.h"
#include "cli/Commands.h"
#include "core/AgentConfig.h"
#include "core/AgentService.h"
#include "core/Await.h"
#include "core/DesktopActivity.h"
#include "core/SystemClock.h"
#include "ipc/SocketPath.h"
#include "localapi/LocalApiServer.h"
#include "localapi/SocketActivation.h"
#include "net/NetworkWatcher.h"
#include "net/ServerClient.h"
#include "notify/DesktopNotifier.h"
#include "refresh/ClockJumpWatcher.h"
#include "refresh/RefreshScheduler.h"
#include "storage/KeychainDiagnosis.h"
#include "storage/KeychainTokenStore.h"
#include "storage/MemoryTokenStore.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QNetworkAccessManager>
#include <QRandomGenerator>
#include <cstdio>
#include <memory>
#include <optional>

using namespace ehrs;
using namespace ehrs::agent;

namespace {

int runDaemon(const QString& socketPath, const std::optional<ActivatedSocket>& activated)
{
    // SIGTERM from systemd, Ctrl-C: leave the event loop (through a self-pipe, never from inside
    // the handler), so the socket is handled properly on the way out. Also ignores SIGPIPE:
    // refresh and keychain work must not be cut short by a client that vanishes mid-write.
    UnixSignals signals;
    QObject::connect(&signals, &UnixSignals::terminationRequested, qApp, &QCoreApplication::quit);
    const AgentConfig config = loadAgentConfig();

    // Keychain, or memory when there is none: never a file.
    std::unique_ptr<TokenStore> store = std::make_unique<KeychainTokenStore>(
        qEnvironmentVariable("EHRS_AGENT_KEYCHAIN_SERVICE", QStringLiteral("ehr-sessions")));
    if (auto probe = await(store->load()); !probe && probe.error().code == ErrorCode::Unavailable) {
        const QString why = explainMissingKeychain(probe.error());
        qCWarning(lcAgent).noquote()
            << QStringLiteral(
                   "No keychain: %1. Running in memory-only mode: you stay signed in until the agent "
                   "stops.")
                   .arg(why);
        store = std::make_unique<MemoryTokenStore>(QStringLiteral("no keychain: %1").arg(why));
    }

    SystemClock clock;
    QNetworkAccessManager network;
    ServerClient server(network);
    RefreshScheduler scheduler(clock, RefreshPolicy(), [] { return QRandomGenerator::global()->generateDouble(); });
    AgentService service(*store, server, scheduler, clock, config);
    // Idle and lock signals of the desktop (issue 14); EHRS_AGENT_DESKTOP_ACTIVITY=0: none.
    std::unique_ptr<DesktopActivity> desktop;
    if (config.desktopActivity)
        desktop = createDesktopActivity(config);
    service.setDesktopActivity(desktop.get());
    LocalApiServer api(service);
    auto listening = activated ? api.listenActivated(activated->fd, activated->path) : api.listen(socketPath);
    if (!listening) {
        std::fprintf(stderr, "ehr-sessions-agent: %s\n", qPrintable(listening.error().message));
        return 1;
    }

    ClockJumpWatcher clockWatcher;
    QObject::connect(&clockWatcher, &ClockJumpWatcher::clockJumped, &scheduler, &RefreshScheduler::clockChanged);
    NetworkWatcher networkWatcher;
    QObject::connect(&networkWatcher, &NetworkWatcher::networkAvailable, &scheduler,
                     &RefreshScheduler::networkAvailable);
    // Off switch: [notifications] newSignIn=false or EHRS_AGENT_NOTIFY=0. Subscribed apps still
    // get new-sign-in events.
    // [notifications] suspiciousSignIn=false turns off the suspicious-sign-in one alone.
    std::optional<DesktopNotifier> notifier;
    if (config.notifyNewSignIns || config.notifySuspiciousSignIns) {
        notifier.emplace();
        notifier->setNewSignInEnabled(config.notifyNewSignIns);
        notifier->setSuspiciousSignInEnabled(config.notifySuspiciousSignIns);
        QObject::connect(&service, &AgentService::eventOccurred, &*notifier, &DesktopNotifier::onEvent);
        if (config.notifyNewSignIns)
            QObject::connect(&service, &AgentService::securityNotice, &*notifier, &DesktopNotifier::notify);
    }

    service.start();
    return QCoreApplication::exec();
}

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ehr-sessions-agent"));
    QCoreApplication::setApplicationVersion(QStringLiteral(EHRS_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Keeps you signed in to EHR Sessions and hands access tokens "
                                                    "to local apps."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        QStringLiteral("command"),
        QStringLiteral("run (default) | login [--server URL] EMAIL | token | status | logout | pin | "
                       "switch-user | resume EMAIL"));
    const QCommandLineOption serverOption(QStringLiteral("server"), QStringLiteral("Server URL for login."),
                                          QStringLiteral("url"));
    const QCommandLineOption stdinOption(QStringLiteral("password-stdin"),
                                         QStringLiteral("login: read the password (and then the code) from stdin."));
    const QCommandLineOption socketOption(QStringLiteral("socket"),
                                          QStringLiteral("Socket path (default $XDG_RUNTIME_DIR/ehr-sessions/agent.sock)."),
                                          QStringLiteral("path"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("status: print the raw JSON reply."));
    const QCommandLineOption minValidOption(
        QStringLiteral("min-valid"), QStringLiteral("token: seconds the token must stay valid (0 to 86400)."),
        QStringLiteral("seconds"));
    const QCommandLineOption insecureOption(
        QStringLiteral("allow-insecure-http"),
        QStringLiteral(
            "login: allow an http:// server that is not on this machine (the password and tokens then "
            "cross the network unencrypted; for test servers only)."));
    const QCommandLineOption rememberOption(
        QStringLiteral("remember-device"),
        QStringLiteral("login: at the two-step verification, ask the server to remember this device, so that "
                       "its next sign-ins here skip the code (for as long as the server's policy allows)."));
    const QCommandLineOption pinStdinOption(
        QStringLiteral("pin-stdin"),
        QStringLiteral("pin, resume: read the PIN from the first line of stdin (else a no-echo prompt)."));
    parser.addOptions({serverOption, stdinOption, socketOption, jsonOption, minValidOption, insecureOption,
                       pinStdinOption});
    parser.addOption(rememberOption);
    parser.process(app);

    const QStringList args = parser.positionalArguments();
    const QString command = args.value(0, QStringLiteral("run"));
    // Started by ehr-sessions-agent.socket: serve the socket systemd listens on.
    std::optional<ActivatedSocket> activated;
    if (command == u"run") {
        if (auto passed = takeActivatedSocket()) {
            if (!*passed) {
                std::fprintf(stderr, "ehr-sessions-agent: socket activation: %s\n",
                             qPrintable(passed->error().message));
                return 1;
            }
            activated = **passed;
        }
    }
    QString socketPath = activated ? activated->path : parser.value(socketOption);
    if (socketPath.isEmpty()) {
        auto path = ipc::socketPath();
        if (!path) {
            std::fprintf(stderr, "ehr-sessions-agent: %s\n", qPrintable(path.error().message));
            return 1;
        }
        socketPath = *path;
    }

    if (command == u"run")
        return runDaemon(socketPath, activated);
    if (command == u"token") {
        int minValid = 0;
        if (parser.isSet(minValidOption)) {
            auto parsed = cli::parseMinValid(parser.value(minValidOption));
            if (!parsed) {
                std::fprintf(stderr, "ehr-sessions-agent: %s\n", qPrintable(parsed.error().message));
                return 64;
            }
            minValid = *parsed;
        }
        return cli::token(socketPath, minValid);
    }
    if (command == u"status")
        return cli::status(socketPath, parser.isSet(jsonOption));
    if (command == u"logout")
        return cli::logout(socketPath);
    // Shared workstations (issue 14).
    if (command == u"pin")
        return cli::pin(socketPath, parser.isSet(pinStdinOption));
    if (command == u"switch-user")
        return cli::switchUser(socketPath);
    if (command == u"resume") {
        if (args.size() != 2) {
            std::fprintf(stderr, "usage: ehr-sessions-agent resume [--pin-stdin] EMAIL\n");
            return 64;
        }
        return cli::resume(socketPath, args.at(1), parser.isSet(pinStdinOption));
    }
    if (command == u"login") {
        if (args.size() != 2) {
            std::fprintf(stderr, "usage: ehr-sessions-agent login [--server URL] [--password-stdin] "
                                 "[--allow-insecure-http] [--remember-device] EMAIL\n");
            return 64;
        }
        return cli::login(socketPath, parser.value(serverOption), args.at(1), parser.isSet(stdinOption),
                          parser.isSet(insecureOption), parser.isSet(rememberOption));
    }
    std::fprintf(stderr, "ehr-sessions-agent: unknown command '%s'\n%s", qPrintable(command),
                 qPrintable(parser.helpText()));
    return 64;
}
