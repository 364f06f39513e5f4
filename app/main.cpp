// SPDX-License-Identifier: Apache-2.0
// ehr-sessions: the desktop app. Parses arguments, wires the agent link, the API client and the
// main window, then runs the event loop.

#include "agent/AgentConnection.h"
#include "api/ServerApi.h"
#include "shell/DeviceIcons.h"
#include "shell/MainWindow.h"
#include "shell/Theme.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>

namespace {
struct Options
{
    QCommandLineOption socket{QStringLiteral("socket"), QStringLiteral("The agent's socket path."),
                              QStringLiteral("path")};
    QCommandLineOption theme{QStringLiteral("theme"), QStringLiteral("light, dark or system (default)."),
                             QStringLiteral("name"), qEnvironmentVariable("EHRS_THEME")};
    QCommandLineOption noStart{QStringLiteral("no-start-agent"),
                               QStringLiteral("Do not start ehr-sessions-agent when it is not running.")};
};

void describe(QCommandLineParser& parser, const Options& options)
{
    parser.setApplicationDescription(
        QStringLiteral("See and end the devices signed in to your EHR account."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({options.socket, options.theme, options.noStart});
}

void setNames()
{
    QCoreApplication::setApplicationName(QStringLiteral("ehr-sessions"));
    QCoreApplication::setOrganizationName(QStringLiteral("ehr-sessions"));
    QCoreApplication::setApplicationVersion(QStringLiteral(EHRS_VERSION));
}
} // namespace

int main(int argc, char* argv[])
{
    const Options options;
    {
        // --help, --version and wrong options are answered before QApplication exists: they must
        // work without a display (over ssh, in a package check), where QApplication would abort.
        QCoreApplication console(argc, argv);
        setNames();
        QCommandLineParser parser;
        describe(parser, options);
        parser.process(console); // prints and exits for --help, --version and errors
    }

    QApplication app(argc, argv);
    setNames();
    QApplication::setApplicationDisplayName(QStringLiteral("EHR Sessions"));
    QApplication::setDesktopFileName(QStringLiteral("ehr-sessions"));

    QCommandLineParser parser;
    describe(parser, options);
    parser.process(app);

    ehrs::app::Theme::apply(app, ehrs::app::Theme::modeFromName(parser.value(options.theme)));
    QIcon icon;
    icon.addPixmap(ehrs::app::DeviceIcons::appIcon(64, 1.0));
    icon.addPixmap(ehrs::app::DeviceIcons::appIcon(64, 2.0));
    QApplication::setWindowIcon(icon);

    ehrs::app::AgentConnection agent({parser.value(options.socket), {}, !parser.isSet(options.noStart)});
    ehrs::app::ServerApi api(&agent);
    ehrs::app::MainWindow window(&agent, &api);
    window.show();
    window.start();
    return QApplication::exec();
}
