// route_id.hpp - the route labels used by the router, metrics and the access log.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mintlane::server {

enum class RouteId : std::uint8_t {
  kPing,
  kRtc,
  kRtm,
  kRte,
  kChatApp,
  kChatAccount,
  kGetToken,
  kMetrics,
  kPreflight,   // OPTIONS, answered by the CORS layer
  kRedirect,    // trailing-slash redirect
  kNotFound,    // no route (404)
  kBadRequest,  // the HTTP layer refused the request (400/413/431, 503 when full)
  kCount
};

inline constexpr std::size_t kRouteCount = static_cast<std::size_t>(RouteId::kCount);

// Metric label of a route: "ping", "rtc", ..., "bad_request".
const char* route_label(RouteId id) noexcept;

}  // namespace mintlane::server
