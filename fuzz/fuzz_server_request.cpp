// fuzz_server_request.cpp - libFuzzer target: the token server's request handling from raw bytes
// to a serialized response, in process (the same RequestHandler the network server runs).
// Invariants: never crashes; always answers with an HTTP/1.1 status line; never leaks the
// certificate into a response.
#include <cstdint>
#include <string>

#include "mintlane/server.hpp"

namespace {
const char kCert[] = "5CFd2fd1755d40ecb72977518be15d3b";
const mintlane::server::RequestHandler& handler() {
  static const mintlane::server::RequestHandler* h = [] {
    mintlane::server::HandlerConfig cfg;
    cfg.cors_allow_origin = "https://app.example, https://other.example";
    return new mintlane::server::RequestHandler("970CA35de60c44645bbae8a215061b33", kCert, cfg);
  }();
  return *h;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  const std::string resp = handler().handle_raw(raw);
  if (resp.rfind("HTTP/1.1 ", 0) != 0) __builtin_trap();
  // The certificate may only appear in a response when the request itself contained it.
  if (resp.find(kCert) != std::string::npos && raw.find(kCert) == std::string::npos) __builtin_trap();
  return 0;
}
