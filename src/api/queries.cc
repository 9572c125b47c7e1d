#include "api/queries.h"

#include <algorithm>
#include <charconv>
#include <random>
#include <span>
#include <vector>

#include "api/requests.h"

namespace corral::api {
namespace {

namespace lc = corral::lifecycle;

Error bad(std::string message) { return Error::invalid_argument(std::move(message)); }

std::string joined(std::span<const std::string_view> names, std::string_view quote) {
  std::string out;
  for (std::string_view n : names) {
    out += (out.empty() ? "" : ", ") + std::string(quote) + std::string(n) + std::string(quote);
  }
  return out;
}

// Unsigned decimal query value, at most 18 digits.
Result<std::int64_t> query_number(const std::string& value, std::string_view field, std::int64_t lo,
                                  std::int64_t hi) {
  const std::optional<std::int64_t> n = parse_id(value);
  if (!n || *n < lo || *n > hi) {
    return fail(bad("query parameter '" + std::string(field) + "' must be a whole number from " +
                    std::to_string(lo) + " to " + std::to_string(hi)));
  }
  return *n;
}

Status refuse_unknown_query(const QueryParams& query, std::span<const std::string_view> known) {
  std::vector<std::string_view> unknown;
  for (const auto& [key, value] : query) {
    if (std::find(known.begin(), known.end(), key) == known.end() &&
        std::find(unknown.begin(), unknown.end(), key) == unknown.end()) {
      unknown.push_back(key);
    }
  }
  if (unknown.empty()) return {};
  return fail(bad((unknown.size() == 1 ? "unknown query parameter " : "unknown query parameters ") +
                  joined(unknown, "'") +
                  (known.empty() ? std::string(" (none are taken)")
                                 : " (allowed: " + joined(known, "") + ")")));
}

const std::string* query_value(const QueryParams& query, const std::string& key) {
  const auto it = query.find(key);
  return it == query.end() ? nullptr : &it->second;
}

}  // namespace

Result<engine::ListQuery> parse_list_query(const QueryParams& query) {
  static constexpr std::string_view kKnown[] = {
      "state", "name", "limit", "offset", "marker", "views", "all_projects", "project", "ids"};
  if (Status s = refuse_unknown_query(query, kKnown); !s) return fail(s.error());
  engine::ListQuery out;
  if (const std::string* state = query_value(query, "state")) {
    const std::optional<lc::State> s = lc::parse_state(*state);
    if (!s) {
      return fail(
          bad("query parameter 'state' must be a canonical state name (RUNNING, "
              "POWEROFF, ... see GET /v1/states)"));
    }
    out.state = *s;
  }
  if (const std::string* name = query_value(query, "name")) {
    if (!valid_name(*name)) {
      return fail(bad("query parameter 'name' must be 1 to 64 characters of A-Z a-z 0-9 . _ -"));
    }
    out.name = *name;
  }
  if (const std::string* limit = query_value(query, "limit")) {
    Result<std::int64_t> v = query_number(*limit, "limit", 1, kMaxListLimit);
    if (!v) return fail(v.error());
    out.limit = static_cast<std::size_t>(*v);
  }
  if (const std::string* offset = query_value(query, "offset")) {
    Result<std::int64_t> v = query_number(*offset, "offset", 0, 999'999'999'999'999'999);
    if (!v) return fail(v.error());
    out.offset = static_cast<std::size_t>(*v);
  }
  if (const std::string* marker = query_value(query, "marker")) {
    Result<std::int64_t> v = query_number(*marker, "marker", 0, 999'999'999'999'999'999);
    if (!v) return fail(v.error());
    out.marker = *v;
  }
  return out;
}

Result<std::vector<std::int64_t>> parse_ids_query(const QueryParams& query) {
  std::vector<std::int64_t> ids;
  const std::string* text = query_value(query, "ids");
  if (text == nullptr) return ids;
  const Error wrong = bad("query parameter 'ids' must be 1 to " + std::to_string(kMaxListLimit) +
                          " VM ids separated by commas");
  std::string_view rest = *text;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::optional<std::int64_t> id = parse_id(rest.substr(0, comma));
    if (!id || ids.size() == kMaxListLimit) return fail(wrong);
    ids.push_back(*id);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  std::ranges::sort(ids);
  ids.erase(std::ranges::unique(ids).begin(), ids.end());
  return ids;
}

Result<HistoryQuery> parse_history_query(const QueryParams& query) {
  static constexpr std::string_view kKnown[] = {"after", "limit"};
  if (Status s = refuse_unknown_query(query, kKnown); !s) return fail(s.error());
  HistoryQuery out;
  if (const std::string* after = query_value(query, "after")) {
    Result<std::int64_t> v = query_number(*after, "after", 0, 999'999'999'999'999'999);
    if (!v) return fail(v.error());
    out.after = *v;
  }
  if (const std::string* limit = query_value(query, "limit")) {
    Result<std::int64_t> v = query_number(*limit, "limit", 1, kMaxListLimit);
    if (!v) return fail(v.error());
    out.limit = static_cast<int>(*v);
  }
  return out;
}

Result<MigrationsQuery> parse_migrations_query(const QueryParams& query) {
  static constexpr std::string_view kKnown[] = {"before", "limit"};
  if (Status s = refuse_unknown_query(query, kKnown); !s) return fail(s.error());
  MigrationsQuery out;
  if (const std::string* before = query_value(query, "before")) {
    Result<std::int64_t> v = query_number(*before, "before", 1, 999'999'999'999'999'999);
    if (!v) return fail(v.error());
    out.before = *v;
  }
  if (const std::string* limit = query_value(query, "limit")) {
    Result<std::int64_t> v = query_number(*limit, "limit", 1, kMaxListLimit);
    if (!v) return fail(v.error());
    out.limit = static_cast<int>(*v);
  }
  return out;
}

Result<lc::Action> parse_delete_query(const QueryParams& query) {
  static constexpr std::string_view kKnown[] = {"hard"};
  if (Status s = refuse_unknown_query(query, kKnown); !s) return fail(s.error());
  const std::string* hard = query_value(query, "hard");
  if (hard == nullptr || *hard == "false" || *hard == "0") return lc::Action::kTerminate;
  if (*hard == "true" || *hard == "1" || hard->empty()) return lc::Action::kTerminateHard;
  return fail(bad("query parameter 'hard' must be true or false"));
}

Result<store::VmId> parse_events_query(const QueryParams& query) {
  static constexpr std::string_view kKnown[] = {"vm"};
  if (Status s = refuse_unknown_query(query, kKnown); !s) return fail(s.error());
  const std::string* vm = query_value(query, "vm");
  if (vm == nullptr) return store::VmId{0};
  return query_number(*vm, "vm", 1, 999'999'999'999'999'999);
}

std::optional<std::int64_t> parse_id(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string request_id_for(std::string_view incoming) {
  const bool sane = !incoming.empty() && incoming.size() <= 128 &&
                    std::all_of(incoming.begin(), incoming.end(), [](char c) {
                      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == ':';
                    });
  if (sane) return std::string(incoming);
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t bits = random();
  std::string id = "req-0000000000000000";
  for (std::size_t i = id.size(); i-- > 4; bits >>= 4) id[i] = kHex[bits & 0xf];
  return id;
}

Result<ViewSet> parse_views_query(const QueryParams& query) {
  const std::string* text = query_value(query, "views");
  if (text == nullptr) return kAllViews;
  if (*text == "none") return ViewSet{0};
  ViewSet set = 0;
  std::string_view rest = *text;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    if (name == "opennebula") {
      set |= kViewOpenNebula;
    } else if (name == "nova") {
      set |= kViewNova;
    } else if (name == "azure") {
      set |= kViewAzure;
    } else if (name == "stratuslab") {
      set |= kViewStratusLab;
    } else {
      return fail(bad("unknown view '" + std::string(name) +
                      "' in views (views: opennebula, nova, azure, stratuslab, or none)"));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return set;
}

}  // namespace corral::api
