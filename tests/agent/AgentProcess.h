// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>

namespace ehrs::agent::test {

/// A real `ehr-sessions-agent run` child process with a private runtime dir and keychain service
/// name, plus its sub-commands run the way a user or script would.
class AgentProcess
{
public:
    AgentProcess();
    ~AgentProcess();

    void setEnv(const QString& name, const QString& value);
    void unsetEnv(const QString& name);
    QString socketPath() const;
    QString keychainService() const { return m_service; }

    /// Overrides socketPath() (e.g. the path the agent picks by itself without XDG_RUNTIME_DIR).
    void setSocketPath(const QString& path) { m_socketPath = path; }
    /// Whether cli() passes `--socket socketPath()` (default); off, the sub-commands find the
    /// socket the way a user's shell does.
    void setPassSocket(bool pass) { m_passSocket = pass; }
    /// Socket activation as systemd does it: this object creates and holds the listening socket
    /// (as the .socket unit would; it outlives the agent process) and each start() hands it to the
    /// agent as fd 3 with LISTEN_PID and LISTEN_FDS.
    bool enableSocketActivation();

    /// Starts the daemon and waits until its socket answers; false on failure.
    bool start();
    /// SIGKILL, as a crash or the OOM killer would.
    void kill();
    /// SIGTERM and wait.
    void stop();
    /// Waits for the daemon to exit by itself (test hooks); returns its exit code or -1.
    int waitForExit(int timeoutMs);
    bool isRunning() const;

    struct CliResult
    {
        int exitCode = -1;
        QByteArray out;
        QByteArray err;
    };
    /// Runs `ehr-sessions-agent ARGS --socket PATH` with `stdinData` on its standard input.
    CliResult cli(const QStringList& args, const QByteArray& stdinData = {}) const;
    /// The same, started and left running (the test does something meanwhile); finish() waits.
    std::unique_ptr<QProcess> startCli(const QStringList& args, const QByteArray& stdinData = {}) const;
    static CliResult finish(QProcess& process, int timeoutMs = 60000);

    QByteArray log() const;

    /// `login --server URL --password-stdin EMAIL`; on failure warns with the agent's log.
    bool signIn(const QString& serverUrl, const QString& email, const QString& password) const;
    /// Why no keychain (Secret Service) can be used here; empty when one can.
    static QString missingKeychain();

private:
    QTemporaryDir m_runtime;
    QString m_service;
    QProcessEnvironment m_env;
    std::unique_ptr<QProcess> m_process;
    mutable QByteArray m_log;
    QString m_socketPath;
    bool m_passSocket = true;
    int m_listenFd = -1;
};

} // namespace ehrs::agent::test
