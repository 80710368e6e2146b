// test_batch.cpp - Minter::mint_batch (DESIGN.md "Batch", STYLE.md §6): with fixed salts and
// issue_ts a batch equals the serial loop of Minter::mint byte for byte, whatever the thread
// count, layout (templated or not), batch size around the 512-token chunk and the inline
// threshold, compression, and forced kernel path (the paths MINTLANE_DISABLE_CPU_FEATURES
// selects); every entry decodes and verifies; TokenBatch storage stays valid while arenas are
// recycled; concurrent callers of one Minter get independent, correct results. Written to run
// clean under ThreadSanitizer (scripts/sanitize.sh runs '*Batch*:*Minter*:*Server*').
#include <gtest/gtest.h>
#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <barrier>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base64/base64.hpp"
#include "cpu/cpu.hpp"
#include "crypto/hmac.hpp"
#include "deflate/compress_fast_kernels.hpp"
#include "deflate/template_plan_kernels.hpp"
#include "mintlane/builders.hpp"
#include "mintlane/errors.hpp"
#include "mintlane/minter.hpp"
#include "mintlane/token.hpp"
#include "token/spec_detail.hpp"

namespace {

using namespace mintlane;

constexpr std::string_view kAppId = "970CA35de60c44645bbae8a215061b33";
constexpr std::string_view kCert = "5CFd2fd1755d40ecb72977518be15d3b";
constexpr std::string_view kChannel = "7d72365eb983485397e3e3f9d460bdda";
constexpr std::uint32_t kIssue = 1700000000;
constexpr unsigned kThreadCounts[] = {1, 2, 4};
// Around the chunk (512) and the inline threshold (1024) of engine/src/batch/minter.cpp.
constexpr std::size_t kSizes[] = {0, 1, 2, 511, 512, 513, 1023, 1024, 1025, 5000};

enum class UserColumn { kNone, kUidRange, kUidSpan, kAccounts };

struct Layout {
  const char* name;
  SpecFactory factory;
  UserColumn user;
  bool channel;              // uses a channel
  bool per_token_channels;   // one channel per token instead of one shared
  std::uint64_t uid_start;   // for kUidRange
};

const std::vector<Layout>& layouts() {
  static const std::vector<Layout> kLayouts{
      {"rtc_uid_range",
       [](std::string_view ch, std::string_view u) { return detail::rtc(ch, u, RtcRole::kPublisher, 3600, 3600); },
       UserColumn::kUidRange, true, false, 2882341273ULL},
      // From 0: uid 0 is written as "" and lengths change from 0 to 4 digits inside the batch.
      {"rtc_uid_range_from_zero",
       [](std::string_view ch, std::string_view u) { return detail::rtc(ch, u, RtcRole::kSubscriber, 600, 0); },
       UserColumn::kUidRange, true, false, 0},
      {"rtc_uid_span",
       [](std::string_view ch, std::string_view u) { return detail::rtc(ch, u, RtcRole::kPublisher, 3600, 3600); },
       UserColumn::kUidSpan, true, false, 0},
      {"rtc_accounts",
       [](std::string_view ch, std::string_view u) { return detail::rtc(ch, u, RtcRole::kPublisher, 86400, 600); },
       UserColumn::kAccounts, true, false, 0},
      {"rtc_per_token_channels",
       [](std::string_view ch, std::string_view u) {
         return detail::rtc_privileges(ch, u, 3600, 3600, 1800, 900, 0);
       },
       UserColumn::kUidSpan, true, true, 0},
      {"rtc_rtm",
       [](std::string_view ch, std::string_view u) { return detail::rtc_rtm(ch, u, RtcRole::kPublisher, 3600, 3600); },
       UserColumn::kAccounts, true, false, 0},
      // The chat id is md5(user): cannot be templated, so every token goes through the factory.
      {"apaas_room_user_fallback",
       [](std::string_view, std::string_view u) { return detail::apaas_room_user("room-1", u, 1, 3600); },
       UserColumn::kAccounts, false, false, 0},
      {"fpa", [](std::string_view, std::string_view) { return detail::fpa(); }, UserColumn::kNone, false, false, 0},
      {"chat_app", [](std::string_view, std::string_view) { return detail::chat_app(7200); }, UserColumn::kNone, false,
       false, 0},
  };
  return kLayouts;
}

// The per-token inputs of one batch, owned here (BatchColumns holds spans into them).
struct Inputs {
  std::vector<std::string> channels;
  std::vector<std::uint32_t> uids;
  std::vector<std::string> accounts;
  std::vector<std::uint32_t> salts;
  BatchColumns cols;

  std::string_view channel(std::size_t i) const {
    if (channels.empty()) return {};
    return channels.size() == 1 ? channels[0] : channels[i];
  }
  std::string user(const Layout& l, std::size_t i) const {
    switch (l.user) {
      case UserColumn::kUidRange: return uid_string(static_cast<std::uint32_t>(l.uid_start + i));
      case UserColumn::kUidSpan: return uid_string(uids[i]);
      case UserColumn::kAccounts: return accounts.size() == 1 ? accounts[0] : accounts[i];
      case UserColumn::kNone: return {};
    }
    return {};
  }
};

std::unique_ptr<Inputs> make_inputs(const Layout& l, std::size_t n, std::uint64_t seed = 1) {
  auto in = std::make_unique<Inputs>();
  std::mt19937_64 rng(seed * 7919 + n);
  if (l.channel) {
    if (l.per_token_channels) {
      for (std::size_t i = 0; i < n; ++i)
        in->channels.push_back("ch-" + std::string(i % 40, 'x') + std::to_string(rng() % 100000));
    } else {
      in->channels.emplace_back(kChannel);
    }
  }
  switch (l.user) {
    case UserColumn::kUidRange:
      in->cols.uid_start = l.uid_start;
      break;
    case UserColumn::kUidSpan: {
      const std::uint32_t edge[] = {0, 1, 9, 10, 4294967295u, 2882341273u};
      for (std::size_t i = 0; i < n; ++i)
        in->uids.push_back(i < std::size(edge) ? edge[i] : static_cast<std::uint32_t>(rng() >> (rng() % 32)));
      break;
    }
    case UserColumn::kAccounts:
      for (std::size_t i = 0; i < n; ++i) {
        // Mostly short, some up to 255 bytes (the account limit): slot sizes must hold the longest.
        const std::size_t pad = i % 97 == 3 ? 240 : i % 7;
        in->accounts.push_back("user-" + std::to_string(i) + std::string(pad, 'a' + static_cast<char>(i % 26)));
      }
      break;
    case UserColumn::kNone:
      break;
  }
  for (std::size_t i = 0; i < n; ++i)
    in->salts.push_back(i == 0 ? 0u : i == 1 ? 0xffffffffu : static_cast<std::uint32_t>(rng()));
  in->cols.count = n;
  in->cols.channels = in->channels;
  in->cols.uids = in->uids;
  in->cols.accounts = in->accounts;
  in->cols.salts = in->salts;
  in->cols.issue_ts = kIssue;
  return in;
}

std::vector<std::string> serial_loop(const Minter& m, const Layout& l, const Inputs& in) {
  std::vector<std::string> out;
  out.reserve(in.cols.count);
  for (std::size_t i = 0; i < in.cols.count; ++i)
    out.push_back(m.mint(l.factory(in.channel(i), in.user(l, i)), in.salts[i], kIssue));
  return out;
}

// The signed content of a token: signature field + signed bytes (what every compressor must keep).
std::string payload_of(std::string_view token) {
  const Decoded007 d = decode_007(token);
  return d.signature + d.signing_info;
}

// Compares without printing 5,000 tokens on failure: the first differing index only, and whether
// the two strings still carry the same payload (then only the compressed bytes differ).
::testing::AssertionResult same_tokens(const TokenBatch& b, const std::vector<std::string>& want) {
  if (b.size() != want.size())
    return ::testing::AssertionFailure() << "batch has " << b.size() << " tokens, serial loop " << want.size();
  std::size_t total = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (b[i] != want[i]) {
      std::size_t differing = 0;
      for (std::size_t k = i; k < want.size(); ++k) differing += b[k] != want[k];
      const bool same_payload = payload_of(b[i]) == payload_of(want[i]);
      return ::testing::AssertionFailure()
             << "token " << i << " differs (" << differing << " of " << want.size() << " tokens from there; "
             << (same_payload ? "SAME payload, only the compressed bytes differ" : "the PAYLOADS differ")
             << "):\n batch  " << b[i] << "\n serial " << want[i];
    }
    total += want[i].size();
  }
  if (b.total_chars() != total)
    return ::testing::AssertionFailure() << "total_chars " << b.total_chars() << " != " << total;
  return ::testing::AssertionSuccess();
}

// Minters shared by the tests, created on the test thread on first use. They are destroyed in
// the global TearDown, before main() returns: a Minter kept in static storage would join its
// pool threads after OpenSSL's atexit cleanup, and LeakSanitizer would then report the workers'
// per-thread DRBG and error state (allocated by RAND_bytes) as leaked.
class SharedMinters : public ::testing::Environment {
 public:
  static std::vector<std::unique_ptr<Minter>>& all() {
    static std::vector<std::unique_ptr<Minter>> minters;
    return minters;
  }
  void TearDown() override { all().clear(); }
};
[[maybe_unused]] ::testing::Environment* const kSharedMinters =
    ::testing::AddGlobalTestEnvironment(new SharedMinters);

const Minter& minter(unsigned threads, Compression c = Compression::kFast) {
  auto& minters = SharedMinters::all();
  for (const auto& m : minters)
    if (m->threads() == threads && m->compression() == c) return *m;
  minters.push_back(std::make_unique<Minter>(kAppId, kCert, MinterOptions{c, threads}));
  return *minters.back();
}

// The batch of a layout on one thread, as strings: the reference for tests about concurrency,
// arenas and kernels (the serial-loop contract has its own tests).
std::vector<std::string> reference_batch(const Layout& l, const Inputs& in) {
  const TokenBatch b = minter(1).mint_batch(l.factory, in.cols);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < b.size(); ++i) out.emplace_back(b[i]);
  return out;
}

class BatchLayout : public ::testing::TestWithParam<std::size_t> {
 protected:
  const Layout& layout() const { return layouts()[GetParam()]; }
};

TEST_P(BatchLayout, EqualsSerialLoopForEveryThreadCount) {
  const Layout& l = layout();
  for (std::size_t n : kSizes) {
    const auto in = make_inputs(l, n);
    const std::vector<std::string> serial = serial_loop(minter(1), l, *in);
    // The contract: the serial loop's payloads (fast-mode batches may pick other deflate bytes
    // through the template plan), and bytes identical for every thread count.
    const TokenBatch one = minter(1).mint_batch(l.factory, in->cols);
    ASSERT_EQ(one.size(), serial.size());
    std::vector<std::string> want;
    for (std::size_t i = 0; i < one.size(); ++i) {
      ASSERT_EQ(payload_of(one[i]), payload_of(serial[i])) << l.name << " n=" << n << " i=" << i;
      want.emplace_back(one[i]);
    }
    for (unsigned t : kThreadCounts) {
      SCOPED_TRACE(std::string(l.name) + " n=" + std::to_string(n) + " threads=" + std::to_string(t));
      ASSERT_EQ(minter(t).threads(), t);
      const TokenBatch b = minter(t).mint_batch(l.factory, in->cols);
      EXPECT_TRUE(same_tokens(b, want));
      EXPECT_EQ(b.issue_ts(), kIssue);
    }
  }
}

// Weaker than byte equality, and what must hold whatever the compression path: the same payloads
// as the serial loop, and bytes that depend only on the token, never on the thread count or on
// how tokens are grouped into batches.
TEST_P(BatchLayout, PayloadsEqualSerialLoopAndBytesIgnoreThreadsAndGrouping) {
  const Layout& l = layout();
  const std::size_t n = 1500;
  const auto in = make_inputs(l, n, 5);
  const std::vector<std::string> serial = serial_loop(minter(1), l, *in);
  const TokenBatch one = minter(1).mint_batch(l.factory, in->cols);
  ASSERT_EQ(one.size(), n);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(payload_of(one[i]), payload_of(serial[i])) << l.name << " i=" << i;
  for (unsigned t : kThreadCounts) {
    const TokenBatch b = minter(t).mint_batch(l.factory, in->cols);
    ASSERT_EQ(b.size(), n);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(b[i], one[i]) << l.name << " threads=" << t << " i=" << i;
  }
  // The same tokens minted as two batches (split off the chunk grid, and one below the inline size).
  for (std::size_t split : {std::size_t{1}, std::size_t{700}, std::size_t{1499}}) {
    for (const auto& [begin, end] : {std::pair{std::size_t{0}, split}, std::pair{split, n}}) {
      std::vector<std::string> channels;  // none, one shared, or this part's slice
      if (in->channels.size() <= 1) channels = in->channels;
      else channels.assign(in->channels.begin() + begin, in->channels.begin() + end);
      BatchColumns c;
      c.count = end - begin;
      c.channels = channels;
      if (!in->uids.empty()) c.uids = std::span<const std::uint32_t>(in->uids).subspan(begin, end - begin);
      if (in->cols.uid_start) c.uid_start = *in->cols.uid_start + begin;
      if (!in->accounts.empty()) c.accounts.assign(in->accounts.begin() + begin, in->accounts.begin() + end);
      c.salts = std::span<const std::uint32_t>(in->salts).subspan(begin, end - begin);
      c.issue_ts = kIssue;
      const TokenBatch b = minter(2).mint_batch(l.factory, c);
      ASSERT_EQ(b.size(), end - begin);
      for (std::size_t i = 0; i < b.size(); ++i)
        ASSERT_EQ(b[i], one[begin + i]) << l.name << " split=" << split << " i=" << begin + i;
    }
  }
}

TEST_P(BatchLayout, EveryEntryDecodesAndVerifies) {
  const Layout& l = layout();
  const std::size_t n = 1025;
  const auto in = make_inputs(l, n, 3);
  const TokenBatch b = minter(2).mint_batch(l.factory, in->cols);
  ASSERT_EQ(b.size(), n);
  for (std::size_t i = 0; i < n; ++i) {
    SCOPED_TRACE(std::string(l.name) + " i=" + std::to_string(i));
    const Decoded007 d = decode_007(b[i]);
    const VerifyResult r = verify_007(d, kCert);
    ASSERT_TRUE(r.ok()) << r.reason;
    const TokenSpec spec = l.factory(in->channel(i), in->user(l, i));
    std::vector<Service> want = spec.services;
    std::stable_sort(want.begin(), want.end(), [](const Service& a, const Service& c) { return a.type < c.type; });
    EXPECT_EQ(d.token.services, want);
    EXPECT_EQ(d.token.salt, in->salts[i]);
    EXPECT_EQ(d.token.issue_ts, kIssue);
    EXPECT_EQ(d.token.expire, spec.expire);
    if (l.channel) {
      VerifyOptions o;
      o.channel = std::string(in->channel(i));
      o.account = in->user(l, i);
      if (!o.account->empty()) ASSERT_TRUE(verify_007(d, kCert, o).ok());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, BatchLayout, ::testing::Range<std::size_t>(0, 9),
                         [](const ::testing::TestParamInfo<std::size_t>& p) {
                           return std::string(layouts()[p.param].name);
                         });

TEST(Batch, LayoutTableCoversEveryInstantiation) { EXPECT_EQ(layouts().size(), 9u); }

TEST(Batch, EqualsSerialLoopForEveryCompression) {
  const Layout& l = layouts()[0];
  for (Compression c : {Compression::kIsal, Compression::kExact}) {
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{513}, std::size_t{1025}, std::size_t{2100}}) {
      const auto in = make_inputs(l, n);
      const std::vector<std::string> want = serial_loop(minter(1, c), l, *in);
      for (unsigned t : kThreadCounts) {
        SCOPED_TRACE(std::string(compression_name(c)) + " n=" + std::to_string(n) + " threads=" + std::to_string(t));
        EXPECT_TRUE(same_tokens(minter(t, c).mint_batch(l.factory, in->cols), want));
      }
    }
  }
}

// Restores the kernels in use when a test ends, whatever happens.
class KernelGuard {
 public:
  KernelGuard()
      : sign_(crypto::sign_active().name),
        b64_(base64::active().name),
        fixed_(deflate::fixed::active().name),
        plan_(deflate::plan::active().name) {}
  ~KernelGuard() {
    crypto::sign_force(sign_);
    base64::force(b64_);
    deflate::fixed::force(fixed_);
    deflate::plan::force(plan_);
  }

 private:
  std::string sign_, b64_, fixed_, plan_;
};

template <class Table>
std::vector<std::string> supported_names(const Table& table) {
  std::vector<std::string> out;
  for (const auto& k : table)
    if (cpu::supports(k.required)) out.emplace_back(k.name);
  return out;
}

TEST(Batch, IdenticalOutputOnEveryForcedKernelPath) {
  const KernelGuard guard;
  const std::size_t n = 1500;  // three chunks: the worker path, a partial last chunk
  const std::vector<const Layout*> tested{&layouts()[0], &layouts()[2], &layouts()[3]};
  // References on the default kernels: the batch, and the single-call tokens.
  std::vector<std::vector<std::string>> want, want_single;
  std::vector<std::unique_ptr<Inputs>> inputs;
  for (const Layout* l : tested) {
    inputs.push_back(make_inputs(*l, n));
    want.push_back(reference_batch(*l, *inputs.back()));
    want_single.push_back(serial_loop(minter(1), *l, *inputs.back()));
  }
  const auto signs = supported_names(crypto::sign_kernels());
  const auto b64s = supported_names(base64::kernels());
  const auto fixeds = supported_names(deflate::fixed::kernels());   // single calls (compress_fast)
  const auto plans = supported_names(deflate::plan::kernels());     // fast batches (TemplatePlan)
  ASSERT_FALSE(signs.empty());
  EXPECT_EQ(signs.back(), "openssl");
  EXPECT_EQ(b64s.back(), "scalar");
  EXPECT_EQ(fixeds.back(), "scalar");
  EXPECT_EQ(plans.back(), "scalar");
  // Every combination of sign and base64 kernels; the two deflate tables are walked together
  // (kernel i of each, the last one repeated), since each one serves a different path.
  const std::size_t deflates = std::max(fixeds.size(), plans.size());
  std::size_t paths = 0;
  for (const std::string& s : signs)
    for (const std::string& b : b64s)
      for (std::size_t d = 0; d < deflates; ++d) {
        const std::string& f = fixeds[std::min(d, fixeds.size() - 1)];
        const std::string& pl = plans[std::min(d, plans.size() - 1)];
        SCOPED_TRACE("sign=" + s + " base64=" + b + " deflate=" + f + " plan=" + pl);
        ASSERT_TRUE(crypto::sign_force(s));
        ASSERT_TRUE(base64::force(b));
        ASSERT_TRUE(deflate::fixed::force(f));
        ASSERT_TRUE(deflate::plan::force(pl));
        ++paths;
        for (std::size_t k = 0; k < tested.size(); ++k) {
          EXPECT_TRUE(same_tokens(minter(2).mint_batch(tested[k]->factory, inputs[k]->cols), want[k]))
              << tested[k]->name;
          // The single-token path uses the same kernels.
          for (std::size_t i : {std::size_t{0}, std::size_t{7}, n - 1})
            EXPECT_EQ(minter(1).mint(tested[k]->factory(inputs[k]->channel(i), inputs[k]->user(*tested[k], i)),
                                     inputs[k]->salts[i], kIssue),
                      want_single[k][i])
                << tested[k]->name << " i=" << i;
        }
        // Decoding with the forced base64 kernel still accepts what every other path produced.
        EXPECT_TRUE(verify_token(want[0][n - 1], kCert).ok());
        EXPECT_TRUE(verify_token(want_single[0][n - 1], kCert).ok());
      }
  EXPECT_GE(paths, 1u);
  std::cout << "[ INFO     ] " << paths << " kernel paths: sign {";
  for (const auto& s : signs) std::cout << ' ' << s;
  std::cout << " } x base64 {";
  for (const auto& b : b64s) std::cout << ' ' << b;
  std::cout << " } x deflate {";
  for (const auto& f : fixeds) std::cout << ' ' << f;
  std::cout << " } / plan {";
  for (const auto& f : plans) std::cout << ' ' << f;
  std::cout << " } (cpu: " << cpu::describe(cpu::detect()) << ")\n";
}

TEST(Batch, TokenBatchAccessorsAndJoin) {
  const Layout& l = layouts()[3];  // accounts: tokens of different lengths
  const auto in = make_inputs(l, 700);
  const TokenBatch b = minter(2).mint_batch(l.factory, in->cols);
  ASSERT_EQ(b.size(), 700u);
  ASSERT_EQ(b.starts().size(), 700u);
  ASSERT_EQ(b.lengths().size(), 700u);
  std::size_t total = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    EXPECT_EQ(std::string_view(b.arena() + b.starts()[i], b.lengths()[i]), b[i]);
    if (i > 0) EXPECT_GE(b.starts()[i], b.starts()[i - 1] + b.lengths()[i - 1]);  // index order, no overlap
    total += b.lengths()[i];
  }
  EXPECT_EQ(b.total_chars(), total);
  std::string joined(b.total_chars() + b.size() * 2, '\0');
  b.join(joined.data(), "\r\n");
  std::string want;
  for (std::size_t i = 0; i < b.size(); ++i) want.append(b[i]).append("\r\n");
  EXPECT_EQ(joined, want);

  const TokenBatch empty;
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.total_chars(), 0u);
  EXPECT_EQ(empty.arena(), nullptr);
  EXPECT_TRUE(empty.starts().empty());
}

TEST(Batch, EarlierBatchesSurviveArenaReuseAndTheMinter) {
  const Layout& l = layouts()[0];
  std::vector<TokenBatch> kept;
  std::vector<std::vector<std::string>> want;
  {
    Minter m(kAppId, kCert, MinterOptions{Compression::kFast, 2});
    for (std::size_t round = 0; round < 8; ++round) {
      const auto in = make_inputs(l, 1500 + round * 100, round + 10);
      want.push_back(reference_batch(l, *in));
      TokenBatch b = m.mint_batch(l.factory, in->cols);
      if (round % 2 == 0) kept.push_back(std::move(b));  // odd batches die at once: their arenas get reused
      else EXPECT_TRUE(same_tokens(b, want.back()));
    }
  }  // the Minter (and its pool's owner) is gone; the kept batches still hold their arenas
  for (std::size_t k = 0; k < kept.size(); ++k) EXPECT_TRUE(same_tokens(kept[k], want[2 * k])) << "round " << 2 * k;
}

TEST(Batch, RandomSaltsAndTheClockWhenNotGiven) {
  const Layout& l = layouts()[0];
  auto in = make_inputs(l, 2000);
  in->cols.salts = {};
  in->cols.issue_ts.reset();
  const std::uint32_t before = unix_now();
  const TokenBatch b = minter(2).mint_batch(l.factory, in->cols);
  const std::uint32_t after = unix_now();
  EXPECT_GE(b.issue_ts(), before);
  EXPECT_LE(b.issue_ts(), after);
  std::vector<std::uint32_t> salts;
  for (std::size_t i = 0; i < b.size(); ++i) {
    const Decoded007 d = decode_007(b[i]);
    ASSERT_TRUE(verify_007(d, kCert).ok());
    EXPECT_EQ(d.token.issue_ts, b.issue_ts());
    salts.push_back(d.token.salt);
  }
  std::sort(salts.begin(), salts.end());
  // 2000 CSPRNG u32s: a repeat has probability ~5e-4; more than two means the salts are not random.
  EXPECT_GE(std::unique(salts.begin(), salts.end()) - salts.begin(), 1998);
}

TEST(Batch, RejectsBadColumnShapes) {
  const Layout& l = layouts()[0];
  auto expect_field = [&](BatchColumns c, const char* field, const char* word) {
    try {
      minter(2).mint_batch(l.factory, c);
      ADD_FAILURE() << field << ": accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(e.field(), field) << e.what();
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    }
  };
  const std::vector<std::uint32_t> three{1, 2, 3}, two{1, 2};
  BatchColumns c;
  c.count = 3;
  c.channels = {"a", "b"};
  c.uid_start = 1;
  expect_field(c, "channels", "2 entries");
  c.channels = {"a"};
  c.uids = two;
  c.uid_start.reset();
  expect_field(c, "uids", "2 entries");
  c.uids = three;
  c.uid_start = 5;
  expect_field(c, "uids", "not several");
  c.uids = {};
  c.uid_start = 4294967294ULL;
  expect_field(c, "uids", "4294967295");
  c.uid_start = 1;
  c.salts = two;
  expect_field(c, "salts", "2 entries");
  c.salts = three;
  c.accounts = {"x", "y"};
  c.uid_start.reset();
  expect_field(c, "accounts", "2 entries");
  c.accounts = {std::string(70000, 'a')};
  expect_field(c, "accounts", "65535");
  // The last legal range end is fine.
  c.accounts = {};
  c.uid_start = 4294967293ULL;
  EXPECT_EQ(minter(2).mint_batch(l.factory, c).size(), 3u);
}

TEST(Batch, ConcurrentBatchesOnOneMinter) {
  const Layout& l = layouts()[0];
  constexpr int kCallers = 3;
  std::vector<std::unique_ptr<Inputs>> inputs;
  std::vector<std::vector<std::string>> want;
  for (int k = 0; k < kCallers; ++k) {
    inputs.push_back(make_inputs(l, 2048 + 300 * k, 100 + k));
    want.push_back(reference_batch(l, *inputs.back()));
  }
  const Minter& shared = minter(2);
  std::vector<TokenBatch> got(kCallers);
  std::barrier sync(kCallers);
  std::vector<std::thread> callers;
  for (int k = 0; k < kCallers; ++k)
    callers.emplace_back([&, k] {
      sync.arrive_and_wait();  // all callers hit mint_batch together
      for (int rep = 0; rep < 3; ++rep) got[k] = shared.mint_batch(l.factory, inputs[k]->cols);
    });
  for (std::thread& t : callers) t.join();
  for (int k = 0; k < kCallers; ++k) EXPECT_TRUE(same_tokens(got[k], want[k])) << "caller " << k;
}

TEST(MinterThreads, ConcurrentMintCallsMatchTheSerialResults) {
  constexpr int kCallers = 4;
  constexpr std::size_t kPerCaller = 300;
  const Minter a(kAppId, kCert, MinterOptions{Compression::kFast, 1});
  const Minter b(kAppId, "0123456789abcdef0123456789abcdef", MinterOptions{Compression::kIsal, 1});
  const Layout& l = layouts()[3];
  const auto in = make_inputs(l, kPerCaller * kCallers);
  std::vector<std::string> want_a, want_b;
  for (std::size_t i = 0; i < in->cols.count; ++i) {
    const TokenSpec s = l.factory(in->channel(i), in->user(l, i));
    // Vary issue_ts so the per-thread S1 cache is refreshed while other threads use theirs.
    want_a.push_back(a.mint(s, in->salts[i], kIssue + static_cast<std::uint32_t>(i % 3)));
    want_b.push_back(b.mint(s, in->salts[i], kIssue));
  }
  std::vector<std::vector<std::string>> got_a(kCallers), got_b(kCallers);
  std::barrier sync(kCallers);
  std::vector<std::thread> callers;
  for (int k = 0; k < kCallers; ++k)
    callers.emplace_back([&, k] {
      sync.arrive_and_wait();
      for (std::size_t j = 0; j < kPerCaller; ++j) {
        const std::size_t i = k * kPerCaller + j;
        const TokenSpec s = l.factory(in->channel(i), in->user(l, i));
        got_a[k].push_back(a.mint(s, in->salts[i], kIssue + static_cast<std::uint32_t>(i % 3)));
        got_b[k].push_back(b.mint(s, in->salts[i], kIssue));  // interleaved minters on one thread
      }
    });
  for (std::thread& t : callers) t.join();
  for (int k = 0; k < kCallers; ++k)
    for (std::size_t j = 0; j < kPerCaller; ++j) {
      ASSERT_EQ(got_a[k][j], want_a[k * kPerCaller + j]) << "caller " << k << " token " << j;
      ASSERT_EQ(got_b[k][j], want_b[k * kPerCaller + j]) << "caller " << k << " token " << j;
    }
}

// The single-call path's ISA-L compressor keeps one isal_zstream per thread. Its first call on a
// thread must not depend on what the heap held before: isal_deflate_stateless_init() (ISA-L 2.30)
// leaves isal_zstream::hist_bits unset and isal_deflate_stateless() reads it (a stale 1 or 2
// limits matches to distance 1 or 3). Each fresh thread first leaves freed blocks of the stream's
// size filled with a value, then mints; the token must equal the one from a clean thread.
// (glibc hands such a block straight back; under ASan's quarantine the test cannot detect this.)
TEST(MinterThreads, IsalTokenDoesNotDependOnStaleHeapMemory) {
  const Minter m(kAppId, kCert, MinterOptions{Compression::kIsal, 1});
  const TokenSpec spec = detail::rtc(kChannel, "2882341273", RtcRole::kPublisher, 3600, 3600);
  const std::string want = m.mint(spec, 12345, kIssue);
  for (std::uint16_t stale : {std::uint16_t{1}, std::uint16_t{2}, std::uint16_t{3}}) {
    std::string got;
    std::thread([&] {
      std::vector<std::uint16_t*> blocks;
      for (std::size_t size : {sizeof(isal_zstream), sizeof(isal_zstream), sizeof(isal_zstream) + 8192,
                               std::size_t{1} << 20}) {
        auto* b = static_cast<std::uint16_t*>(std::malloc(size));
        ASSERT_NE(b, nullptr);
        for (std::size_t i = 0; i < size / 2; ++i) b[i] = stale;
        asm volatile("" : : "r"(b) : "memory");  // the stores must survive: free() makes them dead
        blocks.push_back(b);
      }
      for (std::uint16_t* b : blocks) std::free(b);
      got = m.mint(spec, 12345, kIssue);
    }).join();
    EXPECT_EQ(got, want) << "stale value " << stale << " in the heap changed the ISA-L stream (same payload: "
                         << (payload_of(got) == payload_of(want)) << ")";
  }
}

TEST(MinterThreads, ThreadCountIsReported) {
  EXPECT_EQ(Minter(kAppId, kCert, MinterOptions{Compression::kFast, 3}).threads(), 3u);
  EXPECT_GE(Minter(kAppId, kCert, MinterOptions{Compression::kFast, 0}).threads(), 1u);  // 0 = all cores
}

}  // namespace
