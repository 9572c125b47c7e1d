#include "lifecycle/export.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "lifecycle/table.h"
#include "lifecycle/views.h"
#include "lifecycle/vocabulary.h"

namespace corral::lifecycle {
namespace {

using nlohmann::json;

// The name a vocabulary gives a VM at rest in `state`.
std::string rest_label(State state, Vocabulary vocabulary) {
  const VmRecord record = record_at_rest(state);
  switch (vocabulary) {
    case Vocabulary::kCorral:
      return std::string(state_name(state));
    case Vocabulary::kOpenNebula: {
      if (state == State::kFailed) return "*_FAILURE";  // which one depends on the step
      const OpenNebulaView v = opennebula_view(record);
      if (v.state == OneState::kActive) return std::string(lcm_state_name(v.lcm_state));
      return std::string(one_state_name(v.state));
    }
    case Vocabulary::kNova:
      return std::string(nova_vm_state_name(nova_view(record).vm_state));
    case Vocabulary::kAzure: {
      const AzureView v = azure_view(record);
      if (v.provisioning == AzureProvisioning::kFailed) return "Provisioning failed";
      if (v.power == AzurePower::kNone) return std::string(azure_provisioning_name(v.provisioning));
      return "VM " + std::string(azure_power_name(v.power));
    }
    case Vocabulary::kStratusLab:
      return std::string(sl_state_name(stratuslab_view(record).state));
  }
  return {};
}

// The verbs of `vocabulary` that ask for `action` from `state` when idle.
std::vector<std::string> verbs_for(Vocabulary vocabulary, Action action, State state) {
  std::vector<std::string> out;
  if (vocabulary == Vocabulary::kCorral) {
    out.emplace_back(action_name(action));
    return out;
  }
  for (const VerbRule& r : verb_rules(vocabulary)) {
    if (r.action != action || !r.from.contains(state)) continue;
    std::string verb(r.verb);
    if (!r.variant.empty()) verb += "(" + std::string(r.variant) + ")";
    if (std::find(out.begin(), out.end(), verb) == out.end()) out.push_back(std::move(verb));
  }
  return out;
}

// A DOT string. Backslashes pass through: labels use DOT's own \l and \n escapes, and no
// state or verb name contains one.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::vector<std::string> action_list(ActionSet set) {
  std::vector<std::string> out;
  for (Action a : kAllActions) {
    if (set.contains(a)) out.emplace_back(action_name(a));
  }
  return out;
}

std::vector<std::string> state_list(StateSet set) {
  std::vector<std::string> out;
  for (State s : kAllStates) {
    if (set.contains(s)) out.emplace_back(state_name(s));
  }
  return out;
}

std::string target_name(const Transition& t) {
  switch (t.target) {
    case Target::kState:
      return std::string(state_name(t.to));
    case Target::kOrigin:
      return "origin";
    case Target::kByPower:
      return "RUNNING if powered on, else POWEROFF";
    case Target::kFailPhase:
      return "the current phase's failure rule";
    case Target::kNextPhase:
      return "the next phase";
    case Target::kRetryPhase:
      return "the same phase again";
    case Target::kParameter:
      return "the requested state";
  }
  return {};
}

// A status line as the API renders it in "statuses" (without the time), and whether it
// carries a time when rendered.
json azure_status_json(const AzureStatus& s) {
  return {{"code", s.code},
          {"level", s.level},
          {"displayStatus", s.display_status},
          {"timed", s.timed}};
}

// Every API "status" the Nova view can render (nova_status over every vm_state and
// task_state), each once, in first-seen order.
json nova_statuses() {
  std::vector<std::string_view> seen;
  for (NovaVmState vm : kAllNovaVmStates) {
    for (NovaTaskState task : kAllNovaTaskStates) {
      const std::string_view status = nova_status(vm, task);
      if (std::find(seen.begin(), seen.end(), status) == seen.end()) seen.push_back(status);
    }
  }
  json out = json::array();
  for (std::string_view s : seen) out.push_back(s);
  return out;
}

}  // namespace

// Actions allowed from (nearly) every state — terminate, recover delete/recreate — would draw
// an edge from every node; the diagram lists them once in its legend instead.
bool is_everywhere(Action action) {
  StateSet from;
  int count = 0;
  for (const Transition& t : transitions()) {
    if (t.action != action || !t.when_idle) continue;
    for (State s : kAllStates) {
      if (t.from.contains(s) && !from.contains(s)) {
        from = from.with(s);
        ++count;
      }
    }
  }
  return count >= 10;
}

std::string to_dot(Vocabulary vocabulary) {
  std::map<std::pair<std::string, std::string>, std::set<std::string>> edges;
  std::set<std::string> fails;  // nodes from which some phase can fail into FAILED
  std::set<std::string> nodes;
  std::map<std::string, std::string> everywhere;  // verb -> where it leads
  const std::string failed = rest_label(State::kFailed, vocabulary);
  for (const Transition& t : transitions()) {
    if (is_meta_target(t.target) || !t.when_idle || is_system_action(t.action)) continue;
    for (State from : kAllStates) {
      if (!t.from.contains(from)) continue;
      const std::vector<std::string> verbs = verbs_for(vocabulary, t.action, from);
      if (verbs.empty()) continue;
      const std::string a = rest_label(from, vocabulary);
      State to = t.to;
      if (t.target == Target::kOrigin) to = from;
      if (t.target == Target::kByPower) to = State::kRunning;
      const std::string b = rest_label(to, vocabulary);
      if (is_everywhere(t.action)) {
        for (const std::string& v : verbs) everywhere[v] = b;
        continue;
      }
      nodes.insert(a);
      nodes.insert(b);
      if (a != b) edges[{a, b}].insert(verbs.begin(), verbs.end());
      for (const PhaseStep& step : t.phases()) {
        const bool can_fail_stop = step.on_failure == FailureRule::kFailStop ||
                                   step.on_failure == FailureRule::kRollbackIfIntact;
        if (can_fail_stop && a != failed) fails.insert(a);
      }
    }
  }
  std::ostringstream out;
  out << "digraph corral_" << vocabulary_name(vocabulary) << " {\n"
      << "  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  std::string legend = "Corral lifecycle in " + std::string(vocabulary_name(vocabulary)) +
                       " terms, generated from the transition table.\\l";
  if (!everywhere.empty()) {
    legend += "From (nearly) every state:\\l";
    for (const auto& [verb, to] : everywhere) {
      legend.append("   ").append(verb).append(" -> ").append(to).append("\\l");
    }
  }
  if (!fails.empty()) {
    legend += "Dashed: a phase that cannot roll back failed (recover or terminate it).\\l";
  }
  out << "  label=" << quote(legend) << ";\n  labeljust=l;\n";
  if (!fails.empty()) nodes.insert(failed);
  for (const std::string& n : nodes) out << "  " << quote(n) << ";\n";
  for (const auto& [ends, verbs] : edges) {
    std::string label;
    for (const std::string& v : verbs) label += (label.empty() ? "" : "\\n") + v;
    out << "  " << quote(ends.first) << " -> " << quote(ends.second) << " [label=\"" << label
        << "\"];\n";
  }
  for (const std::string& from : fails) {
    out << "  " << quote(from) << " -> " << quote(failed)
        << " [style=dashed, color=red, arrowsize=0.6];\n";
  }
  out << "}\n";
  return out.str();
}

json views_json(const VmRecord& record, const std::string& time) {
  const Views v = render_views(record);
  json azure_statuses = json::array();
  for (std::size_t i = 0; i < v.azure.status_count; ++i) {
    const AzureStatus& s = v.azure.statuses[i];
    json status = {{"code", s.code}, {"level", s.level}, {"displayStatus", s.display_status}};
    if (s.timed && !time.empty()) status["time"] = time;
    azure_statuses.push_back(std::move(status));
  }
  const std::string_view task = nova_task_state_name(v.nova.task_state);
  return json{
      {"opennebula",
       {{"state", one_state_name(v.opennebula.state)},
        {"state_id", static_cast<int>(v.opennebula.state)},
        {"lcm_state", lcm_state_name(v.opennebula.lcm_state)},
        {"lcm_state_id", static_cast<int>(v.opennebula.lcm_state)},
        {"short", v.opennebula.short_alias}}},
      {"nova",
       {{"vm_state", nova_vm_state_name(v.nova.vm_state)},
        {"task_state", task.empty() ? json(nullptr) : json(task)},
        {"power_state", v.nova.power_state},
        {"status", v.nova.status}}},
      {"azure",
       {{"statuses", std::move(azure_statuses)},
        {"provisioning_state", azure_provisioning_name(v.azure.provisioning)},
        {"power_state", v.azure.power == AzurePower::kNone ? json(nullptr)
                                                           : json(azure_power_name(v.azure.power))},
        {"billing", billing_name(v.azure.billing)},
        {"billing_display", billing_display(v.azure.billing)}}},
      {"stratuslab", {{"state", sl_state_name(v.stratuslab.state)}}},
  };
}

json model_json() {
  json states = json::array();
  for (State s : kAllStates) {
    json views = views_json(record_at_rest(s));
    states.push_back({{"name", state_name(s)},
                      {"number", static_cast<int>(s)},
                      {"nominal_power", power_name(nominal_power(s, Power::kNoState))},
                      {"views", std::move(views)}});
  }
  json actions = json::array();
  for (Action a : kAllActions) {
    actions.push_back({{"name", action_name(a)},
                       {"number", static_cast<int>(a)},
                       {"system", is_system_action(a)},
                       {"summary", action_summary(a)}});
  }
  json phases = json::array();
  for (Phase p : kAllPhases) {
    phases.push_back({{"name", phase_name(p)}, {"number", static_cast<int>(p)}});
  }
  json rows = json::array();
  for (const Transition& t : transitions()) {
    json steps = json::array();
    for (const PhaseStep& step : t.phases()) {
      steps.push_back({{"phase", phase_name(step.phase)},
                       {"on_failure", failure_rule_name(step.on_failure)},
                       {"runs_on", runs_on_name(step.runs_on)},
                       {"removes_copy", step.removes_copy}});
    }
    json undo = json::array();
    for (const PhaseStep& step : t.undo()) {
      undo.push_back({{"phase", phase_name(step.phase)},
                      {"runs_on", runs_on_name(step.runs_on)},
                      {"removes_copy", step.removes_copy}});
    }
    json effects = json::array();
    for (Effect e : kAllEffects) {
      if (t.has(e)) effects.push_back(effect_name(e));
    }
    rows.push_back(
        {{"action", action_name(t.action)},
         {"effects", std::move(effects)},
         {"power_after", t.power_after ? json(power_name(*t.power_after)) : json("of_end_state")},
         {"from", state_list(t.from)},
         {"when_idle", t.when_idle},
         {"during", action_list(t.during)},
         {"phases", std::move(steps)},
         {"undo", std::move(undo)},
         {"to", target_name(t)},
         {"note", t.note}});
  }
  json vocabularies = json::object();
  for (Vocabulary v : kAllVocabularies) {
    json verbs = json::array();
    if (v == Vocabulary::kCorral) {
      for (std::string_view verb : lifecycle::verbs(v)) {
        verbs.push_back({{"verb", verb}, {"action", verb}});
      }
    }
    for (const VerbRule& r : verb_rules(v)) {
      json rule = {{"verb", r.verb},
                   {"action", action_name(r.action)},
                   {"from", state_list(r.from)},
                   {"during", action_list(r.during)}};
      if (!r.variant.empty()) {
        rule["variant"] = {{"parameter", variant_parameter(v, r.verb)}, {"value", r.variant}};
      }
      if (!r.note.empty()) rule["note"] = r.note;
      verbs.push_back(std::move(rule));
    }
    json names = json::object();
    switch (v) {
      case Vocabulary::kCorral:
        names["states"] = state_list(StateSet::all_live().with(State::kInit).with(State::kDone));
        break;
      case Vocabulary::kOpenNebula: {
        json one = json::array();
        for (OneState s : kAllOneStates) {
          one.push_back({{"name", one_state_name(s)},
                         {"number", static_cast<int>(s)},
                         {"short", one_state_alias(s)}});
        }
        json lcm = json::array();
        for (LcmState s : kAllLcmStates) {
          lcm.push_back({{"name", lcm_state_name(s)},
                         {"number", static_cast<int>(s)},
                         {"short", lcm_state_alias(s)}});
        }
        names["states"] = std::move(one);
        names["lcm_states"] = std::move(lcm);
        break;
      }
      case Vocabulary::kNova: {
        json vm = json::array();
        for (NovaVmState s : kAllNovaVmStates) vm.push_back(nova_vm_state_name(s));
        json tasks = json::array();
        for (NovaTaskState t : kAllNovaTaskStates) {
          if (t != NovaTaskState::kNone) tasks.push_back(nova_task_state_name(t));
        }
        json power = json::array();
        for (int p : {0, 1, 3, 4, 6, 7}) {
          power.push_back({{"number", p}, {"name", nova_power_state_name(p)}});
        }
        names["vm_states"] = std::move(vm);
        names["task_states"] = std::move(tasks);
        names["power_states"] = std::move(power);
        names["statuses"] = nova_statuses();
        break;
      }
      case Vocabulary::kAzure: {
        json provisioning = json::array();
        for (AzureProvisioning p : kAllAzureProvisioning) {
          provisioning.push_back({{"name", azure_provisioning_name(p)},
                                  {"status", azure_status_json(azure_provisioning_status(p))}});
        }
        json power = json::array();
        for (AzurePower p : kAllAzurePowers) {
          power.push_back({{"name", azure_power_name(p)},
                           {"status", azure_status_json(azure_power_status(p))},
                           {"billing", billing_name(billing_of(p))},
                           {"billing_display", billing_display(billing_of(p))}});
        }
        json billing = json::array();
        for (Billing b : {Billing::kNotBilled, Billing::kBilledHardwareAndSoftware,
                          Billing::kBilledHardwareOnly}) {
          billing.push_back({{"name", billing_name(b)}, {"display", billing_display(b)}});
        }
        names["provisioning_states"] = std::move(provisioning);
        names["power_states"] = std::move(power);
        names["billing"] = std::move(billing);
        break;
      }
      case Vocabulary::kStratusLab: {
        json sl = json::array();
        for (SlState s : kAllSlStates) sl.push_back(sl_state_name(s));
        names["states"] = std::move(sl);
        break;
      }
    }
    vocabularies[std::string(vocabulary_name(v))] = {{"verbs", std::move(verbs)},
                                                     {"names", std::move(names)}};
  }
  return json{{"states", std::move(states)},
              {"actions", std::move(actions)},
              {"phases", std::move(phases)},
              {"transitions", std::move(rows)},
              {"vocabularies", std::move(vocabularies)}};
}

}  // namespace corral::lifecycle
