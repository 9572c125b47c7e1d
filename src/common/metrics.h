// Metrics in the Prometheus text exposition format (version 0.0.4), written by hand because
// Debian 12 packages no prometheus-cpp and the format is small.
//
//   auto& requests = registry.counter("corral_http_requests_total", "HTTP requests served.",
//                                     {"method", "code"});
//   Counter& ok = requests.with({"GET", "200"});  // look up once, cache the reference
//   ok.inc();                                     // hot path: one atomic add, no lock
//
// Contract:
// - A MetricsRegistry is thread-safe. There is no global one: the daemon owns one per process
//   and hands it to the modules it builds; tests make their own.
// - Families are registered once by name, with help text, a type and a fixed list of label
//   names. Registering an identical family again returns the existing one. Anything that can
//   only be a bug in our code throws std::logic_error at once: an invalid metric or label
//   name, empty help, a counter not named `*_total` (the Prometheus convention, enforced so
//   `rate()` users can tell counters from gauges by name), a name taken by a family that
//   differs (type, help, labels or buckets), a histogram label named `le`, unsorted buckets,
//   or `with()` given the wrong number of label values. Names are constants in our code, so
//   these fire on the first test run and never depend on input; Result<T> would only be
//   unwrapped at every call site.
// - Children returned by `with()` live as long as the registry; callers may cache them. After
//   the lookup every update is lock-free (std::atomic, relaxed: each metric stands alone).
// - Label values are arbitrary bytes (UTF-8 expected, not checked); render() escapes them.
// - render() lists families in registration order (collectors in the order added, at the
//   place they were added) and children sorted by label values, so output is deterministic.
//   A labelled family with no children yet renders nothing; an unlabelled family has its one
//   child from registration, so a scrape sees 0 rather than a missing series.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace corral {

// The Content-Type of render()'s output, for the /metrics handler.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType : std::uint8_t { kCounter, kGauge, kHistogram };
std::string_view metric_type_name(MetricType type);  // as printed after "# TYPE name "

bool valid_metric_name(std::string_view name);  // [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_label_name(std::string_view name);   // [a-zA-Z_][a-zA-Z0-9_]*, not starting "__"

// A sample value as printed: integral values up to 2^53 as integers ("3", not "3.0" or "3e+00"),
// others in the shortest form that reads back to the same double ("0.005", "1e-07"), and
// "+Inf", "-Inf", "NaN".
std::string format_metric_value(double value);

// `count` bounds: start, start*factor, start*factor^2, ... (start > 0, factor > 1, count >= 1).
std::vector<double> exponential_buckets(double start, double factor, int count);
// Latency bounds in seconds, 0.5 ms to 10 s in 1-2.5-5 steps: readable `le` labels, and they
// span an in-memory API call to a slow driver call.
const std::vector<double>& default_latency_buckets();

// Only goes up. Whole increments (the common case) are kept apart from fractional ones so
// they stay exact and cost one hardware fetch_add instead of a compare-exchange loop.
class Counter {
 public:
  void inc(std::uint64_t n = 1) { whole_.fetch_add(n, std::memory_order_relaxed); }
  // Negative and NaN amounts are ignored: a counter that went down would read as a reset.
  void add(double amount) {
    if (amount > 0) fraction_.fetch_add(amount, std::memory_order_relaxed);
  }
  double value() const {
    return static_cast<double>(whole_.load(std::memory_order_relaxed)) +
           fraction_.load(std::memory_order_relaxed);
  }
  std::string formatted() const;  // exact integer while only inc() was used

 private:
  std::atomic<std::uint64_t> whole_{0};
  std::atomic<double> fraction_{0.0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void sub(double delta) { value_.fetch_sub(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Counts observations into fixed buckets (upper bounds, inclusive; +Inf implicit).
class Histogram {
 public:
  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    std::uint64_t count = 0;
  };
  // `bounds` must outlive the histogram (its family owns them).
  explicit Histogram(std::span<const double> bounds);
  // Two relaxed atomic adds: the one bucket the value falls in, and the sum. NaN counts only
  // in +Inf (it is not <= any bound) and makes the sum NaN, as in the Go client.
  void observe(double value);
  // count is derived from the buckets, so it always equals the +Inf bucket. Not one atomic
  // snapshot: an observation racing the read may be in the buckets and not yet in the sum.
  Snapshot snapshot() const;

 private:
  std::span<const double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0.0};
};

namespace metrics_detail {

// What the registry needs of every family, whatever its metric type.
class FamilyBase {
 public:
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;
  virtual ~FamilyBase() = default;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Appends this family (HELP, TYPE, samples) to `out`; nothing if it has no children.
  virtual void render(std::string& out) const = 0;

 protected:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names);

 private:
  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> label_names_;
};

// Orders label-value lists lexicographically, comparing owned keys with borrowed ones so a
// lookup allocates nothing.
struct LabelValuesLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

}  // namespace metrics_detail

// A named metric with fixed label names; one child metric M per distinct list of label values.
template <typename M>
class Family final : public metrics_detail::FamilyBase {
 public:
  // The child for these label values (in label_names() order), created on first use. The
  // reference stays valid as long as the registry. Throws std::logic_error on a count mismatch.
  M& with(std::initializer_list<std::string_view> label_values);
  M& with(std::span<const std::string> label_values);
  const std::vector<double>& buckets() const { return bounds_; }  // histograms only
  void render(std::string& out) const override;

 private:
  friend class MetricsRegistry;
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         std::vector<double> bounds);
  M& child(std::span<const std::string_view> label_values);

  std::vector<double> bounds_;  // before children_: histograms point into it
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, M, metrics_detail::LabelValuesLess> children_;
};

// Handed to collectors during render(): they write families computed at scrape time.
class Collector {
 public:
  struct Sample {
    std::vector<std::string> label_values;  // in label_names order
    double value = 0;
  };
  // Appends one family of type kGauge or kCounter; samples are sorted by label values first.
  // Nothing is written when `samples` is empty. The rules of registration apply (names, help,
  // `_total`, label count) and the name must not be taken by any other family in the output,
  // else std::logic_error, as do two samples with the same label values.
  void emit(std::string_view name, std::string_view help, MetricType type,
            const std::vector<std::string>& label_names, std::vector<Sample> samples);

 private:
  friend class MetricsRegistry;
  Collector(std::string& out, std::set<std::string, std::less<>>& taken)
      : out_(out), taken_(taken) {}
  std::string& out_;
  std::set<std::string, std::less<>>& taken_;  // names in this output so far
};

class MetricsRegistry {
 public:
  using CollectFn = std::function<void(Collector&)>;

  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  Family<Counter>& counter(std::string_view name, std::string_view help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string_view name, std::string_view help,
                       std::vector<std::string> label_names = {});
  // `buckets`: strictly increasing finite upper bounds; a trailing +Inf is dropped (implicit).
  Family<Histogram>& histogram(std::string_view name, std::string_view help,
                               std::vector<double> buckets,
                               std::vector<std::string> label_names = {});

  // `collect` runs on every render(), on the scraping thread, without the registry's lock held
  // (so it may take the engine's locks, or even register families). An exception it throws
  // leaves render().
  void add_collector(CollectFn collect);

  std::string render() const;

 private:
  // Exactly one of the two is set. Shared so render() can copy the list and run unlocked.
  struct Entry {
    std::shared_ptr<metrics_detail::FamilyBase> family;
    std::shared_ptr<const CollectFn> collect;
  };
  metrics_detail::FamilyBase& add_family(std::string_view name, std::string_view help,
                                         MetricType type, std::vector<std::string> label_names,
                                         std::vector<double> bounds);

  mutable std::mutex mu_;
  std::vector<Entry> entries_;
  std::set<std::string, std::less<>> taken_;  // family names and the sample names they use
};

}  // namespace corral
