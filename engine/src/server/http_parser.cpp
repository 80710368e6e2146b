// http_parser.cpp - request fields the token server needs, from Beast's HTTP/1.x parser
// (RFC 9112). Only the first Origin / Authorization header counts (like Go's Header.Get).
#include "server/http_parser.hpp"

namespace mintlane::server {
namespace http = boost::beast::http;

namespace {
bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}
}  // namespace

void RequestParser::on_request_impl(http::verb, sv_t method, sv_t target, int version, ec_t&) {
  data_.method = method_from_string(std::string_view(method.data(), method.size()));
  data_.target.assign(target.data(), target.size());
  data_.version = version;
}

void RequestParser::on_field_impl(http::field name, sv_t, sv_t value, ec_t&) {
  switch (name) {
    case http::field::origin:
      if (!data_.has_origin) {
        data_.origin.assign(value.data(), value.size());
        data_.has_origin = true;
      }
      break;
    case http::field::authorization:
      if (!data_.has_authorization) {
        data_.authorization.assign(value.data(), value.size());
        data_.has_authorization = true;
      }
      break;
    case http::field::transfer_encoding:
      data_.has_transfer_encoding = true;
      break;
    case http::field::expect:
      if (iequals(std::string_view(value.data(), value.size()), "100-continue")) {
        data_.expect_continue = true;
      }
      break;
    default:
      break;
  }
}

void RequestParser::on_header_impl(ec_t& ec) {
  // RFC 9112 §6.3 (4): a request whose Transfer-Encoding does not end in "chunked" has no
  // determinable length; reading it as body-less would let the next bytes pass as a new request
  // (request smuggling behind a proxy). 400 and close.
  if (data_.has_transfer_encoding && !this->chunked()) ec = http::error::bad_transfer_encoding;
}

void RequestParser::on_body_init_impl(boost::optional<std::uint64_t> const& length, ec_t&) {
  // Beast has already refused a Content-Length above body_limit (error::body_limit).
  if (length) data_.body.reserve(static_cast<std::size_t>(*length));
}

std::size_t RequestParser::on_body_impl(sv_t body, ec_t&) {
  data_.body.append(body.data(), body.size());
  return body.size();
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, sv_t body, ec_t&) {
  data_.body.append(body.data(), body.size());
  return body.size();
}

int status_for_parse_error(const boost::beast::error_code& ec) noexcept {
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::body_limit) return 413;
  return 400;
}

}  // namespace mintlane::server
