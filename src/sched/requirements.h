// A requirements expression over a host, like OpenNebula's SCHED_REQUIREMENTS
// (hosts-migration.md:68): `HYPERVISOR = kvm & !(ZONE = "eu-*") | RUNNING_VMS < 10`.
//
// Grammar (precedence low to high): or := and ('|' and)*; and := unary ('&' unary)*;
// unary := '!' unary | '(' or ')' | NAME op value; op := = != > < >= <=; value := a bare word,
// a number or a "quoted string" (\" and \\ escape). `*` in a value is a wildcard in = and !=.
//
// Names: the host's labels, and the metrics NAME (also HOSTNAME), STATE (OpenNebula's name,
// e.g. MONITORED), RUNNING_VMS, FREE_CPU, FREE_VCPUS, FREE_MEMORY_MIB, TOTAL_VCPUS,
// TOTAL_MEMORY_MIB, USED_VCPUS, USED_MEMORY_MIB (a metric wins over a label of the same name).
// Semantics: a comparison on a name the host lacks is false (so `!(X = a)` holds for it).
// When the value is a number and the attribute reads as one, the comparison is numeric;
// otherwise = and != compare text (with wildcards), and ordering comparisons are false.
//
// Contract: parse never crashes and never recurses without bound on any input; a syntax
// error is a SyntaxError with the byte position. Inputs longer than kMaxRequirementsLength
// or nested deeper than kMaxRequirementsDepth are syntax errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sched/host_snapshot.h"

namespace corral::sched {

inline constexpr std::size_t kMaxRequirementsLength = 4096;
inline constexpr int kMaxRequirementsDepth = 64;

struct SyntaxError {
  std::size_t position = 0;  // byte offset in the expression
  std::string message;
  Error to_error() const;  // kInvalidArgument, "requirements: <message> at position N"
};

class Requirements {
 public:
  Requirements() = default;  // the empty expression: every host matches
  [[nodiscard]] static std::expected<Requirements, SyntaxError> parse(std::string_view text);

  bool empty() const { return nodes_.empty(); }
  bool matches(const HostSnapshot& host) const;
  // True when the expression reads only labels and the name, which never change for a host
  // between snapshots: its result per host can be kept (scheduler.h RequirementsMemo).
  bool reads_only_fixed_attributes() const { return fixed_; }

 private:
  enum class Kind : std::uint8_t { kAnd, kOr, kNot, kCompare };
  enum class Op : std::uint8_t { kEq, kNe, kGt, kLt, kGe, kLe };
  enum class Metric : std::uint8_t {
    kLabel,
    kName,
    kState,
    kRunningVms,
    kFreeCpu,
    kFreeVcpus,
    kFreeMemory,
    kTotalVcpus,
    kTotalMemory,
    kUsedVcpus,
    kUsedMemory,
  };
  struct Node {
    Kind kind = Kind::kCompare;
    Op op = Op::kEq;
    Metric metric = Metric::kLabel;
    bool value_is_number = false;
    std::uint32_t first = 0;  // children: children_[first, first + count)
    std::uint32_t count = 0;
    double number = 0;
    std::string name;
    std::string value;
  };
  class Parser;

  bool eval(std::uint32_t node, const HostSnapshot& host) const;
  bool compare(const Node& n, const HostSnapshot& host) const;

  std::vector<Node> nodes_;
  std::vector<std::uint32_t> children_;
  std::uint32_t root_ = 0;
  bool fixed_ = true;
};

// `*` matches any run of characters (including none); everything else matches itself.
bool wildcard_match(std::string_view pattern, std::string_view text);

}  // namespace corral::sched
