// request_handler.cpp - RequestHandler: the server's pipeline callable in process (ASGI front,
// tests, fuzzing), with the same parser, handlers and response writer as the network server.
#include <chrono>

#include "mintlane/minter.hpp"
#include "mintlane/server.hpp"
#include "server/handlers.hpp"
#include "server/http_parser.hpp"
#include "server/metrics.hpp"

namespace mintlane::server {

struct RequestHandler::Impl {
  Impl(std::string_view app_id, std::string_view cert, const HandlerConfig& cfg)
      : config(cfg),
        minter(app_id, cert, MinterOptions{Compression::kFast, 1}),
        metrics(0),
        handlers(minter, config, &metrics, nullptr) {}
  HandlerConfig config;
  Minter minter;
  Metrics metrics;
  Handlers handlers;
};

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Splits a serialized response back into status, headers and body.
HttpResponse to_http_response(const Response& r) {
  std::string wire;
  write_response(r, /*keep_alive=*/true, /*date=*/{}, wire);
  HttpResponse out;
  out.status = r.status;
  std::string_view rest(wire);
  rest.remove_prefix(rest.find("\r\n") + 2);  // status line
  for (;;) {
    const std::size_t eol = rest.find("\r\n");
    if (eol == 0) {
      rest.remove_prefix(2);
      break;
    }
    std::string_view line = rest.substr(0, eol);
    const std::size_t colon = line.find(": ");
    out.headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
    rest.remove_prefix(eol + 2);
  }
  out.body.assign(rest);
  return out;
}

}  // namespace

RequestHandler::RequestHandler(std::string_view app_id, std::string_view app_certificate,
                               HandlerConfig config) {
  ServerConfig probe;
  probe.handler = config;
  validate_server_config(probe);
  impl_ = std::make_unique<Impl>(app_id, app_certificate, config);
}

RequestHandler::~RequestHandler() = default;

HttpResponse RequestHandler::handle(std::string_view method, std::string_view target,
                                    std::optional<std::string_view> origin,
                                    std::optional<std::string_view> authorization,
                                    std::string_view body) const {
  const std::int64_t start = now_ns();
  RequestView v;
  v.method = method_from_string(method);
  v.target = target;
  v.origin = origin;
  v.authorization = authorization;
  v.body = body;
  v.body_too_large = body.size() > impl_->config.body_limit;
  HandlerScratch scratch;
  Response r;
  impl_->handlers.handle(v, r, scratch);
  impl_->metrics.shared().record(r.route, r.status, static_cast<std::uint64_t>(now_ns() - start),
                                 r.tokens_rtc, r.tokens_rtm, r.tokens_chat);
  return to_http_response(r);
}

std::string RequestHandler::handle_raw(std::string_view raw) const {
  RequestData data;
  HandlerScratch scratch;
  Response r;
  RequestParser parser(data, 16 * 1024, impl_->config.body_limit);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t offset = 0;
  while (!parser.is_done()) {
    if (offset >= raw.size()) {
      parser.put_eof(ec);  // the input ends here
      if (!ec && !parser.is_done()) ec = boost::beast::http::error::partial_message;
      break;
    }
    const std::size_t used =
        parser.put(boost::asio::buffer(raw.data() + offset, raw.size() - offset), ec);
    offset += used;
    if (!ec && used == 0) offset = raw.size();  // no progress: treat the rest as missing (fuzz-found hang)
    if (ec == boost::beast::http::error::need_more) {
      ec = {};
      if (used == 0) offset = raw.size();  // a message part longer than what is left
      continue;
    }
    if (ec) break;
    if (used == 0) offset = raw.size();  // no progress: treat the rest as missing
  }
  bool keep_alive = false;
  if (ec) {
    impl_->handlers.http_error(status_for_parse_error(ec), r);
  } else {
    impl_->handlers.handle(data.view(), r, scratch);
    keep_alive = parser.keep_alive();
  }
  impl_->metrics.shared().record(r.route, r.status, 0, r.tokens_rtc, r.tokens_rtm, r.tokens_chat);
  std::string out;
  write_response(r, keep_alive, {}, out);
  return out;
}

std::string RequestHandler::metrics_text() const { return impl_->metrics.render(nullptr); }

}  // namespace mintlane::server
