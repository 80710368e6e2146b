// verify.cpp - signature (constant time, over the raw signed bytes), expiry, channel, uid and
// privilege checks for 007 and 006 tokens (TOKEN_FORMAT.md §3.2, §5.7).
#include <array>
#include <string>

#include "crypto/hmac.hpp"
#include "mintlane/credentials.hpp"
#include "mintlane/errors.hpp"
#include "mintlane/token.hpp"

namespace mintlane {

namespace token {
std::array<std::uint8_t, 32> signature_006(std::string_view certificate, std::string_view app_id,
                                           std::string_view channel, std::string_view uid,
                                           std::string_view message);
}

const char* verify_status_name(VerifyStatus s) noexcept {
  switch (s) {
    case VerifyStatus::kOk: return "ok";
    case VerifyStatus::kMalformed: return "malformed";
    case VerifyStatus::kBadCertificate: return "bad_certificate";
    case VerifyStatus::kBadAppId: return "bad_app_id";
    case VerifyStatus::kBadSignature: return "bad_signature";
    case VerifyStatus::kExpired: return "expired";
    case VerifyStatus::kPrivilegeExpired: return "privilege_expired";
    case VerifyStatus::kWrongChannel: return "wrong_channel";
    case VerifyStatus::kWrongUid: return "wrong_uid";
    case VerifyStatus::kWrongAccount: return "wrong_account";
    case VerifyStatus::kMissingPrivilege: return "missing_privilege";
  }
  return "unknown";
}

bool channel_matches(std::string_view token_channel, std::string_view channel) noexcept {
  if (token_channel == channel) return true;
  // A token channel ending in '*' grants every channel with that prefix: "Agora*" covers
  // "AgoraChannel" and "AgoraAwesome" but not "AppTest".
  if (!token_channel.empty() && token_channel.back() == '*') {
    const std::string_view prefix = token_channel.substr(0, token_channel.size() - 1);
    return channel.substr(0, prefix.size()) == prefix;
  }
  return false;
}

namespace {

VerifyResult fail(VerifyStatus s, std::string reason) { return {s, std::move(reason)}; }

struct PrivName {
  std::uint16_t type;
  std::uint16_t id;
  const char* name;
};
constexpr PrivName kPrivNames[] = {
    {kServiceRtc, 1, "join_channel"},   {kServiceRtc, 2, "publish_audio"},  {kServiceRtc, 2, "publish_audio_stream"},
    {kServiceRtc, 3, "publish_video"},  {kServiceRtc, 3, "publish_video_stream"},
    {kServiceRtc, 4, "publish_data"},   {kServiceRtc, 4, "publish_data_stream"},
    {kServiceRtm, 1, "login"},          {kServiceStreaming, 1, "publish_mix_stream"},
    {kServiceStreaming, 2, "publish_raw_stream"}, {kServiceFpa, 1, "login"},
    {kServiceChat, 1, "user"},          {kServiceChat, 2, "app"},
    {kServiceFcdn, 1, "publish"},       {kServiceFcdn, 2, "play"},
    {kServiceApaas, 1, "room_user"},    {kServiceApaas, 2, "user"},      {kServiceApaas, 3, "app"},
    {kServiceRtm2, 1, "login"},
};

// Resolves "join_channel" or "rtc.join_channel" against a service type; returns 0 if unknown.
std::uint16_t privilege_id(std::uint16_t type, std::string_view name) {
  const std::size_t dot = name.find('.');
  if (dot != std::string_view::npos) {
    if (name.substr(0, dot) != service_name(type)) return 0;
    name = name.substr(dot + 1);
  }
  for (const PrivName& p : kPrivNames)
    if (p.type == type && name == p.name) return p.id;
  return 0;
}

bool privilege_name_known(std::string_view name) {
  for (std::uint16_t t = 1; t <= 10; ++t)
    if (privilege_id(t, name) != 0) return true;
  return false;
}

// The user string a service is bound to, or nullptr when the type has none.
const std::string* user_field(const Service& s) {
  switch (s.type) {
    case kServiceRtc: case kServiceStreaming: case kServiceFcdn: case kServiceApaas: return &s.fields[1];
    case kServiceRtm: case kServiceChat: case kServiceRtm2: return &s.fields[0];
    default: return nullptr;
  }
}

bool has_channel(const Service& s) {
  return s.type == kServiceRtc || s.type == kServiceStreaming || s.type == kServiceFcdn;
}

}  // namespace

VerifyResult verify_007(const Decoded007& d, std::string_view certificate, const VerifyOptions& o) {
  if (!is_hex32(certificate))
    return fail(VerifyStatus::kBadCertificate, "app_certificate: must be exactly 32 hexadecimal characters");
  if (!is_hex32(d.token.app_id))
    return fail(VerifyStatus::kBadAppId, "the token's app id is not 32 hexadecimal characters");
  if (d.signature.size() != 32)
    return fail(VerifyStatus::kBadSignature,
                "signature field has " + std::to_string(d.signature.size()) + " bytes, expected 32");
  const auto want = sign_007(certificate, d.token.issue_ts, d.token.salt, d.signing_info);
  if (!crypto::equal_ct(want.data(), reinterpret_cast<const std::uint8_t*>(d.signature.data()), 32))
    return fail(VerifyStatus::kBadSignature, "signature does not match (wrong certificate or altered token)");

  const std::uint64_t expires_at = std::uint64_t{d.token.issue_ts} + d.token.expire;
  if (o.now && *o.now > expires_at)
    return fail(VerifyStatus::kExpired, "token expired at " + std::to_string(expires_at) + " (issue_ts " +
                                            std::to_string(d.token.issue_ts) + " + expire " +
                                            std::to_string(d.token.expire) + "); now is " + std::to_string(*o.now));

  if (o.privilege && !privilege_name_known(*o.privilege))
    return fail(VerifyStatus::kMissingPrivilege, "unknown privilege name '" + o.privilege->substr(0, 40) + "'");

  const bool want_user = o.uid.has_value() || o.account.has_value();
  const std::string user = o.uid ? uid_string(*o.uid) : o.account.value_or(std::string());
  if (!o.channel && !want_user && !o.privilege) return {};

  // Find a service satisfying every constraint; remember the closest failure for the reason.
  VerifyResult best = fail(o.channel ? VerifyStatus::kWrongChannel
                                     : (o.privilege && !want_user ? VerifyStatus::kMissingPrivilege
                                                                  : (o.uid ? VerifyStatus::kWrongUid : VerifyStatus::kWrongAccount)),
                           o.channel ? "no service in the token is for channel '" + o.channel->substr(0, 80) + "'"
                           : want_user ? "no service in the token is bound to user '" + user.substr(0, 80) + "'"
                                       : "the token grants no privilege '" + o.privilege->substr(0, 40) + "'");
  int best_rank = 0;
  for (const Service& s : d.token.services) {
    if (o.channel) {
      if (!has_channel(s) || !channel_matches(s.fields[0], *o.channel)) continue;
    }
    if (want_user) {
      const std::string* u = user_field(s);
      if (u == nullptr || (o.channel && !has_channel(s))) continue;
      // "" in the token means any uid / any account.
      if (!u->empty() && *u != user) {
        if (best_rank < 1) {
          best = fail(o.uid ? VerifyStatus::kWrongUid : VerifyStatus::kWrongAccount,
                      std::string("token is for ") + (o.uid ? "uid" : "account") + " '" + u->substr(0, 80) +
                          "', not '" + user.substr(0, 80) + "'");
          best_rank = 1;
        }
        continue;
      }
    }
    if (o.privilege) {
      const std::uint16_t id = privilege_id(s.type, *o.privilege);
      const std::uint32_t* value = nullptr;
      for (const auto& p : s.privileges)
        if (id != 0 && p.first == id) value = &p.second;
      if (value == nullptr) {
        if (best_rank < 2) {
          best = fail(VerifyStatus::kMissingPrivilege, std::string("the ") + service_name(s.type) +
                                                           " service does not grant '" + o.privilege->substr(0, 40) + "'");
          best_rank = 2;
        }
        continue;
      }
      // 0 means no separate limit: the token's own expiry applies (checked above).
      const std::uint64_t priv_at = std::uint64_t{d.token.issue_ts} + *value;
      if (o.now && *value != 0 && *o.now > priv_at) {
        if (best_rank < 3) {
          best = fail(VerifyStatus::kPrivilegeExpired, "privilege '" + o.privilege->substr(0, 40) + "' expired at " +
                                                           std::to_string(priv_at) + "; now is " + std::to_string(*o.now));
          best_rank = 3;
        }
        continue;
      }
    }
    return {};
  }
  return best;
}

VerifyResult verify_006(const Decoded006& d, std::string_view certificate, const VerifyOptions& o) {
  if (!is_hex32(certificate))
    return fail(VerifyStatus::kBadCertificate, "app_certificate: must be exactly 32 hexadecimal characters");
  if (!is_hex32(d.app_id)) return fail(VerifyStatus::kBadAppId, "the token's app id is not 32 hexadecimal characters");
  const std::string channel = o.channel.value_or(std::string());
  const std::string uid = o.uid ? uid_string(*o.uid) : o.account.value_or(std::string());
  if (crc32(channel) != d.crc_channel)
    return fail(VerifyStatus::kWrongChannel, "the token was not issued for channel '" + channel.substr(0, 80) + "'");
  if (crc32(uid) != d.crc_uid)
    return fail(o.account ? VerifyStatus::kWrongAccount : VerifyStatus::kWrongUid,
                "the token was not issued for user '" + uid.substr(0, 80) + "'");
  if (d.signature.size() != 32)
    return fail(VerifyStatus::kBadSignature,
                "signature field has " + std::to_string(d.signature.size()) + " bytes, expected 32");
  const auto want = token::signature_006(certificate, d.app_id, channel, uid, d.message);
  if (!crypto::equal_ct(want.data(), reinterpret_cast<const std::uint8_t*>(d.signature.data()), 32))
    return fail(VerifyStatus::kBadSignature, "signature does not match (wrong certificate or altered token)");
  if (o.now && *o.now > d.ts)
    return fail(VerifyStatus::kExpired, "token expired at " + std::to_string(d.ts) + "; now is " + std::to_string(*o.now));
  if (o.privilege) {
    std::uint16_t id = 0;
    const std::string& p = *o.privilege;
    if (p == "join_channel") id = 1;
    else if (p == "publish_audio" || p == "publish_audio_stream") id = 2;
    else if (p == "publish_video" || p == "publish_video_stream") id = 3;
    else if (p == "publish_data" || p == "publish_data_stream") id = 4;
    else if (p == "administrate_channel") id = 101;
    else if (p == "login" || p == "rtm_login") id = 1000;
    const std::uint32_t* value = nullptr;
    for (const auto& e : d.privileges)
      if (id != 0 && e.first == id) value = &e.second;
    if (value == nullptr)
      return fail(VerifyStatus::kMissingPrivilege, "the token does not grant '" + p.substr(0, 40) + "'");
    if (o.now && *value != 0 && *o.now > *value)
      return fail(VerifyStatus::kPrivilegeExpired,
                  "privilege '" + p.substr(0, 40) + "' expired at " + std::to_string(*value));
  }
  return {};
}

VerifyResult verify_token(std::string_view token, std::string_view certificate, const VerifyOptions& o) {
  try {
    if (token.substr(0, 3) == "006") return verify_006(decode_006(token), certificate, o);
    return verify_007(decode_007(token), certificate, o);
  } catch (const DecodeError& e) {
    return fail(VerifyStatus::kMalformed, e.what());
  }
}

}  // namespace mintlane
