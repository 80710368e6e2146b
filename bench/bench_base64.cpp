// bench_base64.cpp - base64 encode/decode throughput per kernel, with OpenSSL EVP_EncodeBlock /
// EVP_DecodeBlock as the baseline (Google Benchmark; simdutf's loop over implementations).
//
// Rows: base64_encode/<kernel>/<n> and base64_decode/<kernel>/<n>, where n is the size of the
// binary payload (153 B is a token's compressed payload); the decode rows therefore read
// encoded_size(n) characters. Bytes/s count the payload bytes in both directions, so encode and
// decode rows of one size compare directly. Only kernels cpu::detect() supports are registered.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "base64/base64.hpp"
#include "cpu/cpu.hpp"

namespace {

namespace base64 = mintlane::base64;

std::vector<std::uint8_t> random_payload(std::size_t n) {
  std::mt19937_64 rng(n);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

std::string encoded_payload(std::size_t n) {
  const std::vector<std::uint8_t> payload = random_payload(n);
  std::string text(base64::encoded_size(n), '\0');
  base64::encode_scalar(payload.data(), n, text.data());
  return text;
}

void set_args(benchmark::internal::Benchmark* b) {
  b->Arg(16)->Arg(128)->Arg(153)->Arg(1024)->Arg(8192)->Arg(64 << 10);
}

void encode_with(benchmark::State& state, base64::EncodeFn encode) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<std::uint8_t> in = random_payload(n);
  std::vector<char> out(base64::encoded_size(n));
  for (auto _ : state) {
    benchmark::DoNotOptimize(encode(in.data(), n, out.data()));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();  // the stores to `out` count as observed
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void decode_with(benchmark::State& state, base64::DecodeFn decode) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::string text = encoded_payload(n);
  std::vector<std::uint8_t> out(n);
  for (auto _ : state) {
    const mintlane::Result r = decode(text.data(), text.size(), out.data());
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    if (!r.ok()) {
      state.SkipWithError("decode rejected its own encoder's output");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// OpenSSL's block functions: the encoder appends a NUL; the decoder is not strict (it skips
// surrounding whitespace and keeps the padding's zero bytes), so it does less checking than ours.
void encode_openssl(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<std::uint8_t> in = random_payload(n);
  std::vector<unsigned char> out(base64::encoded_size(n) + 1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(EVP_EncodeBlock(out.data(), in.data(), static_cast<int>(n)));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void decode_openssl(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::string text = encoded_payload(n);
  std::vector<unsigned char> out(text.size() / 4 * 3);
  for (auto _ : state) {
    const int r = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    if (r < 0) {
      state.SkipWithError("EVP_DecodeBlock rejected the input");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// Registered during static initialisation, before benchmark_main parses its flags; cpu::detect()
// and the kernel table are constant-initialised, so they are usable this early.
[[maybe_unused]] const bool kRegistered = [] {
  for (const base64::Kernel& k : base64::kernels())
    if (mintlane::cpu::supports(k.required))
      set_args(benchmark::RegisterBenchmark((std::string("base64_encode/") + k.name).c_str(), encode_with, k.encode));
  set_args(benchmark::RegisterBenchmark("base64_encode/openssl", encode_openssl));
  for (const base64::Kernel& k : base64::kernels())
    if (mintlane::cpu::supports(k.required))
      set_args(benchmark::RegisterBenchmark((std::string("base64_decode/") + k.name).c_str(), decode_with, k.decode));
  set_args(benchmark::RegisterBenchmark("base64_decode/openssl", decode_openssl));
  return true;
}();

}  // namespace
