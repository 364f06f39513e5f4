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

int main(int argc, char* argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("ehr-sessions"));
    QApplication::setOrganizationName(QStringLiteral("ehr-sessions"));
    QApplication::setApplicationDisplayName(QStringLiteral("EHR Sessions"));
    QApplication::setApplicationVersion(QStringLiteral(EHRS_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("ehr-sessions"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("See and end the devices signed in to your EHR account."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption socket(QStringLiteral("socket"), QStringLiteral("The agent's socket path."),
                                    QStringLiteral("path"));
    const QCommandLineOption theme(QStringLiteral("theme"),
                                   QStringLiteral("light, dark or system (default)."), QStringLiteral("name"),
                                   qEnvironmentVariable("EHRS_THEME"));
    const QCommandLineOption noStart(
        QStringLiteral("no-start-agent"),
        QStringLiteral("Do not start ehr-sessions-agent when it is not running."));
    parser.addOptions({socket, theme, noStart});
    parser.process(app);

    ehrs::app::Theme::apply(app, ehrs::app::Theme::modeFromName(parser.value(theme)));
    QIcon icon;
    icon.addPixmap(ehrs::app::DeviceIcons::appIcon(64, 1.0));
    icon.addPixmap(ehrs::app::DeviceIcons::appIcon(64, 2.0));
    QApplication::setWindowIcon(icon);

    ehrs::app::AgentConnection agent({parser.value(socket), {}, !parser.isSet(noStart)});
    ehrs::app::ServerApi api(&agent);
    ehrs::app::MainWindow window(&agent, &api);
    window.show();
    window.start();
    return QApplication::exec();
}
