// token006.cpp - legacy AccessToken ("006"): encode and decode (TOKEN_FORMAT.md §5).
#include <zlib.h>

#include <algorithm>
#include <string>

#include "base64/base64.hpp"
#include "crypto/hmac.hpp"
#include "mintlane/credentials.hpp"
#include "mintlane/errors.hpp"
#include "mintlane/token.hpp"
#include "token/text.hpp"
#include "wire/packer.hpp"

namespace mintlane {

std::uint32_t crc32(std::string_view data) noexcept {
  // zlib's crc32 takes a uInt length; token strings are far below 4 GiB.
  return static_cast<std::uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

namespace token {
std::string message_006(std::uint32_t salt, std::uint32_t ts,
                        std::vector<std::pair<std::uint16_t, std::uint32_t>> privileges) {
  std::stable_sort(privileges.begin(), privileges.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < privileges.size(); ++i)
    if (privileges[i].first == privileges[i - 1].first)
      throw InvalidArgument("privileges", "privileges: id " + std::to_string(privileges[i].first) +
                                              " appears twice (a privilege map has unique ids)");
  if (privileges.size() > 0xffff)
    throw InvalidArgument("privileges", "privileges: at most 65535 entries");
  std::string m;
  wire::put_u32(m, salt);
  wire::put_u32(m, ts);
  wire::put_u16(m, static_cast<std::uint16_t>(privileges.size()));
  for (const auto& [id, v] : privileges) {
    wire::put_u16(m, id);
    wire::put_u32(m, v);
  }
  return m;
}

std::array<std::uint8_t, 32> signature_006(std::string_view certificate, std::string_view app_id,
                                           std::string_view channel, std::string_view uid,
                                           std::string_view message) {
  std::string signed_bytes;
  signed_bytes.reserve(app_id.size() + channel.size() + uid.size() + message.size());
  signed_bytes.append(app_id).append(channel).append(uid).append(message);
  std::array<std::uint8_t, 32> sig{};
  crypto::hmac_sha256(reinterpret_cast<const std::uint8_t*>(certificate.data()), certificate.size(),
                      reinterpret_cast<const std::uint8_t*>(signed_bytes.data()), signed_bytes.size(), sig.data());
  return sig;
}
}  // namespace token

std::string encode_006(const AccessToken006& t, std::string_view certificate) {
  const Credentials creds(t.app_id, certificate);
  wire::check_str_length(t.channel, "channel");
  wire::check_str_length(t.uid, "uid");
  const std::string message = token::message_006(t.salt, t.ts, t.privileges);
  const auto sig = token::signature_006(creds.certificate(), t.app_id, t.channel, t.uid, message);
  std::string content;
  wire::put_str(content, std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()), "signature");
  wire::put_u32(content, crc32(t.channel));
  wire::put_u32(content, crc32(t.uid));
  wire::put_str(content, message, "message");
  std::string out = "006";
  out.append(t.app_id);
  const std::size_t head = out.size();
  out.resize(head + base64::encoded_size(content.size()));
  base64::encode(reinterpret_cast<const std::uint8_t*>(content.data()), content.size(), out.data() + head);
  return out;
}

Decoded006 decode_006(std::string_view token) {
  if (token.size() < 3 || token.substr(0, 3) != "006")
    throw DecodeError("prefix", 0,
                      token.empty() ? std::string("empty token (an AccessToken starts with \"006\")")
                                    : "not a 006 AccessToken: it must start with \"006\", got \"" +
                                          token::printable_prefix(token, 3) + "\"");
  if (token.size() < 35)
    throw DecodeError("prefix", token.size(),
                      "006 token too short: \"006\" must be followed by the 32-character app id and the content");
  Decoded006 d;
  d.app_id.assign(token.substr(3, 32));
  const std::string content = token::decode_base64_body(token.substr(35), 35);
  wire::Reader in(content);
  auto fail = [&](const char* what) {
    throw DecodeError("payload", in.offset(),
                      "006 content truncated at byte " + std::to_string(in.offset()) + " while reading " + what);
  };
  std::string_view sig, message;
  if (!in.str(sig)) fail("the signature");
  d.signature.assign(sig);
  if (!in.u32(d.crc_channel)) fail("the channel CRC");
  if (!in.u32(d.crc_uid)) fail("the uid CRC");
  if (!in.str(message)) fail("the message");
  d.message.assign(message);
  wire::Reader m(message);
  auto mfail = [&](const char* what) {
    throw DecodeError("payload", m.offset(),
                      "006 message truncated at byte " + std::to_string(m.offset()) + " while reading " + what);
  };
  std::uint16_t n = 0;
  if (!m.u32(d.salt)) mfail("salt");
  if (!m.u32(d.ts)) mfail("ts");
  if (!m.u16(n)) mfail("the privilege count");
  for (std::uint16_t i = 0; i < n; ++i) {
    std::uint16_t id = 0;
    std::uint32_t v = 0;
    if (!m.u16(id) || !m.u32(v)) mfail("a privilege");
    d.privileges.emplace_back(id, v);
  }
  return d;
}

}  // namespace mintlane
