// SPDX-License-Identifier: Apache-2.0
#include "AppUnderTest.h"

#include <QTest>

namespace ehrs::app::test {

bool AppUnderTest::open()
{
    if (!startAgent())
        return false;
    openWindow();
    if (!QTest::qWaitFor([this] { return window->page() == MainWindow::Page::SignIn; }, 15000)) {
        qWarning("the app did not reach the sign-in page; agent log:\n%s", agent->log().constData());
        return false;
    }
    return true;
}

bool AppUnderTest::startAgent()
{
    agent = std::make_unique<agent::test::AgentProcess>();
    return agent->start();
}

void AppUnderTest::openWindow()
{
    connection = std::make_unique<AgentConnection>(AgentConnection::Options{agent->socketPath(), {}, false});
    api = std::make_unique<ServerApi>(connection.get());
    window = std::make_unique<MainWindow>(connection.get(), api.get());
    window->show();
    window->start();
}

void AppUnderTest::close()
{
    window.reset();
    api.reset();
    connection.reset();
    if (agent && QTest::currentTestFailed())
        qWarning("agent log:\n%s", agent->log().constData());
    agent.reset();
}

} // namespace ehrs::app::test
