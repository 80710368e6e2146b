// row_format.hpp - one pool row as CSV, JSONL, a k6 array element, a vegeta target or a locust
// CSV line, written straight into a caller's buffer (no allocation per row).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mintlane/bulk.hpp"

namespace mintlane::bulk {

struct RowFields {
  std::string_view channel;
  std::string_view user;       // decimal uid or account
  bool is_account = false;
  RtcRole role = RtcRole::kPublisher;
  std::string_view token;
  std::uint32_t issued_at = 0;
  std::uint32_t expire = 0;    // expires_at = issued_at + expire
  // Optional pre-rendered decimals of issued_at and expires_at (the same for a whole group of rows).
  std::string_view issued_text, expires_text;
};

class RowFormatter {
 public:
  // Parses the vegeta templates when format is kVegeta; throws InvalidArgument naming
  // "vegeta_url" / "vegeta_header" / "vegeta_method" for a bad template.
  RowFormatter(Format format, const VegetaOptions& vegeta);
  std::string header() const;   // plain bytes that start a file of this format
  std::string footer() const;   // plain bytes that end it
  std::vector<std::string> columns() const;
  // An upper bound of the bytes format() writes for `r`.
  std::size_t bound(const RowFields& r) const noexcept;
  // Writes the row (with its line end, or the k6 separator before it unless `first`) at `out`
  // (>= bound(r) bytes) and returns the bytes written. Thread-safe (const).
  std::size_t format(const RowFields& r, bool first, char* out) const noexcept;

  enum class Field : std::uint8_t { kLiteral, kChannel, kUid, kAccount, kUser, kRole, kToken, kExpire, kIssuedAt,
                                    kExpiresAt, kTokenType };
  struct Segment {
    Field field = Field::kLiteral;
    std::string text;  // kLiteral: already JSON-escaped
  };

 private:
  std::size_t render(const std::vector<Segment>& tmpl, const RowFields& r, bool percent, char* out) const noexcept;
  std::size_t template_bound(const std::vector<Segment>& tmpl, const RowFields& r) const noexcept;

  Format format_;
  std::string method_json_;                     // JSON-escaped
  std::vector<Segment> url_;
  // JSON-escaped name and its value templates (a repeated name gives several values, as vegeta's
  // header map holds a list per name).
  std::vector<std::pair<std::string, std::vector<std::vector<Segment>>>> headers_;
};

// Decimal digits of v written at out; returns the count (1..20).
std::size_t write_u64(std::uint64_t v, char* out) noexcept;

}  // namespace mintlane::bulk
