// row_format.cpp - pool rows in every output format (CSV per RFC 4180, JSON per RFC 8259, vegeta's
// JSON target format, URLs percent-encoded per RFC 3986 §2.3).
#include "bulk/row_format.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "mintlane/errors.hpp"

namespace mintlane::bulk {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

inline char* put(char* out, std::string_view s) noexcept {
  std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

// Channels and accounts are validated to Agora's character set, which has no '"', '\' or control
// characters; escaping is kept so that the writer can never emit broken JSON whatever it is given.
char* put_json_text(char* out, std::string_view s) noexcept {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      *out++ = '\\';
      *out++ = static_cast<char>(c);
    } else if (c < 0x20) {
      out = put(out, "\\u00");
      *out++ = kHex[c >> 4];
      *out++ = kHex[c & 15];
    } else {
      *out++ = static_cast<char>(c);
    }
  }
  return out;
}

std::string json_escaped(std::string_view s) {
  std::string out(s.size() * 6, '\0');
  out.resize(static_cast<std::size_t>(put_json_text(out.data(), s) - out.data()));
  return out;
}

// RFC 4180: quote a field holding a comma, quote or line break, doubling quotes.
char* put_csv_text(char* out, std::string_view s) noexcept {
  bool quote = false;
  for (const char c : s)
    if (c == ',' || c == '"' || c == '\n' || c == '\r') quote = true;
  if (!quote) return put(out, s);
  *out++ = '"';
  for (const char c : s) {
    if (c == '"') *out++ = '"';
    *out++ = c;
  }
  *out++ = '"';
  return out;
}

bool unreserved(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

char* put_percent(char* out, std::string_view s) noexcept {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      *out++ = static_cast<char>(c);
    } else {
      *out++ = '%';
      *out++ = kHex[c >> 4];
      *out++ = kHex[c & 15];
    }
  }
  return out;
}

inline char* put_u64(char* out, std::uint64_t v) noexcept { return out + write_u64(v, out); }

inline char* put_issued(char* out, const RowFields& r) noexcept {
  return r.issued_text.empty() ? put_u64(out, r.issued_at) : put(out, r.issued_text);
}
inline char* put_expires(char* out, const RowFields& r) noexcept {
  return r.expires_text.empty() ? put_u64(out, std::uint64_t{r.issued_at} + r.expire) : put(out, r.expires_text);
}

std::string_view role_text(RtcRole r) noexcept { return r == RtcRole::kPublisher ? "publisher" : "subscriber"; }

std::vector<RowFormatter::Segment> parse_template(std::string_view t, const char* field) {
  using F = RowFormatter::Field;
  struct Name {
    std::string_view name;
    F field;
  };
  static constexpr Name kNames[] = {{"channel", F::kChannel},     {"uid", F::kUid},           {"account", F::kAccount},
                                    {"user", F::kUser},           {"role", F::kRole},         {"token", F::kToken},
                                    {"expire", F::kExpire},       {"issued_at", F::kIssuedAt}, {"expires_at", F::kExpiresAt},
                                    {"tokentype", F::kTokenType}};
  std::vector<RowFormatter::Segment> out;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) out.push_back({F::kLiteral, json_escaped(literal)});
    literal.clear();
  };
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '{' && i + 1 < t.size() && t[i + 1] == '{') {
      literal.push_back('{');
      ++i;
    } else if (c == '}' && i + 1 < t.size() && t[i + 1] == '}') {
      literal.push_back('}');
      ++i;
    } else if (c == '{') {
      const std::size_t close = t.find('}', i);
      if (close == std::string_view::npos)
        throw InvalidArgument(field, std::string(field) + ": unclosed '{' at offset " + std::to_string(i) +
                                         " (write {{ for a literal brace)");
      const std::string_view name = t.substr(i + 1, close - i - 1);
      F f = F::kLiteral;
      for (const Name& n : kNames)
        if (n.name == name) f = n.field;
      if (f == F::kLiteral)
        throw InvalidArgument(field, std::string(field) + ": unknown placeholder {" + std::string(name) +
                                         "} (use {channel}, {uid}, {account}, {user}, {role}, {token}, {expire}, "
                                         "{issued_at}, {expires_at} or {tokentype})");
      flush();
      out.push_back({f, {}});
      i = close;
    } else if (c == '}') {
      throw InvalidArgument(field, std::string(field) + ": stray '}' at offset " + std::to_string(i) +
                                       " (write }} for a literal brace)");
    } else {
      literal.push_back(c);
    }
  }
  flush();
  return out;
}

}  // namespace

std::size_t write_u64(std::uint64_t v, char* out) noexcept {
  char tmp[20];
  std::size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (std::size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

RowFormatter::RowFormatter(Format format, const VegetaOptions& vegeta) : format_(format) {
  if (format != Format::kVegeta) return;
  if (vegeta.url.empty())
    throw InvalidArgument("vegeta_url", "vegeta_url: the vegeta format needs a URL template, e.g. "
                                        "http://127.0.0.1:8080/rtc/{channel}/{role}/{tokentype}/{user}/");
  if (vegeta.url.rfind("http://", 0) != 0 && vegeta.url.rfind("https://", 0) != 0)
    throw InvalidArgument("vegeta_url", "vegeta_url: must start with http:// or https://");
  for (const char c : vegeta.url)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      throw InvalidArgument("vegeta_url", "vegeta_url: spaces and non-ASCII characters must be percent-encoded");
  if (vegeta.method.empty() || vegeta.method.size() > 16)
    throw InvalidArgument("vegeta_method", "vegeta_method: must be an HTTP method such as GET or POST");
  for (const char c : vegeta.method)
    if (!(c >= 'A' && c <= 'Z'))
      throw InvalidArgument("vegeta_method", "vegeta_method: must be upper-case letters, e.g. GET");
  method_json_ = vegeta.method;
  url_ = parse_template(vegeta.url, "vegeta_url");
  for (const auto& [name, value] : vegeta.headers) {
    if (name.empty()) throw InvalidArgument("vegeta_header", "vegeta_header: empty header name (use 'Name: value')");
    for (const char c : name)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr))
        throw InvalidArgument("vegeta_header", "vegeta_header: " + json_escaped(name) +
                                                   " is not a valid header name (RFC 9110 token characters)");
    for (const char c : value)
      if (c == '\r' || c == '\n')
        throw InvalidArgument("vegeta_header", "vegeta_header: a header value must not contain a line break");
    const std::string key = json_escaped(name);
    auto it = std::find_if(headers_.begin(), headers_.end(), [&](const auto& h) { return h.first == key; });
    if (it == headers_.end()) it = headers_.insert(headers_.end(), {key, {}});
    it->second.push_back(parse_template(value, "vegeta_header"));
  }
}

std::string RowFormatter::header() const {
  switch (format_) {
    case Format::kCsv: return "channel,uid,account,role,token,issued_at,expires_at\n";
    case Format::kLocust: return "user,channel,role,token,expires_at\n";
    case Format::kK6: return "[\n";
    default: return {};
  }
}

std::string RowFormatter::footer() const { return format_ == Format::kK6 ? "\n]\n" : std::string(); }

std::vector<std::string> RowFormatter::columns() const {
  switch (format_) {
    case Format::kCsv: return {"channel", "uid", "account", "role", "token", "issued_at", "expires_at"};
    case Format::kLocust: return {"user", "channel", "role", "token", "expires_at"};
    case Format::kVegeta: return {"method", "url", "header"};
    default: return {"channel", "uid|account", "role", "token", "issued_at", "expires_at"};
  }
}

std::size_t RowFormatter::template_bound(const std::vector<Segment>& tmpl, const RowFields& r) const noexcept {
  // Worst case per value: every byte percent-encoded (3x) or JSON-escaped (\u00XX, 6x).
  std::size_t n = 0;
  for (const Segment& s : tmpl) {
    switch (s.field) {
      case Field::kLiteral: n += s.text.size(); break;
      case Field::kChannel: n += 6 * r.channel.size(); break;
      case Field::kUid: case Field::kAccount: case Field::kUser: n += 6 * r.user.size(); break;
      case Field::kToken: n += 3 * r.token.size(); break;
      default: n += 24; break;
    }
  }
  return n;
}

std::size_t RowFormatter::bound(const RowFields& r) const noexcept {
  const std::size_t values = 6 * (r.channel.size() + r.user.size()) + r.token.size();
  if (format_ != Format::kVegeta) return values + 160;
  std::size_t n = 64 + method_json_.size() + template_bound(url_, r);
  for (const auto& [name, values] : headers_) {
    n += name.size() + 8;
    for (const auto& value : values) n += 4 + template_bound(value, r);
  }
  return n;
}

std::size_t RowFormatter::render(const std::vector<Segment>& tmpl, const RowFields& r, bool percent,
                                 char* out) const noexcept {
  char* p = out;
  auto value = [&](std::string_view v) { p = percent ? put_percent(p, v) : put_json_text(p, v); };
  for (const Segment& s : tmpl) {
    switch (s.field) {
      case Field::kLiteral: p = put(p, s.text); break;
      case Field::kChannel: value(r.channel); break;
      case Field::kUid: if (!r.is_account) value(r.user); break;
      case Field::kAccount: if (r.is_account) value(r.user); break;
      case Field::kUser: value(r.user); break;
      case Field::kRole: p = put(p, role_text(r.role)); break;
      case Field::kToken: value(r.token); break;
      case Field::kExpire: p = put_u64(p, r.expire); break;
      case Field::kIssuedAt: p = put_u64(p, r.issued_at); break;
      case Field::kExpiresAt: p = put_u64(p, std::uint64_t{r.issued_at} + r.expire); break;
      case Field::kTokenType: p = put(p, r.is_account ? std::string_view("userAccount") : std::string_view("uid")); break;
    }
  }
  return static_cast<std::size_t>(p - out);
}

std::size_t RowFormatter::format(const RowFields& r, bool first, char* out) const noexcept {
  char* p = out;
  switch (format_) {
    case Format::kCsv:
      p = put_csv_text(p, r.channel);
      *p++ = ',';
      if (!r.is_account) p = put(p, r.user);
      *p++ = ',';
      if (r.is_account) p = put_csv_text(p, r.user);
      *p++ = ',';
      p = put(p, role_text(r.role));
      *p++ = ',';
      p = put(p, r.token);
      *p++ = ',';
      p = put_issued(p, r);
      *p++ = ',';
      p = put_expires(p, r);
      *p++ = '\n';
      break;
    case Format::kLocust:
      p = put_csv_text(p, r.user);
      *p++ = ',';
      p = put_csv_text(p, r.channel);
      *p++ = ',';
      p = put(p, role_text(r.role));
      *p++ = ',';
      p = put(p, r.token);
      *p++ = ',';
      p = put_expires(p, r);
      *p++ = '\n';
      break;
    case Format::kJsonl:
    case Format::kK6:
      if (format_ == Format::kK6 && !first) p = put(p, ",\n");
      p = put(p, "{\"channel\":\"");
      p = put_json_text(p, r.channel);
      if (r.is_account) {
        p = put(p, "\",\"account\":\"");
        p = put_json_text(p, r.user);
        p = put(p, "\",\"role\":\"");
      } else {
        p = put(p, "\",\"uid\":");
        p = put(p, r.user);
        p = put(p, ",\"role\":\"");
      }
      p = put(p, role_text(r.role));
      p = put(p, "\",\"token\":\"");
      p = put(p, r.token);  // base64 + "007": nothing to escape
      p = put(p, "\",\"issued_at\":");
      p = put_issued(p, r);
      p = put(p, ",\"expires_at\":");
      p = put_expires(p, r);
      *p++ = '}';
      if (format_ == Format::kJsonl) *p++ = '\n';
      break;
    case Format::kVegeta:
      p = put(p, "{\"method\":\"");
      p = put(p, method_json_);
      p = put(p, "\",\"url\":\"");
      p += render(url_, r, true, p);
      *p++ = '"';
      if (!headers_.empty()) {
        p = put(p, ",\"header\":{");
        bool sep = false;
        for (const auto& [name, values] : headers_) {
          if (sep) *p++ = ',';
          sep = true;
          *p++ = '"';
          p = put(p, name);
          p = put(p, "\":[");
          for (std::size_t v = 0; v < values.size(); ++v) {
            p = put(p, v == 0 ? std::string_view("\"") : std::string_view(",\""));
            p += render(values[v], r, false, p);
            *p++ = '"';
          }
          *p++ = ']';
        }
        *p++ = '}';
      }
      p = put(p, "}\n");
      break;
  }
  return static_cast<std::size_t>(p - out);
}

}  // namespace mintlane::bulk
