// message.cpp - HTTP/1.1 response serialization for the token server (RFC 9112 §4, RFC 9110 §5.6.7).
#include "server/message.hpp"

#include <charconv>
#include <ctime>

namespace mintlane::server {

Method method_from_string(std::string_view m) noexcept {
  if (m == "GET") return Method::kGet;
  if (m == "POST") return Method::kPost;
  if (m == "OPTIONS") return Method::kOptions;
  if (m == "HEAD") return Method::kHead;
  return Method::kOther;
}

const char* method_name(Method m) noexcept {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kPost: return "POST";
    case Method::kOptions: return "OPTIONS";
    case Method::kHead: return "HEAD";
    case Method::kOther: break;
  }
  return "OTHER";
}

const char* route_label(RouteId id) noexcept {
  switch (id) {
    case RouteId::kPing: return "ping";
    case RouteId::kRtc: return "rtc";
    case RouteId::kRtm: return "rtm";
    case RouteId::kRte: return "rte";
    case RouteId::kChatApp: return "chat_app";
    case RouteId::kChatAccount: return "chat_account";
    case RouteId::kGetToken: return "get_token";
    case RouteId::kMetrics: return "metrics";
    case RouteId::kPreflight: return "preflight";
    case RouteId::kRedirect: return "redirect";
    case RouteId::kNotFound: return "not_found";
    case RouteId::kBadRequest: return "bad_request";
    case RouteId::kCount: break;
  }
  return "other";
}

const char* content_type_value(ContentType t) noexcept {
  switch (t) {
    case ContentType::kNone: return nullptr;
    case ContentType::kJsonUtf8: return "application/json; charset=utf-8";
    case ContentType::kJson: return "application/json";
    case ContentType::kTextUtf8: return "text/plain; charset=utf-8";
    case ContentType::kTextPlain: return "text/plain";
    case ContentType::kPrometheus: return "text/plain; version=0.0.4; charset=utf-8";
  }
  return nullptr;
}

const char* reason_phrase(int status) noexcept {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

namespace {
void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}
}  // namespace

void write_response(const Response& r, bool keep_alive, std::string_view date, std::string& out) {
  out.append("HTTP/1.1 ");
  append_uint(out, static_cast<std::uint64_t>(r.status));
  out.push_back(' ');
  out.append(reason_phrase(r.status));
  out.append("\r\n");
  if (r.no_cache) {
    out.append(
        "Cache-Control: private, no-cache, no-store, must-revalidate\r\n"
        "Expires: 0\r\n"
        "Pragma: no-cache\r\n");
  }
  if (r.cors) {
    if (!r.allow_origin.empty()) {
      out.append("Access-Control-Allow-Origin: ");
      out.append(r.allow_origin);
      out.append("\r\n");
    }
    out.append("Access-Control-Allow-Methods: GET, POST, OPTIONS\r\nAccess-Control-Allow-Headers: ");
    out.append(r.allow_headers);
    out.append("\r\n");
  }
  if (r.no_cache || r.cors) out.append("Vary: Origin\r\n");
  if (!r.location.empty()) {
    out.append("Location: ");
    out.append(r.location);
    out.append("\r\n");
  }
  if (r.nosniff) out.append("X-Content-Type-Options: nosniff\r\n");
  if (r.www_authenticate) out.append("WWW-Authenticate: Bearer\r\n");
  if (const char* ct = content_type_value(r.type)) {
    out.append("Content-Type: ");
    out.append(ct);
    out.append("\r\n");
  }
  if (!date.empty()) {
    out.append("Date: ");
    out.append(date);
    out.append("\r\n");
  }
  if (!keep_alive || r.close) out.append("Connection: close\r\n");
  if (r.status != 204 && r.status != 304 && !(r.status >= 100 && r.status < 200)) {
    out.append("Content-Length: ");
    append_uint(out, r.body.size());
    out.append("\r\n\r\n");
    out.append(r.body);
  } else {
    out.append("\r\n");
  }
}

std::size_t format_http_date(std::int64_t unix_seconds, char* buf) noexcept {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  auto two = [](char* p, int v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  char* p = buf;
  for (const char* s = kDays[tm.tm_wday]; *s; ++s) *p++ = *s;
  *p++ = ',';
  *p++ = ' ';
  two(p, tm.tm_mday);
  p += 2;
  *p++ = ' ';
  for (const char* s = kMonths[tm.tm_mon]; *s; ++s) *p++ = *s;
  *p++ = ' ';
  int year = tm.tm_year + 1900;
  two(p, (year / 100) % 100);
  two(p + 2, year % 100);
  p += 4;
  *p++ = ' ';
  two(p, tm.tm_hour);
  p += 2;
  *p++ = ':';
  two(p, tm.tm_min);
  p += 2;
  *p++ = ':';
  two(p, tm.tm_sec);
  p += 2;
  for (const char* s = " GMT"; *s; ++s) *p++ = *s;
  return static_cast<std::size_t>(p - buf);
}

}  // namespace mintlane::server
