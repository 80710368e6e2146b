// encode007.cpp - AccessToken2 packing, signing and string assembly (TOKEN_FORMAT.md §2.1-2.9).
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "crypto/hmac.hpp"
#include "mintlane/credentials.hpp"
#include "mintlane/errors.hpp"
#include "mintlane/token.hpp"
#include "token/finish.hpp"
#include "token/pack.hpp"
#include "wire/packer.hpp"

namespace mintlane {

namespace wire {
void check_str_length(std::string_view s, std::string_view field) {
  if (s.size() > 0xffff)
    throw InvalidArgument(std::string(field),
                          std::string(field) + ": " + std::to_string(s.size()) +
                              " bytes is too long (the token format limits every string to 65535 bytes)");
}
}  // namespace wire

const char* compression_name(Compression c) noexcept {
  switch (c) {
    case Compression::kFast: return "fast";
    case Compression::kIsal: return "isal";
    case Compression::kExact: return "exact";
  }
  return "unknown";
}

Compression parse_compression(std::string_view name) {
  if (name == "fast") return Compression::kFast;
  if (name == "isal") return Compression::kIsal;
  if (name == "exact") return Compression::kExact;
  throw InvalidArgument("compression", "compression: unknown mode '" + std::string(name.substr(0, 32)) +
                                           "' (use 'fast', 'isal' or 'exact')");
}

namespace {

void check_count(std::size_t n, const char* what) {
  if (n > 0xffff)
    throw InvalidArgument(what, std::string(what) + ": " + std::to_string(n) +
                                    " entries is too many (the token format allows at most 65535)");
}

void pack_service(std::string& out, const Service& s) {
  if (!is_known_service_type(s.type))
    throw InvalidArgument("services", "services: unknown service type " + std::to_string(s.type) +
                                          " (known types are 1..10)");
  const std::size_t want = service_field_count(s.type);
  if (s.fields.size() != want)
    throw InvalidArgument("services", std::string("services: a ") + service_name(s.type) +
                                          " service carries " + std::to_string(want) +
                                          " string fields, got " + std::to_string(s.fields.size()));
  wire::put_u16(out, s.type);
  // Privileges go out sorted by id with unique ids (§1.3), whatever order the caller built.
  auto privs = s.privileges;
  std::stable_sort(privs.begin(), privs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < privs.size(); ++i)
    if (privs[i].first == privs[i - 1].first)
      throw InvalidArgument("privileges", "privileges: id " + std::to_string(privs[i].first) +
                                              " appears twice (a privilege map has unique ids)");
  check_count(privs.size(), "privileges");
  wire::put_u16(out, static_cast<std::uint16_t>(privs.size()));
  for (const auto& [id, value] : privs) {
    wire::put_u16(out, id);
    wire::put_u32(out, value);
  }
  const auto names = service_field_names(s.type);
  for (std::size_t i = 0; i < want; ++i) wire::put_str(out, s.fields[i], names[i]);
  if (s.type == kServiceApaas) wire::put_u16(out, static_cast<std::uint16_t>(s.role));
  if (s.type == kServiceRtm2) {
    auto grants = s.permissions;
    std::stable_sort(grants.begin(), grants.end(), [](const Rtm2Grant& a, const Rtm2Grant& b) {
      return std::pair(a.resource_type, a.permission_type) < std::pair(b.resource_type, b.permission_type);
    });
    // Group by resource type: u16 count of types, then per type its permission lists (§2.5).
    std::vector<std::size_t> starts;
    for (std::size_t i = 0; i < grants.size(); ++i) {
      if (i > 0 && grants[i].resource_type == grants[i - 1].resource_type &&
          grants[i].permission_type == grants[i - 1].permission_type)
        throw InvalidArgument("permissions", "permissions: resource type " +
                                                 std::to_string(grants[i].resource_type) + " / permission " +
                                                 std::to_string(grants[i].permission_type) + " given twice");
      if (i == 0 || grants[i].resource_type != grants[i - 1].resource_type) starts.push_back(i);
    }
    starts.push_back(grants.size());
    check_count(starts.size() - 1, "permissions");
    wire::put_u16(out, static_cast<std::uint16_t>(starts.size() - 1));
    for (std::size_t g = 0; g + 1 < starts.size(); ++g) {
      wire::put_u16(out, grants[starts[g]].resource_type);
      wire::put_u16(out, static_cast<std::uint16_t>(starts[g + 1] - starts[g]));
      for (std::size_t i = starts[g]; i < starts[g + 1]; ++i) {
        wire::put_u16(out, grants[i].permission_type);
        check_count(grants[i].resources.size(), "permissions");
        wire::put_u16(out, static_cast<std::uint16_t>(grants[i].resources.size()));
        for (const std::string& r : grants[i].resources) wire::put_str(out, r, "permissions");
      }
    }
  }
}

}  // namespace

namespace token {
void pack_signing_info_into(std::string& out, std::string_view app_id, std::uint32_t issue_ts,
                            std::uint32_t expire, std::uint32_t salt, const std::vector<Service>& services) {
  std::vector<const Service*> order;
  order.reserve(services.size());
  for (const Service& s : services) order.push_back(&s);
  // Stable: services of one type keep their insertion order (§2.6).
  std::stable_sort(order.begin(), order.end(), [](const Service* a, const Service* b) { return a->type < b->type; });
  check_count(order.size(), "services");
  out.clear();
  wire::put_str(out, app_id, "app_id");
  wire::put_u32(out, issue_ts);
  wire::put_u32(out, expire);
  wire::put_u32(out, salt);
  wire::put_u16(out, static_cast<std::uint16_t>(order.size()));
  for (const Service* s : order) pack_service(out, *s);
}
}  // namespace token

std::string pack_signing_info(const AccessToken2& token) {
  std::string out;
  out.reserve(128 + 64 * token.services.size());
  token::pack_signing_info_into(out, token.app_id, token.issue_ts, token.expire, token.salt, token.services);
  return out;
}

std::array<std::uint8_t, 32> sign_007(std::string_view certificate, std::uint32_t issue_ts,
                                      std::uint32_t salt, std::string_view signing_info) {
  std::uint8_t k1[32];
  crypto::signing_key_step1(certificate, issue_ts, k1);
  std::array<std::uint8_t, 32> sig{};
  const auto* msg = reinterpret_cast<const std::uint8_t*>(signing_info.data());
  const std::size_t len = signing_info.size();
  std::uint8_t out[1][32];
  crypto::sign007_many(k1, &salt, &msg, &len, out, 1);
  std::copy(out[0], out[0] + 32, sig.begin());
  return sig;
}

namespace token {

std::size_t finish_007(const std::uint8_t* payload, std::size_t n, Compression c,
                       std::uint8_t* scratch, char* out) {
  const std::size_t cap = deflate::compress_bound(n);
  Result r;
  switch (c) {
    case Compression::kFast: r = deflate::compress_fast(payload, n, scratch, cap); break;
    case Compression::kIsal: r = deflate::compress_isal(payload, n, scratch, cap); break;
    case Compression::kExact: r = deflate::compress_exact(payload, n, scratch, cap); break;
  }
  if (!r.ok())
    throw std::runtime_error(std::string("compression (") + compression_name(c) + ") failed: " + errc_message(r.code));
  return finish_007_zlib(scratch, r.count, out);
}

}  // namespace token

std::string encode_007(const AccessToken2& token, std::string_view certificate, Compression compression) {
  const Credentials creds(token.app_id, certificate);  // validates both, never echoes the certificate
  if (token.services.empty())
    throw InvalidArgument("services", "services: a token needs at least one service (the references refuse to build an empty token)");
  const std::string info = pack_signing_info(token);
  const auto sig = sign_007(creds.certificate(), token.issue_ts, token.salt, info);
  std::string payload;
  payload.reserve(34 + info.size());
  wire::put_u16(payload, 32);
  payload.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  payload.append(info);
  std::vector<std::uint8_t> scratch(deflate::compress_bound(payload.size()));
  std::string out(token::max_token_chars(payload.size()), '\0');
  const std::size_t len = token::finish_007(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size(),
                                            compression, scratch.data(), out.data());
  out.resize(len);
  return out;
}

}  // namespace mintlane
