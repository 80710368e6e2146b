// fuzz_base64.cpp - libFuzzer target: every base64 kernel decodes arbitrary input exactly like the
// scalar kernel (same result code, offset and bytes), and re-encoding a success round-trips.
#include <cstdint>
#include <cstring>
#include <vector>

#include "base64/base64.hpp"
#include "cpu/cpu.hpp"

using namespace mintlane;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const char* in = reinterpret_cast<const char*>(data);
  std::vector<std::uint8_t> want(base64::decoded_size_max(size)), got(want.size());
  const Result ref = base64::decode_scalar(in, size, want.data());
  for (const base64::Kernel& k : base64::kernels()) {
    if (!cpu::supports(k.required)) continue;
    const Result r = k.decode(in, size, got.data());
    if (r.code != ref.code || r.count != ref.count) __builtin_trap();
    if (r.ok() && r.count != 0 && std::memcmp(got.data(), want.data(), r.count) != 0) __builtin_trap();
  }
  if (ref.ok()) {
    std::vector<char> again(base64::encoded_size(ref.count));
    for (const base64::Kernel& k : base64::kernels()) {
      if (!cpu::supports(k.required)) continue;
      const std::size_t n = k.encode(want.data(), ref.count, again.data());
      if (n != size || (n != 0 && std::memcmp(again.data(), in, n) != 0)) __builtin_trap();
    }
  }
  return 0;
}
