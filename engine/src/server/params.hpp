// params.hpp - the server's parameter rules (TOKEN_SERVER.md §4.1, §5 and deviations D1-D6):
// decimal parsing without signs or spaces, Agora's character set, strict role names.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mintlane::server {

inline constexpr std::uint32_t kDefaultExpiry = 3600;
inline constexpr std::uint64_t kMaxExpiry = 86400;        // D3
inline constexpr std::uint64_t kMaxUid = 4294967295u;     // D2
inline constexpr std::size_t kMaxChannel = 64;            // D4
inline constexpr std::size_t kMaxAccount = 255;           // D5
inline constexpr std::size_t kMaxUserId = 64;             // D5: RTM and Chat ids

// Go strconv.ParseUint(s, 10, 64): one or more ASCII digits (leading zeros allowed), no sign,
// no spaces, value <= 2^64-1. Returns false otherwise.
bool parse_u64(std::string_view s, std::uint64_t& out) noexcept;

// True when every byte of `s` is all digits (and s is non-empty): the "numeric uid" test of POST.
bool all_digits(std::string_view s) noexcept;

// Agora's 89-character set (a-z A-Z 0-9 space ! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ,)
// plus '*' when `allow_star` (channel names).
bool is_agora_char(unsigned char c, bool allow_star) noexcept;

// Empty when `s` is 1..max_bytes of the set, else "<field> <problem> (<rule>)", e.g.
// "channelName: byte 0x0a at offset 3 is not allowed (a-z A-Z 0-9 space !#$%&()+-:;<=.>?@[]^_{}|~,*)".
// Never quotes more than one byte of the input.
std::string name_problem(std::string_view s, std::string_view field, std::size_t max_bytes,
                         bool allow_star);

enum class RoleChoice { kPublisher, kSubscriber, kInvalid };
// D1: "publisher" or "1" -> publisher; "subscriber" or "2" -> subscriber; else invalid.
RoleChoice parse_role_strict(std::string_view s) noexcept;

}  // namespace mintlane::server
