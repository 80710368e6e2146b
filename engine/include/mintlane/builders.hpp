// builders.hpp - validated token specs for every builder of TOKEN_FORMAT.md §4 (the modern API).
// Each function checks its inputs against Agora's documented rules (§6, README "Input rules")
// and throws InvalidArgument whose message names the field, what is wrong and the rule. The
// result is a TokenSpec: the token expire plus the services, ready for Minter::mint.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mintlane/services.hpp"

namespace mintlane {

struct TokenSpec {
  std::uint32_t expire = 0;
  std::vector<Service> services;
};

inline constexpr std::int64_t kMaxExpireSeconds = 86400;   // Agora: tokens live at most 24 h
inline constexpr std::size_t kMaxChannelBytes = 64;
inline constexpr std::size_t kMaxAccountBytes = 255;
inline constexpr std::size_t kMaxUserIdBytes = 64;       // RTM / Chat user ids

enum class RtcRole : int { kPublisher = 1, kSubscriber = 2 };

// ---- input rules (each throws InvalidArgument naming `field`) ----
// Channel: 1..64 bytes of Agora's 89-character set plus '*'.
void check_channel(std::string_view channel, std::string_view field = "channel");
// Account: 1..max bytes of the 89-character set.
void check_account(std::string_view account, std::string_view field = "account",
                   std::size_t max_bytes = kMaxAccountBytes);
// uid: 0..4294967295 (0 = any uid).
std::uint32_t check_uid(std::int64_t uid, std::string_view field = "uid");
// Token expiry in seconds from now: 1..86400. Values that look like Unix timestamps get a
// message saying that 007 expiries are relative.
std::uint32_t check_expire(std::int64_t seconds, std::string_view field = "expire");
// Privilege expiry: 0..86400 (0 = no separate limit: the token's expiry applies).
std::uint32_t check_privilege_expire(std::int64_t seconds, std::string_view field);
// Role: "publisher"/"subscriber" (case-insensitive) or 1/2.
RtcRole parse_role(std::string_view role, std::string_view field = "role");
RtcRole check_role(std::int64_t role, std::string_view field = "role");
// Generic UTF-8 text field of 0/1..max bytes (room uuids, RTM2 resources).
void check_text(std::string_view value, std::string_view field, std::size_t min_bytes,
                std::size_t max_bytes);

// ---- builders (inputs already in range types are still validated) ----
// RTC by uid (0 = any) or account. privilege_expire < 0 means "same as token expire".
TokenSpec rtc_uid_spec(std::string_view channel, std::int64_t uid, RtcRole role,
                       std::int64_t expire, std::int64_t privilege_expire = -1);
TokenSpec rtc_account_spec(std::string_view channel, std::string_view account, RtcRole role,
                           std::int64_t expire, std::int64_t privilege_expire = -1);
// RTC with one expiry per privilege (all four written, §4.1 *_and_privilege).
TokenSpec rtc_privileges_spec(std::string_view channel, std::string_view uid_or_account_string,
                              std::int64_t expire, std::int64_t join, std::int64_t audio,
                              std::int64_t video, std::int64_t data);
// RTC + RTM (§4.1 build_token_with_rtm): RTM login = expire.
TokenSpec rtc_rtm_spec(std::string_view channel, std::string_view account, RtcRole role,
                       std::int64_t expire, std::int64_t privilege_expire = -1);
// RTC + RTM with separate expiries (§4.1 build_token_with_rtm2).
TokenSpec rtc_rtm2_spec(std::string_view channel, std::string_view rtc_account, RtcRole role,
                        std::int64_t rtc_expire, std::int64_t join, std::int64_t audio,
                        std::int64_t video, std::int64_t data, std::string_view rtm_user_id,
                        std::int64_t rtm_expire);
TokenSpec rtm_spec(std::string_view user_id, std::int64_t expire);
// RTM with a stream channel (go-tokenbuilder / token service /rte and POST rtm): adds
// RTC(channel, uid = user_id) with join + publish-data = expire when channel is non-empty.
TokenSpec rtm_stream_spec(std::string_view user_id, std::string_view channel, std::int64_t expire);
TokenSpec rtm2_spec(std::string_view user_id, const std::vector<Rtm2Grant>& permissions,
                    std::int64_t expire);
TokenSpec chat_user_spec(std::string_view user_id, std::int64_t expire);
TokenSpec chat_app_spec(std::int64_t expire);
TokenSpec apaas_room_user_spec(std::string_view room_uuid, std::string_view user_uuid,
                               std::int64_t role, std::int64_t expire);
TokenSpec apaas_user_spec(std::string_view user_uuid, std::int64_t expire);
TokenSpec apaas_app_spec(std::int64_t expire);
TokenSpec fpa_spec();
// ConvoAI (9) / STT (10) agent tokens (npm agora-token 2.0.6, TOKEN_FORMAT.md §2.4).
TokenSpec agent_spec(std::uint16_t agent_type, std::string_view channel,
                     std::string_view rtc_account, RtcRole role, std::int64_t rtc_expire,
                     std::int64_t join, std::int64_t audio, std::int64_t video, std::int64_t data,
                     std::string_view rtm_user_id, std::int64_t rtm_expire);

// Lower-case hex MD5 of the UTF-8 bytes (Chat user id in APaaS room-user tokens).
std::string md5_hex(std::string_view data);

}  // namespace mintlane
