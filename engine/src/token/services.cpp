// services.cpp - service record constructors and the per-type catalogue (TOKEN_FORMAT.md §2.4).
#include "mintlane/services.hpp"

#include <algorithm>

namespace mintlane {

void Service::set_privilege(std::uint16_t id, std::uint32_t value) {
  auto it = std::lower_bound(privileges.begin(), privileges.end(), id,
                             [](const auto& p, std::uint16_t k) { return p.first < k; });
  if (it != privileges.end() && it->first == id)
    it->second = value;
  else
    privileges.insert(it, {id, value});
}

void Service::set_permission(std::uint16_t resource_type, std::uint16_t permission_type,
                             std::vector<std::string> resources) {
  auto key_less = [](const Rtm2Grant& g, std::pair<std::uint16_t, std::uint16_t> k) {
    return std::pair(g.resource_type, g.permission_type) < k;
  };
  const std::pair<std::uint16_t, std::uint16_t> key{resource_type, permission_type};
  auto it = std::lower_bound(permissions.begin(), permissions.end(), key, key_less);
  if (it != permissions.end() && it->resource_type == resource_type &&
      it->permission_type == permission_type)
    it->resources = std::move(resources);
  else
    permissions.insert(it, Rtm2Grant{resource_type, permission_type, std::move(resources)});
}

namespace {
Service make(std::uint16_t type, std::vector<std::string> fields) {
  Service s;
  s.type = type;
  s.fields = std::move(fields);
  return s;
}
}  // namespace

Service Service::rtc(std::string channel, std::string uid) {
  return make(kServiceRtc, {std::move(channel), std::move(uid)});
}
Service Service::rtm(std::string user_id) { return make(kServiceRtm, {std::move(user_id)}); }
Service Service::streaming(std::string channel, std::string account) {
  return make(kServiceStreaming, {std::move(channel), std::move(account)});
}
Service Service::fpa() { return make(kServiceFpa, {}); }
Service Service::chat(std::string user_id) { return make(kServiceChat, {std::move(user_id)}); }
Service Service::fcdn(std::string channel, std::string account) {
  return make(kServiceFcdn, {std::move(channel), std::move(account)});
}
Service Service::apaas(std::string room_uuid, std::string user_uuid, std::int16_t role) {
  Service s = make(kServiceApaas, {std::move(room_uuid), std::move(user_uuid)});
  s.role = role;
  return s;
}
Service Service::rtm2(std::string user_id) { return make(kServiceRtm2, {std::move(user_id)}); }
Service Service::convoai() { return make(kServiceConvoAI, {}); }
Service Service::stt() { return make(kServiceStt, {}); }

bool is_known_service_type(std::uint16_t type) noexcept { return type >= 1 && type <= 10; }

std::size_t service_field_count(std::uint16_t type) noexcept {
  switch (type) {
    case kServiceRtc: case kServiceStreaming: case kServiceFcdn: case kServiceApaas: return 2;
    case kServiceRtm: case kServiceChat: case kServiceRtm2: return 1;
    default: return 0;
  }
}

const char* service_name(std::uint16_t type) noexcept {
  switch (type) {
    case kServiceRtc: return "rtc";
    case kServiceRtm: return "rtm";
    case kServiceStreaming: return "streaming";
    case kServiceFpa: return "fpa";
    case kServiceChat: return "chat";
    case kServiceFcdn: return "fcdn";
    case kServiceApaas: return "apaas";
    case kServiceRtm2: return "rtm2";
    case kServiceConvoAI: return "convoai";
    case kServiceStt: return "stt";
    default: return "unknown";
  }
}

std::vector<std::string_view> service_field_names(std::uint16_t type) {
  switch (type) {
    case kServiceRtc: return {"channel_name", "uid"};
    case kServiceStreaming: case kServiceFcdn: return {"channel_name", "account"};
    case kServiceApaas: return {"room_uuid", "user_uuid"};
    case kServiceRtm: case kServiceChat: case kServiceRtm2: return {"user_id"};
    default: return {};
  }
}

std::string uid_string(std::uint32_t uid) { return uid == 0 ? std::string() : std::to_string(uid); }

}  // namespace mintlane
