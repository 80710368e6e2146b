// test_token.cpp - conformance of the public token API (token.hpp, builders.hpp, minter.hpp)
// against the golden vectors of tests/vectors (vectors/README.md §7 "Recommended use"): 007
// payloads and signatures from services, exact token strings with zlib level 6, fast/isal
// streams inflated by zlib's uncompress() as the oracle, every equivalent token decoded and
// verified, the reference known answers (007 and 006), the parse cases with the README
// "Decoding policy", the npm ConvoAI/STT vectors, the input rules, the wildcard channel rule
// and every VerifyStatus.
#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/hmac.hpp"  // only for the intermediate signing keys of the vectors
#include "mintlane/builders.hpp"
#include "mintlane/credentials.hpp"
#include "mintlane/errors.hpp"
#include "mintlane/minter.hpp"
#include "mintlane/services.hpp"
#include "mintlane/token.hpp"
#include "support/json.hpp"

namespace {

using namespace mintlane;
namespace json = mintlane::test::json;

constexpr std::string_view kAppId = "970CA35de60c44645bbae8a215061b33";
constexpr std::string_view kCert = "5CFd2fd1755d40ecb72977518be15d3b";
constexpr std::string_view kOtherCert = "0123456789abcdef0123456789abcdef";
constexpr Compression kAllCompressions[] = {Compression::kFast, Compression::kIsal, Compression::kExact};

// ---- helpers (independent of the engine: the oracles) ----------------------------------------

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    s += kDigits[c >> 4];
    s += kDigits[c & 15];
  }
  return s;
}
template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& a) {
  return hex(std::string_view(reinterpret_cast<const char*>(a.data()), N));
}

std::string unhex(std::string_view h) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error("bad hex");
  };
  std::string out(h.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>(nibble(h[2 * i]) << 4 | nibble(h[2 * i + 1]));
  return out;
}

// RFC 4648 standard-alphabet decoder with required padding: the oracle for token bodies.
std::string b64decode(std::string_view s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (s.size() % 4 != 0) throw std::runtime_error("base64 length not a multiple of 4");
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      if (s[i + k] == '=') {
        if (i + 4 != s.size() || k < 2) throw std::runtime_error("misplaced '='");
        v[k] = 0;
        ++pad;
      } else {
        if (pad) throw std::runtime_error("data after '='");
        v[k] = val(s[i + k]);
        if (v[k] < 0) throw std::runtime_error("bad base64 character");
      }
    }
    const std::uint32_t w = static_cast<std::uint32_t>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    out.push_back(static_cast<char>(w >> 16));
    if (pad < 2) out.push_back(static_cast<char>(w >> 8));
    if (pad < 1) out.push_back(static_cast<char>(w));
  }
  return out;
}

// "007" + base64(zlib) -> payload, with zlib's own uncompress() (RFC 1950 + Adler-32).
std::string inflate_token(std::string_view token) {
  if (token.substr(0, 3) != "007") throw std::runtime_error("not a 007 token");
  const std::string z = b64decode(token.substr(3));
  std::string out(1 << 16, '\0');
  uLongf n = out.size();
  const int rc = uncompress(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(z.data()),
                            static_cast<uLong>(z.size()));
  if (rc != Z_OK) throw std::runtime_error("zlib uncompress failed: " + std::to_string(rc));
  out.resize(n);
  return out;
}

// Toggles the case of every letter: "5CFd..." -> "5cfD...".
std::string swap_case(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    c = static_cast<char>(std::isupper(u) ? std::tolower(u) : std::toupper(u));
  }
  return out;
}

// A uid/account as written in the vectors: numbers follow the uid rule (0 -> "").
std::string user_string(const json::Value& v) {
  if (v.is_int()) return uid_string(v.as_u32());
  return v.as_string();
}

// A service object of vectors/README.md §1.1 (or an `services_in_insertion_order` entry).
Service service_from_json(const json::Value& js) {
  Service s;
  s.type = static_cast<std::uint16_t>(js["type"].as_int());
  // Pushed in the order given (raw vectors list them unsorted): the packer must sort them.
  for (const json::Value& p : js["privileges"])
    s.privileges.emplace_back(static_cast<std::uint16_t>(p[0].as_int()), p[1].as_u32());
  for (std::string_view name : service_field_names(s.type)) s.fields.push_back(user_string(js[name]));
  if (s.type == kServiceApaas) s.role = static_cast<std::int16_t>(js["role"].as_int());
  if (s.type == kServiceRtm2 && js.contains("permissions")) {
    for (const json::Value& rt : js["permissions"])
      for (const json::Value& perm : rt[1]) {
        Rtm2Grant g;
        g.resource_type = static_cast<std::uint16_t>(rt[0].as_int());
        g.permission_type = static_cast<std::uint16_t>(perm[0].as_int());
        for (const json::Value& r : perm[1]) g.resources.push_back(r.as_string());
        s.permissions.push_back(std::move(g));
      }
  }
  return s;
}

std::vector<Service> services_from_json(const json::Value& arr) {
  std::vector<Service> out;
  for (const json::Value& s : arr) out.push_back(service_from_json(s));
  return out;
}

AccessToken2 token_from_vector(const json::Value& v) {
  AccessToken2 t;
  t.app_id = v["app_id"].as_string();
  t.issue_ts = v["issue_ts"].as_u32();
  t.expire = v["expire"].as_u32();
  t.salt = v["salt"].as_u32();
  t.services = services_from_json(v["services"]);
  return t;
}

const json::Value& generated_007() { return json::vectors("generated_007.json")["vectors"]; }
const json::Value& generated_006() { return json::vectors("generated_006.json")["vectors"]; }
const json::Value& known_answers() { return json::vectors("reference_known_answers.json")["vectors"]; }
const json::Value& parse_cases() { return json::vectors("parse_cases.json"); }
const json::Value& npm_vectors() { return json::vectors("generated_npm_services_9_10.json")["vectors"]; }

// Decoded fields equal the vector's (services in wire order, payload = signature + signed bytes).
void expect_fields(const Decoded007& d, const json::Value& v) {
  EXPECT_EQ(d.token.app_id, v["app_id"].as_string());
  EXPECT_EQ(d.token.issue_ts, v["issue_ts"].as_u32());
  EXPECT_EQ(d.token.expire, v["expire"].as_u32());
  EXPECT_EQ(d.token.salt, v["salt"].as_u32());
  EXPECT_EQ(d.services_declared, v["services"].size());
  EXPECT_FALSE(d.stopped_at_unknown);
  EXPECT_EQ(d.trailing_bytes, 0u);
  EXPECT_EQ(hex(d.signature), v["signature_hex"].as_string());
  EXPECT_EQ(hex(d.signing_info), v["signing_info_hex"].as_string());
  EXPECT_EQ("2000" + hex(d.signature) + hex(d.signing_info), v["payload_hex"].as_string());
  EXPECT_EQ(d.token.services, services_from_json(v["services"]));
}

// verify with the right certificate passes; another and a case-changed one fail on the signature.
void expect_verifies_only_with(const Decoded007& d, std::string_view cert) {
  const VerifyResult ok = verify_007(d, cert);
  EXPECT_TRUE(ok.ok()) << ok.reason;
  EXPECT_EQ(verify_007(d, kOtherCert).status, VerifyStatus::kBadSignature);
  const std::string swapped = swap_case(cert);
  ASSERT_NE(swapped, cert);
  EXPECT_EQ(verify_007(d, swapped).status, VerifyStatus::kBadSignature);
}

// ---- generated_007.json ---------------------------------------------------------------------

TEST(Vectors, FilesHaveTheDocumentedCounts) {
  EXPECT_EQ(generated_007().size(), 107u);
  EXPECT_EQ(generated_006().size(), 17u);
  EXPECT_EQ(known_answers().size(), 41u);
  EXPECT_EQ(parse_cases()["cases_007"].size(), 31u);
  EXPECT_EQ(parse_cases()["cases_006"].size(), 5u);
  EXPECT_EQ(npm_vectors().size(), 16u);
}

TEST(Generated007, SigningInfoPacksFromServices) {
  for (const json::Value& v : generated_007()) {
    SCOPED_TRACE(v["id"].as_string());
    EXPECT_EQ(hex(pack_signing_info(token_from_vector(v))), v["signing_info_hex"].as_string());
  }
}

TEST(Generated007, RawInsertionOrderPacksLikeWireOrder) {
  int raw = 0;
  for (const json::Value& v : generated_007()) {
    if (v["builder"].as_string() != "raw") continue;
    SCOPED_TRACE(v["id"].as_string());
    ++raw;
    AccessToken2 t = token_from_vector(v);
    t.expire = v["args"]["expire"].as_u32();
    t.services = services_from_json(v["args"]["services_in_insertion_order"]);
    EXPECT_EQ(hex(pack_signing_info(t)), v["signing_info_hex"].as_string());
    EXPECT_EQ(encode_007(t, v["app_certificate"].as_string(), Compression::kExact), v["token"].as_string());
  }
  EXPECT_EQ(raw, 7);
}

TEST(Generated007, SignatureAndSigningKeysMatch) {
  for (const json::Value& v : generated_007()) {
    SCOPED_TRACE(v["id"].as_string());
    const std::string cert = v["app_certificate"].as_string();
    const std::uint32_t ts = v["issue_ts"].as_u32(), salt = v["salt"].as_u32();
    EXPECT_EQ(hex(sign_007(cert, ts, salt, unhex(v["signing_info_hex"].as_string()))), v["signature_hex"].as_string());
    std::uint8_t k1[32], k2[32];
    crypto::signing_key_step1(cert, ts, k1);
    const std::uint8_t salt_le[4] = {static_cast<std::uint8_t>(salt), static_cast<std::uint8_t>(salt >> 8),
                                     static_cast<std::uint8_t>(salt >> 16), static_cast<std::uint8_t>(salt >> 24)};
    crypto::hmac_sha256(salt_le, 4, k1, 32, k2);
    EXPECT_EQ(hex(std::string_view(reinterpret_cast<const char*>(k1), 32)), v["signing_key_step1_hex"].as_string());
    EXPECT_EQ(hex(std::string_view(reinterpret_cast<const char*>(k2), 32)), v["signing_key_hex"].as_string());
  }
}

TEST(Generated007, ExactCompressionReproducesTheTokenString) {
  for (const json::Value& v : generated_007()) {
    SCOPED_TRACE(v["id"].as_string());
    EXPECT_EQ(encode_007(token_from_vector(v), v["app_certificate"].as_string(), Compression::kExact),
              v["token"].as_string());
  }
}

TEST(Generated007, FastAndIsalStreamsInflateToThePayload) {
  for (Compression c : {Compression::kFast, Compression::kIsal}) {
    for (const json::Value& v : generated_007()) {
      SCOPED_TRACE(v["id"].as_string() + " " + compression_name(c));
      const std::string cert = v["app_certificate"].as_string();
      const std::string token = encode_007(token_from_vector(v), cert, c);
      ASSERT_EQ(token.substr(0, 3), "007");
      EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", 3),
                std::string::npos);
      EXPECT_EQ(hex(inflate_token(token)), v["payload_hex"].as_string());
      const Decoded007 d = decode_007(token);
      expect_fields(d, v);
      EXPECT_TRUE(verify_007(d, cert).ok());
    }
  }
}

TEST(Generated007, MinterMintEqualsEncodeForEveryCompression) {
  for (Compression c : kAllCompressions) {
    std::map<std::string, std::unique_ptr<Minter>> minters;  // one per credential pair
    for (const json::Value& v : generated_007()) {
      SCOPED_TRACE(v["id"].as_string() + " " + compression_name(c));
      const std::string app = v["app_id"].as_string(), cert = v["app_certificate"].as_string();
      auto& m = minters[app + cert];
      if (!m) m = std::make_unique<Minter>(app, cert, MinterOptions{c, 1});
      const AccessToken2 t = token_from_vector(v);
      const std::string got = m->mint(TokenSpec{t.expire, t.services}, t.salt, t.issue_ts);
      EXPECT_EQ(got, encode_007(t, cert, c));
      if (c == Compression::kExact) EXPECT_EQ(got, v["token"].as_string());
    }
  }
}

// Builders of vectors/README.md §6 called with `args`; nullopt for the raw builder.
std::optional<TokenSpec> spec_from_builder(const json::Value& v) {
  const std::string b = v["builder"].as_string();
  const json::Value& a = v["args"];
  auto i64 = [&](const char* k) { return a[k].as_int(); };
  auto str = [&](const char* k) { return a[k].as_string(); };
  if (b == "rtc.build_token_with_uid")
    return rtc_uid_spec(str("channel_name"), i64("uid"), check_role(i64("role")), i64("token_expire"),
                        i64("privilege_expire"));
  if (b == "rtc.build_token_with_user_account")
    return rtc_account_spec(str("channel_name"), str("user_account"), check_role(i64("role")), i64("token_expire"),
                            i64("privilege_expire"));
  if (b == "rtc.build_token_with_uid_and_privilege" || b == "rtc.build_token_with_user_account_and_privilege")
    return rtc_privileges_spec(str("channel_name"), a.contains("uid") ? user_string(a["uid"]) : str("user_account"),
                               i64("token_expire"), i64("join_channel_privilege_expire"),
                               i64("pub_audio_privilege_expire"), i64("pub_video_privilege_expire"),
                               i64("pub_data_stream_privilege_expire"));
  if (b == "rtc.build_token_with_rtm")
    return rtc_rtm_spec(str("channel_name"), str("user_account"), check_role(i64("role")), i64("token_expire"),
                        i64("privilege_expire"));
  if (b == "rtc.build_token_with_rtm2")
    return rtc_rtm2_spec(str("channel_name"), user_string(a["rtc_account"]), check_role(i64("rtc_role")),
                         i64("rtc_token_expire"), i64("join_channel_privilege_expire"),
                         i64("pub_audio_privilege_expire"), i64("pub_video_privilege_expire"),
                         i64("pub_data_stream_privilege_expire"), str("rtm_user_id"), i64("rtm_token_expire"));
  if (b == "rtm.build_token") return rtm_spec(str("user_id"), i64("expire"));
  if (b == "rtm.build_token_with_permissions") {
    std::vector<Rtm2Grant> grants;
    for (const json::Value& g : a["permissions"]) {
      Rtm2Grant grant;
      grant.resource_type = static_cast<std::uint16_t>(g[0].as_int());
      grant.permission_type = static_cast<std::uint16_t>(g[1].as_int());
      for (const json::Value& r : g[2]) grant.resources.push_back(r.as_string());
      grants.push_back(std::move(grant));
    }
    return rtm2_spec(str("user_id"), grants, i64("expire"));
  }
  if (b == "chat.build_user_token") return chat_user_spec(str("user_id"), i64("expire"));
  if (b == "chat.build_app_token") return chat_app_spec(i64("expire"));
  if (b == "apaas.build_room_user_token" || b == "education.build_room_user_token")
    return apaas_room_user_spec(str("room_uuid"), str("user_uuid"), i64("role"), i64("expire"));
  if (b == "apaas.build_user_token" || b == "education.build_user_token")
    return apaas_user_spec(str("user_uuid"), i64("expire"));
  if (b == "apaas.build_app_token" || b == "education.build_app_token") return apaas_app_spec(i64("expire"));
  if (b == "fpa.build_token") return fpa_spec();
  if (b == "raw" && v.contains("equivalent_builder")) {  // go-tokenbuilder RTM with a stream channel
    const json::Value& e = v["equivalent_builder"]["args"];
    return rtm_stream_spec(e["user_id"].as_string(), e["stream_name"].as_string(), e["expire"].as_int());
  }
  return std::nullopt;
}

TEST(Generated007, ValidatedBuildersReproduceTheReferenceOrRejectByTheInputRules) {
  int built = 0, rejected = 0;
  std::string rejected_ids;
  for (const json::Value& v : generated_007()) {
    SCOPED_TRACE(v["id"].as_string());
    std::optional<TokenSpec> spec;
    try {
      spec = spec_from_builder(v);
    } catch (const InvalidArgument& e) {
      // The modern API is stricter than the references (README "Input rules"): an empty channel,
      // non-Agora characters, expiries outside 1..86400. The message must name the field.
      EXPECT_FALSE(e.field().empty());
      EXPECT_NE(std::string(e.what()).find(e.field()), std::string::npos) << e.what();
      ++rejected;
      rejected_ids += v["id"].as_string() + " ";
      continue;
    }
    if (!spec) continue;  // raw builder without an equivalent
    ++built;
    Minter m(v["app_id"].as_string(), v["app_certificate"].as_string(), MinterOptions{Compression::kExact, 1});
    EXPECT_EQ(spec->expire, v["expire"].as_u32());
    EXPECT_EQ(m.mint(*spec, v["salt"].as_u32(), v["issue_ts"].as_u32()), v["token"].as_string());
  }
  // 107 vectors: 5 raw without a builder, the rest either built or rejected by a documented rule.
  EXPECT_EQ(built + rejected, 102) << "rejected: " << rejected_ids;
  EXPECT_GE(built, 80) << "rejected: " << rejected_ids;
}

TEST(Generated007, EveryEquivalentTokenDecodesToTheSameFieldsAndVerifies) {
  std::size_t tokens = 0;
  for (const json::Value& v : generated_007()) {
    const std::string cert = v["app_certificate"].as_string();
    std::vector<std::pair<std::string, std::string>> all{{"python3", v["token"].as_string()}};
    for (const json::Value& e : v["equivalent_tokens"]) all.emplace_back(e["impl"].as_string(), e["token"].as_string());
    for (const auto& [impl, token] : all) {
      SCOPED_TRACE(v["id"].as_string() + " " + impl);
      ++tokens;
      const Decoded007 d = decode_007(token);
      expect_fields(d, v);
      EXPECT_EQ(hex(inflate_token(token)), v["payload_hex"].as_string());
      expect_verifies_only_with(d, cert);
      EXPECT_TRUE(verify_token(token, cert).ok());
    }
  }
  EXPECT_EQ(tokens, 107u + 84u * 6u + 23u * 5u);  // each token + its 5 or 6 equivalent_tokens
}

// ---- reference_known_answers.json -----------------------------------------------------------

TEST(ReferenceKnownAnswers, Tokens007DecodeToTheirFieldsAndVerify) {
  std::map<std::string, std::string> payload_of;
  for (const json::Value& v : known_answers())
    if (v["version"].as_string() == "007") payload_of[v["id"].as_string()] = v["payload_hex"].as_string();
  int checked = 0;
  for (const json::Value& v : known_answers()) {
    if (v["version"].as_string() != "007") continue;
    SCOPED_TRACE(v["id"].as_string());
    ++checked;
    const std::string token = v["token"].as_string();
    const Decoded007 d = decode_007(token);
    expect_fields(d, v);
    EXPECT_EQ(hex(inflate_token(token)), v["payload_hex"].as_string());
    EXPECT_EQ(hex(pack_signing_info(token_from_vector(v))), v["signing_info_hex"].as_string());
    if (v.contains("same_payload_as"))
      for (const json::Value& other : v["same_payload_as"]) EXPECT_EQ(payload_of.at(other.as_string()), payload_of.at(v["id"].as_string()));
    if (v["app_certificate"].is_null()) {  // ref-007-34: a real app's token, parse only
      EXPECT_TRUE(v["signature_valid"].is_null());
      continue;
    }
    ASSERT_TRUE(v["signature_valid"].as_bool());
    expect_verifies_only_with(d, v["app_certificate"].as_string());
  }
  EXPECT_EQ(checked, 36);
}

TEST(ReferenceKnownAnswers, Tokens007FromVanillaZlibReencodeExactly) {
  int reencoded = 0;
  for (const json::Value& v : known_answers()) {
    if (v["version"].as_string() != "007" || v["app_certificate"].is_null()) continue;
    if (!v["compression"]["reproduced_by_vanilla_zlib_level6"].as_bool()) continue;
    SCOPED_TRACE(v["id"].as_string());
    ++reencoded;
    EXPECT_EQ(encode_007(token_from_vector(v), v["app_certificate"].as_string(), Compression::kExact),
              v["token"].as_string());
  }
  EXPECT_GE(reencoded, 15);
}

TEST(ReferenceKnownAnswers, Tokens006DecodeVerifyAndReencode) {
  int checked = 0;
  for (const json::Value& v : known_answers()) {
    if (v["version"].as_string() != "006") continue;
    SCOPED_TRACE(v["id"].as_string());
    ++checked;
    const std::string token = v["token"].as_string(), cert = v["app_certificate"].as_string();
    const Decoded006 d = decode_006(token);
    EXPECT_EQ(d.app_id, v["app_id"].as_string());
    EXPECT_EQ(d.salt, v["salt"].as_u32());
    EXPECT_EQ(d.ts, v["ts"].as_u32());
    EXPECT_EQ(d.crc_channel, v["crc_channel_name"].as_u32());
    EXPECT_EQ(d.crc_uid, v["crc_uid"].as_u32());
    EXPECT_EQ(hex(d.signature), v["signature_hex"].as_string());
    EXPECT_EQ(hex(d.message), v["message_hex"].as_string());
    std::vector<std::pair<std::uint16_t, std::uint32_t>> privs;
    for (const json::Value& p : v["privileges"]) privs.emplace_back(static_cast<std::uint16_t>(p[0].as_int()), p[1].as_u32());
    EXPECT_EQ(d.privileges, privs);
    const std::string channel = v["channel_name_packed"].as_string(), uid = v["uid_packed"].as_string();
    EXPECT_EQ(crc32(channel), d.crc_channel);
    EXPECT_EQ(crc32(uid), d.crc_uid);
    VerifyOptions o;
    o.channel = channel;
    o.account = uid;
    const VerifyResult r = verify_006(d, cert, o);
    EXPECT_TRUE(r.ok()) << r.reason;
    EXPECT_EQ(verify_006(d, kOtherCert, o).status, VerifyStatus::kBadSignature);
    EXPECT_EQ(verify_006(d, swap_case(cert), o).status, VerifyStatus::kBadSignature);
    AccessToken006 t{v["app_id"].as_string(), channel, uid, d.salt, d.ts, privs};
    EXPECT_EQ(encode_006(t, cert), token);
  }
  EXPECT_EQ(checked, 5);
}

// ---- generated_006.json ----------------------------------------------------------------------

TEST(Generated006, EncodeAndMinterReproduceEveryTokenString) {
  for (const json::Value& v : generated_006()) {
    SCOPED_TRACE(v["id"].as_string());
    std::vector<std::pair<std::uint16_t, std::uint32_t>> privs;
    for (const json::Value& p : v["privileges"]) privs.emplace_back(static_cast<std::uint16_t>(p[0].as_int()), p[1].as_u32());
    const std::string app = v["app_id"].as_string(), cert = v["app_certificate"].as_string();
    const std::string channel = v["channel_name_packed"].as_string(), uid = v["uid_packed"].as_string();
    const AccessToken006 t{app, channel, uid, v["salt"].as_u32(), v["ts"].as_u32(), privs};
    EXPECT_EQ(encode_006(t, cert), v["token"].as_string());
    Minter m(app, cert, MinterOptions{Compression::kFast, 1});
    EXPECT_EQ(m.mint_006(channel, uid, privs, t.ts, t.salt), v["token"].as_string());
  }
}

TEST(Generated006, EveryTokenDecodesAndVerifies) {
  for (const json::Value& v : generated_006()) {
    SCOPED_TRACE(v["id"].as_string());
    const Decoded006 d = decode_006(v["token"].as_string());
    EXPECT_EQ(d.app_id, v["app_id"].as_string());
    EXPECT_EQ(d.crc_channel, v["crc_channel_name"].as_u32());
    EXPECT_EQ(d.crc_uid, v["crc_uid"].as_u32());
    EXPECT_EQ(hex(d.message), v["message_hex"].as_string());
    EXPECT_EQ(hex(d.signature), v["signature_hex"].as_string());
    VerifyOptions o;
    o.channel = v["channel_name_packed"].as_string();
    o.account = v["uid_packed"].as_string();
    const VerifyResult r = verify_006(d, v["app_certificate"].as_string(), o);
    EXPECT_TRUE(r.ok()) << r.reason;
    EXPECT_TRUE(verify_token(v["token"].as_string(), v["app_certificate"].as_string(), o).ok());
    EXPECT_EQ(verify_006(d, kOtherCert, o).status, VerifyStatus::kBadSignature);
    o.channel = *o.channel + "x";
    EXPECT_EQ(verify_006(d, v["app_certificate"].as_string(), o).status, VerifyStatus::kWrongChannel);
  }
}

// ---- parse_cases.json ----------------------------------------------------------------------

// README "Decoding policy" for the cases the references disagree on.
struct Policy {
  bool parse;
  bool verify;
};
const std::map<std::string, Policy>& decoding_policy() {
  static const std::map<std::string, Policy> kPolicy{
      {"p007-padding-stripped", {false, false}},            // '=' padding required
      {"p007-urlsafe-alphabet", {false, false}},            // URL-safe alphabet rejected
      {"p007-embedded-newline", {true, true}},              // CR/LF skipped
      {"p007-trailing-garbage-after-zlib", {true, true}},   // bytes after the trailer ignored
      {"p007-short-appid", {true, false}},                  // a non-32-hex app id never verifies
  };
  return kPolicy;
}

bool expected_flag(const json::Value& e, const std::string& id, bool Policy::*field) {
  if (e.is_bool()) return e.as_bool();
  EXPECT_EQ(e.as_string(), "implementation-defined");
  const auto it = decoding_policy().find(id);
  if (it == decoding_policy().end()) {
    ADD_FAILURE() << id << " is implementation-defined but has no policy";
    return false;
  }
  return it->second.*field;
}

TEST(ParseCases, Cases007FollowTheExpectedResultsAndTheDecodingPolicy) {
  for (const json::Value& c : parse_cases()["cases_007"]) {
    const std::string id = c["id"].as_string();
    SCOPED_TRACE(id + ": " + c["description"].as_string());
    const bool want_parse = expected_flag(c["expected"]["parse"], id, &Policy::parse);
    const bool want_verify = expected_flag(c["expected"]["verify"], id, &Policy::verify);
    const std::string token = c["token"].as_string(), cert = c["verify_with_certificate"].as_string();
    std::optional<Decoded007> d;
    std::string error;
    try {
      d = decode_007(token);
    } catch (const DecodeError& e) {
      error = e.what();
      EXPECT_FALSE(e.stage().empty());
      EXPECT_FALSE(error.empty());
    }
    EXPECT_EQ(d.has_value(), want_parse) << error;
    const VerifyResult r = verify_token(token, cert);
    EXPECT_EQ(r.ok(), want_verify) << r.reason;
    if (!d) {
      EXPECT_EQ(r.status, VerifyStatus::kMalformed);
      // verify_token dispatches on the prefix, so a "006" prefix gets the 006 decoder's reason.
      if (token.rfind("006", 0) != 0) EXPECT_EQ(r.reason, error);
    } else {
      EXPECT_EQ(verify_007(*d, cert).ok(), want_verify);
    }
  }
}

Decoded007 decode_case(const std::string& id) {
  for (const json::Value& c : parse_cases()["cases_007"])
    if (c["id"].as_string() == id) return decode_007(c["token"].as_string());
  throw std::runtime_error("no parse case " + id);
}
DecodeError decode_error_of(const std::string& id) {
  try {
    decode_case(id);
  } catch (const DecodeError& e) {
    return e;
  }
  throw std::runtime_error(id + " decoded without error");
}

TEST(ParseCases, PolicyDetailsAndErrorStages) {
  EXPECT_EQ(decode_case("p007-trailing-garbage-after-zlib").trailing_zlib_bytes, 8u);
  EXPECT_EQ(decode_case("p007-trailing-bytes-signed").trailing_bytes, 3u);
  EXPECT_EQ(decode_case("p007-trailing-bytes-unsigned").trailing_bytes, 3u);
  EXPECT_EQ(verify_007(decode_case("p007-trailing-bytes-unsigned"), kCert).status, VerifyStatus::kBadSignature);
  // "Unknown" type 9 with only a privilege map was unknown to the references' snapshot; this engine
  // knows it as ConvoAI (npm agora-token 2.0.6), whose record is exactly that, so it parses both.
  const Decoded007 last = decode_case("p007-unknown-service-last");
  EXPECT_FALSE(last.stopped_at_unknown);
  ASSERT_EQ(last.token.services.size(), 2u);
  EXPECT_EQ(last.token.services[0].type, kServiceRtc);
  EXPECT_EQ(last.token.services[1].type, kServiceConvoAI);
  EXPECT_EQ(last.trailing_bytes, 0u);
  const Decoded007 first = decode_case("p007-unknown-service-first");
  EXPECT_TRUE(first.stopped_at_unknown);
  EXPECT_EQ(first.unknown_type, 0u);
  EXPECT_TRUE(first.token.services.empty());
  EXPECT_TRUE(decode_case("p007-zero-services").token.services.empty());
  EXPECT_EQ(verify_007(decode_case("p007-short-appid"), kCert).status, VerifyStatus::kBadAppId);
  EXPECT_EQ(verify_007(decode_case("p007-short-signature-field"), kCert).status, VerifyStatus::kBadSignature);
  EXPECT_EQ(verify_007(decode_case("p007-valid-wrong-cert"), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").status,
            VerifyStatus::kBadSignature);

  const DecodeError pad = decode_error_of("p007-padding-stripped");
  EXPECT_EQ(pad.stage(), "base64");
  EXPECT_NE(std::string(pad.what()).find("padding"), std::string::npos) << pad.what();
  const DecodeError url = decode_error_of("p007-urlsafe-alphabet");
  EXPECT_EQ(url.stage(), "base64");
  EXPECT_NE(std::string(url.what()).find("URL-safe"), std::string::npos) << url.what();
  for (const char* id : {"p007-raw-deflate", "p007-gzip-wrapper", "p007-bad-adler32", "p007-truncated-zlib"})
    EXPECT_EQ(decode_error_of(id).stage(), "zlib") << id;
  for (const char* id : {"p007-version-006-prefix", "p007-version-008", "p007-empty"})
    EXPECT_EQ(decode_error_of(id).stage(), "prefix") << id;
  for (const char* id : {"p007-service-count-too-large", "p007-truncated-service"})
    EXPECT_EQ(decode_error_of(id).stage(), "payload") << id;
}

TEST(ParseCases, Cases006FollowTheExpectedResults) {
  for (const json::Value& c : parse_cases()["cases_006"]) {
    SCOPED_TRACE(c["id"].as_string());
    bool parsed = true;
    try {
      decode_006(c["token"].as_string());
    } catch (const DecodeError& e) {
      parsed = false;
      EXPECT_FALSE(std::string(e.what()).empty());
    }
    EXPECT_EQ(parsed, c["expected"]["parse"].as_bool());
  }
}

// ---- npm agora-token 2.0.6: ConvoAI (9) and STT (10) via agent_spec -------------------------

TEST(NpmServices9And10, AgentSpecReproducesPayloadAndSignature) {
  for (const json::Value& v : npm_vectors()) {
    SCOPED_TRACE(v["id"].as_string());
    const json::Value& a = v["args"];
    const std::uint16_t type = v["builder"].as_string().rfind("ConvoAI", 0) == 0 ? kServiceConvoAI : kServiceStt;
    const TokenSpec spec = agent_spec(type, a["channelName"].as_string(), user_string(a["rtcAccount"]),
                                      check_role(a["rtcRole"].as_int()), a["rtcTokenExpire"].as_int(),
                                      a["joinChannelPrivilegeExpire"].as_int(), a["pubAudioPrivilegeExpire"].as_int(),
                                      a["pubVideoPrivilegeExpire"].as_int(), a["pubDataStreamPrivilegeExpire"].as_int(),
                                      a["rtmUserId"].as_string(), a["rtmTokenExpire"].as_int());
    const std::string app = a["appId"].as_string(), cert = a["appCertificate"].as_string();
    const std::uint32_t salt = v["salt"].as_u32(), ts = v["issue_ts"].as_u32();
    AccessToken2 t{app, ts, spec.expire, salt, spec.services};
    EXPECT_EQ(hex(pack_signing_info(t)), v["signed_part_hex"].as_string());
    EXPECT_EQ(hex(sign_007(cert, ts, salt, unhex(v["signed_part_hex"].as_string()))), v["signature_hex"].as_string());
    for (Compression c : kAllCompressions) {
      Minter m(app, cert, MinterOptions{c, 1});
      const std::string token = m.mint(spec, salt, ts);
      EXPECT_EQ(hex(inflate_token(token)), v["payload_hex"].as_string()) << compression_name(c);
    }
    const Decoded007 d = decode_007(v["token_node_zlib"].as_string());
    EXPECT_EQ("2000" + hex(d.signature) + hex(d.signing_info), v["payload_hex"].as_string());
    ASSERT_EQ(d.token.services.size(), 3u);
    EXPECT_EQ(d.token.services[2].type, type);
    EXPECT_TRUE(d.token.services[2].privileges.empty());
    expect_verifies_only_with(d, cert);
  }
}

// ---- input rules: InvalidArgument names the field and the rule -----------------------------

struct RuleCase {
  const char* name;
  std::function<void()> call;
  const char* field;
  std::vector<const char*> words;
};

TEST(InputRules, ViolationsThrowInvalidArgumentNamingFieldAndRule) {
  const std::string long_channel(65, 'c'), long_account(256, 'a'), long_user(65, 'u');
  const std::vector<RuleCase> cases{
      {"empty channel", [] { check_channel(""); }, "channel", {"empty", "64"}},
      {"long channel", [&] { check_channel(long_channel); }, "channel", {"65 bytes", "too long", "64"}},
      {"bad channel char", [] { check_channel("lob\"by"); }, "channel", {"byte 3", "not allowed"}},
      {"star in account", [] { check_account("ali*ce"); }, "account", {"byte 3", "not allowed"}},
      {"empty account", [] { check_account(""); }, "account", {"empty", "255"}},
      {"long account", [&] { check_account(long_account); }, "account", {"256 bytes", "too long"}},
      {"negative uid", [] { check_uid(-1); }, "uid", {"-1", "out of range", "4294967295"}},
      {"uid over 32 bits", [] { check_uid(4294967296LL); }, "uid", {"4294967296", "out of range"}},
      {"zero expire", [] { check_expire(0); }, "expire", {"at least 1", "86400"}},
      {"negative expire", [] { check_expire(-5); }, "expire", {"negative", "-5"}},
      {"timestamp expire", [] { check_expire(1700000000); }, "expire", {"Unix timestamp", "seconds from now", "2023-11-14"}},
      {"long expire", [] { check_expire(86401); }, "expire", {"86401", "24-hour", "86400"}},
      {"privilege expire", [] { check_privilege_expire(90000, "join_channel_privilege_expire"); },
       "join_channel_privilege_expire", {"90000", "86400"}},
      {"role name", [] { parse_role("admin"); }, "role", {"admin", "publisher", "subscriber"}},
      {"role number", [] { check_role(101); }, "role", {"101", "publisher", "subscriber"}},
      {"text empty", [] { check_text("", "room_uuid", 1, 255); }, "room_uuid", {"empty"}},
      {"text utf8", [] { check_text("a\xff", "room_uuid", 1, 255); }, "room_uuid", {"UTF-8", "byte 1"}},
      {"text control", [] { check_text("a\nb", "room_uuid", 1, 255); }, "room_uuid", {"control", "byte 1"}},
      {"rtc spec channel", [] { rtc_uid_spec("", 1, RtcRole::kPublisher, 3600); }, "channel", {"empty"}},
      {"rtc spec uid", [] { rtc_uid_spec("lobby", -3, RtcRole::kPublisher, 3600); }, "uid", {"-3"}},
      {"rtc spec expire", [] { rtc_uid_spec("lobby", 1, RtcRole::kPublisher, 0); }, "expire", {"at least 1"}},
      {"rtc privilege expire", [] { rtc_uid_spec("lobby", 1, RtcRole::kPublisher, 3600, 100000); },
       "privilege_expire", {"100000"}},
      {"rtc account spec", [] { rtc_account_spec("lobby", "", RtcRole::kPublisher, 3600); }, "account", {"empty"}},
      {"rtc privileges audio", [] { rtc_privileges_spec("lobby", "1", 3600, 3600, 90000, 0, 0); },
       "pub_audio_privilege_expire", {"90000"}},
      {"rtc rtm2 user", [] { rtc_rtm2_spec("lobby", "a", RtcRole::kPublisher, 3600, 0, 0, 0, 0, "", 3600); },
       "rtm_user_id", {"empty"}},
      {"rtc rtm2 rtm expire", [] { rtc_rtm2_spec("lobby", "a", RtcRole::kPublisher, 3600, 0, 0, 0, 0, "b", 0); },
       "rtm_expire", {"at least 1"}},
      {"rtm user", [&] { rtm_spec(long_user, 3600); }, "user_id", {"65 bytes", "64"}},
      {"rtm2 resource type", [] { rtm2_spec("u", {Rtm2Grant{5, 0, {"x"}}}, 3600); }, "permissions", {"resource type 5"}},
      {"rtm2 permission type", [] { rtm2_spec("u", {Rtm2Grant{0, 2, {"x"}}}, 3600); }, "permissions",
       {"permission type 2", "read", "write"}},
      {"chat user", [] { chat_user_spec("", 3600); }, "user_id", {"empty"}},
      {"chat app expire", [] { chat_app_spec(86401); }, "expire", {"86401"}},
      {"apaas role", [] { apaas_room_user_spec("r", "u", 40000, 3600); }, "role", {"40000", "16-bit"}},
      {"apaas user", [] { apaas_user_spec("", 3600); }, "user_uuid", {"empty"}},
      {"agent type", [] { agent_spec(3, "lobby", "a", RtcRole::kPublisher, 3600, 0, 0, 0, 0, "b", 3600); },
       "service_type", {"ConvoAI", "STT", "3"}},
      {"bad app id", [] { (void)Credentials("970CA35de60c44645bbae8a215061b3", kCert); }, "app_id", {"32", "got 31"}},
      {"bad compression", [] { parse_compression("zstd"); }, "compression", {"zstd", "fast", "isal", "exact"}},
      {"too many threads", [] { (void)Minter(kAppId, kCert, MinterOptions{Compression::kFast, 5000}); }, "threads",
       {"5000", "1024"}},
      {"mint without services", [] { Minter(kAppId, kCert, MinterOptions{Compression::kFast, 1}).mint(TokenSpec{3600, {}}); },
       "services", {"at least one service"}},
      {"encode without services",
       [] { encode_007(AccessToken2{std::string(kAppId), 1, 1, 1, {}}, kCert); }, "services", {"at least one"}},
      {"unknown service type",
       [] {
         Service s;
         s.type = 11;
         pack_signing_info(AccessToken2{std::string(kAppId), 1, 1, 1, {s}});
       },
       "services", {"unknown service type 11"}},
      {"string over 65535 bytes",
       [] { encode_007(AccessToken2{std::string(kAppId), 1, 1, 1, {Service::rtm(std::string(70000, 'u'))}}, kCert); },
       "user_id", {"70000", "65535"}},
  };
  for (const RuleCase& c : cases) {
    SCOPED_TRACE(c.name);
    try {
      c.call();
      ADD_FAILURE() << "no exception";
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(e.field(), c.field) << e.what();
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(std::string(c.field) + ":", 0), 0u) << msg;  // "<field>: <problem> (<rule>)"
      for (const char* w : c.words) EXPECT_NE(msg.find(w), std::string::npos) << "missing '" << w << "' in: " << msg;
    }
  }
}

TEST(InputRules, ValidBoundaryValuesAreAccepted) {
  EXPECT_NO_THROW(check_channel(std::string(64, 'c')));
  EXPECT_NO_THROW(check_channel("aZ09 !#$%&()+-:;<=.>?@[]^_{}|~,"));
  EXPECT_NO_THROW(check_channel("Agora*"));
  EXPECT_NO_THROW(check_account(std::string(255, 'a')));
  EXPECT_EQ(check_uid(0), 0u);
  EXPECT_EQ(check_uid(4294967295LL), 4294967295u);
  EXPECT_EQ(check_expire(1), 1u);
  EXPECT_EQ(check_expire(86400), 86400u);
  EXPECT_EQ(check_privilege_expire(0, "join_channel_privilege_expire"), 0u);
  EXPECT_EQ(parse_role("Publisher"), RtcRole::kPublisher);
  EXPECT_EQ(parse_role("2"), RtcRole::kSubscriber);
  EXPECT_EQ(check_role(1), RtcRole::kPublisher);
  EXPECT_NO_THROW(check_text("\xe6\x88\xbf\xe9\x97\xb4", "room_uuid", 1, 255));  // UTF-8 room name
  // uid 0 is the wildcard and is written as "".
  EXPECT_EQ(rtc_uid_spec("lobby", 0, RtcRole::kSubscriber, 60).services.at(0).fields.at(1), "");
}

TEST(InputRules, CertificateNeverAppearsInMessages) {
  const std::string bad_cert = "5CFd2fd1755d40ecb72977518be15d3Z";
  try {
    Credentials c(kAppId, bad_cert);
    ADD_FAILURE() << "accepted a non-hex certificate";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.field(), "app_certificate");
    EXPECT_EQ(std::string(e.what()).find(bad_cert), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("5CFd2fd1755d40ecb"), std::string::npos);
  }
  try {
    encode_007(AccessToken2{std::string(kAppId), 1, 1, 1, {Service::fpa()}}, bad_cert);
    ADD_FAILURE() << "encoded with a non-hex certificate";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()).find(bad_cert), std::string::npos);
  }
  const VerifyResult r = verify_token(std::string(generated_007()[0]["token"].as_string()), std::string(kOtherCert));
  EXPECT_EQ(r.reason.find(kOtherCert), std::string::npos);
}

TEST(Compression, NamesRoundTrip) {
  for (Compression c : kAllCompressions) EXPECT_EQ(parse_compression(compression_name(c)), c);
  EXPECT_STREQ(compression_name(Compression::kFast), "fast");
  EXPECT_STREQ(compression_name(Compression::kIsal), "isal");
  EXPECT_STREQ(compression_name(Compression::kExact), "exact");
}

// ---- wildcard channels and every VerifyStatus -------------------------------------------------

TEST(WildcardChannel, PrefixRule) {
  EXPECT_TRUE(channel_matches("Agora*", "AgoraChannel"));
  EXPECT_TRUE(channel_matches("Agora*", "AgoraAwesome"));
  EXPECT_TRUE(channel_matches("Agora*", "Agora"));
  EXPECT_FALSE(channel_matches("Agora*", "AppTest"));
  EXPECT_FALSE(channel_matches("Agora*", "agoraChannel"));  // case-sensitive
  EXPECT_TRUE(channel_matches("*", "anything"));
  EXPECT_TRUE(channel_matches("lobby", "lobby"));
  EXPECT_FALSE(channel_matches("lobby", "lobby2"));
  EXPECT_FALSE(channel_matches("lobby", "Agora*"));
}

constexpr std::uint32_t kIssue = 1700000000;

std::string mint(const TokenSpec& spec, std::uint32_t salt = 7) {
  static const Minter m(kAppId, kCert, MinterOptions{Compression::kFast, 1});
  return m.mint(spec, salt, kIssue);
}

TEST(WildcardChannel, VerifyAcceptsEveryChannelWithThePrefix) {
  const std::string token = mint(rtc_uid_spec("Agora*", 42, RtcRole::kPublisher, 3600));
  for (const char* ch : {"AgoraChannel", "AgoraAwesome"}) {
    VerifyOptions o;
    o.channel = ch;
    o.uid = 42;
    o.privilege = "publish_audio";
    const VerifyResult r = verify_token(token, kCert, o);
    EXPECT_TRUE(r.ok()) << ch << ": " << r.reason;
  }
  VerifyOptions o;
  o.channel = "AppTest";
  EXPECT_EQ(verify_token(token, kCert, o).status, VerifyStatus::kWrongChannel);
}

VerifyStatus status_of(const std::string& token, std::string_view cert, VerifyOptions o = {}) {
  return verify_token(token, cert, o).status;
}

TEST(VerifyStatus, EveryStatusIsReachable) {
  const std::string publisher = mint(rtc_uid_spec("lobby", 42, RtcRole::kPublisher, 3600));
  const std::string subscriber = mint(rtc_uid_spec("lobby", 42, RtcRole::kSubscriber, 3600));
  const std::string account = mint(rtc_account_spec("lobby", "alice", RtcRole::kPublisher, 3600));
  const std::string wildcard_uid = mint(rtc_uid_spec("lobby", 0, RtcRole::kPublisher, 3600));
  const std::string short_join = mint(rtc_privileges_spec("lobby", "42", 3600, 100, 3600, 3600, 3600));
  auto opts = [](std::optional<std::uint64_t> now, std::optional<std::string> ch, std::optional<std::uint32_t> uid,
                 std::optional<std::string> acct, std::optional<std::string> priv) {
    VerifyOptions o;
    o.now = now;
    o.channel = std::move(ch);
    o.uid = uid;
    o.account = std::move(acct);
    o.privilege = std::move(priv);
    return o;
  };
  std::map<VerifyStatus, int> seen;
  auto check = [&](VerifyStatus want, const std::string& token, std::string_view cert, const VerifyOptions& o) {
    const VerifyResult r = verify_token(token, cert, o);
    EXPECT_EQ(r.status, want) << verify_status_name(want) << " got " << verify_status_name(r.status) << ": " << r.reason;
    EXPECT_EQ(r.ok(), want == VerifyStatus::kOk);
    if (want != VerifyStatus::kOk) EXPECT_FALSE(r.reason.empty());
    ++seen[want];
  };
  check(VerifyStatus::kOk, publisher, kCert, opts(kIssue + 10, "lobby", 42, {}, "publish_video"));
  check(VerifyStatus::kOk, wildcard_uid, kCert, opts({}, "lobby", 12345, {}, "join_channel"));
  check(VerifyStatus::kOk, short_join, kCert, opts(kIssue + 50, "lobby", 42, {}, "join_channel"));
  check(VerifyStatus::kMalformed, "007invalid", kCert, {});
  check(VerifyStatus::kMalformed, "", kCert, {});
  check(VerifyStatus::kBadCertificate, publisher, "not-a-certificate", {});
  for (const json::Value& c : parse_cases()["cases_007"])  // app id "abc", re-signed
    if (c["id"].as_string() == "p007-short-appid") check(VerifyStatus::kBadAppId, c["token"].as_string(), kCert, {});
  check(VerifyStatus::kBadSignature, publisher, kOtherCert, {});
  check(VerifyStatus::kBadSignature, publisher, swap_case(kCert), {});
  check(VerifyStatus::kExpired, publisher, kCert, opts(kIssue + 3601, {}, {}, {}, {}));
  check(VerifyStatus::kOk, publisher, kCert, opts(kIssue + 3600, {}, {}, {}, {}));  // inclusive bound
  check(VerifyStatus::kPrivilegeExpired, short_join, kCert, opts(kIssue + 101, "lobby", 42, {}, "join_channel"));
  check(VerifyStatus::kWrongChannel, publisher, kCert, opts({}, "lobby2", {}, {}, {}));
  check(VerifyStatus::kWrongUid, publisher, kCert, opts({}, "lobby", 43, {}, {}));
  check(VerifyStatus::kWrongAccount, account, kCert, opts({}, "lobby", {}, "bob", {}));
  check(VerifyStatus::kOk, account, kCert, opts({}, "lobby", {}, "alice", {}));
  check(VerifyStatus::kMissingPrivilege, subscriber, kCert, opts({}, "lobby", 42, {}, "publish_audio"));
  check(VerifyStatus::kMissingPrivilege, publisher, kCert, opts({}, {}, {}, {}, "no_such_privilege"));
  check(VerifyStatus::kOk, subscriber, kCert, opts({}, "lobby", 42, {}, "join_channel"));
  for (VerifyStatus s : {VerifyStatus::kOk, VerifyStatus::kMalformed, VerifyStatus::kBadCertificate,
                         VerifyStatus::kBadAppId, VerifyStatus::kBadSignature, VerifyStatus::kExpired,
                         VerifyStatus::kPrivilegeExpired, VerifyStatus::kWrongChannel, VerifyStatus::kWrongUid,
                         VerifyStatus::kWrongAccount, VerifyStatus::kMissingPrivilege})
    EXPECT_GT(seen[s], 0) << verify_status_name(s) << " never produced";
}

TEST(VerifyStatus, NamesAreStable) {
  const std::pair<VerifyStatus, const char*> names[] = {
      {VerifyStatus::kOk, "ok"},
      {VerifyStatus::kMalformed, "malformed"},
      {VerifyStatus::kBadCertificate, "bad_certificate"},
      {VerifyStatus::kBadAppId, "bad_app_id"},
      {VerifyStatus::kBadSignature, "bad_signature"},
      {VerifyStatus::kExpired, "expired"},
      {VerifyStatus::kPrivilegeExpired, "privilege_expired"},
      {VerifyStatus::kWrongChannel, "wrong_channel"},
      {VerifyStatus::kWrongUid, "wrong_uid"},
      {VerifyStatus::kWrongAccount, "wrong_account"},
      {VerifyStatus::kMissingPrivilege, "missing_privilege"},
  };
  for (const auto& [s, n] : names) EXPECT_STREQ(verify_status_name(s), n);
}

TEST(VerifyStatus, Token006Statuses) {
  const Minter m(kAppId, kCert, MinterOptions{Compression::kFast, 1});
  const std::string token = m.mint_006("lobby", "42", {{1, kIssue + 100}, {2, kIssue + 10}}, kIssue + 3600, 9);
  auto o = [](std::optional<std::string> ch, std::optional<std::uint32_t> uid, std::optional<std::uint64_t> now,
              std::optional<std::string> priv) {
    VerifyOptions v;
    v.channel = std::move(ch);
    v.uid = uid;
    v.now = now;
    v.privilege = std::move(priv);
    return v;
  };
  EXPECT_EQ(status_of(token, kCert, o("lobby", 42, kIssue, "join_channel")), VerifyStatus::kOk);
  EXPECT_EQ(status_of(token, kOtherCert, o("lobby", 42, {}, {})), VerifyStatus::kBadSignature);
  EXPECT_EQ(status_of(token, kCert, o("lobby2", 42, {}, {})), VerifyStatus::kWrongChannel);
  EXPECT_EQ(status_of(token, kCert, o("lobby", 43, {}, {})), VerifyStatus::kWrongUid);
  EXPECT_EQ(status_of(token, kCert, o("lobby", 42, kIssue + 3601, {})), VerifyStatus::kExpired);
  EXPECT_EQ(status_of(token, kCert, o("lobby", 42, kIssue + 11, "publish_audio")), VerifyStatus::kPrivilegeExpired);
  EXPECT_EQ(status_of(token, kCert, o("lobby", 42, {}, "publish_video")), VerifyStatus::kMissingPrivilege);
  EXPECT_EQ(status_of(token, "xyz", o("lobby", 42, {}, {})), VerifyStatus::kBadCertificate);
  EXPECT_EQ(status_of("006invalid", kCert, {}), VerifyStatus::kMalformed);
}

// ---- Minter single-token behaviour ---------------------------------------------------------

TEST(Minter, MintIsDeterministicWithSaltAndClockAndRandomOtherwise) {
  const Minter m(kAppId, kCert, MinterOptions{Compression::kFast, 1});
  const TokenSpec spec = rtc_uid_spec("7d72365eb983485397e3e3f9d460bdda", 2882341273LL, RtcRole::kPublisher, 3600);
  EXPECT_EQ(m.mint(spec, 5, kIssue), m.mint(spec, 5, kIssue));
  EXPECT_NE(m.mint(spec, 5, kIssue), m.mint(spec, 6, kIssue));
  const Decoded007 a = decode_007(m.mint(spec)), b = decode_007(m.mint(spec));
  EXPECT_NE(a.token.salt, b.token.salt);  // CSPRNG salts (2^-32 chance of a false failure)
  const std::uint32_t now = unix_now();
  EXPECT_LE(a.token.issue_ts, now);
  EXPECT_GE(a.token.issue_ts + 5, now);
  EXPECT_TRUE(verify_007(a, kCert).ok());
  EXPECT_EQ(m.app_id(), kAppId);
  EXPECT_EQ(m.compression(), Compression::kFast);
  EXPECT_EQ(m.threads(), 1u);
}

TEST(Minter, TwoMintersOnOneThreadDoNotShareTheSigningKey) {
  // The single-token path caches S1 per thread keyed by minter and issue_ts.
  const Minter a(kAppId, kCert, MinterOptions{Compression::kFast, 1});
  const Minter b(kAppId, kOtherCert, MinterOptions{Compression::kFast, 1});
  const TokenSpec spec = rtc_uid_spec("lobby", 1, RtcRole::kPublisher, 3600);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(verify_token(a.mint(spec, 1, kIssue), kCert).ok());
    EXPECT_TRUE(verify_token(b.mint(spec, 1, kIssue), kOtherCert).ok());
  }
}

TEST(Minter, WorkloadTokenHasTheDocumentedSize) {
  // PERF_NOTES workload: signed part 122 B, compressor input 156 B, token ~207 chars.
  const TokenSpec spec = rtc_uid_spec("7d72365eb983485397e3e3f9d460bdda", 2882341273LL, RtcRole::kPublisher, 3600);
  EXPECT_EQ(pack_signing_info(AccessToken2{std::string(kAppId), kIssue, 3600, 1, spec.services}).size(), 122u);
  for (Compression c : kAllCompressions) {
    const std::string t = Minter(kAppId, kCert, MinterOptions{c, 1}).mint(spec, 1, kIssue);
    EXPECT_EQ(inflate_token(t).size(), 156u);
    EXPECT_LE(t.size(), 3 + 4 * ((156 + 11 + 2) / 3)) << compression_name(c);  // never above a stored block
  }
}

}  // namespace
