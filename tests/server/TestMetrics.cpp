// SPDX-License-Identifier: Apache-2.0
#include "metrics/HttpMetrics.h"
#include "metrics/MetricsRegistry.h"

#include <QMap>
#include <QRegularExpression>
#include <QSet>
#include <QTest>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <latch>
#include <limits>
#include <thread>
#include <vector>

using namespace ehrs::server;

// Allocations made by the current thread, counted by the replaced global operator new below, so
// that the hot path can be shown not to allocate once its series exist.
namespace {
thread_local std::size_t t_allocations = 0;
} // namespace

void* operator new(std::size_t size)
{
    ++t_allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size))
        return p;
    std::abort();
}

void operator delete(void* p) noexcept
{
    std::free(p);
}

void operator delete(void* p, std::size_t) noexcept
{
    std::free(p);
}

#include "PrometheusText.h"

using namespace ehrs::test::prometheus;


class TestMetrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void names_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<bool>("validName");
        QTest::addColumn<bool>("validLabel");
        QTest::addColumn<QByteArray>("sanitizedName");
        QTest::addColumn<QByteArray>("sanitizedLabel");
        QTest::newRow("plain") << QByteArray("ehrs_requests_total") << true << true
                               << QByteArray("ehrs_requests_total") << QByteArray("ehrs_requests_total");
        QTest::newRow("colon") << QByteArray("ns:sub_total") << true << false << QByteArray("ns:sub_total")
                               << QByteArray("ns_sub_total");
        QTest::newRow("underscore first")
            << QByteArray("_x9") << true << true << QByteArray("_x9") << QByteArray("_x9");
        QTest::newRow("digit first") << QByteArray("9lives") << false << false << QByteArray("_9lives")
                                     << QByteArray("_9lives");
        QTest::newRow("dash and dot") << QByteArray("bad-name.x") << false << false
                                      << QByteArray("bad_name_x") << QByteArray("bad_name_x");
        QTest::newRow("space") << QByteArray("a b") << false << false << QByteArray("a_b")
                               << QByteArray("a_b");
        QTest::newRow("utf-8") << QByteArray("caf\xc3\xa9") << false << false << QByteArray("caf__")
                               << QByteArray("caf__");
        QTest::newRow("empty") << QByteArray() << false << false << QByteArray("_") << QByteArray("_");
    }

    void names()
    {
        QFETCH(QByteArray, name);
        QFETCH(bool, validName);
        QFETCH(bool, validLabel);
        QFETCH(QByteArray, sanitizedName);
        QFETCH(QByteArray, sanitizedLabel);
        QCOMPARE(Metrics::isValidName(name), validName);
        QCOMPARE(Metrics::isValidLabelName(name), validLabel);
        QCOMPARE(Metrics::sanitizeName(name), sanitizedName);
        QCOMPARE(Metrics::sanitizeLabelName(name), sanitizedLabel);
        QVERIFY(Metrics::isValidName(Metrics::sanitizeName(name)));
        QVERIFY(Metrics::isValidLabelName(Metrics::sanitizeLabelName(name)));
    }

    void formatValue_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("zero") << 0.0 << QByteArray("0");
        QTest::newRow("negative zero") << -0.0 << QByteArray("0");
        QTest::newRow("one") << 1.0 << QByteArray("1");
        QTest::newRow("negative") << -3.0 << QByteArray("-3");
        QTest::newRow("million, no exponent") << 1e6 << QByteArray("1000000");
        QTest::newRow("2^53, no exponent") << 9007199254740992.0 << QByteArray("9007199254740992");
        QTest::newRow("half") << 0.5 << QByteArray("0.5");
        QTest::newRow("bucket bound") << 0.0005 << QByteArray("0.0005");
        QTest::newRow("2.5") << 2.5 << QByteArray("2.5");
        QTest::newRow("full precision") << 0.1 + 0.2 << QByteArray("0.30000000000000004");
        QTest::newRow("tiny") << 1e-7 << QByteArray("1e-07");
        QTest::newRow("huge") << 1e300 << QByteArray("1e+300");
        QTest::newRow("+Inf") << kInf << QByteArray("+Inf");
        QTest::newRow("-Inf") << -kInf << QByteArray("-Inf");
        QTest::newRow("NaN") << kNaN << QByteArray("NaN");
    }

    void formatValue()
    {
        QFETCH(double, value);
        QFETCH(QByteArray, text);
        QCOMPARE(Metrics::formatValue(value), text);
        double parsed = 0;
        QVERIFY(parseNumber(text, &parsed));
        if (std::isnan(value))
            QVERIFY(std::isnan(parsed));
        else
            QVERIFY(parsed == value); // exactly, not fuzzily
    }

    void formatCount()
    {
        QCOMPARE(Metrics::formatCount(0), QByteArray("0"));
        QCOMPARE(Metrics::formatCount(std::numeric_limits<std::uint64_t>::max()),
                 QByteArray("18446744073709551615"));
    }

    void escaping_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<QByteArray>("labelValue");
        QTest::addColumn<QByteArray>("help");
        QTest::newRow("plain") << QByteArray("/api/sessions/:id") << QByteArray("/api/sessions/:id")
                               << QByteArray("/api/sessions/:id");
        QTest::newRow("backslash") << QByteArray("a\\b") << QByteArray("a\\\\b") << QByteArray("a\\\\b");
        QTest::newRow("double quote")
            << QByteArray("say \"hi\"") << QByteArray("say \\\"hi\\\"") << QByteArray("say \"hi\"");
        QTest::newRow("newline") << QByteArray("one\ntwo") << QByteArray("one\\ntwo")
                                 << QByteArray("one\\ntwo");
        QTest::newRow("all") << QByteArray("\\\"\n") << QByteArray("\\\\\\\"\\n") << QByteArray("\\\\\"\\n");
        QTest::newRow("utf-8 kept") << QByteArray("caf\xc3\xa9") << QByteArray("caf\xc3\xa9")
                                    << QByteArray("caf\xc3\xa9");
        QTest::newRow("invalid utf-8 replaced")
            << QByteArray("a\xff") << QByteArray("a\xef\xbf\xbd") << QByteArray("a\xef\xbf\xbd");
    }

    void escaping()
    {
        QFETCH(QByteArray, raw);
        QFETCH(QByteArray, labelValue);
        QFETCH(QByteArray, help);
        QCOMPARE(Metrics::escapeLabelValue(raw), labelValue);
        QCOMPARE(Metrics::escapeHelp(raw), help);
    }

    void counterAndGauge()
    {
        MetricsRegistry registry;
        Counter& counter = registry.counter("things_total", "Things.");
        QCOMPARE(counter.value(), std::uint64_t(0));
        counter.inc();
        counter.inc(41);
        QCOMPARE(counter.value(), std::uint64_t(42));

        Gauge& gauge = registry.gauge("level", "Level.");
        QCOMPARE(gauge.value(), 0.0);
        gauge.set(2.5);
        gauge.add(-4);
        QCOMPARE(gauge.value(), -1.5);

        const Exposition e = parseExposition(registry.render());
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        QCOMPARE(e.value("things_total"), 42.0);
        QCOMPARE(e.value("level"), -1.5);
        QCOMPARE(e.types.value("things_total"), QByteArray("counter"));
        QCOMPARE(e.types.value("level"), QByteArray("gauge"));
    }

    void histogram_data()
    {
        QTest::addColumn<QList<double>>("bounds");
        QTest::addColumn<QList<double>>("observations");
        QTest::addColumn<QList<double>>("normalizedBounds");
        QTest::addColumn<QList<quint64>>("cumulative");
        QTest::addColumn<double>("sum");
        QTest::newRow("le is inclusive") << QList<double>{1, 2, 5} << QList<double>{1, 2, 2.5, 5, 7}
                                         << QList<double>{1, 2, 5} << QList<quint64>{1, 2, 4, 5} << 17.5;
        QTest::newRow("all below") << QList<double>{0.5, 1} << QList<double>{0.25, 0.125}
                                   << QList<double>{0.5, 1} << QList<quint64>{2, 2, 2} << 0.375;
        QTest::newRow("all above") << QList<double>{0.5} << QList<double>{3, 4} << QList<double>{0.5}
                                   << QList<quint64>{0, 2} << 7.0;
        QTest::newRow("nothing observed")
            << QList<double>{0.5} << QList<double>{} << QList<double>{0.5} << QList<quint64>{0, 0} << 0.0;
        QTest::newRow("no bounds: +Inf only")
            << QList<double>{} << QList<double>{3} << QList<double>{} << QList<quint64>{1} << 3.0;
        QTest::newRow("NaN dropped") << QList<double>{1} << QList<double>{kNaN, 0.5} << QList<double>{1}
                                     << QList<quint64>{1, 1} << 0.5;
        QTest::newRow("negative values") << QList<double>{0} << QList<double>{-2, 0, 1} << QList<double>{0}
                                         << QList<quint64>{2, 3} << -1.0;
        QTest::newRow("bounds normalized")
            << QList<double>{5, 1, 2, 1, kNaN, kInf, -kInf} << QList<double>{1.5} << QList<double>{1, 2, 5}
            << QList<quint64>{0, 1, 1, 1} << 1.5;
    }

    void histogram()
    {
        QFETCH(QList<double>, bounds);
        QFETCH(QList<double>, observations);
        QFETCH(QList<double>, normalizedBounds);
        QFETCH(QList<quint64>, cumulative);
        QFETCH(double, sum);
        Histogram h({bounds.begin(), bounds.end()});
        QCOMPARE(h.upperBounds(), std::vector<double>(normalizedBounds.begin(), normalizedBounds.end()));
        for (const double v : observations)
            h.observe(v);
        const Histogram::Snapshot snapshot = h.snapshot();
        QCOMPARE(QList<quint64>(snapshot.cumulativeCounts.begin(), snapshot.cumulativeCounts.end()),
                 cumulative);
        QCOMPARE(snapshot.count, std::uint64_t(cumulative.last()));
        QCOMPARE(snapshot.sum, sum);
    }

    void renderGolden()
    {
        MetricsRegistry registry;
        registry.counter("b_total", "B things.", {{"kind", "x"}}).inc(3);
        registry.gauge("a_gauge", "A gauge.").set(1.5);
        Histogram& h = registry.histogram("c_seconds", "C latency.", {0.1, 1}, {{"route", "/x"}});
        h.observe(0.25);
        h.observe(0.5);
        h.observe(3);
        registry.histogram("c_seconds", "C latency.", {0.1, 1}, {{"route", "/a"}}).observe(0.05);
        const QByteArray expected = "# HELP a_gauge A gauge.\n"
                                    "# TYPE a_gauge gauge\n"
                                    "a_gauge 1.5\n"
                                    "# HELP b_total B things.\n"
                                    "# TYPE b_total counter\n"
                                    "b_total{kind=\"x\"} 3\n"
                                    "# HELP c_seconds C latency.\n"
                                    "# TYPE c_seconds histogram\n"
                                    "c_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"
                                    "c_seconds_bucket{route=\"/a\",le=\"1\"} 1\n"
                                    "c_seconds_bucket{route=\"/a\",le=\"+Inf\"} 1\n"
                                    "c_seconds_sum{route=\"/a\"} 0.05\n"
                                    "c_seconds_count{route=\"/a\"} 1\n"
                                    "c_seconds_bucket{route=\"/x\",le=\"0.1\"} 0\n"
                                    "c_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"
                                    "c_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"
                                    "c_seconds_sum{route=\"/x\"} 3.75\n"
                                    "c_seconds_count{route=\"/x\"} 3\n";
        QCOMPARE(registry.render(), expected);
        QVERIFY(parseExposition(expected).error.isEmpty());
        QCOMPARE(MetricsRegistry::contentType, "text/plain; version=0.0.4; charset=utf-8");
    }

    void sameLabelsSameSeries()
    {
        MetricsRegistry registry;
        Counter& a = registry.counter("x_total", "X.", {{"route", "/a"}, {"method", "GET"}});
        QCOMPARE(&registry.counter("x_total", "X.", {{"route", "/a"}, {"method", "GET"}}), &a);
        QCOMPARE(&registry.counter("x_total", "X.", {{"method", "GET"}, {"route", "/a"}}), &a); // order-free
        QVERIFY(&registry.counter("x_total", "X.", {{"route", "/b"}, {"method", "GET"}}) != &a);
        QVERIFY(&registry.counter("y_total", "Y.", {{"route", "/a"}, {"method", "GET"}}) != &a);
        QVERIFY(&registry.counter("x_total", "X.") != &a);
        Gauge& g = registry.gauge("g", "G.", {{"k", "v"}});
        QCOMPARE(&registry.gauge("g", "G.", {{"k", "v"}}), &g);
        Histogram& h = registry.histogram("h", "H.", {1}, {{"k", "v"}});
        QCOMPARE(&registry.histogram("h", "H.", {1}, {{"k", "v"}}), &h);

        a.inc(2);
        const Exposition e = parseExposition(registry.render());
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        QCOMPARE(e.count("x_total"), 3);
        QCOMPARE(e.value("x_total", {{"route", "/a"}, {"method", "GET"}}), 2.0);
        QCOMPARE(e.value("x_total", {{"route", "/b"}, {"method", "GET"}}), 0.0);
        QCOMPARE(e.value("x_total"), 0.0);
    }

    void labelEscapingRoundTrips_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<QByteArray>("rendered");
        QTest::newRow("backslash, quote, newline")
            << QByteArray("a\\b\"c\nd") << QByteArray("x_total{v=\"a\\\\b\\\"c\\nd\"} 1\n");
        QTest::newRow("braces and comma")
            << QByteArray("{a=\"1\",b}") << QByteArray("x_total{v=\"{a=\\\"1\\\",b}\"} 1\n");
        QTest::newRow("empty") << QByteArray() << QByteArray("x_total{v=\"\"} 1\n");
        QTest::newRow("utf-8") << QByteArray("\xe2\x82\xac") << QByteArray("x_total{v=\"\xe2\x82\xac\"} 1\n");
    }

    void labelEscapingRoundTrips()
    {
        QFETCH(QByteArray, value);
        QFETCH(QByteArray, rendered);
        MetricsRegistry registry;
        registry.counter("x_total", "Help with \\ and\nnewline.", {{"v", value}}).inc();
        const QByteArray text = registry.render();
        QVERIFY2(text.contains(rendered), text.constData());
        QVERIFY(text.contains("# HELP x_total Help with \\\\ and\\nnewline.\n"));
        const Exposition e = parseExposition(text);
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        QCOMPARE(e.value("x_total", {{"v", value}}), 1.0);
        QCOMPARE(e.help.value("x_total"), QByteArray("Help with \\ and\nnewline."));
    }

    void renderIsSortedAndParses()
    {
        MetricsRegistry registry;
        bool redisUp = true;
        registry.gaugeCallback("zeta_up", "Z.", [&redisUp] { return redisUp ? 1.0 : 0.0; });
        registry.counter("mid_total", "M.", {{"k", "b"}}).inc(2);
        registry.counter("mid_total", "M.", {{"k", "a"}}).inc(1);
        registry.counter("mid_total", "M.", {{"k", "a"}, {"j", "z"}}).inc(5);
        registry.histogram("alpha_seconds", "A.", {0.5, 1}, {{"r", "2"}}).observe(0.7);
        registry.histogram("alpha_seconds", "A.", {0.5, 1}, {{"r", "1"}}).observe(0.2);
        registry.gauge("beta", "B.").set(kNaN);
        registry.gauge("gamma", "G.").set(-kInf);
        registry.counter("empty_family_total", "No series yet.", {{"k", "v"}});

        const Exposition e = parseExposition(registry.render());
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        QCOMPARE(e.families, (QList<QByteArray>{"alpha_seconds", "beta", "empty_family_total", "gamma",
                                                "mid_total", "zeta_up"}));
        QCOMPARE(e.value("mid_total", {{"k", "a"}}), 1.0);
        QCOMPARE(e.value("mid_total", {{"k", "a"}, {"j", "z"}}), 5.0);
        QCOMPARE(e.value("mid_total", {{"k", "b"}}), 2.0);
        QCOMPARE(e.value("alpha_seconds_bucket", {{"r", "1"}, {"le", "0.5"}}), 1.0);
        QCOMPARE(e.value("alpha_seconds_bucket", {{"r", "2"}, {"le", "0.5"}}), 0.0);
        QCOMPARE(e.value("alpha_seconds_bucket", {{"r", "2"}, {"le", "1"}}), 1.0);
        QCOMPARE(e.value("alpha_seconds_bucket", {{"r", "2"}, {"le", "+Inf"}}), 1.0);
        QCOMPARE(e.value("alpha_seconds_count", {{"r", "2"}}), 1.0);
        QVERIFY(std::isnan(e.value("beta")) && e.count("beta") == 1);
        QCOMPARE(e.value("gamma"), -kInf);
        QCOMPARE(e.value("zeta_up"), 1.0);

        redisUp = false; // read at render time, not at registration
        QCOMPARE(parseExposition(registry.render()).value("zeta_up"), 0.0);
    }

    void gaugeCallbackRunsWithoutTheLock()
    {
        MetricsRegistry registry;
        int calls = 0;
        // Registering from inside a callback would deadlock if render() held its mutex.
        registry.gaugeCallback("active_sessions", "Active.", [&] {
            registry.counter("renders_total", "Renders.").inc();
            return double(++calls);
        });
        QCOMPARE(parseExposition(registry.render()).value("active_sessions"), 1.0);
        const Exposition e = parseExposition(registry.render());
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        QCOMPARE(e.value("active_sessions"), 2.0);
        QCOMPARE(e.value("renders_total"), 2.0); // after the callback: "active_sessions" sorts first

        registry.gaugeCallback("active_sessions", "Active.", [] { return 7.0; }); // replaces
        QCOMPARE(parseExposition(registry.render()).value("active_sessions"), 7.0);
    }

    void concurrentRecordingAddsUpExactly()
    {
        constexpr int threads = 8;
        constexpr int perThread = 100000;
        MetricsRegistry registry;
        HttpMetrics http(registry);
        std::latch start(threads); // all threads record at the same time, not one after the other
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&registry, &http, &start] {
                start.arrive_and_wait();
                // Every thread also races to create the same series.
                Counter& counter = registry.counter("c_total", "C.", {{"k", "v"}});
                Gauge& gauge = registry.gauge("g", "G.");
                Histogram& histogram = registry.histogram("h_seconds", "H.", {0.25, 1});
                // One tight loop per kind: the threads hammer the same atomics at the same time.
                for (int i = 0; i < perThread; ++i)
                    counter.inc();
                for (int i = 0; i < perThread; ++i)
                    gauge.add(1);
                for (int i = 0; i < perThread; ++i)
                    histogram.observe(0.5);
                for (int i = 0; i < perThread; ++i)
                    http.observeRequest("/api/sessions", i % 2 ? "GET" : "POST", 200, 0.003);
            });
        }
        for (std::thread& worker : workers)
            worker.join();

        constexpr double total = double(threads) * perThread;
        QCOMPARE(registry.counter("c_total", "C.", {{"k", "v"}}).value(), std::uint64_t(threads) * perThread);
        QCOMPARE(registry.histogram("h_seconds", "H.", {0.25, 1}).snapshot().count,
                 std::uint64_t(threads) * perThread);
        const Exposition e = parseExposition(registry.render());
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        QCOMPARE(e.count("c_total"), 1);
        QCOMPARE(e.value("c_total", {{"k", "v"}}), total);
        QCOMPARE(e.value("g"), total);
        QCOMPARE(e.value("h_seconds_bucket", {{"le", "0.25"}}), 0.0);
        QCOMPARE(e.value("h_seconds_bucket", {{"le", "1"}}), total);
        QCOMPARE(e.value("h_seconds_count"), total);
        QCOMPARE(e.value("h_seconds_sum"), total / 2);
        for (const char* method : {"GET", "POST"}) {
            const LabelMap labels{{"route", "/api/sessions"}, {"method", method}};
            QCOMPARE(e.value("ehrs_http_requests_total",
                             {{"route", "/api/sessions"}, {"method", method}, {"status", "200"}}),
                     total / 2);
            QCOMPARE(e.value("ehrs_http_request_duration_seconds_count", labels), total / 2);
            QCOMPARE(e.value("ehrs_http_request_duration_seconds_bucket", withLabel(labels, "le", "0.0025")),
                     0.0);
            QCOMPARE(e.value("ehrs_http_request_duration_seconds_bucket", withLabel(labels, "le", "0.005")),
                     total / 2);
        }
    }

    void renderWhileRecording()
    {
        MetricsRegistry registry;
        HttpMetrics http(registry);
        std::atomic<bool> stop = false;
        std::vector<std::thread> workers;
        for (int t = 0; t < 4; ++t) {
            workers.emplace_back([&http, &stop, t] {
                const QByteArray route = "/r" + QByteArray::number(t);
                for (int i = 0; !stop.load(std::memory_order_relaxed); ++i)
                    http.observeRequest(route, "GET", 200 + i % 3, (i % 100) * 0.001);
            });
        }
        QByteArray error;
        for (int i = 0; i < 200 && error.isEmpty(); ++i)
            error = parseExposition(registry.render()).error;
        stop = true;
        for (std::thread& worker : workers)
            worker.join();
        QVERIFY2(error.isEmpty(), error.constData());
        QVERIFY(parseExposition(registry.render()).error.isEmpty());
    }

    void httpMetricsFamilies()
    {
        MetricsRegistry registry;
        HttpMetrics http(registry);
        {
            const Exposition e = parseExposition(registry.render());
            QVERIFY2(e.error.isEmpty(), e.error.constData());
            // Unlabelled counters are there, at zero, before anything happened.
            QCOMPARE(e.value("ehrs_refreshes_total"), 0.0);
            QCOMPARE(e.value("ehrs_refresh_reuse_detected_total"), 0.0);
        }
        http.observeRequest("/api/sessions/:id", "DELETE", 204, 0.004);
        http.observeRequest("/api/sessions/:id", "DELETE", 404, 0.0004);
        http.observeRequest("/api/login", "POST", 200, 0.3);
        http.refreshed();
        http.refreshed();
        http.refreshReuseDetected();
        http.revoked("logout");
        http.revoked("logout");
        http.revoked("reuse");
        http.rateLimited("ip");
        http.login("success");
        http.login("failure");
        http.login("failure");
        std::atomic<bool> redisUp = true;
        http.watchRedisUp([&redisUp] { return redisUp.load(); });
        http.watchActiveSessions([] { return 12.0; });

        const Exposition e = parseExposition(registry.render());
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        const QMap<QByteArray, QByteArray> types{{"ehrs_http_requests_total", "counter"},
                                                 {"ehrs_http_request_duration_seconds", "histogram"},
                                                 {"ehrs_refreshes_total", "counter"},
                                                 {"ehrs_revocations_total", "counter"},
                                                 {"ehrs_refresh_reuse_detected_total", "counter"},
                                                 {"ehrs_rate_limited_total", "counter"},
                                                 {"ehrs_logins_total", "counter"},
                                                 {"ehrs_active_sessions", "gauge"},
                                                 {"ehrs_redis_up", "gauge"}};
        QCOMPARE(e.types, types);
        for (const QByteArray& family : types.keys())
            QVERIFY2(!e.help.value(family).isEmpty(), family.constData());
        const LabelMap del{{"route", "/api/sessions/:id"}, {"method", "DELETE"}};
        QCOMPARE(e.value("ehrs_http_requests_total", withLabel(del, "status", "204")), 1.0);
        QCOMPARE(e.value("ehrs_http_requests_total", withLabel(del, "status", "404")), 1.0);
        QCOMPARE(e.count("ehrs_http_requests_total"), 3);
        QCOMPARE(e.value("ehrs_http_request_duration_seconds_count", del), 2.0);
        QCOMPARE(e.value("ehrs_http_request_duration_seconds_bucket", withLabel(del, "le", "0.0005")), 1.0);
        QCOMPARE(e.value("ehrs_http_request_duration_seconds_bucket", withLabel(del, "le", "0.005")), 2.0);
        QCOMPARE(e.count("ehrs_http_request_duration_seconds_bucket"), 2 * 14);
        QCOMPARE(e.value("ehrs_refreshes_total"), 2.0);
        QCOMPARE(e.value("ehrs_refresh_reuse_detected_total"), 1.0);
        QCOMPARE(e.value("ehrs_revocations_total", {{"reason", "logout"}}), 2.0);
        QCOMPARE(e.value("ehrs_revocations_total", {{"reason", "reuse"}}), 1.0);
        QCOMPARE(e.value("ehrs_rate_limited_total", {{"scope", "ip"}}), 1.0);
        QCOMPARE(e.value("ehrs_logins_total", {{"result", "success"}}), 1.0);
        QCOMPARE(e.value("ehrs_logins_total", {{"result", "failure"}}), 2.0);
        QCOMPARE(e.value("ehrs_active_sessions"), 12.0);
        QCOMPARE(e.value("ehrs_redis_up"), 1.0);
        redisUp = false;
        QCOMPARE(parseExposition(registry.render()).value("ehrs_redis_up"), 0.0);
    }

    void httpMethodLabel_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("label");
        for (const char* m : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
            QTest::newRow(m) << QByteArray(m) << QByteArray(m);
        QTest::newRow("lower case") << QByteArray("get") << QByteArray("OTHER");
        QTest::newRow("unknown") << QByteArray("BREW") << QByteArray("OTHER");
        QTest::newRow("empty") << QByteArray() << QByteArray("OTHER");
    }

    void httpMethodLabel()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, label);
        MetricsRegistry registry;
        HttpMetrics http(registry);
        http.observeRequest("unmatched", method, 404, 0.001);
        const Exposition e = parseExposition(registry.render());
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        QCOMPARE(e.count("ehrs_http_requests_total"), 1);
        QCOMPARE(e.value("ehrs_http_requests_total",
                         {{"route", "unmatched"}, {"method", label}, {"status", "404"}}),
                 1.0);
    }

    void hotPathDoesNotAllocate()
    {
        MetricsRegistry registry;
        HttpMetrics http(registry);
        const QByteArray route = "/api/sessions/:id";
        const auto record = [&] {
            http.observeRequest(route, "GET", 200, 0.002);
            http.refreshed();
            http.revoked("logout");
            http.rateLimited("ip");
            http.login("success");
        };
        std::size_t before = t_allocations;
        record();                        // creates the series
        QVERIFY(t_allocations > before); // the counting hook works
        before = t_allocations;
        for (int i = 0; i < 1000; ++i)
            record();
        QCOMPARE(t_allocations - before, std::size_t(0));
        QCOMPARE(parseExposition(registry.render()).value("ehrs_logins_total", {{"result", "success"}}),
                 1001.0);
    }

    void misuseIsSanitizedInRelease()
    {
#ifndef QT_NO_DEBUG
        QSKIP("invalid names, type clashes and bucket mismatches assert in debug builds");
#else
        MetricsRegistry registry;
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("invalid metric name")));
        registry.counter("bad-name", "Bad.").inc();
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("invalid label name")));
        registry.counter("ok_total", "Ok.", {{"bad label", "v"}}).inc(2);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("duplicate label name")));
        registry.counter("ok_total", "Ok.", {{"k", "first"}, {"k", "second"}}).inc(3);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("is a counter")));
        registry.gauge("ok_total", "Ok as a gauge.").set(99); // detached: not rendered
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("invalid label name")));
        registry.histogram("h_seconds", "H.", {1, 2}, {{"le", "x"}}).observe(1.5);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("keeps the buckets")));
        Histogram& other = registry.histogram("h_seconds", "H.", {10}, {{"k", "v"}});
        QCOMPARE(other.upperBounds(), (std::vector<double>{1, 2}));
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("sorted and deduplicated")));
        QCOMPARE(registry.histogram("u_seconds", "U.", {2, 1, 1}).upperBounds(), (std::vector<double>{1, 2}));

        const Exposition e = parseExposition(registry.render());
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        QCOMPARE(e.value("bad_name"), 1.0);
        QCOMPARE(e.value("ok_total", {{"bad_label", "v"}}), 2.0);
        QCOMPARE(e.value("ok_total", {{"k", "first"}}), 3.0);
        QCOMPARE(e.types.value("ok_total"), QByteArray("counter"));
        QCOMPARE(e.value("h_seconds_bucket", {{"le_", "x"}, {"le", "2"}}), 1.0);
#endif
    }

    // The checker above must be able to fail, or the tests that rely on it prove nothing.
    void parserRejects_data()
    {
        QTest::addColumn<QByteArray>("text");
        const QByteArray head = "# HELP a A.\n# TYPE a counter\n";
        const QByteArray hist = "# TYPE h histogram\n";
        QTest::newRow("no final newline") << QByteArray(head + "a 1");
        QTest::newRow("sample before TYPE") << QByteArray("a 1\n");
        QTest::newRow("HELP after TYPE") << QByteArray("# TYPE a counter\n# HELP a A.\na 1\n");
        QTest::newRow("TYPE twice") << QByteArray(head + "# TYPE a counter\na 1\n");
        QTest::newRow("unknown type") << QByteArray("# TYPE a summary\n");
        QTest::newRow("other comment") << QByteArray("# hello\n");
        QTest::newRow("families unsorted") << QByteArray("# TYPE b gauge\nb 1\n# TYPE a gauge\na 1\n");
        QTest::newRow("family split") << QByteArray("# TYPE a gauge\n# TYPE b gauge\n# TYPE a gauge\n");
        QTest::newRow("sample of another family") << QByteArray(head + "b 1\n");
        QTest::newRow("series unsorted") << QByteArray(head + "a{k=\"b\"} 1\na{k=\"a\"} 1\n");
        QTest::newRow("duplicate sample") << QByteArray(head + "a 1\na 1\n");
        QTest::newRow("empty braces") << QByteArray(head + "a{} 1\n");
        QTest::newRow("trailing comma") << QByteArray(head + "a{k=\"v\",} 1\n");
        QTest::newRow("bad escape") << QByteArray(head + "a{k=\"\\t\"} 1\n");
        QTest::newRow("unterminated value") << QByteArray(head + "a{k=\"v} 1\n");
        QTest::newRow("decimal comma") << QByteArray(head + "a 1,5\n");
        QTest::newRow("two spaces") << QByteArray(head + "a  1\n");
        QTest::newRow("timestamp") << QByteArray(head + "a 1 1700000000\n");
        QTest::newRow("inf spelling") << QByteArray(head + "a inf\n");
        QTest::newRow("negative counter") << QByteArray(head + "a -1\n");
        QTest::newRow("empty line") << QByteArray(head + "\na 1\n");
        QTest::newRow("bucket without +Inf")
            << QByteArray(hist + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n");
        QTest::newRow("buckets not cumulative")
            << QByteArray(hist + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n");
        QTest::newRow("le not increasing") << QByteArray(
            hist +
            "h_bucket{le=\"2\"} 0\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n");
        QTest::newRow("count differs from +Inf")
            << QByteArray(hist + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n");
        QTest::newRow("no count") << QByteArray(hist + "h_bucket{le=\"+Inf\"} 1\nh_sum 1\n");
        QTest::newRow("histogram plain sample") << QByteArray(hist + "h 1\n");
    }

    void parserRejects()
    {
        QFETCH(QByteArray, text);
        QVERIFY2(!parseExposition(text).error.isEmpty(), text.constData());
    }

    void parserAccepts()
    {
        const QByteArray text =
            "# HELP a A \\\\ b\\n.\n# TYPE a counter\na{j=\"\\\"\",k=\"v\"} 1e+06\n"
            "# TYPE h histogram\nh_bucket{le=\"0.5\"} 0\nh_bucket{le=\"+Inf\"} 2\nh_sum NaN\n"
            "h_count 2\n";
        const Exposition e = parseExposition(text);
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        QCOMPARE(e.help.value("a"), QByteArray("A \\ b\n."));
        QCOMPARE(e.value("a", {{"j", "\""}, {"k", "v"}}), 1e6);
        QCOMPARE(e.value("h_count"), 2.0);
    }
};

QTEST_GUILESS_MAIN(TestMetrics)
#include "TestMetrics.moc"
