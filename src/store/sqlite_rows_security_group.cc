// The security_groups table's codec (migrations 8 and 12). Rules are a JSON array in one column:
// they are read and written with their group, never alone.
#include <nlohmann/json.hpp>

#include "store/sqlite_rows.h"

namespace corral::store::sqlite {
namespace {

using G = SecurityGroupRow;
using nlohmann::json;

std::string rules_text(const std::vector<SecurityGroupRuleRow>& rules) {
  json out = json::array();
  for (const SecurityGroupRuleRow& r : rules) {
    out.push_back({{"id", r.id},
                   {"direction", r.direction},
                   {"protocol", r.protocol},
                   {"ports", r.ports},
                   {"remote", r.remote},
                   {"remote_own_network", r.remote_own_network}});
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool small_number(const json& j) {
  return j.is_number_unsigned() && j.get<std::uint64_t>() >= 1 && j.get<std::uint64_t>() <= 255;
}

// nullopt when the text is not an array of such objects. The numbers' meaning is checked by
// the engine (net::validate), which owns it.
std::optional<std::vector<SecurityGroupRuleRow>> rules_of(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (!j.is_array()) return std::nullopt;
  std::vector<SecurityGroupRuleRow> out;
  for (const json& e : j) {
    if (!e.is_object()) return std::nullopt;
    const auto id = e.find("id");
    const auto direction = e.find("direction");
    const auto protocol = e.find("protocol");
    const auto ports = e.find("ports");
    const auto remote = e.find("remote");
    const auto own = e.find("remote_own_network");
    if (id == e.end() || !id->is_number_integer() || direction == e.end() ||
        !small_number(*direction) || protocol == e.end() || !small_number(*protocol) ||
        ports == e.end() || !ports->is_string() || remote == e.end() || !remote->is_string() ||
        own == e.end() || !own->is_boolean()) {
      return std::nullopt;
    }
    out.push_back({id->get<std::int64_t>(), direction->get<std::uint8_t>(),
                   protocol->get<std::uint8_t>(), ports->get<std::string>(),
                   remote->get<std::string>(), own->get<bool>()});
  }
  return out;
}

void read_rules(RowReader& r, G& g) {
  const int col = r.column();
  const std::string text = r.text();
  std::optional<std::vector<SecurityGroupRuleRow>> rules = rules_of(text);
  if (!rules) {
    r.note(col, text, "not a JSON array of security group rules");
    return;
  }
  g.rules = std::move(*rules);
}

constexpr Column<G> kColumns[] = {
    {"id", SqlType::kInteger, false, [](StmtUse& u, const G& g) { u.bind(g.id); },
     [](RowReader& r, G& g) { g.id = r.i64(); }},
    {"name", SqlType::kText, false, [](StmtUse& u, const G& g) { u.bind(g.name); },
     [](RowReader& r, G& g) { g.name = r.text(); }},
    {"description", SqlType::kText, false, [](StmtUse& u, const G& g) { u.bind(g.description); },
     [](RowReader& r, G& g) { g.description = r.text(); }},
    {"rules", SqlType::kText, false,
     [](StmtUse& u, const G& g) { u.bind_copy(rules_text(g.rules)); }, read_rules},
    {"next_rule_id", SqlType::kInteger, false,
     [](StmtUse& u, const G& g) { u.bind(g.next_rule_id); },
     [](RowReader& r, G& g) { g.next_rule_id = r.i64(); }},
    {"created_at", SqlType::kInteger, false, [](StmtUse& u, const G& g) { u.bind(g.created_at); },
     [](RowReader& r, G& g) { g.created_at = r.i64(); }},
    {"updated_at", SqlType::kInteger, false, [](StmtUse& u, const G& g) { u.bind(g.updated_at); },
     [](RowReader& r, G& g) { g.updated_at = r.i64(); }},
    // Migration 12 (which rebuilt the table: names are unique per project).
    {"project", SqlType::kInteger, false, [](StmtUse& u, const G& g) { u.bind(g.project); },
     [](RowReader& r, G& g) { g.project = r.i64(); }},
};

constexpr RowCodec<G> kCodec{"security_groups", "id", kColumns};

}  // namespace

const RowCodec<SecurityGroupRow>& security_group_codec() { return kCodec; }

}  // namespace corral::store::sqlite
