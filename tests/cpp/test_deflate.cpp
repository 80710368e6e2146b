// test_deflate.cpp - zlib compressors (fast fixed-Huffman, ISA-L, exact zlib level 6), strict inflate and Adler-32 (RFC 1950/1951; TOKEN_FORMAT.md §2.8, §3.3).
// Oracles: system zlib (uncompress/inflate, adler32, compress2 level 6 == Python's zlib.compress),
// the golden token strings of tests/vectors/generated_007.json and the zlib cases of parse_cases.json.
// Compressed bytes are compared with saved ones only for compress_exact (byte-identical by design);
// every other compressor is checked by round trips through two independent decoders.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "cpu/cpu.hpp"
#include "deflate/adler32_kernels.hpp"
#include "deflate/compress_fast_kernels.hpp"
#include "deflate/deflate.hpp"
#include "mintlane/errors.hpp"

namespace mintlane::deflate {
namespace {

using Bytes = std::vector<std::uint8_t>;

// ---- a small JSON reader (the vector files are plain JSON; no dependency is added for it) ------

struct Json;
using JsonObject = std::map<std::string, Json, std::less<>>;
using JsonArray = std::vector<Json>;
struct Json {
  std::variant<std::nullptr_t, bool, double, std::string, JsonArray, JsonObject> v;
  const Json* get(std::string_view key) const {
    const auto* o = std::get_if<JsonObject>(&v);
    if (o == nullptr) return nullptr;
    const auto it = o->find(key);
    return it == o->end() ? nullptr : &it->second;
  }
  const std::string& str() const { return std::get<std::string>(v); }
  const JsonArray& arr() const { return std::get<JsonArray>(v); }
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}
  Json parse() {
    Json j = value();
    ws();
    if (i_ != s_.size()) throw std::runtime_error("json: trailing characters");
    return j;
  }

 private:
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  char peek() {
    ws();
    if (i_ >= s_.size()) throw std::runtime_error("json: unexpected end");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) throw std::runtime_error(std::string("json: expected ") + c);
    ++i_;
  }
  Json value() {
    const char c = peek();
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return Json{string()};
    if (s_.compare(i_, 4, "true") == 0) return i_ += 4, Json{true};
    if (s_.compare(i_, 5, "false") == 0) return i_ += 5, Json{false};
    if (s_.compare(i_, 4, "null") == 0) return i_ += 4, Json{nullptr};
    const std::size_t start = i_;
    while (i_ < s_.size() && std::strchr("+-0123456789.eE", s_[i_]) != nullptr) ++i_;
    if (start == i_) throw std::runtime_error("json: bad value");
    return Json{std::stod(std::string(s_.substr(start, i_ - start)))};
  }
  Json object() {
    expect('{');
    JsonObject o;
    if (peek() == '}') return ++i_, Json{std::move(o)};
    for (;;) {
      std::string key = (peek(), string());
      expect(':');
      o.emplace(std::move(key), value());
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect('}');
      return Json{std::move(o)};
    }
  }
  Json array() {
    expect('[');
    JsonArray a;
    if (peek() == ']') return ++i_, Json{std::move(a)};
    for (;;) {
      a.push_back(value());
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect(']');
      return Json{std::move(a)};
    }
  }
  std::string string() {
    expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      c = s_[i_++];
      switch (c) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {  // kept as UTF-8; surrogate pairs are not needed by the fields read here
          const unsigned cp = static_cast<unsigned>(std::stoul(std::string(s_.substr(i_, 4)), nullptr, 16));
          i_ += 4;
          if (cp < 0x80) {
            out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
          } else {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
          }
          break;
        }
        default: out += c;  // '"', '\\', '/'
      }
    }
    expect('"');
    return out;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

std::string vectors_dir() {
  if (const char* env = std::getenv("MINTLANE_VECTORS_DIR")) return env;
#ifdef MINTLANE_VECTORS_DIR
  return MINTLANE_VECTORS_DIR;
#else
  return "tests/vectors";
#endif
}

Json load_json(const std::string& file) {
  std::ifstream f(vectors_dir() + "/" + file, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + vectors_dir() + "/" + file);
  std::stringstream ss;
  ss << f.rdbuf();
  return JsonParser(ss.str()).parse();
}

Bytes from_hex(std::string_view hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// Strict standard-alphabet base64 with padding (the vector tokens all are).
Bytes from_base64(std::string_view s) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  Bytes out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    const std::size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) throw std::runtime_error("bad base64");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  return out;
}

// The zlib stream inside a "007" token string.
Bytes token_zlib(const std::string& token) { return from_base64(std::string_view(token).substr(3)); }

struct GoldenVector {
  std::string id;
  Bytes payload;
  Bytes zlib;  // zlib.compress(payload) from Python 3.11 / zlib 1.2.13
};

const std::vector<GoldenVector>& golden_vectors() {
  static const std::vector<GoldenVector> v = [] {
    std::vector<GoldenVector> out;
    const Json j = load_json("generated_007.json");
    for (const Json& e : j.get("vectors")->arr())
      out.push_back({e.get("id")->str(), from_hex(e.get("payload_hex")->str()), token_zlib(e.get("token")->str())});
    return out;
  }();
  return v;
}

// Every distinct 007 payload in the vector files: generated, reference known answers and the
// payloads of the references that disagree.
const std::vector<Bytes>& vector_payloads() {
  static const std::vector<Bytes> v = [] {
    std::set<std::string> hex;  // distinct payloads, in a stable order
    const Json gen = load_json("generated_007.json");
    for (const Json& e : gen.get("vectors")->arr()) {
      hex.insert(e.get("payload_hex")->str());
      if (const Json* dis = e.get("reference_disagreements"))
        for (const Json& d : dis->arr())
          if (const Json* p = d.get("payload_hex")) hex.insert(p->str());
    }
    const Json ref = load_json("reference_known_answers.json");
    for (const Json& e : ref.get("vectors")->arr())
      if (const Json* p = e.get("payload_hex")) hex.insert(p->str());
    std::vector<Bytes> out;
    for (const std::string& h : hex) out.push_back(from_hex(h));
    return out;
  }();
  return v;
}

// Token-like random payloads: random bytes (signature, salts), runs of a repeated u32 with u16
// ids (privilege maps), hex and decimal strings, some repeated (uid == RTM user id).
Bytes token_like(std::mt19937& rng, std::size_t n) {
  Bytes p;
  p.reserve(n + 64);
  std::string last_string;
  const std::uint32_t value = rng() % 3 == 0 ? rng() : rng() % 100000;
  while (p.size() < n) {
    switch (rng() % 6) {
      case 0:
        for (int i = 0, m = 1 + static_cast<int>(rng() % 34); i < m; ++i) p.push_back(static_cast<std::uint8_t>(rng()));
        break;
      case 1:
        for (std::uint16_t id = 1, m = static_cast<std::uint16_t>(1 + rng() % 5); id <= m; ++id) {
          p.push_back(static_cast<std::uint8_t>(id));
          p.push_back(0);
          for (int b = 0; b < 4; ++b) p.push_back(static_cast<std::uint8_t>(value >> (8 * b)));
        }
        break;
      case 2: {
        std::string s;
        for (int i = 0, m = 1 + static_cast<int>(rng() % 40); i < m; ++i) s += "0123456789abcdef"[rng() % 16];
        last_string = s;
        p.push_back(static_cast<std::uint8_t>(s.size()));
        p.push_back(0);
        p.insert(p.end(), s.begin(), s.end());
        break;
      }
      case 3: {
        const std::string s = std::to_string(rng());
        p.push_back(static_cast<std::uint8_t>(s.size()));
        p.push_back(0);
        p.insert(p.end(), s.begin(), s.end());
        break;
      }
      case 4:
        if (!last_string.empty()) p.insert(p.end(), last_string.begin(), last_string.end());
        break;
      default:
        for (int i = 0, m = 1 + static_cast<int>(rng() % 8); i < m; ++i) p.push_back(static_cast<std::uint8_t>(rng() % 4));
        break;
    }
  }
  p.resize(n);
  return p;
}

const std::vector<Bytes>& random_payloads() {
  static const std::vector<Bytes> v = [] {
    std::vector<Bytes> out;
    std::mt19937 rng(20240611);
    for (int i = 0; i < 3000; ++i) out.push_back(token_like(rng, rng() % 601));
    for (std::size_t n : {4096u, 10000u, 32768u, 32769u, 65536u}) out.push_back(token_like(rng, n));
    Bytes noise(70000);  // incompressible and above one stored block (65535 bytes)
    for (auto& b : noise) b = static_cast<std::uint8_t>(rng());
    out.push_back(noise);
    out.push_back(Bytes(65536, 0));  // one long run: maximal matches at distance 1
    return out;
  }();
  return v;
}

// ---- the oracle decoder and helpers ----------------------------------------------------------

// zlib's own inflate, which also requires a correct header and Adler-32.
Bytes zlib_inflate(const Bytes& z, std::size_t expected) {
  Bytes out(expected + 1);
  uLongf len = static_cast<uLongf>(out.size());
  const int ret = uncompress(out.data(), &len, z.data(), static_cast<uLong>(z.size()));
  if (ret != Z_OK) throw std::runtime_error("zlib uncompress failed: " + std::to_string(ret));
  out.resize(len);
  return out;
}

Bytes zlib_level6(const Bytes& in) {
  Bytes out(compressBound(static_cast<uLong>(in.size())));
  uLongf len = static_cast<uLongf>(out.size());
  if (compress2(out.data(), &len, in.data(), static_cast<uLong>(in.size()), 6) != Z_OK) throw std::runtime_error("compress2");
  out.resize(len);
  return out;
}

using CompressFn = Result (*)(const std::uint8_t*, std::size_t, std::uint8_t*, std::size_t) noexcept;
struct Compressor {
  const char* name;
  CompressFn fn;
};
constexpr Compressor kCompressors[] = {{"fast", compress_fast}, {"isal", compress_isal}, {"exact", compress_exact}};

Bytes compress_with(CompressFn fn, const Bytes& in) {
  Bytes out(compress_bound(in.size()));
  const Result r = fn(in.data(), in.size(), out.data(), out.size());
  if (!r.ok()) throw std::runtime_error("compress failed");
  out.resize(r.count);
  return out;
}

bool valid_zlib_header(const Bytes& z) {
  return z.size() >= 2 && (z[0] & 0x0f) == 8 && (z[0] >> 4) <= 7 && (z[1] & 0x20) == 0 && (z[0] * 256u + z[1]) % 31 == 0;
}

// A buffer whose last byte is followed by an inaccessible page, so that reading or writing one
// byte past the end faults (libdeflate's test approach).
class GuardedBuffer {
 public:
  explicit GuardedBuffer(std::size_t size) : size_(size) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    map_size_ = (size + page - 1) / page * page + page;
    void* m = mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::runtime_error("mmap");
    map_ = static_cast<std::uint8_t*>(m);
    if (mprotect(map_ + map_size_ - page, page, PROT_NONE) != 0) throw std::runtime_error("mprotect");
    data_ = map_ + map_size_ - page - size;
  }
  GuardedBuffer(const Bytes& content) : GuardedBuffer(content.size()) {
    if (!content.empty()) std::memcpy(data_, content.data(), content.size());
  }
  ~GuardedBuffer() { munmap(map_, map_size_); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;
  std::uint8_t* data() { return data_; }
  std::size_t size() const { return size_; }

 private:
  std::uint8_t* map_ = nullptr;
  std::uint8_t* data_ = nullptr;
  std::size_t map_size_ = 0;
  std::size_t size_ = 0;
};

// Restores the fast encoder's kernel after a test forced one.
class FixedKernelGuard {
 public:
  FixedKernelGuard() : saved_(fixed::active().name) {}
  ~FixedKernelGuard() { fixed::force(saved_); }

 private:
  const char* saved_;
};

std::vector<const fixed::Kernel*> supported_fixed_kernels() {
  std::vector<const fixed::Kernel*> out;
  for (const fixed::Kernel& k : fixed::kernels())
    if (cpu::supports(k.required)) out.push_back(&k);
  return out;
}

// ---- Adler-32 ----------------------------------------------------------------------------------

TEST(Adler32, EveryKernelMatchesZlibAtEveryLengthAndOffset) {
  std::mt19937 rng(7);
  Bytes data(700 + 64);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  for (const Adler32Kernel& k : adler32_kernels()) {
    if (!cpu::supports(k.required)) continue;
    for (std::size_t offset = 0; offset < 33; offset += 1 + offset / 4) {
      for (std::size_t len = 0; len <= 700; ++len) {
        const std::uint32_t want = static_cast<std::uint32_t>(::adler32(1, data.data() + offset, static_cast<uInt>(len)));
        ASSERT_EQ(k.fn(1, data.data() + offset, len), want) << k.name << " offset=" << offset << " len=" << len;
      }
    }
  }
}

TEST(Adler32, EveryKernelMatchesZlibOnLongAndExtremeInputs) {
  // All-0xff bytes maximise the sums between reductions; 1 MiB crosses every chunk bound.
  for (const std::uint8_t fill : {std::uint8_t{0xff}, std::uint8_t{0x00}, std::uint8_t{0x5a}}) {
    const Bytes data(1 << 20, fill);
    for (const Adler32Kernel& k : adler32_kernels()) {
      if (!cpu::supports(k.required)) continue;
      for (std::size_t len : {std::size_t{5552}, std::size_t{5553}, std::size_t{32768}, std::size_t{32800}, data.size()}) {
        const std::uint32_t want = static_cast<std::uint32_t>(::adler32(1, data.data(), static_cast<uInt>(len)));
        EXPECT_EQ(k.fn(1, data.data(), len), want) << k.name << " fill=" << int{fill} << " len=" << len;
      }
    }
  }
}

TEST(Adler32, ContinuesFromAnyStartingValue) {
  std::mt19937 rng(8);
  Bytes data(1000);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  for (const Adler32Kernel& k : adler32_kernels()) {
    if (!cpu::supports(k.required)) continue;
    for (std::size_t split : {0u, 1u, 31u, 32u, 33u, 500u, 999u, 1000u}) {
      const std::uint32_t first = k.fn(1, data.data(), split);
      EXPECT_EQ(k.fn(first, data.data() + split, data.size() - split), adler32(1, data.data(), data.size()))
          << k.name << " split=" << split;
    }
    EXPECT_EQ(k.fn(0xfff0fff0u, data.data(), 100),
              static_cast<std::uint32_t>(::adler32(0xfff0fff0u, data.data(), 100)))
        << k.name;
  }
}

TEST(Adler32, EmptyInputKeepsTheValue) {
  EXPECT_EQ(adler32(1, nullptr, 0), 1u);
  EXPECT_EQ(adler32(0x12345678u, nullptr, 0), 0x12345678u);
}

// ---- compressors: round trips ------------------------------------------------------------------

class Compressors : public testing::TestWithParam<Compressor> {};

TEST_P(Compressors, EveryVectorPayloadInflatesBackWithZlibAndInflateZlib) {
  const Compressor c = GetParam();
  ASSERT_GE(vector_payloads().size(), 100u);
  for (const Bytes& p : vector_payloads()) {
    const Bytes z = compress_with(c.fn, p);
    ASSERT_TRUE(valid_zlib_header(z)) << c.name;
    ASSERT_EQ(zlib_inflate(z, p.size()), p) << c.name << " size=" << p.size();
    Bytes back(p.size() + 16);
    std::size_t trailing = 99;
    const Result r = inflate_zlib(z.data(), z.size(), back.data(), back.size(), &trailing);
    ASSERT_TRUE(r.ok()) << c.name << " errc=" << static_cast<int>(r.code);
    back.resize(r.count);
    ASSERT_EQ(back, p) << c.name;
    ASSERT_EQ(trailing, 0u);
  }
}

TEST_P(Compressors, RandomTokenLikePayloadsInflateBackWithZlibAndInflateZlib) {
  const Compressor c = GetParam();
  for (const Bytes& p : random_payloads()) {
    const Bytes z = compress_with(c.fn, p);
    ASSERT_TRUE(valid_zlib_header(z)) << c.name;
    ASSERT_LE(z.size(), compress_bound(p.size()));
    ASSERT_EQ(zlib_inflate(z, p.size()), p) << c.name << " size=" << p.size();
    Bytes back(p.size());
    const Result r = inflate_zlib(z.data(), z.size(), back.data(), back.size());
    ASSERT_TRUE(r.ok()) << c.name << " size=" << p.size() << " errc=" << static_cast<int>(r.code);
    ASSERT_EQ(r.count, p.size());
    ASSERT_EQ(back, p) << c.name;
  }
}

TEST_P(Compressors, OutputFitsExactlyAndOneByteLessIsReported) {
  const Compressor c = GetParam();
  std::mt19937 rng(3);
  for (int t = 0; t < 200; ++t) {
    const Bytes p = token_like(rng, rng() % 500);
    const Bytes z = compress_with(c.fn, p);
    {  // exactly the needed capacity, ending at a guard page: nothing is written past it
      GuardedBuffer out(z.size());
      const Result r = c.fn(p.data(), p.size(), out.data(), out.size());
      ASSERT_TRUE(r.ok()) << c.name << " size=" << p.size();
      ASSERT_EQ(Bytes(out.data(), out.data() + r.count), z) << c.name;
    }
    for (std::size_t cap : {z.size() - 1, z.size() / 2, std::size_t{1}, std::size_t{0}}) {
      GuardedBuffer out(cap);
      const Result r = c.fn(p.data(), p.size(), out.data(), cap);
      ASSERT_EQ(r.code, Errc::kOutputTooSmall) << c.name << " cap=" << cap << " need=" << z.size();
      ASSERT_EQ(r.count, 0u);
    }
  }
}

TEST_P(Compressors, InputIsReadOnlyInsideItsBounds) {
  const Compressor c = GetParam();
  std::mt19937 rng(4);
  for (std::size_t n = 0; n <= 300; ++n) {
    GuardedBuffer in(token_like(rng, n));  // the byte after the input is a guard page
    Bytes out(compress_bound(n));
    const Result r = c.fn(in.data(), n, out.data(), out.size());
    ASSERT_TRUE(r.ok());
    out.resize(r.count);
    ASSERT_EQ(zlib_inflate(out, n), Bytes(in.data(), in.data() + n)) << c.name << " n=" << n;
  }
}

TEST_P(Compressors, SameOutputFromManyThreadsAsFromOne) {
  const Compressor c = GetParam();
  const std::vector<Bytes>& ps = vector_payloads();
  std::vector<Bytes> serial;
  for (const Bytes& p : ps) serial.push_back(compress_with(c.fn, p));
  std::vector<std::vector<Bytes>> results(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) {
        results[t].clear();
        for (std::size_t i = 0; i < ps.size(); ++i) results[t].push_back(compress_with(c.fn, ps[(i + t * 7) % ps.size()]));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (std::size_t t = 0; t < results.size(); ++t)
    for (std::size_t i = 0; i < ps.size(); ++i) ASSERT_EQ(results[t][i], serial[(i + t * 7) % ps.size()]) << c.name;
}

INSTANTIATE_TEST_SUITE_P(All, Compressors, testing::ValuesIn(kCompressors),
                         [](const testing::TestParamInfo<Compressor>& p) { return std::string(p.param.name); });

// ---- compress_exact: the reference bytes ----------------------------------------------------

TEST(CompressExact, ReproducesEveryGoldenTokenByteForByte) {
  ASSERT_EQ(golden_vectors().size(), 107u);
  for (const GoldenVector& g : golden_vectors()) {
    EXPECT_EQ(compress_with(compress_exact, g.payload), g.zlib) << g.id;
  }
}

TEST(CompressExact, MatchesZlibLevelSixOnRandomPayloads) {
  std::size_t checked = 0;
  for (const Bytes& p : random_payloads()) {
    if (p.size() > 4096) continue;
    ASSERT_EQ(compress_with(compress_exact, p), zlib_level6(p)) << "size=" << p.size();
    ++checked;
  }
  EXPECT_GT(checked, 2000u);
}

// ---- compress_fast: kernels, size, fallbacks -------------------------------------------------

TEST(CompressFast, EveryKernelWritesTheSameBytesAsTheScalarOne) {
  FixedKernelGuard restore;
  const std::vector<const fixed::Kernel*> ks = supported_fixed_kernels();
  ASSERT_FALSE(ks.empty());
  std::vector<Bytes> inputs = vector_payloads();
  inputs.insert(inputs.end(), random_payloads().begin(), random_payloads().end());
  std::mt19937 rng(5);
  for (std::size_t n = 0; n <= 130; ++n) inputs.push_back(token_like(rng, n));  // every short length
  ASSERT_TRUE(fixed::force("scalar"));
  std::vector<Bytes> want;
  for (const Bytes& p : inputs) want.push_back(compress_with(compress_fast, p));
  for (const fixed::Kernel* k : ks) {
    ASSERT_TRUE(fixed::force(k->name));
    for (std::size_t i = 0; i < inputs.size(); ++i)
      ASSERT_EQ(compress_with(compress_fast, inputs[i]), want[i]) << k->name << " size=" << inputs[i].size();
  }
}

TEST(CompressFast, OutputDependsOnTheInputOnly) {
  // The per-thread hash table keeps entries across calls; they must never change a result.
  const std::vector<Bytes>& ps = vector_payloads();
  std::vector<Bytes> first;
  for (const Bytes& p : ps) first.push_back(compress_with(compress_fast, p));
  for (std::size_t i = ps.size(); i-- > 0;) ASSERT_EQ(compress_with(compress_fast, ps[i]), first[i]);
  std::mt19937 rng(6);
  for (int t = 0; t < 500; ++t) (void)compress_with(compress_fast, token_like(rng, rng() % 2000));
  for (std::size_t i = 0; i < ps.size(); ++i) ASSERT_EQ(compress_with(compress_fast, ps[i]), first[i]);
}

TEST(CompressFast, IsNoLargerThanIsalStaticOnTokenPayloads) {
  // DESIGN.md: the fast path must not cost token length. Average over every vector payload;
  // single payloads differ by a few bytes either way: the fast matcher probes only even
  // positions, so a 4-byte repeat at an odd position followed by a mismatch is missed, while it
  // finds other matches ISA-L's level 0 misses.
  double fast = 0, isal = 0, exact = 0;
  std::size_t worst = 0;
  for (const Bytes& p : vector_payloads()) {
    const std::size_t f = compress_with(compress_fast, p).size();
    const std::size_t i = compress_with(compress_isal, p).size();
    fast += static_cast<double>(f);
    isal += static_cast<double>(i);
    exact += static_cast<double>(compress_with(compress_exact, p).size());
    if (f > i) worst = std::max(worst, f - i);
  }
  const double n = static_cast<double>(vector_payloads().size());
  RecordProperty("avg_fast", std::to_string(fast / n));
  RecordProperty("avg_isal", std::to_string(isal / n));
  RecordProperty("avg_exact", std::to_string(exact / n));
  std::printf("average zlib stream over %zu vector payloads: fast %.2f B, isal %.2f B, exact %.2f B\n",
              vector_payloads().size(), fast / n, isal / n, exact / n);
  EXPECT_LE(fast / n, isal / n + 0.25);
  EXPECT_LE(worst, 5u);
}

TEST(CompressFast, IncompressibleInputFallsBackToStoredBlocks) {
  std::mt19937 rng(9);
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{65535}, std::size_t{65536},
                        std::size_t{140000}}) {
    Bytes p(n);
    for (auto& b : p) b = static_cast<std::uint8_t>(rng() | 0x80);  // every literal costs 9 bits
    const Bytes z = compress_with(compress_fast, p);
    const std::size_t blocks = n == 0 ? 1 : (n + 65534) / 65535;
    EXPECT_LE(z.size(), 2 + 5 * blocks + n + 4) << "n=" << n;
    EXPECT_EQ(zlib_inflate(z, n), p);
  }
}

TEST(CompressFast, NeverReferencesDataBeyondTheWindow) {
  // p: a 2000-byte random block repeated 40000 bytes later, beyond the 32 KiB window. q: the same
  // with a third copy at 32000, so both repeats are inside the window. zlib's inflate rejects any
  // distance above the window.
  FixedKernelGuard restore;
  std::mt19937 rng(11);
  Bytes block(2000);
  for (auto& b : block) b = static_cast<std::uint8_t>(rng());
  Bytes p = block;
  p.resize(40000 + 2000);
  for (std::size_t i = 2000; i < 40000; ++i) p[i] = static_cast<std::uint8_t>(rng());
  std::copy(block.begin(), block.end(), p.begin() + 40000);
  Bytes q = p;
  std::copy(block.begin(), block.end(), q.begin() + 32000);
  for (const fixed::Kernel* k : supported_fixed_kernels()) {
    ASSERT_TRUE(fixed::force(k->name));
    for (const Bytes* in : {&p, &q}) {
      const Bytes z = compress_with(compress_fast, *in);
      ASSERT_EQ(zlib_inflate(z, in->size()), *in) << k->name;
    }
  }
  // The in-window repeat is found: q compresses better than p.
  EXPECT_LT(compress_with(compress_fast, q).size() + 1000, compress_with(compress_fast, p).size());
}

TEST(CompressFast, TokenWorkloadIsCompressedLikeIsal) {
  // The 156-byte PERF_NOTES workload (g007-rtc-account-002): ISA-L static gives 149 bytes here.
  const Bytes p = from_hex(
      "20006f0b8182441f71845eb9299556e8c14dfd295f458e118d44d4e2fad2548e44e12000393730434133356465363063343436343562"
      "626165386132313530363162333347f41000100e0000010000000100010004000100100e00000200100e00000300100e00000400100e"
      "0000200037643732333635656239383334383533393765336533663964343630626464610a0032383832333431323733");
  ASSERT_EQ(p.size(), 156u);
  EXPECT_LE(compress_with(compress_fast, p).size(), compress_with(compress_isal, p).size());
}

// ---- inflate_zlib ---------------------------------------------------------------------------

struct ParseCase {
  std::string id;
  Bytes zlib;
};

std::map<std::string, Bytes> parse_case_streams() {
  std::map<std::string, Bytes> out;
  const Json j = load_json("parse_cases.json");
  for (const Json& c : j.get("cases_007")->arr()) {
    const std::string& token = c.get("token")->str();
    if (token.size() > 3 && token.compare(0, 3, "007") == 0 && token.find_first_of("-_\n") == std::string::npos &&
        token.size() % 4 == 3)
      out[c.get("id")->str()] = token_zlib(token);
  }
  return out;
}

Result inflate_into(const Bytes& z, Bytes& out, std::size_t cap, std::size_t* trailing = nullptr) {
  out.assign(cap, 0);
  const Result r = inflate_zlib(z.data(), z.size(), out.data(), cap, trailing);
  if (r.ok()) out.resize(r.count);
  return r;
}

TEST(InflateZlib, AcceptsEveryValidZlibVariantOfTheBaselineToken) {
  const auto cases = parse_case_streams();
  Bytes baseline;
  ASSERT_TRUE(inflate_into(cases.at("p007-valid"), baseline, 4096).ok());
  ASSERT_EQ(baseline.size(), 138u);  // ref-007-01's payload (TOKEN_FORMAT.md §2.11)
  for (const char* id : {"p007-zlib-level0-stored", "p007-zlib-level1", "p007-zlib-level9", "p007-zlib-sync-flush",
                         "p007-zlib-window-512"}) {
    Bytes out;
    std::size_t trailing = 99;
    const Result r = inflate_into(cases.at(id), out, 4096, &trailing);
    ASSERT_TRUE(r.ok()) << id << " errc=" << static_cast<int>(r.code);
    EXPECT_EQ(out, baseline) << id;
    EXPECT_EQ(trailing, 0u) << id;
  }
}

TEST(InflateZlib, CountsTheBytesAfterTheTrailer) {
  const auto cases = parse_case_streams();
  Bytes out;
  std::size_t trailing = 0;
  const Result r = inflate_into(cases.at("p007-trailing-garbage-after-zlib"), out, 4096, &trailing);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(out.size(), 138u);
  EXPECT_EQ(trailing, 8u);
}

TEST(InflateZlib, RejectsTheMalformedParseCasesWithTheRightError) {
  const auto cases = parse_case_streams();
  const std::pair<const char*, Errc> expected[] = {
      {"p007-raw-deflate", Errc::kBadZlibHeader},   {"p007-gzip-wrapper", Errc::kBadZlibHeader},
      {"p007-bad-adler32", Errc::kBadAdler32},      {"p007-truncated-zlib", Errc::kTruncatedZlib},
      {"p007-java-kotlin-truncated", Errc::kTruncatedZlib},
  };
  for (const auto& [id, code] : expected) {
    Bytes out;
    const Result r = inflate_into(cases.at(id), out, 4096);
    EXPECT_EQ(r.code, code) << id;
  }
}

TEST(InflateZlib, ChecksEveryHeaderField) {
  const Bytes good = compress_with(compress_fast, Bytes{'t', 'o', 'k', 'e', 'n'});
  Bytes out;
  ASSERT_TRUE(inflate_into(good, out, 64).ok());
  auto with_header = [&](std::uint8_t cmf, std::uint8_t flg) {
    Bytes z = good;
    z[0] = cmf;
    z[1] = flg;
    return z;
  };
  auto fcheck = [](std::uint8_t cmf, std::uint8_t flg) {  // make CMF*256 + FLG a multiple of 31
    flg = static_cast<std::uint8_t>(flg & 0xe0);
    return static_cast<std::uint8_t>(flg | (31 - (cmf * 256u + flg) % 31) % 31);
  };
  // Every window size CINFO 0..7 with a valid FCHECK is accepted, whatever FLEVEL says.
  for (std::uint8_t cinfo = 0; cinfo <= 7; ++cinfo) {
    for (std::uint8_t flevel = 0; flevel <= 3; ++flevel) {
      const std::uint8_t cmf = static_cast<std::uint8_t>(cinfo << 4 | 8);
      EXPECT_TRUE(inflate_into(with_header(cmf, fcheck(cmf, static_cast<std::uint8_t>(flevel << 6))), out, 64).ok())
          << "cinfo=" << int{cinfo} << " flevel=" << int{flevel};
    }
  }
  EXPECT_EQ(inflate_into(with_header(0x88, fcheck(0x88, 0)), out, 64).code, Errc::kBadZlibHeader);  // CINFO 8
  EXPECT_EQ(inflate_into(with_header(0x77, fcheck(0x77, 0)), out, 64).code, Errc::kBadZlibHeader);  // CM 7
  EXPECT_EQ(inflate_into(with_header(0x7f, fcheck(0x7f, 0)), out, 64).code, Errc::kBadZlibHeader);  // CM 15
  EXPECT_EQ(inflate_into(with_header(0x78, fcheck(0x78, 0x20)), out, 64).code, Errc::kBadZlibHeader);  // FDICT
  EXPECT_EQ(inflate_into(with_header(0x78, 0x02), out, 64).code, Errc::kBadZlibHeader);  // FCHECK wrong
  EXPECT_EQ(inflate_into(Bytes{}, out, 64).code, Errc::kTruncatedZlib);
  EXPECT_EQ(inflate_into(Bytes{0x78}, out, 64).code, Errc::kTruncatedZlib);
  EXPECT_EQ(inflate_into(Bytes{0x1f}, out, 64).code, Errc::kBadZlibHeader);
}

TEST(InflateZlib, RejectsEveryTruncationOfValidStreams) {
  std::vector<Bytes> streams;
  for (const Compressor& c : kCompressors) {
    for (std::size_t i = 0; i < vector_payloads().size(); i += 7) streams.push_back(compress_with(c.fn, vector_payloads()[i]));
  }
  const auto cases = parse_case_streams();
  for (const char* id : {"p007-zlib-level0-stored", "p007-zlib-sync-flush", "p007-zlib-level9"}) streams.push_back(cases.at(id));
  for (const Bytes& z : streams) {
    for (std::size_t len = 0; len < z.size(); ++len) {
      GuardedBuffer in(Bytes(z.begin(), z.begin() + static_cast<std::ptrdiff_t>(len)));
      Bytes out(1024);
      const Result r = inflate_zlib(in.data(), len, out.data(), out.size());
      ASSERT_EQ(r.code, Errc::kTruncatedZlib) << "len=" << len << " of " << z.size();
    }
  }
}

TEST(InflateZlib, ReportsAWrongChecksum) {
  const Bytes p = vector_payloads().front();
  for (const Compressor& c : kCompressors) {
    Bytes z = compress_with(c.fn, p);
    for (std::size_t k = 1; k <= 4; ++k) {
      Bytes bad = z;
      bad[bad.size() - k] ^= 0x01;
      Bytes out;
      EXPECT_EQ(inflate_into(bad, out, 4096).code, Errc::kBadAdler32) << c.name << " byte " << k;
    }
  }
}

TEST(InflateZlib, ReportsCorruptDeflateData) {
  Bytes out;
  // BTYPE 11 (reserved).
  EXPECT_EQ(inflate_into(Bytes{0x78, 0x01, 0x07, 0, 0, 0, 0, 1}, out, 64).code, Errc::kBadDeflate);
  // Stored block whose NLEN is not the complement of LEN.
  EXPECT_EQ(inflate_into(Bytes{0x78, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 'a', 0, 0x62, 0, 0x62}, out, 64).code,
            Errc::kBadDeflate);
  // Fixed block whose first symbol is a match (distance 1 with nothing written yet).
  Bytes z{0x78, 0x01};
  {
    // bits: BFINAL 1, BTYPE 01, length code 257 (0000001), distance code 0 (00000), EOB (0000000).
    std::uint64_t bits = 0;
    unsigned n = 0;
    auto put = [&](std::uint64_t v, unsigned len) {
      bits |= v << n;
      n += len;
    };
    put(0b011, 3);
    put(0b1000000, 7);  // 0000001 reversed
    put(0, 5);
    put(0, 7);
    for (unsigned i = 0; i < (n + 7) / 8; ++i) z.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
    for (int i = 0; i < 4; ++i) z.push_back(0);
  }
  EXPECT_EQ(inflate_into(z, out, 64).code, Errc::kBadDeflate);
  // Random damage to valid streams is always reported, never accepted with wrong data.
  std::mt19937 rng(10);
  const std::vector<Bytes>& ps = vector_payloads();
  for (int t = 0; t < 3000; ++t) {
    const Bytes& p = ps[rng() % ps.size()];
    Bytes zz = compress_with(kCompressors[rng() % 3].fn, p);
    zz[2 + rng() % (zz.size() - 6)] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    Bytes back;
    const Result r = inflate_into(zz, back, 4096);
    if (r.ok()) {
      // Possible only when the flip changed nothing decoded (e.g. a stored block's padding).
      EXPECT_EQ(back, p);
    } else {
      EXPECT_TRUE(r.code == Errc::kBadDeflate || r.code == Errc::kBadAdler32 || r.code == Errc::kTruncatedZlib ||
                  r.code == Errc::kOutputTooLarge)
          << static_cast<int>(r.code);
    }
  }
}

TEST(InflateZlib, StopsAtTheOutputLimit) {
  for (const Compressor& c : kCompressors) {
    for (std::size_t i = 0; i < vector_payloads().size(); i += 5) {
      const Bytes& p = vector_payloads()[i];
      const Bytes z = compress_with(c.fn, p);
      {
        GuardedBuffer out(p.size());  // exactly enough, ending at a guard page
        const Result r = inflate_zlib(z.data(), z.size(), out.data(), out.size());
        ASSERT_TRUE(r.ok()) << c.name;
        ASSERT_EQ(Bytes(out.data(), out.data() + r.count), p);
      }
      for (std::size_t cap : {p.size() - 1, p.size() / 2, std::size_t{1}, std::size_t{0}}) {
        GuardedBuffer out(cap);
        const Result r = inflate_zlib(z.data(), z.size(), out.data(), cap);
        ASSERT_EQ(r.code, Errc::kOutputTooLarge) << c.name << " cap=" << cap;
      }
    }
  }
  // A stream of 1 MiB of zeros (1 KiB compressed) against a 64 KiB limit.
  const Bytes big = zlib_level6(Bytes(1 << 20, 0));
  Bytes out;
  EXPECT_EQ(inflate_into(big, out, 65536).code, Errc::kOutputTooLarge);
  EXPECT_TRUE(inflate_into(big, out, 1 << 20).ok());
}

TEST(InflateZlib, NeverReadsPastTheInput) {
  for (const Compressor& c : kCompressors) {
    for (std::size_t i = 0; i < vector_payloads().size(); i += 3) {
      const Bytes& p = vector_payloads()[i];
      GuardedBuffer in(compress_with(c.fn, p));
      Bytes out(p.size());
      const Result r = inflate_zlib(in.data(), in.size(), out.data(), out.size());
      ASSERT_TRUE(r.ok()) << c.name;
      ASSERT_EQ(out, p);
    }
  }
}

TEST(InflateZlib, InflatesLargeStreamsAndEmptyOnes) {
  for (const Bytes& p : random_payloads()) {
    if (p.size() < 4096) continue;
    const Bytes z = zlib_level6(p);
    Bytes out;
    const Result r = inflate_into(z, out, p.size());
    ASSERT_TRUE(r.ok()) << p.size();
    ASSERT_EQ(out, p);
  }
  for (const Compressor& c : kCompressors) {
    const Bytes z = compress_with(c.fn, Bytes{});
    std::uint8_t dummy = 0;
    EXPECT_TRUE(inflate_zlib(z.data(), z.size(), &dummy, 0).ok()) << c.name;
  }
}

}  // namespace
}  // namespace mintlane::deflate
