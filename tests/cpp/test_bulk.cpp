// test_bulk.cpp - pool writers (engine/src/bulk): row formats against hand-written rows, gzip
// members against zlib's inflate (RFC 1952, concatenated members), streaming SHA-256 against
// OpenSSL, the partition function, the generator's rules, and PoolWriter/PoolVerifier end to end
// against Minter::mint with the same salts.
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "mintlane/token.hpp"

#include "bulk/byte_buffer.hpp"
#include "bulk/gzip_isal.hpp"
#include "bulk/row_format.hpp"
#include "mintlane/bulk.hpp"
#include "mintlane/errors.hpp"
#include "mintlane/minter.hpp"
#include "token/spec_detail.hpp"

namespace {

using namespace mintlane;
using namespace mintlane::bulk;

constexpr std::string_view kAppId = "970CA35de60c44645bbae8a215061b33";
constexpr std::string_view kCert = "5CFd2fd1755d40ecb72977518be15d3b";

// Inflates a gzip stream of one or more members (zlib with windowBits 16 + 15).
std::string gunzip(std::string_view gz) {
  std::string out;
  std::size_t pos = 0;
  while (pos < gz.size()) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 16 + 15), Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data() + pos));
    z.avail_in = static_cast<uInt>(gz.size() - pos);
    char buf[65536];
    int ret;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      ret = inflate(&z, Z_NO_FLUSH);
      EXPECT_TRUE(ret == Z_OK || ret == Z_STREAM_END) << "inflate returned " << ret;
      if (ret != Z_OK && ret != Z_STREAM_END) {
        inflateEnd(&z);
        return out;
      }
      out.append(buf, sizeof buf - z.avail_out);
    } while (ret != Z_STREAM_END);
    pos += z.total_in;
    inflateEnd(&z);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char d[32];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : d) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

std::string chunk_bytes(const Chunk& c) {
  std::string s;
  for (std::size_t i = 0; i < c.blocks(); ++i) s += c.block(i);
  return s;
}

std::uint32_t seeded_salt(std::uint64_t seed, std::uint64_t id) {  // the writer's splitmix64
  std::uint64_t z = seed + (id + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
}

RowFields row(std::string_view channel, std::string_view user, bool account, RtcRole role) {
  RowFields f;
  f.channel = channel;
  f.user = user;
  f.is_account = account;
  f.role = role;
  f.token = "007abc+/=";
  f.issued_at = 1700000000;
  f.expire = 600;
  return f;
}

std::string format_one(const RowFormatter& fm, const RowFields& f, bool first = true) {
  std::string out(fm.bound(f), '\0');
  out.resize(fm.format(f, first, out.data()));
  return out;
}

// ---- formats ---------------------------------------------------------------------------------------
TEST(BulkRowFormat, CsvQuotesFieldsWithCommas) {
  RowFormatter fm(Format::kCsv, {});
  EXPECT_EQ(fm.header(), "channel,uid,account,role,token,issued_at,expires_at\n");
  EXPECT_EQ(format_one(fm, row("lobby", "42", false, RtcRole::kPublisher)),
            "lobby,42,,publisher,007abc+/=,1700000000,1700000600\n");
  EXPECT_EQ(format_one(fm, row("a,b", "al,ice", true, RtcRole::kSubscriber)),
            "\"a,b\",,\"al,ice\",subscriber,007abc+/=,1700000000,1700000600\n");
}

TEST(BulkRowFormat, JsonlAndK6) {
  RowFormatter jl(Format::kJsonl, {});
  EXPECT_EQ(format_one(jl, row("lobby", "42", false, RtcRole::kPublisher)),
            "{\"channel\":\"lobby\",\"uid\":42,\"role\":\"publisher\",\"token\":\"007abc+/=\",\"issued_at\":1700000000,"
            "\"expires_at\":1700000600}\n");
  EXPECT_EQ(format_one(jl, row("l\"x", "bob\\", true, RtcRole::kSubscriber)),
            "{\"channel\":\"l\\\"x\",\"account\":\"bob\\\\\",\"role\":\"subscriber\",\"token\":\"007abc+/=\","
            "\"issued_at\":1700000000,\"expires_at\":1700000600}\n");
  RowFormatter k6(Format::kK6, {});
  EXPECT_EQ(k6.header(), "[\n");
  EXPECT_EQ(k6.footer(), "\n]\n");
  const std::string first = format_one(k6, row("c", "1", false, RtcRole::kPublisher), true);
  const std::string next = format_one(k6, row("c", "2", false, RtcRole::kPublisher), false);
  EXPECT_EQ(first.substr(0, 2), "{\"");
  EXPECT_EQ(next.substr(0, 3), ",\n{");
  EXPECT_EQ(first.back(), '}');
}

TEST(BulkRowFormat, LocustHasOneUserColumn) {
  RowFormatter fm(Format::kLocust, {});
  EXPECT_EQ(fm.header(), "user,channel,role,token,expires_at\n");
  EXPECT_EQ(format_one(fm, row("lobby", "alice", true, RtcRole::kSubscriber)),
            "alice,lobby,subscriber,007abc+/=,1700000600\n");
}

TEST(BulkRowFormat, VegetaPercentEncodesUrlValuesOnly) {
  VegetaOptions v;
  v.url = "https://app.example/join?c={channel}&u={user}&t={token}&x={{y}}&type={tokentype}&e={expires_at}";
  v.headers = {{"Authorization", "Bearer {token}"}, {"X-Role", "{role}"}, {"X-Role", "again"}};
  RowFormatter fm(Format::kVegeta, v);
  EXPECT_EQ(format_one(fm, row("a b&c", "42", false, RtcRole::kPublisher)),
            "{\"method\":\"GET\",\"url\":\"https://app.example/join?c=a%20b%26c&u=42&t=007abc%2B%2F%3D&x={y}&type=uid"
            "&e=1700000600\",\"header\":{\"Authorization\":[\"Bearer 007abc+/=\"],\"X-Role\":[\"publisher\",\"again\"]}}\n");
}

TEST(BulkRowFormat, VegetaRejectsBadTemplates) {
  auto make = [](std::string url, std::string header = "") {
    VegetaOptions v;
    v.url = std::move(url);
    if (!header.empty()) v.headers = {{header, "x"}};
    return RowFormatter(Format::kVegeta, v);
  };
  EXPECT_THROW(make(""), InvalidArgument);
  EXPECT_THROW(make("ftp://x/{token}"), InvalidArgument);
  EXPECT_THROW(make("http://x/{tokn}"), InvalidArgument);
  EXPECT_THROW(make("http://x/{token"), InvalidArgument);
  EXPECT_THROW(make("http://x/}"), InvalidArgument);
  EXPECT_THROW(make("http://x/ y"), InvalidArgument);
  EXPECT_THROW(make("http://x/", "Bad Header"), InvalidArgument);
  EXPECT_NO_THROW(make("http://x/{channel}/{role}/{tokentype}/{user}/"));
}

// ---- gzip ------------------------------------------------------------------------------------------------
TEST(BulkGzip, MembersInflateWithZlibAtEveryLevelAndSize) {
  std::mt19937_64 rng(7);
  for (int level = 0; level <= 3; ++level) {
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{65535}, std::size_t{300000}}) {
      std::string in(n, '\0');
      for (std::size_t i = 0; i < n; ++i) in[i] = "abcdefgh0123+/="[rng() % 15];
      ByteBuffer out;
      gzip_member(in.data(), in.size(), level, out);
      gzip_member(in.data(), in.size(), level, out);  // a second member right after the first
      ASSERT_EQ(gunzip({out.data(), out.size()}), in + in) << "level " << level << " n " << n;
    }
  }
}

TEST(BulkGzip, RejectsLevelAboveThree) {
  EXPECT_THROW(check_gzip_level(4), InvalidArgument);
  EXPECT_THROW(check_gzip_level(-1), InvalidArgument);
  EXPECT_NO_THROW(check_gzip_level(0));
}

// ---- SHA-256 ------------------------------------------------------------------------------------------
TEST(BulkSha256, StreamingMatchesOpenSslForAnySplit) {
  std::mt19937_64 rng(3);
  for (std::size_t n : {0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 100000}) {
    std::string data(n, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    Sha256 h;
    std::size_t pos = 0;
    while (pos < n) {
      const std::size_t take = std::min<std::size_t>(n - pos, rng() % 130);
      h.update(data.data() + pos, take);
      pos += take;
    }
    EXPECT_EQ(h.hexdigest(), sha256_hex(data)) << "n=" << n;
  }
}

// ---- partitions and inputs ------------------------------------------------------------------------------
TEST(BulkPartition, CoversEveryRowOnce) {
  for (std::uint64_t total : {0ULL, 1ULL, 7ULL, 1000ULL, 10000001ULL, (1ULL << 40) + 3}) {
    for (std::uint64_t parts : {1ULL, 2ULL, 3ULL, 8ULL, 1000ULL}) {
      std::uint64_t expect = 0;
      for (std::uint64_t p = 0; p < parts; ++p) {
        const auto [a, b] = partition_range(total, parts, p);
        ASSERT_EQ(a, expect);
        ASSERT_LE(b - a, total / parts + 1);
        expect = b;
      }
      ASSERT_EQ(expect, total);
    }
  }
  EXPECT_THROW(partition_range(10, 0, 0), InvalidArgument);
  EXPECT_THROW(partition_range(10, 2, 2), InvalidArgument);
}

TEST(BulkGenerator, NamesRolesAndUsers) {
  Generator g;
  g.channels = 12;
  g.users_per_channel = 10;
  g.channel_prefix = "ev-";
  g.publishers_per_channel = 2;
  g.uid_start = 100;
  g.validate();
  EXPECT_EQ(g.channel_name(0), "ev-01");
  EXPECT_EQ(g.channel_name(11), "ev-12");
  EXPECT_EQ(g.role(0), RtcRole::kPublisher);
  EXPECT_EQ(g.role(2), RtcRole::kSubscriber);
  EXPECT_EQ(g.role(11), RtcRole::kPublisher);
  EXPECT_EQ(g.user_number(13), 113u);
  g.uids_restart_per_channel = true;
  EXPECT_EQ(g.user_number(13), 103u);
}

TEST(BulkGenerator, RejectsBadSpecs) {
  auto bad = [](auto edit) {
    Generator g;
    g.channels = 2;
    g.users_per_channel = 3;
    edit(g);
    EXPECT_THROW(g.validate(), InvalidArgument);
  };
  bad([](Generator& g) { g.channels = 0; });
  bad([](Generator& g) { g.users_per_channel = 0; });
  bad([](Generator& g) { g.publishers_per_channel = 4; });
  bad([](Generator& g) { g.expire = 0; });
  bad([](Generator& g) { g.expire = 86401; });
  bad([](Generator& g) { g.channel_prefix = std::string(70, 'c'); });
  bad([](Generator& g) { g.channel_prefix = "bad/"; });
  bad([](Generator& g) { g.uid_start = 0xffffffffULL; });
  bad([](Generator& g) { g.kind = TokenKind::kRtcRtm; });  // needs accounts
  bad([](Generator& g) { g.channel_digits = 0; g.channel_start = 1; g.channels = 100; g.channel_digits = 2; });
}

TEST(BulkRequests, ReportsEachBadField) {
  Requests r;
  EXPECT_EQ(r.add("lobby", "42", false, "publisher", 60, 0), "");
  EXPECT_EQ(r.add("lobby", "alice", true, "2", 60, 1), "");
  EXPECT_NE(r.add(std::string(65, 'c'), "1", false, "publisher", 60, 2).find("channel"), std::string::npos);
  EXPECT_NE(r.add("lobby", "x", false, "publisher", 60, 3).find("uid"), std::string::npos);
  EXPECT_NE(r.add("lobby", "4294967296", false, "publisher", 60, 4).find("out of range"), std::string::npos);
  EXPECT_NE(r.add("lobby", "-1", false, "publisher", 60, 5).find("uid"), std::string::npos);
  EXPECT_NE(r.add("lobby", "1", false, "admin", 60, 6).find("role"), std::string::npos);
  EXPECT_NE(r.add("lobby", "1", false, "publisher", 0, 7).find("expire"), std::string::npos);
  EXPECT_NE(r.add("lobby", "", true, "publisher", 60, 8).find("account"), std::string::npos);
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.user(0), "42");
  Requests rtm(TokenKind::kRtcRtm);
  EXPECT_NE(rtm.add("lobby", "42", false, "publisher", 60, 0).find("account"), std::string::npos);
}

// ---- writer and verifier end to end --------------------------------------------------------------------
class BulkWriter : public testing::Test {
 protected:
  Minter minter{kAppId, kCert};
  static constexpr std::uint32_t kTs = 1700000000;
  static constexpr std::uint64_t kSeed = 99;

  Generator gen() const {
    Generator g;
    g.channels = 7;
    g.users_per_channel = 300;
    g.publishers_per_channel = 30;
    g.channel_prefix = "room-";
    g.expire = 900;
    g.validate();
    return g;
  }
  PoolOptions opts(Format f, unsigned threads, std::size_t block_rows, int gzip = -1) const {
    PoolOptions o;
    o.format = f;
    o.threads = threads;
    o.block_rows = block_rows;
    o.issue_ts = kTs;
    o.salt_seed = kSeed;
    o.gzip_level = gzip;
    return o;
  }
};


// Fast-mode batch tokens come from the template compressor, single mints from the generic one:
// the deflate bytes may differ, the signed payload may not. Compares "prefix,TOKEN,suffix" rows.
void expect_same_row(const std::string& got, const std::string& prefix, const std::string& token,
                     const std::string& suffix, std::uint64_t row) {
  ASSERT_GE(got.size(), prefix.size() + suffix.size()) << row;
  EXPECT_EQ(got.substr(0, prefix.size()), prefix) << row;
  EXPECT_EQ(got.substr(got.size() - suffix.size()), suffix) << row;
  const std::string mid = got.substr(prefix.size(), got.size() - prefix.size() - suffix.size());
  const mintlane::Decoded007 a = mintlane::decode_007(mid), b = mintlane::decode_007(token);
  EXPECT_EQ(a.signature, b.signature) << row;
  EXPECT_EQ(a.signing_info, b.signing_info) << row;
}

TEST_F(BulkWriter, RowsEqualSingleTokenMints) {
  const Generator g = gen();
  PoolWriter w(minter, opts(Format::kCsv, 2, 97));
  Chunk c;
  w.fill(g, 250, 1000, 0, c);
  const std::string text = chunk_bytes(c);
  std::size_t pos = 0;
  for (std::uint64_t r = 250; r < 1000; ++r) {
    const std::size_t nl = text.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    const std::string channel = g.channel_name(r / g.users_per_channel);
    const std::string uid = std::to_string(g.user_number(r));
    const RtcRole role = g.role(r);
    const std::string token =
        minter.mint(detail::rtc(channel, uid, role, 900, 900), seeded_salt(kSeed, r), kTs);
    expect_same_row(line, channel + "," + uid + ",," + role_name(role) + ",", token, ",1700000000,1700000900", r);
  }
  EXPECT_EQ(pos, text.size());
  EXPECT_EQ(c.rows(), 750u);
  EXPECT_EQ(c.issue_ts(), kTs);
}

TEST_F(BulkWriter, OutputIndependentOfThreadsBlocksAndChunks) {
  const Generator g = gen();
  std::string whole;
  {
    PoolWriter w(minter, opts(Format::kK6, 1, 4096));
    Chunk c;
    w.fill(g, 0, g.size(), 0, c);
    whole = w.header() + chunk_bytes(c) + w.footer();
  }
  PoolWriter w(minter, opts(Format::kK6, 2, 33));
  Chunk c;
  std::string pieces = w.header();
  for (std::uint64_t b = 0; b < g.size(); b += 500) {
    w.fill(g, b, std::min(g.size(), b + 500), b, c);
    pieces += chunk_bytes(c);
  }
  pieces += w.footer();
  EXPECT_EQ(whole, pieces);
  EXPECT_EQ(whole.substr(0, 3), "[\n{");
  EXPECT_EQ(whole.substr(whole.size() - 4), "}\n]\n");
}

TEST_F(BulkWriter, GzipChunksInflateToThePlainOutput) {
  const Generator g = gen();
  PoolWriter plain(minter, opts(Format::kJsonl, 2, 128));
  PoolWriter gz(minter, opts(Format::kJsonl, 2, 128, 1));
  Chunk a, b;
  plain.fill(g, 0, g.size(), 0, a);
  gz.fill(g, 0, g.size(), 0, b);
  EXPECT_EQ(gunzip(chunk_bytes(b)), chunk_bytes(a));
  EXPECT_EQ(b.text_bytes(), a.bytes());
  EXPECT_LT(b.bytes(), a.bytes() / 2);
}

TEST_F(BulkWriter, FileSinkHashesWhatItWrites) {
  const Generator g = gen();
  PoolWriter w(minter, opts(Format::kCsv, 2, 256));
  Chunk c;
  w.fill(g, 0, g.size(), 0, c);
  char path[] = "/tmp/mintlane_bulk_sinkXXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  FileSink sink(fd);
  sink.write(w.header());
  sink.write(c);
  close(fd);
  const std::string expect = w.header() + chunk_bytes(c);
  EXPECT_EQ(sink.bytes(), expect.size());
  EXPECT_EQ(sink.hexdigest(), sha256_hex(expect));
  unlink(path);
}

TEST_F(BulkWriter, RequestsMixUidsAccountsRolesAndExpiries) {
  Requests r;
  ASSERT_EQ(r.add("a,b", "0", false, "publisher", 60, 10), "");
  ASSERT_EQ(r.add("lobby", "alice", true, "subscriber", 120, 11), "");
  ASSERT_EQ(r.add("lobby", "7", false, "subscriber", 120, 12), "");
  ASSERT_EQ(r.add("other", "bob", true, "publisher", 60, 13), "");
  PoolWriter w(minter, opts(Format::kCsv, 2, 3));
  Chunk c;
  w.fill(r, 0, r.size(), 0, c);
  const std::string text = chunk_bytes(c);
  struct Want {
    std::string prefix, token, suffix;
  };
  const std::vector<Want> want = {
      {"\"a,b\",0,,publisher,", minter.mint(detail::rtc("a,b", "", RtcRole::kPublisher, 60, 60), seeded_salt(kSeed, 10), kTs),
       ",1700000000,1700000060"},
      {"lobby,,alice,subscriber,",
       minter.mint(detail::rtc("lobby", "alice", RtcRole::kSubscriber, 120, 120), seeded_salt(kSeed, 11), kTs),
       ",1700000000,1700000120"},
      {"lobby,7,,subscriber,", minter.mint(detail::rtc("lobby", "7", RtcRole::kSubscriber, 120, 120), seeded_salt(kSeed, 12), kTs),
       ",1700000000,1700000120"},
      {"other,,bob,publisher,", minter.mint(detail::rtc("other", "bob", RtcRole::kPublisher, 60, 60), seeded_salt(kSeed, 13), kTs),
       ",1700000000,1700000060"},
  };
  std::size_t pos = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const std::size_t nl = text.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    expect_same_row(text.substr(pos, nl - pos), want[i].prefix, want[i].token, want[i].suffix, i);
    pos = nl + 1;
  }
  EXPECT_EQ(pos, text.size());
}

TEST_F(BulkWriter, VerifierAcceptsThePoolAndFindsEveryKindOfBadRow) {
  const Generator g = gen();
  PoolWriter w(minter, opts(Format::kCsv, 2, 100));
  Chunk c;
  w.fill(g, 0, 600, 0, c);
  const std::string text = chunk_bytes(c);
  struct Parsed {
    std::string channel, uid, role, token;
  };
  std::vector<Parsed> rows;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t nl = text.find('\n', pos);
    std::vector<std::string> f;
    std::size_t s = pos;
    for (std::size_t k = pos; k <= nl; ++k)
      if (k == nl || text[k] == ',') {
        f.push_back(text.substr(s, k - s));
        s = k + 1;
      }
    rows.push_back({f[0], f[1], f[3], f[4]});
    pos = nl + 1;
  }
  ASSERT_EQ(rows.size(), 600u);
  std::vector<PoolRow> pr;
  for (const Parsed& p : rows) {
    PoolRow r;
    r.token = p.token;
    r.channel = p.channel;
    r.user = p.uid;
    r.role = p.role == "publisher" ? 1 : 2;
    r.issued_at = kTs;
    r.expires_at = kTs + 900;
    pr.push_back(r);
  }
  {
    PoolVerifier v(kCert, std::string(kAppId), kTs + 10, 2);
    EXPECT_TRUE(v.check(pr).empty());
    EXPECT_TRUE(v.duplicate_keys().empty());
  }
  std::string tampered = rows[5].token;
  tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
  pr[5].token = tampered;
  pr[6].channel = "room-9";
  pr[7].user = "999999";
  pr[8].role = pr[8].role == 1 ? 2 : 1;
  pr[9].issued_at = 5;
  pr[10].token = "hello";
  pr[599] = pr[400];  // a duplicate (channel, user)
  PoolVerifier v(kCert, std::nullopt, kTs + 10, 2);
  const auto problems = v.check(pr);
  std::vector<std::pair<std::size_t, std::string>> got;
  for (const RowProblem& p : problems) got.emplace_back(p.index, p.status);
  const std::vector<std::pair<std::size_t, std::string>> want = {
      {5, "malformed"}, {6, "wrong_channel"}, {7, "wrong_uid"}, {8, "wrong_role"}, {9, "wrong_issued_at"},
      {10, "malformed"}};
  // A flipped base64 character breaks the zlib stream (malformed) or the signature.
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].first, want[i].first);
    if (i != 0) EXPECT_EQ(got[i].second, want[i].second);
    else EXPECT_TRUE(got[i].second == "malformed" || got[i].second == "bad_signature") << got[i].second;
  }
  EXPECT_EQ(v.duplicate_keys().size(), 1u);
  PoolVerifier expired(kCert, std::nullopt, kTs + 901, 1);
  pr.resize(3);
  const auto late = expired.check(pr);
  ASSERT_EQ(late.size(), 3u);
  EXPECT_EQ(late[0].status, "expired");
}

}  // namespace
