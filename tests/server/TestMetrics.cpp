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
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
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

using namespace ehrs::test::exposition;

class TestMetrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // The registry is prometheus-cpp's; what is ours is the order of the output (the checker
    // wants families sorted by name and series by labels) and the scrape-time gauges.
    void renderGolden()
    {
        MetricsRegistry registry;
        prometheus::BuildCounter()
            .Name("b_total")
            .Help("B things.")
            .Register(registry.registry())
            .Add({{"kind", "x"}})
            .Increment(3);
        registry.gaugeCallback("a_gauge", "A gauge.", [] { return 1.5; });
        auto& c =
            prometheus::BuildHistogram().Name("c_seconds").Help("C latency.").Register(registry.registry());
        prometheus::Histogram& h = c.Add({{"route", "/x"}}, prometheus::Histogram::BucketBoundaries{0.1, 1});
        h.Observe(0.25);
        h.Observe(0.5);
        h.Observe(3);
        c.Add({{"route", "/a"}}, prometheus::Histogram::BucketBoundaries{0.1, 1}).Observe(0.05);
        const QByteArray expected = "# HELP a_gauge A gauge.\n"
                                    "# TYPE a_gauge gauge\n"
                                    "a_gauge 1.5\n"
                                    "# HELP b_total B things.\n"
                                    "# TYPE b_total counter\n"
                                    "b_total{kind=\"x\"} 3\n"
                                    "# HELP c_seconds C latency.\n"
                                    "# TYPE c_seconds histogram\n"
                                    "c_seconds_count{route=\"/a\"} 1\n"
                                    "c_seconds_sum{route=\"/a\"} 0.05\n"
                                    "c_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"
                                    "c_seconds_bucket{route=\"/a\",le=\"1\"} 1\n"
                                    "c_seconds_bucket{route=\"/a\",le=\"+Inf\"} 1\n"
                                    "c_seconds_count{route=\"/x\"} 3\n"
                                    "c_seconds_sum{route=\"/x\"} 3.75\n"
                                    "c_seconds_bucket{route=\"/x\",le=\"0.1\"} 0\n"
                                    "c_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"
                                    "c_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n";
        QCOMPARE(registry.render(), expected);
        QCOMPARE(MetricsRegistry::contentType, "text/plain; version=0.0.4; charset=utf-8");
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
        prometheus::BuildCounter()
            .Name("x_total")
            .Help("X.")
            .Register(registry.registry())
            .Add({{"v", value.toStdString()}})
            .Increment();
        const QByteArray text = registry.render();
        QVERIFY2(text.contains(rendered), text.constData());
        const Exposition e = parseExposition(text);
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        QCOMPARE(e.value("x_total", {{"v", value}}), 1.0);
    }

    void renderIsSortedAndParses()
    {
        MetricsRegistry registry;
        bool redisUp = true;
        registry.gaugeCallback("zeta_up", "Z.", [&redisUp] { return redisUp ? 1.0 : 0.0; });
        auto& mid = prometheus::BuildCounter().Name("mid_total").Help("M.").Register(registry.registry());
        // Enough series that prometheus-cpp's hash order is unlikely to be sorted by chance.
        for (int i = 0; i < 20; ++i)
            mid.Add({{"k", std::to_string(i)}}).Increment(i);
        mid.Add({{"k", "a"}, {"j", "z"}}).Increment(5);
        auto& alpha =
            prometheus::BuildHistogram().Name("alpha_seconds").Help("A.").Register(registry.registry());
        alpha.Add({{"r", "2"}}, prometheus::Histogram::BucketBoundaries{0.5, 1}).Observe(0.7);
        alpha.Add({{"r", "1"}}, prometheus::Histogram::BucketBoundaries{0.5, 1}).Observe(0.2);
        prometheus::BuildGauge().Name("gamma").Help("G.").Register(registry.registry()).Add({}).Set(-kInf);
        registry.gaugeCallback("beta", "B.", [] { return 2.0; }, {{"z", "1"}, {"a", "2"}});
        registry.gaugeCallback("beta", "B.", [] { return 1.0; }, {{"a", "1"}});

        const Exposition e = parseExposition(registry.render());
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        QCOMPARE(e.families, (QList<QByteArray>{"alpha_seconds", "beta", "gamma", "mid_total", "zeta_up"}));
        QCOMPARE(e.value("mid_total", {{"k", "7"}}), 7.0);
        QCOMPARE(e.value("mid_total", {{"k", "a"}, {"j", "z"}}), 5.0);
        QCOMPARE(e.value("alpha_seconds_bucket", {{"r", "1"}, {"le", "0.5"}}), 1.0);
        QCOMPARE(e.value("alpha_seconds_bucket", {{"r", "2"}, {"le", "0.5"}}), 0.0);
        QCOMPARE(e.value("alpha_seconds_bucket", {{"r", "2"}, {"le", "+Inf"}}), 1.0);
        QCOMPARE(e.value("alpha_seconds_count", {{"r", "2"}}), 1.0);
        QCOMPARE(e.value("beta", {{"a", "2"}, {"z", "1"}}), 2.0);
        QCOMPARE(e.value("beta", {{"a", "1"}}), 1.0);
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
            registry.gaugeCallback("calls", "Calls.", [&calls] { return double(calls); });
            return double(++calls);
        });
        QCOMPARE(parseExposition(registry.render()).value("active_sessions"), 1.0);
        const Exposition e = parseExposition(registry.render());
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        QCOMPARE(e.value("active_sessions"), 2.0);
        QCOMPARE(e.value("calls"), 2.0);

        registry.gaugeCallback("active_sessions", "Active.", [] { return 7.0; }); // replaces
        QCOMPARE(parseExposition(registry.render()).value("active_sessions"), 7.0);
    }

    void concurrentRecordingAddsUpExactly()
    {
        constexpr int threads = 8;
        constexpr int perThread = 50000;
        MetricsRegistry registry;
        HttpMetrics http(registry);
        std::latch start(threads); // all threads record at the same time, not one after the other
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&http, &start] {
                start.arrive_and_wait();
                // Every thread races to create the same series, then hammers them.
                for (int i = 0; i < perThread; ++i) {
                    http.observeRequest("/api/sessions", i % 2 ? "GET" : "POST", 200, 0.003);
                    http.login("success");
                }
            });
        }
        for (std::thread& worker : workers)
            worker.join();

        constexpr double total = double(threads) * perThread;
        const Exposition e = parseExposition(registry.render());
        QVERIFY2(e.error.isEmpty(), e.error.constData());
        QCOMPARE(e.value("ehrs_logins_total", {{"result", "success"}}), total);
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
