// SPDX-License-Identifier: Apache-2.0
#include "ipc/FrameDecoder.h"

#include <QTest>
#include <QtEndian>

using namespace ehrs;
using namespace ehrs::ipc;

class TestFrameDecoder : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void encodeHasBigEndianLength();
    void encodeRejectsEmptyAndOversize();
    void decodesAnyChunking_data();
    void decodesAnyChunking();
    void rejectsBadHeaders_data();
    void rejectsBadHeaders();
    void oversizeBehindGoodFrameIsCaught();
    void acceptsExactlyMaxSize();
};

void TestFrameDecoder::encodeHasBigEndianLength()
{
    auto frame = encodeFrame("{\"a\":1}");
    QVERIFY(frame);
    QCOMPARE(frame->size(), 4 + 7);
    QCOMPARE(QByteArray(frame->constData(), 4), QByteArray("\x00\x00\x00\x07", 4));
    QCOMPARE(frame->mid(4), QByteArray("{\"a\":1}"));
}

void TestFrameDecoder::encodeRejectsEmptyAndOversize()
{
    QVERIFY(!encodeFrame(QByteArray()));
    auto big = encodeFrame(QByteArray(kMaxFrameSize + 1, 'x'));
    QVERIFY(!big);
    QCOMPARE(big.error().code, ErrorCode::PayloadTooLarge);
}

void TestFrameDecoder::decodesAnyChunking_data()
{
    QTest::addColumn<int>("chunk");
    QTest::newRow("byte by byte") << 1;
    QTest::newRow("3 bytes (splits headers)") << 3;
    QTest::newRow("7 bytes") << 7;
    QTest::newRow("all at once (coalesced)") << 0;
}

void TestFrameDecoder::decodesAnyChunking()
{
    QFETCH(int, chunk);
    const QList<QByteArray> messages{"{\"type\":\"status\"}", QByteArray(1000, 'y'), "1", "{\"type\":\"token\",\"id\":9}"};
    QByteArray stream;
    for (const auto& m : messages)
        stream += *encodeFrame(m);
    if (chunk == 0)
        chunk = int(stream.size());

    FrameDecoder decoder;
    QList<QByteArray> received;
    for (qsizetype i = 0; i < stream.size(); i += chunk) {
        QVERIFY(decoder.feed(stream.mid(i, chunk)));
        while (auto m = decoder.next())
            received << *m;
    }
    QCOMPARE(received, messages);
    QCOMPARE(decoder.bufferedBytes(), 0);
    QVERIFY(!decoder.hasFailed());
}

void TestFrameDecoder::rejectsBadHeaders_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<ErrorCode>("code");
    QTest::newRow("zero length") << QByteArray("\x00\x00\x00\x00", 4) << ErrorCode::InvalidRequest;
    QTest::newRow("max + 1") << QByteArray("\x00\x01\x00\x01", 4) << ErrorCode::PayloadTooLarge;
    QTest::newRow("4 GiB") << QByteArray("\xff\xff\xff\xff", 4) << ErrorCode::PayloadTooLarge;
}

void TestFrameDecoder::rejectsBadHeaders()
{
    QFETCH(QByteArray, header);
    QFETCH(ErrorCode, code);
    FrameDecoder decoder;
    // Split the header: the check must happen once it is complete, not before the body arrives.
    QVERIFY(decoder.feed(header.left(2)));
    auto r = decoder.feed(header.mid(2));
    QVERIFY(!r);
    QCOMPARE(r.error().code, code);
    QVERIFY(decoder.hasFailed());
    QVERIFY(!decoder.next());
    QVERIFY(!decoder.feed("more"));
}

void TestFrameDecoder::oversizeBehindGoodFrameIsCaught()
{
    FrameDecoder decoder;
    QByteArray stream = *encodeFrame("ok");
    stream += QByteArray("\x7f\x00\x00\x00", 4);
    QVERIFY(decoder.feed(stream)); // the first header is fine
    auto first = decoder.next();
    QVERIFY(first);
    QCOMPARE(*first, QByteArray("ok"));
    QVERIFY(decoder.hasFailed());
    QVERIFY(!decoder.next());
}

void TestFrameDecoder::acceptsExactlyMaxSize()
{
    FrameDecoder decoder;
    QVERIFY(decoder.feed(*encodeFrame(QByteArray(kMaxFrameSize, 'z'))));
    auto m = decoder.next();
    QVERIFY(m);
    QCOMPARE(m->size(), kMaxFrameSize);
}

QTEST_GUILESS_MAIN(TestFrameDecoder)
#include "TestFrameDecoder.moc"
