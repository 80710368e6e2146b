// packer.hpp - little-endian writer and bounds-checked reader for the token wire format
// (TOKEN_FORMAT.md §1). Writes bytes explicitly, so output is host-endianness independent;
// unlike the C++ reference Packer (§7 D16) it grows without limit and checks every length.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "mintlane/errors.hpp"

namespace mintlane::wire {

inline void put_u16(std::string& out, std::uint16_t v) {
  const char b[2] = {static_cast<char>(v & 0xff), static_cast<char>(v >> 8)};
  out.append(b, 2);
}
inline void put_u32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff),
                     static_cast<char>((v >> 16) & 0xff), static_cast<char>(v >> 24)};
  out.append(b, 4);
}
inline void store_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v >> 16);
  p[3] = static_cast<std::uint8_t>(v >> 24);
}
inline void store_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}

// Throws InvalidArgument when `s` does not fit a u16 length prefix.
void check_str_length(std::string_view s, std::string_view field);
inline void put_str(std::string& out, std::string_view s, std::string_view field) {
  check_str_length(s, field);
  put_u16(out, static_cast<std::uint16_t>(s.size()));
  out.append(s);
}

// Sequential reader over a byte string. Each read returns false when the data is too short;
// the position is then left where the short read started (see offset()).
class Reader {
 public:
  explicit Reader(std::string_view data) noexcept : data_(data) {}
  bool u16(std::uint16_t& v) noexcept {
    if (data_.size() - pos_ < 2) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + pos_);
    v = static_cast<std::uint16_t>(p[0] | (p[1] << 8));
    pos_ += 2;
    return true;
  }
  bool u32(std::uint32_t& v) noexcept {
    if (data_.size() - pos_ < 4) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + pos_);
    v = static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
        (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
    pos_ += 4;
    return true;
  }
  bool str(std::string_view& v) noexcept {
    const std::size_t start = pos_;
    std::uint16_t len = 0;
    if (!u16(len)) return false;
    if (data_.size() - pos_ < len) {
      pos_ = start;
      return false;
    }
    v = data_.substr(pos_, len);
    pos_ += len;
    return true;
  }
  std::size_t offset() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  std::string_view rest() const noexcept { return data_.substr(pos_); }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace mintlane::wire
