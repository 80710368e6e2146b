// test_hmac.cpp - HMAC-SHA256 (RFC 2104) on every SHA-256 kernel against OpenSSL HMAC() and the
// RFC 4231 vectors; the 007 signing chain (TOKEN_FORMAT.md §2.7) on every sign kernel against a
// loop of OpenSSL HMAC() calls and the spec's known answers; constant-time comparison.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/cpu.hpp"
#include "crypto/hmac.hpp"
#include "crypto/sha256.hpp"
#include "support/guarded_buffer.hpp"

namespace {

namespace cpu = mintlane::cpu;
namespace crypto = mintlane::crypto;
using mintlane::test::GuardedBuffer;
using Digest = std::array<std::uint8_t, 32>;

constexpr std::string_view kCertificate = "5CFd2fd1755d40ecb72977518be15d3b";

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

std::string hex(const std::uint8_t* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 15];
  }
  return s;
}
std::string hex(const Digest& d) { return hex(d.data(), d.size()); }

std::vector<std::uint8_t> from_hex(std::string_view h) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::vector<std::uint8_t> v(h.size() / 2);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<std::uint8_t>(nibble(h[2 * i]) << 4 | nibble(h[2 * i + 1]));
  return v;
}

std::array<std::uint8_t, 4> le32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 24)};
}

Digest openssl_hmac(const std::uint8_t* key, std::size_t klen, const std::uint8_t* msg, std::size_t n) {
  Digest d;
  unsigned len = 0;
  static const std::uint8_t kEmpty = 0;  // HMAC() wants non-null pointers for empty inputs
  HMAC(EVP_sha256(), klen ? key : &kEmpty, static_cast<int>(klen), n ? msg : &kEmpty, n, d.data(), &len);
  return d;
}

// The plain definition of the 007 chain, one token at a time, on OpenSSL.
Digest reference_signature(const std::uint8_t k1[32], std::uint32_t salt, const std::uint8_t* msg, std::size_t n) {
  const auto key = le32(salt);
  const Digest k2 = openssl_hmac(key.data(), key.size(), k1, 32);
  return openssl_hmac(k2.data(), k2.size(), msg, n);
}

class ForcedSha256 {
 public:
  explicit ForcedSha256(const char* name) : previous_(crypto::sha256_active().name) {
    ok_ = crypto::sha256_force(name);
  }
  ~ForcedSha256() { crypto::sha256_force(previous_); }
  bool ok() const { return ok_; }

 private:
  std::string previous_;
  bool ok_ = false;
};

// ---- HMAC on each SHA-256 kernel -------------------------------------------------------------

std::vector<const crypto::Sha256Kernel*> sha_kernel_pointers() {
  std::vector<const crypto::Sha256Kernel*> v;
  for (const crypto::Sha256Kernel& k : crypto::sha256_kernels()) v.push_back(&k);
  return v;
}

class HmacOnSha256Kernel : public testing::TestWithParam<const crypto::Sha256Kernel*> {
 protected:
  void SetUp() override {
    if (!cpu::supports(GetParam()->required)) GTEST_SKIP() << GetParam()->name << " not on this CPU";
    forced_ = std::make_unique<ForcedSha256>(GetParam()->name);
    ASSERT_TRUE(forced_->ok());
  }
  void TearDown() override { forced_.reset(); }

 private:
  std::unique_ptr<ForcedSha256> forced_;
};

TEST_P(HmacOnSha256Kernel, MatchesOpenSslForEveryKeyLengthUpTo130AndMessageLengthUpTo300) {
  const std::vector<std::uint8_t> keys = random_bytes(130, 11);
  const std::vector<std::uint8_t> msgs = random_bytes(300, 12);
  for (std::size_t klen = 0; klen <= 130; ++klen) {
    crypto::HmacKey key;
    crypto::hmac_init(key, keys.data(), klen);
    for (std::size_t n = 0; n <= 300; ++n) {
      const std::string want = hex(openssl_hmac(keys.data(), klen, msgs.data(), n));
      Digest one_shot, from_midstates;
      crypto::hmac_sha256(keys.data(), klen, msgs.data(), n, one_shot.data());
      crypto::hmac_finish(key, msgs.data(), n, from_midstates.data());
      ASSERT_EQ(hex(one_shot), want) << GetParam()->name << " klen=" << klen << " n=" << n;
      ASSERT_EQ(hex(from_midstates), want) << GetParam()->name << " klen=" << klen << " n=" << n;
    }
  }
}

TEST_P(HmacOnSha256Kernel, MatchesRfc4231TestCases) {
  struct Case {
    std::vector<std::uint8_t> key, data;
    const char* mac;  // HMAC-SHA-256; case 5 lists only the first 128 bits
  };
  const Case kCases[] = {
      {std::vector<std::uint8_t>(20, 0x0b), from_hex("4869205468657265"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {from_hex("4a656665"), from_hex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::vector<std::uint8_t>(20, 0xaa), std::vector<std::uint8_t>(50, 0xdd),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {from_hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::vector<std::uint8_t>(50, 0xcd),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {std::vector<std::uint8_t>(20, 0x0c), from_hex("546573742057697468205472756e636174696f6e"),
       "a3b6167473100ee06e0c796c2955552b"},
      {std::vector<std::uint8_t>(131, 0xaa),
       from_hex("54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b"
                "6579204669727374"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {std::vector<std::uint8_t>(131, 0xaa),
       from_hex("5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65"
                "206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b"
                "6579206e6565647320746f20626520686173686564206265666f7265206265696e6720757365642062792074"
                "686520484d414320616c676f726974686d2e"),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  int number = 1;
  for (const Case& c : kCases) {
    Digest got;
    crypto::hmac_sha256(c.key.data(), c.key.size(), c.data.data(), c.data.size(), got.data());
    const std::string mac = c.mac;
    EXPECT_EQ(hex(got).substr(0, mac.size()), mac) << GetParam()->name << " RFC 4231 case " << number;
    ++number;
  }
}

TEST_P(HmacOnSha256Kernel, ReadsKeyAndMessageOnlyWithinTheirBounds) {
  for (std::size_t klen : {0u, 4u, 32u, 63u, 64u, 65u, 130u}) {
    for (std::size_t n : {0u, 1u, 55u, 56u, 63u, 64u, 122u, 300u}) {
      const std::vector<std::uint8_t> k = random_bytes(klen, klen), m = random_bytes(n, 100 + n);
      for (GuardedBuffer::Edge edge : {GuardedBuffer::Edge::kEnd, GuardedBuffer::Edge::kStart}) {
        GuardedBuffer key(std::span<const std::uint8_t>(k), edge), msg(std::span<const std::uint8_t>(m), edge);
        Digest got;
        crypto::hmac_sha256(key.data(), klen, msg.data(), n, got.data());
        ASSERT_EQ(hex(got), hex(openssl_hmac(k.data(), klen, m.data(), n))) << "klen=" << klen << " n=" << n;
      }
    }
  }
}

TEST_P(HmacOnSha256Kernel, SigningKeyStep1AndStep2MatchTokenFormatSection2_7) {
  Digest k1, k2;
  crypto::signing_key_step1(kCertificate, 1111111, k1.data());
  EXPECT_EQ(hex(k1), "e0f6141e54329d72102500478ec18e0020a5eeef53bbcccc442c6c2f7f178251");
  const auto salt = le32(1);
  crypto::hmac_sha256(salt.data(), salt.size(), k1.data(), k1.size(), k2.data());
  EXPECT_EQ(hex(k2), "cee2fa8dcbe868c30ca8c959d97fad4a5049c634da48449f1b8f59c14fa61073");

  // generated_007.json g007-rtc-uid-025 (issue_ts 1700000000, salt 12345678).
  crypto::signing_key_step1(kCertificate, 1700000000, k1.data());
  EXPECT_EQ(hex(k1), "93fde10d29c52cf15ac82fa7115e5de66efab7ea3616f2b50923e67f6b1776e9");
  const auto salt2 = le32(12345678);
  crypto::hmac_sha256(salt2.data(), salt2.size(), k1.data(), k1.size(), k2.data());
  EXPECT_EQ(hex(k2), "04df255f98f2473f109616aa40bca10fbe52bc2f00b1cfa611ec45d2ec546537");
}

TEST_P(HmacOnSha256Kernel, SigningKeyStep1UsesTheCertificateTextCaseSensitively) {
  Digest lower, upper;
  crypto::signing_key_step1(kCertificate, 1111111, lower.data());
  crypto::signing_key_step1("5CFD2FD1755D40ECB72977518BE15D3B", 1111111, upper.data());
  EXPECT_NE(hex(lower), hex(upper));
  const auto ts = le32(1111111);
  EXPECT_EQ(hex(lower), hex(openssl_hmac(ts.data(), ts.size(), reinterpret_cast<const std::uint8_t*>(kCertificate.data()),
                                         kCertificate.size())));
}

INSTANTIATE_TEST_SUITE_P(All, HmacOnSha256Kernel, testing::ValuesIn(sha_kernel_pointers()),
                         [](const auto& p) { return std::string(p.param->name); });

// ---- the 007 chain on each sign kernel ---------------------------------------------------------

std::vector<const crypto::SignKernel*> sign_kernel_pointers() {
  std::vector<const crypto::SignKernel*> v;
  for (const crypto::SignKernel& k : crypto::sign_kernels()) v.push_back(&k);
  return v;
}

// A batch whose messages each end at a guard page, and whose output array is followed by
// sentinel entries that must stay untouched.
struct Batch {
  std::vector<std::uint32_t> salts;
  std::vector<GuardedBuffer> storage;
  std::vector<const std::uint8_t*> msgs;
  std::vector<std::size_t> lens;
  std::vector<Digest> sigs;  // n + 2 entries; the last two are sentinels

  void add(std::uint32_t salt, std::span<const std::uint8_t> msg) {
    salts.push_back(salt);
    storage.emplace_back(msg);
    lens.push_back(msg.size());
  }
  void sign(const crypto::SignKernel& k, const std::uint8_t k1[32]) {
    msgs.clear();
    for (const GuardedBuffer& b : storage) msgs.push_back(b.data());
    Digest fill;
    fill.fill(0xee);
    sigs.assign(salts.size() + 2, fill);
    k.sign(k1, salts.data(), msgs.data(), lens.data(), reinterpret_cast<std::uint8_t(*)[32]>(sigs.data()),
           salts.size());
  }
  // Checks every signature against the reference loop and the sentinels; returns "" when all agree.
  std::string check(const std::uint8_t k1[32]) const {
    for (std::size_t i = 0; i < salts.size(); ++i) {
      const Digest want = reference_signature(k1, salts[i], storage[i].data(), lens[i]);
      if (sigs[i] != want)
        return "token " + std::to_string(i) + " of " + std::to_string(salts.size()) + " (len " +
               std::to_string(lens[i]) + "): got " + hex(sigs[i]) + " want " + hex(want);
    }
    for (std::size_t i = salts.size(); i < sigs.size(); ++i)
      for (std::uint8_t b : sigs[i])
        if (b != 0xee) return "wrote past sigs[n - 1]";
    return "";
  }
};

class SignKernelTest : public testing::TestWithParam<const crypto::SignKernel*> {
 protected:
  void SetUp() override {
    if (!cpu::supports(GetParam()->required)) GTEST_SKIP() << GetParam()->name << " not on this CPU";
    crypto::signing_key_step1(kCertificate, 1111111, k1_.data());
  }
  Digest k1_;
};

TEST_P(SignKernelTest, MatchesOpenSslHmacLoopForUpTo20TokensOfRandomLengths) {
  const crypto::SignKernel& k = *GetParam();
  std::mt19937 rng(2024);
  for (std::size_t n = 0; n <= 20; ++n) {
    for (int round = 0; round < 4; ++round) {
      Batch b;
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t len = rng() % 401;
        b.add(static_cast<std::uint32_t>(rng()), random_bytes(len, rng()));
      }
      b.sign(k, k1_.data());
      ASSERT_EQ(b.check(k1_.data()), "") << k.name << " n=" << n << " round=" << round;
    }
  }
}

TEST_P(SignKernelTest, MatchesOpenSslHmacLoopForUpTo20TokensOf122Bytes) {
  const crypto::SignKernel& k = *GetParam();
  std::mt19937 rng(122);
  for (std::size_t n = 0; n <= 20; ++n) {
    Batch b;
    for (std::size_t i = 0; i < n; ++i) b.add(static_cast<std::uint32_t>(rng()), random_bytes(122, rng()));
    b.sign(k, k1_.data());
    ASSERT_EQ(b.check(k1_.data()), "") << k.name << " n=" << n;
  }
}

// Every combination of padding-boundary lengths across three lanes, so that interleaved lanes
// end after different numbers of blocks in every order.
TEST_P(SignKernelTest, MatchesOpenSslHmacLoopWhenLanesHaveDifferentBlockCounts) {
  const crypto::SignKernel& k = *GetParam();
  constexpr std::size_t kLens[] = {0, 55, 56, 63, 64, 119, 120, 122, 183, 184, 400};
  std::uint32_t salt = 0xfffffff0u;
  for (std::size_t a : kLens) {
    for (std::size_t b : kLens) {
      for (std::size_t c : kLens) {
        Batch batch;
        batch.add(salt, random_bytes(a, salt));
        batch.add(salt + 1, random_bytes(b, salt + 1));
        batch.add(salt + 2, random_bytes(c, salt + 2));
        batch.add(salt + 3, random_bytes(c, salt + 3));  // and one more, so the tail path runs too
        salt += 4;  // wraps past 2^32 - 1 to 0 on the way
        batch.sign(k, k1_.data());
        ASSERT_EQ(batch.check(k1_.data()), "") << k.name << " lens " << a << "," << b << "," << c;
      }
    }
  }
}

TEST_P(SignKernelTest, ReproducesTheSpecSignatures) {
  const crypto::SignKernel& k = *GetParam();
  // ref-007-01 (TOKEN_FORMAT.md §2.7): issue_ts 1111111, salt 1.
  {
    Batch b;
    b.add(1, from_hex("2000393730434133356465363063343436343562626165386132313530363162333347f4100058020000010000"
                      "00010001000100010058020000200037643732333635656239383334383533393765336533663964343630626464"
                      "610a0032383832333431323733"));
    b.sign(k, k1_.data());
    EXPECT_EQ(hex(b.sigs[0]), "16a0b84c5a5e82cbf74fb813d09f59c54bdac9c06120580539ac97578e958b1a") << k.name;
  }
  // generated_007.json vectors with issue_ts 1700000000, ordered so the first group of three
  // mixes 3- and 2-block messages and two tokens are left for the one-at-a-time path.
  struct Vector {
    std::uint32_t salt;
    const char* signing_info;
    const char* signature;
  };
  const Vector kVectors[] = {
      {12345678,  // g007-rtc-uid-025
       "2000393730434133356465363063343436343562626165386132313530363162333300f15365580200004e61bc000100010004000100"
       "58020000020058020000030058020000040058020000200037643732333635656239383334383533393765336533663964343630626464"
       "610a0032383832333431323733",
       "7646908cc0e1de288284b18b9ef633ae0f92206f29bb08549ee1cfba5f6f58a1"},
      {7,  // g007-rtm-002
       "2000393730434133356465363063343436343562626165386132313530363162333300f15365100e0000070000000100020001000100"
       "100e00000900746573745f75736572",
       "8dc78da68f3fd1bc0aff43c4642b9770badb1ecc98e97fbe8d1faedb8a8df0e4"},
      {0,  // g007-rtc-uid-027
       "2000393730434133356465363063343436343562626165386132313530363162333300f153655802000000000000010001000400010058"
       "020000020058020000030058020000040058020000200037643732333635656239383334383533393765336533663964343630626464"
       "610a0032383832333431323733",
       "fbd382d0fbb4a3a4add76e6db95f7ad7dddf02cab45111c492e9a774434697bb"},
      {4294967295u,  // g007-rtc-uid-028
       "2000393730434133356465363063343436343562626165386132313530363162333300f1536558020000ffffffff010001000400010058"
       "020000020058020000030058020000040058020000200037643732333635656239383334383533393765336533663964343630626464"
       "610a0032383832333431323733",
       "eef761edefe484e7b2641739ef50c36dbd0690f09fb78b08a1666693d6d101bd"},
      {42,  // g007-rtc-uid-priv-005
       "2000393730434133356465363063343436343562626165386132313530363162333300f15365640000002a000000010001000400010"
       "0c800000002002c0100000300900100000400f4010000060041676f72612a010031",
       "07b2d701290adfaf8be7fb69cf8bee183c582462c1b3bc1feeae76f3998b4ff1"},
      {31337,  // g007-chat-user-002
       "2000393730434133356465363063343436343562626165386132313530363162333300f1536580510100697a0000010005000100010080"
       "5101000900746573745f75736572",
       "f1587d17a6d08625068f8340fd6361eeff351aa1da2979e3b05c45627a0f1d06"},
      {31337,  // g007-chat-app-002
       "2000393730434133356465363063343436343562626165386132313530363162333300f1536580510100697a0000010005000100020080"
       "5101000000",
       "5f55033d7c08bab9af287e9ed019f5eae6bb19fbb760846cf01cc139c4a20bbd"},
      {99999999,  // g007-fpa-002
       "2000393730434133356465363063343436343562626165386132313530363162333300f1536580510100ffe0f50501000400010001000000"
       "0000",
       "a76a500cac5cf6a76072d9d7c36991f4e9a24b39f5da64ce5926f0b419cc0d60"},
  };
  Digest k1;
  crypto::signing_key_step1(kCertificate, 1700000000, k1.data());
  Batch b;
  for (const Vector& v : kVectors) b.add(v.salt, from_hex(v.signing_info));
  b.sign(k, k1.data());
  for (std::size_t i = 0; i < std::size(kVectors); ++i)
    EXPECT_EQ(hex(b.sigs[i]), kVectors[i].signature) << k.name << " vector " << i << " (" << b.lens[i] << " bytes)";
}

TEST_P(SignKernelTest, ZeroTokensTouchNothing) {
  GetParam()->sign(k1_.data(), nullptr, nullptr, nullptr, nullptr, 0);
  SUCCEED();
}

INSTANTIATE_TEST_SUITE_P(All, SignKernelTest, testing::ValuesIn(sign_kernel_pointers()),
                         [](const auto& p) { return std::string(p.param->name); });

TEST(SignDispatch, ListsOpensslLastAndItNeedsNoCpuFeature) {
  const auto kernels = crypto::sign_kernels();
  ASSERT_FALSE(kernels.empty());
  EXPECT_STREQ(kernels.back().name, "openssl");
  EXPECT_EQ(kernels.back().required, 0u);
}

TEST(SignDispatch, ActiveKernelIsTheFirstSupportedOne) {
  const crypto::SignKernel* best = nullptr;
  for (const crypto::SignKernel& k : crypto::sign_kernels())
    if (best == nullptr && cpu::supports(k.required)) best = &k;
  ASSERT_NE(best, nullptr);
  EXPECT_STREQ(crypto::sign_active().name, best->name);
}

TEST(SignDispatch, ForceSelectsSupportedKernelsAndRejectsUnknownNames) {
  const std::string before = crypto::sign_active().name;
  EXPECT_FALSE(crypto::sign_force("avx9000"));
  EXPECT_EQ(before, crypto::sign_active().name);
  for (const crypto::SignKernel& k : crypto::sign_kernels()) {
    EXPECT_EQ(crypto::sign_force(k.name), cpu::supports(k.required)) << k.name;
    if (cpu::supports(k.required)) {
      EXPECT_STREQ(crypto::sign_active().name, k.name);
    }
  }
  EXPECT_TRUE(crypto::sign_force(before));
}

TEST(SignDispatch, Sign007ManyUsesTheActiveKernel) {
  Digest k1, got;
  crypto::signing_key_step1(kCertificate, 1111111, k1.data());
  const std::vector<std::uint8_t> msg = random_bytes(122, 3);
  const std::uint8_t* msgs[] = {msg.data()};
  const std::size_t lens[] = {msg.size()};
  const std::uint32_t salts[] = {77};
  crypto::sign007_many(k1.data(), salts, msgs, lens, reinterpret_cast<std::uint8_t(*)[32]>(got.data()), 1);
  EXPECT_EQ(hex(got), hex(reference_signature(k1.data(), 77, msg.data(), msg.size())));
}

// ---- constant-time comparison -------------------------------------------------------------------

TEST(EqualCt, ReportsEqualityAndEveryDifferingPosition) {
  const std::vector<std::uint8_t> a = random_bytes(64, 1);
  std::vector<std::uint8_t> b = a;
  EXPECT_TRUE(crypto::equal_ct(a.data(), b.data(), a.size()));
  EXPECT_TRUE(crypto::equal_ct(a.data(), b.data(), 0));
  for (std::size_t i = 0; i < b.size(); ++i) {
    b[i] ^= 0x01;
    EXPECT_FALSE(crypto::equal_ct(a.data(), b.data(), b.size())) << "differs at " << i;
    EXPECT_TRUE(crypto::equal_ct(a.data(), b.data(), i)) << "prefix of " << i;
    b[i] ^= 0x01;
  }
}

}  // namespace
