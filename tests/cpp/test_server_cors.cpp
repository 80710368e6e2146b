// test_server_cors.cpp - the origin filter (TOKEN_SERVER.md §7) with deviation D7.
#include <gtest/gtest.h>

#include "server/cors.hpp"

namespace mintlane::server {
namespace {
using D = CorsPolicy::Decision;

TEST(ServerCors, UnsetRefusesEveryOriginButServesRequestsWithoutOne) {
  for (const auto& cfg : {std::optional<std::string>{}, std::optional<std::string>{""},
                          std::optional<std::string>{"  "}}) {
    CorsPolicy p(cfg);
    EXPECT_EQ(p.check(std::nullopt), D::kNoOrigin);
    EXPECT_EQ(p.check(std::string_view("")), D::kNoOrigin);
    EXPECT_EQ(p.check(std::string_view("http://a.example")), D::kRefused);
  }
}

TEST(ServerCors, StarAllowsAnyOrigin) {
  CorsPolicy p(std::string("*"));
  EXPECT_TRUE(p.allows_any());
  EXPECT_EQ(p.check(std::string_view("http://anything:1234")), D::kAllowed);
  EXPECT_EQ(p.check(std::nullopt), D::kNoOrigin);
}

TEST(ServerCors, ListEntriesAreTrimmedAndExact) {
  CorsPolicy p(std::string("http://a.example, https://b.example ,,\thttp://c:8080"));
  ASSERT_EQ(p.origins().size(), 3u);
  EXPECT_EQ(p.check(std::string_view("http://a.example")), D::kAllowed);
  EXPECT_EQ(p.check(std::string_view("https://b.example")), D::kAllowed);
  EXPECT_EQ(p.check(std::string_view("http://c:8080")), D::kAllowed);
  EXPECT_EQ(p.check(std::string_view("HTTP://A.EXAMPLE")), D::kRefused);  // case-sensitive
  EXPECT_EQ(p.check(std::string_view("http://a.example/")), D::kRefused);
  EXPECT_EQ(p.check(std::nullopt), D::kNoOrigin);  // D7: served
}

TEST(ServerCors, StarInsideAListIsLiteral) {
  CorsPolicy p(std::string("http://a.example,*"));
  EXPECT_FALSE(p.allows_any());
  EXPECT_EQ(p.check(std::string_view("http://z.example")), D::kRefused);
  EXPECT_EQ(p.check(std::string_view("*")), D::kAllowed);
}

}  // namespace
}  // namespace mintlane::server
