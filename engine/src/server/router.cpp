// router.cpp - request-target parsing and route matching (TOKEN_SERVER.md §1, §3.1).
#include "server/router.hpp"

namespace mintlane::server {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;  // needs two hex digits
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

constexpr std::size_t kMaxSegments = 8;  // the longest route has 7

// Matches decoded segments against the route table for `method`.
bool match_segments(Method method, const std::string_view* seg, std::size_t n, bool metrics_route,
                    RouteMatch& m) {
  auto take = [&](std::size_t first, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) m.params[i] = seg[first + i];
    m.param_count = count;
  };
  if (method == Method::kPost) {
    if (n == 1 && seg[0] == "getToken") {
      m.route = RouteId::kGetToken;
      m.param_count = 0;
      return true;
    }
    return false;
  }
  if (method != Method::kGet || n == 0) return false;
  const std::string_view head = seg[0];
  if (n == 1) {
    if (head == "ping") {
      m.route = RouteId::kPing;
      m.param_count = 0;
      return true;
    }
    if (metrics_route && head == "metrics") {
      m.route = RouteId::kMetrics;
      m.param_count = 0;
      return true;
    }
    return false;
  }
  if (!seg[n - 1].empty()) return false;  // every token route ends with '/'
  if (head == "rtc" && n == 6) {
    m.route = RouteId::kRtc;
    take(1, 4);
    return true;
  }
  if (head == "rtm" && n == 3) {
    m.route = RouteId::kRtm;
    take(1, 1);
    return true;
  }
  if (head == "rte" && (n == 6 || n == 7)) {
    m.route = RouteId::kRte;
    take(1, n - 2);
    return true;
  }
  if (head == "chat") {
    if (n == 3 && seg[1] == "app") {
      m.route = RouteId::kChatApp;
      m.param_count = 0;
      return true;
    }
    if (n == 4 && seg[1] == "account") {
      m.route = RouteId::kChatAccount;
      take(2, 1);
      return true;
    }
  }
  return false;
}

}  // namespace

bool percent_decode_path(std::string_view in, std::string& out) {
  return percent_decode(in, out, /*plus_is_space=*/false);
}

bool percent_decode_query(std::string_view in, std::string& out) {
  return percent_decode(in, out, /*plus_is_space=*/true);
}

bool find_query_param(std::string_view query, std::string_view key, std::string& value,
                      std::string& scratch) {
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty() || pair.find(';') != std::string_view::npos) continue;
    std::size_t eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (!percent_decode_query(k, scratch)) continue;
    if (scratch != key) continue;
    if (!percent_decode_query(v, value)) continue;
    return true;
  }
  return false;
}

RouteMatch match_route(Method method, std::string_view target, bool metrics_route,
                       std::string& decoded, std::string& location) {
  RouteMatch m;
  // absolute-form (RFC 9112 §3.2.2): drop "scheme://authority".
  if (!target.empty() && target[0] != '/') {
    std::size_t scheme_end = target.find("://");
    if (scheme_end != std::string_view::npos && target.find('/') > scheme_end) {
      std::size_t path_start = target.find_first_of("/?", scheme_end + 3);
      target = path_start == std::string_view::npos ? std::string_view{"/"}
                                                    : target.substr(path_start);
      if (!target.empty() && target[0] == '?') {
        m.query = target.substr(1);
        target = "/";
      }
    }
  }
  std::size_t qmark = target.find('?');
  std::string_view raw_path = target.substr(0, qmark);
  if (qmark != std::string_view::npos) m.query = target.substr(qmark + 1);
  if (!percent_decode_path(raw_path, decoded)) {
    m.kind = RouteMatch::Kind::kBadTarget;
    m.route = RouteId::kBadRequest;
    return m;
  }
  if (decoded.empty() || decoded[0] != '/') return m;  // "*" and the like: not found

  std::string_view segs[kMaxSegments + 1];
  std::size_t n = 0;
  std::string_view rest = std::string_view(decoded).substr(1);
  for (;;) {
    std::size_t slash = rest.find('/');
    if (n == kMaxSegments) return m;  // too many segments for any route
    segs[n++] = rest.substr(0, slash);
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  if (match_segments(method, segs, n, metrics_route, m)) {
    m.kind = RouteMatch::Kind::kRoute;
    return m;
  }
  if (method != Method::kGet && method != Method::kPost) return m;
  // Trailing-slash redirect (Gin RedirectTrailingSlash): with the slash removed or added.
  RouteMatch probe;
  bool redirect = false;
  if (n > 1 && segs[n - 1].empty()) {
    if (match_segments(method, segs, n - 1, metrics_route, probe) && !raw_path.empty() &&
        raw_path.back() == '/') {
      location.assign(raw_path.substr(0, raw_path.size() - 1));
      redirect = true;
    }
  } else if (n < kMaxSegments) {
    segs[n] = std::string_view{};
    if (match_segments(method, segs, n + 1, metrics_route, probe)) {
      location.assign(raw_path);
      location.push_back('/');
      redirect = true;
    }
  }
  if (redirect) {
    if (!m.query.empty()) {
      location.push_back('?');
      location.append(m.query);
    }
    m.kind = RouteMatch::Kind::kRedirect;
    m.route = RouteId::kRedirect;
  }
  return m;
}

}  // namespace mintlane::server
