// GET /metrics: the registry's text (common/metrics.h), in Prometheus's exposition format.
#include "api/handlers.h"

namespace corral::api::internal {

HandlerResult metrics(Context& ctx, Call& /*call*/) {
  if (ctx.options.metrics == nullptr) {
    return failure(Error{ErrorCode::kUnavailable, "this server keeps no metrics", {}, {}});
  }
  Reply reply;
  reply.raw = ctx.options.metrics->render();
  reply.content_type = std::string(kMetricsContentType);
  return reply;
}

}  // namespace corral::api::internal
