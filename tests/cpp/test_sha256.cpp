// test_sha256.cpp - every SHA-256 compression kernel against OpenSSL SHA256() and the FIPS 180-4 /
// NIST CSRC example vectors, with FIPS 180-4 §5.1.1 padding built here, independently of the
// engine, next to guard pages; plus the dispatch table and the one-shot sha256().
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/cpu.hpp"
#include "crypto/sha256.hpp"
#include "support/guarded_buffer.hpp"

namespace {

namespace cpu = mintlane::cpu;
namespace crypto = mintlane::crypto;
using mintlane::test::GuardedBuffer;
using Digest = std::array<std::uint8_t, 32>;

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

std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

// FIPS 180-4 §5.1.1: message, 0x80, zeros up to 56 mod 64, 64-bit big-endian bit length.
std::vector<std::uint8_t> fips_padded(const std::uint8_t* data, std::size_t n) {
  std::vector<std::uint8_t> p(data, data + n);
  p.push_back(0x80);
  while (p.size() % 64 != 56) p.push_back(0);
  const std::uint64_t bits = static_cast<std::uint64_t>(n) * 8;
  for (int i = 7; i >= 0; --i) p.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
  return p;
}

Digest digest_of_state(const std::uint32_t st[8]) {
  Digest d;
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 4; ++j) d[4 * i + j] = static_cast<std::uint8_t>(st[i] >> (24 - 8 * j));
  return d;
}

// Hashes data with nothing but the kernel's compression function.
Digest hash_with(const crypto::Sha256Kernel& k, const std::uint8_t* data, std::size_t n) {
  const std::vector<std::uint8_t> p = fips_padded(data, n);
  GuardedBuffer blocks(std::span<const std::uint8_t>(p.data(), p.size()));  // padded input ends at a guard page
  std::uint32_t st[8];
  std::memcpy(st, crypto::kSha256Init, sizeof st);
  k.compress(st, blocks.data(), p.size() / 64);
  return digest_of_state(st);
}

Digest openssl_sha256(const std::uint8_t* data, std::size_t n) {
  Digest d;
  SHA256(data, n, d.data());
  return d;
}

// Restores the active kernel when a test that forces one ends, whatever the outcome.
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

std::vector<const crypto::Sha256Kernel*> kernel_pointers() {
  std::vector<const crypto::Sha256Kernel*> v;
  for (const crypto::Sha256Kernel& k : crypto::sha256_kernels()) v.push_back(&k);
  return v;
}

class Sha256Compress : public testing::TestWithParam<const crypto::Sha256Kernel*> {
 protected:
  void SetUp() override {
    if (!cpu::supports(GetParam()->required)) GTEST_SKIP() << GetParam()->name << " not on this CPU";
  }
};

TEST_P(Sha256Compress, MatchesOpenSslOnRandomDataAtEveryLengthUpTo300) {
  const crypto::Sha256Kernel& k = *GetParam();
  for (std::size_t len = 0; len <= 300; ++len) {
    const std::vector<std::uint8_t> data = random_bytes(len, 1000 + len);
    ASSERT_EQ(hex(hash_with(k, data.data(), len)), hex(openssl_sha256(data.data(), len)))
        << k.name << " len=" << len;
  }
}

TEST_P(Sha256Compress, MatchesFips180ExampleVectors) {
  // FIPS 180-4 examples as published by NIST CSRC (SHA256.pdf, SHA2_Additional.pdf).
  struct Vector {
    std::string message;
    const char* digest;
  };
  const Vector kVectors[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
      {std::string(1000000, 'a'), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
      {std::string(1, '\xbd'), "68325720aabd7c82f30f554b313d0570c95accbb7dc4b5aae11204c08ffe732b"},
      {std::string("\xc9\x8c\x8e\x55", 4), "7abc22c0ae5af26ce93dbb94433a0e0b2e119d014f8e7f65bd56c61ccccd9504"},
      {std::string(55, '\0'), "02779466cdec163811d078815c633f21901413081449002f24aa3e80f0b88ef7"},
      {std::string(56, '\0'), "d4817aa5497628e7c77e6b606107042bbba3130888c5f47a375e6179be789fbb"},
      {std::string(57, '\0'), "65a16cb7861335d5ace3c60718b5052e44660726da4cd13bb745381b235a1785"},
      {std::string(64, '\0'), "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b"},
      {std::string(1000, '\0'), "541b3e9daa09b20bf85fa273e5cbd3e80185aa4ec298e765db87742b70138a53"},
      {std::string(1000, 'A'), "c2e686823489ced2017f6059b8b239318b6364f6dcd835d0a519105a1eadd6e4"},
      {std::string(1005, 'U'), "f4d62ddec0f3dd90ea1380fa16a5ff8dc4c54b21740650f24afc4120903552b0"},
  };
  const crypto::Sha256Kernel& k = *GetParam();
  for (const Vector& v : kVectors) {
    const std::vector<std::uint8_t> m = bytes_of(v.message);
    EXPECT_EQ(hex(hash_with(k, m.data(), m.size())), v.digest) << k.name << " length " << m.size();
  }
}

TEST_P(Sha256Compress, ManyBlocksInOneCallEqualOneBlockAtATime) {
  const crypto::Sha256Kernel& k = *GetParam();
  const std::vector<std::uint8_t> data = random_bytes(64 * 17, 7);
  for (std::size_t nblocks = 0; nblocks <= 17; ++nblocks) {
    std::uint32_t together[8], apart[8];
    std::memcpy(together, crypto::kSha256Init, sizeof together);
    std::memcpy(apart, crypto::kSha256Init, sizeof apart);
    k.compress(together, data.data(), nblocks);
    for (std::size_t b = 0; b < nblocks; ++b) k.compress(apart, data.data() + 64 * b, 1);
    ASSERT_EQ(0, std::memcmp(together, apart, sizeof apart)) << k.name << " nblocks=" << nblocks;
  }
}

TEST_P(Sha256Compress, ZeroBlocksLeaveTheStateUnchanged) {
  const crypto::Sha256Kernel& k = *GetParam();
  std::uint32_t st[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::uint32_t before[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  GuardedBuffer empty(0);
  k.compress(st, empty.data(), 0);
  EXPECT_EQ(0, std::memcmp(st, before, sizeof st)) << k.name;
}

TEST_P(Sha256Compress, AgreesWithGenericFromArbitraryStatesAndUnalignedBlocks) {
  const crypto::Sha256Kernel& k = *GetParam();
  std::mt19937 rng(99);
  for (std::size_t offset = 0; offset < 16; ++offset) {
    const std::vector<std::uint8_t> data = random_bytes(offset + 3 * 64, offset);
    std::uint32_t a[8], b[8];
    for (int i = 0; i < 8; ++i) a[i] = b[i] = static_cast<std::uint32_t>(rng());
    k.compress(a, data.data() + offset, 3);
    crypto::sha256_compress_generic(b, data.data() + offset, 3);
    ASSERT_EQ(0, std::memcmp(a, b, sizeof a)) << k.name << " offset=" << offset;
  }
}

// The one-shot sha256() on the forced kernel: it pads by itself, reading only [data, data + n).
TEST_P(Sha256Compress, OneShotMatchesOpenSslNextToGuardPages) {
  const crypto::Sha256Kernel& k = *GetParam();
  ForcedSha256 forced(k.name);
  ASSERT_TRUE(forced.ok());
  for (std::size_t len = 0; len <= 300; ++len) {
    const std::vector<std::uint8_t> data = random_bytes(len, 5000 + len);
    for (GuardedBuffer::Edge edge : {GuardedBuffer::Edge::kEnd, GuardedBuffer::Edge::kStart}) {
      GuardedBuffer in(std::span<const std::uint8_t>(data.data(), data.size()), edge);
      Digest got;
      crypto::sha256(in.data(), len, got.data());
      ASSERT_EQ(hex(got), hex(openssl_sha256(data.data(), len))) << k.name << " len=" << len;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, Sha256Compress, testing::ValuesIn(kernel_pointers()),
                         [](const auto& p) { return std::string(p.param->name); });

TEST(Sha256Dispatch, ListsGenericLastAndItNeedsNoCpuFeature) {
  const auto kernels = crypto::sha256_kernels();
  ASSERT_FALSE(kernels.empty());
  EXPECT_STREQ(kernels.back().name, "generic");
  EXPECT_EQ(kernels.back().required, 0u);
}

TEST(Sha256Dispatch, ActiveKernelIsTheFirstSupportedOne) {
  const crypto::Sha256Kernel* best = nullptr;
  for (const crypto::Sha256Kernel& k : crypto::sha256_kernels())
    if (best == nullptr && cpu::supports(k.required)) best = &k;
  ASSERT_NE(best, nullptr);
  EXPECT_STREQ(crypto::sha256_active().name, best->name);
}

TEST(Sha256Dispatch, ForceRejectsUnknownNamesAndKeepsTheActiveKernel) {
  const std::string before = crypto::sha256_active().name;
  EXPECT_FALSE(crypto::sha256_force("sha3"));
  EXPECT_FALSE(crypto::sha256_force(""));
  EXPECT_EQ(before, crypto::sha256_active().name);
}

TEST(Sha256Dispatch, ForceSelectsEachSupportedKernelByName) {
  ForcedSha256 restore("generic");
  for (const crypto::Sha256Kernel& k : crypto::sha256_kernels()) {
    EXPECT_EQ(crypto::sha256_force(k.name), cpu::supports(k.required)) << k.name;
    if (cpu::supports(k.required)) {
      EXPECT_STREQ(crypto::sha256_active().name, k.name);
    }
  }
}

}  // namespace
