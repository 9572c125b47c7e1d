#include "common/metrics.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace corral {
namespace {

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Programming errors (see the header's contract), with the offending name in the message.
template <typename... Args>
[[noreturn]] void bug(fmt::format_string<Args...> format, Args&&... args) {
  throw std::logic_error("metrics: " + fmt::format(format, std::forward<Args>(args)...));
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_header(std::string& out, std::string_view name, std::string_view help,
                   MetricType type) {
  out.append("# HELP ").append(name).append(" ");
  append_escaped(out, help, /*quote=*/false);
  out.append("\n# TYPE ").append(name).append(" ").append(metric_type_name(type)).append("\n");
}

// name{l1="v1",l2="v2",le="0.5"} value   (`le` only when not empty; no braces without labels)
void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const std::vector<std::string>& label_names,
                   std::span<const std::string> label_values, std::string_view le,
                   std::string_view value) {
  out.append(name).append(suffix);
  if (!label_names.empty() || !le.empty()) {
    out += '{';
    for (std::size_t i = 0; i < label_names.size(); ++i) {
      if (i > 0) out += ',';
      out.append(label_names[i]).append("=\"");
      append_escaped(out, label_values[i], /*quote=*/true);
      out += '"';
    }
    if (!le.empty()) {
      if (!label_names.empty()) out += ',';
      out.append("le=\"").append(le).append("\"");
    }
    out += '}';
  }
  out.append(" ").append(value).append("\n");
}

std::string format_uint(std::uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  return std::string(buf, end);
}

// The names a family's samples use: a histogram also writes name_bucket, name_sum, name_count.
std::vector<std::string> names_used(std::string_view name, MetricType type) {
  std::vector<std::string> names{std::string(name)};
  if (type == MetricType::kHistogram) {
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      names.push_back(std::string(name).append(suffix));
    }
  }
  return names;
}

void check_family(std::string_view name, std::string_view help, MetricType type,
                  const std::vector<std::string>& label_names) {
  if (!valid_metric_name(name)) bug("invalid metric name \"{}\"", name);
  if (help.empty()) bug("empty help for \"{}\"", name);
  if (type == MetricType::kCounter && !name.ends_with("_total")) {
    bug("counter \"{}\" must be named *_total", name);
  }
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    if (!valid_label_name(label)) bug("invalid label name \"{}\" in \"{}\"", label, name);
    if (type == MetricType::kHistogram && label == "le") bug("histogram \"{}\" uses le", name);
    for (std::size_t j = 0; j < i; ++j) {
      if (label_names[j] == label) bug("label \"{}\" twice in \"{}\"", label, name);
    }
  }
}

std::vector<double> check_bounds(std::string_view name, std::vector<double> bounds) {
  if (!bounds.empty() && bounds.back() == INFINITY) bounds.pop_back();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
      bug("histogram \"{}\" buckets must be finite and increasing", name);
    }
  }
  return bounds;
}

}  // namespace

std::string_view metric_type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

bool valid_metric_name(std::string_view name) {
  if (name.empty() || is_digit(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_letter(c) || is_digit(c) || c == '_' || c == ':'; });
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || is_digit(name.front()) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_letter(c) || is_digit(c) || c == '_'; });
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[32];
  // Up to 2^53 every integer is exact, so printing it as one loses nothing and reads better.
  constexpr double kExactIntegers = 9007199254740992.0;
  if (value == std::trunc(value) && std::fabs(value) <= kExactIntegers) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(value));
    return std::string(buf, end);
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);  // shortest round-trip form
  return std::string(buf, end);
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  if (!(start > 0) || !(factor > 1) || count < 1 || !std::isfinite(start * factor)) {
    bug("exponential_buckets needs start > 0, factor > 1, count >= 1");
  }
  std::vector<double> bounds;
  bounds.reserve(static_cast<std::size_t>(count));
  for (double bound = start; count > 0; --count, bound *= factor) bounds.push_back(bound);
  return bounds;
}

const std::vector<double>& default_latency_buckets() {
  static const std::vector<double> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return kBuckets;
}

std::string Counter::formatted() const {
  const double fraction = fraction_.load(std::memory_order_relaxed);
  const std::uint64_t whole = whole_.load(std::memory_order_relaxed);
  if (fraction == 0) return format_uint(whole);
  return format_metric_value(static_cast<double>(whole) + fraction);
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::observe(double value) {
  // lower_bound: the first bound >= value, as `le` is inclusive. NaN compares false with all.
  const std::size_t i =
      std::isnan(value)
          ? bounds_.size()
          : static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                     bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snap;
  snap.cumulative.reserve(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    snap.count += buckets_[i].load(std::memory_order_relaxed);
    snap.cumulative.push_back(snap.count);
  }
  snap.sum = sum_.load(std::memory_order_relaxed);
  return snap;
}

metrics_detail::FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

template <typename M>
Family<M>::Family(std::string name, std::string help, MetricType type,
                  std::vector<std::string> label_names, std::vector<double> bounds)
    : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
      bounds_(std::move(bounds)) {
  if (this->label_names().empty()) child({});
}

template <typename M>
M& Family<M>::with(std::initializer_list<std::string_view> label_values) {
  return child(std::span<const std::string_view>(label_values.begin(), label_values.size()));
}

template <typename M>
M& Family<M>::with(std::span<const std::string> label_values) {
  const std::vector<std::string_view> views(label_values.begin(), label_values.end());
  return child(views);
}

template <typename M>
M& Family<M>::child(std::span<const std::string_view> label_values) {
  if (label_values.size() != label_names().size()) {
    bug("\"{}\" takes {} label values, got {}", name(), label_names().size(), label_values.size());
  }
  {
    std::shared_lock lock(mu_);
    if (auto it = children_.find(label_values); it != children_.end()) return it->second;
  }
  std::unique_lock lock(mu_);
  std::vector<std::string> key(label_values.begin(), label_values.end());
  if constexpr (std::is_same_v<M, Histogram>) {
    return children_.try_emplace(std::move(key), std::span<const double>(bounds_)).first->second;
  } else {
    return children_.try_emplace(std::move(key)).first->second;
  }
}

template <typename M>
void Family<M>::render(std::string& out) const {
  std::shared_lock lock(mu_);
  if (children_.empty()) return;
  append_header(out, name(), help(), type());
  for (const auto& [values, metric] : children_) {
    if constexpr (std::is_same_v<M, Counter>) {
      append_sample(out, name(), "", label_names(), values, "", metric.formatted());
    } else if constexpr (std::is_same_v<M, Gauge>) {
      append_sample(out, name(), "", label_names(), values, "",
                    format_metric_value(metric.value()));
    } else {
      const Histogram::Snapshot snap = metric.snapshot();
      for (std::size_t i = 0; i < bounds_.size(); ++i) {
        append_sample(out, name(), "_bucket", label_names(), values,
                      format_metric_value(bounds_[i]), format_uint(snap.cumulative[i]));
      }
      append_sample(out, name(), "_bucket", label_names(), values, "+Inf", format_uint(snap.count));
      append_sample(out, name(), "_sum", label_names(), values, "", format_metric_value(snap.sum));
      append_sample(out, name(), "_count", label_names(), values, "", format_uint(snap.count));
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void Collector::emit(std::string_view name, std::string_view help, MetricType type,
                     const std::vector<std::string>& label_names, std::vector<Sample> samples) {
  if (type == MetricType::kHistogram) bug("collectors emit gauges and counters only");
  check_family(name, help, type, label_names);
  if (!taken_.emplace(name).second) bug("\"{}\" is already in the output", name);
  if (samples.empty()) return;
  metrics_detail::LabelValuesLess less;
  std::sort(samples.begin(), samples.end(),
            [&](const Sample& a, const Sample& b) { return less(a.label_values, b.label_values); });
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (samples[i].label_values.size() != label_names.size()) {
      bug("\"{}\" sample with the wrong number of label values", name);
    }
    if (i > 0 && !less(samples[i - 1].label_values, samples[i].label_values)) {
      bug("\"{}\" has two samples with the same label values", name);
    }
  }
  append_header(out_, name, help, type);
  for (const Sample& sample : samples) {
    append_sample(out_, name, "", label_names, sample.label_values, "",
                  format_metric_value(sample.value));
  }
}

Family<Counter>& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                          std::vector<std::string> label_names) {
  return static_cast<Family<Counter>&>(
      add_family(name, help, MetricType::kCounter, std::move(label_names), {}));
}

Family<Gauge>& MetricsRegistry::gauge(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names) {
  return static_cast<Family<Gauge>&>(
      add_family(name, help, MetricType::kGauge, std::move(label_names), {}));
}

Family<Histogram>& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                              std::vector<double> buckets,
                                              std::vector<std::string> label_names) {
  return static_cast<Family<Histogram>&>(
      add_family(name, help, MetricType::kHistogram, std::move(label_names), std::move(buckets)));
}

metrics_detail::FamilyBase& MetricsRegistry::add_family(std::string_view name,
                                                        std::string_view help, MetricType type,
                                                        std::vector<std::string> label_names,
                                                        std::vector<double> bounds) {
  check_family(name, help, type, label_names);
  if (type == MetricType::kHistogram) bounds = check_bounds(name, std::move(bounds));
  std::lock_guard lock(mu_);
  for (const Entry& entry : entries_) {
    if (!entry.family || entry.family->name() != name) continue;
    const bool same_type = entry.family->type() == type;
    const bool same_bounds =
        type != MetricType::kHistogram ||
        (same_type && static_cast<const Family<Histogram>&>(*entry.family).buckets() == bounds);
    if (same_type && same_bounds && entry.family->help() == help &&
        entry.family->label_names() == label_names) {
      return *entry.family;
    }
    bug("\"{}\" registered twice, differently", name);
  }
  const std::vector<std::string> used = names_used(name, type);
  for (const std::string& taken : used) {
    if (taken_.contains(taken)) bug("\"{}\" is already used by another family", taken);
  }
  std::shared_ptr<metrics_detail::FamilyBase> family;
  std::string owned_name(name);
  std::string owned_help(help);
  switch (type) {
    case MetricType::kCounter:
      family.reset(new Family<Counter>(std::move(owned_name), std::move(owned_help), type,
                                       std::move(label_names), {}));
      break;
    case MetricType::kGauge:
      family.reset(new Family<Gauge>(std::move(owned_name), std::move(owned_help), type,
                                     std::move(label_names), {}));
      break;
    case MetricType::kHistogram:
      family.reset(new Family<Histogram>(std::move(owned_name), std::move(owned_help), type,
                                         std::move(label_names), std::move(bounds)));
      break;
  }
  taken_.insert(used.begin(), used.end());
  entries_.push_back(Entry{family, nullptr});
  return *family;
}

void MetricsRegistry::add_collector(CollectFn collect) {
  auto shared = std::make_shared<const CollectFn>(std::move(collect));
  std::lock_guard lock(mu_);
  entries_.push_back(Entry{nullptr, std::move(shared)});
}

std::string MetricsRegistry::render() const {
  std::vector<Entry> entries;
  std::set<std::string, std::less<>> taken;
  {
    // Copied so collectors run unlocked; families are never removed, so the copies stay valid.
    std::lock_guard lock(mu_);
    entries = entries_;
    taken = taken_;
  }
  std::string out;
  Collector collector(out, taken);
  for (const Entry& entry : entries) {
    if (entry.family) {
      entry.family->render(out);
    } else {
      (*entry.collect)(collector);
    }
  }
  return out;
}

}  // namespace corral
