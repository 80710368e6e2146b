// access_log.hpp - structured access log: one JSON object per line, no user-controlled text
// (method is a fixed name, route a fixed label). Off by default; each line is one write(2), so
// lines from several threads never interleave (O_APPEND files; pipes below PIPE_BUF).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "server/message.hpp"

namespace mintlane::server {

struct AccessRecord {
  std::int64_t unix_ms = 0;
  std::string_view remote;  // "ip:port" formatted by the server
  Method method = Method::kGet;
  RouteId route = RouteId::kNotFound;
  int status = 0;
  std::uint64_t bytes = 0;        // response bytes written
  std::uint64_t duration_us = 0;  // complete request -> response written
};

class AccessLog {
 public:
  // "" or "-" = stderr; otherwise the file is created if needed and opened for append.
  // Throws ConfigError naming the path when it cannot be opened.
  explicit AccessLog(const std::string& path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Formats into `scratch` and writes one line. Thread-safe; never throws.
  void write(const AccessRecord& rec, std::string& scratch) const noexcept;

 private:
  int fd_ = 2;
  bool owned_ = false;
};

}  // namespace mintlane::server
