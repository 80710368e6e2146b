// pool_verify.cpp - checks every row of a pool (bulk.hpp PoolVerifier): decode, signature,
// channel/user binding, role privileges, issued_at/expires_at columns, the expiry window, and the
// (channel, user) keys used to find duplicates. Rows are checked in parallel on a thread pool.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>
#include <thread>

#include "batch/thread_pool.hpp"
#include "mintlane/bulk.hpp"
#include "mintlane/credentials.hpp"
#include "mintlane/errors.hpp"
#include "mintlane/token.hpp"

namespace mintlane::bulk {

namespace {

// Tokens may be a little ahead of this machine's clock (another machine minted them).
constexpr std::uint64_t kClockSkew = 300;
constexpr std::size_t kRowsPerTask = 256;

std::uint64_t mix64(std::uint64_t z) noexcept {  // splitmix64 finaliser
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Why a row fails, or nothing.
std::optional<RowProblem> check_row(const PoolRow& row, std::string_view cert, const std::optional<std::string>& app_id,
                                    std::optional<std::uint64_t> now) {
  auto problem = [](const char* status, std::string reason) {
    return std::optional<RowProblem>(RowProblem{0, status, std::move(reason)});
  };
  if (row.token.empty()) return problem("malformed", "the row has no token");
  if (row.token.substr(0, 3) != "007") return problem("malformed", "not a 007 token (it does not start with \"007\")");
  Decoded007 d;
  try {
    d = decode_007(row.token);
  } catch (const DecodeError& e) {
    return problem("malformed", e.what());
  }
  VerifyOptions o;
  o.now = now;
  o.channel = std::string(row.channel);
  if (row.is_account) {
    o.account = std::string(row.user);
  } else {
    std::uint64_t uid = 0;
    const auto [ptr, ec] = std::from_chars(row.user.data(), row.user.data() + row.user.size(), uid);
    if (row.user.empty() || ec != std::errc() || ptr != row.user.data() + row.user.size() || uid > 0xffffffffULL)
      return problem("bad_row", "uid '" + std::string(row.user.substr(0, 40)) + "' is not 0..4294967295");
    o.uid = static_cast<std::uint32_t>(uid);
  }
  const VerifyResult v = verify_007(d, cert, o);
  if (!v.ok()) return problem(verify_status_name(v.status), v.reason);
  if (app_id && d.token.app_id != *app_id)
    return problem("wrong_app_id", "token is for app id " + d.token.app_id + ", not " + *app_id);
  const std::uint64_t expires_at = std::uint64_t{d.token.issue_ts} + d.token.expire;
  if (now && *now + kClockSkew < d.token.issue_ts)
    return problem("not_yet_valid", "token issued at " + std::to_string(d.token.issue_ts) + ", after now (" +
                                        std::to_string(*now) + ")");
  if (row.issued_at >= 0 && static_cast<std::uint64_t>(row.issued_at) != d.token.issue_ts)
    return problem("wrong_issued_at", "issued_at column says " + std::to_string(row.issued_at) + ", the token " +
                                          std::to_string(d.token.issue_ts));
  if (row.expires_at >= 0 && static_cast<std::uint64_t>(row.expires_at) != expires_at)
    return problem("wrong_expires_at", "expires_at column says " + std::to_string(row.expires_at) + ", the token " +
                                           std::to_string(expires_at));
  if (row.role == 1 || row.role == 2) {
    // The RTC service of the row's channel: publishers hold the three publish privileges,
    // subscribers none (TOKEN_FORMAT.md §4.1).
    for (const Service& s : d.token.services) {
      if (s.type != kServiceRtc || !channel_matches(s.fields[0], row.channel)) continue;
      int publish = 0;
      for (const auto& p : s.privileges)
        if (p.first >= privilege::kRtcPublishAudio && p.first <= privilege::kRtcPublishData) ++publish;
      if (row.role == 1 && publish != 3)
        return problem("wrong_role", "row says publisher but the token grants " + std::to_string(publish) +
                                         " of the 3 publish privileges");
      if (row.role == 2 && publish != 0)
        return problem("wrong_role", "row says subscriber but the token grants publish privileges");
      break;
    }
  }
  return std::nullopt;
}

}  // namespace

struct PoolVerifier::Impl {
  Credentials credentials;  // the certificate, wiped on destruction; app id is a placeholder
  std::optional<std::string> app_id;
  std::optional<std::uint64_t> now;
  batch::ThreadPool pool;
  std::vector<std::uint64_t> keys;

  Impl(std::string_view cert, std::optional<std::string> id, std::optional<std::uint64_t> t, unsigned threads)
      : credentials("00000000000000000000000000000000", cert),
        app_id(std::move(id)),
        now(t),
        pool(threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency())) {
    if (app_id && !is_hex32(*app_id))
      throw InvalidArgument("app_id", "app_id: must be exactly 32 hexadecimal characters");
  }
};

PoolVerifier::PoolVerifier(std::string_view app_certificate, std::optional<std::string> app_id,
                           std::optional<std::uint64_t> now, unsigned threads)
    : impl_(std::make_unique<Impl>(app_certificate, std::move(app_id), now, threads)) {}
PoolVerifier::~PoolVerifier() = default;

std::uint64_t PoolVerifier::pair_key(std::string_view channel, std::string_view user, bool is_account) noexcept {
  // FNV-1a over channel, a separator that cannot occur in either value, the user kind and the
  // user; then a strong finaliser.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto eat = [&](std::string_view s) {
    for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  };
  eat(channel);
  eat(is_account ? std::string_view("\0a", 2) : std::string_view("\0u", 2));
  eat(user);
  return mix64(h);
}

std::vector<RowProblem> PoolVerifier::check(std::span<const PoolRow> rows) {
  Impl& im = *impl_;
  const std::size_t base = im.keys.size();
  im.keys.resize(base + rows.size());
  const std::size_t tasks = (rows.size() + kRowsPerTask - 1) / kRowsPerTask;
  std::atomic<std::size_t> next{0};  // relaxed: tasks write disjoint outputs; run() publishes them
  std::mutex mu;
  std::vector<RowProblem> problems;
  const std::string_view cert = im.credentials.certificate();
  im.pool.run([&](unsigned) {
    std::vector<RowProblem> mine;
    for (;;) {
      const std::size_t t = next.fetch_add(1, std::memory_order_relaxed);
      if (t >= tasks) break;
      const std::size_t end = std::min(rows.size(), (t + 1) * kRowsPerTask);
      for (std::size_t i = t * kRowsPerTask; i < end; ++i) {
        const PoolRow& r = rows[i];
        im.keys[base + i] = pair_key(r.channel, r.user, r.is_account);
        if (auto p = check_row(r, cert, im.app_id, im.now)) {
          p->index = i;
          mine.push_back(std::move(*p));
        }
      }
    }
    if (!mine.empty()) {
      std::lock_guard lock(mu);
      for (RowProblem& p : mine) problems.push_back(std::move(p));
    }
  });
  std::sort(problems.begin(), problems.end(), [](const RowProblem& a, const RowProblem& b) { return a.index < b.index; });
  return problems;
}

std::vector<std::uint64_t> PoolVerifier::duplicate_keys() {
  std::vector<std::uint64_t>& k = impl_->keys;
  std::sort(k.begin(), k.end());
  std::vector<std::uint64_t> dups;
  for (std::size_t i = 1; i < k.size(); ++i)
    if (k[i] == k[i - 1] && (dups.empty() || dups.back() != k[i])) dups.push_back(k[i]);
  return dups;
}

std::uint64_t PoolVerifier::rows_checked() const noexcept { return impl_->keys.size(); }

}  // namespace mintlane::bulk
