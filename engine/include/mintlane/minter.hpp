// minter.hpp - Minter: validated credentials + compression + a worker pool; mints one token or
// a batch of N tokens that share one layout (DESIGN.md "Batch").
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mintlane/builders.hpp"
#include "mintlane/credentials.hpp"
#include "mintlane/token.hpp"

namespace mintlane {

struct MinterOptions {
  Compression compression = Compression::kFast;
  unsigned threads = 0;  // worker threads for batches; 0 = all cores
};

// The result of a batch: every token in one arena plus a start offset and a length per token
// (no per-token object). Tokens lie in index order; chunks of tokens may be separated by unused
// bytes, so always address token i through start(i)/length(i). Arenas come from the Minter's
// pool and go back to it when the last TokenBatch sharing them is destroyed, so their pages stay
// warm across batches (PERF_NOTES: a fresh page costs 13-23 us on these VMs).
class TokenBatch {
 public:
  struct Storage;
  TokenBatch() = default;
  explicit TokenBatch(std::shared_ptr<const Storage> storage) : storage_(std::move(storage)) {}
  std::size_t size() const noexcept;
  std::string_view operator[](std::size_t i) const noexcept;  // i < size()
  std::size_t total_chars() const noexcept;                    // sum of the token lengths
  std::uint32_t issue_ts() const noexcept;
  const char* arena() const noexcept;
  std::span<const std::uint64_t> starts() const noexcept;
  std::span<const std::uint32_t> lengths() const noexcept;
  // Writes every token followed by `sep` into out (total_chars() + size() * sep.size() bytes).
  void join(char* out, std::string_view sep) const noexcept;

 private:
  std::shared_ptr<const Storage> storage_;
};

// Per-token inputs of a batch. Exactly one of uids / uid_range / accounts is used for the user
// column (or none for layouts without a user); channels has 1 (shared) or `count` entries.
struct BatchColumns {
  std::size_t count = 0;
  std::vector<std::string> channels;
  std::span<const std::uint32_t> uids;                       // numeric uids
  std::optional<std::uint64_t> uid_start;                    // uid_start + i (checked <= 2^32-1)
  std::vector<std::string> accounts;                         // string accounts / user ids
  std::span<const std::uint32_t> salts;                      // optional override, `count` entries
  std::optional<std::uint32_t> issue_ts;                     // default: now
};

// Builds the (unvalidated) spec for one token from its channel and user string. Batches call it
// once with sentinel values to derive a byte template, then only for layouts that cannot be
// templated (derived fields such as the APaaS chat id).
using SpecFactory = std::function<TokenSpec(std::string_view channel, std::string_view user)>;

class Minter {
 public:
  Minter(std::string_view app_id, std::string_view app_certificate, MinterOptions options = {});
  ~Minter();
  Minter(const Minter&) = delete;
  Minter& operator=(const Minter&) = delete;

  // One token. Thread-safe. salt / issue_ts override the CSPRNG salt and the clock.
  std::string mint(const TokenSpec& spec, std::optional<std::uint32_t> salt = std::nullopt,
                   std::optional<std::uint32_t> issue_ts = std::nullopt) const;

  // N tokens of one layout on the worker pool (columns must already be validated by the caller;
  // this checks only their shapes). With salts and issue_ts fixed, every token carries exactly
  // the payload mint() signs for the same inputs, and the strings are identical whatever the
  // thread count or the grouping into batches. For kIsal/kExact they also equal mint()'s strings;
  // kFast batches compress with a per-layout template plan, so their deflate bytes may differ
  // from mint()'s (same payload, equally valid). Thread-safe.
  TokenBatch mint_batch(const SpecFactory& factory, const BatchColumns& columns) const;

  // 006 token (absolute timestamps). Thread-safe.
  std::string mint_006(std::string_view channel, std::string_view uid,
                       const std::vector<std::pair<std::uint16_t, std::uint32_t>>& privileges,
                       std::uint32_t ts, std::optional<std::uint32_t> salt = std::nullopt) const;

  std::string_view app_id() const noexcept { return credentials_.app_id(); }
  Compression compression() const noexcept { return options_.compression; }
  unsigned threads() const noexcept;
  const Credentials& credentials() const noexcept { return credentials_; }

 private:
  struct Impl;
  Credentials credentials_;
  MinterOptions options_;
  std::unique_ptr<Impl> impl_;
};

// Current Unix time in seconds (u32).
std::uint32_t unix_now() noexcept;
// Fills `out` with CSPRNG output (OpenSSL RAND_bytes); throws std::runtime_error on failure.
void random_u32(std::uint32_t* out, std::size_t n);

// Names of the kernels in use, e.g. {"sha": "shani_x3", "base64": "avx512vbmi", ...}.
std::vector<std::pair<std::string, std::string>> active_kernels();

}  // namespace mintlane
