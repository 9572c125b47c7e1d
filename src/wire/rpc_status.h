// Errors across the gRPC boundary: an Error becomes a grpc::Status (controller side) and a
// failed call becomes an Error whose message a person can act on (agent side), in one place.
#pragma once

#include <grpcpp/support/status.h>

#include <string_view>

#include "common/result.h"
#include "wire/credentials.h"

namespace corral::wire {

grpc::Status to_grpc_status(const Error& error);

// `what`: the call, e.g. "join" or "connect". A TLS handshake the controller refused (a
// certificate of another cluster, an expired one) says so, with gRPC's own detail after it.
Error from_grpc_status(const grpc::Status& status, std::string_view what);

// A failed Connect, explained: when gRPC only says the controller is unavailable, a TLS probe
// with the agent's identity (cluster::probe_client_certificate) names the reason, e.g. "the
// controller at 127.0.0.1:7001 refused this agent's certificate (...: tlsv1 alert unknown ca)".
Error explain_connect_failure(const grpc::Status& status, const std::string& host, int port,
                              const AgentIdentity& identity);

}  // namespace corral::wire
