#include "common/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace corral {
namespace {

TEST(Metrics, CounterWithLabelsRendersExactly) {
  MetricsRegistry registry;
  auto& requests =
      registry.counter("corral_http_requests_total", "HTTP requests served.", {"method", "code"});
  requests.with({"GET", "200"}).inc();
  requests.with({"GET", "200"}).inc(2);
  requests.with({"POST", "409"}).inc();
  EXPECT_EQ(registry.render(),
            "# HELP corral_http_requests_total HTTP requests served.\n"
            "# TYPE corral_http_requests_total counter\n"
            "corral_http_requests_total{method=\"GET\",code=\"200\"} 3\n"
            "corral_http_requests_total{method=\"POST\",code=\"409\"} 1\n");
}

TEST(Metrics, CounterKeepsWholeIncrementsExactAndIgnoresNegativeAmounts) {
  MetricsRegistry registry;
  Counter& big = registry.counter("big_total", "b").with({});
  big.inc(std::uint64_t{1} << 60);
  big.inc();
  EXPECT_EQ(big.formatted(), "1152921504606846977");  // 2^60 + 1: beyond a double's precision
  Counter& seconds = registry.counter("cpu_seconds_total", "s").with({});
  seconds.inc(2);
  seconds.add(0.25);
  seconds.add(-5);
  seconds.add(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(seconds.formatted(), "2.25");
  EXPECT_DOUBLE_EQ(seconds.value(), 2.25);
}

TEST(Metrics, GaugeRendersExactly) {
  MetricsRegistry registry;
  Gauge& queue = registry.gauge("corral_queue_depth", "Operations waiting.").with({});
  queue.set(5);
  queue.add(2.5);
  queue.sub(10);
  EXPECT_EQ(registry.render(),
            "# HELP corral_queue_depth Operations waiting.\n"
            "# TYPE corral_queue_depth gauge\n"
            "corral_queue_depth -2.5\n");
}

TEST(Metrics, HistogramRendersCumulativeBucketsSumAndCount) {
  MetricsRegistry registry;
  auto& latency =
      registry.histogram("corral_op_seconds", "Operation latency.", {0.25, 0.5, 1}, {"action"});
  Histogram& boot = latency.with({"boot"});
  for (double v : {0.125, 0.25, 0.375, 0.75, 2.0}) boot.observe(v);
  EXPECT_EQ(registry.render(),
            "# HELP corral_op_seconds Operation latency.\n"
            "# TYPE corral_op_seconds histogram\n"
            "corral_op_seconds_bucket{action=\"boot\",le=\"0.25\"} 2\n"
            "corral_op_seconds_bucket{action=\"boot\",le=\"0.5\"} 3\n"
            "corral_op_seconds_bucket{action=\"boot\",le=\"1\"} 4\n"
            "corral_op_seconds_bucket{action=\"boot\",le=\"+Inf\"} 5\n"
            "corral_op_seconds_sum{action=\"boot\"} 3.5\n"
            "corral_op_seconds_count{action=\"boot\"} 5\n");
}

TEST(Metrics, UnlabelledHistogramHasOnlyLe) {
  MetricsRegistry registry;
  registry.histogram("h", "H.", {1}).with({}).observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(registry.render(),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 1\nh_sum NaN\nh_count 1\n");
}

TEST(Metrics, EscapesHelpAndLabelValues) {
  MetricsRegistry registry;
  registry.gauge("g", "a \\ back\nslash \"quoted\"", {"path"})
      .with({"C:\\vm \"one\"\nline2"})
      .set(1);
  EXPECT_EQ(registry.render(),
            "# HELP g a \\\\ back\\nslash \"quoted\"\n"
            "# TYPE g gauge\n"
            "g{path=\"C:\\\\vm \\\"one\\\"\\nline2\"} 1\n");
}

TEST(Metrics, FormatsValues) {
  struct Case {
    double value;
    const char* printed;
  };
  const Case cases[] = {
      {0, "0"},
      {3, "3"},
      {-2, "-2"},
      {1e6, "1000000"},
      {9007199254740992.0, "9007199254740992"},  // 2^53, the last exact integer
      {1e20, "1e+20"},
      {0.5, "0.5"},
      {0.005, "0.005"},
      {1e-7, "1e-07"},
      {0.1 + 0.2, "0.30000000000000004"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(format_metric_value(c.value), c.printed);
    if (std::isfinite(c.value)) {
      EXPECT_EQ(std::stod(c.printed), c.value) << c.printed;
    }
  }
}

TEST(Metrics, ValidatesNames) {
  struct Case {
    const char* name;
    bool metric_ok;
    bool label_ok;
  };
  const Case cases[] = {
      {"corral_vms", true, true}, {"_x", true, true},    {"a:b", true, false},
      {":x", true, false},        {"x9", true, true},    {"9x", false, false},
      {"", false, false},         {"a-b", false, false}, {"a b", false, false},
      {"__name__", true, false},  {"é", false, false},   {"le", true, true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(valid_metric_name(c.name), c.metric_ok) << c.name;
    EXPECT_EQ(valid_label_name(c.name), c.label_ok) << c.name;
  }
}

TEST(Metrics, RejectsBadRegistrations) {
  MetricsRegistry registry;
  EXPECT_THROW(registry.gauge("9lives", "h"), std::logic_error);
  EXPECT_THROW(registry.gauge("a-b", "h"), std::logic_error);
  EXPECT_THROW(registry.gauge("g", "h", {"__reserved"}), std::logic_error);
  EXPECT_THROW(registry.gauge("g", "h", {"bad-label"}), std::logic_error);
  EXPECT_THROW(registry.gauge("g", "h", {"a", "a"}), std::logic_error);
  EXPECT_THROW(registry.gauge("g", ""), std::logic_error);
  EXPECT_THROW(registry.counter("corral_requests", "h"), std::logic_error);  // not *_total
  EXPECT_THROW(registry.histogram("h", "h", {1}, {"le"}), std::logic_error);
  EXPECT_THROW(registry.histogram("h", "h", {1, 1}), std::logic_error);
  EXPECT_THROW(registry.histogram("h", "h", {2, 1}), std::logic_error);
  EXPECT_THROW(registry.histogram("h", "h", {std::nan("")}), std::logic_error);
  EXPECT_EQ(registry.render(), "");  // nothing half-registered
}

TEST(Metrics, SameRegistrationReturnsTheFamilyAndADifferentOneThrows) {
  MetricsRegistry registry;
  auto& first = registry.counter("x_total", "X.", {"a"});
  EXPECT_EQ(&registry.counter("x_total", "X.", {"a"}), &first);
  EXPECT_THROW(registry.counter("x_total", "X.", {"b"}), std::logic_error);
  EXPECT_THROW(registry.counter("x_total", "Other help.", {"a"}), std::logic_error);
  EXPECT_THROW(registry.gauge("x_total", "X.", {"a"}), std::logic_error);

  auto& hist = registry.histogram("lat", "L.", {1, 2, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(hist.buckets(), (std::vector<double>{1, 2}));  // trailing +Inf is implicit
  EXPECT_EQ(&registry.histogram("lat", "L.", {1, 2}), &hist);
  EXPECT_THROW(registry.histogram("lat", "L.", {1, 3}), std::logic_error);
  // A histogram's sample names are taken too.
  EXPECT_THROW(registry.gauge("lat_count", "C."), std::logic_error);
  EXPECT_NO_THROW(registry.histogram("x", "X.", {1})) << "x_total is not x";
}

TEST(Metrics, WrongNumberOfLabelValuesThrows) {
  MetricsRegistry registry;
  auto& family = registry.counter("x_total", "X.", {"a", "b"});
  EXPECT_THROW(family.with({"1"}), std::logic_error);
  EXPECT_THROW(family.with({"1", "2", "3"}), std::logic_error);
  const std::vector<std::string> values{"1", "2"};
  EXPECT_EQ(&family.with(values), &family.with({"1", "2"}));  // runtime values, same child
}

TEST(Metrics, OrderIsRegistrationThenSortedLabelValues) {
  MetricsRegistry registry;
  auto& zeta = registry.gauge("zeta", "Z.", {"k"});
  auto& alpha = registry.counter("alpha_total", "A.", {"k", "j"});
  registry.gauge("empty", "Labelled, no children: not rendered.", {"k"});
  for (const char* k : {"b", "a", "c"}) zeta.with({k}).set(1);
  alpha.with({"b", "2"}).inc();
  alpha.with({"b", "10"}).inc();  // byte order, not numeric
  alpha.with({"a", "9"}).inc();
  const std::string text = registry.render();
  EXPECT_EQ(text,
            "# HELP zeta Z.\n# TYPE zeta gauge\n"
            "zeta{k=\"a\"} 1\nzeta{k=\"b\"} 1\nzeta{k=\"c\"} 1\n"
            "# HELP alpha_total A.\n# TYPE alpha_total counter\n"
            "alpha_total{k=\"a\",j=\"9\"} 1\n"
            "alpha_total{k=\"b\",j=\"10\"} 1\n"
            "alpha_total{k=\"b\",j=\"2\"} 1\n");
  EXPECT_EQ(registry.render(), text);
}

TEST(Metrics, ConcurrentUpdatesAreExact) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100'000;
  MetricsRegistry registry;
  auto& hits = registry.counter("hits_total", "H.", {"shard"});
  auto& halves = registry.counter("halves_total", "Fractional adds.");
  auto& level = registry.gauge("level", "L.");
  auto& latency = registry.histogram("op_seconds", "O.", {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter& cached = hits.with({"all"});
      for (int i = 0; i < kPerThread; ++i) {
        cached.inc();
        halves.with({}).add(0.5);
        level.with({}).add(1);
        latency.with({}).observe(i % 2 == 0 ? 0.25 : 1.0);
        // New children and scrapes while others update: TSan checks the locking.
        if (i % 10'000 == 0) {
          hits.with({"t" + std::to_string(t) + "_" + std::to_string(i)}).inc();
          (void)registry.render();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  constexpr int kTotal = kThreads * kPerThread;
  EXPECT_EQ(hits.with({"all"}).formatted(), std::to_string(kTotal));
  EXPECT_EQ(halves.with({}).value(), kTotal / 2.0);  // multiples of 0.5 are exact
  EXPECT_EQ(level.with({}).value(), kTotal);
  const Histogram::Snapshot snap = latency.with({}).snapshot();
  EXPECT_EQ(snap.count, std::uint64_t{kTotal});
  EXPECT_EQ(snap.cumulative, (std::vector<std::uint64_t>{kTotal / 2, kTotal}));
  EXPECT_EQ(snap.sum, kTotal / 2 * 1.25);
}

TEST(Metrics, CollectorSamplesAppearInPlaceAndSorted) {
  MetricsRegistry registry;
  registry.gauge("before", "B.").with({}).set(1);
  // What the engine would count from memory at scrape time.
  std::map<std::pair<std::string, std::string>, int> vms{
      {{"running", "p2"}, 2}, {{"pending", "p1"}, 1}, {{"running", "p1"}, 3}};
  registry.add_collector([&vms](Collector& out) {
    std::vector<Collector::Sample> samples;
    for (const auto& [key, n] : vms) samples.push_back({{key.second, key.first}, double(n)});
    out.emit("corral_vms", "VMs by project and state.", MetricType::kGauge, {"project", "state"},
             std::move(samples));
    out.emit("corral_none", "Nothing now.", MetricType::kGauge, {"x"}, {});
  });
  registry.gauge("after", "A.").with({}).set(2);
  const std::string expected_vms =
      "# HELP corral_vms VMs by project and state.\n# TYPE corral_vms gauge\n"
      "corral_vms{project=\"p1\",state=\"pending\"} 1\n"
      "corral_vms{project=\"p1\",state=\"running\"} 3\n"
      "corral_vms{project=\"p2\",state=\"running\"} 2\n";
  EXPECT_EQ(registry.render(), "# HELP before B.\n# TYPE before gauge\nbefore 1\n" + expected_vms +
                                   "# HELP after A.\n# TYPE after gauge\nafter 2\n");
  vms[{"running", "p2"}] = 7;  // read again at the next scrape
  EXPECT_NE(registry.render().find("corral_vms{project=\"p2\",state=\"running\"} 7\n"),
            std::string::npos);
}

TEST(Metrics, CollectorMistakesThrowFromRender) {
  struct Case {
    const char* what;
    std::function<void(Collector&)> collect;
  };
  const Case cases[] = {
      {"name of a registered family",
       [](Collector& c) {
         c.emit("taken", "T.", MetricType::kGauge, {}, {{{}, 1}});
       }},
      {"same name twice",
       [](Collector& c) {
         c.emit("twice", "T.", MetricType::kGauge, {}, {{{}, 1}});
         c.emit("twice", "T.", MetricType::kGauge, {}, {{{}, 1}});
       }},
      {"duplicate label values",
       [](Collector& c) {
         c.emit("dup", "D.", MetricType::kGauge, {"k"}, {{{"a"}, 1}, {{"a"}, 2}});
       }},
      {"wrong label count",
       [](Collector& c) {
         c.emit("n", "N.", MetricType::kGauge, {"k"}, {{{"a", "b"}, 1}});
       }},
      {"histogram", [](Collector& c) { c.emit("h", "H.", MetricType::kHistogram, {}, {}); }},
      {"counter without _total",
       [](Collector& c) {
         c.emit("c", "C.", MetricType::kCounter, {}, {{{}, 1}});
       }},
  };
  for (const Case& c : cases) {
    MetricsRegistry registry;
    registry.gauge("taken", "T.");
    registry.add_collector(c.collect);
    EXPECT_THROW((void)registry.render(), std::logic_error) << c.what;
  }
}

TEST(Metrics, ExponentialAndDefaultBuckets) {
  EXPECT_EQ(exponential_buckets(0.001, 10, 4), (std::vector<double>{0.001, 0.01, 0.1, 1.0}));
  EXPECT_EQ(exponential_buckets(1, 2, 3), (std::vector<double>{1, 2, 4}));
  EXPECT_THROW(exponential_buckets(0, 2, 3), std::logic_error);
  EXPECT_THROW(exponential_buckets(1, 1, 3), std::logic_error);
  EXPECT_THROW(exponential_buckets(1, 2, 0), std::logic_error);
  const std::vector<double>& latency = default_latency_buckets();
  EXPECT_TRUE(std::is_sorted(latency.begin(), latency.end()));
  EXPECT_EQ(latency.front(), 0.0005);
  EXPECT_EQ(latency.back(), 10);
  MetricsRegistry registry;  // accepted as histogram bounds
  EXPECT_EQ(registry.histogram("d", "D.", latency).buckets(), latency);
}

// Every line of a full render reads back under the text format's grammar, and every sample
// belongs to the family its preceding HELP/TYPE lines announced.
TEST(Metrics, RenderParsesBack) {
  MetricsRegistry registry;
  auto& requests = registry.counter("corral:http_requests_total", "R.", {"method", "code"});
  requests.with({"GET", "200"}).inc(7);
  requests.with({"we\"ird\\", "multi\nline"}).add(0.125);
  registry.gauge("temperature", "T.").with({}).set(-std::numeric_limits<double>::infinity());
  auto& latency = registry.histogram("_op_seconds", "Help with \\ and\nnewline.",
                                     default_latency_buckets(), {"action"});
  latency.with({"boot"}).observe(0.003);
  latency.with({""}).observe(1e-9);
  registry.add_collector([](Collector& c) {
    c.emit("corral_vms", "V.", MetricType::kGauge, {"state"}, {{{"up"}, 1e300}, {{"down"}, 0}});
  });

  const std::regex sample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\[\\"n])*",?)*\})? )"
      R"((-?[0-9]+(\.[0-9]+)?(e[+-][0-9]+)?|[+-]Inf|NaN)$)");
  const std::regex help(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) ([^\\]|\\[\\n])*$)");
  const std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
  std::istringstream lines(registry.render());
  std::string line;
  std::string family;
  std::string family_type;
  int samples = 0;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      family = m[1];
    } else if (std::regex_match(line, m, type)) {
      EXPECT_EQ(m[1], family) << line;
      family_type = m[2];
    } else {
      ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
      std::string name = m[1];
      if (family_type == "histogram") {
        for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
          if (name.ends_with(suffix)) name.resize(name.size() - suffix.size());
        }
      }
      EXPECT_EQ(name, family) << line;
      ++samples;
    }
  }
  EXPECT_EQ(samples, 2 + 1 + 2 * (14 + 1 + 2) + 2);
}

}  // namespace
}  // namespace corral
