// token.hpp - AccessToken2 ("007") and legacy AccessToken ("006"): encode, decode, verify.
// Byte layouts: TOKEN_FORMAT.md §2 (007) and §5 (006). These functions are the low level: they
// enforce only what the wire format needs (32-hex credentials, strings <= 65535 bytes, counts),
// not Agora's documented input rules; builders.hpp adds those.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mintlane/services.hpp"

namespace mintlane {

enum class Compression { kFast, kIsal, kExact };
const char* compression_name(Compression c) noexcept;          // "fast", "isal", "exact"
Compression parse_compression(std::string_view name);           // throws InvalidArgument

struct AccessToken2 {
  std::string app_id;
  std::uint32_t issue_ts = 0;
  std::uint32_t expire = 0;   // seconds relative to issue_ts
  std::uint32_t salt = 0;
  std::vector<Service> services;  // any order; packed stable-sorted by type
};

// signing_info bytes (§2.2), services stable-sorted by type. Throws InvalidArgument when a string
// is over 65535 bytes, a count over 65535, or a service type unknown.
std::string pack_signing_info(const AccessToken2& token);
// HMAC chain of §2.7 over `signing_info`.
std::array<std::uint8_t, 32> sign_007(std::string_view certificate, std::uint32_t issue_ts,
                                      std::uint32_t salt, std::string_view signing_info);
// Full token string. Throws InvalidArgument for a malformed app id / certificate (never echoed),
// no services, or the pack errors above.
std::string encode_007(const AccessToken2& token, std::string_view certificate,
                       Compression compression = Compression::kIsal);

struct Decoded007 {
  AccessToken2 token;            // services known up to the first unknown type
  std::string signature;         // the signature field as received (normally 32 bytes)
  std::string signing_info;      // the raw signed bytes
  std::uint16_t services_declared = 0;
  bool stopped_at_unknown = false;  // parsing stopped at an unknown service type
  std::uint16_t unknown_type = 0;
  std::size_t trailing_bytes = 0;   // signed bytes after the last parsed service
  std::size_t trailing_zlib_bytes = 0;  // bytes after the zlib trailer (ignored, unsigned)
};

// Decodes a "007" token. Policy (TOKEN_FORMAT.md §3.4, README "Decoding policy"): standard
// base64 with padding, CR/LF ignored, URL-safe alphabet rejected; any valid zlib stream with a
// correct Adler-32; bytes after the zlib trailer ignored; an unknown service type stops parsing
// with success; every other truncation throws DecodeError naming the stage and offset.
Decoded007 decode_007(std::string_view token);

// ----- 006 -----------------------------------------------------------------
struct AccessToken006 {
  std::string app_id;
  std::string channel;      // RTC channel; the account for RTM 006
  std::string uid;          // "" for uid 0 and for RTM 006
  std::uint32_t salt = 0;
  std::uint32_t ts = 0;     // absolute expiry
  std::vector<std::pair<std::uint16_t, std::uint32_t>> privileges;  // absolute timestamps
};
std::string encode_006(const AccessToken006& token, std::string_view certificate);

struct Decoded006 {
  std::string app_id;
  std::string signature;
  std::uint32_t crc_channel = 0, crc_uid = 0;
  std::uint32_t salt = 0, ts = 0;
  std::vector<std::pair<std::uint16_t, std::uint32_t>> privileges;
  std::string message;  // salt | ts | privilege map, as signed
};
Decoded006 decode_006(std::string_view token);
std::uint32_t crc32(std::string_view data) noexcept;

// ----- verification ------------------------------------------------------------
enum class VerifyStatus {
  kOk,
  kMalformed,
  kBadCertificate,     // the given certificate is not 32 hex characters
  kBadAppId,           // the token's app id is not 32 hex characters
  kBadSignature,
  kExpired,            // now > issue_ts + expire (007) or now > ts (006)
  kPrivilegeExpired,   // the requested privilege exists but has expired
  kWrongChannel,
  kWrongUid,
  kWrongAccount,
  kMissingPrivilege,
};
const char* verify_status_name(VerifyStatus s) noexcept;  // "ok", "malformed", "bad_signature", ...

struct VerifyOptions {
  std::optional<std::uint64_t> now;          // when set, expiry is checked against it
  std::optional<std::string> channel;        // a pattern ending in '*' matches by prefix
  std::optional<std::uint32_t> uid;          // numeric uid (0 only matches a wildcard token)
  std::optional<std::string> account;        // string account / user id
  std::optional<std::string> privilege;      // e.g. "join_channel", "publish_audio", "login"
};

struct VerifyResult {
  VerifyStatus status = VerifyStatus::kOk;
  std::string reason;  // human readable; never contains the certificate
  bool ok() const noexcept { return status == VerifyStatus::kOk; }
};

// Decodes (either version) and verifies; malformed input gives kMalformed with the decode error.
VerifyResult verify_token(std::string_view token, std::string_view certificate,
                          const VerifyOptions& options = {});
VerifyResult verify_007(const Decoded007& decoded, std::string_view certificate,
                        const VerifyOptions& options = {});
// 006 tokens do not carry channel and uid: options.channel and uid/account (or "" when absent)
// are what the CRCs and the signature are checked against.
VerifyResult verify_006(const Decoded006& decoded, std::string_view certificate,
                        const VerifyOptions& options = {});

// Channel match with the wildcard rule: "Agora*" matches "AgoraChannel", not "AppTest".
bool channel_matches(std::string_view pattern_or_name, std::string_view channel) noexcept;

}  // namespace mintlane
