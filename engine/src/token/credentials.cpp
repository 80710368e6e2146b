// credentials.cpp - app id / certificate validation (TOKEN_FORMAT.md §4.0) and wiping.
#include "mintlane/credentials.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <string>

#include "mintlane/errors.hpp"

namespace mintlane {

bool is_hex32(std::string_view s) noexcept {
  if (s.size() != 32) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

namespace {
// Describes what is wrong without ever quoting the value (the certificate is a secret, and the
// app id check shares this code).
std::string describe_bad_hex32(std::string_view field, std::string_view s) {
  std::string msg(field);
  if (s.size() != 32) {
    msg += ": must be exactly 32 hexadecimal characters, got " + std::to_string(s.size()) +
           " characters";
  } else {
    const auto pos = std::find_if_not(s.begin(), s.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }) - s.begin();
    msg += ": must be exactly 32 hexadecimal characters, found a non-hex character at position " +
           std::to_string(pos);
  }
  return msg;
}
}  // namespace

Credentials::Credentials(std::string_view app_id, std::string_view app_certificate) {
  if (!is_hex32(app_id)) throw InvalidArgument("app_id", describe_bad_hex32("app_id", app_id));
  if (!is_hex32(app_certificate))
    throw InvalidArgument("app_certificate", describe_bad_hex32("app_certificate", app_certificate));
  std::copy(app_id.begin(), app_id.end(), app_id_.begin());
  std::copy(app_certificate.begin(), app_certificate.end(), cert_.begin());
}

Credentials::~Credentials() {
  OPENSSL_cleanse(cert_.data(), cert_.size());
  OPENSSL_cleanse(app_id_.data(), app_id_.size());
}

}  // namespace mintlane
