// cors.cpp - origin filter (TOKEN_SERVER.md §7, D7).
#include "server/cors.hpp"

namespace mintlane::server {

std::string_view trim_blank(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

CorsPolicy::CorsPolicy(const std::optional<std::string>& config) {
  if (!config) return;
  std::string_view all = trim_blank(*config);
  if (all == "*") {
    any_ = true;
    return;
  }
  while (!all.empty()) {
    std::size_t comma = all.find(',');
    std::string_view entry = trim_blank(all.substr(0, comma));
    if (!entry.empty()) origins_.emplace_back(entry);
    if (comma == std::string_view::npos) break;
    all.remove_prefix(comma + 1);
  }
}

CorsPolicy::Decision CorsPolicy::check(std::optional<std::string_view> origin) const noexcept {
  if (!origin || origin->empty()) return Decision::kNoOrigin;
  if (any_) return Decision::kAllowed;
  for (const std::string& o : origins_) {
    if (o == *origin) return Decision::kAllowed;
  }
  return Decision::kRefused;
}

}  // namespace mintlane::server
