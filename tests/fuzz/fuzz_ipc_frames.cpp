// SPDX-License-Identifier: Apache-2.0
// The agent's IPC framing (common/ipc/FrameDecoder.h) and messages (common/ipc/AgentMessages.h).
//
// Input: a byte stream, followed by parameters that FuzzedDataProvider takes from the end: the
// frame size limit and where the stream is cut into reads. The decoder must produce exactly the
// frames of a straightforward reading of the stream, whatever the cuts, never one above the limit,
// and stay failed after a bad header. Every payload then goes through the message parsers, whose
// results must survive being written and read again.

#include "FuzzSupport.h"

#include "Result.h"
#include "ipc/AgentMessages.h"
#include "ipc/FrameDecoder.h"

#include <QtEndian>
#include <fuzzer/FuzzedDataProvider.h>

#include <ctime>
#include <vector>

using namespace ehrs;
using namespace ehrs::ipc;

namespace {
struct Expected
{
    std::vector<QByteArray> frames;
    bool failed = false;  // a header announcing 0 bytes or more than the limit
    qsizetype leftover = 0; // bytes of an incomplete frame at the end
};

// The reference reading of a stream: one header, one body, until something is wrong or missing.
Expected reference(QByteArrayView stream, qsizetype limit)
{
    Expected e;
    qsizetype pos = 0;
    while (stream.size() - pos >= kFrameHeaderSize) {
        const quint32 length = qFromBigEndian<quint32>(stream.data() + pos);
        if (length == 0 || length > quint32(limit)) {
            e.failed = true;
            return e;
        }
        if (stream.size() - pos - kFrameHeaderSize < qsizetype(length))
            break;
        e.frames.push_back(stream.sliced(pos + kFrameHeaderSize, qsizetype(length)).toByteArray());
        pos += kFrameHeaderSize + qsizetype(length);
    }
    e.leftover = stream.size() - pos;
    return e;
}

void drain(FrameDecoder& decoder, std::vector<QByteArray>& out, qsizetype limit)
{
    while (auto payload = decoder.next()) {
        FUZZ_CHECK(!payload->isEmpty() && payload->size() <= limit,
                   QStringLiteral("frame of %1 bytes produced with a limit of %2").arg(payload->size()).arg(limit));
        out.push_back(*payload);
    }
}

void checkDecoder(QByteArrayView stream, const std::vector<qsizetype>& cuts, qsizetype limit)
{
    const Expected expected = reference(stream, limit);

    // Reads as the fuzzer cut them, draining after each one as the agent does.
    FrameDecoder decoder(limit);
    std::vector<QByteArray> frames;
    qsizetype pos = 0;
    bool feedFailed = false;
    for (qsizetype i = 0; pos < stream.size(); ++i) {
        const qsizetype n = i < qsizetype(cuts.size()) ? std::min(cuts[size_t(i)], stream.size() - pos) : stream.size() - pos;
        const bool wasFailed = decoder.hasFailed();
        const auto fed = decoder.feed(stream.sliced(pos, n));
        pos += n;
        FUZZ_CHECK(!wasFailed || !fed, QStringLiteral("feed() succeeded on a failed decoder"));
        feedFailed = feedFailed || !fed;
        if (!fed)
            FUZZ_CHECK(decoder.hasFailed(), QStringLiteral("feed() failed but hasFailed() is false"));
        drain(decoder, frames, limit);
        if (decoder.hasFailed())
            FUZZ_CHECK(!decoder.next(), QStringLiteral("a failed decoder produced a frame"));
    }
    const QString detail = QStringLiteral("limit %1, %2 bytes, %3 cuts: got %4 frames (failed %5), expected %6 (failed %7)")
                               .arg(limit)
                               .arg(stream.size())
                               .arg(cuts.size())
                               .arg(frames.size())
                               .arg(decoder.hasFailed())
                               .arg(expected.frames.size())
                               .arg(expected.failed);
    FUZZ_CHECK(frames == expected.frames, QStringLiteral("frames differ from the reference: ") + detail);
    FUZZ_CHECK(decoder.hasFailed() == expected.failed, QStringLiteral("failure differs from the reference: ") + detail);
    if (!expected.failed)
        FUZZ_CHECK(decoder.bufferedBytes() == expected.leftover,
                   QStringLiteral("%1 bytes buffered, %2 expected").arg(decoder.bufferedBytes()).arg(expected.leftover));

    // The same stream in one read.
    FrameDecoder whole(limit);
    std::vector<QByteArray> wholeFrames;
    (void)whole.feed(stream);
    drain(whole, wholeFrames, limit);
    FUZZ_CHECK(wholeFrames == frames && whole.hasFailed() == decoder.hasFailed(),
               QStringLiteral("one read and several reads disagree: ") + detail);

    for (const QByteArray& f : frames) {
        const auto encoded = encodeFrame(f);
        FUZZ_CHECK(encoded || f.size() > kMaxFrameSize, QStringLiteral("encodeFrame refused %1 bytes").arg(f.size()));
    }
}

bool sameTime(const QDateTime& a, const QDateTime& b)
{
    const auto ordinary = [](const QDateTime& t) { return t.isValid() && t.date().year() > 1000 && t.date().year() < 9000; };
    return !ordinary(a) || a == b;
}

bool bounded(const QString& s, qsizetype max)
{
    return s.size() <= max && !s.contains(QChar(0));
}

void checkRequest(QByteArrayView payload)
{
    const auto r = requestFromJson(payload);
    if (!r)
        return;
    FUZZ_CHECK(!requestTypeName(r->type).isEmpty(), QStringLiteral("request of no known type"));
    FUZZ_CHECK(bounded(r->email, 320) && bounded(r->password, 1024) && bounded(r->serverUrl, 2048) && bounded(r->code, 64),
               QStringLiteral("request field out of bounds"));
    FUZZ_CHECK(r->minValidSeconds >= 0 && r->minValidSeconds <= 86400,
               QStringLiteral("minValidSeconds %1").arg(r->minValidSeconds));
    if (r->type == RequestType::Login)
        FUZZ_CHECK(!r->password.isEmpty(), QStringLiteral("login without password"));
    // Whitespace-only email or code is accepted and trimmed to empty (tests/fuzz/README.md).
    if ((r->type == RequestType::Login && r->email.isEmpty()) || (r->type == RequestType::VerifyMfa && r->code.isEmpty()))
        return;
    const QByteArray written = toPayload(*r);
    const auto again = requestFromJson(written);
    FUZZ_CHECK(again && again->type == r->type && again->id == r->id && again->email == r->email &&
                   again->password == r->password && again->serverUrl == r->serverUrl &&
                   again->code == r->code && again->minValidSeconds == r->minValidSeconds &&
                   again->rememberDevice == r->rememberDevice,
               QStringLiteral("request round trip: ") + fuzz::shown(written));
    FUZZ_CHECK(encodeFrame(written).has_value() == (written.size() <= kMaxFrameSize), QStringLiteral("encodeFrame"));
}

void checkEvent(QByteArrayView payload)
{
    const auto e = eventFromPayload(payload);
    if (!e)
        return;
    const QByteArray written = toPayload(*e);
    const auto again = eventFromPayload(written);
    FUZZ_CHECK(again && again->index() == e->index(), QStringLiteral("event round trip: ") + fuzz::shown(written));
    bool same = false;
    if (auto* a = std::get_if<TokenRefreshedEvent>(&*e)) {
        auto* b = std::get_if<TokenRefreshedEvent>(&*again);
        same = a->accessToken == b->accessToken && sameTime(a->expiresAt, b->expiresAt);
    } else if (auto* a = std::get_if<SignedOutEvent>(&*e)) {
        auto* b = std::get_if<SignedOutEvent>(&*again);
        same = a->reason == b->reason && a->message == b->message;
    } else if (auto* a = std::get_if<SessionRevokedEvent>(&*e)) {
        auto* b = std::get_if<SessionRevokedEvent>(&*again);
        same = a->sessionId == b->sessionId && a->current == b->current;
    } else if (auto* a = std::get_if<NewSignInEvent>(&*e)) {
        auto* b = std::get_if<NewSignInEvent>(&*again);
        same = a->sessionId == b->sessionId && a->device == b->device && a->ipAddress == b->ipAddress &&
               a->location == b->location && sameTime(a->time, b->time);
    } else if (auto* a = std::get_if<LiveUpdatesEvent>(&*e)) {
        same = a->live == std::get_if<LiveUpdatesEvent>(&*again)->live;
    } else if (auto* a = std::get_if<SuspiciousSignInEvent>(&*e)) {
        auto* b = std::get_if<SuspiciousSignInEvent>(&*again);
        same = a->reasons == b->reasons && a->device == b->device && a->location == b->location &&
               sameTime(a->time, b->time);
    }
    FUZZ_CHECK(same, QStringLiteral("event changed in the round trip: ") + fuzz::shown(written));
}

void checkReplies(QByteArrayView payload)
{
    if (const auto in = incomingFromPayload(payload))
        FUZZ_CHECK(in->payload == payload.toByteArray(), QStringLiteral("incoming payload not kept"));

    if (const auto t = tokenReplyFromPayload(payload)) {
        FUZZ_CHECK(!t->accessToken.isEmpty() && bounded(t->accessToken, 8192), QStringLiteral("token reply bounds"));
        const auto again = tokenReplyFromPayload(replyPayload(7, *t));
        FUZZ_CHECK(again && again->accessToken == t->accessToken && sameTime(t->expiresAt, again->expiresAt),
                   QStringLiteral("token reply round trip"));
    }
    if (const auto s = statusReplyFromPayload(payload)) {
        const auto again = statusReplyFromPayload(replyPayload(7, *s));
        FUZZ_CHECK(again && again->state == s->state && again->signedIn == s->signedIn && again->serverUrl == s->serverUrl &&
                       again->email == s->email && again->userId == s->userId && again->sessionId == s->sessionId &&
                       again->lastError == s->lastError && again->signedOutReason == s->signedOutReason &&
                       again->storage == s->storage && sameTime(s->accessTokenExpiresAt, again->accessTokenExpiresAt) &&
                       sameTime(s->lastRefreshAt, again->lastRefreshAt) && sameTime(s->nextRefreshAt, again->nextRefreshAt),
                   QStringLiteral("status reply round trip"));
    }
    if (const auto l = loginReplyFromPayload(payload)) {
        const auto again = loginReplyFromPayload(replyPayload(7, *l));
        FUZZ_CHECK(again && again->requiresMfa == l->requiresMfa &&
                       (l->requiresMfa ? again->methods == l->methods
                                       : (again->email == l->email && again->userId == l->userId &&
                                          again->sessionId == l->sessionId)),
                   QStringLiteral("login reply round trip"));
    }
}

void checkMessage(QByteArrayView payload)
{
    checkRequest(payload);
    checkEvent(payload);
    checkReplies(payload);
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    fuzz::quietQtMessages();
    qputenv("TZ", "UTC"); // timestamps without an offset are local time
    tzset();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    FuzzedDataProvider fdp(data, size);
    static constexpr qsizetype kLimits[] = {kMaxFrameSize, 256, 16};
    const qsizetype limit = kLimits[fdp.ConsumeIntegralInRange(0, 2)];
    std::vector<qsizetype> cuts(fdp.ConsumeIntegralInRange(0, 16));
    for (auto& cut : cuts)
        cut = fdp.ConsumeIntegral<quint16>();
    const std::vector<uint8_t> bytes = fdp.ConsumeRemainingBytes<uint8_t>();
    const QByteArrayView stream(reinterpret_cast<const char*>(bytes.data()), qsizetype(bytes.size()));

    checkDecoder(stream, cuts, limit);

    const Expected frames = reference(stream, limit);
    for (size_t i = 0; i < frames.frames.size() && i < 8; ++i)
        checkMessage(frames.frames[i]);
    if (frames.frames.empty() && stream.size() > kFrameHeaderSize)
        checkMessage(stream.sliced(kFrameHeaderSize)); // the body whatever its header says: keeps JSON mutations useful
    return 0;
}
