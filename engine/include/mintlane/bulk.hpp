// bulk.hpp - token pools (DESIGN.md "Scale", issue 5): rows minted in chunks and formatted as CSV,
// JSONL, a k6 JSON array, vegeta targets or a locust CSV, optionally gzip'd with ISA-L igzip; a
// streaming SHA-256 + write(2) sink; and the verification of a pool's rows.
//
// The per-token path is C++ only: a PoolWriter splits a chunk into blocks, each block is minted
// (Minter::mint_batch on a single-threaded Minter), formatted and (optionally) compressed into its
// own gzip member by one participant of a thread pool; the caller then writes the blocks in order.
// Concatenated gzip members are one valid gzip file (RFC 1952 §2.2) for zcat and Python's gzip.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mintlane/builders.hpp"
#include "mintlane/minter.hpp"

namespace mintlane::bulk {

// ---- formats and token kinds -----------------------------------------------------------------
enum class Format { kCsv, kJsonl, kK6, kVegeta, kLocust };
// "csv", "jsonl", "k6", "vegeta", "locust"; throws InvalidArgument naming "format" otherwise.
Format parse_format(std::string_view name);
const char* format_name(Format f) noexcept;

enum class TokenKind { kRtc, kRtcRtm };
// "rtc" (uid or account) or "rtc-rtm" (RTC + RTM login; accounts only); throws InvalidArgument.
TokenKind parse_token_kind(std::string_view name);
const char* token_kind_name(TokenKind k) noexcept;
const char* role_name(RtcRole r) noexcept;  // "publisher", "subscriber"

// ---- inputs ------------------------------------------------------------------------------------
// A generated pool: `channels` channels x `users_per_channel` users, channel-major. Row r is in
// channel c = r / users_per_channel, position j = r % users_per_channel; the first
// `publishers_per_channel` positions of every channel are publishers, the rest subscribers. The
// user number is uid_start + j (uids_restart_per_channel) or uid_start + r (unique in the pool).
struct Generator {
  TokenKind kind = TokenKind::kRtc;
  std::uint64_t channels = 1;
  std::uint64_t users_per_channel = 1;
  std::string channel_prefix = "channel-";
  unsigned channel_digits = 0;        // zero-pad channel numbers to this width; 0: the largest's width
  std::uint64_t channel_start = 1;    // number of the first channel
  std::uint64_t uid_start = 1;
  bool uids_restart_per_channel = false;
  bool accounts = false;              // users are string accounts account_prefix + number
  std::string account_prefix = "user-";
  std::uint64_t publishers_per_channel = 0;
  std::uint32_t expire = 3600;

  std::uint64_t size() const noexcept { return channels * users_per_channel; }
  // Checks every field (and that every channel name, uid and account of the pool is valid);
  // throws InvalidArgument naming the field. Call once before minting.
  void validate() const;
  std::string channel_name(std::uint64_t channel_index) const;  // channel_index < channels
  std::uint64_t user_number(std::uint64_t row) const noexcept;
  RtcRole role(std::uint64_t row) const noexcept;
};

// Request rows read from a file: validated, columnar. Not thread-safe while being extended.
class Requests {
 public:
  explicit Requests(TokenKind kind = TokenKind::kRtc) : kind_(kind) {}
  // Validates one row and appends it. `user` is a decimal uid (0..4294967295) when !is_account,
  // else an account (1..255 bytes of Agora's set); role "publisher"/"subscriber"/"1"/"2" (any
  // case); expire 1..86400. `id` is a stable row number (used to derive reproducible salts).
  // Returns "" when the row was appended, else the message "<field>: <problem> (<rule>)" and the
  // row is not appended.
  std::string add(std::string_view channel, std::string_view user, bool is_account, std::string_view role,
                  std::int64_t expire, std::uint64_t id);
  std::size_t size() const noexcept { return roles_.size(); }
  void clear() noexcept;
  TokenKind kind() const noexcept { return kind_; }

  std::string_view channel(std::size_t i) const noexcept { return channels_[i]; }
  std::string_view user(std::size_t i) const noexcept { return users_[i]; }  // decimal uid or account
  bool is_account(std::size_t i) const noexcept { return is_account_[i] != 0; }
  std::uint32_t uid(std::size_t i) const noexcept { return uids_[i]; }      // !is_account rows
  RtcRole role(std::size_t i) const noexcept { return static_cast<RtcRole>(roles_[i]); }
  std::uint32_t expire(std::size_t i) const noexcept { return expires_[i]; }
  std::uint64_t id(std::size_t i) const noexcept { return ids_[i]; }

 private:
  TokenKind kind_;
  std::vector<std::string> channels_, users_;
  std::vector<std::uint8_t> is_account_, roles_;
  std::vector<std::uint32_t> uids_, expires_;
  std::vector<std::uint64_t> ids_;
};

// ---- output ------------------------------------------------------------------------------------
// Vegeta targets (vegeta's JSON target format, one object per line). `url` and header values
// are templates with {channel} {uid} {account} {user} {role} {token} {expire} {issued_at}
// {expires_at} {tokentype} ("uid"/"userAccount", as the token server's routes name them); "{{"
// and "}}" are literal braces. Values are percent-encoded (RFC 3986 unreserved kept) in the
// URL and written verbatim in headers.
struct VegetaOptions {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // name, value template
};

struct PoolOptions {
  Format format = Format::kCsv;
  int gzip_level = -1;                     // -1: plain text; 0..3: ISA-L igzip level
  std::optional<std::uint32_t> issue_ts;   // default: the clock, read once per chunk
  std::optional<std::uint64_t> salt_seed;  // reproducible salts derived from (seed, row id); default CSPRNG
  VegetaOptions vegeta;
  unsigned threads = 0;                    // 0: all cores
  std::size_t block_rows = 4096;           // rows per unit of parallel work (one gzip member each)
};

// The output of one chunk: blocks of bytes to be written in order. Reused across chunks so its
// pages stay warm (PERF_NOTES: a fresh page costs 13-23 us on these VMs). Not thread-safe.
class Chunk {
 public:
  Chunk();
  ~Chunk();
  Chunk(Chunk&&) noexcept;
  Chunk& operator=(Chunk&&) noexcept;
  std::size_t rows() const noexcept { return rows_; }
  std::size_t bytes() const noexcept;        // bytes to write (compressed when gzip)
  std::size_t text_bytes() const noexcept;   // formatted bytes before compression
  std::uint32_t issue_ts() const noexcept { return issue_ts_; }
  std::size_t blocks() const noexcept { return used_; }
  std::string_view block(std::size_t i) const noexcept;  // i < blocks()

 private:
  friend class PoolWriter;
  struct Block;
  std::vector<std::unique_ptr<Block>> blocks_;
  std::size_t used_ = 0;
  std::size_t rows_ = 0;
  std::uint32_t issue_ts_ = 0;
};

class PoolWriter {
 public:
  // Copies the minter's credentials and compression into a single-threaded Minter per writer
  // (the writer's own pool provides the parallelism). Throws InvalidArgument for bad options (an
  // unknown vegeta placeholder, a gzip level outside 0..3, a vegeta format without a url, ...).
  PoolWriter(const Minter& minter, PoolOptions options);
  ~PoolWriter();
  PoolWriter(const PoolWriter&) = delete;
  PoolWriter& operator=(const PoolWriter&) = delete;

  // Bytes that start / end every file of this format (CSV header line, "[\n" / "\n]\n" for k6),
  // already gzip'd when the output is. Empty when the format has none.
  std::string header() const;
  std::string footer() const;
  // The columns of a row in this format (for docs and tests).
  std::vector<std::string> columns() const;

  // Mints rows [begin, end) of `g` (validated) into `out`, replacing its previous contents.
  // `rows_before` is how many rows the file already holds (the k6 array separator). Not
  // thread-safe: one fill at a time per writer. Releases no locks of its own; call without the GIL.
  void fill(const Generator& g, std::uint64_t begin, std::uint64_t end, std::uint64_t rows_before, Chunk& out);
  // Mints rows [begin, end) of `r` into `out`.
  void fill(const Requests& r, std::size_t begin, std::size_t end, std::uint64_t rows_before, Chunk& out);

  const PoolOptions& options() const noexcept;
  unsigned threads() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Appends bytes to a file descriptor while computing their SHA-256 (hex digest at the end).
// write(2) is retried on EINTR and short writes; failures throw std::system_error. Not
// thread-safe; the fd is not owned.
class FileSink {
 public:
  explicit FileSink(int fd);
  ~FileSink();
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;
  void write(std::string_view bytes);
  void write(const Chunk& chunk);
  std::uint64_t bytes() const noexcept { return bytes_; }
  std::string hexdigest() const;  // of everything written so far (the sink can keep writing)

 private:
  struct Hash;
  int fd_;
  std::uint64_t bytes_ = 0;
  std::unique_ptr<Hash> hash_;
};

// Streaming SHA-256 (FIPS 180-4) with the engine's active SHA kernel.
class Sha256 {
 public:
  Sha256() noexcept;
  void update(const void* data, std::size_t n) noexcept;
  void digest(std::uint8_t out[32]) const noexcept;  // does not finish the object
  std::string hexdigest() const;

 private:
  std::uint32_t state_[8];
  std::uint8_t buf_[64];
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

// ---- verification ---------------------------------------------------------------------------------
// One row of a pool as read back from a file.
struct PoolRow {
  std::string_view token;
  std::string_view channel;
  std::string_view user;        // decimal uid or account
  bool is_account = false;
  int role = 0;                 // 0: not given, 1 publisher, 2 subscriber
  std::int64_t issued_at = -1;  // -1: not given
  std::int64_t expires_at = -1;
};

struct RowProblem {
  std::size_t index = 0;   // index in the span passed to check()
  std::string status;      // "malformed", "bad_signature", "expired", "wrong_channel", "wrong_uid", ...
  std::string reason;
};

// Checks every row: decodes the token, verifies its signature with the certificate, that it is
// for the row's channel and user, that the role's privileges match, that issued_at/expires_at
// agree with the token and (when `now` is set) that now lies in [issue_ts, issue_ts + expire].
// Keys of (channel, user) pairs are kept (8 bytes per row) so that duplicates can be found once
// every row has been checked.
class PoolVerifier {
 public:
  // Throws InvalidArgument for a certificate (or app id, when given) that is not 32 hex chars.
  PoolVerifier(std::string_view app_certificate, std::optional<std::string> app_id,
               std::optional<std::uint64_t> now, unsigned threads = 0);
  ~PoolVerifier();
  PoolVerifier(const PoolVerifier&) = delete;
  PoolVerifier& operator=(const PoolVerifier&) = delete;

  // Problems of rows[...], sorted by index. Not thread-safe (one check at a time).
  std::vector<RowProblem> check(std::span<const PoolRow> rows);
  // Keys seen more than once among all rows checked so far (sorted, unique). Sorts the kept keys.
  std::vector<std::uint64_t> duplicate_keys();
  std::uint64_t rows_checked() const noexcept;
  // The key of a (channel, user) pair: a 64-bit hash (collisions are possible but ~n^2/2^65).
  static std::uint64_t pair_key(std::string_view channel, std::string_view user, bool is_account) noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- partitions ------------------------------------------------------------------------------------
// Rows [first, last) of partition p of `parts` over `total` rows: the same answer everywhere
// (local runs, Dask workers, mintlane.distributed). Throws InvalidArgument when parts == 0 or p >= parts.
std::pair<std::uint64_t, std::uint64_t> partition_range(std::uint64_t total, std::uint64_t parts, std::uint64_t p);

}  // namespace mintlane::bulk
