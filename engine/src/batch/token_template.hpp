// token_template.hpp - a batch layout's signing_info as constant bytes plus slots for the
// per-token channel and user strings (DESIGN.md "payload template per (layout, channel)").
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "deflate/template_plan.hpp"
#include "mintlane/minter.hpp"

namespace mintlane::batch {

class TokenTemplate {
 public:
  enum class SlotKind : std::uint8_t { kChannel, kUser };

  // Packs factory(sentinels) once and cuts it at every length-prefixed sentinel. Returns nullopt
  // when the layout cannot be templated (a field derived from the inputs, such as the APaaS chat
  // id = md5(user), or a sentinel that went missing): callers then build each token's spec.
  static std::optional<TokenTemplate> make(const SpecFactory& factory, std::string_view app_id,
                                           std::uint32_t issue_ts);

  // Bytes of signing_info for the given slot values.
  std::size_t size(std::size_t channel_len, std::size_t user_len) const noexcept {
    return bytes_.size() + n_channel_ * (2 + channel_len) + n_user_ * (2 + user_len);
  }
  // Writes signing_info to out (size(...) bytes) and returns that size. Values must be <= 65535
  // bytes (the Minter checks).
  std::size_t render(std::uint8_t* out, std::string_view channel, std::string_view user,
                     std::uint32_t salt) const noexcept;
  // The whole 007 payload ([20 00][32-byte signature][signing_info]) as the parts of a
  // deflate::TemplatePlan: the signature and the salt are fixed holes, each slot a length-prefixed
  // hole, everything else constant; a second slot of one kind is marked as repeating the first
  // (same_as), since render() writes one value into both. Depends on the template only, so the
  // bytes of a token never depend on the batch it was minted in.
  std::vector<deflate::PlanPart> plan_parts() const;
  // For TemplatePlan::specialize: the values of plan_parts()' holes that every token of a batch
  // shares (nullopt: varies). Values must be <= 65535 bytes.
  std::vector<std::optional<std::string_view>> plan_values(std::optional<std::string_view> channel,
                                                           std::optional<std::string_view> user) const;
  // Equal for equal templates: what a cache of plans is keyed by.
  std::string key() const;
  bool uses_channel() const noexcept { return n_channel_ > 0; }
  bool uses_user() const noexcept { return n_user_ > 0; }
  std::uint32_t expire() const noexcept { return expire_; }

 private:
  struct Slot {
    std::size_t at;  // offset in bytes_ where the slot goes
    SlotKind kind;
  };
  std::string bytes_;
  std::vector<Slot> slots_;
  std::size_t salt_offset_ = 0;
  std::size_t n_channel_ = 0, n_user_ = 0;
  std::uint32_t expire_ = 0;
};

}  // namespace mintlane::batch
