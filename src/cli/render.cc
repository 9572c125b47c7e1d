#include "cli/render.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include "cli/table.h"

namespace corral::cli {
namespace {

namespace lc = corral::lifecycle;
using nlohmann::json;

constexpr std::size_t kLabelWidth = 22;

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string line(std::string_view label, std::string_view value) {
  return pad(upper(label), kLabelWidth) + ": " + std::string(value) + "\n";
}

// An array element of a view (an Azure status): its values in a useful order, two spaces
// apart.
std::string element_text(const json& element) {
  if (!element.is_object()) return text_of(element);
  constexpr std::array<std::string_view, 5> kOrder = {"code", "level", "displayStatus",
                                                      "display_status", "time"};
  std::string out;
  const auto add = [&out](const json& value) {
    if (value.is_null()) return;
    out += (out.empty() ? "" : "  ") + text_of(value);
  };
  for (std::string_view key : kOrder) add(field(element, key));
  for (const auto& [key, value] : element.items()) {
    if (std::find(kOrder.begin(), kOrder.end(), key) == kOrder.end()) add(value);
  }
  return out;
}

// Every key of `object`, the `first` ones first, as "LABEL : value" lines; arrays one
// element per line below their label.
std::string object_lines(const json& object, const std::vector<std::string_view>& first) {
  if (!object.is_object()) return line("value", text_of(object));
  std::string out;
  const auto add = [&out](std::string_view key, const json& value) {
    if (value.is_object() && !value.empty()) {
      for (const auto& [inner, inner_value] : value.items()) {
        out += line(std::string(key) + "." + inner, text_of(inner_value));
      }
      return;
    }
    if (!value.is_array() || value.empty()) {
      out += line(key, text_of(value));
      return;
    }
    out += upper(key) + "\n";
    for (const json& element : value) out += "  " + element_text(element) + "\n";
  };
  for (std::string_view key : first) {
    if (object.contains(key)) add(key, object[std::string(key)]);
  }
  for (const auto& [key, value] : object.items()) {
    if (std::find(first.begin(), first.end(), key) == first.end()) add(key, value);
  }
  return out;
}

// OpenNebula's "VM NICS" and "VM DISKS" sections of onevm show, from the VM's nics and
// volumes (each only when there is one).
std::string nics_and_volumes(const json& vm) {
  std::string out;
  const json& nics = field(vm, "nics");
  if (nics.is_array() && !nics.empty()) {
    Table table({{"ID", Align::kRight}, {"NETWORK"}, {"IP"}, {"MAC"}, {"SECURITY_GROUPS"}});
    for (const json& n : nics) {
      std::string groups;
      for (const json& g : field(n, "security_groups")) {
        groups += (groups.empty() ? "" : ",") + text_of(g);
      }
      const json& network = field(n, "network");
      table.add_row({text_of(field(n, "nic")),
                     network.is_null() ? text_of(field(n, "network_id")) : text_of(network),
                     text_of(field(n, "ip")), text_of(field(n, "mac")),
                     groups.empty() ? "-" : groups});
    }
    out += "\nVM NICS\n" + table.render();
  }
  const json& volumes = field(vm, "volumes");
  if (volumes.is_array() && !volumes.empty()) {
    Table table({{"ID", Align::kRight},
                 {"NAME"},
                 {"SLOT", Align::kRight},
                 {"SIZE", Align::kRight},
                 {"STATUS"},
                 {"GUEST_DEVICE"}});
    for (const json& v : volumes) {
      table.add_row({text_of(field(v, "id")), text_of(field(v, "name")), text_of(field(v, "slot")),
                     memory_text(field(v, "size_mib")), text_of(field(v, "status")),
                     text_of(field(v, "guest_device"))});
    }
    out += "\nVM VOLUMES\n" + table.render();
  }
  return out;
}

}  // namespace

const json& field(const json& object, std::string_view key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  const auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string text_of(const json& value, std::string_view empty) {
  switch (value.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      return std::string(empty);
    case json::value_t::string: {
      const std::string& text = value.get_ref<const std::string&>();
      return text.empty() ? std::string(empty) : text;
    }
    case json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
    case json::value_t::object:
    case json::value_t::array:
    case json::value_t::binary:
      return value.dump();
  }
  return std::string(empty);
}

std::string memory_text(const json& mib) {
  if (!mib.is_number()) return "-";
  const double value = mib.get<double>();
  if (value < 1024) return fmt::format("{}M", std::llround(value));
  const double gib = value / 1024;
  if (std::fabs(gib - std::round(gib)) < 1e-9) return fmt::format("{}G", std::llround(gib));
  return fmt::format("{:.1f}G", gib);
}

std::string operation_text(const json& operation) {
  if (!operation.is_object()) return "-";
  // The VM carries its last operation; one that succeeded is nothing to show.
  if (text_of(field(operation, "status"), "") == "succeeded") return "-";
  return operation_summary(operation);
}

std::string operation_summary(const json& operation) {
  std::string out = text_of(field(operation, "action"), "?");
  const std::string phase = text_of(field(operation, "phase"), "");
  if (!phase.empty()) out += "/" + phase;
  const std::string status = text_of(field(operation, "status"), "");
  if (!status.empty() && status != "running") out += " (" + status + ")";
  return out;
}

std::string state_label(const json& vm, lc::Vocabulary vocabulary) {
  const json& views = field(vm, "views");
  switch (vocabulary) {
    case lc::Vocabulary::kCorral:
      return text_of(field(vm, "state"));
    case lc::Vocabulary::kOpenNebula: {
      const json& one = field(views, "opennebula");
      std::string state = text_of(field(one, "state"));
      if (state == "ACTIVE") return state + "/" + text_of(field(one, "lcm_state"));
      return state;
    }
    case lc::Vocabulary::kNova:
      return text_of(field(field(views, "nova"), "status"));
    case lc::Vocabulary::kAzure: {
      const json& azure = field(views, "azure");
      const json& power = field(azure, "power_state");
      return text_of(power.is_null() ? field(azure, "provisioning_state") : power);
    }
    case lc::Vocabulary::kStratusLab:
      return text_of(field(field(views, "stratuslab"), "state"));
  }
  return "-";
}

bool is_done(const json& vm) { return text_of(field(vm, "state")) == "DONE"; }

std::string vm_list_table(const std::vector<json>& vms, lc::Vocabulary vocabulary) {
  Table table({{"ID", Align::kRight},
               {"NAME"},
               {"STAT"},
               {"STATE"},
               {"CPU", Align::kRight},
               {"MEM", Align::kRight},
               {"HOST"},
               {"OPERATION"}});
  for (const json& vm : vms) {
    table.add_row({text_of(field(vm, "id")), text_of(field(vm, "name")),
                   text_of(field(field(field(vm, "views"), "opennebula"), "short")),
                   state_label(vm, vocabulary), text_of(field(vm, "vcpus")),
                   memory_text(field(vm, "memory_mib")), text_of(field(vm, "host")),
                   operation_text(field(vm, "operation"))});
  }
  return table.render();
}

std::string vm_details(const json& vm) {
  if (!vm.is_object()) return text_of(vm) + "\n";
  static const std::vector<std::string_view> kFirst = {
      "id",         "name",  "state",          "power",      "host",      "vcpus",
      "memory_mib", "image", "pending_reason", "created_at", "updated_at"};
  std::string out = fmt::format("VIRTUAL MACHINE {} INFORMATION\n", text_of(field(vm, "id")));
  json scalars = json::object();
  for (const auto& [key, value] : vm.items()) {
    if (key != "operation" && key != "views" && key != "nics" && key != "volumes" &&
        !value.is_object()) {
      scalars[key] = value;
    }
  }
  out += object_lines(scalars, kFirst);
  out += nics_and_volumes(vm);
  out += "\nOPERATION\n";
  const json& operation = field(vm, "operation");
  out += operation.is_object()
             ? object_lines(operation, {"id", "action", "phase", "status", "error"})
             : "-\n";
  const json& views = field(vm, "views");
  static const std::vector<std::pair<std::string_view, std::vector<std::string_view>>> kViews = {
      {"opennebula", {"state", "state_id", "lcm_state", "lcm_state_id", "short"}},
      {"nova", {"status", "vm_state", "task_state", "power_state"}},
      {"azure", {"provisioning_state", "power_state", "billing", "statuses"}},
      {"stratuslab", {"state"}}};
  for (const auto& [name, first] : kViews) {
    if (!views.contains(name)) continue;
    out += "\n" + upper(name) + " VIEW\n" + object_lines(views[std::string(name)], first);
  }
  if (views.is_object()) {
    for (auto it = views.begin(); it != views.end(); ++it) {
      const std::string& name = it.key();
      const bool known = std::any_of(kViews.begin(), kViews.end(),
                                     [&name](const auto& v) { return v.first == name; });
      if (!known) out += "\n" + upper(name) + " VIEW\n" + object_lines(*it, {});
    }
  }
  for (const auto& [key, value] : vm.items()) {
    if (key != "operation" && key != "views" && value.is_object()) {
      out += "\n" + upper(key) + "\n" + object_lines(value, {});
    }
  }
  return out;
}

std::string history_table(const json& history) {
  Table table({{"ID", Align::kRight},
               {"AT"},
               {"FROM"},
               {"TO"},
               {"ACTION"},
               {"PHASE"},
               {"STATUS"},
               {"ACTOR"},
               {"REASON"}});
  const json& transitions = field(history, "transitions");
  if (transitions.is_array()) {
    for (const json& t : transitions) {
      table.add_row({text_of(field(t, "id")), text_of(field(t, "at")), text_of(field(t, "from")),
                     text_of(field(t, "to")), text_of(field(t, "action")),
                     text_of(field(t, "phase")), text_of(field(t, "status")),
                     text_of(field(t, "actor")), text_of(field(t, "reason"))});
    }
  }
  return table.render();
}

std::string hosts_table(const json& hosts) {
  Table table({{"NAME"},
               {"STATE"},
               {"SERVICE"},
               {"VCPUS", Align::kRight},
               {"USED_VCPUS", Align::kRight},
               {"MEMORY", Align::kRight},
               {"USED_MEMORY", Align::kRight},
               {"VMS", Align::kRight},
               {"AGENT"}});
  const json& list = field(hosts, "hosts");
  if (list.is_array()) {
    for (const json& h : list) {
      const json& vms = field(h, "vms");
      const json& nova = field(h, "nova");
      const std::string service =
          nova.is_object() ? text_of(field(nova, "status")) + "/" + text_of(field(nova, "state"))
                           : "-";
      std::string agent = "-";
      if (field(h, "local").is_boolean() && field(h, "local").get<bool>()) {
        agent = "local";
      } else if (field(h, "connected").is_boolean()) {
        agent = field(h, "connected").get<bool>() ? "connected" : "not connected";
      }
      table.add_row({text_of(field(h, "name")), text_of(field(h, "state")), service,
                     text_of(field(h, "vcpus")), text_of(field(h, "used_vcpus")),
                     memory_text(field(h, "memory_mib")), memory_text(field(h, "used_memory_mib")),
                     vms.is_array() ? std::to_string(vms.size()) : text_of(vms), agent});
    }
  }
  return table.render();
}

std::string host_text(const json& host) {
  std::string out;
  const auto line = [&out](std::string_view key, const std::string& value) {
    out += fmt::format("{:<18}{}\n", std::string(key) + ":", value);
  };
  line("name", text_of(field(host, "name")));
  line("state", text_of(field(host, "state")) + " (" + text_of(field(host, "state_id")) + ")");
  const json& nova = field(host, "nova");
  if (nova.is_object()) {
    std::string service = text_of(field(nova, "status")) + ", " + text_of(field(nova, "state"));
    if (field(nova, "forced_down").is_boolean() && field(nova, "forced_down").get<bool>()) {
      service += ", forced down";
    }
    if (field(nova, "disabled_reason").is_string()) {
      service += " (" + field(nova, "disabled_reason").get<std::string>() + ")";
    }
    line("service", service);
  }
  line("vcpus", text_of(field(host, "used_vcpus")) + " used of " + text_of(field(host, "vcpus")) +
                    " (ratio " + text_of(field(host, "cpu_allocation_ratio")) + ")");
  line("memory", memory_text(field(host, "used_memory_mib")) + " used of " +
                     memory_text(field(host, "memory_mib")) + " (ratio " +
                     text_of(field(host, "ram_allocation_ratio")) + ")");
  const json& vms = field(host, "vms");
  std::string ids;
  if (vms.is_array()) {
    for (const json& id : vms) ids += (ids.empty() ? "" : " ") + text_of(id);
  }
  line("vms", ids.empty() ? "-" : ids);
  std::string labels;
  if (const json& l = field(host, "labels"); l.is_object()) {
    for (const auto& [k, v] : l.items())
      labels += (labels.empty() ? "" : " ") + k + "=" + text_of(v);
  }
  line("labels", labels.empty() ? "-" : labels);
  line("agent", text_of(field(host, "agent_version")));
  line("last heartbeat", text_of(field(host, "last_heartbeat_ms")));
  if (field(host, "error").is_string()) line("error", field(host, "error").get<std::string>());
  std::string actions;
  if (const json& a = field(host, "allowed_actions"); a.is_array()) {
    for (const json& x : a) actions += (actions.empty() ? "" : " ") + text_of(x);
  }
  line("actions", actions.empty() ? "-" : actions);
  return out;
}

std::string accepted_text(const json& response, std::string_view verb) {
  const json& vm = field(response, "vm");
  const json& operation = field(response, "operation");
  std::string out = fmt::format("VM {}: {} accepted", text_of(field(vm, "id"), "?"), verb);
  if (operation.is_object()) {
    out += fmt::format(" (operation {}: {})", text_of(field(operation, "id"), "?"),
                       operation_summary(operation));
  }
  return out + "\n";
}

}  // namespace corral::cli
