// test_server_json.cpp - POST /getToken body decoding with Go encoding/json semantics
// (TOKEN_SERVER.md §5) and the parameter rules (§4.1, D1-D5).
#include <gtest/gtest.h>

#include "server/json_body.hpp"
#include "server/params.hpp"

namespace mintlane::server {
namespace {

TokenRequestBody ok(std::string_view json) {
  TokenRequestBody b;
  std::string err;
  EXPECT_TRUE(decode_token_request(json, b, err)) << json << " -> " << err;
  return b;
}

std::string bad(std::string_view json) {
  TokenRequestBody b;
  std::string err;
  EXPECT_FALSE(decode_token_request(json, b, err)) << json;
  return err;
}

TEST(ServerJsonBody, ReadsTheMembers) {
  auto b = ok(R"({"tokenType":"rtc","channel":"c","role":"publisher","uid":"42","expire":600})");
  EXPECT_EQ(b.token_type, "rtc");
  EXPECT_EQ(b.channel, "c");
  EXPECT_EQ(b.role, "publisher");
  EXPECT_EQ(b.uid, "42");
  EXPECT_EQ(b.expire, 600);
}

TEST(ServerJsonBody, GoDecoderRules) {
  EXPECT_EQ(ok(R"({"TOKENTYPE":"rtm","Uid":"x"})").token_type, "rtm");    // case-insensitive
  EXPECT_EQ(ok("{\"to\xE2\x84\xAA" "entype\":\"chat\"}").token_type, "chat");  // Kelvin sign folds to k
  EXPECT_EQ(ok(R"({"uid":"a","uid":"b"})").uid, "b");                      // later duplicate wins
  EXPECT_EQ(ok(R"({"x":[1,{"y":null}],"uid":"u"})").uid, "u");             // unknown members ignored
  EXPECT_EQ(ok("null").token_type, "");
  EXPECT_EQ(ok(R"({"uid":null})").uid, "");
  EXPECT_EQ(ok(R"({"uid":"u"} trailing garbage)").uid, "u");             // first value only
  EXPECT_EQ(ok(R"({"expire":-1})").expire, -1);
  EXPECT_EQ(ok(R"({"expire":9223372036854775807})").expire, INT64_MAX);
  EXPECT_EQ(ok(R"({"expire":-9223372036854775808})").expire, INT64_MIN);
  EXPECT_EQ(ok(R"({"uid":"\u00e9\ud83d\ude00\n"})").uid, "\xC3\xA9\xF0\x9F\x98\x80\n");
  EXPECT_EQ(ok(R"({"uid":"\ud800"})").uid, "\xEF\xBF\xBD");                // lone surrogate
  EXPECT_EQ(ok("{\"uid\":\"\xff\"}").uid, "\xEF\xBF\xBD");                   // invalid UTF-8
  EXPECT_EQ(ok(" \n{}").uid, "");
}

TEST(ServerJsonBody, RejectsWhatGoRejects) {
  EXPECT_EQ(bad(""), "EOF");
  EXPECT_EQ(bad("  \n"), "EOF");
  bad("[]");
  bad("\"str\"");
  bad("42");
  bad("true");
  bad("{");
  bad(R"({"uid":"x")");
  bad(R"({"uid" "x"})");
  bad(R"({"uid":"x",})");
  bad(R"({"expire":"3600"})");
  bad(R"({"expire":1.5})");
  bad(R"({"expire":1e3})");
  bad(R"({"expire":9223372036854775808})");
  bad(R"({"expire":true})");
  bad(R"({"uid":5})");
  bad(R"({"uid":["a"]})");
  bad(R"({"tokenType":{}})");
  bad(R"({"uid":"\x"})");
  bad("{\"uid\":\"a\nb\"}");
  bad(R"({"x":01})");
  bad(R"({"x":[1,]})");
  bad("nul");
  EXPECT_NE(bad(std::string(20000, '[')).find("nested too deeply"), std::string::npos);
}

TEST(ServerParams, DecimalParsingLikeParseUint) {
  std::uint64_t v = 0;
  EXPECT_TRUE(parse_u64("0", v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(parse_u64("007", v));
  EXPECT_EQ(v, 7u);
  EXPECT_TRUE(parse_u64("18446744073709551615", v));
  EXPECT_EQ(v, UINT64_MAX);
  for (const char* s : {"", "18446744073709551616", "-1", "+1", " 1", "1 ", "0x10", "1e3", "1.0"}) {
    EXPECT_FALSE(parse_u64(s, v)) << s;
  }
}

TEST(ServerParams, AgoraCharacterSet) {
  const std::string allowed =
      "abcxyzABCXYZ019 !#$%&()+-:;<=.>?@[]^_{}|~,";
  EXPECT_EQ(name_problem(allowed, "account", kMaxAccount, false), "");
  EXPECT_EQ(name_problem("chan*", "channelName", kMaxChannel, true), "");
  EXPECT_NE(name_problem("chan*", "account", kMaxAccount, false), "");
  for (char c : std::string("\"'*/\\`\x7f\n\t")) {
    EXPECT_NE(name_problem(std::string("a") + c, "account", kMaxAccount, false), "") << int(c);
  }
  EXPECT_NE(name_problem("\xC3\xA9", "account", kMaxAccount, false), "");
  EXPECT_EQ(name_problem(std::string(64, 'a'), "channelName", kMaxChannel, true), "");
  EXPECT_EQ(name_problem(std::string(65, 'a'), "channelName", kMaxChannel, true),
            "channelName: 65 bytes is too long (at most 64 bytes)");
  EXPECT_EQ(name_problem(std::string(255, 'a'), "userAccount", kMaxAccount, false), "");
  EXPECT_NE(name_problem(std::string(256, 'a'), "userAccount", kMaxAccount, false), "");
  EXPECT_NE(name_problem("", "channelName", kMaxChannel, true), "");
  EXPECT_EQ(name_problem("a\nb", "rtmuid", kMaxUserId, false),
            "rtmuid: byte 0x0a at offset 1 is not allowed (use a-z A-Z 0-9 space "
            "!#$%&()+-:;<=.>?@[]^_{}|~,)");
}

TEST(ServerParams, RolesAreStrict) {
  EXPECT_EQ(parse_role_strict("publisher"), RoleChoice::kPublisher);
  EXPECT_EQ(parse_role_strict("1"), RoleChoice::kPublisher);
  EXPECT_EQ(parse_role_strict("subscriber"), RoleChoice::kSubscriber);
  EXPECT_EQ(parse_role_strict("2"), RoleChoice::kSubscriber);
  for (const char* r : {"Publisher", "PUBLISHER", "admin", "", "0", "3", "01", " 1"}) {
    EXPECT_EQ(parse_role_strict(r), RoleChoice::kInvalid) << r;
  }
}

}  // namespace
}  // namespace mintlane::server
