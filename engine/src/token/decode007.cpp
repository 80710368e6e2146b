// decode007.cpp - AccessToken2 parsing (TOKEN_FORMAT.md §3) with the policy of §3.4:
// strict standard base64 (CR/LF skipped), any valid zlib stream, unknown service types stop
// parsing with success, every other truncation is an error with no partial result.
#include <string>
#include <vector>

#include "base64/base64.hpp"
#include "deflate/deflate.hpp"
#include "mintlane/errors.hpp"
#include "mintlane/token.hpp"
#include "token/text.hpp"
#include "wire/packer.hpp"

namespace mintlane {

namespace token {

// Largest payload accepted when inflating (a zip-bomb guard): far above any real token
// (416 bytes observed, §2.12), and above the 65535-byte string limit plus headers.
constexpr std::size_t kMaxPayloadBytes = 1u << 20;

std::string decode_base64_body(std::string_view body, std::size_t prefix_len) {
  // CR/LF inside the base64 are skipped (every reference does); nothing else is.
  std::string cleaned;
  if (body.find_first_of("\r\n") != std::string_view::npos) {
    cleaned.reserve(body.size());
    for (char c : body)
      if (c != '\r' && c != '\n') cleaned.push_back(c);
    body = cleaned;
  }
  if (body.empty()) throw DecodeError("base64", prefix_len, "token has no content after its version prefix");
  const std::size_t bad = body.find_first_of("-_");
  if (bad != std::string_view::npos)
    throw DecodeError("base64", prefix_len + bad,
                      "URL-safe base64 character '" + std::string(1, body[bad]) + "' at offset " +
                          std::to_string(prefix_len + bad) +
                          ": tokens use the standard alphabet (+ and /); was the token URL-decoded?");
  std::string out(base64::decoded_size_max(body.size()), '\0');
  const Result r = base64::decode(body.data(), body.size(), reinterpret_cast<std::uint8_t*>(out.data()));
  if (!r.ok()) {
    std::string msg = std::string(errc_message(r.code)) + " at offset " + std::to_string(prefix_len + r.count);
    if (r.code == Errc::kBadBase64Char && r.count < body.size())
      msg += " (" + describe_byte(static_cast<unsigned char>(body[r.count])) + ")";
    if (r.code == Errc::kBadBase64Length)
      msg += ": the base64 part has " + std::to_string(body.size()) +
             " characters; '=' padding is required (was it stripped?)";
    throw DecodeError("base64", prefix_len + r.count, msg);
  }
  out.resize(r.count);
  return out;
}

}  // namespace token

namespace {

[[noreturn]] void truncated(std::size_t offset, const std::string& what) {
  throw DecodeError("payload", offset,
                    "payload truncated at byte " + std::to_string(offset) + " while reading " + what);
}

}  // namespace

Decoded007 decode_007(std::string_view token) {
  if (token.size() < 3 || token.substr(0, 3) != "007")
    throw DecodeError("prefix", 0,
                      token.empty() ? std::string("empty token (an AccessToken2 starts with \"007\")")
                                    : "not an AccessToken2: it must start with \"007\", got \"" +
                                          token::printable_prefix(token, 3) + "\"");
  const std::string compressed = token::decode_base64_body(token.substr(3), 3);
  // Real payloads are < 1 KiB: try a small buffer first, then the guard limit.
  std::string payload;
  std::size_t trailing_zlib = 0;
  Result r;
  for (std::size_t cap : {std::size_t{4096}, token::kMaxPayloadBytes}) {
    payload.assign(cap, '\0');
    r = deflate::inflate_zlib(reinterpret_cast<const std::uint8_t*>(compressed.data()), compressed.size(),
                              reinterpret_cast<std::uint8_t*>(payload.data()), payload.size(), &trailing_zlib);
    if (r.code != Errc::kOutputTooLarge) break;
  }
  if (!r.ok())
    throw DecodeError("zlib", r.count,
                      std::string(errc_message(r.code)) + " (at byte " + std::to_string(r.count) +
                          " of the decoded base64)");
  payload.resize(r.count);

  Decoded007 d;
  d.trailing_zlib_bytes = trailing_zlib;
  wire::Reader top(payload);
  std::string_view sig;
  if (!top.str(sig)) truncated(top.offset(), "the signature field");
  d.signature.assign(sig);
  const std::size_t base = top.offset();
  d.signing_info.assign(top.rest());

  wire::Reader in(d.signing_info);
  auto at = [&] { return base + in.offset(); };
  std::string_view app_id;
  if (!in.str(app_id)) truncated(at(), "the app id");
  d.token.app_id.assign(app_id);
  if (!in.u32(d.token.issue_ts)) truncated(at(), "issue_ts");
  if (!in.u32(d.token.expire)) truncated(at(), "expire");
  if (!in.u32(d.token.salt)) truncated(at(), "salt");
  if (!in.u16(d.services_declared)) truncated(at(), "the service count");

  for (std::uint16_t i = 0; i < d.services_declared; ++i) {
    // Descriptions are built only when a read fails, not for every service of a valid token.
    auto where = [i] { return "service #" + std::to_string(i + 1); };
    Service s;
    if (!in.u16(s.type)) truncated(at(), "the type of " + where() + " (the service count says " +
                                             std::to_string(d.services_declared) + ")");
    if (!is_known_service_type(s.type)) {
      // No length prefix: an unknown record cannot be skipped. Stop with success, like every
      // reference; the signature still covers the raw bytes (§3.1 step 4).
      d.stopped_at_unknown = true;
      d.unknown_type = s.type;
      break;
    }
    auto what = [&] { return where() + " (" + service_name(s.type) + ")"; };
    std::uint16_t n = 0;
    if (!in.u16(n)) truncated(at(), "the privilege count of " + what());
    for (std::uint16_t k = 0; k < n; ++k) {
      std::uint16_t id = 0;
      std::uint32_t value = 0;
      if (!in.u16(id) || !in.u32(value)) truncated(at(), "privilege " + std::to_string(k + 1) + " of " + what());
      s.privileges.emplace_back(id, value);
    }
    const auto names = service_field_names(s.type);
    for (std::string_view name : names) {
      std::string_view v;
      if (!in.str(v)) truncated(at(), std::string(name) + " of " + what());
      s.fields.emplace_back(v);
    }
    if (s.type == kServiceApaas) {
      std::uint16_t role = 0;
      if (!in.u16(role)) truncated(at(), "the role of " + what());
      s.role = static_cast<std::int16_t>(role);
    }
    if (s.type == kServiceRtm2) {
      std::uint16_t ntypes = 0;
      if (!in.u16(ntypes)) truncated(at(), "the permission block of " + what());
      for (std::uint16_t t = 0; t < ntypes; ++t) {
        std::uint16_t rtype = 0, nperm = 0;
        if (!in.u16(rtype) || !in.u16(nperm)) truncated(at(), "the permission block of " + what());
        for (std::uint16_t p = 0; p < nperm; ++p) {
          Rtm2Grant g;
          g.resource_type = rtype;
          std::uint16_t nres = 0;
          if (!in.u16(g.permission_type) || !in.u16(nres)) truncated(at(), "the permission block of " + what());
          for (std::uint16_t k = 0; k < nres; ++k) {
            std::string_view res;
            if (!in.str(res)) truncated(at(), "a resource name in " + what());
            g.resources.emplace_back(res);
          }
          s.permissions.push_back(std::move(g));
        }
      }
    }
    d.token.services.push_back(std::move(s));
  }
  d.trailing_bytes = d.stopped_at_unknown ? 0 : in.remaining();
  return d;
}

}  // namespace mintlane
