// services.hpp - the 007 service records (TOKEN_FORMAT.md §2.3-2.5) as plain values.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mintlane {

enum ServiceType : std::uint16_t {
  kServiceRtc = 1,
  kServiceRtm = 2,
  kServiceStreaming = 3,
  kServiceFpa = 4,
  kServiceChat = 5,
  kServiceFcdn = 6,
  kServiceApaas = 7,
  kServiceRtm2 = 8,
  kServiceConvoAI = 9,
  kServiceStt = 10,
};

// Privilege ids (TOKEN_FORMAT.md §2.4).
namespace privilege {
inline constexpr std::uint16_t kRtcJoinChannel = 1, kRtcPublishAudio = 2, kRtcPublishVideo = 3,
                               kRtcPublishData = 4;
inline constexpr std::uint16_t kRtmLogin = 1;
inline constexpr std::uint16_t kStreamingPublishMix = 1, kStreamingPublishRaw = 2;
inline constexpr std::uint16_t kFpaLogin = 1;
inline constexpr std::uint16_t kChatUser = 1, kChatApp = 2;
inline constexpr std::uint16_t kFcdnPublish = 1, kFcdnPlay = 2;
inline constexpr std::uint16_t kApaasRoomUser = 1, kApaasUser = 2, kApaasApp = 3;
inline constexpr std::uint16_t kRtm2Login = 1;
}  // namespace privilege

// RTM2 permissions block entry (§2.5): resource type 0..4, permission type 0 read / 1 write.
struct Rtm2Grant {
  std::uint16_t resource_type = 0;
  std::uint16_t permission_type = 0;
  std::vector<std::string> resources;  // caller's order, duplicates kept
  bool operator==(const Rtm2Grant&) const = default;
};

struct Service {
  std::uint16_t type = 0;
  // (id, value) pairs, ascending unique ids (set_privilege keeps that invariant).
  std::vector<std::pair<std::uint16_t, std::uint32_t>> privileges;
  // Type-specific strings in wire order: RTC {channel, uid}, RTM {user_id}, Streaming/FCDN
  // {channel, account}, Chat {user_id}, APaaS {room_uuid, user_uuid}, RTM2 {user_id};
  // FPA, ConvoAI, STT: none.
  std::vector<std::string> fields;
  std::int16_t role = -1;               // APaaS only (signed i16 on the wire)
  std::vector<Rtm2Grant> permissions;   // RTM2 only; sorted by (resource_type, permission_type)

  // Inserts or overwrites privilege `id` (the references store a dictionary).
  void set_privilege(std::uint16_t id, std::uint32_t value);
  // Adds or replaces the (resource_type, permission_type) list, keeping the block sorted.
  void set_permission(std::uint16_t resource_type, std::uint16_t permission_type,
                      std::vector<std::string> resources);
  bool operator==(const Service&) const = default;

  static Service rtc(std::string channel, std::string uid);
  static Service rtm(std::string user_id);
  static Service streaming(std::string channel, std::string account);
  static Service fpa();
  static Service chat(std::string user_id);
  static Service fcdn(std::string channel, std::string account);
  static Service apaas(std::string room_uuid, std::string user_uuid, std::int16_t role);
  static Service rtm2(std::string user_id);
  static Service convoai();
  static Service stt();
};

// True for the types this engine can pack and parse (1..10).
bool is_known_service_type(std::uint16_t type) noexcept;
// Number of string fields a known type carries; 0 for unknown types.
std::size_t service_field_count(std::uint16_t type) noexcept;
// "rtc", "rtm", "streaming", "fpa", "chat", "fcdn", "apaas", "rtm2", "convoai", "stt", or "unknown".
const char* service_name(std::uint16_t type) noexcept;
// The names of a type's string fields, e.g. {"channel_name", "uid"} for RTC.
std::vector<std::string_view> service_field_names(std::uint16_t type);
// Decimal uid string with the 007/006 rule: 0 -> "" (any uid), otherwise no leading zeros.
std::string uid_string(std::uint32_t uid);

}  // namespace mintlane
