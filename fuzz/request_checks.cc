// The request fuzzer's checks (fuzz/request_checks.h): each promise of api/'s headers,
// written out again from the header's words, checked on whatever an input produces.
#include "request_checks.h"

#include <algorithm>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/errors.h"
#include "api/queries.h"
#include "api/requests.h"
#include "api/router.h"
#include "api/routes.h"
#include "common/result.h"
#include "lifecycle/model.h"
#include "lifecycle/types.h"
#include "lifecycle/vocabulary.h"
#include "store/op_params.h"

namespace corral::fuzz {
namespace {

namespace api = corral::api;
namespace lc = corral::lifecycle;
using corral::Error;
using corral::ErrorCode;
using nlohmann::json;

// Not assert(): it must hold whatever the build type. Throws rather than aborts, so that the
// corpus replay can name the input; the fuzz target aborts on it.
void check(bool holds, const char* promise,
           std::source_location where = std::source_location::current()) {
  if (holds) return;
  throw BrokenPromise("request_checks.cc:" + std::to_string(where.line()) + ": broken: " + promise);
}

bool all_of_class(std::string_view text, std::string_view extra) {
  for (char c : text) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool has_control_char(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Nothing a request can send is the server's fault: every refusal is 4xx and says why, in
// the {"error": {"code", "message"}} shape, and renders as the server renders it.
void check_refusal(const Error& error) {
  check(!error.message.empty(), "a refusal has a message");
  const api::HttpError http = api::to_http(error);
  check(http.status >= 400 && http.status <= 499, "a refusal is 4xx");
  check(http.body.contains("error"), "an error body has 'error'");
  const json& body = http.body["error"];
  check(body.value("code", "") == corral::error_code_name(error.code), "error.code is the code");
  check(!body.value("message", "").empty(), "error.message is set");
  check(!body.dump(-1, ' ', false, json::error_handler_t::replace).empty(), "it renders");
}

// The server's pattern matching, written out again as the header states it.
bool pattern_matches(std::string_view pattern, const std::vector<std::string_view>& segments) {
  const std::vector<std::string_view> expected = api::split_path(pattern);
  if (expected.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const bool parameter =
        expected[i].size() >= 2 && expected[i].front() == '{' && expected[i].back() == '}';
    if (parameter ? segments[i].empty() : expected[i] != segments[i]) return false;
  }
  return true;
}

const api::Router& router() {
  static const api::Router built = [] {
    api::Router r;
    std::size_t i = 0;
    for (const api::Route& p : api::kRoutes) {
      check(r.add(std::string(p.method), p.pattern) == i++, "add() returns 0, 1, 2 ...");
    }
    return r;
  }();
  return built;
}

// A path id is 1-18 decimal digits, nothing else, and means the number it spells.
void check_id(std::string_view text) {
  const std::optional<std::int64_t> id = api::parse_id(text);
  const bool digits = !text.empty() && text.size() <= 18 &&
                      text.find_first_not_of("0123456789") == std::string_view::npos;
  check(id.has_value() == digits, "parse_id accepts exactly 1-18 digits");
  if (!id) return;
  check(*id >= 0, "a path id is not negative");
  const std::string back = std::to_string(*id);
  const std::size_t zeros = std::min(text.find_first_not_of('0'), text.size() - 1);
  check(back == text.substr(zeros), "a path id is the number its digits spell");
  check(api::parse_id(back) == id, "a path id round-trips through std::to_string");
}

// Routes `path`; returns the {id} it carries, if any parses.
std::optional<std::int64_t> fuzz_route(std::string_view method, std::string_view path) {
  const std::vector<std::string_view> segments = api::split_path(path);
  std::string joined;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) joined += '/';
    joined += segments[i];
  }
  std::string_view trimmed = path;
  if (!trimmed.empty() && trimmed.front() == '/') trimmed.remove_prefix(1);
  if (!trimmed.empty() && trimmed.back() == '/') trimmed.remove_suffix(1);
  check(joined == trimmed, "split_path keeps every byte between one leading and trailing '/'");

  const std::string_view wanted = method == "HEAD" ? "GET" : method;
  bool path_known = false;
  for (const api::Route& p : api::kRoutes) {
    path_known = path_known || pattern_matches(p.pattern, segments);
  }
  const api::Router::Lookup outcome = router().match(method, path);
  std::optional<std::int64_t> id;
  if (const auto* match = std::get_if<api::Router::Match>(&outcome)) {
    check(match->route < std::size(api::kRoutes), "a match names a route");
    const api::Route& route = api::kRoutes[match->route];
    check(route.method == wanted, "a match has the request's method (GET for HEAD)");
    check(pattern_matches(route.pattern, segments), "a match's pattern fits the path");
    std::size_t parameters = 0;
    for (std::string_view s : api::split_path(route.pattern)) parameters += s.front() == '{';
    check(match->args.size() == parameters, "one argument per {parameter}");
    for (const std::string& arg : match->args) {
      check(!arg.empty() && arg.find('/') == std::string::npos, "an argument is one segment");
      check_id(arg);
      if (!id) id = api::parse_id(arg);
    }
  } else if (const auto* wrong = std::get_if<api::Router::WrongMethod>(&outcome)) {
    check(path_known, "405 only for a path some route has");
    check(!wrong->allowed.empty(), "405 names the methods allowed");
    for (std::size_t i = 0; i < wrong->allowed.size(); ++i) {
      const std::string& allowed = wrong->allowed[i];
      check(allowed != wanted, "405 does not allow the method refused");
      check(std::holds_alternative<api::Router::Match>(router().match(allowed, path)),
            "a method 405 allows is routed");
      for (std::size_t k = 0; k < i; ++k) check(wrong->allowed[k] != allowed, "no duplicates");
    }
    const api::HttpError http =
        api::to_http(api::MethodNotAllowed{std::string(method), std::string(path), wrong->allowed});
    check(http.status == 405, "a wrong method is 405");
    check(!http.headers.empty() && http.headers.front().first == "Allow", "405 has Allow");
  } else {
    check(!path_known, "404 only for a path no route has");
    check_refusal(
        Error::not_found("no such endpoint: " + std::string(method) + " " + std::string(path)));
  }
  return id;
}

// Split as httplib does (without its percent-decoding): '&' between pairs, the first '='
// between key and value, "key" alone for an empty value.
api::QueryParams split_query(std::string_view query) {
  api::QueryParams params;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    params.emplace(std::string(pair.substr(0, eq)),
                   eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1)));
  }
  return params;
}

void fuzz_queries(const api::QueryParams& query) {
  if (auto list = api::parse_list_query(query)) {
    check(list->limit >= 1 && list->limit <= api::kMaxListLimit, "1 <= limit <= max");
    check(list->marker >= 0, "marker >= 0");
    check(list->name.empty() || api::valid_name(list->name), "a name filter is a valid name");
    check(query.count("name") == 0 || !list->name.empty(), "name= is not ignored");
  } else {
    check_refusal(list.error());
  }
  if (auto history = api::parse_history_query(query)) {
    check(history->after >= 0, "after >= 0");
    check(history->limit >= 1 && static_cast<std::size_t>(history->limit) <= api::kMaxListLimit,
          "1 <= history limit <= max");
  } else {
    check_refusal(history.error());
  }
  if (auto action = api::parse_delete_query(query)) {
    check(*action == lc::Action::kTerminate || *action == lc::Action::kTerminateHard,
          "DELETE terminates, softly or hard");
  } else {
    check_refusal(action.error());
  }
  if (auto vm = api::parse_events_query(query)) {
    check(*vm > 0 || (*vm == 0 && query.count("vm") == 0), "vm= names a VM; 0 only without it");
  } else {
    check_refusal(vm.error());
  }
}

void fuzz_request_id(std::string_view incoming) {
  const std::string id = api::request_id_for(incoming);
  check(!id.empty() && id.size() <= 128 && all_of_class(id, "._:-"),
        "a request id is 1-128 of [A-Za-z0-9._:-]");
  if (!incoming.empty() && incoming.size() <= 128 && all_of_class(incoming, "._:-")) {
    check(id == incoming, "a sane caller's id is kept");
  }
}

// The contract of an image name: it stays a file name under the data dir.
void check_image(std::string_view image) {
  check(api::valid_image(image), "an accepted image is valid_image");
  check(!image.empty() && image.size() <= 128, "an image is 1-128 bytes");
  check(image.find('/') == std::string_view::npos && image.find("..") == std::string_view::npos &&
            image != ".",
        "an image cannot leave the data dir");
  check(!has_control_char(image), "an image has no control characters");
}

void check_model(const corral::store::VmModel& model) {
  check(model.vcpus >= api::kMinVcpus && model.vcpus <= api::kMaxVcpus, "vcpus in range");
  check(model.memory_mib >= api::kMinMemoryMib && model.memory_mib <= api::kMaxMemoryMib,
        "memory_mib in range");
  check_image(model.image);
}

void fuzz_create(const json& body) {
  auto create = api::parse_create(body);
  if (!create) {
    check_refusal(create.error());
    return;
  }
  check(api::valid_name(create->name), "an accepted name is valid_name");
  check(create->name.size() <= 64 && all_of_class(create->name, "._-"),
        "a name is 1-64 of [A-Za-z0-9._-]");
  check_model(create->model);
}

void fuzz_build(const api::ActionInput& input, lc::Action action, const corral::store::Vm& vm) {
  auto request = api::build_action(input, action, vm);
  if (!request) {
    check_refusal(request.error());
    return;
  }
  check(request->vm == vm.id && request->action == action, "the request is for this VM, action");
  const json params = json::parse(corral::store::to_json_text(request->params), nullptr,
                                  /*allow_exceptions=*/false);
  check(params.is_object(), "params are a JSON object");
  check(corral::store::validate_params(action, request->params).has_value(),
        "accepted params pass the drivers' rules");
  check(!params.contains("password") || params["password"] == "***", "no password is kept");
  if (request->model) check_model(*request->model);
  if (action == lc::Action::kResize || action == lc::Action::kResizeMigrate ||
      action == lc::Action::kRebuild) {
    check(request->model.has_value(), "resize and rebuild carry a model");
  }
  check(request->host.size() <= 255 && all_of_class(request->host, "._-"), "a host is a host name");
}

void fuzz_action(const json& body, corral::store::VmId vm_id) {
  auto input = api::parse_action(body);
  if (!input) {
    check_refusal(input.error());
    return;
  }
  check(!input->verb.empty() && input->verb.size() <= 64, "a verb is 1-64 bytes");
  check(input->params.is_object() && !input->params.contains("action") &&
            !input->params.contains("vocabulary"),
        "params are the fields left over");
  check(input->variant.size() <= 32 && !has_control_char(input->variant), "a variant is short");
  check(!input->variant_parameter.empty() || input->variant_json.is_null(),
        "no variant without a variant parameter");

  // The VM at rest in each state: the verb resolves differently in each.
  corral::store::Vm vm;
  vm.id = vm_id;
  vm.name = "fuzz";
  vm.model = {2, 512, "base.img"};
  std::bitset<lc::kActionCount> built;
  for (lc::State state : lc::kAllStates) {
    vm.record = lc::record_at_rest(state);
    auto action = lc::resolve(vm.record, input->vocabulary, input->verb, input->variant);
    if (!action) {
      check_refusal(action.error());
      continue;
    }
    const auto index = static_cast<std::size_t>(*action);
    if (*action == lc::Action::kCreate || built[index]) continue;
    built.set(index);
    fuzz_build(*input, *action, vm);
  }
}

// How deep the parsed value nests (0 for a scalar), to compare with json_depth's count.
int nesting(const json& value) {
  if (!value.is_structured()) return 0;
  int deepest = 0;
  for (const json& child : value) deepest = std::max(deepest, nesting(child));
  return deepest + 1;
}

void fuzz_body(std::string_view text, corral::store::VmId vm_id) {
  auto body = api::parse_body(text);
  if (!body) {
    check_refusal(body.error());
    check((body.error().code == ErrorCode::kTooLarge) == (text.size() > api::kMaxBodyBytes),
          "413 exactly for a body over the limit");
    return;
  }
  check(body->is_object(), "an accepted body is an object");
  check(text.find('\0') == std::string_view::npos, "an accepted body has no NUL (JSON has none)");
  const int depth = api::json_depth(text);
  check(depth <= api::kMaxJsonDepth, "an accepted body nests at most kMaxJsonDepth deep");
  check(nesting(*body) == depth, "json_depth counts the nesting the parser builds");
  fuzz_create(*body);
  fuzz_action(*body, vm_id);
}

std::string_view take_line(std::string_view& input) {
  const std::size_t newline = input.find('\n');
  const std::string_view line = input.substr(0, newline);
  input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  return line;
}

}  // namespace

void check_request(std::string_view input) {
  std::string_view request_line = take_line(input);
  const std::string_view request_id = take_line(input);
  const std::string_view body = input;

  const std::size_t space = request_line.find(' ');
  const std::string_view method = request_line.substr(0, space);
  const std::string_view target =
      space == std::string_view::npos ? std::string_view() : request_line.substr(space + 1);
  const std::size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

  const std::optional<std::int64_t> id = fuzz_route(method, path);
  fuzz_queries(split_query(query));
  fuzz_request_id(request_id);
  fuzz_body(body, id.value_or(1));
}

}  // namespace corral::fuzz
