// fuzz_decode007.cpp - libFuzzer target: AccessToken2 decode + verify on arbitrary strings.
// Invariants: never crashes or leaks; a decoded token re-verifies identically; errors are
// DecodeError only.
#include <cstdint>
#include <string>

#include "mintlane/errors.hpp"
#include "mintlane/token.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string token(reinterpret_cast<const char*>(data), size);
  try {
    const mintlane::Decoded007 d = mintlane::decode_007(token);
    mintlane::VerifyOptions o;
    o.now = 1700000000;
    o.channel = "lobby*";
    o.uid = 42;
    o.privilege = "join_channel";
    const auto r1 = mintlane::verify_007(d, "5CFd2fd1755d40ecb72977518be15d3b", o);
    const auto r2 = mintlane::verify_token(token, "5CFd2fd1755d40ecb72977518be15d3b", o);
    if (r1.status != r2.status) __builtin_trap();
  } catch (const mintlane::DecodeError&) {
  }
  return 0;
}
