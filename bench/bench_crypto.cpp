// bench_crypto.cpp - Google Benchmark rows for the SHA-256 compression kernels (FIPS 180-4), HMAC
// from midstates (RFC 2104) and the 007 signature chain (TOKEN_FORMAT.md §2.7), with OpenSSL's
// one-shot HMAC() chain as the baseline.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu.hpp"
#include "crypto/hmac.hpp"
#include "crypto/sha256.hpp"

namespace {

using namespace mintlane;

constexpr std::size_t kTokens = 3072;    // one salt batch (PERF_NOTES.md)
constexpr std::size_t kMessageLen = 122;  // RTC publisher signing_info of the reference fixture

// Reports seconds per item; Google Benchmark prints it with an SI prefix ("245n" = 245 ns).
benchmark::Counter per_item(double items_per_iteration) {
  return benchmark::Counter(items_per_iteration,
                            benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// One dependent block after another: the latency of one compression, as in an HMAC chain.
void bm_compress(benchmark::State& state, crypto::CompressFn compress) {
  alignas(64) std::uint8_t block[64];
  for (std::size_t i = 0; i < sizeof block; ++i) block[i] = static_cast<std::uint8_t>(i * 7 + 1);
  std::uint32_t st[8];
  std::memcpy(st, crypto::kSha256Init, sizeof st);
  for (auto _ : state) {
    compress(st, block, 1);
    benchmark::DoNotOptimize(st);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 64);
  state.counters["per_block"] = per_item(1);
}

void bm_hmac_finish(benchmark::State& state, const char* sha_kernel) {
  const std::string previous = crypto::sha256_active().name;
  crypto::sha256_force(sha_kernel);
  const std::uint8_t key_bytes[4] = {1, 0, 0, 0};
  crypto::HmacKey key;
  crypto::hmac_init(key, key_bytes, sizeof key_bytes);
  std::uint8_t msg[32], out[32];
  for (std::size_t i = 0; i < sizeof msg; ++i) msg[i] = static_cast<std::uint8_t>(i);
  for (auto _ : state) {
    crypto::hmac_finish(key, msg, sizeof msg, out);
    msg[0] = out[0];  // chain so calls cannot overlap or be hoisted
    benchmark::DoNotOptimize(out);
  }
  crypto::sha256_force(previous);
  state.SetItemsProcessed(state.iterations());
}

// kTokens messages of kMessageLen bytes (the fixture's layout with its salt field varied) and
// random salts, as one minting batch sees them.
struct SignBatch {
  std::uint8_t k1[32];
  std::vector<std::uint32_t> salts;
  std::vector<std::uint8_t> storage;
  std::vector<const std::uint8_t*> msgs;
  std::vector<std::size_t> lens;
  std::vector<std::uint8_t> sigs;

  SignBatch() : salts(kTokens), storage(kTokens * kMessageLen), msgs(kTokens), lens(kTokens, kMessageLen),
                sigs(kTokens * 32) {
    crypto::signing_key_step1("5CFd2fd1755d40ecb72977518be15d3b", 1111111, k1);
    std::mt19937 rng(7);
    for (std::size_t i = 0; i < kTokens; ++i) {
      salts[i] = static_cast<std::uint32_t>(rng());
      std::uint8_t* m = storage.data() + i * kMessageLen;
      for (std::size_t j = 0; j < kMessageLen; ++j) m[j] = static_cast<std::uint8_t>(rng());
      std::memcpy(m + 42, &salts[i], 4);
      msgs[i] = m;
    }
  }
  std::uint8_t (*sig_ptr())[32] { return reinterpret_cast<std::uint8_t(*)[32]>(sigs.data()); }
};

void bm_sign(benchmark::State& state, crypto::Sign007Fn sign) {
  SignBatch b;
  for (auto _ : state) {
    sign(b.k1, b.salts.data(), b.msgs.data(), b.lens.data(), b.sig_ptr(), kTokens);
    benchmark::DoNotOptimize(b.sigs.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kTokens));
  state.counters["per_token"] = per_item(kTokens);
}

// Baseline: what the C++ reference does per token, two one-shot HMAC() calls.
void bm_sign_openssl_hmac_oneshot(benchmark::State& state) {
  SignBatch b;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kTokens; ++i) {
      const std::uint32_t s = b.salts[i];
      const std::uint8_t salt_le[4] = {static_cast<std::uint8_t>(s), static_cast<std::uint8_t>(s >> 8),
                                       static_cast<std::uint8_t>(s >> 16), static_cast<std::uint8_t>(s >> 24)};
      std::uint8_t k2[32];
      unsigned len = 32;
      HMAC(EVP_sha256(), salt_le, 4, b.k1, 32, k2, &len);
      HMAC(EVP_sha256(), k2, 32, b.msgs[i], b.lens[i], b.sigs.data() + 32 * i, &len);
    }
    benchmark::DoNotOptimize(b.sigs.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kTokens));
  state.counters["per_token"] = per_item(kTokens);
}

// Rows are registered per kernel the CPU supports, named as in the kernel tables.
const bool kRegistered = [] {
  for (const crypto::Sha256Kernel& k : crypto::sha256_kernels()) {
    if (!cpu::supports(k.required)) continue;
    benchmark::RegisterBenchmark((std::string("sha256_compress/") + k.name).c_str(), bm_compress, k.compress);
  }
  for (const crypto::Sha256Kernel& k : crypto::sha256_kernels()) {
    if (!cpu::supports(k.required)) continue;
    benchmark::RegisterBenchmark((std::string("hmac_finish/") + k.name + "/32").c_str(), bm_hmac_finish, k.name);
  }
  for (const crypto::SignKernel& k : crypto::sign_kernels()) {
    if (!cpu::supports(k.required)) continue;
    benchmark::RegisterBenchmark((std::string("sign007/") + k.name + "/" + std::to_string(kTokens)).c_str(),
                                 bm_sign, k.sign);
  }
  benchmark::RegisterBenchmark(("sign007/openssl_hmac_oneshot/" + std::to_string(kTokens)).c_str(),
                               bm_sign_openssl_hmac_oneshot);
  return true;
}();

}  // namespace
