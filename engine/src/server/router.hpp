// router.hpp - request-target parsing and route matching with the reference's observable rules
// (TOKEN_SERVER.md §3.1): percent-decoded paths split on '/', empty segments are empty
// parameters, trailing-slash redirects (301 for GET, 307 otherwise), no 405, HEAD is 404.
#pragma once
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "server/message.hpp"
#include "server/route_id.hpp"

namespace mintlane::server {

struct RouteMatch {
  enum class Kind { kRoute, kRedirect, kNotFound, kBadTarget };
  Kind kind = Kind::kNotFound;
  RouteId route = RouteId::kNotFound;
  std::array<std::string_view, 5> params{};  // views into the caller's decoded-path buffer
  std::size_t param_count = 0;
  std::string_view query;                    // raw query string after '?', without the '?'
};

// Percent-decodes `in` (path rules: '+' stays '+'). Returns false on a malformed escape.
bool percent_decode_path(std::string_view in, std::string& out);

// Query-string decoding of one key or value ('+' is a space). Returns false on a bad escape.
bool percent_decode_query(std::string_view in, std::string& out);

// Looks up `key` in a raw query string with Go's url.ParseQuery rules: pairs split on '&',
// pairs containing ';' or with a bad escape ignored, first occurrence wins. `scratch` receives
// decoded keys. Returns true and the decoded value in `value` when present.
bool find_query_param(std::string_view query, std::string_view key, std::string& value,
                      std::string& scratch);

// Splits the request-target into path and query (absolute-form targets lose scheme and
// authority), percent-decodes the path into `decoded` and matches it. For a redirect,
// `location` receives the target of the Location header (raw path +/- '/', then "?query").
// `metrics_route` enables GET /metrics.
RouteMatch match_route(Method method, std::string_view target, bool metrics_route,
                       std::string& decoded, std::string& location);

}  // namespace mintlane::server
