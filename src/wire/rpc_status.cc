#include "wire/rpc_status.h"

#include <string>

#include "cluster/tls_dial.h"

namespace corral::wire {

grpc::Status to_grpc_status(const Error& error) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (error.code) {
    case ErrorCode::kInvalidState:
    case ErrorCode::kConflict:
    case ErrorCode::kLocked:
      code = grpc::StatusCode::FAILED_PRECONDITION;
      break;
    case ErrorCode::kUnknownAction:
    case ErrorCode::kInvalidArgument:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case ErrorCode::kNotFound:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case ErrorCode::kUnavailable:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case ErrorCode::kInternal:
      code = grpc::StatusCode::INTERNAL;
      break;
    case ErrorCode::kTooLarge:
    case ErrorCode::kRateLimited:
    case ErrorCode::kQuotaExceeded:
      code = grpc::StatusCode::RESOURCE_EXHAUSTED;
      break;
    case ErrorCode::kUnauthenticated:
      code = grpc::StatusCode::UNAUTHENTICATED;
      break;
    case ErrorCode::kForbidden:
      code = grpc::StatusCode::PERMISSION_DENIED;
      break;
  }
  return grpc::Status(code, error.message);
}

namespace {

bool mentions_tls(const std::string& text) {
  for (std::string_view word :
       {"SSL", "ssl", "TLS", "tls", "handshake", "Handshake", "certificate"}) {
    if (text.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

Error from_grpc_status(const grpc::Status& status, std::string_view what) {
  const std::string detail = status.error_message();
  const std::string prefix = std::string(what) + ": ";
  switch (status.error_code()) {
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::UNAUTHENTICATED:
      return Error::invalid_argument(prefix + detail);
    case grpc::StatusCode::NOT_FOUND:
      return Error::not_found(prefix + detail);
    case grpc::StatusCode::UNAVAILABLE:
      if (mentions_tls(detail)) {
        return Error{ErrorCode::kUnavailable,
                     prefix +
                         "the TLS handshake with the controller failed: its certificate is not "
                         "from this agent's cluster CA, or it refused this agent's certificate "
                         "(not signed by its cluster CA, expired, or missing); re-join with a new "
                         "token from `corral host add` (" +
                         detail + ")",
                     {},
                     {}};
      }
      return Error{ErrorCode::kUnavailable,
                   prefix + "the controller is unreachable (" + detail + ")",
                   {},
                   {}};
    default:
      return Error::internal(prefix + detail + " (gRPC code " +
                             std::to_string(static_cast<int>(status.error_code())) + ")");
  }
}

Error explain_connect_failure(const grpc::Status& status, const std::string& host, int port,
                              const AgentIdentity& identity) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    Status probe = cluster::probe_client_certificate(host, port, identity.cert_pem,
                                                     identity.key_pem, identity.ca_pem);
    if (!probe) {
      Error error = probe.error();
      error.message = "connect: " + error.message + " (gRPC: " + status.error_message() + ")";
      return error;
    }
  }
  return from_grpc_status(status, "connect");
}

}  // namespace corral::wire
