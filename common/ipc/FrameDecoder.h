// SPDX-License-Identifier: Apache-2.0
#pragma once

// Framing of the agent's local API: every message is a 4-byte big-endian length followed by that
// many bytes of UTF-8 JSON. One readyRead() is never assumed to be one message.

#include "Result.h"

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

namespace ehrs::ipc {

/// Largest payload either side accepts. Tokens are a few hundred bytes; a status reply well under
/// 4 KiB. A peer announcing more is broken or hostile and is disconnected.
inline constexpr qsizetype kMaxFrameSize = 64 * 1024;
inline constexpr qsizetype kFrameHeaderSize = 4;

/// Prefixes `payload` with its length. Payloads above kMaxFrameSize are a programming error and
/// yield an error rather than a frame the peer would reject.
[[nodiscard]] Result<QByteArray> encodeFrame(QByteArrayView payload);

/// Incremental decoder for a byte stream of frames: handles frames split across reads and several
/// frames in one read. After an error (oversize or empty frame) the stream is unusable: the
/// decoder stays failed and the connection must be closed.
class FrameDecoder
{
public:
    explicit FrameDecoder(qsizetype maxFrameSize = kMaxFrameSize);

    /// Appends bytes read from the peer. Fails as soon as a header announces an invalid size, so
    /// an oversize frame is rejected before its body is buffered.
    [[nodiscard]] Result<void> feed(QByteArrayView bytes);
    /// The next complete payload, if one is buffered.
    std::optional<QByteArray> next();

    bool hasFailed() const { return m_failed; }
    qsizetype bufferedBytes() const { return m_buffer.size(); }

private:
    [[nodiscard]] Result<void> checkHeader();

    QByteArray m_buffer;
    qsizetype m_maxFrameSize;
    bool m_failed = false;
};

} // namespace ehrs::ipc
