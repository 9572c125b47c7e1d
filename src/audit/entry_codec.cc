#include "audit/entry_codec.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <nlohmann/json.hpp>

namespace corral::audit {

namespace {

// Version 2, written: a JSON array, the fields in Entry's order after the version. Positions,
// not names: an entry is written on every accepted change, and RapidJSON writing half the
// bytes of the named form is a fraction of the time nlohmann took (bench/README.md).
constexpr int kVersion = 2;
// Version 1, read only: a JSON object with the fields by name (what a build of stop 31 left in
// an outbox).
constexpr int kVersionObject = 1;

Result<Entry> decode_object(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return fail(Error::invalid_argument("audit entry: not a JSON object"));
  }
  if (j.value("v", 0) != kVersionObject) {
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

// Reads a version 2 array's elements in order; the first wrong type or missing element marks
// the whole decode as failed.
class Fields {
 public:
  explicit Fields(const rapidjson::Value& array) : array_(array) {}
  bool ok() const { return ok_; }
  void text(std::string& out) {
    const rapidjson::Value* v = next();
    if (v == nullptr || !v->IsString()) return failed();
    out.assign(v->GetString(), v->GetStringLength());
  }
  void integer(std::int64_t& out) {
    const rapidjson::Value* v = next();
    if (v == nullptr || !v->IsInt64()) return failed();
    out = v->GetInt64();
  }
  void number(int& out) {
    const rapidjson::Value* v = next();
    if (v == nullptr || !v->IsInt()) return failed();
    out = v->GetInt();
  }
  bool at_end() const { return index_ == array_.Size(); }

 private:
  const rapidjson::Value* next() {
    if (!ok_ || index_ >= array_.Size()) return nullptr;
    return &array_[index_++];
  }
  void failed() { ok_ = false; }
  const rapidjson::Value& array_;
  rapidjson::SizeType index_ = 1;  // after the version
  bool ok_ = true;
};

}  // namespace

std::string encode_entry(const Entry& e) {
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  const auto text = [&w](const std::string& s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartArray();
  w.Int(kVersion);
  w.Int64(e.at);
  text(e.request_id);
  w.Int64(e.user_id);
  text(e.user);
  w.Int64(e.project_id);
  text(e.project);
  text(e.source);
  text(e.method);
  text(e.path);
  text(e.route);
  w.Int64(e.vm);
  text(e.verb);
  text(e.vocabulary);
  w.Int(e.status);
  w.Int(static_cast<int>(e.outcome));
  text(e.message);
  w.EndArray();
  return {out.GetString(), out.GetSize()};
}

Result<Entry> decode_entry(std::string_view text) {
  if (!text.empty() && text.front() == '{') return decode_object(text);
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError() || !d.IsArray() || d.Empty()) {
    return fail(Error::invalid_argument("audit entry: not a JSON array or object"));
  }
  if (!d[0].IsInt() || d[0].GetInt() != kVersion) {
    return fail(Error::invalid_argument("audit entry: unknown version"));
  }
  Entry e;
  Fields f(d);
  f.integer(e.at);
  f.text(e.request_id);
  f.integer(e.user_id);
  f.text(e.user);
  f.integer(e.project_id);
  f.text(e.project);
  f.text(e.source);
  f.text(e.method);
  f.text(e.path);
  f.text(e.route);
  f.integer(e.vm);
  f.text(e.verb);
  f.text(e.vocabulary);
  f.number(e.status);
  int outcome = -1;
  f.number(outcome);
  f.text(e.message);
  if (!f.ok() || !f.at_end()) {
    return fail(Error::invalid_argument("audit entry: a field is missing or of the wrong type"));
  }
  e.outcome = static_cast<Outcome>(outcome);
  if (outcome < 0 || outcome > UINT8_MAX || !outcome_known(e.outcome)) {
    return fail(Error::invalid_argument("audit entry: unknown outcome"));
  }
  return e;
}

}  // namespace corral::audit
