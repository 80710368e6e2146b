// pack.hpp - internal packing entry points shared by encode007.cpp and the Minter.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mintlane/services.hpp"

namespace mintlane::token {

// Replaces `out` with the signing_info bytes (TOKEN_FORMAT.md §2.2). Throws InvalidArgument on
// strings over 65535 bytes, counts over 65535 or unknown service types.
void pack_signing_info_into(std::string& out, std::string_view app_id, std::uint32_t issue_ts,
                            std::uint32_t expire, std::uint32_t salt, const std::vector<Service>& services);

}  // namespace mintlane::token
