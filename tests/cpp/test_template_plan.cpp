// test_template_plan.cpp - deflate::TemplatePlan (per-layout fixed-Huffman zlib streams; RFC 1950/1951) and its use by the batch engine.
// Oracles: system zlib (uncompress) and deflate::inflate_zlib must give back every payload byte
// for byte; every kernel must write the scalar kernel's bytes; compress_fast's sizes on the same
// payloads bound the plan's; guarded buffers (tests/cpp/support/guarded_buffer.hpp) catch any
// read or write outside the caller's buffers. Payloads come from batch::TokenTemplate for every
// token layout (the batch engine's real input) and from hand-made layouts for the edge cases
// (back-references across long holes, long repeats, Adler-32 reductions, malformed payloads).
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base64/base64.hpp"
#include "batch/token_template.hpp"
#include "cpu/cpu.hpp"
#include "deflate/deflate.hpp"
#include "deflate/template_plan.hpp"
#include "deflate/template_plan_kernels.hpp"
#include "mintlane/minter.hpp"
#include "mintlane/token.hpp"
#include "support/guarded_buffer.hpp"
#include "token/spec_detail.hpp"

namespace mintlane {
namespace {

using Bytes = std::vector<std::uint8_t>;
using deflate::PlanPart;
using deflate::TemplatePlan;
using test::GuardedBuffer;

constexpr std::string_view kAppId = "970CA35de60c44645bbae8a215061b33";
constexpr std::string_view kCert = "5CFd2fd1755d40ecb72977518be15d3b";
constexpr std::string_view kChannel = "7d72365eb983485397e3e3f9d460bdda";
constexpr std::uint32_t kIssue = 1700000000;

// ---- helpers ---------------------------------------------------------------------------------

Bytes compress_plan(const TemplatePlan& plan, const Bytes& payload, const char* kernel = nullptr) {
  Bytes out(plan.max_compressed(payload.size()) + 8);
  const Result r = kernel ? plan.compress_with(kernel, payload.data(), payload.size(), out.data(), out.size())
                          : plan.compress(payload.data(), payload.size(), out.data(), out.size());
  EXPECT_TRUE(r.ok()) << errc_message(r.code) << " at " << r.count;
  out.resize(r.ok() ? r.count : 0);
  return out;
}

std::size_t fast_size(const Bytes& payload) {
  Bytes out(deflate::compress_bound(payload.size()));
  return deflate::compress_fast(payload.data(), payload.size(), out.data(), out.size()).count;
}

// Both decoders give back exactly `want`.
::testing::AssertionResult inflates_to(const Bytes& z, const Bytes& want) {
  Bytes got(want.size() + 1);
  uLongf len = static_cast<uLongf>(got.size());
  const int zr = ::uncompress(got.data(), &len, z.data(), static_cast<uLong>(z.size()));
  if (zr != Z_OK) return ::testing::AssertionFailure() << "zlib uncompress: " << zr;
  if (len != want.size() || !std::equal(want.begin(), want.end(), got.begin()))
    return ::testing::AssertionFailure() << "zlib inflated " << len << " bytes, not the " << want.size() << "-byte payload";
  std::size_t trailing = 1;
  const Result r = deflate::inflate_zlib(z.data(), z.size(), got.data(), got.size(), &trailing);
  if (!r.ok()) return ::testing::AssertionFailure() << "inflate_zlib: " << errc_message(r.code) << " at " << r.count;
  if (r.count != want.size() || !std::equal(want.begin(), want.end(), got.begin()) || trailing != 0)
    return ::testing::AssertionFailure() << "inflate_zlib gave " << r.count << " bytes (" << trailing << " trailing)";
  return ::testing::AssertionSuccess();
}

std::vector<std::string> supported_kernels() {
  std::vector<std::string> out;
  for (const deflate::plan::Kernel& k : deflate::plan::kernels())
    if (cpu::supports(k.required)) out.emplace_back(k.name);
  return out;
}

// Checks one payload against everything: inflates back, same bytes from every kernel.
void check_payload(const TemplatePlan& plan, const Bytes& payload, const std::string& trace) {
  SCOPED_TRACE(trace);
  const Bytes want = compress_plan(plan, payload, "scalar");
  ASSERT_TRUE(inflates_to(want, payload));
  ASSERT_LE(want.size(), plan.max_compressed(payload.size()));
  ASSERT_LE(plan.max_compressed(payload.size()), deflate::compress_bound(payload.size()));
  for (const std::string& k : supported_kernels()) ASSERT_EQ(compress_plan(plan, payload, k.c_str()), want) << k;
  ASSERT_EQ(compress_plan(plan, payload), want);  // the dispatched kernel
}

std::string random_string(std::mt19937_64& rng, std::size_t len, bool any_byte) {
  std::string s(len, '\0');
  for (char& c : s)
    c = static_cast<char>(any_byte ? rng() & 0xff : 0x21 + rng() % 94);  // printable, or any byte (9-bit codes)
  return s;
}

std::string uid_with_digits(std::mt19937_64& rng, unsigned digits) {
  if (digits == 0) return uid_string(0);
  std::uint64_t lo = 1;
  for (unsigned d = 1; d < digits; ++d) lo *= 10;
  const std::uint64_t hi = std::min<std::uint64_t>(lo * 10 - 1, 4294967295u);
  return uid_string(static_cast<std::uint32_t>(lo + rng() % (hi - lo + 1)));
}

// ---- token layouts ------------------------------------------------------------------------------

enum class User { kNone, kUid, kAccount };

struct Layout {
  const char* name;
  SpecFactory factory;
  bool channel;  // has a channel slot
  User user;
};

const std::vector<Layout>& layouts() {
  static const std::vector<Layout> kLayouts{
      {"rtc_uid", [](std::string_view c, std::string_view u) { return detail::rtc(c, u, RtcRole::kPublisher, 3600, 3600); },
       true, User::kUid},
      {"rtc_uid_subscriber_no_expiry",
       [](std::string_view c, std::string_view u) { return detail::rtc(c, u, RtcRole::kSubscriber, 600, 0); }, true,
       User::kUid},
      {"rtc_account_expiries_differ",
       [](std::string_view c, std::string_view u) { return detail::rtc(c, u, RtcRole::kPublisher, 86400, 600); }, true,
       User::kAccount},
      {"rtc_privileges_differ",
       [](std::string_view c, std::string_view u) { return detail::rtc_privileges(c, u, 3600, 3600, 1800, 900, 0); },
       true, User::kUid},
      {"rtc_rtm", [](std::string_view c, std::string_view u) { return detail::rtc_rtm(c, u, RtcRole::kPublisher, 3600, 3600); },
       true, User::kAccount},
      {"rtc_rtm2",
       [](std::string_view c, std::string_view u) {
         return detail::rtc_rtm2(c, u, RtcRole::kPublisher, 3600, 3600, 3600, 3600, 3600, "rtm-user", 7200);
       },
       true, User::kAccount},
      {"rtm", [](std::string_view, std::string_view u) { return detail::rtm(u, 3600); }, false, User::kAccount},
      {"rtm_stream", [](std::string_view c, std::string_view u) { return detail::rtm_stream(u, c, 3600); }, true,
       User::kAccount},
      {"rtm2",
       [](std::string_view c, std::string_view u) {
         return detail::rtm2(u, {{1, 2, {"lobby", std::string(c)}}, {2, 1, {"*"}}}, 3600);
       },
       true, User::kAccount},
      {"chat_user", [](std::string_view, std::string_view u) { return detail::chat_user(u, 3600); }, false, User::kAccount},
      {"chat_app", [](std::string_view, std::string_view) { return detail::chat_app(7200); }, false, User::kNone},
      {"apaas_user", [](std::string_view, std::string_view u) { return detail::apaas_user(u, 3600); }, false,
       User::kAccount},
      {"apaas_app", [](std::string_view, std::string_view) { return detail::apaas_app(3600); }, false, User::kNone},
      {"fpa", [](std::string_view, std::string_view) { return detail::fpa(); }, false, User::kNone},
      {"convoai",
       [](std::string_view c, std::string_view u) {
         return detail::agent(9, c, u, RtcRole::kPublisher, 3600, 3600, 3600, 3600, 3600, "agent", 3600);
       },
       true, User::kAccount},
      {"stt",
       [](std::string_view c, std::string_view u) {
         return detail::agent(10, c, u, RtcRole::kSubscriber, 600, 600, 0, 0, 0, "stt", 86400);
       },
       true, User::kAccount},
  };
  return kLayouts;
}

// One batch's view of a layout: which slot values are the same in every token (the plan is
// specialised to them) and which vary.
struct Mode {
  bool same_channel;
  bool same_user;
};

std::string mode_name(const Layout& l, Mode m) {
  std::string s = l.name;
  if (l.channel) s += m.same_channel ? "/channel:same" : "/channel:varies";
  if (l.user != User::kNone) s += m.same_user ? "/user:same" : "/user:varies";
  return s;
}

class TokenLayouts : public ::testing::TestWithParam<std::size_t> {};

// Every layout, random signatures, salts and strings (empty, 1-3 bytes, 255 bytes, printable or
// any byte; uids of every length 0..10 digits), with the plan of the layout and with that plan
// specialised to a channel and/or user shared by the whole batch (which must write the same bytes).
TEST_P(TokenLayouts, EveryPayloadInflatesBackAndEveryKernelAgrees) {
  const Layout& l = layouts()[GetParam()];
  const auto tmpl = batch::TokenTemplate::make(l.factory, kAppId, kIssue);
  ASSERT_TRUE(tmpl.has_value()) << l.name;
  const TemplatePlan base = TemplatePlan::make(tmpl->plan_parts());
  std::mt19937_64 rng(GetParam() + 1);
  for (const Mode mode : {Mode{false, false}, Mode{true, false}, Mode{false, true}, Mode{true, true}}) {
    if ((mode.same_channel && !l.channel) || (mode.same_user && l.user == User::kNone)) continue;
    const std::string shared_channel = l.channel ? std::string(kChannel) : std::string();
    const std::string shared_user = l.user == User::kNone ? "" : l.user == User::kUid ? "2882341273" : "user-7f3a";
    std::optional<std::string_view> ch, us;
    if (mode.same_channel || !l.channel) ch = shared_channel;
    if (mode.same_user || l.user == User::kNone) us = shared_user;
    const std::optional<TemplatePlan> special =
        ch || us ? std::optional<TemplatePlan>(base.specialize(tmpl->plan_values(ch, us))) : std::nullopt;
    const TemplatePlan& plan = special ? *special : base;

    const std::size_t lengths[] = {0, 1, 2, 3, 4, 7, 16, 31, 32, 33, 64, 128, 254, 255};
    double plan_bytes = 0, fast_bytes = 0;
    const std::size_t rounds = 120;
    for (std::size_t t = 0; t < rounds; ++t) {
      const std::string channel =
          ch ? std::string(*ch)
             : random_string(rng, t < 30 ? lengths[t % std::size(lengths)] : 1 + rng() % 48, t % 5 == 4);
      std::string user;
      if (us) {
        user = std::string(*us);
      } else if (l.user == User::kUid) {
        user = uid_with_digits(rng, static_cast<unsigned>(t % 11));
      } else {
        user = random_string(rng, t < 30 ? lengths[(t + 3) % std::size(lengths)] : 1 + rng() % 24, t % 7 == 6);
      }
      Bytes payload(34 + tmpl->size(channel.size(), user.size()));
      payload[0] = 32;
      payload[1] = 0;
      for (std::size_t i = 2; i < 34; ++i) payload[i] = static_cast<std::uint8_t>(rng());
      // Edge salts first, then random ones.
      const std::uint32_t salt = t == 0 ? 0u : t == 1 ? 0xffffffffu : static_cast<std::uint32_t>(rng());
      ASSERT_EQ(34 + tmpl->render(payload.data() + 34, channel, user, salt), payload.size());
      const std::string trace = mode_name(l, mode) + " t=" + std::to_string(t) + " channel=" +
                                std::to_string(channel.size()) + "B user=" + std::to_string(user.size()) + "B";
      check_payload(plan, payload, trace);
      if (HasFatalFailure()) return;
      const Bytes z = compress_plan(plan, payload);
      if (special) {
        ASSERT_EQ(z, compress_plan(base, payload)) << trace << ": the specialised plan wrote other bytes";
      }
      plan_bytes += static_cast<double>(z.size());
      fast_bytes += static_cast<double>(fast_size(payload));
    }
    // The parse of the constant bytes is optimal, so the plan loses only where compress_fast
    // finds matches inside per-token strings (which the plan codes as literals).
    EXPECT_LE(plan_bytes / rounds, fast_bytes / rounds + 1.0) << mode_name(l, mode);
    std::cout << "[ INFO     ] " << mode_name(l, mode) << ": plan " << plan_bytes / rounds << " B, compress_fast "
              << fast_bytes / rounds << " B\n";
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, TokenLayouts, ::testing::Range<std::size_t>(0, 16),
                         [](const ::testing::TestParamInfo<std::size_t>& p) { return std::string(layouts()[p.param].name); });

TEST(TemplatePlan, LayoutTableCoversEveryInstantiation) { EXPECT_EQ(layouts().size(), 16u); }

// The PERF_NOTES workload: the plan is smaller than compress_fast on every salt and signature.
TEST(TemplatePlan, WorkloadIsSmallerThanCompressFast) {
  const auto tmpl = batch::TokenTemplate::make(
      [](std::string_view c, std::string_view u) { return detail::rtc(c, u, RtcRole::kPublisher, 3600, 3600); }, kAppId,
      kIssue);
  ASSERT_TRUE(tmpl);
  const TemplatePlan plan = TemplatePlan::make(tmpl->plan_parts()).specialize(tmpl->plan_values(kChannel, std::nullopt));
  std::mt19937_64 rng(7);
  double plan_bytes = 0, fast_bytes = 0;
  for (int t = 0; t < 500; ++t) {
    const std::string uid = uid_string(static_cast<std::uint32_t>(2882341273u + t));
    Bytes payload(34 + tmpl->size(kChannel.size(), uid.size()));
    payload[0] = 32;
    for (std::size_t i = 2; i < 34; ++i) payload[i] = static_cast<std::uint8_t>(rng());
    tmpl->render(payload.data() + 34, kChannel, uid, static_cast<std::uint32_t>(rng()));
    const Bytes z = compress_plan(plan, payload);
    ASSERT_TRUE(inflates_to(z, payload));
    plan_bytes += static_cast<double>(z.size());
    fast_bytes += static_cast<double>(fast_size(payload));
  }
  EXPECT_LT(plan_bytes, fast_bytes);
  std::cout << "[ INFO     ] workload: plan " << plan_bytes / 500 << " B, compress_fast " << fast_bytes / 500 << " B\n";
}

// ---- hand-made layouts: edge cases --------------------------------------------------------------

// An RTC + RTM layout (its user id repeats the RTC account) as plan parts.
std::vector<PlanPart> guarded_parts_for_test() {
  const auto tmpl = batch::TokenTemplate::make(
      [](std::string_view c, std::string_view u) { return detail::rtc_rtm(c, u, RtcRole::kPublisher, 3600, 3600); },
      kAppId, kIssue);
  return tmpl->plan_parts();
}

std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>("\x01\x00\x10\x0e\x00\x00\x02\x00"[(i + seed) % 8]);
  return s;
}

// Builds a payload for parts: holes filled from rng, prefixed holes with the given lengths, and
// repeat holes (same_as) copied from their source unless `break_repeats`. `values` (if given)
// receives each hole's bytes after any length prefix, by part index.
Bytes fill(const std::vector<PlanPart>& parts, std::mt19937_64& rng, const std::vector<std::size_t>& prefixed_lengths,
           bool break_repeats = false, std::vector<std::string>* values = nullptr) {
  Bytes out;
  std::vector<std::pair<std::size_t, std::size_t>> where(parts.size());  // (offset, size) of each part
  std::size_t next_len = 0;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const PlanPart& p = parts[k];
    const std::size_t at = out.size();
    if (p.kind == PlanPart::Kind::kConstant) {
      out.insert(out.end(), p.bytes.begin(), p.bytes.end());
    } else if (p.same_as != PlanPart::kNone && !break_repeats) {
      const auto [src, size] = where[p.same_as];
      out.insert(out.end(), out.begin() + static_cast<std::ptrdiff_t>(src),
                 out.begin() + static_cast<std::ptrdiff_t>(src + size));
    } else {
      std::size_t len = p.length;
      if (p.kind == PlanPart::Kind::kLengthPrefixedHole) {
        len = prefixed_lengths[next_len++ % prefixed_lengths.size()];
        out.push_back(static_cast<std::uint8_t>(len));
        out.push_back(static_cast<std::uint8_t>(len >> 8));
      }
      for (std::size_t i = 0; i < len; ++i) out.push_back(static_cast<std::uint8_t>(rng()));
    }
    where[k] = {at, out.size() - at};
    if (values != nullptr) {
      const std::size_t skip = p.kind == PlanPart::Kind::kLengthPrefixedHole ? 2 : 0;
      values->emplace_back(out.begin() + static_cast<std::ptrdiff_t>(at + skip), out.end());
    }
  }
  return out;
}

TEST(TemplatePlan, ReferencesAcrossLengthPrefixedHolesOfEveryLength) {
  // The constant after each hole repeats the one before it: the parse refers back across the hole
  // with a distance known only per payload; past 32 KiB the program falls back to literals.
  const std::string c = pattern(40, 0) + std::string("\x20\x00", 2) + std::string(kAppId);
  const std::vector<PlanPart> parts = {PlanPart::constant(c), PlanPart::prefixed_hole(10), PlanPart::constant(c),
                                       PlanPart::fixed_hole(4), PlanPart::constant(c.substr(5)),
                                       PlanPart::prefixed_hole(3), PlanPart::constant(c)};
  const TemplatePlan plan = TemplatePlan::make(parts);
  std::mt19937_64 rng(3);
  const std::size_t lens[] = {0, 1, 10, 200, 4095, 4096, 4097, 32700, 32768, 40000, 65535};
  for (std::size_t a : lens)
    for (std::size_t b : {std::size_t{0}, std::size_t{5}, std::size_t{65535}}) {
      const Bytes payload = fill(parts, rng, {a, b});
      check_payload(plan, payload, "holes " + std::to_string(a) + ", " + std::to_string(b));
      if (HasFatalFailure()) return;
    }
  // With short holes the references pay: far below literal coding.
  const Bytes small = fill(parts, rng, {3, 3});
  EXPECT_LT(compress_plan(plan, small).size(), small.size() / 2);
}

TEST(TemplatePlan, RepeatedHolesBecomeReferencesOnlyWhenEqual) {
  const std::vector<PlanPart> parts = {PlanPart::constant(std::string_view("\x20\x00", 2)), PlanPart::fixed_hole(32),
                                       PlanPart::constant(pattern(20, 1)), PlanPart::prefixed_hole(8),
                                       PlanPart::constant(pattern(9, 2)), PlanPart::fixed_hole(32, 1),
                                       PlanPart::prefixed_hole(8, 3), PlanPart::constant("tail")};
  const TemplatePlan plan = TemplatePlan::make(parts);
  std::mt19937_64 rng(4);
  for (std::size_t len : {0, 1, 2, 3, 4, 255, 256, 257, 258, 259, 260, 261, 262, 516, 517, 1000, 40000, 65535}) {
    const Bytes same = fill(parts, rng, {len});
    const Bytes differ = fill(parts, rng, {len}, /*break_repeats=*/true);
    check_payload(plan, same, "repeat, length " + std::to_string(len));
    check_payload(plan, differ, "no repeat, length " + std::to_string(len));
    if (HasFatalFailure()) return;
    if (len >= 8 && len < 30000) {
      EXPECT_LT(compress_plan(plan, same).size() + len / 2, compress_plan(plan, differ).size());
    }
  }
  // Same length, one byte different: literals, still exact.
  Bytes near = fill(parts, rng, {40});
  near[near.size() - 5] ^= 1;  // inside the repeated prefixed hole (before "tail")
  check_payload(plan, near, "repeat with one byte changed");
}

TEST(TemplatePlan, LongHolesAndLongConstantsKeepAdler32Exact) {
  // > 65521 bytes of hole and of constant data: both Adler-32 paths reduce.
  std::mt19937_64 rng(5);
  const std::string big = random_string(rng, 70000, true);
  const std::vector<PlanPart> parts2 = {PlanPart::fixed_hole(70000), PlanPart::constant(big), PlanPart::prefixed_hole(),
                                        PlanPart::constant(std::string(300000, 'a')), PlanPart::fixed_hole(9000)};
  const TemplatePlan plan2 = TemplatePlan::make(parts2);
  for (std::size_t len : {0, 65535}) {
    check_payload(plan2, fill(parts2, rng, {len}), "long, prefixed " + std::to_string(len));
    if (HasFatalFailure()) return;
  }
  // All hole bytes >= 144 (9-bit codes): the worst case max_compressed() allows for.
  Bytes worst = fill(parts2, rng, {65535});
  for (std::size_t i = 0; i < 70000; ++i) worst[i] = static_cast<std::uint8_t>(144 + i % 112);
  check_payload(plan2, worst, "9-bit hole bytes");
}

// Constant bit strings of every length modulo 64, each copied at every bit offset (0..7 bits
// pending, set by the random hole before it): the unchecked copy's tail handling (a 57-bit tail
// with 7 bits pending once made the flush shift by 64).
TEST(TemplatePlan, BitStringsOfEveryLengthAtEveryBitOffset) {
  std::mt19937_64 rng(15);
  for (std::size_t len = 1; len <= 80; ++len) {
    for (std::size_t high = 0; high <= std::min<std::size_t>(len, 8); ++high) {
      // Distinct bytes (no back-references): len literals of 8 bits, `high` of them of 9 bits.
      std::string c;
      for (std::size_t k = 0; k < len; ++k) c.push_back(static_cast<char>(k < high ? 144 + k : k % 144));
      const std::vector<PlanPart> parts = {PlanPart::prefixed_hole(4), PlanPart::constant(c), PlanPart::prefixed_hole(1)};
      const TemplatePlan plan = TemplatePlan::make(parts);
      for (int t = 0; t < 32; ++t) {
        check_payload(plan, fill(parts, rng, {static_cast<std::size_t>(t % 8), 1}),
                      "len " + std::to_string(len) + " high " + std::to_string(high) + " t " + std::to_string(t));
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST(TemplatePlan, DegenerateLayouts) {
  std::mt19937_64 rng(6);
  const std::vector<std::vector<PlanPart>> cases = {
      {},
      {PlanPart::constant("")},
      {PlanPart::constant("a")},
      {PlanPart::fixed_hole(0)},
      {PlanPart::fixed_hole(1)},
      {PlanPart::prefixed_hole()},
      {PlanPart::prefixed_hole(), PlanPart::prefixed_hole(0, 0), PlanPart::prefixed_hole()},
      {PlanPart::constant("ab"), PlanPart::constant("ab"), PlanPart::fixed_hole(0), PlanPart::constant("abab")},
      {PlanPart::constant(std::string(1000, 'z'))},
  };
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const TemplatePlan plan = TemplatePlan::make(cases[c]);
    for (std::size_t len : {0, 1, 2, 3, 300}) {
      check_payload(plan, fill(cases[c], rng, {len}), "case " + std::to_string(c) + " len " + std::to_string(len));
      if (HasFatalFailure()) return;
    }
  }
}

// Specialising to any subset of known holes writes the base plan's bytes: the references that
// become fixed, the repeats decided once, the known literals.
TEST(TemplatePlan, SpecialisedPlansWriteTheBasePlansBytes) {
  const std::string c = pattern(40, 0) + std::string(kAppId);
  const std::vector<std::vector<PlanPart>> cases = {
      {PlanPart::constant(c), PlanPart::prefixed_hole(10), PlanPart::constant(c), PlanPart::fixed_hole(4),
       PlanPart::constant(c.substr(5)), PlanPart::prefixed_hole(3), PlanPart::constant(c)},
      {PlanPart::constant(std::string_view("\x20\x00", 2)), PlanPart::fixed_hole(32), PlanPart::constant(pattern(20, 1)),
       PlanPart::prefixed_hole(8), PlanPart::constant(pattern(9, 2)), PlanPart::fixed_hole(32, 1),
       PlanPart::prefixed_hole(8, 3), PlanPart::constant("tail"), PlanPart::prefixed_hole(8, 3),
       PlanPart::constant(pattern(30, 3))},
      guarded_parts_for_test(),
  };
  std::mt19937_64 rng(13);
  for (std::size_t li = 0; li < cases.size(); ++li) {
    const auto& parts = cases[li];
    const TemplatePlan base = TemplatePlan::make(parts);
    for (int t = 0; t < 300; ++t) {
      std::vector<std::string> values;
      const std::size_t len = t % 4 == 0 ? 0 : t % 4 == 1 ? 3 : t % 4 == 2 ? 300 : 40000;
      const Bytes payload = fill(parts, rng, {len, len / 2 + 1}, t % 5 == 0, &values);
      std::vector<std::optional<std::string_view>> known(parts.size());
      for (std::size_t k = 0; k < parts.size(); ++k)
        if (parts[k].kind != PlanPart::Kind::kConstant && rng() % 2 == 0) known[k] = values[k];
      const TemplatePlan special = base.specialize(known);
      const std::string trace = "layout " + std::to_string(li) + " t=" + std::to_string(t);
      check_payload(special, payload, trace);
      if (HasFatalFailure()) return;
      ASSERT_EQ(compress_plan(special, payload), compress_plan(base, payload)) << trace;
      EXPECT_LE(special.ops().size(), base.ops().size()) << trace;
    }
  }
}

TEST(TemplatePlan, SpecialiseRejectsValuesThatDoNotFit) {
  const TemplatePlan plan = TemplatePlan::make({PlanPart::constant("ab"), PlanPart::fixed_hole(4), PlanPart::prefixed_hole()});
  using V = std::vector<std::optional<std::string_view>>;
  EXPECT_THROW(plan.specialize(V(2)), std::invalid_argument);                             // count
  EXPECT_THROW(plan.specialize(V{"ab", std::nullopt, std::nullopt}), std::invalid_argument);  // a constant
  EXPECT_THROW(plan.specialize(V{std::nullopt, "abc", std::nullopt}), std::invalid_argument);  // size
  const std::string big(65536, 'x');
  EXPECT_THROW(plan.specialize(V{std::nullopt, std::nullopt, big}), std::invalid_argument);
  EXPECT_NO_THROW(plan.specialize(V{std::nullopt, "abcd", ""}));
}

// More than kMaxSegments length-prefixed holes: references into late segments are not made, the
// output stays exact.
TEST(TemplatePlan, ManySegments) {
  std::vector<PlanPart> parts;
  for (int k = 0; k < 40; ++k) {
    parts.push_back(PlanPart::constant(pattern(12, static_cast<unsigned>(k))));
    parts.push_back(PlanPart::prefixed_hole(4, k >= 2 && k % 2 == 0 ? 1 : PlanPart::kNone));
  }
  const TemplatePlan plan = TemplatePlan::make(parts);
  std::mt19937_64 rng(8);
  for (std::size_t len : {0, 3, 17}) check_payload(plan, fill(parts, rng, {len, len + 1}), "len " + std::to_string(len));
}

TEST(TemplatePlan, RejectsBadSameAsHints) {
  EXPECT_THROW(TemplatePlan::make({PlanPart::fixed_hole(4, 0)}), std::invalid_argument);  // itself
  EXPECT_THROW(TemplatePlan::make({PlanPart::fixed_hole(4, 1), PlanPart::fixed_hole(4)}), std::invalid_argument);
  EXPECT_THROW(TemplatePlan::make({PlanPart::fixed_hole(4), PlanPart::fixed_hole(5, 0)}), std::invalid_argument);
  EXPECT_THROW(TemplatePlan::make({PlanPart::prefixed_hole(), PlanPart::fixed_hole(2, 0)}), std::invalid_argument);
  EXPECT_THROW(TemplatePlan::make({PlanPart::constant("x"), PlanPart::prefixed_hole(0, 0)}), std::invalid_argument);
  EXPECT_NO_THROW(TemplatePlan::make({PlanPart::fixed_hole(4), PlanPart::fixed_hole(4, 0)}));
}

// ---- buffers -----------------------------------------------------------------------------------

const std::vector<PlanPart>& guarded_parts() {
  static const std::vector<PlanPart> parts = guarded_parts_for_test();
  return parts;
}

// Output buffers of every size around the stream's, against a guard page: the exact size works
// and writes the same bytes, one byte less is reported, nothing is written past the end; the
// payload itself sits against a guard page on either side.
TEST(TemplatePlan, NeverWritesOrReadsOutsideTheBuffers) {
  const TemplatePlan plan = TemplatePlan::make(guarded_parts());
  std::mt19937_64 rng(9);
  for (const std::string& kernel : supported_kernels()) {
    for (int t = 0; t < 40; ++t) {
      const Bytes payload = fill(guarded_parts(), rng, {static_cast<std::size_t>(t * 7 % 256)}, t % 3 == 0);
      const Bytes want = compress_plan(plan, payload, "scalar");
      for (auto edge : {GuardedBuffer::Edge::kEnd, GuardedBuffer::Edge::kStart}) {
        const GuardedBuffer in(std::span<const std::uint8_t>(payload), edge);
        const std::size_t max = plan.max_compressed(payload.size());
        for (std::size_t cap : {want.size() - 1, want.size(), want.size() + 1, want.size() + 7, want.size() + 8, max,
                                max + 7, max + 8, max + 9}) {
          SCOPED_TRACE(kernel + " t=" + std::to_string(t) + " cap=" + std::to_string(cap));
          GuardedBuffer out(cap);
          const Result r = plan.compress_with(kernel, in.data(), in.size(), out.data(), cap);
          if (cap < want.size()) {
            EXPECT_EQ(r.code, Errc::kOutputTooSmall);
          } else {
            ASSERT_TRUE(r.ok()) << errc_message(r.code);
            ASSERT_EQ(Bytes(out.data(), out.data() + r.count), want);
          }
        }
        GuardedBuffer none(0);
        EXPECT_EQ(plan.compress_with(kernel, in.data(), in.size(), none.data(), 0).code, Errc::kOutputTooSmall);
      }
    }
  }
}

// Payloads that do not follow the layout's lengths are refused, never read beyond n, and never
// make the unchecked path write past max_compressed(n) + 8.
TEST(TemplatePlan, RefusesPayloadsOfTheWrongLength) {
  const TemplatePlan plan = TemplatePlan::make(guarded_parts());
  std::mt19937_64 rng(10);
  const Bytes good = fill(guarded_parts(), rng, {6});
  for (const std::string& kernel : supported_kernels()) {
    for (std::size_t n = 0; n <= good.size() + 3; ++n) {
      Bytes p = good;
      p.resize(n, 0x41);
      const GuardedBuffer in{std::span<const std::uint8_t>(p)};
      GuardedBuffer out(plan.max_compressed(n) + 8);
      const Result r = plan.compress_with(kernel, in.data(), n, out.data(), out.size());
      EXPECT_EQ(r.ok(), n == good.size()) << kernel << " n=" << n;
      if (!r.ok()) {
        EXPECT_EQ(r.code, Errc::kInternal);
      }
    }
    // Length prefixes claiming more than there is (the account slot holds 6 bytes here).
    for (std::size_t claim : {7, 100, 65535}) {
      Bytes p = good;
      const std::size_t at = p.size() - 6 - 2;  // the last slot (RTM user id, a repeat of the account)
      p[at] = static_cast<std::uint8_t>(claim);
      p[at + 1] = static_cast<std::uint8_t>(claim >> 8);
      const GuardedBuffer in{std::span<const std::uint8_t>(p)};
      GuardedBuffer out(plan.max_compressed(p.size()) + 8);
      EXPECT_EQ(plan.compress_with(kernel, in.data(), in.size(), out.data(), out.size()).code, Errc::kInternal);
    }
  }
  EXPECT_EQ(plan.compress_with("no-such-kernel", good.data(), good.size(), nullptr, 0).code, Errc::kInternal);
}

TEST(TemplatePlan, SameBytesFromManyThreads) {
  const TemplatePlan plan = TemplatePlan::make(guarded_parts());
  std::mt19937_64 rng(11);
  std::vector<Bytes> payloads, want;
  for (int t = 0; t < 64; ++t) {
    payloads.push_back(fill(guarded_parts(), rng, {static_cast<std::size_t>(t)}));
    want.push_back(compress_plan(plan, payloads.back()));
  }
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 200; ++rep)
        for (std::size_t i = 0; i < payloads.size(); ++i) {
          Bytes out(plan.max_compressed(payloads[i].size()) + 8);
          const Result r = plan.compress(payloads[i].data(), payloads[i].size(), out.data(), out.size());
          out.resize(r.count);
          bad[k] += out != want[i];
        }
    });
  for (auto& t : threads) t.join();
  for (int k = 0; k < 4; ++k) EXPECT_EQ(bad[k], 0) << "thread " << k;
}

TEST(TemplatePlan, KernelTableEndsWithScalarAndForceSelects) {
  const auto names = supported_kernels();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.back(), "scalar");
  const std::string saved = deflate::plan::active().name;
  for (const std::string& k : names) {
    EXPECT_TRUE(deflate::plan::force(k));
    EXPECT_EQ(deflate::plan::active().name, k);
  }
  EXPECT_FALSE(deflate::plan::force("no-such-kernel"));
  EXPECT_TRUE(deflate::plan::force(saved));
}

// ---- the batch engine ------------------------------------------------------------------------------

Bytes token_payload(std::string_view token) {
  EXPECT_EQ(token.substr(0, 3), "007");
  Bytes z(base64::decoded_size_max(token.size() - 3));
  const Result d = base64::decode(token.data() + 3, token.size() - 3, z.data());
  EXPECT_TRUE(d.ok());
  z.resize(d.count);
  Bytes out(4096);
  const Result r = deflate::inflate_zlib(z.data(), z.size(), out.data(), out.size());
  EXPECT_TRUE(r.ok());
  out.resize(r.count);
  return out;
}

// Fast-mode batches (templated layouts, >= 64 tokens) compress with a plan: their strings differ
// from single calls but carry the same payloads, and they do not depend on the thread count.
TEST(TemplatePlanBatch, FastTokensCarryTheSingleCallPayloads) {
  const Minter one(kAppId, kCert, MinterOptions{Compression::kFast, 1});
  const Minter two(kAppId, kCert, MinterOptions{Compression::kFast, 2});
  const std::size_t n = 1500;
  std::mt19937_64 rng(12);
  std::vector<std::uint32_t> salts(n), uids(n);
  std::vector<std::string> accounts(n), channels(n);
  for (std::size_t i = 0; i < n; ++i) {
    salts[i] = static_cast<std::uint32_t>(rng());
    uids[i] = i < 11 ? static_cast<std::uint32_t>(i == 0 ? 0 : std::stoull(uid_with_digits(rng, static_cast<unsigned>(i))))
                     : static_cast<std::uint32_t>(rng());
    accounts[i] = random_string(rng, i % 64 == 0 ? 255 : 1 + i % 20, false);
    channels[i] = "room-" + std::to_string(i % 13);
  }
  struct Case {
    const char* name;
    SpecFactory factory;
    bool per_token_channel, uids;
  };
  const Case cases[] = {
      {"rtc_uid", [](std::string_view c, std::string_view u) { return detail::rtc(c, u, RtcRole::kPublisher, 3600, 3600); },
       false, true},
      {"rtc_account_channels",
       [](std::string_view c, std::string_view u) { return detail::rtc(c, u, RtcRole::kSubscriber, 86400, 600); }, true,
       false},
      {"rtc_rtm", [](std::string_view c, std::string_view u) { return detail::rtc_rtm(c, u, RtcRole::kPublisher, 3600, 3600); },
       false, false},
      {"fpa", [](std::string_view, std::string_view) { return detail::fpa(); }, false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    BatchColumns cols;
    cols.count = n;
    if (c.per_token_channel) cols.channels = channels; else cols.channels = {std::string(kChannel)};
    if (c.uids) cols.uids = uids; else cols.accounts = accounts;
    cols.salts = salts;
    cols.issue_ts = kIssue;
    const TokenBatch a = one.mint_batch(c.factory, cols);
    const TokenBatch b = two.mint_batch(c.factory, cols);
    ASSERT_EQ(a.size(), n);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(a[i], b[i]) << i;
    for (std::size_t i = 0; i < n; i += (i < 20 ? 1 : 37)) {
      const std::string user = c.uids ? uid_string(uids[i]) : accounts[i];
      const std::string single = one.mint(c.factory(cols.channels.size() == 1 ? cols.channels[0] : cols.channels[i], user),
                                          salts[i], kIssue);
      ASSERT_EQ(token_payload(a[i]), token_payload(single)) << i;
      EXPECT_TRUE(verify_token(a[i], kCert).ok()) << i;
    }
  }
}

// What the bulk writer relies on (resume equals an uninterrupted run): with fixed salts and
// issue_ts, a token's bytes do not depend on how the tokens are split into batches, on the
// thread count, or on whether the batch shares a channel (which specialises its plan).
TEST(TemplatePlanBatch, TokensDoNotDependOnHowTheyAreBatched) {
  const Minter one(kAppId, kCert, MinterOptions{Compression::kFast, 1});
  const Minter two(kAppId, kCert, MinterOptions{Compression::kFast, 2});
  const auto factory = [](std::string_view c, std::string_view u) {
    return detail::rtc_rtm(c, u, RtcRole::kPublisher, 3600, 3600);
  };
  const std::size_t n = 1300;
  std::mt19937_64 rng(14);
  std::vector<std::uint32_t> salts(n);
  std::vector<std::string> accounts(n);
  for (std::size_t i = 0; i < n; ++i) {
    salts[i] = static_cast<std::uint32_t>(rng());
    accounts[i] = "user-" + std::to_string(rng() % 100000);
  }
  const auto batch = [&](const Minter& m, std::size_t from, std::size_t to, bool channel_column) {
    BatchColumns cols;
    cols.count = to - from;
    if (channel_column)
      cols.channels.assign(to - from, std::string(kChannel));  // one per token, all equal: not specialised
    else
      cols.channels = {std::string(kChannel)};
    cols.accounts.assign(accounts.begin() + static_cast<std::ptrdiff_t>(from), accounts.begin() + static_cast<std::ptrdiff_t>(to));
    cols.salts = std::span<const std::uint32_t>(salts).subspan(from, to - from);
    cols.issue_ts = kIssue;
    const TokenBatch b = m.mint_batch(factory, cols);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < b.size(); ++i) out.emplace_back(b[i]);
    return out;
  };
  const std::vector<std::string> whole = batch(one, 0, n, false);
  EXPECT_EQ(batch(two, 0, n, false), whole);
  EXPECT_EQ(batch(two, 0, n, true), whole);
  for (std::size_t step : {1, 7, 63, 64, 65, 500}) {
    std::vector<std::string> pieces;
    for (std::size_t from = 0; from < n; from += step) {
      const auto part = batch(step % 2 ? one : two, from, std::min(n, from + step), step == 7);
      pieces.insert(pieces.end(), part.begin(), part.end());
    }
    EXPECT_EQ(pieces, whole) << "batches of " << step;
  }
}

}  // namespace
}  // namespace mintlane
