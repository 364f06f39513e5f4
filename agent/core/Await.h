// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QEventLoop>
#include <QFuture>
#include <QFutureWatcher>

namespace ehrs::agent {

/// Runs a local event loop until `future` finishes and returns its result. Only for the
/// composition root and the one-shot sub-commands: QtKeychain and the network need the event
/// loop running, so QFuture::waitForFinished() would deadlock there.
template <typename T>
T await(QFuture<T> future)
{
    if (!future.isFinished()) {
        QEventLoop loop;
        QFutureWatcher<T> watcher;
        QObject::connect(&watcher, &QFutureWatcher<T>::finished, &loop, &QEventLoop::quit);
        watcher.setFuture(future);
        if (!future.isFinished())
            loop.exec();
    }
    return future.result();
}

} // namespace ehrs::agent
