// SPDX-License-Identifier: Apache-2.0
#include "FrameDecoder.h"

#include <QtEndian>

namespace ehrs::ipc {
namespace {
quint32 readLength(const QByteArray& buffer)
{
    return qFromBigEndian<quint32>(buffer.constData());
}
} // namespace

Result<QByteArray> encodeFrame(QByteArrayView payload)
{
    if (payload.isEmpty() || payload.size() > kMaxFrameSize)
        return fail(ErrorCode::PayloadTooLarge,
                    QStringLiteral("IPC message of %1 bytes is outside 1..%2").arg(payload.size()).arg(kMaxFrameSize));
    QByteArray frame(kFrameHeaderSize, Qt::Uninitialized);
    qToBigEndian<quint32>(static_cast<quint32>(payload.size()), frame.data());
    frame.append(payload.data(), payload.size());
    return frame;
}

FrameDecoder::FrameDecoder(qsizetype maxFrameSize) : m_maxFrameSize(maxFrameSize) {}

Result<void> FrameDecoder::feed(QByteArrayView bytes)
{
    if (m_failed)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("IPC stream already failed"));
    m_buffer.append(bytes.data(), bytes.size());
    return checkHeader();
}

Result<void> FrameDecoder::checkHeader()
{
    if (m_buffer.size() < kFrameHeaderSize)
        return {};
    const quint32 length = readLength(m_buffer);
    if (length == 0) {
        m_failed = true;
        return fail(ErrorCode::InvalidRequest, QStringLiteral("empty IPC frame"));
    }
    if (length > static_cast<quint32>(m_maxFrameSize)) {
        m_failed = true;
        m_buffer.clear();
        return fail(ErrorCode::PayloadTooLarge,
                    QStringLiteral("IPC frame of %1 bytes exceeds the %2 byte limit").arg(length).arg(m_maxFrameSize));
    }
    return {};
}

std::optional<QByteArray> FrameDecoder::next()
{
    if (m_failed || m_buffer.size() < kFrameHeaderSize)
        return std::nullopt;
    const qsizetype length = static_cast<qsizetype>(readLength(m_buffer));
    if (m_buffer.size() < kFrameHeaderSize + length)
        return std::nullopt;
    QByteArray payload = m_buffer.mid(kFrameHeaderSize, length);
    m_buffer.remove(0, kFrameHeaderSize + length);
    // The following frame's header may already be here: validate it now so an oversize frame
    // behind a good one is caught without waiting for more bytes (hasFailed() reports it).
    (void)checkHeader();
    return payload;
}

} // namespace ehrs::ipc
