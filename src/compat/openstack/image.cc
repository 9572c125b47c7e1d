// Glance v2's image list and show over Corral's images (GET /v1/images): the clients resolve
// an image name through them even for `server list`. An image's id is its name.
#include <string>

#include "compat/openstack/front.h"

namespace corral::compat::openstack::internal {

namespace {

using nlohmann::json;

api::FrontReply glance_error(int status, const std::string& message) {
  return json_reply(
      status,
      {{"code", status}, {"title", status == 404 ? "Not Found" : "Error"}, {"message", message}});
}

json image_json(const json& image, const std::string& base) {
  const std::string name = image.value("name", "");
  return {{"id", name},
          {"name", name},
          {"status", "active"},
          {"visibility", "public"},
          {"protected", false},
          {"os_hidden", false},
          {"disk_format", image.value("kind", "raw") == "qcow2" ? "qcow2" : "raw"},
          {"container_format", "bare"},
          {"min_disk", 0},
          {"min_ram", 0},
          {"size", nullptr},
          {"checksum", nullptr},
          {"owner", nullptr},
          {"tags", json::array()},
          {"created_at", "1970-01-01T00:00:00Z"},
          {"updated_at", "1970-01-01T00:00:00Z"},
          {"self", "/v2/images/" + name},
          {"file", "/v2/images/" + name + "/file"},
          {"schema", "/v2/schemas/image"},
          {"links", json::array({{{"rel", "self"}, {"href", base + "/image/v2/images/" + name}}})}};
}

}  // namespace

api::FrontReply image(const api::FrontRequest& req, api::ApiCaller& api) {
  const std::vector<std::string> parts = segments_after(req.path, "/image");
  if (req.method != "GET") return glance_error(405, "only image list and show are served");
  if (parts.empty() || (parts.size() == 1 && parts[0] == "v2")) {
    return json_reply(
        200,
        {{"versions",
          json::array({{{"id", "v2.9"},
                        {"status", "CURRENT"},
                        {"links", json::array({{{"rel", "self"},
                                                {"href", req.base_url + "/image/v2/"}}})}}})}});
  }
  if (parts.size() < 2 || parts[0] != "v2" || parts[1] != "images" || parts.size() > 3) {
    return glance_error(404, "no such endpoint: " + req.path);
  }
  const api::InnerReply r =
      api.call({"GET", "/v1/images", {}, nullptr, req.header("x-auth-token")});
  if (r.status != 200) {
    std::string message = "error";
    if (r.body.is_object() && r.body.contains("error")) {
      message = r.body["error"].value("message", message);
    }
    return glance_error(r.status, message);
  }
  const json images = r.body.value("images", json::array());
  if (parts.size() == 3) {
    for (const json& i : images) {
      if (i.value("name", "") == parts[2]) return json_reply(200, image_json(i, req.base_url));
    }
    return glance_error(404, "No image found with ID " + parts[2]);
  }
  const auto name = req.query.find("name");
  json list = json::array();
  for (const json& i : images) {
    if (name != req.query.end() && i.value("name", "") != name->second) continue;
    list.push_back(image_json(i, req.base_url));
  }
  return json_reply(200,
                    {{"images", list}, {"first", "/v2/images"}, {"schema", "/v2/schemas/images"}});
}

}  // namespace corral::compat::openstack::internal
