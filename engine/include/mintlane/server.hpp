// server.hpp - the token server: configuration, an in-process request handler and the
// Boost.Beast HTTP/1.1 server behind `mintlane serve` (spec/TOKEN_SERVER.md, DESIGN.md "Server").
//
// Routes, parameter rules, CORS and error shapes follow TOKEN_SERVER.md §3-§8 with the deviations
// D1-D10 of §9. The certificate never appears in any message, log line or metric.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mintlane::server {

// A configuration value is missing or breaks its rule. what() is one line naming the variable
// (e.g. "APP_CERTIFICATE must be exactly 32 hexadecimal characters (got 31)"); it never contains
// the certificate's value.
class ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// What the request handler needs besides the credentials. Shared by Server and RequestHandler.
struct HandlerConfig {
  // CORS_ALLOW_ORIGIN as given: nullopt/empty = no origin allowed (requests without Origin are
  // still served, D7); "*" = any origin; otherwise a comma-separated list of exact origins whose
  // entries are trimmed of surrounding whitespace (D7).
  std::optional<std::string> cors_allow_origin;
  // MINTLANE_AUTH_TOKEN: when set (non-empty), every route except /ping and CORS preflights needs
  // "Authorization: Bearer <token>" or gets 401.
  std::optional<std::string> auth_token;
  std::size_t body_limit = 64 * 1024;  // D9: larger bodies get 413
  bool metrics_route = true;           // GET /metrics (Prometheus text)
};

struct ServerConfig {
  std::string host = "0.0.0.0";  // IP address; "::" or "" = all interfaces, IPv4 and IPv6
  std::uint16_t port = 8080;     // 0 = an ephemeral port (see Server::port())
  unsigned threads = 0;          // io_contexts, one thread each; 0 = one per core
  HandlerConfig handler;
  std::size_t header_limit = 16 * 1024;  // request line + headers; larger gets 431
  // A request's header must arrive within this time of its first byte (slow-loris guard).
  std::chrono::milliseconds header_read_timeout{10'000};
  // Its body must arrive within this time of the end of its header.
  std::chrono::milliseconds body_read_timeout{10'000};
  // A connection with no request in progress is closed after this time (keep-alive idle).
  std::chrono::milliseconds idle_timeout{60'000};
  // A response must be taken by the client within this time.
  std::chrono::milliseconds write_timeout{10'000};
  std::size_t max_connections = 10'000;  // beyond it new connections get 503 and are closed
  std::size_t listen_backlog = 1024;
  bool access_log = false;              // one JSON line per request; off by default
  std::string access_log_path;          // "" or "-" = stderr; else a file opened for append
};

// Checks ranges and combinations (threads <= 1024, limits > 0, timeouts > 0, valid host);
// throws ConfigError naming the field.
void validate_server_config(const ServerConfig& config);

// Variables of a `.env` file (KEY=value lines, `export KEY=value`, '#' comments, single- and
// double-quoted values, ${VAR} expansion in unquoted and double-quoted values), in file order.
// Throws ConfigError naming the file and line for a malformed line.
std::vector<std::pair<std::string, std::string>> parse_dotenv(std::string_view text,
                                                              std::string_view file_name = ".env");

// Result of reading the environment like the reference service (TOKEN_SERVER.md §2).
struct EnvSettings {
  std::string app_id;
  std::string app_certificate;  // never printed; wiped by the caller's Credentials
  ServerConfig config;
  bool env_file_loaded = false;
};

// Reads `env_file` (when non-empty and present; a missing file is not an error) and `environ`
// (the process environment when nullopt), the process environment winning over the file for
// every variable it defines (even as empty). Then:
//  * APP_ID / APP_CERTIFICATE: missing or empty -> ConfigError; not exactly 32 hex -> ConfigError
//    (D8);
//  * port: SERVER_PORT if non-empty, else PORT if non-empty, else 8080; must be a decimal
//    0..65535, else ConfigError naming the variable used;
//  * CORS_ALLOW_ORIGIN -> handler.cors_allow_origin (unset or empty = none);
//  * MINTLANE_AUTH_TOKEN -> handler.auth_token (unset or empty = no gate).
EnvSettings load_server_config_from_env(
    const std::string& env_file,
    const std::optional<std::map<std::string, std::string>>& environ = std::nullopt);

// One HTTP response as the handler produced it (used by the ASGI front and tests).
struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // in wire order, Content-Length included
  std::string body;
};

// The routing rules and handlers without any socket: the same code the network server runs.
// Thread-safe (const); each calling thread gets its own minting scratch from the Minter.
class RequestHandler {
 public:
  // Throws InvalidArgument (credentials, D8) or ConfigError (handler config).
  RequestHandler(std::string_view app_id, std::string_view app_certificate,
                 HandlerConfig config = {});
  ~RequestHandler();
  RequestHandler(const RequestHandler&) = delete;
  RequestHandler& operator=(const RequestHandler&) = delete;

  // Handles one request. `target` is the raw request-target (path and query, percent-encoded).
  // `origin` / `authorization` are nullopt when the header is absent. Bodies over the body limit
  // get 413 here too.
  HttpResponse handle(std::string_view method, std::string_view target,
                      std::optional<std::string_view> origin,
                      std::optional<std::string_view> authorization, std::string_view body) const;

  // Parses one HTTP/1.x request from raw bytes and returns the complete serialized response
  // (status line, headers, body), exactly as the network server would answer it. Malformed or
  // incomplete input gets the server's 400/413/431 answer. For fuzzing and tests.
  std::string handle_raw(std::string_view raw) const;

  // Prometheus text of the requests this handler served.
  std::string metrics_text() const;

  struct Impl;
  const Impl& impl() const noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// The network server. start() binds and starts the threads; stop() drains and joins them.
class Server {
 public:
  // Validates the credentials (throws InvalidArgument, D8) and the configuration (ConfigError).
  Server(std::string_view app_id, std::string_view app_certificate, ServerConfig config = {});
  ~Server();  // stop(0 s) if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port and starts the io_context threads; returns once the server accepts
  // connections. Throws std::system_error (with the address in the message) when binding fails,
  // std::logic_error when already started.
  void start();

  // Graceful shutdown: stops accepting, closes idle keep-alive connections, lets requests in
  // flight finish (their responses carry "Connection: close"), and after `drain_timeout`
  // closes whatever is left; then joins the threads. Idempotent; thread-safe; blocks.
  // Returns the number of connections that had to be closed forcibly.
  std::size_t stop(std::chrono::milliseconds drain_timeout = std::chrono::milliseconds{10'000});

  // Blocks until the server has stopped (by stop() from another thread); with a timeout, returns
  // false when it is still running afterwards.
  void wait();
  bool wait_for(std::chrono::milliseconds timeout);

  bool running() const noexcept;
  std::uint16_t port() const noexcept;     // the bound port (the ephemeral one for port 0)
  const ServerConfig& config() const noexcept;
  unsigned threads() const noexcept;       // resolved thread count
  std::size_t active_connections() const noexcept;
  std::string metrics_text() const;        // the /metrics body

  struct Impl;  // defined in engine/src/server/http_server.cpp

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mintlane::server
