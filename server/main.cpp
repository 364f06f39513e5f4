// SPDX-License-Identifier: Apache-2.0
// ehr-sessions-server: parses arguments, loads the configuration and runs one sub-command.
#include "cli/Commands.h"
#include "cli/PolicyCommands.h"
#include "cli/WorkstationCommands.h"
#include "config/ServerConfig.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QProcessEnvironment>
#include <cstdio>

using namespace ehrs::server;

namespace {
const char* kUsage = R"(Usage: ehr-sessions-server [COMMAND] [OPTIONS]

Commands:
  serve                         Run the HTTP API (the default)
  migrate                       Apply pending database migrations and exit
  user add EMAIL [--name NAME] [--admin] [--groups a,b]
                                Create a user; the password is read without echo (or from stdin)
  user groups EMAIL a,b         Set a user's groups ("" for none); policies apply again at once
  user import FILE [--dry-run]  Import users from CSV (email,name,password_hash[,role][,groups]) with
                                their bcrypt or argon2id hashes: all lines or none; see
                                docs/operations.md "Moving users over"
  user passwd EMAIL             Set a user's password; ends all of the user's sessions
  user disable EMAIL            Disable a user and end all of the user's sessions
  user mfa-reset EMAIL          Turn a user's two-step verification off (secret and backup codes
                                deleted, lock after wrong codes lifted) and end all of the user's
                                sessions; for a lost phone or a take-over. The user signs in with
                                the password and can enrol again
  sessions revoke-user EMAIL|ID End every session of a user (incident response)
  cleanup                       Delete expired and revoked sessions past the retention period
  policy set --group NAME|--device-class personal|shared_workstation
             [--idle-timeout 15m] [--absolute-lifetime 12h] [--end-on-lock yes|no]
             [--max-sessions N] [--on-limit end_oldest|refuse] [--mfa-required yes|no]
             [--shift-window 12h] [--pin-max-failures 3]
                                Set a session policy (a value "default" clears one setting);
                                live sessions get it at once; see docs/workstation-policy.md
  policy unset --group NAME|--device-class CLASS
                                Remove a policy
  policy show --group NAME|--device-class CLASS | --user EMAIL [--device-class CLASS]
                                Show a policy, or what a user's sign-in gets
  policy list                   The defaults and every policy
  workstation handovers --workstation ID [--since 8h|ISO-8601]
                                Who was active on a shared workstation from when to when
                                (docs/workstation-policy.md, "Shared workstations")
  keys rotate                   Add a new EdDSA signing key to JWT_KEYS_DIR (old keys verify until
                                their tokens expire)

Settings come from the environment, then the --config file (KEY=VALUE lines), then flags;
later sources win.
)";

int usageError(const QString& message)
{
    std::fprintf(stderr, "ehr-sessions-server: %s\nTry 'ehr-sessions-server --help'.\n", qPrintable(message));
    return 2;
}
} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ehr-sessions-server"));
    QCoreApplication::setApplicationVersion(QStringLiteral(EHRS_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QString::fromUtf8(kUsage));
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show this help."));
    const QCommandLineOption version(QStringLiteral("version"), QStringLiteral("Show the version."));
    const QCommandLineOption configFile(QStringLiteral("config"), QStringLiteral("Read settings from this file."),
                                        QStringLiteral("file"));
    const QCommandLineOption readyFile(QStringLiteral("ready-file"),
                                       QStringLiteral("serve: write the base URL to this file once listening."),
                                       QStringLiteral("file"));
    const QCommandLineOption name(QStringLiteral("name"), QStringLiteral("user add: the user's display name."),
                                  QStringLiteral("name"));
    const QCommandLineOption admin(QStringLiteral("admin"), QStringLiteral("user add: make the user an administrator."));
    const QCommandLineOption dryRun(QStringLiteral("dry-run"),
                                    QStringLiteral("user import: check the file and count, write nothing."));
    const QCommandLineOption passwordStdin(QStringLiteral("password-stdin"),
                                           QStringLiteral("user add/passwd: read the password from standard input."));
    const QCommandLineOption groups(QStringLiteral("groups"),
                                    QStringLiteral("user add: the user's groups (a,b)."),
                                    QStringLiteral("a,b"));
    parser.addOptions({help, version, configFile, readyFile, name, admin, dryRun, passwordStdin, groups});
    const QCommandLineOption workstation(QStringLiteral("workstation"),
                                         QStringLiteral("workstation handovers: the workstation's identifier."),
                                         QStringLiteral("id"));
    const QCommandLineOption since(QStringLiteral("since"),
                                   QStringLiteral("workstation handovers: from this time (ISO 8601) or this long ago (8h)."),
                                   QStringLiteral("when"));
    parser.addOptions({workstation, since});
    for (const QString& o : cli::policyOptionNames())
        parser.addOption(QCommandLineOption(o, QStringLiteral("policy: see the commands above."),
                                            QStringLiteral("value")));
    for (const ConfigOption& o : ServerConfig::options()) {
        if (!o.flag.isEmpty())
            parser.addOption(QCommandLineOption(o.flag, o.help + QStringLiteral(" [") + o.key + u']', o.valueName));
    }
    if (!parser.parse(QCoreApplication::arguments()))
        return usageError(parser.errorText());
    if (parser.isSet(help)) {
        // QCommandLineParser starts its text with its own "Usage: <path> [options]" line; kUsage
        // (the description) has the real one.
        QString text = parser.helpText();
        if (text.startsWith(u"Usage:"))
            text = text.mid(text.indexOf(u'\n') + 1);
        std::printf("%s\n", qPrintable(text));
        std::printf("Environment / config-file only (secrets never go on the command line):\n");
        for (const ConfigOption& o : ServerConfig::options()) {
            if (o.flag.isEmpty())
                std::printf("  %-15s %s\n", qPrintable(o.key), qPrintable(o.help));
        }
        return 0;
    }
    if (parser.isSet(version)) {
        std::printf("ehr-sessions-server %s\n", EHRS_VERSION);
        return 0;
    }

    QMap<QString, QString> env;
    const QProcessEnvironment pe = QProcessEnvironment::systemEnvironment();
    for (const QString& key : pe.keys())
        env.insert(key, pe.value(key));
    const QStringList args = parser.positionalArguments();
    const QString command = args.value(0, QStringLiteral("serve"));
    QMap<QString, QString> flags;
    for (const ConfigOption& o : ServerConfig::options()) {
        // `policy set --idle-timeout` is the policy's, not SESSION_IDLE_TIMEOUT.
        if (command == u"policy" && o.flag == u"idle-timeout")
            continue;
        if (!o.flag.isEmpty() && parser.isSet(o.flag))
            flags.insert(o.flag, parser.value(o.flag));
    }
    auto config = ServerConfig::load(env, parser.value(configFile), flags);
    if (!config) {
        std::fprintf(stderr, "ehr-sessions-server: configuration error: %s\n", qPrintable(config.error().message));
        return 2;
    }
    config->readyFile = parser.value(readyFile);

    if (command == u"serve" && args.size() <= 1)
        return cli::serve(*config);
    if (command == u"migrate" && args.size() == 1)
        return cli::migrate(*config);
    if (command == u"cleanup" && args.size() == 1)
        return cli::cleanup(*config);
    if (command == u"user" && args.size() == 3) {
        const QString sub = args.at(1);
        if (sub == u"add")
            return cli::userAdd(*config, args.at(2), parser.value(name), parser.isSet(admin),
                                parser.isSet(passwordStdin), parser.value(groups));
        if (sub == u"import")
            return cli::userImport(*config, args.at(2), parser.isSet(dryRun));
        if (sub == u"passwd")
            return cli::userPasswd(*config, args.at(2), parser.isSet(passwordStdin));
        if (sub == u"disable")
            return cli::userDisable(*config, args.at(2));
        if (sub == u"mfa-reset")
            return cli::userMfaReset(*config, args.at(2));
    }
    if (command == u"user" && args.size() == 4 && args.at(1) == u"groups")
        return cli::userGroups(*config, args.at(2), args.at(3));
    if (command == u"policy" && args.size() == 2) {
        QMap<QString, QString> options;
        for (const QString& o : cli::policyOptionNames() + QStringList{QStringLiteral("idle-timeout")}) {
            if (parser.isSet(o))
                options.insert(o, parser.value(o));
        }
        return cli::policy(*config, args.at(1), options);
    }
    if (command == u"workstation" && args.size() == 2 && args.at(1) == u"handovers")
        return cli::workstationHandovers(*config, parser.value(workstation), parser.value(since));
    if (command == u"keys" && args.size() == 2 && args.at(1) == u"rotate")
        return cli::rotateKeys(*config);
    if (command == u"sessions" && args.size() == 3 && args.at(1) == u"revoke-user")
        return cli::revokeUserSessions(*config, args.at(2));
    return usageError(QStringLiteral("unknown command: %1").arg(args.join(u' ')));
}
