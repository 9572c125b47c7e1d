#include "sched/requirements.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace corral::sched {
namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '/' || c == ':' || c == '*' || c == '+';
}

bool is_name(std::string_view w) {
  if (w.empty()) return false;
  const char c = w.front();
  if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) return false;
  return w.find('*') == std::string_view::npos;
}

// The whole of `text` as a finite number, or false.
bool to_number(std::string_view text, double& out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && std::isfinite(out);
}

}  // namespace

Error SyntaxError::to_error() const {
  return Error::invalid_argument(fmt::format("requirements: {} at position {}", message, position));
}

bool wildcard_match(std::string_view pattern, std::string_view text) {
  // Iterative, with one backtrack point: linear in practice, never exponential.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Recursive descent over the text; depth bounded by kMaxRequirementsDepth.
class Requirements::Parser {
 public:
  Parser(std::string_view text, Requirements& out) : text_(text), out_(out) {}

  std::expected<std::uint32_t, SyntaxError> parse_all() {
    auto root = parse_or(0);
    if (!root) return root;
    skip_space();
    if (pos_ != text_.size()) return error("unexpected '" + std::string(1, text_[pos_]) + "'");
    return root;
  }

 private:
  std::unexpected<SyntaxError> error(std::string message) const {
    return std::unexpected(SyntaxError{pos_, std::move(message)});
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::uint32_t add(Node node) {
    out_.nodes_.push_back(std::move(node));
    return static_cast<std::uint32_t>(out_.nodes_.size() - 1);
  }

  // A run of `sep`-separated operands, as one n-ary node (or the operand alone).
  std::expected<std::uint32_t, SyntaxError> parse_list(Kind kind, char sep, int depth) {
    std::vector<std::uint32_t> items;
    while (true) {
      auto item = kind == Kind::kOr ? parse_list(Kind::kAnd, '&', depth) : parse_unary(depth);
      if (!item) return item;
      items.push_back(*item);
      if (!accept(sep)) break;
    }
    if (items.size() == 1) return items.front();
    Node node;
    node.kind = kind;
    node.first = static_cast<std::uint32_t>(out_.children_.size());
    node.count = static_cast<std::uint32_t>(items.size());
    out_.children_.insert(out_.children_.end(), items.begin(), items.end());
    return add(std::move(node));
  }
  std::expected<std::uint32_t, SyntaxError> parse_or(int depth) {
    if (depth > kMaxRequirementsDepth) return error("expression nested too deeply");
    return parse_list(Kind::kOr, '|', depth);
  }

  std::expected<std::uint32_t, SyntaxError> parse_unary(int depth) {
    if (depth > kMaxRequirementsDepth) return error("expression nested too deeply");
    skip_space();
    if (pos_ == text_.size()) return error("expected a comparison, '!' or '('");
    if (text_[pos_] == '!' && (pos_ + 1 == text_.size() || text_[pos_ + 1] != '=')) {
      ++pos_;
      auto inner = parse_unary(depth + 1);
      if (!inner) return inner;
      Node node;
      node.kind = Kind::kNot;
      node.first = static_cast<std::uint32_t>(out_.children_.size());
      node.count = 1;
      out_.children_.push_back(*inner);
      return add(std::move(node));
    }
    if (text_[pos_] == '(') {
      ++pos_;
      auto inner = parse_or(depth + 1);
      if (!inner) return inner;
      if (!accept(')')) return error("expected ')'");
      return inner;
    }
    return parse_comparison();
  }

  std::expected<std::uint32_t, SyntaxError> parse_comparison() {
    const std::size_t name_at = pos_;
    const std::string_view name = word();
    if (!is_name(name)) {
      pos_ = name_at;
      return error("expected an attribute name");
    }
    skip_space();
    Node node;
    node.kind = Kind::kCompare;
    node.name = std::string(name);
    node.metric = metric_of(name);
    const std::string_view rest = text_.substr(pos_);
    if (rest.starts_with("!=")) {
      node.op = Op::kNe, pos_ += 2;
    } else if (rest.starts_with(">=")) {
      node.op = Op::kGe, pos_ += 2;
    } else if (rest.starts_with("<=")) {
      node.op = Op::kLe, pos_ += 2;
    } else if (rest.starts_with("=")) {
      node.op = Op::kEq, pos_ += 1;
    } else if (rest.starts_with(">")) {
      node.op = Op::kGt, pos_ += 1;
    } else if (rest.starts_with("<")) {
      node.op = Op::kLt, pos_ += 1;
    } else {
      return error("expected =, !=, >, <, >= or <= after '" + node.name + "'");
    }
    skip_space();
    if (pos_ < text_.size() && (text_[pos_] == '"' || text_[pos_] == '\'')) {
      auto quoted = parse_quoted();
      if (!quoted) return std::unexpected(quoted.error());
      node.value = std::move(*quoted);
    } else {
      const std::string_view value = word();
      if (value.empty()) return error("expected a value after the operator");
      node.value = std::string(value);
    }
    node.value_is_number = to_number(node.value, node.number);
    return add(std::move(node));
  }

  std::string_view word() {
    skip_space();
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_word_char(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  std::expected<std::string, SyntaxError> parse_quoted() {
    const char quote = text_[pos_];
    const std::size_t start = pos_++;
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      out.push_back(text_[pos_++]);
    }
    if (pos_ == text_.size()) {
      return std::unexpected(SyntaxError{start, "unterminated quoted string"});
    }
    ++pos_;
    return out;
  }

  static Metric metric_of(std::string_view name) {
    if (name == "NAME" || name == "HOSTNAME") return Metric::kName;
    if (name == "STATE") return Metric::kState;
    if (name == "RUNNING_VMS") return Metric::kRunningVms;
    if (name == "FREE_CPU") return Metric::kFreeCpu;
    if (name == "FREE_VCPUS") return Metric::kFreeVcpus;
    if (name == "FREE_MEMORY_MIB") return Metric::kFreeMemory;
    if (name == "TOTAL_VCPUS") return Metric::kTotalVcpus;
    if (name == "TOTAL_MEMORY_MIB") return Metric::kTotalMemory;
    if (name == "USED_VCPUS") return Metric::kUsedVcpus;
    if (name == "USED_MEMORY_MIB") return Metric::kUsedMemory;
    return Metric::kLabel;
  }

  std::string_view text_;
  Requirements& out_;
  std::size_t pos_ = 0;
};

std::expected<Requirements, SyntaxError> Requirements::parse(std::string_view text) {
  Requirements out;
  if (text.size() > kMaxRequirementsLength) {
    return std::unexpected(SyntaxError{
        kMaxRequirementsLength, fmt::format("longer than {} bytes", kMaxRequirementsLength)});
  }
  std::size_t first = 0;
  while (first < text.size() && (text[first] == ' ' || text[first] == '\t')) ++first;
  if (first == text.size()) return out;  // blank: no requirements
  Parser parser(text, out);
  auto root = parser.parse_all();
  if (!root) return std::unexpected(root.error());
  out.root_ = *root;
  for (const Node& n : out.nodes_) {
    if (n.kind == Kind::kCompare && n.metric != Metric::kLabel && n.metric != Metric::kName) {
      out.fixed_ = false;
    }
  }
  return out;
}

bool Requirements::matches(const HostSnapshot& host) const {
  return nodes_.empty() || eval(root_, host);
}

bool Requirements::eval(std::uint32_t index, const HostSnapshot& host) const {
  const Node& n = nodes_[index];
  switch (n.kind) {
    case Kind::kAnd:
      for (std::uint32_t i = 0; i < n.count; ++i) {
        if (!eval(children_[n.first + i], host)) return false;
      }
      return true;
    case Kind::kOr:
      for (std::uint32_t i = 0; i < n.count; ++i) {
        if (eval(children_[n.first + i], host)) return true;
      }
      return false;
    case Kind::kNot:
      return !eval(children_[n.first], host);
    case Kind::kCompare:
      return compare(n, host);
  }
  return false;
}

bool Requirements::compare(const Node& n, const HostSnapshot& host) const {
  std::string_view text;
  double number = 0;
  bool numeric = false;
  switch (n.metric) {
    case Metric::kLabel: {
      const auto it = host.labels.find(n.name);
      if (it == host.labels.end()) return false;  // absent: every comparison is false
      text = it->second;
      // Read the label as a number only when the comparison is with one.
      numeric = n.value_is_number && to_number(text, number);
      break;
    }
    case Metric::kName:
      text = host.name;
      break;
    case Metric::kState:
      text = lifecycle::host_state_opennebula_name(host.record.state);
      break;
    case Metric::kRunningVms:
      number = host.running_vms, numeric = true;
      break;
    case Metric::kFreeCpu:
      number = host.free_cpu, numeric = true;
      break;
    case Metric::kFreeVcpus:
      number = static_cast<double>(capacity(host).vcpus - host.used.vcpus), numeric = true;
      break;
    case Metric::kFreeMemory:
      number = static_cast<double>(capacity(host).memory_mib - host.used.memory_mib);
      numeric = true;
      break;
    case Metric::kTotalVcpus:
      number = static_cast<double>(host.total.vcpus), numeric = true;
      break;
    case Metric::kTotalMemory:
      number = static_cast<double>(host.total.memory_mib), numeric = true;
      break;
    case Metric::kUsedVcpus:
      number = static_cast<double>(host.used.vcpus), numeric = true;
      break;
    case Metric::kUsedMemory:
      number = static_cast<double>(host.used.memory_mib), numeric = true;
      break;
  }
  if (numeric && n.value_is_number) {
    switch (n.op) {
      case Op::kEq:
        return number == n.number;
      case Op::kNe:
        return number != n.number;
      case Op::kGt:
        return number > n.number;
      case Op::kLt:
        return number < n.number;
      case Op::kGe:
        return number >= n.number;
      case Op::kLe:
        return number <= n.number;
    }
  }
  std::string rendered;
  if (numeric && text.empty()) {
    rendered = fmt::format("{}", number);
    text = rendered;
  }
  switch (n.op) {
    case Op::kEq:
      return wildcard_match(n.value, text);
    case Op::kNe:
      return !wildcard_match(n.value, text);
    case Op::kGt:
    case Op::kLt:
    case Op::kGe:
    case Op::kLe:
      return false;  // ordering is numeric only
  }
  return false;
}

}  // namespace corral::sched
