// json_body.cpp - the POST /getToken body decoder (RFC 8259 grammar; Go encoding/json semantics,
// TOKEN_SERVER.md §5). Non-recursive: nesting is tracked on a small explicit stack.
#include "server/json_body.hpp"

#include <vector>

namespace mintlane::server {
namespace {

constexpr std::size_t kMaxDepth = 10000;  // Go's decoder limit

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  void skip_ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
  }
  bool at_end() const { return p_ >= s_.size(); }
  char peek() const { return s_[p_]; }
  std::size_t pos() const { return p_; }
  void advance() { ++p_; }

  bool fail(std::string& error, const char* what) {
    error = std::string(what) + " at offset " + std::to_string(p_);
    return false;
  }

  bool literal(std::string_view word) {
    if (s_.substr(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  // Reads a JSON string (at '"') into `out` (may be null to only validate). Invalid UTF-8 and
  // lone surrogates become U+FFFD, as in Go.
  bool string(std::string* out) {
    ++p_;  // opening quote
    if (out) out->clear();
    while (p_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[p_]);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (p_ + 1 >= s_.size()) return false;
        char e = s_[p_ + 1];
        p_ += 2;
        char plain = 0;
        switch (e) {
          case '"': plain = '"'; break;
          case '\\': plain = '\\'; break;
          case '/': plain = '/'; break;
          case 'b': plain = '\b'; break;
          case 'f': plain = '\f'; break;
          case 'n': plain = '\n'; break;
          case 'r': plain = '\r'; break;
          case 't': plain = '\t'; break;
          case 'u': {
            std::uint32_t cp;
            if (!hex4(cp)) return false;
            if (cp >= 0xD800 && cp < 0xDC00) {
              std::uint32_t lo;
              std::size_t save = p_;
              if (p_ + 1 < s_.size() && s_[p_] == '\\' && s_[p_ + 1] == 'u') {
                p_ += 2;
                if (!hex4(lo)) return false;
                if (lo >= 0xDC00 && lo < 0xE000) {
                  cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else {
                  p_ = save;
                  cp = 0xFFFD;
                }
              } else {
                cp = 0xFFFD;
              }
            } else if (cp >= 0xDC00 && cp < 0xE000) {
              cp = 0xFFFD;
            }
            if (out) put_utf8(*out, cp);
            continue;
          }
          default: return false;
        }
        if (out) out->push_back(plain);
        continue;
      }
      if (c < 0x80) {
        if (out) out->push_back(static_cast<char>(c));
        ++p_;
        continue;
      }
      std::size_t len = utf8_len(p_);
      if (len == 0) {
        if (out) put_utf8(*out, 0xFFFD);
        ++p_;
      } else {
        if (out) out->append(s_.substr(p_, len));
        p_ += len;
      }
    }
    return false;  // unterminated
  }

  // Reads a number token; sets `integer` when it is an integer literal that fits int64.
  bool number(std::int64_t& value, bool& integer) {
    std::size_t start = p_;
    bool neg = false;
    if (s_[p_] == '-') {
      neg = true;
      ++p_;
    }
    if (p_ >= s_.size()) return false;
    if (s_[p_] == '0') {
      ++p_;
    } else if (s_[p_] >= '1' && s_[p_] <= '9') {
      while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
    } else {
      return false;
    }
    std::size_t int_end = p_;
    bool frac_or_exp = false;
    if (p_ < s_.size() && s_[p_] == '.') {
      ++p_;
      if (p_ >= s_.size() || s_[p_] < '0' || s_[p_] > '9') return false;
      while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
      frac_or_exp = true;
    }
    if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
      ++p_;
      if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
      if (p_ >= s_.size() || s_[p_] < '0' || s_[p_] > '9') return false;
      while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
      frac_or_exp = true;
    }
    integer = false;
    if (frac_or_exp) return true;
    // magnitude up to 2^63 (for -2^63)
    std::uint64_t mag = 0;
    for (std::size_t i = start + (neg ? 1 : 0); i < int_end; ++i) {
      std::uint64_t d = static_cast<std::uint64_t>(s_[i] - '0');
      if (mag > (UINT64_MAX - d) / 10) return true;  // overflow: not an int64
      mag = mag * 10 + d;
    }
    if (!neg && mag > static_cast<std::uint64_t>(INT64_MAX)) return true;
    if (neg && mag > static_cast<std::uint64_t>(INT64_MAX) + 1) return true;
    value = neg ? static_cast<std::int64_t>(0 - mag) : static_cast<std::int64_t>(mag);
    integer = true;
    return true;
  }

  // Validates and skips any JSON value (non-recursive).
  bool skip_value(std::string& error) {
    std::vector<char> stack;  // '{' or '['
    for (;;) {
      skip_ws();
      if (at_end()) return fail(error, "unexpected end of JSON input");
      char c = peek();
      // a value
      if (c == '{' || c == '[') {
        if (stack.size() >= kMaxDepth) return fail(error, "JSON nested too deeply");
        stack.push_back(c);
        ++p_;
        skip_ws();
        if (at_end()) return fail(error, "unexpected end of JSON input");
        if ((c == '{' && peek() == '}') || (c == '[' && peek() == ']')) {
          ++p_;
          stack.pop_back();
        } else if (c == '{') {
          if (!member_key(error)) return false;
          continue;
        } else {
          continue;
        }
      } else if (c == '"') {
        if (!string(nullptr)) return fail(error, "invalid JSON string");
      } else if (c == 't') {
        if (!literal("true")) return fail(error, "invalid character");
      } else if (c == 'f') {
        if (!literal("false")) return fail(error, "invalid character");
      } else if (c == 'n') {
        if (!literal("null")) return fail(error, "invalid character");
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        std::int64_t v;
        bool integer;
        if (!number(v, integer)) return fail(error, "invalid number");
      } else {
        return fail(error, "invalid character looking for a value");
      }
      // after a value: close containers or continue with ','
      for (;;) {
        if (stack.empty()) return true;
        skip_ws();
        if (at_end()) return fail(error, "unexpected end of JSON input");
        char d = peek();
        if (d == ',') {
          ++p_;
          if (stack.back() == '{') {
            skip_ws();
            if (!member_key(error)) return false;
          }
          break;
        }
        if ((d == '}' && stack.back() == '{') || (d == ']' && stack.back() == '[')) {
          ++p_;
          stack.pop_back();
          continue;
        }
        return fail(error, "invalid character after a value");
      }
    }
  }

  // At a member: reads `"key"` and ':' (key discarded).
  bool member_key(std::string& error) {
    skip_ws();
    if (at_end()) return fail(error, "unexpected end of JSON input");
    if (peek() != '"') return fail(error, "invalid character looking for a member name");
    if (!string(nullptr)) return fail(error, "invalid JSON string");
    skip_ws();
    if (at_end() || peek() != ':') return fail(error, "missing ':' after a member name");
    ++p_;
    return true;
  }

 private:
  bool hex4(std::uint32_t& cp) {
    if (p_ + 4 > s_.size()) return false;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[p_ + static_cast<std::size_t>(i)];
      int v = (c >= '0' && c <= '9') ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (v < 0) return false;
      cp = cp * 16 + static_cast<std::uint32_t>(v);
    }
    p_ += 4;
    return true;
  }

  // Length of a valid UTF-8 sequence at i, or 0.
  std::size_t utf8_len(std::size_t i) const {
    auto b = [&](std::size_t k) -> unsigned { return i + k < s_.size() ? static_cast<unsigned char>(s_[i + k]) : 0u; };
    unsigned c = b(0);
    auto cont = [&](std::size_t k) { return (b(k) & 0xC0u) == 0x80u; };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
      if (!cont(1) || !cont(2)) return 0;
      if (c == 0xE0 && b(1) < 0xA0) return 0;
      if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogates
      return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
      if (!cont(1) || !cont(2) || !cont(3)) return 0;
      if (c == 0xF0 && b(1) < 0x90) return 0;
      if (c == 0xF4 && b(1) >= 0x90) return 0;
      return 4;
    }
    return 0;
  }

  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view s_;
  std::size_t p_ = 0;
};

// Go's field matching: exact or case-insensitive (ASCII fold, plus the Kelvin sign U+212A that
// Unicode simple folding maps to 'k').
bool name_matches(std::string_view key, std::string_view field) {
  std::size_t i = 0, j = 0;
  while (i < key.size() && j < field.size()) {
    unsigned char a = static_cast<unsigned char>(key[i]);
    char f = field[j];
    char lf = (f >= 'A' && f <= 'Z') ? static_cast<char>(f - 'A' + 'a') : f;
    if (a == 0xE2 && lf == 'k' && key.substr(i, 3) == "\xE2\x84\xAA") {
      i += 3;
      ++j;
      continue;
    }
    char la = (a >= 'A' && a <= 'Z') ? static_cast<char>(a - 'A' + 'a') : static_cast<char>(a);
    if (la != lf) return false;
    ++i;
    ++j;
  }
  return i == key.size() && j == field.size();
}

}  // namespace

bool decode_token_request(std::string_view body, TokenRequestBody& out, std::string& error) {
  out.clear();
  Reader r(body);
  r.skip_ws();
  if (r.at_end()) {
    error = "EOF";
    return false;
  }
  char c = r.peek();
  if (c == 'n') {
    if (r.literal("null")) return true;
    return r.fail(error, "invalid character looking for a value");
  }
  if (c != '{') {
    std::string ignored;
    if (!r.skip_value(ignored)) {
      error = ignored;
      return false;
    }
    error = "request body must be a JSON object";
    return false;
  }
  r.advance();  // '{'
  r.skip_ws();
  if (r.at_end()) return r.fail(error, "unexpected end of JSON input");
  if (r.peek() == '}') return true;
  std::string key;
  const char* type_error = nullptr;  // Go reports the first type error after the whole value
  for (;;) {
    r.skip_ws();
    if (r.at_end()) return r.fail(error, "unexpected end of JSON input");
    if (r.peek() != '"') return r.fail(error, "invalid character looking for a member name");
    if (!r.string(&key)) return r.fail(error, "invalid JSON string");
    r.skip_ws();
    if (r.at_end() || r.peek() != ':') return r.fail(error, "missing ':' after a member name");
    r.advance();
    r.skip_ws();
    if (r.at_end()) return r.fail(error, "unexpected end of JSON input");
    std::string* field = nullptr;
    const char* field_error = nullptr;
    if (name_matches(key, "tokenType")) {
      field = &out.token_type;
      field_error = "tokenType must be a string";
    } else if (name_matches(key, "channel")) {
      field = &out.channel;
      field_error = "channel must be a string";
    } else if (name_matches(key, "role")) {
      field = &out.role;
      field_error = "role must be a string";
    } else if (name_matches(key, "uid")) {
      field = &out.uid;
      field_error = "uid must be a string";
    }
    const char v = r.peek();
    if (v == 'n' && (field != nullptr || name_matches(key, "expire"))) {
      // null leaves a non-pointer Go field unchanged
      if (!r.literal("null")) return r.fail(error, "invalid character looking for a value");
    } else if (field != nullptr) {
      if (v == '"') {
        if (!r.string(field)) return r.fail(error, "invalid JSON string");
      } else {
        if (!r.skip_value(error)) return false;
        if (type_error == nullptr) type_error = field_error;
      }
    } else if (name_matches(key, "expire")) {
      if (v == '-' || (v >= '0' && v <= '9')) {
        std::int64_t value = 0;
        bool integer = false;
        if (!r.number(value, integer)) return r.fail(error, "invalid number");
        if (integer) {
          out.expire = value;
        } else if (type_error == nullptr) {
          type_error = "expire must be an integer in the signed 64-bit range";
        }
      } else {
        if (!r.skip_value(error)) return false;
        if (type_error == nullptr) type_error = "expire must be an integer";
      }
    } else if (!r.skip_value(error)) {
      return false;
    }
    r.skip_ws();
    if (r.at_end()) return r.fail(error, "unexpected end of JSON input");
    if (r.peek() == ',') {
      r.advance();
      continue;
    }
    if (r.peek() == '}') break;
    return r.fail(error, "invalid character after an object member");
  }
  if (type_error != nullptr) {
    error = type_error;
    return false;
  }
  return true;  // anything after the first value is ignored, like Go's Decoder
}

}  // namespace mintlane::server
