// json.hpp - a small, self-contained JSON reader (RFC 8259) for the golden vectors in
// tests/vectors (TOKEN_FORMAT.md vectors/README.md). Test-only: a DOM of Value nodes, strict
// parsing (no comments, no trailing commas), \uXXXX escapes with surrogate pairs decoded to
// UTF-8, integers kept exact as int64 when they have no fraction or exponent. Errors throw
// std::runtime_error naming the byte offset. Not thread-safe to mutate; reading is.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mintlane::test::json {

class Value;
using Array = std::vector<Value>;
using Object = std::vector<std::pair<std::string, Value>>;  // insertion order kept

class Value {
 public:
  enum class Kind { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

  Value() = default;
  static Value make_bool(bool b) { Value v; v.kind_ = Kind::kBool; v.b_ = b; return v; }
  static Value make_int(std::int64_t i) { Value v; v.kind_ = Kind::kInt; v.i_ = i; v.d_ = static_cast<double>(i); return v; }
  static Value make_double(double d) { Value v; v.kind_ = Kind::kDouble; v.d_ = d; return v; }
  static Value make_string(std::string s) { Value v; v.kind_ = Kind::kString; v.s_ = std::move(s); return v; }
  static Value make_array(Array a) { Value v; v.kind_ = Kind::kArray; v.a_ = std::make_shared<Array>(std::move(a)); return v; }
  static Value make_object(Object o) { Value v; v.kind_ = Kind::kObject; v.o_ = std::make_shared<Object>(std::move(o)); return v; }

  Kind kind() const noexcept { return kind_; }
  bool is_null() const noexcept { return kind_ == Kind::kNull; }
  bool is_bool() const noexcept { return kind_ == Kind::kBool; }
  bool is_int() const noexcept { return kind_ == Kind::kInt; }
  bool is_number() const noexcept { return kind_ == Kind::kInt || kind_ == Kind::kDouble; }
  bool is_string() const noexcept { return kind_ == Kind::kString; }
  bool is_array() const noexcept { return kind_ == Kind::kArray; }
  bool is_object() const noexcept { return kind_ == Kind::kObject; }

  bool as_bool() const { expect(Kind::kBool, "bool"); return b_; }
  std::int64_t as_int() const { expect(Kind::kInt, "integer"); return i_; }
  double as_double() const {
    if (!is_number()) type_error("number");
    return d_;
  }
  std::uint32_t as_u32() const {
    const std::int64_t v = as_int();
    if (v < 0 || v > 0xffffffffLL) throw std::runtime_error("json: " + std::to_string(v) + " is not a u32");
    return static_cast<std::uint32_t>(v);
  }
  const std::string& as_string() const { expect(Kind::kString, "string"); return s_; }
  const Array& as_array() const { expect(Kind::kArray, "array"); return *a_; }
  const Object& as_object() const { expect(Kind::kObject, "object"); return *o_; }

  // Array element / size.
  std::size_t size() const {
    if (is_array()) return a_->size();
    if (is_object()) return o_->size();
    type_error("array or object");
  }
  const Value& operator[](std::size_t i) const {
    const Array& a = as_array();
    if (i >= a.size()) throw std::runtime_error("json: index " + std::to_string(i) + " out of range");
    return a[i];
  }
  // Literal indexes (v[0]) would otherwise be ambiguous with the const char* key overload.
  const Value& operator[](int i) const {
    if (i < 0) throw std::runtime_error("json: negative index");
    return (*this)[static_cast<std::size_t>(i)];
  }
  // Object member; throws when missing (use find() / contains() for optional keys).
  const Value* find(std::string_view key) const {
    for (const auto& [k, v] : as_object())
      if (k == key) return &v;
    return nullptr;
  }
  bool contains(std::string_view key) const { return is_object() && find(key) != nullptr; }
  const Value& operator[](std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) throw std::runtime_error("json: missing key \"" + std::string(key) + "\"");
    return *v;
  }
  const Value& operator[](const char* key) const { return (*this)[std::string_view(key)]; }
  // Convenience: the string of `key`, or `fallback` when absent or null.
  std::string string_or(std::string_view key, std::string fallback) const {
    const Value* v = find(key);
    return v == nullptr || v->is_null() ? fallback : v->as_string();
  }

  auto begin() const { return as_array().begin(); }
  auto end() const { return as_array().end(); }

 private:
  static const char* kind_name(Kind k) {
    switch (k) {
      case Kind::kNull: return "null";
      case Kind::kBool: return "bool";
      case Kind::kInt: return "integer";
      case Kind::kDouble: return "number";
      case Kind::kString: return "string";
      case Kind::kArray: return "array";
      case Kind::kObject: return "object";
    }
    return "?";
  }
  [[noreturn]] void type_error(const char* want) const {
    throw std::runtime_error(std::string("json: expected ") + want + ", got " + kind_name(kind_));
  }
  void expect(Kind k, const char* want) const {
    if (kind_ != k) type_error(want);
  }

  Kind kind_ = Kind::kNull;
  bool b_ = false;
  std::int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
  std::shared_ptr<Array> a_;   // shared: copies of a parsed document are cheap and read-only
  std::shared_ptr<Object> o_;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : t_(text) {}

  Value parse_document() {
    Value v = parse_value(0);
    skip_ws();
    if (p_ != t_.size()) fail("trailing characters after the document");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 256;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("json: " + what + " at offset " + std::to_string(p_));
  }
  void skip_ws() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r')) ++p_;
  }
  char peek() {
    skip_ws();
    if (p_ >= t_.size()) fail("unexpected end of input");
    return t_[p_];
  }
  void expect_char(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++p_;
  }
  void expect_word(std::string_view w) {
    if (t_.substr(p_, w.size()) != w) fail("invalid literal");
    p_ += w.size();
  }

  Value parse_value(int depth) {
    if (depth > kMaxDepth) fail("nesting too deep");
    switch (peek()) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return Value::make_string(parse_string());
      case 't': expect_word("true"); return Value::make_bool(true);
      case 'f': expect_word("false"); return Value::make_bool(false);
      case 'n': expect_word("null"); return Value();
      default: return parse_number();
    }
  }

  Value parse_object(int depth) {
    expect_char('{');
    Object o;
    if (peek() == '}') { ++p_; return Value::make_object(std::move(o)); }
    for (;;) {
      if (peek() != '"') fail("expected a string key");
      std::string key = parse_string();
      expect_char(':');
      o.emplace_back(std::move(key), parse_value(depth + 1));
      const char c = peek();
      ++p_;
      if (c == '}') break;
      if (c != ',') { --p_; fail("expected ',' or '}'"); }
    }
    return Value::make_object(std::move(o));
  }

  Value parse_array(int depth) {
    expect_char('[');
    Array a;
    if (peek() == ']') { ++p_; return Value::make_array(std::move(a)); }
    for (;;) {
      a.push_back(parse_value(depth + 1));
      const char c = peek();
      ++p_;
      if (c == ']') break;
      if (c != ',') { --p_; fail("expected ',' or ']'"); }
    }
    return Value::make_array(std::move(a));
  }

  unsigned hex4() {
    if (p_ + 4 > t_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = t_[p_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else { --p_; fail("bad hex digit in \\u escape"); }
    }
    return v;
  }

  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  std::string parse_string() {
    expect_char('"');
    std::string out;
    for (;;) {
      if (p_ >= t_.size()) fail("unterminated string");
      const char c = t_[p_++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) { --p_; fail("control character in string"); }
      if (c != '\\') { out.push_back(c); continue; }
      if (p_ >= t_.size()) fail("truncated escape");
      const char e = t_[p_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xd800 && cp <= 0xdbff) {  // high surrogate: a low one must follow
            if (t_.substr(p_, 2) != "\\u") fail("lone high surrogate");
            p_ += 2;
            const std::uint32_t lo = hex4();
            if (lo < 0xdc00 || lo > 0xdfff) fail("high surrogate without a low surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            fail("lone low surrogate");
          }
          put_utf8(out, cp);
          break;
        }
        default: --p_; fail("unknown escape");
      }
    }
    return out;
  }

  Value parse_number() {
    skip_ws();
    const std::size_t start = p_;
    if (p_ < t_.size() && t_[p_] == '-') ++p_;
    auto digits = [&] {
      const std::size_t d = p_;
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
      return p_ - d;
    };
    const std::size_t int_start = p_;
    if (digits() == 0) fail("invalid value");
    if (t_[int_start] == '0' && p_ - int_start > 1) fail("leading zero in number");
    bool integral = true;
    if (p_ < t_.size() && t_[p_] == '.') {
      ++p_;
      integral = false;
      if (digits() == 0) fail("digit expected after '.'");
    }
    if (p_ < t_.size() && (t_[p_] == 'e' || t_[p_] == 'E')) {
      ++p_;
      integral = false;
      if (p_ < t_.size() && (t_[p_] == '+' || t_[p_] == '-')) ++p_;
      if (digits() == 0) fail("digit expected in exponent");
    }
    const std::string text(t_.substr(start, p_ - start));
    if (integral && text.size() <= 18) return Value::make_int(std::strtoll(text.c_str(), nullptr, 10));
    return Value::make_double(std::strtod(text.c_str(), nullptr));
  }

  std::string_view t_;
  std::size_t p_ = 0;
};

inline Value parse(std::string_view text) { return Parser(text).parse_document(); }

// Directory of the golden vectors: $MINTLANE_VECTORS_DIR when set (ctest sets it), else the
// MINTLANE_VECTORS_DIR macro CMake compiles in.
inline std::string vectors_dir() {
  if (const char* env = std::getenv("MINTLANE_VECTORS_DIR"); env != nullptr && *env != '\0') return env;
#ifdef MINTLANE_VECTORS_DIR
  return MINTLANE_VECTORS_DIR;
#else
  return "tests/vectors";
#endif
}

// Parses a file; throws std::runtime_error naming the path when it cannot be read or parsed.
inline Value load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("json: cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  try {
    return parse(ss.str());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

// A vectors file by name, parsed once per process (tests only read it).
inline const Value& vectors(const std::string& file) {
  static std::map<std::string, Value> cache;  // test bodies run on one thread
  auto it = cache.find(file);
  if (it == cache.end()) it = cache.emplace(file, load_file(vectors_dir() + "/" + file)).first;
  return it->second;
}

}  // namespace mintlane::test::json
