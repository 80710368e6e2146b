// fuzz_decode006.cpp - libFuzzer target: legacy 006 decode + verify on arbitrary strings.
#include <cstdint>
#include <string>

#include "mintlane/errors.hpp"
#include "mintlane/token.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string token = "006";
  token.append(reinterpret_cast<const char*>(data), size);
  try {
    const mintlane::Decoded006 d = mintlane::decode_006(token);
    mintlane::VerifyOptions o;
    o.channel = "lobby";
    o.account = "alice";
    o.now = 1700000000;
    (void)mintlane::verify_006(d, "5CFd2fd1755d40ecb72977518be15d3b", o);
  } catch (const mintlane::DecodeError&) {
  }
  return 0;
}
