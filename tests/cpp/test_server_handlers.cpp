// test_server_handlers.cpp - the token server's pipeline in process (RequestHandler): routes,
// status codes, member names, headers and the tokens themselves (TOKEN_SERVER.md §3-§8, D1-D9).
#include <gtest/gtest.h>

#include <algorithm>

#include "mintlane/server.hpp"
#include "mintlane/token.hpp"
#include "mintlane/services.hpp"

namespace mintlane::server {
namespace {

constexpr const char* kId = "970CA35de60c44645bbae8a215061b33";
constexpr const char* kCert = "5CFd2fd1755d40ecb72977518be15d3b";

std::string header(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

// The value of a top-level JSON string member (the bodies are flat objects).
std::string member(const std::string& body, const std::string& key) {
  const std::string needle = "\"" + key + "\":\"";
  const std::size_t at = body.find(needle);
  if (at == std::string::npos) return "<absent>";
  const std::size_t start = at + needle.size();
  return body.substr(start, body.find('"', start) - start);
}

class ServerHandlers : public ::testing::Test {
 protected:
  HttpResponse get(const std::string& target, std::optional<std::string_view> origin = std::nullopt) {
    return h_.handle("GET", target, origin, std::nullopt, "");
  }
  HttpResponse post(const std::string& body) {
    return h_.handle("POST", "/getToken", std::nullopt, std::nullopt, body);
  }
  // Decodes and verifies a token; returns its services.
  Decoded007 check(const std::string& token) {
    EXPECT_EQ(token.substr(0, 3), "007");
    Decoded007 d = decode_007(token);
    VerifyResult v = verify_token(token, kCert);
    EXPECT_TRUE(v.ok()) << v.reason;
    EXPECT_EQ(d.token.app_id, kId);
    return d;
  }
  RequestHandler h_{kId, kCert};
};

TEST_F(ServerHandlers, RtcPublisherByUid) {
  auto r = get("/rtc/lobby/publisher/uid/42/?expiry=600");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(header(r, "Content-Type"), "application/json; charset=utf-8");
  EXPECT_NE(header(r, "Cache-Control").find("no-store"), std::string::npos);
  EXPECT_EQ(header(r, "Pragma"), "no-cache");
  EXPECT_EQ(header(r, "Expires"), "0");
  auto d = check(member(r.body, "rtcToken"));
  EXPECT_EQ(d.token.expire, 600u);
  ASSERT_EQ(d.token.services.size(), 1u);
  const Service& s = d.token.services[0];
  EXPECT_EQ(s.type, kServiceRtc);
  EXPECT_EQ(s.fields, (std::vector<std::string>{"lobby", "42"}));
  EXPECT_EQ(s.privileges.size(), 4u);
  for (const auto& [id, value] : s.privileges) EXPECT_EQ(value, 600u) << id;
}

TEST_F(ServerHandlers, RtcUidZeroAndEmptyAreTheWildcardAndLeadingZerosDrop) {
  for (const char* t : {"/rtc/c/subscriber/uid/0/", "/rtc/c/2/uid//"}) {
    auto r = get(t);
    ASSERT_EQ(r.status, 200) << t;
    auto d = check(member(r.body, "rtcToken"));
    EXPECT_EQ(d.token.services[0].fields[1], "");
    EXPECT_EQ(d.token.services[0].privileges.size(), 1u);  // subscriber: join only
    EXPECT_EQ(d.token.expire, 3600u);
  }
  auto r = get("/rtc/c/1/uid/007/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(check(member(r.body, "rtcToken")).token.services[0].fields[1], "7");
  auto acct = get("/rtc/c/publisher/userAccount/0/");
  ASSERT_EQ(acct.status, 200);
  EXPECT_EQ(check(member(acct.body, "rtcToken")).token.services[0].fields[1], "0");
}

TEST_F(ServerHandlers, RtcErrorsUseTheReferenceMemberNames) {
  struct Case { const char* target; const char* key; };
  for (const Case& c : {Case{"/rtc/c/publisher/uid/0/?expiry=failing", "message"},
                        Case{"/rtc/c/publisher/uid/0/?expiry=", "message"},
                        Case{"/rtc/c/publisher/uid/test/", "error"},
                        Case{"/rtc/c/publisher/nonsense/0/", "error"},
                        Case{"/rtc/c/publisher/uid/4294967296/", "error"},         // D2
                        Case{"/rtc/c/publisher/uid/99999999999999999999/", "error"},
                        Case{"/rtc/c/admin/uid/1/", "message"},                    // D1
                        Case{"/rtc/c/publisher/uid/1/?expiry=0", "message"},       // D3
                        Case{"/rtc/c/publisher/uid/1/?expiry=86401", "message"},
                        Case{"/rtc/c/publisher/uid/1/?expiry=4294967896", "message"},
                        Case{"/rtc/c%0A/publisher/uid/1/", "message"},             // D4
                        Case{"/rtc/c/publisher/userAccount/%C3%A9/", "error"}}) {  // D5
    auto r = get(c.target);
    EXPECT_EQ(r.status, 400) << c.target;
    EXPECT_NE(member(r.body, c.key), "<absent>") << c.target << " " << r.body;
    EXPECT_NE(r.body.find("\"status\":400"), std::string::npos);
  }
  EXPECT_EQ(get("/rtc/" + std::string(65, 'a') + "/publisher/uid/1/").status, 400);
  EXPECT_EQ(get("/rtc/" + std::string(64, 'a') + "/publisher/uid/1/").status, 200);
  EXPECT_EQ(get("/rtc/c/publisher/userAccount/" + std::string(256, 'a') + "/").status, 400);
  EXPECT_EQ(get("/rtc/c/publisher/userAccount/" + std::string(255, 'a') + "/").status, 200);
  EXPECT_EQ(get("/rtc/c/publisher/uid/4294967295/").status, 200);
  EXPECT_EQ(get("/rtc/c/publisher/uid/1/?expiry=86400").status, 200);
  EXPECT_EQ(get("/rtc/c/publisher/uid/1/?expiry=1").status, 200);
}

TEST_F(ServerHandlers, Rtm) {
  auto r = get("/rtm/bob/?expiry=60");
  ASSERT_EQ(r.status, 200);
  auto d = check(member(r.body, "rtmToken"));
  ASSERT_EQ(d.token.services.size(), 1u);
  EXPECT_EQ(d.token.services[0].type, kServiceRtm);
  EXPECT_EQ(d.token.services[0].fields[0], "bob");
  EXPECT_EQ(d.token.expire, 60u);
  auto zero = get("/rtm/0/?expiry=bad");  // the id check wins over the expiry check
  EXPECT_EQ(zero.status, 400);
  EXPECT_NE(member(zero.body, "message").find("invalid RTM User ID"), std::string::npos);
  EXPECT_EQ(get("/rtm//").status, 400);
  EXPECT_EQ(get("/rtm/bob/?expiry=x").status, 400);
  EXPECT_EQ(get("/rtm/" + std::string(65, 'u') + "/").status, 400);  // D5
  EXPECT_EQ(get("/rtm/").status, 404);
}

TEST_F(ServerHandlers, RteBuildsBothTokens) {
  auto r = get("/rte/room/publisher/uid/2345/?expiry=900");
  ASSERT_EQ(r.status, 200) << r.body;
  auto rtc = check(member(r.body, "rtcToken"));
  EXPECT_EQ(rtc.token.services[0].fields, (std::vector<std::string>{"room", "2345"}));
  auto rtm = check(member(r.body, "rtmToken"));
  ASSERT_EQ(rtm.token.services.size(), 2u);
  EXPECT_EQ(rtm.token.services[0].type, kServiceRtc);
  EXPECT_EQ(rtm.token.services[0].fields, (std::vector<std::string>{"room", "2345"}));
  std::vector<std::uint16_t> ids;
  for (const auto& p : rtm.token.services[0].privileges) ids.push_back(p.first);
  EXPECT_EQ(ids, (std::vector<std::uint16_t>{1, 4}));
  EXPECT_EQ(rtm.token.services[1].type, kServiceRtm);
  EXPECT_EQ(rtm.token.services[1].fields[0], "2345");
  EXPECT_EQ(rtm.token.expire, 900u);

  auto explicit_id = get("/rte/room/subscriber/uid/0/alice/");
  ASSERT_EQ(explicit_id.status, 200);
  EXPECT_EQ(check(member(explicit_id.body, "rtmToken")).token.services[1].fields[0], "alice");
  EXPECT_EQ(check(member(explicit_id.body, "rtcToken")).token.services[0].fields[1], "");

  EXPECT_NE(member(get("/rte/room/publisher/uid/0/").body, "message"), "<absent>");
  EXPECT_EQ(get("/rte/room/publisher/uid/7/0/").status, 400);  // D6
  EXPECT_EQ(get("/rte/room/publisher/uid/7/?expiry=failing").status, 400);
  EXPECT_NE(member(get("/rte/room/publisher/uid/x/").body, "error"), "<absent>");
  EXPECT_EQ(get("/rte/room/owner/uid/7/").status, 400);  // D1
}

TEST_F(ServerHandlers, Chat) {
  auto app = get("/chat/app/?expiry=120");
  ASSERT_EQ(app.status, 200);
  auto d = check(member(app.body, "chatToken"));
  EXPECT_EQ(d.token.services[0].type, kServiceChat);
  EXPECT_EQ(d.token.services[0].fields[0], "");
  EXPECT_EQ(d.token.services[0].privileges.at(0).first, 2);
  auto user = get("/chat/account/u1/");
  ASSERT_EQ(user.status, 200);
  auto u = check(member(user.body, "chatToken"));
  EXPECT_EQ(u.token.services[0].fields[0], "u1");
  EXPECT_EQ(u.token.services[0].privileges.at(0).first, 1);
  EXPECT_EQ(get("/chat/app/?expiry=fail").status, 400);
  EXPECT_EQ(get("/chat/account/").status, 404);
  EXPECT_EQ(get("/chat/invalid/").status, 404);
}

TEST_F(ServerHandlers, PostGetToken) {
  auto r = post(R"({"tokenType":"rtc","channel":"c","role":"1","uid":"42","expire":300})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(header(r, "Content-Type"), "application/json");
  ASSERT_EQ(r.body.back(), '\n');
  auto d = check(member(r.body, "token"));
  EXPECT_EQ(d.token.expire, 300u);
  EXPECT_EQ(d.token.services[0].privileges.size(), 4u);

  auto acct = post(R"({"tokenType":"rtc","channel":"c","uid":"-5"})");
  ASSERT_EQ(acct.status, 200);
  auto a = check(member(acct.body, "token"));
  EXPECT_EQ(a.token.services[0].fields[1], "-5");
  EXPECT_EQ(a.token.services[0].privileges.size(), 1u);  // absent role = subscriber
  EXPECT_EQ(a.token.expire, 3600u);

  auto rtm = post(R"({"tokenType":"rtm","uid":"bob","channel":"stream*"})");
  ASSERT_EQ(rtm.status, 200) << rtm.body;
  EXPECT_EQ(check(member(rtm.body, "token")).token.services.size(), 2u);
  EXPECT_EQ(post(R"({"tokenType":"rtm","uid":"0"})").status, 200);
  auto chat_app = post(R"({"tokenType":"chat"})");
  ASSERT_EQ(chat_app.status, 200);
  EXPECT_EQ(check(member(chat_app.body, "token")).token.services[0].privileges.at(0).first, 2);
}

TEST_F(ServerHandlers, PostErrorsArePlainText) {
  for (const char* body : {"", "not json", "[]", R"({"tokenType":"x"})", "{}",
                           R"({"tokenType":"rtc","uid":"1"})", R"({"tokenType":"rtc","channel":"c"})",
                           R"({"tokenType":"rtm"})", R"({"tokenType":"rtc","channel":"c","uid":"1","role":"x"})",
                           R"({"tokenType":"rtc","channel":"c","uid":"4294967296"})",
                           R"({"tokenType":"rtc","channel":"c","uid":"18446744073709551616"})",
                           R"({"tokenType":"rtc","channel":"c","uid":"1","expire":-1})",
                           R"({"tokenType":"rtc","channel":"c","uid":"1","expire":86401})",
                           R"({"tokenType":"rtc","channel":"c","uid":"1","expire":"60"})",
                           R"({"tokenType":"rtc","channel":"bad/chan","uid":"1"})"}) {
    auto r = post(body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(header(r, "Content-Type"), "text/plain; charset=utf-8") << body;
    EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r.body.back(), '\n');
  }
  EXPECT_EQ(post("").body, "EOF\n");
  EXPECT_EQ(post(R"({"tokenType":"x"})").body, "Unsupported tokenType\n");
  EXPECT_EQ(post(R"({"tokenType":"rtc","uid":"1"})").body, "invalid: missing channel name\n");
  EXPECT_EQ(post(R"({"tokenType":"rtm"})").body, "invalid: missing user ID or account\n");
}

TEST_F(ServerHandlers, NotFoundRedirectsAndPreflight) {
  auto nf = get("/nope");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.body, "404 page not found");
  EXPECT_EQ(header(nf, "Content-Type"), "text/plain");
  EXPECT_EQ(header(nf, "Pragma"), "no-cache");
  EXPECT_EQ(h_.handle("HEAD", "/ping", std::nullopt, std::nullopt, "").status, 404);
  EXPECT_EQ(h_.handle("DELETE", "/ping", std::nullopt, std::nullopt, "").status, 404);
  auto redirect = get("/rtc/c/publisher/uid/1?expiry=60");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(header(redirect, "Location"), "/rtc/c/publisher/uid/1/?expiry=60");
  auto post_redirect = h_.handle("POST", "/getToken/", std::nullopt, std::nullopt, "{}");
  EXPECT_EQ(post_redirect.status, 307);
  auto pre = h_.handle("OPTIONS", "/anything", std::nullopt, std::nullopt, "");
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.body, "");
}

TEST(ServerHandlersCors, AllowedOriginIsEchoedRefusedOneGets403) {
  HandlerConfig cfg;
  cfg.cors_allow_origin = "http://a.example, http://b.example";
  RequestHandler h(kId, kCert, cfg);
  auto ok = h.handle("GET", "/ping", std::string_view("http://b.example"), std::nullopt, "");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(header(ok, "Access-Control-Allow-Origin"), "http://b.example");
  EXPECT_EQ(header(ok, "Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
  EXPECT_EQ(header(ok, "Access-Control-Allow-Headers"), "Origin, Content-Type");
  EXPECT_EQ(header(ok, "Vary"), "Origin");
  auto refused = h.handle("GET", "/rtc/c/publisher/uid/1/", std::string_view("http://evil"), std::nullopt, "");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.body, R"({"error":"Origin not allowed"})");
  EXPECT_EQ(header(refused, "Access-Control-Allow-Origin"), "<absent>");
  auto pre_refused = h.handle("OPTIONS", "/x", std::string_view("http://evil"), std::nullopt, "");
  EXPECT_EQ(pre_refused.status, 403);
  auto none = h.handle("GET", "/ping", std::nullopt, std::nullopt, "");  // D7
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(header(none, "Access-Control-Allow-Origin"), "<absent>");
}

TEST(ServerHandlersAuth, BearerGateExceptPingAndPreflight) {
  HandlerConfig cfg;
  cfg.auth_token = "s3cret";
  cfg.cors_allow_origin = "*";
  RequestHandler h(kId, kCert, cfg);
  auto no = h.handle("GET", "/rtm/bob/", std::nullopt, std::nullopt, "");
  EXPECT_EQ(no.status, 401);
  EXPECT_EQ(header(no, "WWW-Authenticate"), "Bearer");
  EXPECT_EQ(h.handle("GET", "/rtm/bob/", std::nullopt, std::string_view("Bearer wrong"), "").status, 401);
  EXPECT_EQ(h.handle("GET", "/rtm/bob/", std::nullopt, std::string_view("Bearer s3cre"), "").status, 401);
  EXPECT_EQ(h.handle("GET", "/rtm/bob/", std::nullopt, std::string_view("Basic s3cret"), "").status, 401);
  EXPECT_EQ(h.handle("GET", "/rtm/bob/", std::nullopt, std::string_view("Bearer s3cret"), "").status, 200);
  EXPECT_EQ(h.handle("GET", "/rtm/bob/", std::nullopt, std::string_view("bearer  s3cret "), "").status, 200);
  EXPECT_EQ(h.handle("POST", "/getToken", std::nullopt, std::nullopt, R"({"tokenType":"chat"})").status, 401);
  EXPECT_EQ(h.handle("GET", "/metrics", std::nullopt, std::nullopt, "").status, 401);
  EXPECT_EQ(h.handle("GET", "/ping", std::nullopt, std::nullopt, "").status, 200);
  auto pre = h.handle("OPTIONS", "/rtm/bob/", std::string_view("http://x"), std::nullopt, "");
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(header(pre, "Access-Control-Allow-Headers"), "Origin, Content-Type, Authorization");
}

TEST(ServerHandlersRaw, HttpLayerErrors) {
  HandlerConfig cfg;
  RequestHandler h(kId, kCert, cfg);
  std::string ok = h.handle_raw("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ok.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_NE(ok.find("{\"message\":\"pong\"}"), std::string::npos);
  EXPECT_EQ(h.handle_raw("GET /rtm/%zz/ HTTP/1.1\r\nHost: x\r\n\r\n").substr(0, 24), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(h.handle_raw("NOT HTTP\r\n\r\n").substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(h.handle_raw("GET /ping HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n").substr(0, 12),
            "HTTP/1.1 431");
  std::string big(70000, ' ');
  EXPECT_EQ(h.handle_raw("POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n" + big)
                .substr(0, 12),
            "HTTP/1.1 413");
  std::string post = h.handle_raw(
      "POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n{\"tokenType\":\"chat\"}");
  EXPECT_EQ(post.substr(0, 15), "HTTP/1.1 200 OK") << post;
  EXPECT_EQ(h.handle_raw("GET /ping HTTP/1.1\r\nHost: x\r\n").substr(0, 12), "HTTP/1.1 400");  // truncated
  // Truncated chunked bodies end (found by fuzzing: the parser makes no progress on them).
  for (const char* tail : {"", "5\r\n", "5\r\nab", "5\r\nabcde\r\n", "0\r\n"}) {
    std::string raw = std::string("POST /getToken HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") + tail;
    EXPECT_EQ(h.handle_raw(raw).substr(0, 12), "HTTP/1.1 400") << tail;
  }
  // RFC 9112 §6.3: Transfer-Encoding not ending in chunked cannot be framed: 400 (no smuggling).
  for (const char* te : {"gzip", "chunked, gzip", "xchunked", "identity", ""}) {
    std::string raw = std::string("POST /getToken HTTP/1.1\r\nTransfer-Encoding: ") + te +
                      "\r\n\r\nGET /rtm/smuggled/ HTTP/1.1\r\n\r\n";
    std::string out = h.handle_raw(raw);
    EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 400") << te;
    EXPECT_NE(out.find("Connection: close"), std::string::npos) << te;
  }
  std::string chunked = h.handle_raw(
      "POST /getToken HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n{\"tokenType\":\"chat\"}\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.substr(0, 15), "HTTP/1.1 200 OK") << chunked;
}

TEST(ServerHandlersSecrets, CertificateNeverInAnyResponseOrMetric) {
  HandlerConfig cfg;
  cfg.cors_allow_origin = "*";
  RequestHandler h(kId, kCert, cfg);
  std::string all;
  for (const char* t : {"/rtc/c/publisher/uid/1/", "/rtc/c/x/uid/1/", "/rtm/0/", "/chat/app/?expiry=0",
                        "/rte/c/publisher/uid/0/", "/metrics", "/nope"}) {
    auto r = h.handle("GET", t, std::string_view("http://o"), std::nullopt, "");
    all += r.body;
    for (const auto& [k, v] : r.headers) all += k + v;
  }
  all += h.metrics_text();
  std::string lower_cert = kCert;
  std::transform(lower_cert.begin(), lower_cert.end(), lower_cert.begin(), ::tolower);
  std::string lower_all = all;
  std::transform(lower_all.begin(), lower_all.end(), lower_all.begin(), ::tolower);
  EXPECT_EQ(lower_all.find(lower_cert), std::string::npos);
  EXPECT_THROW(RequestHandler("bad", kCert), std::exception);
}

}  // namespace
}  // namespace mintlane::server
