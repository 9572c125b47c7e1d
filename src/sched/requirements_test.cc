// The requirements expression: OpenNebula's SCHED_REQUIREMENTS examples
// (../shared/reference/hosts-migration.md:68), the operators, syntax errors with positions,
// and random input that must never crash.
#include "sched/requirements.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace corral::sched {
namespace {

HostSnapshot kvm_host() {
  HostSnapshot h;
  h.name = "node-07.eu";
  h.record = {lifecycle::HostState::kMonitored, false};
  h.total = {16, 65536};
  h.used = {4, 8192};
  h.running_vms = 3;
  h.free_cpu = 1200;
  h.labels = {{"HYPERVISOR", "kvm"},
              {"QOS", "SILVER"},
              {"CPUSPEED", "2400"},
              {"zone", "eu-west-1"},
              {"note", "has space"}};
  return h;
}

bool eval(std::string_view text, const HostSnapshot& h) {
  auto r = Requirements::parse(text);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().message);
  return r && r->matches(h);
}

TEST(RequirementsTest, Evaluates) {
  const HostSnapshot h = kvm_host();
  const struct {
    const char* text;
    bool expected;
  } cases[] = {
      {"QOS != GOLD & HYPERVISOR = kvm", true},  // :68
      {"CPUSPEED > 1000", true},                 // :68
      {"CPUSPEED > 3000", false},
      {"CPUSPEED >= 2400 & CPUSPEED <= 2400", true},
      {"CPUSPEED < 2400", false},
      {"HYPERVISOR = xen | HYPERVISOR = kvm", true},
      {"!(HYPERVISOR = kvm)", false},
      {"!HYPERVISOR = xen", true},
      {"zone = \"eu-*\"", true},
      {"zone = eu-*-1", true},
      {"zone = us-*", false},
      {"zone != \"us-*\"", true},
      {"note = \"has space\"", true},
      {"NAME = *.eu", true},
      {"HOSTNAME = \"node-0?\"", false},  // only * is a wildcard
      {"STATE = MONITORED", true},
      {"RUNNING_VMS < 4 & FREE_VCPUS >= 60", true},  // capacity 16*4=64, used 4
      {"FREE_MEMORY_MIB = 57344", true},
      {"FREE_CPU > 1000", true},
      {"MISSING = x", false},  // absent: false
      {"MISSING != x", false},
      {"!(MISSING = x)", true},
      {"HYPERVISOR > 3", false},  // ordering on text: false
      {"(HYPERVISOR = kvm & (QOS = GOLD | QOS = SILVER)) & !(zone = us-*)", true},
      {"   ", true},  // blank: no requirements
      {"", true},
  };
  for (const auto& c : cases) EXPECT_EQ(eval(c.text, h), c.expected) << c.text;
}

TEST(RequirementsTest, SyntaxErrorsCarryTheirPosition) {
  const struct {
    const char* text;
    std::size_t position;
  } cases[] = {
      {"HYPERVISOR", 10},    // no operator
      {"HYPERVISOR =", 12},  // no value
      {"A = 1 &", 7},        // dangling &
      {"(A = 1", 6},         // no ')'
      {"A = 1)", 5},         // stray ')'
      {"A = \"open", 4},     // unterminated string starts at 4
      {"1A = 2", 0},         // a name starts with a letter
      {"A == 2", 3},         // "==" : '=' then '=' is not a value
      {"& A = 1", 0},       {"A = 1 B = 2", 6},
  };
  for (const auto& c : cases) {
    auto r = Requirements::parse(c.text);
    ASSERT_FALSE(r.has_value()) << c.text;
    EXPECT_EQ(r.error().position, c.position) << c.text << ": " << r.error().message;
    const Error e = r.error().to_error();
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
    EXPECT_NE(e.message.find("position"), std::string::npos);
  }
  EXPECT_FALSE(Requirements::parse(std::string(kMaxRequirementsLength + 1, ' ')).has_value());
  EXPECT_FALSE(
      Requirements::parse(std::string(1000, '(') + "A=1" + std::string(1000, ')')).has_value());
  EXPECT_FALSE(Requirements::parse(std::string(1000, '!') + "A=1").has_value());
  EXPECT_TRUE(Requirements::parse(std::string(10, '(') + "A=1" + std::string(10, ')')).has_value());
}

TEST(RequirementsTest, WildcardMatch) {
  EXPECT_TRUE(wildcard_match("*", ""));
  EXPECT_TRUE(wildcard_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(wildcard_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(wildcard_match("**a", "a"));
  EXPECT_FALSE(wildcard_match("", "a"));
  // No exponential blow-up.
  EXPECT_FALSE(wildcard_match(std::string(50, '*') + "b", std::string(4000, 'a')));
}

// Random strings over the grammar's alphabet and random bytes: parse returns (value or
// error, with a position inside the text) and evaluation terminates.
TEST(RequirementsTest, NeverCrashesOnRandomInput) {
  std::mt19937 rng(11);
  const std::string alphabet = "AB=!<>&|()\"' *01-.x_";
  const HostSnapshot h = kvm_host();
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const int length = static_cast<int>(rng() % 40);
    const bool bytes = i % 4 == 0;
    for (int j = 0; j < length; ++j) {
      text.push_back(bytes ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()]);
    }
    auto r = Requirements::parse(text);
    if (r) {
      ++parsed;
      (void)r->matches(h);
    } else {
      EXPECT_LE(r.error().position, text.size()) << text;
      EXPECT_FALSE(r.error().message.empty());
    }
  }
  EXPECT_GT(parsed, 0) << "the generator should hit valid expressions too";
}

}  // namespace
}  // namespace corral::sched
