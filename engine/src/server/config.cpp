// config.cpp - server configuration: validation and the environment rules of the reference
// service (TOKEN_SERVER.md §2; D8: malformed credentials refuse to start).
#include <boost/asio/ip/address.hpp>
#include <fstream>
#include <sstream>

#include "mintlane/credentials.hpp"
#include "mintlane/server.hpp"

extern char** environ;

namespace mintlane::server {
namespace {

[[noreturn]] void fail(const std::string& message) { throw ConfigError(message); }

// Describes why a credential is not 32 hex characters without showing its value.
void check_credential(const std::map<std::string, std::string>& env, const char* name,
                      std::string& out) {
  auto it = env.find(name);
  if (it == env.end()) {
    fail(std::string(name) + " is not set (export it or put it in .env: 32 hexadecimal characters)");
  }
  const std::string& v = it->second;
  if (v.empty()) fail(std::string(name) + " is empty (it must be 32 hexadecimal characters)");
  if (!is_hex32(v)) {
    if (v.size() != 32) {
      fail(std::string(name) + " must be exactly 32 hexadecimal characters (got " +
           std::to_string(v.size()) + " characters)");
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      const char c = v[i];
      const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex) {
        fail(std::string(name) + " must be exactly 32 hexadecimal characters (character " +
             std::to_string(i + 1) + " is not 0-9 a-f A-F)");
      }
    }
    fail(std::string(name) + " must be exactly 32 hexadecimal characters");
  }
  out = v;
}

std::uint16_t parse_port(const std::string& name, const std::string& value) {
  std::uint32_t port = 0;
  bool ok = !value.empty() && value.size() <= 5;
  for (char c : value) {
    if (c < '0' || c > '9') {
      ok = false;
      break;
    }
    port = port * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (!ok || port > 65535) fail(name + " must be a port number in 0..65535");
  return static_cast<std::uint16_t>(port);
}

}  // namespace

void validate_server_config(const ServerConfig& c) {
  if (c.threads > 1024) fail("threads must be in 0..1024 (0 = one per core)");
  if (c.header_limit < 1024 || c.header_limit > (1u << 20)) {
    fail("header_limit must be in 1024..1048576 bytes");
  }
  if (c.handler.body_limit < 1 || c.handler.body_limit > (64u << 20)) {
    fail("body_limit must be in 1..67108864 bytes");
  }
  auto positive = [](std::chrono::milliseconds t, const char* name) {
    if (t.count() <= 0) fail(std::string(name) + " must be positive");
  };
  positive(c.header_read_timeout, "header_read_timeout");
  positive(c.body_read_timeout, "body_read_timeout");
  positive(c.idle_timeout, "idle_timeout");
  positive(c.write_timeout, "write_timeout");
  if (c.max_connections < 1) fail("max_connections must be at least 1");
  if (c.listen_backlog < 1) fail("listen_backlog must be at least 1");
  if (!c.host.empty()) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(c.host, ec);
    if (ec) fail("host must be an IPv4 or IPv6 address (e.g. 0.0.0.0, 127.0.0.1 or ::)");
  }
  if (c.handler.auth_token) {
    const std::string& t = *c.handler.auth_token;
    if (t.size() > 4096) fail("MINTLANE_AUTH_TOKEN must be at most 4096 characters");
    for (char ch : t) {
      if (ch <= 0x20 || ch >= 0x7f) {
        fail("MINTLANE_AUTH_TOKEN must be printable ASCII without spaces");
      }
    }
  }
}

EnvSettings load_server_config_from_env(
    const std::string& env_file, const std::optional<std::map<std::string, std::string>>& environ_in) {
  std::map<std::string, std::string> env;
  if (environ_in) {
    env = *environ_in;
  } else {
    for (char** e = ::environ; e != nullptr && *e != nullptr; ++e) {
      std::string_view kv(*e);
      std::size_t eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  EnvSettings out;
  if (!env_file.empty()) {
    std::ifstream in(env_file, std::ios::binary);
    if (in) {
      std::ostringstream text;
      text << in.rdbuf();
      // The process environment wins for every variable it defines, even as empty (godotenv.Load).
      std::map<std::string, std::string> from_file;
      for (auto& [k, v] : parse_dotenv(text.str(), env_file)) from_file[k] = std::move(v);
      for (auto& [k, v] : from_file) env.emplace(k, std::move(v));
      out.env_file_loaded = true;
    }
  }
  check_credential(env, "APP_ID", out.app_id);
  check_credential(env, "APP_CERTIFICATE", out.app_certificate);
  auto non_empty = [&](const char* name) -> const std::string* {
    auto it = env.find(name);
    return it != env.end() && !it->second.empty() ? &it->second : nullptr;
  };
  if (const std::string* p = non_empty("SERVER_PORT")) {
    out.config.port = parse_port("SERVER_PORT", *p);
  } else if (const std::string* q = non_empty("PORT")) {
    out.config.port = parse_port("PORT", *q);
  } else {
    out.config.port = 8080;
  }
  if (const std::string* c = non_empty("CORS_ALLOW_ORIGIN")) out.config.handler.cors_allow_origin = *c;
  if (const std::string* a = non_empty("MINTLANE_AUTH_TOKEN")) out.config.handler.auth_token = *a;
  validate_server_config(out.config);
  return out;
}

}  // namespace mintlane::server
