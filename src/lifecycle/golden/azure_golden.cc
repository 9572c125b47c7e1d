// Golden table: the Azure view (seed 000) at every moment the model offers, and the names,
// status codes, display strings and billing classes of Azure's states, pinned both ways
// against seed 000's text. The rows are azure_rows.h; this file holds them:
// - against the view's functions, over every number each enum can hold;
// - against seed 000's text as parsed here: the Power State table row by row (name, statuses,
//   billing) and the Provisioning section (each status under its heading), at the cited lines;
// - against every moment (golden.h): provisioning, power, billing, the instance-view statuses
//   and the Azure label; every rule must be the first match of some moment;
// - for numbers this build does not know (a record written by a newer build): what the view
//   falls back to.
#include <algorithm>
#include <array>
#include <cctype>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lifecycle/golden/azure_rows.h"
#include "lifecycle/golden/golden.h"
#include "lifecycle/seed_text.h"
#include "lifecycle/views.h"

namespace corral::lifecycle::golden {
namespace {

using namespace azure;  // NOLINT: the rows' vocabulary

// ---- Seed 000, parsed ----------------------------------------------------------------------

struct SeedStatus {
  std::string code;  // spaces removed ("ProvisioningState/ OSProvisioningInprogress")
  std::string level;
  std::string display;
  bool timed = false;
  std::string heading;  // the last bold text before it
  int heading_line = 0;
  int line = 0;  // of the code
  std::size_t pos = 0;
};

struct SeedPowerRow {
  std::string name;     // first bold cell
  std::string billing;  // last bold cell, trimmed
  std::vector<SeedStatus> statuses;
  int line = 0;  // of the name
  int billing_line = 0;
};

struct SeedHeading {
  std::string text;
  int line = 0;
  std::size_t pos = 0;
};

struct Seed000 {
  bool read = false;
  std::vector<SeedPowerRow> power_table;           // seed 000:15-171
  std::vector<SeedStatus> provisioning;            // statuses after "##Provisioning"
  std::vector<SeedHeading> provisioning_headings;  // one-word bold texts after it
};

std::string trimmed(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string first_group(const std::string& text, const std::regex& re) {
  std::smatch m;
  return std::regex_search(text, m, re) ? m[1].str() : std::string();
}

Seed000 parse_seed(const std::string& text) {
  Seed000 seed;
  seed.read = !text.empty();
  auto line_at = [&](std::size_t pos) {
    return 1 +
           static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
  };
  std::vector<SeedHeading> headings;
  const std::regex bold(R"(<strong>([^<]*)</strong>|\*\*([^*]+)\*\*)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), bold); it != std::sregex_iterator();
       ++it) {
    std::string t = trimmed((*it)[1].matched ? (*it)[1].str() : (*it)[2].str());
    const auto pos = static_cast<std::size_t>(it->position());
    if (!t.empty()) headings.push_back({t, line_at(pos), pos});
  }
  std::vector<SeedStatus> statuses;
  const std::regex code(R"rx("code":\s*"([^"]*)")rx");
  const std::regex level(R"rx("level":\s*"([^"]*)")rx");
  const std::regex display(R"rx("displayStatus":\s*"([^"]*)")rx");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), code); it != std::sregex_iterator();
       ++it) {
    SeedStatus s;
    s.pos = static_cast<std::size_t>(it->position());
    s.line = line_at(s.pos);
    s.code = (*it)[1].str();
    std::erase(s.code, ' ');
    const std::string object = text.substr(s.pos, text.find('}', s.pos) - s.pos);
    s.level = first_group(object, level);
    s.display = first_group(object, display);
    s.timed = object.find("\"time\"") != std::string::npos;
    for (const SeedHeading& h : headings) {
      if (h.pos < s.pos && !std::isdigit(static_cast<unsigned char>(h.text[0]))) {
        s.heading = h.text;
        s.heading_line = h.line;
      }
    }
    statuses.push_back(s);
  }
  const std::size_t provisioning_at = text.find("##Provisioning");
  const std::size_t table_end = text.find("</table>");
  // The Power State table, row by row.
  for (std::size_t row = text.find("<tr>"); row < table_end;) {
    const std::size_t next = std::min(text.find("<tr>", row + 1), table_end);
    SeedPowerRow r;
    for (const SeedHeading& h : headings) {
      if (h.pos <= row || h.pos >= next) continue;
      if (r.name.empty()) {
        r.name = h.text;
        r.line = h.line;
      }
      r.billing = h.text;
      r.billing_line = h.line;
    }
    for (const SeedStatus& s : statuses) {
      if (s.pos > row && s.pos < next) r.statuses.push_back(s);
    }
    if (!r.statuses.empty()) seed.power_table.push_back(r);
    row = next;
  }
  for (const SeedStatus& s : statuses) {
    if (provisioning_at != std::string::npos && s.pos > provisioning_at) {
      seed.provisioning.push_back(s);
    }
  }
  for (const SeedHeading& h : headings) {
    const bool one_word = std::all_of(h.text.begin(), h.text.end(),
                                      [](unsigned char c) { return std::isalpha(c) != 0; });
    if (provisioning_at != std::string::npos && h.pos > provisioning_at && one_word) {
      seed.provisioning_headings.push_back(h);
    }
  }
  return seed;
}

// The seed's text is no part of the model: parsed once.
const Seed000& seed000() {
  static const Seed000 kSeed = parse_seed(testing::seed_text("000"));
  return kSeed;
}

// ---- Rendering for mismatch lines ----------------------------------------------------------

std::string show(const AzureStatus& s) {
  return "{" + std::string(s.code) + ", " + std::string(s.level) + ", " +
         std::string(s.display_status) + (s.timed ? ", timed}" : "}");
}
std::string show(const SeedStatus& s) {
  return "{" + s.code + ", " + s.level + ", " + s.display + (s.timed ? ", timed}" : "}") +
         " (seed 000:" + std::to_string(s.line) + ")";
}
AzureStatus golden_status(const ProvisioningRow& r) { return {r.code, kLevel, r.display, r.timed}; }
AzureStatus golden_status(const PowerRow& r) { return {r.code, kLevel, r.display, false}; }
bool same(const AzureStatus& a, const AzureStatus& b) {
  return a.code == b.code && a.level == b.level && a.display_status == b.display_status &&
         a.timed == b.timed;
}
bool same(const SeedStatus& s, const AzureStatus& g) {
  return s.code == g.code && s.level == g.level && s.display == g.display_status &&
         s.timed == g.timed;
}

// ---- The checks ----------------------------------------------------------------------------

// The vocabulary against the view's functions, both ways over every number the enums can hold.
void check_names(Mismatches& out) {
  for (unsigned n = 0; n <= 0xFF && !out.full(); ++n) {
    const auto p = static_cast<AzurePower>(n);
    const PowerRow* g = power_row(p);
    const std::string_view name = azure_power_name(p);
    if (g == nullptr) {
      if (name != "?") {
        out.add("azure: power number " + std::to_string(n) + " is named '" + std::string(name) +
                "' by the view but has no golden row");
      }
      continue;
    }
    if (name != g->name) {
      out.add("azure: power " + std::string(g->name) + ": golden name '" + std::string(g->name) +
              "' (" + source_of(*g) + "), model '" + std::string(name) + "'");
    }
    if (billing_of(p) != g->billing) {
      out.add("azure: power " + std::string(g->name) + ": golden billing " +
              std::string(billing_row(g->billing)->name) + " (" + source_of(*g) + "), model " +
              std::string(billing_name(billing_of(p))));
    }
  }
  for (unsigned n = 0; n <= 0xFF && !out.full(); ++n) {
    const auto p = static_cast<PS>(n);
    const ProvisioningRow* g = provisioning_row(p);
    const std::string_view name = azure_provisioning_name(p);
    if (g == nullptr) {
      if (name != "?") {
        out.add("azure: provisioning number " + std::to_string(n) + " is named '" +
                std::string(name) + "' by the view but has no golden row");
      }
    } else if (name != g->name) {
      out.add("azure: provisioning: golden name '" + std::string(g->name) + "' (" + source_of(*g) +
              "), model '" + std::string(name) + "'");
    }
  }
  for (unsigned n = 0; n <= 0xFF && !out.full(); ++n) {
    const auto b = static_cast<Billing>(n);
    const BillingRow* g = billing_row(b);
    if (g == nullptr) {
      if (billing_name(b) != "?" || billing_display(b) != "?") {
        out.add("azure: billing number " + std::to_string(n) + " is named '" +
                std::string(billing_name(b)) + "' by the view but has no golden row");
      }
    } else if (billing_name(b) != g->name || billing_display(b) != g->display) {
      out.add("azure: billing: golden '" + std::string(g->name) + "' / '" +
              std::string(g->display) + "' (" + std::string(g->source) + "), model '" +
              std::string(billing_name(b)) + "' / '" + std::string(billing_display(b)) + "'");
    }
  }
}

// The vocabulary against seed 000's text, both ways.
void check_seed(Mismatches& out) {
  const Seed000& seed = seed000();
  if (!seed.read) {
    out.add("azure: seed 000 could not be read (CORRAL_SEEDS)");
    return;
  }
  // The Power State table: each row's name, power status, billing and provisioning status,
  // at the lines the golden row cites.
  for (const SeedPowerRow& row : seed.power_table) {
    if (out.full()) return;
    const PowerRow* g = nullptr;
    for (const PowerRow& r : kPowerRows) {
      if (!r.seed_name.empty() && r.seed_name == row.name) g = &r;
    }
    if (g == nullptr) {
      out.add("azure: seed 000:" + std::to_string(row.line) + " power state '" + row.name +
              "' has no golden row");
      continue;
    }
    const SeedStatus* power = nullptr;
    for (const SeedStatus& s : row.statuses) {
      if (s.code.starts_with("PowerState/")) power = &s;
    }
    const std::array<int, 3> lines = {row.line, power == nullptr ? 0 : power->line,
                                      row.billing_line};
    if (power == nullptr || !same(*power, golden_status(*g)) || lines != g->lines) {
      out.add("azure: power " + row.name + ": golden " + show(golden_status(*g)) + " (" +
              source_of(*g) + "), seed " +
              (power == nullptr ? std::string("shows no PowerState status") : show(*power)) +
              " in the row at " + source_of(lines, ""));
    }
    const BillingRow* billing = billing_row(g->billing);
    if (lower(row.billing) != lower(std::string(billing->display))) {
      out.add("azure: power " + row.name + ": golden billing '" + std::string(billing->display) +
              "' (" + source_of(*g) + "), seed 000:" + std::to_string(row.billing_line) + " '" +
              row.billing + "'");
    }
    for (const SeedStatus& s : row.statuses) {
      if (&s == power) continue;
      const ProvisioningRow* p = nullptr;
      for (const ProvisioningRow& r : kProvisioningRows) {
        if (r.code == s.code) p = &r;
      }
      if (p == nullptr || !same(s, golden_status(*p))) {
        out.add("azure: power " + row.name + "'s provisioning status " + show(s) +
                (p == nullptr ? " has no golden row"
                              : " differs from golden " + show(golden_status(*p)) + " (" +
                                    source_of(*p) + ")"));
      }
    }
  }
  for (const PowerRow& g : kPowerRows) {
    if (g.seed_name.empty() || out.full()) continue;
    const bool found = std::any_of(seed.power_table.begin(), seed.power_table.end(),
                                   [&](const SeedPowerRow& r) { return r.name == g.seed_name; });
    if (!found) {
      out.add("azure: golden power '" + std::string(g.seed_name) + "' (" + source_of(g) +
              ") is not a row of seed 000's Power State table");
    }
  }
  // The Provisioning section: each status under its heading, at the lines the golden row cites.
  for (const SeedStatus& s : seed.provisioning) {
    if (out.full()) return;
    const ProvisioningRow* g = nullptr;
    for (const ProvisioningRow& r : kProvisioningRows) {
      if (r.lines[1] != 0 && r.code == s.code) g = &r;
    }
    const std::array<int, 2> lines = {s.heading_line, s.line};
    if (g == nullptr) {
      out.add("azure: seed status " + show(s) + " has no golden provisioning row");
    } else if (!same(s, golden_status(*g)) || s.heading != g->seed_heading || lines != g->lines) {
      out.add("azure: provisioning " + std::string(g->name) + ": golden '" +
              std::string(g->seed_heading) + "' " + show(golden_status(*g)) + " (" + source_of(*g) +
              "), seed '" + s.heading + "' " + show(s) + " at " + source_of(lines, ""));
    }
  }
  for (const ProvisioningRow& g : kProvisioningRows) {
    if (out.full()) return;
    const bool coded = std::any_of(seed.provisioning.begin(), seed.provisioning.end(),
                                   [&](const SeedStatus& s) { return s.code == g.code; });
    if ((g.lines[1] != 0) != coded) {
      out.add("azure: golden provisioning " + std::string(g.name) + " (" + source_of(g) +
              ") says its code " + std::string(g.code) + (coded ? " is not" : " is") +
              " in seed 000's Provisioning section; it " + (coded ? "is" : "is not"));
    }
    const bool named = std::any_of(
        seed.provisioning_headings.begin(), seed.provisioning_headings.end(),
        [&](const SeedHeading& h) { return h.text == g.seed_heading && h.line == g.lines[0]; });
    if (g.seed_heading.empty() != (g.lines[0] == 0) || (!g.seed_heading.empty() && !named)) {
      out.add("azure: golden provisioning heading '" + std::string(g.seed_heading) + "' (" +
              source_of(g) + ") is not at that line of seed 000's Provisioning section");
    }
  }
  // Each state the Provisioning section names is a golden row, or listed as no state.
  for (const SeedHeading& h : seed.provisioning_headings) {
    if (out.full()) return;
    const bool state =
        std::any_of(std::begin(kProvisioningRows), std::end(kProvisioningRows),
                    [&](const ProvisioningRow& r) { return r.seed_heading == h.text; });
    const bool other = std::any_of(std::begin(kNotStates), std::end(kNotStates),
                                   [&](const auto& n) { return n.first == h.text; });
    if (!state && !other) {
      out.add("azure: seed 000:" + std::to_string(h.line) + " '" + h.text +
              "' is neither a golden provisioning state nor listed as no state");
    }
  }
}

// Numbers this build does not know (a record or a value written by a newer build).
void check_unknown_numbers(Mismatches& out) {
  constexpr std::string_view kWhy =
      "Corral's choice: a number this build does not know (written by a newer build)";
  VmRecord unknown;
  unknown.state = static_cast<State>(0xFE);
  const AzureView v = azure_view(unknown);
  if (v.power != AP::kUnknown || v.provisioning != PS::kSucceeded) {
    out.add("azure: a state number this build does not know: golden Succeeded, unknown (" +
            std::string(kWhy) + "), model " + std::string(azure_provisioning_name(v.provisioning)) +
            ", " + std::string(azure_power_name(v.power)));
  }
  if (billing_of(static_cast<AP>(0xFE)) != Billing::kBilledHardwareOnly) {
    out.add("azure: billing of a power number this build does not know: golden hardware_only (" +
            std::string(kWhy) + ", as unknown), model " +
            std::string(billing_name(billing_of(static_cast<AP>(0xFE)))));
  }
}

}  // namespace

Mismatches check_azure(std::size_t limit) {
  Mismatches out(limit);
  check_names(out);
  if (!out.full()) check_seed(out);
  if (!out.full()) check_unknown_numbers(out);
  if (out.full()) return out;

  std::array<bool, std::size(kProvisioningRules)> provisioning_used{};
  std::array<bool, std::size(kPowerRules)> power_used{};
  std::set<std::pair<std::string_view, std::string_view>> shown;  // (provisioning, power) codes
  for (const Moment& m : moments()) {
    if (out.full()) return out;
    const AzureView v = azure_view(m.record);
    const std::string at = "azure: " + m.describe() + ": ";
    const Rule<PS>* prov = nullptr;
    for (std::size_t i = 0; i < std::size(kProvisioningRules) && prov == nullptr; ++i) {
      if (kProvisioningRules[i].when.matches(m)) {
        prov = &kProvisioningRules[i];
        provisioning_used[i] = true;
      }
    }
    const Rule<AP>* power = nullptr;
    for (std::size_t i = 0; i < std::size(kPowerRules) && power == nullptr; ++i) {
      if (kPowerRules[i].when.matches(m)) {
        power = &kPowerRules[i];
        power_used[i] = true;
      }
    }
    if (prov == nullptr || power == nullptr) {
      out.add(at + "no golden " + (prov == nullptr ? "provisioning" : "power") + " rule matches");
      continue;
    }
    const ProvisioningRow& gp = *provisioning_row(prov->then);
    const PowerRow& gw = *power_row(power->then);
    const BillingRow& gb = *billing_row(gw.billing);
    if (v.provisioning != prov->then) {
      out.add(at + "provisioning golden " + std::string(gp.name) + " (" +
              std::string(prov->source) + "), model " +
              std::string(azure_provisioning_name(v.provisioning)));
    }
    if (v.power != power->then) {
      out.add(at + "power golden '" + std::string(gw.name) + "' (" + std::string(power->source) +
              "), model '" + std::string(azure_power_name(v.power)) + "'");
    }
    if (v.billing != gw.billing) {
      out.add(at + "billing golden " + std::string(gb.name) + " (" + std::string(gb.source) +
              "), model " + std::string(billing_name(v.billing)));
    }
    // The instance view: the provisioning status first, then the power status, if any
    // (reference azure-cli.md:135).
    std::vector<std::pair<AzureStatus, std::string>> want = {{golden_status(gp), source_of(gp)}};
    if (gw.power != AP::kNone) want.emplace_back(golden_status(gw), source_of(gw));
    if (v.status_count != want.size()) {
      out.add(at + std::to_string(want.size()) + " golden statuses, model shows " +
              std::to_string(v.status_count));
    }
    for (std::size_t i = 0; i < want.size() && i < v.status_count; ++i) {
      if (!same(v.statuses[i], want[i].first)) {
        out.add(at + "statuses[" + std::to_string(i) + "] golden " + show(want[i].first) + " (" +
                want[i].second + "), model " + show(v.statuses[i]));
      }
    }
    const std::string label =
        std::string(gp.name) + (gw.power == AP::kNone ? "" : ", " + std::string(gw.name));
    if (vocabulary_state_label(m.record, Vocabulary::kAzure) != label) {
      out.add(at + "label golden '" + label + "' (Corral's choice: provisioning, power), model '" +
              vocabulary_state_label(m.record, Vocabulary::kAzure) + "'");
    }
    for (std::size_t i = 0; i + 1 < v.status_count; ++i) {
      shown.emplace(v.statuses[i].code, v.statuses[i + 1].code);
    }
  }
  for (std::size_t i = 0; i < std::size(kProvisioningRules) && !out.full(); ++i) {
    if (!provisioning_used[i]) {
      out.add("azure: golden provisioning rule " + std::to_string(i) + " -> " +
              std::string(provisioning_row(kProvisioningRules[i].then)->name) + " (" +
              std::string(kProvisioningRules[i].source) +
              ") is the first match of no moment (dead or shadowed)");
    }
  }
  for (std::size_t i = 0; i < std::size(kPowerRules) && !out.full(); ++i) {
    if (!power_used[i]) {
      out.add("azure: golden power rule " + std::to_string(i) + " -> '" +
              std::string(power_row(kPowerRules[i].then)->name) + "' (" +
              std::string(kPowerRules[i].source) +
              ") is the first match of no moment (dead or shadowed)");
    }
  }
  // Each instance view the seed's Power State table shows is one the model shows.
  for (const SeedPowerRow& row : seed000().power_table) {
    if (out.full() || row.statuses.size() != 2) continue;
    if (!shown.contains({row.statuses[0].code, row.statuses[1].code})) {
      out.add("azure: seed 000:" + std::to_string(row.line) + " shows " + row.statuses[0].code +
              " with " + row.statuses[1].code + "; no moment of the model does");
    }
  }
  return out;
}

}  // namespace corral::lifecycle::golden
