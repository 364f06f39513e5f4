// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "AgentProcess.h"
#include "agent/AgentConnection.h"
#include "api/ServerApi.h"
#include "shell/MainWindow.h"

#include <memory>

namespace ehrs::app::test {

/// The desktop app as a person starts it, against a real agent (started here with a private
/// socket and keychain service) and whatever server the test runs: what the app's end-to-end
/// tests set up before each test function and tear down after it.
struct AppUnderTest
{
    std::unique_ptr<agent::test::AgentProcess> agent;
    std::unique_ptr<AgentConnection> connection;
    std::unique_ptr<ServerApi> api;
    std::unique_ptr<MainWindow> window;

    /// Starts the agent, opens the window and waits for the sign-in page; false (with a QWARN)
    /// when that does not happen.
    bool open();
    /// The two halves of open(), for tests that prepare the agent (sign it in, say) first.
    bool startAgent();
    void openWindow();
    /// Closes the window and stops the agent; prints the agent's log when the test failed.
    void close();
};

} // namespace ehrs::app::test
