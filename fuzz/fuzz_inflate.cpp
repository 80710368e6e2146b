// fuzz_inflate.cpp - libFuzzer target: the strict zlib inflater on arbitrary bytes, cross-checked
// against system zlib (both must agree on success and on the inflated bytes).
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "deflate/deflate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> out(1 << 16);
  std::size_t trailing = 0;
  const mintlane::Result r = mintlane::deflate::inflate_zlib(data, size, out.data(), out.size(), &trailing);
  std::vector<std::uint8_t> ref(1 << 16);
  uLongf ref_len = ref.size();
  uLong consumed = size;
  const int zr = uncompress2(ref.data(), &ref_len, data, &consumed);
  if (zr == Z_OK) {
    // zlib accepted a complete stream: we must accept it with identical output.
    if (!r.ok() || r.count != ref_len || std::memcmp(out.data(), ref.data(), ref_len) != 0) __builtin_trap();
    if (trailing != size - consumed) __builtin_trap();
  } else if (r.ok() && zr != Z_BUF_ERROR) {
    // We accepted what zlib rejects (other than its own output-size limit).
    __builtin_trap();
  }
  if (r.ok()) {  // round trip through every compressor
    std::vector<std::uint8_t> z(mintlane::deflate::compress_bound(r.count)), back(r.count + 1);
    for (auto fn : {mintlane::deflate::compress_fast, mintlane::deflate::compress_isal, mintlane::deflate::compress_exact}) {
      const mintlane::Result c = fn(out.data(), r.count, z.data(), z.size());
      if (!c.ok()) __builtin_trap();
      const mintlane::Result d = mintlane::deflate::inflate_zlib(z.data(), c.count, back.data(), back.size());
      if (!d.ok() || d.count != r.count || std::memcmp(back.data(), out.data(), r.count) != 0) __builtin_trap();
    }
  }
  return 0;
}
