// websocketpp's endpoints over the iostream transport, one connection each. C++17 (see codec.h).
#include "common/websocket/codec.h"

#include <system_error>
#include <utility>
#include <websocketpp/client.hpp>
#include <websocketpp/config/core.hpp>
#include <websocketpp/config/core_client.hpp>
#include <websocketpp/server.hpp>

namespace corral::websocket {
namespace {

constexpr std::size_t kMaxMessageBytes = std::size_t{1} << 20;

websocketpp::frame::opcode::value opcode_of(bool binary) {
  return binary ? websocketpp::frame::opcode::binary : websocketpp::frame::opcode::text;
}

// The handlers every connection gets, whichever side it is on.
template <typename Endpoint, typename Connection>
void wire(Endpoint& endpoint, Connection& con, Callbacks& callbacks) {
  endpoint.clear_access_channels(websocketpp::log::alevel::all);
  endpoint.clear_error_channels(websocketpp::log::elevel::all);
  con->set_max_message_size(kMaxMessageBytes);
  con->set_write_handler(
      [&callbacks](websocketpp::connection_hdl, const char* data, std::size_t size) {
        if (callbacks.write && !callbacks.write(data, size)) {
          return std::make_error_code(std::errc::broken_pipe);
        }
        return std::error_code();
      });
  con->set_message_handler([&callbacks](websocketpp::connection_hdl, auto message) {
    if (callbacks.message) {
      callbacks.message(message->get_payload(),
                        message->get_opcode() == websocketpp::frame::opcode::binary);
    }
  });
  con->set_open_handler([&callbacks](websocketpp::connection_hdl) {
    if (callbacks.open) callbacks.open();
  });
  auto* raw = con.get();
  con->set_close_handler([&callbacks, raw](websocketpp::connection_hdl) {
    if (callbacks.closed) {
      const std::string reason = raw->get_remote_close_reason();
      callbacks.closed("closed (" + std::to_string(raw->get_remote_close_code()) +
                       (reason.empty() ? "" : ": " + reason) + ")");
    }
  });
  con->set_fail_handler([&callbacks, raw](websocketpp::connection_hdl) {
    if (callbacks.closed) callbacks.closed("failed: " + raw->get_ec().message());
  });
}

template <typename Connection>
bool send_on(Connection& con, const std::string& payload, bool binary) {
  if (con->get_state() != websocketpp::session::state::open) return false;
  return !con->send(payload, opcode_of(binary));
}

template <typename Connection>
void close_on(Connection& con, int code, const std::string& reason) {
  if (con->get_state() != websocketpp::session::state::open) return;
  std::error_code ec;
  con->close(static_cast<websocketpp::close::status::value>(code), reason, ec);
}

}  // namespace

struct ServerCodec::Impl {
  using Endpoint = websocketpp::server<websocketpp::config::core>;
  Callbacks callbacks;
  std::string subprotocol;
  Endpoint endpoint;
  Endpoint::connection_ptr con;
};

ServerCodec::ServerCodec(std::string subprotocol, Callbacks callbacks) : impl_(new Impl) {
  impl_->callbacks = std::move(callbacks);
  impl_->subprotocol = std::move(subprotocol);
  Impl* impl = impl_.get();
  impl->con = impl->endpoint.get_connection();
  wire(impl->endpoint, impl->con, impl->callbacks);
  impl->con->set_validate_handler([impl](websocketpp::connection_hdl) {
    const std::vector<std::string>& asked = impl->con->get_requested_subprotocols();
    if (asked.empty()) return true;
    for (const std::string& p : asked) {
      if (p == impl->subprotocol) {
        std::error_code ec;
        impl->con->select_subprotocol(p, ec);
        return !ec;
      }
    }
    impl->con->set_status(websocketpp::http::status_code::bad_request);
    impl->con->set_body("this endpoint speaks the WebSocket subprotocol " + impl->subprotocol);
    return false;
  });
  impl->con->start();
}

ServerCodec::~ServerCodec() = default;

void ServerCodec::feed(const char* data, std::size_t size) { impl_->con->read_all(data, size); }
void ServerCodec::eof() { impl_->con->eof(); }
bool ServerCodec::send(const std::string& payload, bool binary) {
  return send_on(impl_->con, payload, binary);
}
void ServerCodec::close(int code, const std::string& reason) { close_on(impl_->con, code, reason); }
bool ServerCodec::is_open() const {
  return impl_->con->get_state() == websocketpp::session::state::open;
}
bool ServerCodec::is_closed() const {
  return impl_->con->get_state() == websocketpp::session::state::closed;
}

struct ClientCodec::Impl {
  using Endpoint = websocketpp::client<websocketpp::config::core_client>;
  Callbacks callbacks;
  std::string uri;
  std::vector<std::string> subprotocols;
  Endpoint endpoint;
  Endpoint::connection_ptr con;
};

ClientCodec::ClientCodec(std::string uri, std::vector<std::string> subprotocols,
                         Callbacks callbacks)
    : impl_(new Impl) {
  impl_->callbacks = std::move(callbacks);
  impl_->uri = std::move(uri);
  impl_->subprotocols = std::move(subprotocols);
}

ClientCodec::~ClientCodec() = default;

bool ClientCodec::start(std::string& error) {
  Impl* impl = impl_.get();
  std::error_code ec;
  impl->con = impl->endpoint.get_connection(impl->uri, ec);
  if (ec) {
    error = "not a WebSocket URI '" + impl->uri + "': " + ec.message();
    return false;
  }
  wire(impl->endpoint, impl->con, impl->callbacks);
  for (const std::string& p : impl->subprotocols) {
    impl->con->add_subprotocol(p, ec);
    if (ec) {
      error = "not a subprotocol name: " + ec.message();
      return false;
    }
  }
  impl->endpoint.connect(impl->con);
  return true;
}

void ClientCodec::feed(const char* data, std::size_t size) {
  if (impl_->con) impl_->con->read_all(data, size);
}
void ClientCodec::eof() {
  if (impl_->con) impl_->con->eof();
}
bool ClientCodec::send(const std::string& payload, bool binary) {
  return impl_->con && send_on(impl_->con, payload, binary);
}
void ClientCodec::close(int code, const std::string& reason) {
  if (impl_->con) close_on(impl_->con, code, reason);
}
bool ClientCodec::is_open() const {
  return impl_->con && impl_->con->get_state() == websocketpp::session::state::open;
}
bool ClientCodec::is_closed() const {
  return !impl_->con || impl_->con->get_state() == websocketpp::session::state::closed;
}
int ClientCodec::refused_status() const {
  return impl_->con ? static_cast<int>(impl_->con->get_response_code()) : 0;
}
std::string ClientCodec::refused_body() const {
  return impl_->con ? impl_->con->get_response().get_body() : std::string();
}

}  // namespace corral::websocket
