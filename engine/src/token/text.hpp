// text.hpp - helpers that quote untrusted input safely and briefly in error messages.
#pragma once
#include <cstdio>
#include <string>
#include <string_view>

namespace mintlane::token {

// "'x' (0x78)" for printable ASCII, "byte 0x0a" otherwise.
inline std::string describe_byte(unsigned char c) {
  char buf[32];
  if (c >= 0x20 && c < 0x7f)
    std::snprintf(buf, sizeof buf, "'%c' (0x%02x)", c, c);
  else
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
  return buf;
}

// The first `n` characters with non-printable bytes escaped as \xNN.
inline std::string printable_prefix(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// Decodes the base64 part of a token (CR/LF skipped, URL-safe alphabet rejected with a hint);
// `prefix_len` shifts reported offsets so they index the whole token. Throws DecodeError.
std::string decode_base64_body(std::string_view body, std::size_t prefix_len);

}  // namespace mintlane::token
