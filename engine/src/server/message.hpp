// message.hpp - the server's request view and response value, and the HTTP/1.1 response writer.
// One Response is reused per connection: clear() keeps the body's capacity, so a steady stream of
// requests causes no allocation here (DESIGN.md "Server").
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/route_id.hpp"

namespace mintlane::server {

enum class Method : std::uint8_t { kGet, kPost, kOptions, kHead, kOther };

// Method from its token (case-sensitive, as HTTP says).
Method method_from_string(std::string_view m) noexcept;
// "GET", "POST", "OPTIONS", "HEAD" or "OTHER" (never the client's text).
const char* method_name(Method m) noexcept;

// What the handlers see of a request. All views must outlive the handle() call.
struct RequestView {
  Method method = Method::kGet;
  std::string_view target;                      // raw request-target
  std::optional<std::string_view> origin;       // first Origin header, if any
  std::optional<std::string_view> authorization;  // first Authorization header, if any
  std::string_view body;
  bool body_too_large = false;                  // the body went over the limit (413)
};

enum class ContentType : std::uint8_t {
  kNone,
  kJsonUtf8,     // application/json; charset=utf-8 (GET routes, 401/403)
  kJson,         // application/json (POST /getToken success, like the reference)
  kTextUtf8,     // text/plain; charset=utf-8 (POST errors, 400 from the HTTP layer)
  kTextPlain,    // text/plain (404 page not found)
  kPrometheus,   // text/plain; version=0.0.4; charset=utf-8
};

const char* content_type_value(ContentType t) noexcept;  // nullptr for kNone

struct Response {
  int status = 200;
  ContentType type = ContentType::kNone;
  RouteId route = RouteId::kNotFound;  // for metrics and the access log
  bool no_cache = false;         // Cache-Control / Expires / Pragma (§3.2)
  bool cors = false;             // Access-Control-Allow-Methods / -Headers (§7)
  bool nosniff = false;          // X-Content-Type-Options: nosniff (POST errors)
  bool www_authenticate = false; // WWW-Authenticate: Bearer (401)
  bool close = false;            // Connection: close after this response
  std::string_view allow_origin;   // echoed Origin; empty = no Access-Control-Allow-Origin
  std::string_view allow_headers;  // value of Access-Control-Allow-Headers
  std::string location;            // Location (redirects)
  std::string body;
  std::uint8_t tokens_rtc = 0, tokens_rtm = 0, tokens_chat = 0;  // minted for this response

  void clear() noexcept {
    status = 200;
    type = ContentType::kNone;
    route = RouteId::kNotFound;
    no_cache = cors = nosniff = www_authenticate = close = false;
    allow_origin = {};
    allow_headers = {};
    location.clear();
    body.clear();
    tokens_rtc = tokens_rtm = tokens_chat = 0;
  }
};

// Reason phrase for the statuses this server sends ("Unknown" otherwise).
const char* reason_phrase(int status) noexcept;

// Appends the full HTTP/1.1 response (status line, headers, Content-Length, body) to `out`.
// `date` is an IMF-fixdate or empty (no Date header). `keep_alive` false adds "Connection: close".
void write_response(const Response& r, bool keep_alive, std::string_view date, std::string& out);

// Fills `buf` (at least 29 chars) with the IMF-fixdate of `unix_seconds`; returns its length.
std::size_t format_http_date(std::int64_t unix_seconds, char* buf) noexcept;

}  // namespace mintlane::server
