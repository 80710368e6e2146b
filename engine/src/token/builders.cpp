// builders.cpp - Agora's documented input rules (TOKEN_FORMAT.md §6) and the builder layouts of
// §4 (services, privileges and expiries exactly as the python3/C++/Go references write them).
#include "mintlane/builders.hpp"

#include <openssl/evp.h>

#include <ctime>
#include <string>

#include "mintlane/errors.hpp"
#include "token/spec_detail.hpp"
#include "token/text.hpp"

namespace mintlane {

namespace {

// The 89 characters Agora allows in channel names and user accounts (§6), plus '*' for channels.
constexpr std::string_view kAgoraPunct = " !#$%&()+-:;<=.>?@[]^_{}|~,";
constexpr std::string_view kRuleText = "a-z A-Z 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~,";

bool agora_char(unsigned char c, bool allow_star) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  if (allow_star && c == '*') return true;
  return c != 0 && kAgoraPunct.find(static_cast<char>(c)) != std::string_view::npos;
}

[[noreturn]] void bad(std::string_view field, const std::string& what) {
  throw InvalidArgument(std::string(field), std::string(field) + ": " + what);
}

void check_charset(std::string_view value, std::string_view field, bool allow_star, const char* noun) {
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (!agora_char(c, allow_star))
      bad(field, token::describe_byte(c) + " at byte " + std::to_string(i) + " is not allowed (Agora " + noun +
                     " use " + std::string(kRuleText) + (allow_star ? ", plus '*' as a wildcard)" : ")"));
  }
}

// Valid UTF-8 without control characters.
void check_utf8_text(std::string_view v, std::string_view field) {
  for (std::size_t i = 0; i < v.size();) {
    const auto c = static_cast<unsigned char>(v[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) { len = 1; cp = c; }
    else if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
    else bad(field, "invalid UTF-8 " + token::describe_byte(c) + " at byte " + std::to_string(i));
    if (i + len > v.size()) bad(field, "truncated UTF-8 sequence at byte " + std::to_string(i));
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(v[i + k]);
      if ((cc & 0xc0) != 0x80) bad(field, "invalid UTF-8 sequence at byte " + std::to_string(i));
      cp = (cp << 6) | (cc & 0x3f);
    }
    const bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      bad(field, "invalid UTF-8 sequence at byte " + std::to_string(i));
    if (cp < 0x20 || cp == 0x7f) bad(field, "control character " + token::describe_byte(c) + " at byte " + std::to_string(i) + " is not allowed");
    i += len;
  }
}

std::string iso_date(std::int64_t ts) {
  const std::time_t t = static_cast<std::time_t>(ts);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

void check_channel(std::string_view channel, std::string_view field) {
  if (channel.empty()) bad(field, "must not be empty (1 to 64 bytes)");
  if (channel.size() > kMaxChannelBytes)
    bad(field, std::to_string(channel.size()) + " bytes is too long (at most 64 bytes)");
  check_charset(channel, field, true, "channel names");
}

void check_account(std::string_view account, std::string_view field, std::size_t max_bytes) {
  if (account.empty()) bad(field, "must not be empty (1 to " + std::to_string(max_bytes) + " bytes)");
  if (account.size() > max_bytes)
    bad(field, std::to_string(account.size()) + " bytes is too long (at most " + std::to_string(max_bytes) + " bytes)");
  check_charset(account, field, false, "user accounts");
}

std::uint32_t check_uid(std::int64_t uid, std::string_view field) {
  if (uid < 0 || uid > 0xffffffffLL)
    bad(field, std::to_string(uid) + " is out of range (a uid is 0..4294967295; 0 means any user)");
  return static_cast<std::uint32_t>(uid);
}

std::uint32_t check_expire(std::int64_t seconds, std::string_view field) {
  if (seconds < 0) bad(field, "must not be negative, got " + std::to_string(seconds) + " (seconds from now, 1..86400)");
  if (seconds == 0) bad(field, "must be at least 1 second (seconds from now, 1..86400)");
  if (seconds >= 1000000000LL && seconds <= 0xffffffffLL)
    bad(field, std::to_string(seconds) + " looks like an absolute Unix timestamp (" + iso_date(seconds) +
                   "); 007 expiries are seconds from now, e.g. 3600 for one hour (at most 86400)");
  if (seconds > kMaxExpireSeconds)
    bad(field, std::to_string(seconds) + " seconds is over the 24-hour maximum (at most 86400 seconds from now)");
  return static_cast<std::uint32_t>(seconds);
}

std::uint32_t check_privilege_expire(std::int64_t seconds, std::string_view field) {
  if (seconds == 0) return 0;
  return check_expire(seconds, field);
}

RtcRole parse_role(std::string_view role, std::string_view field) {
  std::string lower;
  for (char c : role.substr(0, 16)) lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  if (role.size() <= 16) {
    if (lower == "publisher" || lower == "1") return RtcRole::kPublisher;
    if (lower == "subscriber" || lower == "2") return RtcRole::kSubscriber;
  }
  bad(field, "unknown role \"" + token::printable_prefix(role, 32) + "\" (use \"publisher\"/1 or \"subscriber\"/2)");
}

RtcRole check_role(std::int64_t role, std::string_view field) {
  if (role == 1) return RtcRole::kPublisher;
  if (role == 2) return RtcRole::kSubscriber;
  bad(field, "unknown role " + std::to_string(role) + " (use 1/\"publisher\" or 2/\"subscriber\")");
}

void check_text(std::string_view value, std::string_view field, std::size_t min_bytes, std::size_t max_bytes) {
  if (value.size() < min_bytes) bad(field, "must not be empty");
  if (value.size() > max_bytes)
    bad(field, std::to_string(value.size()) + " bytes is too long (at most " + std::to_string(max_bytes) + " bytes)");
  check_utf8_text(value, field);
}

std::string md5_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr) != 1)
    throw std::runtime_error("md5: OpenSSL EVP_Digest failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * len, '\0');
  for (unsigned i = 0; i < len; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

// ---- layouts -----------------------------------------------------------------
namespace detail {

namespace {
Service rtc_service(std::string_view channel, std::string_view user, RtcRole role, std::uint32_t pe) {
  Service s = Service::rtc(std::string(channel), std::string(user));
  s.set_privilege(privilege::kRtcJoinChannel, pe);
  if (role == RtcRole::kPublisher) {
    s.set_privilege(privilege::kRtcPublishAudio, pe);
    s.set_privilege(privilege::kRtcPublishVideo, pe);
    s.set_privilege(privilege::kRtcPublishData, pe);
  }
  return s;
}
Service rtc_service4(std::string_view channel, std::string_view user, std::uint32_t join, std::uint32_t audio,
                     std::uint32_t video, std::uint32_t data, bool publish) {
  Service s = Service::rtc(std::string(channel), std::string(user));
  s.set_privilege(privilege::kRtcJoinChannel, join);
  if (publish) {
    s.set_privilege(privilege::kRtcPublishAudio, audio);
    s.set_privilege(privilege::kRtcPublishVideo, video);
    s.set_privilege(privilege::kRtcPublishData, data);
  }
  return s;
}
Service rtm_service(std::string_view user, std::uint32_t login) {
  Service s = Service::rtm(std::string(user));
  s.set_privilege(privilege::kRtmLogin, login);
  return s;
}
}  // namespace

TokenSpec rtc(std::string_view channel, std::string_view user, RtcRole role, std::uint32_t expire,
              std::uint32_t privilege_expire) {
  return {expire, {rtc_service(channel, user, role, privilege_expire)}};
}
TokenSpec rtc_privileges(std::string_view channel, std::string_view user, std::uint32_t expire, std::uint32_t join,
                         std::uint32_t audio, std::uint32_t video, std::uint32_t data) {
  return {expire, {rtc_service4(channel, user, join, audio, video, data, true)}};
}
TokenSpec rtc_rtm(std::string_view channel, std::string_view account, RtcRole role, std::uint32_t expire,
                  std::uint32_t privilege_expire) {
  return {expire, {rtc_service(channel, account, role, privilege_expire), rtm_service(account, expire)}};
}
TokenSpec rtc_rtm2(std::string_view channel, std::string_view rtc_account, RtcRole role, std::uint32_t rtc_expire,
                   std::uint32_t join, std::uint32_t audio, std::uint32_t video, std::uint32_t data,
                   std::string_view rtm_user_id, std::uint32_t rtm_expire) {
  return {rtc_expire,
          {rtc_service4(channel, rtc_account, join, audio, video, data, role == RtcRole::kPublisher),
           rtm_service(rtm_user_id, rtm_expire)}};
}
TokenSpec rtm(std::string_view user_id, std::uint32_t expire) { return {expire, {rtm_service(user_id, expire)}}; }
TokenSpec rtm_stream(std::string_view user_id, std::string_view channel, std::uint32_t expire) {
  TokenSpec spec{expire, {rtm_service(user_id, expire)}};
  if (!channel.empty()) {
    Service s = Service::rtc(std::string(channel), std::string(user_id));
    s.set_privilege(privilege::kRtcJoinChannel, expire);
    s.set_privilege(privilege::kRtcPublishData, expire);
    spec.services.push_back(std::move(s));
  }
  return spec;
}
TokenSpec rtm2(std::string_view user_id, const std::vector<Rtm2Grant>& permissions, std::uint32_t expire) {
  Service s = Service::rtm2(std::string(user_id));
  s.set_privilege(privilege::kRtm2Login, expire);
  for (const Rtm2Grant& g : permissions) s.set_permission(g.resource_type, g.permission_type, g.resources);
  return {expire, {std::move(s)}};
}
TokenSpec chat_user(std::string_view user_id, std::uint32_t expire) {
  Service s = Service::chat(std::string(user_id));
  s.set_privilege(privilege::kChatUser, expire);
  return {expire, {std::move(s)}};
}
TokenSpec chat_app(std::uint32_t expire) {
  Service s = Service::chat("");
  s.set_privilege(privilege::kChatApp, expire);
  return {expire, {std::move(s)}};
}
TokenSpec apaas_room_user(std::string_view room_uuid, std::string_view user_uuid, std::int16_t role,
                          std::uint32_t expire) {
  Service a = Service::apaas(std::string(room_uuid), std::string(user_uuid), role);
  a.set_privilege(privilege::kApaasRoomUser, expire);
  Service c = Service::chat(md5_hex(user_uuid));
  c.set_privilege(privilege::kChatUser, expire);
  return {expire, {std::move(a), rtm_service(user_uuid, expire), std::move(c)}};
}
TokenSpec apaas_user(std::string_view user_uuid, std::uint32_t expire) {
  Service a = Service::apaas("", std::string(user_uuid), -1);
  a.set_privilege(privilege::kApaasUser, expire);
  return {expire, {std::move(a)}};
}
TokenSpec apaas_app(std::uint32_t expire) {
  Service a = Service::apaas("", "", -1);
  a.set_privilege(privilege::kApaasApp, expire);
  return {expire, {std::move(a)}};
}
TokenSpec fpa() {
  Service s = Service::fpa();
  s.set_privilege(privilege::kFpaLogin, 0);  // §4.5: login is always 0 and the expire 24 h
  return {86400, {std::move(s)}};
}
TokenSpec agent(std::uint16_t agent_type, std::string_view channel, std::string_view rtc_account, RtcRole role,
                std::uint32_t rtc_expire, std::uint32_t join, std::uint32_t audio, std::uint32_t video,
                std::uint32_t data, std::string_view rtm_user_id, std::uint32_t rtm_expire) {
  TokenSpec spec = rtc_rtm2(channel, rtc_account, role, rtc_expire, join, audio, video, data, rtm_user_id, rtm_expire);
  Service bare;
  bare.type = agent_type;  // a bare record: type + empty privilege map (§2.4)
  spec.services.push_back(std::move(bare));
  return spec;
}

}  // namespace detail

// ---- validated builders ------------------------------------------------------------
namespace {
std::uint32_t priv_or_expire(std::int64_t pe, std::uint32_t expire, std::string_view field) {
  return pe < 0 ? expire : check_privilege_expire(pe, field);
}
void check_user_or_wildcard(std::string_view user, std::string_view field) {
  if (!user.empty()) check_account(user, field);
}
void check_rtm_user(std::string_view user, std::string_view field, std::size_t max_bytes = kMaxUserIdBytes) {
  check_account(user, field, max_bytes);
}
}  // namespace

TokenSpec rtc_uid_spec(std::string_view channel, std::int64_t uid, RtcRole role, std::int64_t expire,
                       std::int64_t privilege_expire) {
  check_channel(channel);
  const std::uint32_t u = check_uid(uid);
  const std::uint32_t e = check_expire(expire);
  return detail::rtc(channel, uid_string(u), role, e, priv_or_expire(privilege_expire, e, "privilege_expire"));
}

TokenSpec rtc_account_spec(std::string_view channel, std::string_view account, RtcRole role, std::int64_t expire,
                           std::int64_t privilege_expire) {
  check_channel(channel);
  check_account(account);
  const std::uint32_t e = check_expire(expire);
  return detail::rtc(channel, account, role, e, priv_or_expire(privilege_expire, e, "privilege_expire"));
}

TokenSpec rtc_privileges_spec(std::string_view channel, std::string_view user, std::int64_t expire, std::int64_t join,
                              std::int64_t audio, std::int64_t video, std::int64_t data) {
  check_channel(channel);
  check_user_or_wildcard(user, "account");
  return detail::rtc_privileges(channel, user, check_expire(expire),
                                check_privilege_expire(join, "join_channel_privilege_expire"),
                                check_privilege_expire(audio, "pub_audio_privilege_expire"),
                                check_privilege_expire(video, "pub_video_privilege_expire"),
                                check_privilege_expire(data, "pub_data_stream_privilege_expire"));
}

TokenSpec rtc_rtm_spec(std::string_view channel, std::string_view account, RtcRole role, std::int64_t expire,
                       std::int64_t privilege_expire) {
  check_channel(channel);
  check_account(account);
  const std::uint32_t e = check_expire(expire);
  return detail::rtc_rtm(channel, account, role, e, priv_or_expire(privilege_expire, e, "privilege_expire"));
}

TokenSpec rtc_rtm2_spec(std::string_view channel, std::string_view rtc_account, RtcRole role, std::int64_t rtc_expire,
                        std::int64_t join, std::int64_t audio, std::int64_t video, std::int64_t data,
                        std::string_view rtm_user_id, std::int64_t rtm_expire) {
  check_channel(channel);
  check_user_or_wildcard(rtc_account, "rtc_account");
  check_rtm_user(rtm_user_id, "rtm_user_id", kMaxAccountBytes);
  return detail::rtc_rtm2(channel, rtc_account, role, check_expire(rtc_expire, "rtc_expire"),
                          check_privilege_expire(join, "join_channel_privilege_expire"),
                          check_privilege_expire(audio, "pub_audio_privilege_expire"),
                          check_privilege_expire(video, "pub_video_privilege_expire"),
                          check_privilege_expire(data, "pub_data_stream_privilege_expire"), rtm_user_id,
                          check_expire(rtm_expire, "rtm_expire"));
}

TokenSpec rtm_spec(std::string_view user_id, std::int64_t expire) {
  check_rtm_user(user_id, "user_id");
  return detail::rtm(user_id, check_expire(expire));
}

TokenSpec rtm_stream_spec(std::string_view user_id, std::string_view channel, std::int64_t expire) {
  check_rtm_user(user_id, "user_id");
  if (!channel.empty()) check_channel(channel);
  return detail::rtm_stream(user_id, channel, check_expire(expire));
}

TokenSpec rtm2_spec(std::string_view user_id, const std::vector<Rtm2Grant>& permissions, std::int64_t expire) {
  check_rtm_user(user_id, "user_id");
  for (const Rtm2Grant& g : permissions) {
    if (g.resource_type > 4)
      bad("permissions", "resource type " + std::to_string(g.resource_type) +
                             " is unknown (0 message channels, 1 stream channels, 2 group channels, 3 server groups, 4 users)");
    if (g.permission_type > 1)
      bad("permissions", "permission type " + std::to_string(g.permission_type) + " is unknown (0 read, 1 write)");
    if (g.resources.size() > 0xffff) bad("permissions", "at most 65535 resources per permission");
    for (const std::string& r : g.resources) check_text(r, "permissions", 1, 255);
  }
  return detail::rtm2(user_id, permissions, check_expire(expire));
}

TokenSpec chat_user_spec(std::string_view user_id, std::int64_t expire) {
  check_rtm_user(user_id, "user_id");
  return detail::chat_user(user_id, check_expire(expire));
}

TokenSpec chat_app_spec(std::int64_t expire) { return detail::chat_app(check_expire(expire)); }

TokenSpec apaas_room_user_spec(std::string_view room_uuid, std::string_view user_uuid, std::int64_t role,
                               std::int64_t expire) {
  check_text(room_uuid, "room_uuid", 1, kMaxAccountBytes);
  check_text(user_uuid, "user_uuid", 1, kMaxAccountBytes);
  if (role < -32768 || role > 32767) bad("role", std::to_string(role) + " is out of range (an APaaS role is a signed 16-bit integer)");
  return detail::apaas_room_user(room_uuid, user_uuid, static_cast<std::int16_t>(role), check_expire(expire));
}

TokenSpec apaas_user_spec(std::string_view user_uuid, std::int64_t expire) {
  check_text(user_uuid, "user_uuid", 1, kMaxAccountBytes);
  return detail::apaas_user(user_uuid, check_expire(expire));
}

TokenSpec apaas_app_spec(std::int64_t expire) { return detail::apaas_app(check_expire(expire)); }

TokenSpec fpa_spec() { return detail::fpa(); }

TokenSpec agent_spec(std::uint16_t agent_type, std::string_view channel, std::string_view rtc_account, RtcRole role,
                     std::int64_t rtc_expire, std::int64_t join, std::int64_t audio, std::int64_t video,
                     std::int64_t data, std::string_view rtm_user_id, std::int64_t rtm_expire) {
  if (agent_type != kServiceConvoAI && agent_type != kServiceStt)
    bad("service_type", "agent tokens are ConvoAI (9) or STT (10), got " + std::to_string(agent_type));
  check_channel(channel);
  check_user_or_wildcard(rtc_account, "rtc_account");
  check_rtm_user(rtm_user_id, "rtm_user_id", kMaxAccountBytes);
  return detail::agent(agent_type, channel, rtc_account, role, check_expire(rtc_expire, "rtc_expire"),
                       check_privilege_expire(join, "join_channel_privilege_expire"),
                       check_privilege_expire(audio, "pub_audio_privilege_expire"),
                       check_privilege_expire(video, "pub_video_privilege_expire"),
                       check_privilege_expire(data, "pub_data_stream_privilege_expire"), rtm_user_id,
                       check_expire(rtm_expire, "rtm_expire"));
}

}  // namespace mintlane
