// credentials.hpp - a validated app id + app certificate pair whose memory is wiped on destruction.
#pragma once
#include <array>
#include <string_view>

namespace mintlane {

// True when `s` is exactly 32 ASCII hexadecimal characters (either case).
bool is_hex32(std::string_view s) noexcept;

class Credentials {
 public:
  // Throws InvalidArgument naming "app_id" or "app_certificate" when either is not exactly 32
  // hex characters. The certificate's value never appears in the message.
  Credentials(std::string_view app_id, std::string_view app_certificate);
  Credentials(const Credentials&) = default;
  Credentials& operator=(const Credentials&) = default;
  ~Credentials();  // OPENSSL_cleanse over both buffers

  std::string_view app_id() const noexcept { return {app_id_.data(), app_id_.size()}; }
  std::string_view certificate() const noexcept { return {cert_.data(), cert_.size()}; }

 private:
  std::array<char, 32> app_id_{};
  std::array<char, 32> cert_{};
};

}  // namespace mintlane
