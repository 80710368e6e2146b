// cors.hpp - the origin filter of TOKEN_SERVER.md §7 with deviation D7: requests without an
// Origin header are always served, list entries are trimmed.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mintlane::server {

class CorsPolicy {
 public:
  enum class Decision { kNoOrigin, kAllowed, kRefused };

  // `config` is CORS_ALLOW_ORIGIN: nullopt/blank = no origin allowed; "*" (after trimming) = any
  // origin; otherwise comma-separated exact origins, each trimmed of spaces and tabs (empty
  // entries dropped). Entries are compared case-sensitively; '*' inside a list is literal.
  explicit CorsPolicy(const std::optional<std::string>& config = std::nullopt);

  // An absent or empty Origin header is kNoOrigin (served normally, D7).
  Decision check(std::optional<std::string_view> origin) const noexcept;

  bool allows_any() const noexcept { return any_; }
  const std::vector<std::string>& origins() const noexcept { return origins_; }

 private:
  bool any_ = false;
  std::vector<std::string> origins_;
};

// Trims ASCII spaces and tabs at both ends.
std::string_view trim_blank(std::string_view s) noexcept;

}  // namespace mintlane::server
