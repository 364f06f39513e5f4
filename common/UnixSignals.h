// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QObject>
#include <QSocketNotifier>
#include <memory>

namespace ehrs {

/// Turns SIGTERM and SIGINT into a Qt signal through a self-pipe: the handler only writes a byte
/// (async-signal-safe), and terminationRequested() is emitted from the event loop, so shutdown
/// runs there. Used by the server and the agent. Also ignores SIGPIPE (a peer that vanishes
/// mid-write must not kill the process).
class UnixSignals : public QObject
{
    Q_OBJECT
public:
    explicit UnixSignals(QObject* parent = nullptr);
    ~UnixSignals() override;

Q_SIGNALS:
    void terminationRequested();

private:
    std::unique_ptr<QSocketNotifier> m_notifier;
};

} // namespace ehrs
