#include "cli/render_records.h"

#include "cli/render.h"
#include "cli/table.h"

namespace corral::cli {

using nlohmann::json;

std::string migrations_table(const json& reply) {
  Table table({{"ID", Align::kRight},
               {"OP", Align::kRight},
               {"TYPE"},
               {"STATUS"},
               {"SOURCE"},
               {"DEST"},
               {"CREATED"},
               {"UPDATED"},
               {"ERROR"}});
  const json& list = field(reply, "migrations");
  if (list.is_array()) {
    for (const json& m : list) {
      table.add_row({text_of(field(m, "id")), text_of(field(m, "op_id")),
                     text_of(field(m, "migration_type")), text_of(field(m, "status")),
                     text_of(field(m, "source_compute")), text_of(field(m, "dest_compute")),
                     text_of(field(m, "created_at")), text_of(field(m, "updated_at")),
                     text_of(field(m, "error"))});
    }
  }
  return table.render();
}

std::string stays_table(const json& history) {
  Table table({{"SEQ", Align::kRight}, {"HOST"}, {"START"}, {"END"}, {"REASON"}, {"ACTION"}});
  const json& stays = field(history, "stays");
  if (stays.is_array()) {
    for (const json& s : stays) {
      table.add_row({text_of(field(s, "seq")), text_of(field(s, "host")),
                     text_of(field(s, "start")), text_of(field(s, "end")),
                     text_of(field(s, "reason")), text_of(field(s, "action"))});
    }
  }
  return table.render();
}

}  // namespace corral::cli
