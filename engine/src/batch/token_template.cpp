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

namespace {
// Typical slot lengths (a channel name, a uid's digits). They only steer the parse's cost estimate
// of back-references across a slot; fixed here so that a plan depends on the layout alone.
constexpr std::size_t kUsualChannel = 32;
constexpr std::size_t kUsualUser = 10;
}  // namespace

std::vector<deflate::PlanPart> TokenTemplate::plan_parts() const {
  using deflate::PlanPart;
  std::vector<PlanPart> parts;
  const std::string_view b(bytes_);
  parts.push_back(PlanPart::constant(std::string_view("\x20\x00", 2)));  // u16 signature length
  parts.push_back(PlanPart::fixed_hole(32));
  parts.push_back(PlanPart::constant(b.substr(0, salt_offset_)));  // app id, issue_ts, expire
  parts.push_back(PlanPart::fixed_hole(4));
  std::size_t first_hole[2] = {PlanPart::kNone, PlanPart::kNone};  // by SlotKind
  std::size_t from = salt_offset_ + 4;
  for (const Slot& s : slots_) {
    parts.push_back(PlanPart::constant(b.substr(from, s.at - from)));
    from = s.at;
    std::size_t& first = first_hole[static_cast<int>(s.kind)];
    parts.push_back(PlanPart::prefixed_hole(s.kind == SlotKind::kChannel ? kUsualChannel : kUsualUser, first));
    if (first == PlanPart::kNone) first = parts.size() - 1;
  }
  parts.push_back(PlanPart::constant(b.substr(from)));
  return parts;
}

std::vector<std::optional<std::string_view>> TokenTemplate::plan_values(std::optional<std::string_view> channel,
                                                                        std::optional<std::string_view> user) const {
  std::vector<std::optional<std::string_view>> values(4);  // as plan_parts(): constant, signature, constant, salt
  for (const Slot& s : slots_) {
    values.emplace_back();  // the constant before the slot
    values.push_back(s.kind == SlotKind::kChannel ? channel : user);
  }
  values.emplace_back();
  return values;
}

std::string TokenTemplate::key() const {
  const std::size_t size = bytes_.size();
  std::string k(reinterpret_cast<const char*>(&size), sizeof size);  // so that no key is a prefix of another
  k += bytes_;
  for (const Slot& s : slots_) {
    k.append(reinterpret_cast<const char*>(&s.at), sizeof s.at);
    k.push_back(static_cast<char>(s.kind));
  }
  k.append(reinterpret_cast<const char*>(&salt_offset_), sizeof salt_offset_);
  return k;
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
