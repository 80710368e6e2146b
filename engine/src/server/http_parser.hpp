// http_parser.hpp - an allocation-free HTTP/1.x request parser on Beast's basic_parser: it keeps
// only what the handlers use (method, target, Origin, Authorization, Expect, body) in a
// per-connection RequestData whose buffers are reused from request to request.
#pragma once
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <cstdint>
#include <string>

#include "server/message.hpp"

namespace mintlane::server {

struct RequestData {
  Method method = Method::kGet;
  int version = 11;
  std::string target;
  std::string origin;
  std::string authorization;
  std::string body;
  bool has_origin = false;
  bool has_authorization = false;
  bool expect_continue = false;
  bool has_transfer_encoding = false;

  void clear() noexcept {
    method = Method::kGet;
    version = 11;
    target.clear();
    origin.clear();
    authorization.clear();
    body.clear();
    has_origin = has_authorization = expect_continue = has_transfer_encoding = false;
  }
  RequestView view() const noexcept {
    RequestView v;
    v.method = method;
    v.target = target;
    if (has_origin) v.origin = std::string_view(origin);
    if (has_authorization) v.authorization = std::string_view(authorization);
    v.body = body;
    return v;
  }
};

// One parser per request (Beast parsers are single-use); constructing one does not allocate.
class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  RequestParser(RequestData& data, std::uint32_t header_limit, std::uint64_t body_limit)
      : data_(data) {
    data_.clear();
    this->header_limit(header_limit);
    this->body_limit(body_limit);
  }

 private:
  using ec_t = boost::beast::error_code;
  using sv_t = boost::beast::string_view;
  void on_request_impl(boost::beast::http::verb, sv_t method, sv_t target, int version,
                       ec_t&) override;
  void on_response_impl(int, sv_t, int, ec_t&) override {}
  void on_field_impl(boost::beast::http::field name, sv_t, sv_t value, ec_t&) override;
  void on_header_impl(ec_t& ec) override;
  void on_body_init_impl(boost::optional<std::uint64_t> const& length, ec_t&) override;
  std::size_t on_body_impl(sv_t body, ec_t&) override;
  void on_chunk_header_impl(std::uint64_t, sv_t, ec_t&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, sv_t body, ec_t&) override;
  void on_finish_impl(ec_t&) override {}

  RequestData& data_;
};

// 431 for header_limit, 413 for body_limit, 400 for every other parse error.
int status_for_parse_error(const boost::beast::error_code& ec) noexcept;

}  // namespace mintlane::server
