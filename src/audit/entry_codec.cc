#include "audit/entry_codec.h"

#include <nlohmann/json.hpp>

namespace corral::audit {

namespace {
constexpr int kVersion = 1;
}  // namespace

std::string encode_entry(const Entry& e) {
  const nlohmann::json j = {{"v", kVersion},
                            {"at", e.at},
                            {"request_id", e.request_id},
                            {"user_id", e.user_id},
                            {"user", e.user},
                            {"project_id", e.project_id},
                            {"project", e.project},
                            {"source", e.source},
                            {"method", e.method},
                            {"path", e.path},
                            {"route", e.route},
                            {"vm", e.vm},
                            {"verb", e.verb},
                            {"vocabulary", e.vocabulary},
                            {"status", e.status},
                            {"outcome", static_cast<int>(e.outcome)},
                            {"message", e.message}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Entry> decode_entry(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return fail(Error::invalid_argument("audit entry: not a JSON object"));
  }
  if (j.value("v", 0) != kVersion) {
    return fail(Error::invalid_argument("audit entry: unknown version"));
  }
  try {
    Entry e;
    e.at = j.at("at").get<Millis>();
    e.request_id = j.at("request_id").get<std::string>();
    e.user_id = j.at("user_id").get<std::int64_t>();
    e.user = j.at("user").get<std::string>();
    e.project_id = j.at("project_id").get<std::int64_t>();
    e.project = j.at("project").get<std::string>();
    e.source = j.at("source").get<std::string>();
    e.method = j.at("method").get<std::string>();
    e.path = j.at("path").get<std::string>();
    e.route = j.at("route").get<std::string>();
    e.vm = j.at("vm").get<std::int64_t>();
    e.verb = j.at("verb").get<std::string>();
    e.vocabulary = j.at("vocabulary").get<std::string>();
    e.status = j.at("status").get<int>();
    e.outcome = static_cast<Outcome>(j.at("outcome").get<int>());
    e.message = j.at("message").get<std::string>();
    if (!outcome_known(e.outcome)) {
      return fail(Error::invalid_argument("audit entry: unknown outcome"));
    }
    return e;
  } catch (const nlohmann::json::exception& ex) {
    return fail(Error::invalid_argument(std::string("audit entry: ") + ex.what()));
  }
}

}  // namespace corral::audit
