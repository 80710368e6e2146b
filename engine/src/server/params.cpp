// params.cpp - parameter rules of the token server (TOKEN_SERVER.md §4.1, §9 D1-D6).
#include "server/params.hpp"

#include <array>
#include <cstdio>

namespace mintlane::server {
namespace {

constexpr std::array<bool, 256> make_set(bool star) {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view(" !#$%&()+-:;<=.>?@[]^_{}|~,")) {
    t[static_cast<unsigned char>(c)] = true;
  }
  if (star) t[static_cast<unsigned char>('*')] = true;
  return t;
}
constexpr std::array<bool, 256> kAccountSet = make_set(false);
constexpr std::array<bool, 256> kChannelSet = make_set(true);

}  // namespace

bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty()) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

bool all_digits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool is_agora_char(unsigned char c, bool allow_star) noexcept {
  return allow_star ? kChannelSet[c] : kAccountSet[c];
}

std::string name_problem(std::string_view s, std::string_view field, std::size_t max_bytes,
                         bool allow_star) {
  const char* rule = allow_star ? "a-z A-Z 0-9 space !#$%&()+-:;<=.>?@[]^_{}|~, and *"
                                : "a-z A-Z 0-9 space !#$%&()+-:;<=.>?@[]^_{}|~,";
  std::string out(field);
  if (s.empty()) return out + ": must not be empty (1 to " + std::to_string(max_bytes) + " bytes of " + rule + ")";
  if (s.size() > max_bytes) {
    return out + ": " + std::to_string(s.size()) + " bytes is too long (at most " +
           std::to_string(max_bytes) + " bytes)";
  }
  const auto& set = allow_star ? kChannelSet : kAccountSet;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (set[c]) continue;
    char what[48];
    if (c >= 0x21 && c < 0x7f && c != '"' && c != '\\') {
      std::snprintf(what, sizeof what, "'%c' at offset %zu", static_cast<char>(c), i);
    } else {
      std::snprintf(what, sizeof what, "byte 0x%02x at offset %zu", c, i);
    }
    return out + ": " + what + " is not allowed (use " + rule + ")";
  }
  return {};
}

RoleChoice parse_role_strict(std::string_view s) noexcept {
  if (s == "publisher" || s == "1") return RoleChoice::kPublisher;
  if (s == "subscriber" || s == "2") return RoleChoice::kSubscriber;
  return RoleChoice::kInvalid;
}

}  // namespace mintlane::server
