// token_template.cpp - deriving and rendering batch templates.
#include "batch/token_template.hpp"

#include <cstring>

#include "token/pack.hpp"
#include "wire/packer.hpp"

namespace mintlane::batch {

namespace {
// Control bytes never pass the input rules, so these cannot collide with real values.
constexpr std::string_view kChannelA = "\x01mintlane:channel\x01";
constexpr std::string_view kUserA = "\x02mintlane:user\x02";
constexpr std::string_view kChannelB = "\x03chB\x03";
constexpr std::string_view kUserB = "\x04user-b\x04";

std::string packed(const SpecFactory& factory, std::string_view app_id, std::uint32_t issue_ts,
                   std::string_view channel, std::string_view user, std::uint32_t* expire) {
  const TokenSpec spec = factory(channel, user);
  if (expire) *expire = spec.expire;
  std::string out;
  token::pack_signing_info_into(out, app_id, issue_ts, spec.expire, 0, spec.services);
  return out;
}
}  // namespace

std::optional<TokenTemplate> TokenTemplate::make(const SpecFactory& factory, std::string_view app_id,
                                                 std::uint32_t issue_ts) {
  TokenTemplate t;
  const std::string a = packed(factory, app_id, issue_ts, kChannelA, kUserA, &t.expire_);
  t.salt_offset_ = 2 + app_id.size() + 8;
  // Scan for length-prefixed sentinels after the fixed header.
  std::size_t pos = 0;
  while (pos < a.size()) {
    std::size_t next = std::string::npos;
    SlotKind kind = SlotKind::kChannel;
    std::size_t len = 0;
    for (auto [s, k] : {std::pair{kChannelA, SlotKind::kChannel}, std::pair{kUserA, SlotKind::kUser}}) {
      std::size_t hit = a.find(s, pos);
      while (hit != std::string::npos && (hit < 2 || static_cast<unsigned char>(a[hit - 2]) != s.size() || a[hit - 1] != 0))
        hit = a.find(s, hit + 1);
      if (hit != std::string::npos && hit < next) {
        next = hit;
        kind = k;
        len = s.size();
      }
    }
    if (next == std::string::npos) {
      t.bytes_.append(a, pos, std::string::npos);
      break;
    }
    if (next - 2 < t.salt_offset_ + 4) return std::nullopt;  // slots must follow the fixed header
    t.bytes_.append(a, pos, next - 2 - pos);
    t.slots_.push_back({t.bytes_.size(), kind});
    (kind == SlotKind::kChannel ? t.n_channel_ : t.n_user_) += 1;
    pos = next + len;
  }
  // Prove the cut: rendering other values must equal packing them directly.
  const std::string b = packed(factory, app_id, issue_ts, kChannelB, kUserB, nullptr);
  std::string rendered(t.size(kChannelB.size(), kUserB.size()), '\0');
  t.render(reinterpret_cast<std::uint8_t*>(rendered.data()), kChannelB, kUserB, 0);
  if (rendered != b) return std::nullopt;
  return t;
}

std::size_t TokenTemplate::render(std::uint8_t* out, std::string_view channel, std::string_view user,
                                  std::uint32_t salt) const noexcept {
  const char* src = bytes_.data();
  std::size_t from = 0, o = 0;
  for (const Slot& s : slots_) {
    std::memcpy(out + o, src + from, s.at - from);
    o += s.at - from;
    from = s.at;
    const std::string_view v = s.kind == SlotKind::kChannel ? channel : user;
    wire::store_u16(out + o, static_cast<std::uint16_t>(v.size()));
    std::memcpy(out + o + 2, v.data(), v.size());
    o += 2 + v.size();
  }
  std::memcpy(out + o, src + from, bytes_.size() - from);
  o += bytes_.size() - from;
  wire::store_u32(out + salt_offset_, salt);  // the salt precedes every slot
  return o;
}

}  // namespace mintlane::batch
