// handlers.hpp - the token server's request pipeline without sockets: route, no-cache headers,
// CORS filter, auth gate, handler (TOKEN_SERVER.md §3-§8, D1-D9). The network server, the
// in-process RequestHandler (ASGI) and the fuzz target all call Handlers::handle.
#pragma once
#include <string>
#include <string_view>

#include "mintlane/server.hpp"
#include "server/cors.hpp"
#include "server/json_body.hpp"
#include "server/message.hpp"

namespace mintlane {
class Minter;
}

namespace mintlane::server {

class Metrics;
struct ConnectionStats;

// Buffers one connection (or call) reuses across requests, so steady traffic does not allocate.
struct HandlerScratch {
  std::string decoded_path;
  std::string query_key;
  std::string query_value;
  std::string message;
  TokenRequestBody body;
};

class Handlers {
 public:
  // `minter` must outlive this object. `metrics`/`connections` (optional) feed GET /metrics.
  Handlers(const Minter& minter, const HandlerConfig& config, const Metrics* metrics = nullptr,
           const ConnectionStats* connections = nullptr);

  // Fills `r` (cleared first) with the answer to `req`. Never throws: a failure inside minting
  // becomes a 500 without details.
  void handle(const RequestView& req, Response& r, HandlerScratch& scratch) const noexcept;

  // The HTTP layer's own answers (no middleware, connection closed): 400 malformed request,
  // 413 body over the limit, 431 header over the limit, 503 over the connection limit,
  // 408 request timeout.
  void http_error(int status, Response& r) const;

  const CorsPolicy& cors() const noexcept { return cors_; }
  std::size_t body_limit() const noexcept { return body_limit_; }

 private:
  void dispatch(const RequestView& req, Response& r, HandlerScratch& s, RouteId route,
                const std::string_view* params, std::size_t nparams, std::string_view query) const;
  void get_rtc(Response& r, HandlerScratch& s, const std::string_view* p, std::string_view query) const;
  void get_rtm(Response& r, HandlerScratch& s, const std::string_view* p, std::string_view query) const;
  void get_rte(Response& r, HandlerScratch& s, const std::string_view* p, std::size_t n,
               std::string_view query) const;
  void get_chat(Response& r, HandlerScratch& s, const std::string_view* p, bool app,
                std::string_view query) const;
  void post_get_token(const RequestView& req, Response& r, HandlerScratch& s) const;
  bool authorized(std::optional<std::string_view> authorization) const noexcept;

  const Minter& minter_;
  CorsPolicy cors_;
  std::string auth_token_;  // empty = no gate
  std::string allow_headers_;
  std::size_t body_limit_;
  bool metrics_route_;
  const Metrics* metrics_;
  const ConnectionStats* connections_;
};

// Appends `s` as JSON string content (without quotes), escaping '"', '\\' and control bytes.
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace mintlane::server
