// SPDX-License-Identifier: Apache-2.0
#pragma once

// Small helpers for QFuture/QPromise, shared by the agent, the app and the IPC client.

#include <QFuture>
#include <QPromise>
#include <QTimer>
#include <memory>

namespace ehrs {

/// A future that is already finished with `value`, for answers known at once.
template <typename T> QFuture<T> readyFuture(T value)
{
    QPromise<T> promise;
    promise.start();
    promise.addResult(std::move(value));
    promise.finish();
    return promise.future();
}

/// A finished QFuture<void>.
inline QFuture<void> readyFuture()
{
    QPromise<void> promise;
    promise.start();
    promise.finish();
    return promise.future();
}

/// A future finished with `value` from the event loop, never inside the call that returns it:
/// callers' continuations (which Qt runs directly when the future is already finished) then
/// cannot re-enter them.
template <typename T> QFuture<T> deferredFuture(T value)
{
    auto promise = std::make_shared<QPromise<T>>();
    promise->start();
    auto future = promise->future();
    QTimer::singleShot(0, [promise, value = std::move(value)]() mutable {
        promise->addResult(std::move(value));
        promise->finish();
    });
    return future;
}

/// A started promise held by shared pointer, so lambdas and signal handlers can finish it.
template <typename T> std::shared_ptr<QPromise<T>> startedPromise()
{
    auto promise = std::make_shared<QPromise<T>>();
    promise->start();
    return promise;
}

template <typename T> void finishPromise(QPromise<T>& promise, T value)
{
    promise.addResult(std::move(value));
    promise.finish();
}

} // namespace ehrs
