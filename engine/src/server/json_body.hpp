// json_body.hpp - decoder for the POST /getToken body with the observable rules of Go's
// encoding/json Decoder into the reference's struct (TOKEN_SERVER.md §5): member names match
// case-insensitively, unknown members are ignored, a later duplicate wins, null is {}, anything
// after the first JSON value is ignored; wrong types, empty bodies, non-objects, malformed JSON
// and integers outside int64 are errors.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace mintlane::server {

struct TokenRequestBody {
  std::string token_type, channel, role, uid;
  std::int64_t expire = 0;
  void clear() {
    token_type.clear();
    channel.clear();
    role.clear();
    uid.clear();
    expire = 0;
  }
};

// Fills `out` (cleared first). On failure returns false and sets `error` to a short message that
// never quotes the input ("EOF", "invalid JSON at offset 12", "expire must be an integer", ...).
bool decode_token_request(std::string_view body, TokenRequestBody& out, std::string& error);

}  // namespace mintlane::server
