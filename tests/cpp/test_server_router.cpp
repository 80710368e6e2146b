// test_server_router.cpp - route matching, percent-decoding, trailing-slash redirects and query
// parsing of the token server (TOKEN_SERVER.md §3.1, §4.1).
#include <gtest/gtest.h>

#include "server/router.hpp"

namespace mintlane::server {
namespace {

struct Matched {
  RouteMatch m;
  std::string decoded, location;
};

Matched match(Method method, std::string_view target, bool metrics = true) {
  Matched r;
  r.m = match_route(method, target, metrics, r.decoded, r.location);
  return r;
}

TEST(ServerRouter, MatchesEveryTokenRouteWithItsParameters) {
  auto rtc = match(Method::kGet, "/rtc/lobby/publisher/uid/42/?expiry=60");
  ASSERT_EQ(rtc.m.kind, RouteMatch::Kind::kRoute);
  EXPECT_EQ(rtc.m.route, RouteId::kRtc);
  ASSERT_EQ(rtc.m.param_count, 4u);
  EXPECT_EQ(rtc.m.params[0], "lobby");
  EXPECT_EQ(rtc.m.params[1], "publisher");
  EXPECT_EQ(rtc.m.params[2], "uid");
  EXPECT_EQ(rtc.m.params[3], "42");
  EXPECT_EQ(rtc.m.query, "expiry=60");

  auto rtm = match(Method::kGet, "/rtm/bob/");
  EXPECT_EQ(rtm.m.route, RouteId::kRtm);
  EXPECT_EQ(rtm.m.params[0], "bob");

  auto rte4 = match(Method::kGet, "/rte/c/subscriber/userAccount/alice/");
  EXPECT_EQ(rte4.m.route, RouteId::kRte);
  EXPECT_EQ(rte4.m.param_count, 4u);
  auto rte5 = match(Method::kGet, "/rte/c/1/uid/7/rtmuser/");
  EXPECT_EQ(rte5.m.route, RouteId::kRte);
  ASSERT_EQ(rte5.m.param_count, 5u);
  EXPECT_EQ(rte5.m.params[4], "rtmuser");

  EXPECT_EQ(match(Method::kGet, "/chat/app/").m.route, RouteId::kChatApp);
  auto chat = match(Method::kGet, "/chat/account/u1/");
  EXPECT_EQ(chat.m.route, RouteId::kChatAccount);
  EXPECT_EQ(chat.m.params[0], "u1");
  EXPECT_EQ(match(Method::kGet, "/ping").m.route, RouteId::kPing);
  EXPECT_EQ(match(Method::kPost, "/getToken").m.route, RouteId::kGetToken);
  EXPECT_EQ(match(Method::kGet, "/metrics").m.route, RouteId::kMetrics);
}

TEST(ServerRouter, EmptySegmentsAreEmptyParameters) {
  auto r = match(Method::kGet, "/rtc/c/publisher/uid//");
  ASSERT_EQ(r.m.kind, RouteMatch::Kind::kRoute);
  EXPECT_EQ(r.m.params[3], "");
  auto rtm = match(Method::kGet, "/rtm//");
  ASSERT_EQ(rtm.m.kind, RouteMatch::Kind::kRoute);
  EXPECT_EQ(rtm.m.params[0], "");
}

TEST(ServerRouter, PathsAreMatchedAfterPercentDecoding) {
  auto r = match(Method::kGet, "/rtc/my%20room/publisher/userAccount/a%40b/");
  ASSERT_EQ(r.m.kind, RouteMatch::Kind::kRoute);
  EXPECT_EQ(r.m.params[0], "my room");
  EXPECT_EQ(r.m.params[3], "a@b");
  // '+' is literal in paths.
  EXPECT_EQ(match(Method::kGet, "/rtm/a+b/").m.params[0], "a+b");
  // A decoded '/' splits the segment, so this has one segment too many.
  EXPECT_EQ(match(Method::kGet, "/rtc/a%2Fb/publisher/uid/1/").m.kind, RouteMatch::Kind::kNotFound);
}

TEST(ServerRouter, MalformedEscapesAreBadTargets) {
  for (const char* t : {"/rtm/%zz/", "/rtm/%4/", "/ping%", "/rtm/%g0/"}) {
    EXPECT_EQ(match(Method::kGet, t).m.kind, RouteMatch::Kind::kBadTarget) << t;
  }
}

TEST(ServerRouter, MissingTrailingSlashRedirectsKeepingTheQuery) {
  auto r = match(Method::kGet, "/rtc/c/publisher/uid/1?expiry=60");
  ASSERT_EQ(r.m.kind, RouteMatch::Kind::kRedirect);
  EXPECT_EQ(r.location, "/rtc/c/publisher/uid/1/?expiry=60");
  auto ping = match(Method::kGet, "/ping/");
  ASSERT_EQ(ping.m.kind, RouteMatch::Kind::kRedirect);
  EXPECT_EQ(ping.location, "/ping");
  auto post = match(Method::kPost, "/getToken/");
  ASSERT_EQ(post.m.kind, RouteMatch::Kind::kRedirect);
  EXPECT_EQ(post.location, "/getToken");
  auto chat = match(Method::kGet, "/chat/app");
  ASSERT_EQ(chat.m.kind, RouteMatch::Kind::kRedirect);
  EXPECT_EQ(chat.location, "/chat/app/");
  // Percent-encoded bytes stay encoded in Location.
  auto enc = match(Method::kGet, "/rtm/a%20b");
  ASSERT_EQ(enc.m.kind, RouteMatch::Kind::kRedirect);
  EXPECT_EQ(enc.location, "/rtm/a%20b/");
}

TEST(ServerRouter, OtherMethodsAndUnknownPathsAreNotFound) {
  EXPECT_EQ(match(Method::kHead, "/ping").m.kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(match(Method::kPost, "/ping").m.kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(match(Method::kGet, "/getToken").m.kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(match(Method::kOptions, "/rtc/c/publisher/uid/1").m.kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(match(Method::kPost, "/rtc/c/publisher/uid/1").m.kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(match(Method::kGet, "/").m.kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(match(Method::kGet, "/chat/account/").m.kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(match(Method::kGet, "/chat/invalid/").m.kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(match(Method::kGet, "/rtm/").m.kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(match(Method::kGet, "/rtc/c/p/uid/1/extra/").m.kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(match(Method::kGet, "/a/b/c/d/e/f/g/h/i/j/").m.kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(match(Method::kGet, "*").m.kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(match(Method::kGet, "/metrics", /*metrics=*/false).m.kind, RouteMatch::Kind::kNotFound);
}

TEST(ServerRouter, AbsoluteFormTargetsUseTheirPath) {
  auto r = match(Method::kGet, "http://example.com/rtm/bob/?expiry=5");
  ASSERT_EQ(r.m.kind, RouteMatch::Kind::kRoute);
  EXPECT_EQ(r.m.params[0], "bob");
  EXPECT_EQ(r.m.query, "expiry=5");
}

TEST(ServerQuery, FirstOccurrenceWinsAndBadPairsAreSkipped) {
  std::string value, scratch;
  ASSERT_TRUE(find_query_param("expiry=60&expiry=90", "expiry", value, scratch));
  EXPECT_EQ(value, "60");
  ASSERT_TRUE(find_query_param("a=1&expiry", "expiry", value, scratch));
  EXPECT_EQ(value, "");
  ASSERT_TRUE(find_query_param("expiry=%zz&expiry=7", "expiry", value, scratch));
  EXPECT_EQ(value, "7");
  ASSERT_TRUE(find_query_param("exp%69ry=1%32", "expiry", value, scratch));
  EXPECT_EQ(value, "12");
  ASSERT_TRUE(find_query_param("expiry=1+2", "expiry", value, scratch));
  EXPECT_EQ(value, "1 2");
  EXPECT_FALSE(find_query_param("expiry=1;x=2", "expiry", value, scratch));
  EXPECT_FALSE(find_query_param("", "expiry", value, scratch));
  EXPECT_FALSE(find_query_param("expiryx=1", "expiry", value, scratch));
}

}  // namespace
}  // namespace mintlane::server
