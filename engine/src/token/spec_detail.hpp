// spec_detail.hpp - the builders' service layouts without input validation (TOKEN_FORMAT.md §4).
// builders.cpp validates and then calls these; batches call them with sentinel values to derive
// byte templates. Not part of the public API.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mintlane/builders.hpp"

namespace mintlane::detail {

TokenSpec rtc(std::string_view channel, std::string_view user, RtcRole role, std::uint32_t expire,
              std::uint32_t privilege_expire);
TokenSpec rtc_privileges(std::string_view channel, std::string_view user, std::uint32_t expire,
                         std::uint32_t join, std::uint32_t audio, std::uint32_t video, std::uint32_t data);
TokenSpec rtc_rtm(std::string_view channel, std::string_view account, RtcRole role, std::uint32_t expire,
                  std::uint32_t privilege_expire);
TokenSpec rtc_rtm2(std::string_view channel, std::string_view rtc_account, RtcRole role,
                   std::uint32_t rtc_expire, std::uint32_t join, std::uint32_t audio, std::uint32_t video,
                   std::uint32_t data, std::string_view rtm_user_id, std::uint32_t rtm_expire);
TokenSpec rtm(std::string_view user_id, std::uint32_t expire);
TokenSpec rtm_stream(std::string_view user_id, std::string_view channel, std::uint32_t expire);
TokenSpec rtm2(std::string_view user_id, const std::vector<Rtm2Grant>& permissions, std::uint32_t expire);
TokenSpec chat_user(std::string_view user_id, std::uint32_t expire);
TokenSpec chat_app(std::uint32_t expire);
TokenSpec apaas_room_user(std::string_view room_uuid, std::string_view user_uuid, std::int16_t role,
                          std::uint32_t expire);
TokenSpec apaas_user(std::string_view user_uuid, std::uint32_t expire);
TokenSpec apaas_app(std::uint32_t expire);
TokenSpec fpa();
TokenSpec agent(std::uint16_t agent_type, std::string_view channel, std::string_view rtc_account,
                RtcRole role, std::uint32_t rtc_expire, std::uint32_t join, std::uint32_t audio,
                std::uint32_t video, std::uint32_t data, std::string_view rtm_user_id,
                std::uint32_t rtm_expire);

}  // namespace mintlane::detail
