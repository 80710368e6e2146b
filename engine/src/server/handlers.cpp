// handlers.cpp - the token server's routes (TOKEN_SERVER.md §3-§8 and deviations D1-D9).
// Order, as in the reference: router -> no-cache headers -> CORS -> (auth gate) -> handler.
#include "server/handlers.hpp"

#include <exception>

#include "mintlane/builders.hpp"
#include "mintlane/errors.hpp"
#include "mintlane/minter.hpp"
#include "server/metrics.hpp"
#include "server/params.hpp"
#include "server/router.hpp"

namespace mintlane::server {
namespace {

constexpr std::string_view kRtcPrefix = "Error Generating RTC token";
constexpr std::string_view kRtmPrefix = "Error Generating RTM token";
constexpr std::string_view kRtePrefix = "Error Generating RTC and RTM token";
constexpr std::string_view kChatPrefix = "Error Generating Chat token";
constexpr std::size_t kMaxMessage = 400;  // error texts are bounded whatever the input

// Salts from the CSPRNG, 256 per RAND_bytes call and per thread: OpenSSL's RAND_bytes takes a
// lock, which a per-token call would put on every request (DESIGN.md: no lock on the request
// path). The salt is public in the token; only its unpredictability matters, which a block of
// CSPRNG output keeps.
std::uint32_t next_salt() {
  struct Pool {
    std::uint32_t salts[256];
    std::size_t next = 256;
  };
  thread_local Pool pool;
  if (pool.next == 256) {
    random_u32(pool.salts, 256);
    pool.next = 0;
  }
  return pool.salts[pool.next++];
}

enum class Expiry { kOk, kSyntax, kRange };

// §4.1 `expiry` with D3: absent -> 3600; present (even empty) must be a u64 decimal in 1..86400.
Expiry read_expiry(std::string_view query, HandlerScratch& s, std::uint32_t& out) {
  if (!find_query_param(query, "expiry", s.query_value, s.query_key)) {
    out = kDefaultExpiry;
    return Expiry::kOk;
  }
  std::uint64_t v = 0;
  if (!parse_u64(s.query_value, v)) return Expiry::kSyntax;
  if (v < 1 || v > kMaxExpiry) return Expiry::kRange;
  out = static_cast<std::uint32_t>(v);
  return Expiry::kOk;
}

const char* expiry_text(Expiry e) {
  return e == Expiry::kSyntax
             ? ": failed to parse expireTime: expiry must be a decimal integer of seconds"
             : ": expiry must be between 1 and 86400 seconds (tokens live at most 24 h)";
}

// {"<key>":"<prefix><text>","status":<status>} (gin.H sorts its keys).
void json_error(Response& r, std::string_view key, std::string_view prefix, std::string_view text,
                int status = 400) {
  r.status = status;
  r.type = ContentType::kJsonUtf8;
  r.body.append("{\"");
  r.body.append(key);
  r.body.append("\":\"");
  std::string_view all_text = text.substr(0, kMaxMessage);
  append_json_escaped(r.body, prefix);
  append_json_escaped(r.body, all_text);
  r.body.append("\",\"status\":");
  r.body.append(std::to_string(status));
  r.body.push_back('}');
}

// POST /getToken errors: plain text, like Go's http.Error.
void text_error(Response& r, std::string_view text, int status = 400) {
  r.status = status;
  r.type = ContentType::kTextUtf8;
  r.nosniff = true;
  r.body.append(text.substr(0, kMaxMessage));
  r.body.push_back('\n');
}

void token_body(Response& r, std::string_view key, const std::string& token) {
  r.status = 200;
  r.type = ContentType::kJsonUtf8;
  r.body.append("{\"");
  r.body.append(key);
  r.body.append("\":\"");
  r.body.append(token);  // base64: nothing to escape
  r.body.append("\"}");
}

RtcRole to_rtc_role(RoleChoice c) {
  return c == RoleChoice::kPublisher ? RtcRole::kPublisher : RtcRole::kSubscriber;
}

// The RTC part shared by /rtc and /rte (§4.3): tokentype and uid, after channel/role checks.
// Returns false with `msg` set (without the route prefix).
bool build_rtc(std::string_view channel, RoleChoice role, std::string_view tokentype,
               std::string_view uid, std::uint32_t expire, TokenSpec& spec, std::string& msg) {
  if (uid.empty()) uid = "0";
  if (tokentype == "uid") {
    std::uint64_t v = 0;
    if (!parse_u64(uid, v)) {
      msg = "failed to parse uidStr: uid must be a decimal integer in 0..4294967295";
      return false;
    }
    if (v > kMaxUid) {
      msg = "uid must be in 0..4294967295 (a larger number is not a valid uid)";
      return false;
    }
    spec = rtc_uid_spec(channel, static_cast<std::int64_t>(v), to_rtc_role(role), expire);
    return true;
  }
  if (tokentype == "userAccount") {
    msg = name_problem(uid, "userAccount", kMaxAccount, false);
    if (!msg.empty()) return false;
    spec = rtc_account_spec(channel, uid, to_rtc_role(role), expire);
    return true;
  }
  msg = "failed to generate RTC token for Unknown Tokentype: expected uid or userAccount";
  return false;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c == 0x7f) {
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
}

Handlers::Handlers(const Minter& minter, const HandlerConfig& config, const Metrics* metrics,
                   const ConnectionStats* connections)
    : minter_(minter),
      cors_(config.cors_allow_origin),
      auth_token_(config.auth_token.value_or(std::string{})),
      allow_headers_(config.auth_token && !config.auth_token->empty()
                         ? "Origin, Content-Type, Authorization"
                         : "Origin, Content-Type"),
      body_limit_(config.body_limit),
      metrics_route_(config.metrics_route),
      metrics_(metrics),
      connections_(connections) {}

void Handlers::http_error(int status, Response& r) const {
  r.clear();
  r.status = status;
  r.route = RouteId::kBadRequest;
  r.close = true;
  if (status == 413) {
    r.type = ContentType::kJsonUtf8;
    r.body.append("{\"error\":\"request body is larger than ");
    r.body.append(std::to_string(body_limit_));
    r.body.append(" bytes\",\"status\":413}");
    return;
  }
  r.type = ContentType::kTextUtf8;
  r.body.append(std::to_string(status));
  r.body.push_back(' ');
  r.body.append(reason_phrase(status));
}

bool Handlers::authorized(std::optional<std::string_view> authorization) const noexcept {
  if (auth_token_.empty()) return true;
  if (!authorization) return false;
  std::string_view v = trim_blank(*authorization);
  if (v.size() < 7 || !iequals_ascii(v.substr(0, 6), "bearer") || v[6] != ' ') return false;
  std::string_view token = trim_blank(v.substr(7));
  // Constant time in the token's contents (the length of the secret is not hidden).
  unsigned diff = token.size() == auth_token_.size() ? 0u : 1u;
  for (std::size_t i = 0; i < auth_token_.size(); ++i) {
    const char got = i < token.size() ? token[i] : '\0';
    diff |= static_cast<unsigned char>(got ^ auth_token_[i]);
  }
  return diff == 0;
}

void Handlers::handle(const RequestView& req, Response& r, HandlerScratch& s) const noexcept {
  r.clear();
  try {
    if (req.body_too_large) {
      http_error(413, r);
      return;
    }
    RouteMatch m = match_route(req.method, req.target, metrics_route_, s.decoded_path, r.location);
    if (m.kind == RouteMatch::Kind::kBadTarget) {
      r.location.clear();
      http_error(400, r);
      return;
    }
    r.route = m.route;
    r.no_cache = true;
    // CORS (§7, D7): refused origins never reach a handler.
    const CorsPolicy::Decision d = cors_.check(req.origin);
    if (d == CorsPolicy::Decision::kRefused) {
      r.location.clear();
      r.status = 403;
      r.type = ContentType::kJsonUtf8;
      r.body.append("{\"error\":\"Origin not allowed\"}");
      return;
    }
    r.cors = true;
    r.allow_headers = allow_headers_;
    if (d == CorsPolicy::Decision::kAllowed) r.allow_origin = *req.origin;
    if (req.method == Method::kOptions) {
      r.route = RouteId::kPreflight;
      r.status = 204;
      return;
    }
    switch (m.kind) {
      case RouteMatch::Kind::kRedirect:
        r.status = req.method == Method::kGet ? 301 : 307;
        return;
      case RouteMatch::Kind::kNotFound:
      case RouteMatch::Kind::kBadTarget:
        r.status = 404;
        r.type = ContentType::kTextPlain;
        r.body.append("404 page not found");
        return;
      case RouteMatch::Kind::kRoute:
        break;
    }
    if (m.route != RouteId::kPing && !authorized(req.authorization)) {
      r.status = 401;
      r.type = ContentType::kJsonUtf8;
      r.www_authenticate = true;
      r.body.append("{\"error\":\"missing or wrong bearer token\",\"status\":401}");
      return;
    }
    dispatch(req, r, s, m.route, m.params.data(), m.param_count, m.query);
  } catch (const std::exception&) {
    // Only an internal failure (allocation, CSPRNG) lands here; its text is not sent.
    const RouteId route = r.route;
    r.clear();
    r.route = route;
    r.no_cache = true;
    r.status = 500;
    r.type = ContentType::kJsonUtf8;
    r.body.append("{\"error\":\"internal error\",\"status\":500}");
  }
}

void Handlers::dispatch(const RequestView& req, Response& r, HandlerScratch& s, RouteId route,
                        const std::string_view* p, std::size_t n, std::string_view query) const {
  std::string_view prefix;
  try {
    switch (route) {
      case RouteId::kPing:
        r.status = 200;
        r.type = ContentType::kJsonUtf8;
        r.body.append("{\"message\":\"pong\"}");
        return;
      case RouteId::kMetrics:
        r.status = 200;
        r.type = ContentType::kPrometheus;
        if (metrics_ != nullptr) r.body = metrics_->render(connections_);
        return;
      case RouteId::kRtc:
        prefix = kRtcPrefix;
        get_rtc(r, s, p, query);
        return;
      case RouteId::kRtm:
        prefix = kRtmPrefix;
        get_rtm(r, s, p, query);
        return;
      case RouteId::kRte:
        prefix = kRtePrefix;
        get_rte(r, s, p, n, query);
        return;
      case RouteId::kChatApp:
      case RouteId::kChatAccount:
        prefix = kChatPrefix;
        get_chat(r, s, p, route == RouteId::kChatApp, query);
        return;
      case RouteId::kGetToken:
        post_get_token(req, r, s);
        return;
      default:
        r.status = 404;
        r.type = ContentType::kTextPlain;
        r.body.append("404 page not found");
        return;
    }
  } catch (const InvalidArgument& e) {
    // A builder refused an input the server's own checks let through: still a client error.
    r.body.clear();
    if (route == RouteId::kGetToken) {
      text_error(r, e.what());
    } else {
      s.message.assign(" - ");
      s.message.append(e.what());
      json_error(r, "error", prefix, s.message);
    }
  }
}

void Handlers::get_rtc(Response& r, HandlerScratch& s, const std::string_view* p,
                       std::string_view query) const {
  const std::string_view channel = p[0], role_str = p[1], tokentype = p[2], uid = p[3];
  std::uint32_t expire = 0;
  if (Expiry e = read_expiry(query, s, expire); e != Expiry::kOk) {
    return json_error(r, "message", kRtcPrefix, expiry_text(e));
  }
  if (std::string why = name_problem(channel, "channelName", kMaxChannel, true); !why.empty()) {
    return json_error(r, "message", kRtcPrefix, ": " + why);
  }
  const RoleChoice role = parse_role_strict(role_str);
  if (role == RoleChoice::kInvalid) {
    return json_error(r, "message", kRtcPrefix, ": role must be publisher, subscriber, 1 or 2");
  }
  TokenSpec spec;
  if (!build_rtc(channel, role, tokentype, uid, expire, spec, s.message)) {
    return json_error(r, "error", kRtcPrefix, " - " + s.message);
  }
  token_body(r, "rtcToken", minter_.mint(spec, next_salt()));
  r.tokens_rtc = 1;
}

void Handlers::get_rtm(Response& r, HandlerScratch& s, const std::string_view* p,
                       std::string_view query) const {
  const std::string_view user = p[0];
  if (user.empty() || user == "0") {
    return json_error(r, "message", kRtmPrefix,
                      user.empty() ? ": invalid RTM User ID: \"\"" : ": invalid RTM User ID: \"0\"");
  }
  std::uint32_t expire = 0;
  if (Expiry e = read_expiry(query, s, expire); e != Expiry::kOk) {
    return json_error(r, "message", kRtmPrefix, expiry_text(e));
  }
  if (std::string why = name_problem(user, "rtmuid", kMaxUserId, false); !why.empty()) {
    return json_error(r, "message", kRtmPrefix, ": invalid RTM User ID: " + why);
  }
  token_body(r, "rtmToken", minter_.mint(rtm_spec(user, expire), next_salt()));
  r.tokens_rtm = 1;
}

void Handlers::get_rte(Response& r, HandlerScratch& s, const std::string_view* p, std::size_t n,
                       std::string_view query) const {
  const std::string_view channel = p[0], role_str = p[1], tokentype = p[2], rtc_uid = p[3];
  std::string_view rtm_uid = n > 4 ? p[4] : std::string_view{};
  std::uint32_t expire = 0;
  if (Expiry e = read_expiry(query, s, expire); e != Expiry::kOk) {
    return json_error(r, "message", kRtePrefix, expiry_text(e));
  }
  // §4.5: an absent RTM id defaults to the RTC uid unless that is empty/"0"; D6: an explicit "0"
  // is refused too.
  if (rtm_uid.empty()) rtm_uid = rtc_uid;
  if (rtm_uid.empty() || rtm_uid == "0") {
    return json_error(r, "message", kRtePrefix,
                      ": failed to parse rtm user ID. Cannot be empty or \"0\"");
  }
  if (std::string why = name_problem(channel, "channelName", kMaxChannel, true); !why.empty()) {
    return json_error(r, "message", kRtePrefix, ": " + why);
  }
  const RoleChoice role = parse_role_strict(role_str);
  if (role == RoleChoice::kInvalid) {
    return json_error(r, "message", kRtePrefix, ": role must be publisher, subscriber, 1 or 2");
  }
  TokenSpec rtc;
  if (!build_rtc(channel, role, tokentype, rtc_uid, expire, rtc, s.message)) {
    return json_error(r, "error", kRtcPrefix, " - " + s.message);
  }
  if (std::string why = name_problem(rtm_uid, "rtmuid", kMaxUserId, false); !why.empty()) {
    return json_error(r, "error", kRtmPrefix, " - invalid RTM User ID: " + why);
  }
  const std::string rtc_token = minter_.mint(rtc, next_salt());
  const std::string rtm_token = minter_.mint(rtm_stream_spec(rtm_uid, channel, expire), next_salt());
  r.status = 200;
  r.type = ContentType::kJsonUtf8;
  r.body.append("{\"rtcToken\":\"");
  r.body.append(rtc_token);
  r.body.append("\",\"rtmToken\":\"");
  r.body.append(rtm_token);
  r.body.append("\"}");
  r.tokens_rtc = 1;
  r.tokens_rtm = 1;
}

void Handlers::get_chat(Response& r, HandlerScratch& s, const std::string_view* p, bool app,
                        std::string_view query) const {
  std::uint32_t expire = 0;
  if (Expiry e = read_expiry(query, s, expire); e != Expiry::kOk) {
    return json_error(r, "message", kChatPrefix, expiry_text(e));
  }
  if (app) {
    token_body(r, "chatToken", minter_.mint(chat_app_spec(expire), next_salt()));
  } else {
    const std::string_view user = p[0];
    if (std::string why = name_problem(user, "chatid", kMaxUserId, false); !why.empty()) {
      return json_error(r, "error", kChatPrefix, ": invalid chat user ID: " + why);
    }
    token_body(r, "chatToken", minter_.mint(chat_user_spec(user, expire), next_salt()));
  }
  r.tokens_chat = 1;
}

void Handlers::post_get_token(const RequestView& req, Response& r, HandlerScratch& s) const {
  TokenRequestBody& b = s.body;
  if (!decode_token_request(req.body, b, s.message)) return text_error(r, s.message);
  // D3: 0/absent -> 3600; 1..86400; negative or larger -> 400.
  auto expire_ok = [&](std::uint32_t& expire) {
    if (b.expire == 0) {
      expire = kDefaultExpiry;
      return true;
    }
    if (b.expire < 0 || static_cast<std::uint64_t>(b.expire) > kMaxExpiry) {
      text_error(r, "invalid: expire must be between 1 and 86400 seconds (0 or absent means 3600)");
      return false;
    }
    expire = static_cast<std::uint32_t>(b.expire);
    return true;
  };
  std::string token;
  std::uint32_t expire = 0;
  if (b.token_type == "rtc") {
    if (b.channel.empty()) return text_error(r, "invalid: missing channel name");
    if (b.uid.empty()) return text_error(r, "invalid: missing user ID or account");
    if (std::string why = name_problem(b.channel, "channel", kMaxChannel, true); !why.empty()) {
      return text_error(r, "invalid: " + why);
    }
    RoleChoice role = RoleChoice::kSubscriber;  // D1: absent role = subscriber
    if (!b.role.empty()) {
      role = parse_role_strict(b.role);
      if (role == RoleChoice::kInvalid) {
        return text_error(r, "invalid: role must be publisher, subscriber, 1 or 2");
      }
    }
    if (!expire_ok(expire)) return;
    TokenSpec spec;
    if (all_digits(b.uid)) {
      // A digit string is a numeric uid (D2: above 4294967295 -> 400, even beyond 64 bits).
      std::uint64_t v = 0;
      if (!parse_u64(b.uid, v) || v > kMaxUid) {
        return text_error(r, "invalid: uid must be in 0..4294967295");
      }
      spec = rtc_uid_spec(b.channel, static_cast<std::int64_t>(v), to_rtc_role(role), expire);
    } else {
      if (std::string why = name_problem(b.uid, "uid", kMaxAccount, false); !why.empty()) {
        return text_error(r, "invalid: " + why);
      }
      spec = rtc_account_spec(b.channel, b.uid, to_rtc_role(role), expire);
    }
    token = minter_.mint(spec, next_salt());
    r.tokens_rtc = 1;
  } else if (b.token_type == "rtm") {
    if (b.uid.empty()) return text_error(r, "invalid: missing user ID or account");
    if (std::string why = name_problem(b.uid, "uid", kMaxUserId, false); !why.empty()) {
      return text_error(r, "invalid: " + why);
    }
    if (!b.channel.empty()) {
      if (std::string why = name_problem(b.channel, "channel", kMaxChannel, true); !why.empty()) {
        return text_error(r, "invalid: " + why);
      }
    }
    if (!expire_ok(expire)) return;
    token = minter_.mint(b.channel.empty() ? rtm_spec(b.uid, expire)
                                           : rtm_stream_spec(b.uid, b.channel, expire),
                         next_salt());
    r.tokens_rtm = 1;
  } else if (b.token_type == "chat") {
    if (!b.uid.empty()) {
      if (std::string why = name_problem(b.uid, "uid", kMaxUserId, false); !why.empty()) {
        return text_error(r, "invalid: " + why);
      }
    }
    if (!expire_ok(expire)) return;
    token = minter_.mint(b.uid.empty() ? chat_app_spec(expire) : chat_user_spec(b.uid, expire),
                         next_salt());
    r.tokens_chat = 1;
  } else {
    return text_error(r, "Unsupported tokenType");
  }
  r.status = 200;
  r.type = ContentType::kJson;
  r.body.append("{\"token\":\"");
  r.body.append(token);
  r.body.append("\"}\n");
}

}  // namespace mintlane::server
